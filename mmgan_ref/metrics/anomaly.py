"""Anomaly detection on digits: one digit is the anomaly, AUROC and AUPRC per digit.

Lesson: 07 Applications (anomaly detection with a BiGAN's score).

Protocol (one round per digit d = 0..9, one seed for all rounds):

1. The *normal* data are the real digits other than d; a stratified 80 % of them is the
   training set (the detector never sees d).
2. The test set is the other 20 % of normal digits plus *every* image of d.
3. The detector scores each test image (higher = more anomalous); AUROC and AUPRC
   (average precision) treat d as the positive class. Report per digit and the mean.

Baseline: PCA reconstruction error with 16 components (anchor: mean AUROC 0.847,
AUPRC 0.756). Note that AUPRC depends on the anomaly rate (~37 % here), AUROC does not.

References:
    Zenati, Foo, Lecouat, Manek, Chandrasekhar (2018), "Efficient GAN-Based Anomaly
    Detection" (BiGAN scores, one class held out as the anomaly).
    Schlegl, Seeböck, Waldstein, Schmidt-Erfurth, Langs (2017), "Unsupervised Anomaly
    Detection with Generative Adversarial Networks to Guide Marker Discovery" (AnoGAN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from mmgan_ref.metrics.features import (
    as_array,
    fit_quietly,
    flatten_digits,
    load_real_digits,
    single_thread,
)
from mmgan_ref.utils import check_float, check_int

TRAIN_FRACTION = 0.8


def anomaly_splits(anomaly_digit: int, seed: int = 0, train_fraction: float = TRAIN_FRACTION
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The train and test sets of one round of the protocol.

    Returns:
        train_normal: float32 (N_tr, 1, 8, 8) in [-1, 1], the other nine digits only;
        test_images: float32 (N_te, 1, 8, 8); test_is_anomaly: bool (N_te,).
    """
    from sklearn.model_selection import train_test_split

    check_int("anomaly_digit", anomaly_digit, minimum=0, maximum=9)
    check_int("seed", seed, minimum=0)
    check_float("train_fraction", train_fraction, minimum=0.0, maximum=1.0, exclusive_min=True)
    images, labels = load_real_digits()
    normal = labels != anomaly_digit
    train_x, test_normal = train_test_split(images[normal], train_size=train_fraction,
                                            random_state=seed, stratify=labels[normal])
    test_x = np.concatenate([test_normal, images[~normal]])
    is_anomaly = np.concatenate([np.zeros(len(test_normal), bool), np.ones((~normal).sum(), bool)])
    return torch.from_numpy(train_x), torch.from_numpy(test_x), torch.from_numpy(is_anomaly)


def anomaly_scores_auc(scores: Any, is_anomaly: Any) -> dict[str, float]:
    """AUROC and AUPRC of anomaly scores (higher = more anomalous).

    Args:
        scores: (N,) float; is_anomaly: (N,) bool or 0/1, both classes present.

    Returns:
        {"auroc": float, "auprc": float (average precision, anomalies positive)}
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    s = as_array("scores", scores, ndim=1)
    y = as_array("is_anomaly", is_anomaly, ndim=1, dtype=np.int64)
    if len(y) != len(s):
        raise ValueError(f"is_anomaly must have {len(s)} entries like scores, got {len(y)}")
    if not set(np.unique(y)) == {0, 1}:
        raise ValueError(f"is_anomaly must hold both classes (0/False and 1/True), "
                         f"got values {sorted(set(np.unique(y).tolist()))}")
    return {"auroc": float(roc_auc_score(y, s)), "auprc": float(average_precision_score(y, s))}


def evaluate_anomaly_detector(fit_fn: Callable[[torch.Tensor], Any],
                              score_fn: Callable[[Any, torch.Tensor], Any], seed: int = 0,
                              digits: Iterable[int] = range(10)) -> dict[str, Any]:
    """Run the protocol for each digit with any detector.

    Args:
        fit_fn: ``fit_fn(train_normal) -> model``, train_normal (N, 1, 8, 8) float32 tensor.
        score_fn: ``score_fn(model, test_images) -> scores (N,)`` (tensor or array),
            higher = more anomalous.
        seed: seed of the splits (the detector seeds itself).
        digits: which digits to hold out (default all ten).

    Returns:
        {"per_digit": {d: {"auroc", "auprc"}}, "mean_auroc": float, "mean_auprc": float}
    """
    if not callable(fit_fn) or not callable(score_fn):
        raise TypeError("fit_fn and score_fn must be callables: fit_fn(train) -> model, "
                        "score_fn(model, images) -> scores")
    per_digit = {}
    for digit in digits:
        train_normal, test_images, is_anomaly = anomaly_splits(digit, seed)
        model = fit_fn(train_normal)
        per_digit[int(digit)] = anomaly_scores_auc(score_fn(model, test_images), is_anomaly)
    if not per_digit:
        raise ValueError("digits must name at least one digit in 0..9")
    return {"per_digit": per_digit,
            "mean_auroc": float(np.mean([r["auroc"] for r in per_digit.values()])),
            "mean_auprc": float(np.mean([r["auprc"] for r in per_digit.values()]))}


def pca_baseline(n_components: int = 16, seed: int = 0) -> dict[str, Any]:
    """The PCA reconstruction-error detector run through the protocol.

    Score = squared L2 error of reconstructing an image from its first ``n_components``
    principal components fitted on the normal training digits.

    Returns:
        as :func:`evaluate_anomaly_detector` (anchor: mean AUROC 0.847, AUPRC 0.756).
    """
    from sklearn.decomposition import PCA

    check_int("n_components", n_components, minimum=1, maximum=64)

    def fit(train: torch.Tensor) -> Any:
        return fit_quietly(PCA(n_components=n_components, random_state=seed),
                           flatten_digits("train", train))

    def score(pca: Any, images: torch.Tensor) -> np.ndarray:
        flat = flatten_digits("images", images)
        with single_thread():
            rebuilt = pca.inverse_transform(pca.transform(flat))
        return ((flat - rebuilt) ** 2).sum(axis=1)

    return evaluate_anomaly_detector(fit, score, seed)

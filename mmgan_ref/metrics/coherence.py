"""Coherence: does a conditional generator draw what it was asked for?

Lesson: 03 Conditional GANs.

Digits: a classifier trained on *real* digits labels the generated images; coherence is
its accuracy against the conditioning labels. The classifier is not perfect, so its
held-out accuracy on real test images is the *ceiling*: always print it beside the
coherence (anchors: logistic regression ~96 %, MLP ~97 %). Coherence alone is easy to
game (one prototype per class scores ~95 %): report ``diversity.within_class_diversity``
beside it.

Shapes: a deterministic attribute reader (``mmgan_ref.data.attributes``) recovers the
attributes of a generated image; :func:`attribute_accuracy` compares them with the
requested ones, per attribute and all at once.

Reference for the protocol's spirit: Ravuri and Vinyals (2019), "Classification Accuracy
Score for Conditional Generative Models" (a classifier as the judge of conditional
samples), and Odena, Olah, Shlens (2017), "Conditional Image Synthesis with Auxiliary
Classifier GANs" (accuracy of a pretrained classifier on generated samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmgan_ref.metrics.features import (
    as_array,
    as_labels,
    digits_split,
    fit_quietly,
    flatten_digits,
    single_thread,
)
from mmgan_ref.utils import check_choice, check_int

CLASSIFIER_KINDS = ("logreg", "mlp")


def make_classifier(kind: str, seed: int) -> Any:
    """An unfitted scikit-learn classifier for flat digit images: "logreg" or "mlp"."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    check_choice("kind", kind, CLASSIFIER_KINDS)
    check_int("seed", seed, minimum=0)
    if kind == "logreg":
        return LogisticRegression(max_iter=2000, random_state=seed)
    return MLPClassifier(hidden_layer_sizes=(64,), alpha=1.0, solver="lbfgs", max_iter=500,
                         random_state=seed)


@dataclass
class DigitsClassifier:
    """A digit classifier trained on real digits; its real test accuracy is the ceiling.

    Attributes:
        kind: "logreg" or "mlp". model: the fitted scikit-learn estimator.
        real_accuracy: accuracy on the held-out real test split.
    """

    kind: str
    model: Any
    real_accuracy: float

    def predict(self, images: Any) -> np.ndarray:
        """Digit images in [-1, 1], (N, 1, 8, 8) -> predicted labels (N,) int64."""
        with single_thread():
            return self.model.predict(flatten_digits("images", images)).astype(np.int64)

    def accuracy(self, images: Any, labels: Any) -> float:
        """Fraction of images whose predicted label equals ``labels`` (N,)."""
        predicted = self.predict(images)
        return float(np.mean(predicted == as_labels("labels", labels, len(predicted))))


def fit_digits_classifier(kind: str = "logreg", seed: int = 0,
                          test_fraction: float = 0.25) -> DigitsClassifier:
    """Train the judge on a stratified split of real digits (< 1 s on a laptop).

    Args:
        kind: "logreg" (anchor ~96 %) or "mlp" (anchor ~97 %).
        seed: seeds both the split and the classifier.
        test_fraction: share of real digits held out to measure the ceiling.
    """
    model = make_classifier(kind, seed)
    train_x, train_y, test_x, test_y = digits_split(seed, test_fraction)
    # float64, as `predict` and every other metric flattens: scikit-learn >= 1.9 fits a
    # float32 LogisticRegression in float32, which moves the judge by a test image or two
    fit_quietly(model, flatten_digits("train_x", train_x), train_y)
    classifier = DigitsClassifier(kind=kind, model=model, real_accuracy=0.0)
    classifier.real_accuracy = classifier.accuracy(test_x, test_y)
    return classifier


def coherence(generated_images: Any, labels: Any,
              classifier: DigitsClassifier) -> dict[str, float]:
    """Share of generated digits that the real-data classifier reads as their condition.

    Args:
        generated_images: (N, 1, 8, 8) in [-1, 1]. labels: (N,) conditioning classes.
        classifier: from :func:`fit_digits_classifier`.

    Returns:
        {"coherence": accuracy on the generated images, "ceiling": the classifier's
        accuracy on real test digits}
    """
    if not isinstance(classifier, DigitsClassifier):
        raise TypeError(f"classifier must be a DigitsClassifier (see fit_digits_classifier), "
                        f"got {type(classifier).__name__}")
    return {"coherence": classifier.accuracy(generated_images, labels),
            "ceiling": classifier.real_accuracy}


def attribute_accuracy(pred_attrs: Any, target_attrs: Any,
                       names: Sequence[str] | None = None) -> dict[str, float]:
    """Per-attribute accuracy and the share of samples with every attribute right.

    Args:
        pred_attrs: (N, A) attributes read from generated images (int).
        target_attrs: (N, A) attributes that were asked for.
        names: A attribute names (default "attribute_0", ...); for shapes
            ("shape", "colour", "size", "position").

    Returns:
        {name: accuracy for each attribute, "all": fraction with all A attributes right}
    """
    pred = as_array("pred_attrs", pred_attrs, ndim=2, dtype=np.int64)
    target = as_array("target_attrs", target_attrs, ndim=2, dtype=np.int64)
    if pred.shape != target.shape:
        raise ValueError(f"pred_attrs and target_attrs must have the same shape, "
                         f"got {pred.shape} and {target.shape}")
    names = list(names) if names is not None else [f"attribute_{i}" for i in range(pred.shape[1])]
    if len(names) != pred.shape[1] or "all" in names or len(set(names)) != len(names):
        raise ValueError(f"names must be {pred.shape[1]} distinct names other than 'all', "
                         f"got {names!r}")
    correct = pred == target  # (N, A)
    result = {name: float(correct[:, i].mean()) for i, name in enumerate(names)}
    result["all"] = float(correct.all(axis=1).mean())
    return result

"""The digits anomaly-detection protocol and its PCA baseline (Lesson 07)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.anomaly import (
    anomaly_scores_auc,
    anomaly_splits,
    evaluate_anomaly_detector,
    pca_baseline,
)
from mmgan_ref.metrics.features import load_real_digits


def test_splits_follow_the_protocol():
    images, labels = load_real_digits()
    train, test, is_anomaly = anomaly_splits(3, seed=0)
    n_three = int((labels == 3).sum())
    n_normal = len(labels) - n_three
    assert train.shape[1:] == (1, 8, 8) and train.dtype == torch.float32
    assert len(train) == pytest.approx(0.8 * n_normal, abs=1)
    assert int(is_anomaly.sum()) == n_three
    assert len(test) == len(labels) - len(train)
    # no training image is a 3: every 3 sits in the test set, flagged as an anomaly
    threes = images[labels == 3].reshape(n_three, -1)
    train_flat = train.reshape(len(train), -1).numpy()
    assert not any((train_flat == t).all(axis=1).any() for t in threes[:20])
    assert torch.equal(anomaly_splits(3, seed=0)[0], train)


def test_perfect_and_inverted_scores():
    is_anomaly = np.array([0, 0, 1, 0, 1], bool)
    perfect = anomaly_scores_auc(torch.tensor(is_anomaly, dtype=torch.float32), is_anomaly)
    assert perfect == {"auroc": 1.0, "auprc": 1.0}
    inverted = anomaly_scores_auc(-is_anomaly.astype(float), is_anomaly)
    assert inverted["auroc"] == 0.0


def test_one_class_only_is_an_error():
    with pytest.raises(ValueError, match="both classes"):
        anomaly_scores_auc(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="anomaly_digit"):
        anomaly_splits(10)


def test_a_generic_detector_plugs_in():
    def fit(train):
        return train.mean(dim=0)

    def score(mean_image, images):
        return ((images - mean_image) ** 2).flatten(1).sum(1)

    result = evaluate_anomaly_detector(fit, score, seed=0, digits=[0, 1])
    assert set(result["per_digit"]) == {0, 1}
    assert 0.0 <= result["mean_auroc"] <= 1.0


def test_pca_baseline_is_near_the_anchor():
    result = pca_baseline(n_components=16, seed=0)
    assert len(result["per_digit"]) == 10
    assert result["mean_auroc"] == pytest.approx(0.847, abs=0.04)  # ours: 0.829
    assert result["mean_auprc"] == pytest.approx(0.756, abs=0.06)  # ours: 0.726

"""Improved precision and recall (Kynkäänniemi et al. 2019), Lesson 08."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.features import digits_feature_network, load_real_digits
from mmgan_ref.metrics.prd import manifold_radii, precision_recall


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    network = digits_feature_network(folder=tmp_path_factory.mktemp("mmgan_cache"))
    images, labels = load_real_digits()
    order = np.random.default_rng(0).permutation(len(images))
    a, b = order[:898], order[898:1796]
    return network.features(images[a]), network.features(images[b]), labels[b]


def test_two_halves_of_real_data_score_high_on_both(digits):
    real, other, _ = digits
    result = precision_recall(real, torch.from_numpy(other), k=3)
    assert result["precision"] > 0.85 and result["recall"] > 0.85  # measured ~0.90 each


def test_dropping_half_the_classes_lowers_recall_only(digits):
    real, other, labels = digits
    result = precision_recall(real, other[labels < 5], k=3)
    assert result["recall"] < 0.65
    assert result["precision"] > 0.85


def test_a_collapsed_generator_has_precision_without_recall(digits):
    real, _, _ = digits
    rng = np.random.default_rng(0)
    prototypes = real[:5]  # five real points, repeated with tiny jitter
    collapsed = prototypes[rng.integers(0, 5, 898)] + rng.normal(0, 1e-4, (898, real.shape[1]))
    result = precision_recall(real, collapsed, k=3)
    assert result["precision"] == 1.0
    assert result["recall"] < 0.02


def test_radii_on_a_line():
    points = np.array([[0.0], [1.0], [3.0], [6.0]])
    np.testing.assert_allclose(manifold_radii(points, k=1), [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(manifold_radii(points, k=2), [3.0, 2.0, 3.0, 5.0])


def test_k_must_leave_neighbours():
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(ValueError, match="same feature size"):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))

"""Within-condition diversity (Lesson 03)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.diversity import mean_pairwise_distance, within_class_diversity
from mmgan_ref.metrics.features import load_real_digits


@pytest.fixture(scope="module")
def halves():
    images, labels = load_real_digits()
    order = np.random.default_rng(0).permutation(len(images))
    a, b = order[: len(order) // 2], order[len(order) // 2:]
    return images[a], labels[a], images[b], labels[b]


def test_real_data_is_as_varied_as_real_data(halves):
    gen, gen_y, real, real_y = halves
    result = within_class_diversity(torch.from_numpy(gen), torch.from_numpy(gen_y), real, real_y)
    assert result["ratio"] == pytest.approx(1.0, abs=0.05)
    assert result["conditions"] == 10


def test_one_prototype_per_class_has_near_zero_diversity(halves):
    gen, gen_y, real, real_y = halves
    prototypes = np.stack([gen[gen_y == c].mean(axis=0) for c in range(10)])
    rng = np.random.default_rng(1)
    collapsed = prototypes[gen_y] + rng.normal(0, 0.01, gen.shape)
    result = within_class_diversity(collapsed, gen_y, real, real_y)
    assert result["ratio"] < 0.05
    assert result["generated"] < 0.05 * result["real"]


def test_attribute_rows_are_grouped_as_conditions():
    rng = np.random.default_rng(0)
    attrs = rng.integers(0, 2, (200, 3))  # 8 conditions
    real = rng.normal(size=(200, 5))
    half_spread = within_class_diversity(real * 0.5, attrs, real, attrs)
    assert half_spread["conditions"] == 8
    assert half_spread["ratio"] == pytest.approx(0.5)


def test_mean_pairwise_distance_of_three_points():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert mean_pairwise_distance(points) == pytest.approx((5 + 4 + 3) / 3)


def test_conditions_without_pairs_are_an_error():
    with pytest.raises(ValueError, match="at least 2 generated and 2 real"):
        within_class_diversity(np.zeros((3, 4)), np.arange(3), np.zeros((3, 4)), np.arange(3))
    with pytest.raises(ValueError, match="labels must have 3 rows"):
        within_class_diversity(np.zeros((3, 4)), np.arange(4), np.zeros((3, 4)), np.arange(3))

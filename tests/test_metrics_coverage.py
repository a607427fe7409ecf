"""Mode coverage on the 2D grid (Lesson 02): the PacGAN/VEEGAN protocol."""

import math

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.coverage import (
    PUBLISHED_GRID,
    mode_coverage,
    reverse_kl_to_uniform,
    toy2d_coverage,
)

STD = 0.05
MEANS = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float)


def true_grid(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return MEANS[rng.integers(0, len(MEANS), n)] + rng.normal(0, STD, (n, 2))


def test_real_grid_samples_cover_every_mode():
    result = mode_coverage(true_grid(2500, seed=0), MEANS, STD)
    assert result["modes"] == 25
    assert result["high_quality"] >= 0.98  # 1 - exp(-4.5) = 98.9 % expected
    assert 0.0 < result["reverse_kl"] < 0.015  # ~(K - 1) / (2N) = 0.005


def test_all_samples_at_one_mean_is_one_mode_with_maximal_kl():
    samples = torch.tensor(MEANS[7]).repeat(100, 1)
    result = mode_coverage(samples, torch.tensor(MEANS), STD)
    assert result == {"modes": 1, "high_quality": 1.0, "reverse_kl": pytest.approx(math.log(25))}


def test_far_samples_are_not_high_quality_and_give_infinite_kl():
    result = mode_coverage(MEANS + 10 * STD, MEANS, STD)
    assert result["modes"] == 0 and result["high_quality"] == 0.0
    assert result["reverse_kl"] == math.inf


def test_a_sample_counts_for_its_nearest_mode_only():
    # two HQ samples of mode (0, 0); one sample nearest (0, 2) but too far; one HQ at (2, 2)
    samples = np.array([[0.0, 0.0], [0.0, 0.1], [0.0, 1.1], [2.0, 2.0]])
    result = mode_coverage(samples, MEANS, STD)
    assert result["modes"] == 2
    assert result["high_quality"] == pytest.approx(3 / 4)
    # histogram (2, 1) over 25 modes: p = (2/3, 1/3)
    expected = 2 / 3 * math.log(2 / 3 * 25) + 1 / 3 * math.log(1 / 3 * 25)
    assert result["reverse_kl"] == pytest.approx(expected)


def test_reverse_kl_of_a_two_mode_histogram():
    # p = (1/2, 1/2, 0, 0) against uniform over 4: log 2
    assert reverse_kl_to_uniform(np.array([5, 5, 0, 0])) == pytest.approx(math.log(2))


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="samples"):
        mode_coverage(np.zeros(5), MEANS, STD)
    with pytest.raises(ValueError, match="std"):
        mode_coverage(true_grid(10, 0), MEANS, 0.0)
    with pytest.raises(TypeError, match="samples"):
        mode_coverage([[0.0, 0.0]], MEANS, STD)
    with pytest.raises(ValueError, match="name"):
        toy2d_coverage(true_grid(10, 0), "spiral")


def test_published_table_has_the_anchor_rows():
    rows = {name: (modes, hq, kl) for name, modes, hq, kl in PUBLISHED_GRID}
    assert rows["VEEGAN"] == (24.6, 40.0, None)
    assert rows["PacGAN4"] == (24.8, 93.6, 0.04)

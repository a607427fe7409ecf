"""Tests of mmgan_ref.data.toy2d: the PacGAN/VEEGAN ring and grid."""

import itertools
import math

import pytest
import torch

from mmgan_ref.data.toy2d import (
    GRID_STD,
    RING_STD,
    Toy2D,
    make_generator,
    mixture_means,
    mixture_std,
    sample_toy2d,
)


def test_ring_has_eight_distinct_modes_on_the_unit_circle():
    means = mixture_means("ring")
    assert means.shape == (8, 2) and means.dtype == torch.float32
    torch.testing.assert_close(means.norm(dim=1), torch.ones(8))
    distances = torch.cdist(means, means) + 10 * torch.eye(8)
    assert distances.min() > 2 * math.sin(math.pi / 8) - 1e-5  # neighbours, none coincide
    torch.testing.assert_close(means[0], torch.tensor([1.0, 0.0]))
    angle = 2 * math.pi * 3 / 8
    torch.testing.assert_close(means[3], torch.tensor([math.cos(angle), math.sin(angle)]))


def test_grid_means_are_the_25_points_of_the_protocol():
    means = mixture_means("grid")
    assert means.shape == (25, 2)
    expected = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert {tuple(p) for p in means.tolist()} == expected


def test_stds_match_the_protocol():
    assert (RING_STD, GRID_STD) == (0.01, 0.05)
    assert mixture_std("ring") == 0.01 and mixture_std("grid") == 0.05


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_lie_near_modes_and_cover_all(name):
    x = sample_toy2d(name, 2500, seed=0)
    assert x.shape == (2500, 2) and x.dtype == torch.float32
    means = mixture_means(name)
    distance, nearest = torch.cdist(x, means).min(dim=1)
    assert (distance < 5 * mixture_std(name)).all()
    counts = torch.bincount(nearest, minlength=len(means))
    assert (counts > 0).all()
    expected = 2500 / len(means)
    assert counts.max() < 1.5 * expected and counts.min() > 0.5 * expected  # equal weights
    per_coordinate_std = (x - means[nearest]).std(dim=0)
    torch.testing.assert_close(per_coordinate_std, torch.full((2,), mixture_std(name)),
                               rtol=0.1, atol=0.0)


def test_determinism_by_seed_and_generator():
    a = sample_toy2d("grid", 100, seed=3)
    b = sample_toy2d("grid", 100, seed=3)
    c = sample_toy2d("grid", 100, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c)
    assert not torch.equal(a, sample_toy2d("grid", 100, seed=4))


def test_bad_inputs_raise_with_helpful_messages():
    with pytest.raises(ValueError, match="name.*'spiral'.*'ring'"):
        sample_toy2d("spiral", 10)
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_toy2d("ring", 0)
    with pytest.raises(TypeError, match="n must be an integer"):
        sample_toy2d("ring", 2.5)
    with pytest.raises(ValueError, match="either seed or generator"):
        sample_toy2d("ring", 10, generator=torch.Generator(), seed=1)
    with pytest.raises(ValueError, match="name"):
        mixture_means("square")
    with pytest.raises(TypeError, match="generator"):
        make_generator(generator=3)


def test_dataset_items_and_tensors():
    data = Toy2D("ring", n=50, seed=1)
    assert len(data) == 50
    assert set(data[0]) == {"x"} and data[0]["x"].shape == (2,)
    stacked = data.tensors()
    assert stacked["x"].shape == (50, 2)
    torch.testing.assert_close(stacked["x"], sample_toy2d("ring", 50, seed=1))

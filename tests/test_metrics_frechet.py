"""Fréchet distance, KID and the cached digits feature network (Lesson 08)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.features import (
    DigitsMLPConfig,
    FeatureExtractor,
    digits_feature_network,
    digits_features,
    load_real_digits,
)
from mmgan_ref.metrics.frechet import (
    digits_reference_distances,
    frechet_distance,
    frechet_from_stats,
    kernel_inception_distance,
    real_vs_real_floor,
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mmgan_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MMGAN_CACHE", str(folder))
        digits_feature_network()  # trained once (~1-2 s), then read from the cache
        yield folder


@pytest.fixture(scope="module")
def halves(cache):
    images, labels = load_real_digits()
    order = np.random.default_rng(0).permutation(len(images))
    a, b = order[:898], order[898:1796]
    return images[a], images[b], labels[b]


def test_frechet_of_diagonal_gaussians_matches_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_from_stats(mu1, np.diag(s1), torch.tensor(mu2), np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_frechet_of_samples_approaches_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, (20000, 2))
    b = rng.normal([1.0, 0.0], [2.0, 1.0], (20000, 2))
    assert frechet_distance(a, b) == pytest.approx(1.0 + (1 + 4 - 2 * 2), abs=0.05)


def test_identical_sets_have_zero_distance():
    feats = np.random.default_rng(0).normal(size=(300, 8))
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_another():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(400, 8)), rng.normal(size=(400, 8)), rng.normal(size=(400, 8)) + 1
    same = kernel_inception_distance(a, b, subsets=20, subset_size=200, seed=1)
    other = kernel_inception_distance(a, c, subsets=20, subset_size=200, seed=1)
    assert abs(same["kid_mean"]) < 3 * same["kid_std"] + 1e-3
    assert other["kid_mean"] > 10 * same["kid_std"]
    assert same == kernel_inception_distance(a, b, subsets=20, subset_size=200, seed=1)


def test_features_are_cached_and_a_corrupt_file_is_rebuilt(cache, halves):
    files = list(cache.glob("digits_mlp_*.npz"))
    assert len(files) == 1
    network = digits_feature_network()
    assert isinstance(network, FeatureExtractor)
    feats = digits_features(torch.from_numpy(halves[0]))
    assert feats.shape == (898, DigitsMLPConfig().hidden)
    files[0].write_bytes(b"not an npz file")
    rebuilt = digits_features(halves[0])
    np.testing.assert_allclose(rebuilt, feats, rtol=1e-6, atol=1e-8)
    assert files[0].stat().st_size > 1000


def test_distance_rises_with_noise_and_with_dropped_classes(cache):
    result = digits_reference_distances(seed=0)
    assert result["real_vs_real"] < 1.0  # anchor 0.23; ours ~0.27
    assert result["noise"] > 4 * result["real_vs_real"]  # anchor 2.7
    assert result["half_classes"] > 10 * result["real_vs_real"]  # anchor 5.4


def test_real_vs_real_floor_uses_disjoint_halves(cache, halves):
    feats = digits_features(np.concatenate(halves[:2]))
    floor = real_vs_real_floor(feats, n=400, seed=0, kid_subsets=3)
    assert floor["n"] == 400 and 0.0 < floor["frechet"] < 2.0
    with pytest.raises(ValueError, match="n <= 898"):
        real_vs_real_floor(feats, n=900)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same feature size"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="sigma2"):
        frechet_from_stats(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    with pytest.raises(TypeError, match="feats_a"):
        frechet_distance([[0.0]], np.zeros((5, 1)))

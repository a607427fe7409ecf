"""Known answers of the metrics on the course's own data (Lessons 02, 07, 08).

toy2d_coverage on samples of mmgan_ref.data.toy2d, the shapes feature network, and the
BiGAN anomaly detector's plumbing.
"""

import math

import numpy as np
import pytest
import torch

from mmgan_ref.data.toy2d import mixture_means, mixture_std, sample_toy2d
from mmgan_ref.metrics.coverage import toy2d_coverage
from mmgan_ref.metrics.frechet import frechet_distance

# ----------------------------------------------------------------------------- toy 2D


@pytest.mark.parametrize("name, modes", [("grid", 25), ("ring", 8)])
def test_samples_from_the_true_mixture_score_at_the_ceiling(name, modes):
    result = toy2d_coverage(sample_toy2d(name, 2500, seed=3), name)
    assert result["modes"] == modes
    assert result["high_quality"] >= 0.98  # 1 - exp(-4.5) = 98.9 % expected
    assert result["reverse_kl"] < 0.02


def test_a_one_mode_collapse_gives_one_mode_and_log_25():
    rng = torch.Generator().manual_seed(0)
    noise = torch.randn(2500, 2, generator=rng)
    collapsed = mixture_means("grid")[12] + mixture_std("grid") * noise  # all at mode 12
    result = toy2d_coverage(collapsed, "grid")
    assert result["modes"] == 1
    assert result["reverse_kl"] == pytest.approx(math.log(25))
    assert result["high_quality"] >= 0.98


def test_dropping_half_the_grid_halves_the_modes_and_raises_the_kl():
    samples = sample_toy2d("grid", 2500, seed=1)
    kept = samples[samples[:, 0] < 1.0]  # columns x = -4, -2, 0: 15 modes of 25
    result = toy2d_coverage(kept, "grid")
    assert result["modes"] == 15
    assert result["reverse_kl"] == pytest.approx(math.log(25 / 15), abs=0.02)


# ----------------------------------------------------------------------------- shapes features


@pytest.fixture(scope="module")
def shapes_net(tmp_path_factory):
    from mmgan_ref.metrics.shapes_features import ShapesCNNConfig, shapes_feature_network

    folder = tmp_path_factory.mktemp("cache")
    config = ShapesCNNConfig(n_train=640, epochs=3, base_width=8, feature_dim=32)
    return shapes_feature_network(config, folder), config, folder


@pytest.fixture(scope="module")
def shapes_pair():
    from mmgan_ref.data.shapes import sample_scenes

    first = sample_scenes(300, seed=11, held_out=[], with_sound=False)
    second = sample_scenes(600, seed=12, held_out=[], with_sound=False)
    return first, second


def test_shapes_features_have_the_documented_shape(shapes_net, shapes_pair):
    net, config, _ = shapes_net
    feats = net.features(shapes_pair[0]["image"])
    assert feats.shape == (300, config.feature_dim) and feats.dtype == np.float64
    # a 64x64 image is resized to the network's 32x32 input
    big = torch.nn.functional.interpolate(shapes_pair[0]["image"][:4], size=(64, 64))
    assert net.features(big).shape == (4, config.feature_dim)


def test_only_circles_are_further_from_real_shapes_than_real_shapes(shapes_net, shapes_pair):
    net, _, _ = shapes_net
    first, second = shapes_pair
    real = net.features(first["image"])
    floor = frechet_distance(real, net.features(second["image"][:300]))
    circles = second["image"][second["attributes"][:, 0] == 0][:150]
    one_colour = second["image"][second["attributes"][:, 1] == 0][:150]
    assert frechet_distance(real, net.features(circles)) > 1.5 * floor
    assert frechet_distance(real, net.features(one_colour)) > 3 * floor


def test_shapes_network_is_cached_and_a_corrupt_file_is_rebuilt(shapes_net, shapes_pair):
    from mmgan_ref.metrics import features
    from mmgan_ref.metrics import shapes_features as sf

    net, config, folder = shapes_net
    path = folder / f"shapes_cnn_{config.key()}.pt"
    assert path.exists()
    images = shapes_pair[0]["image"][:8]
    features._MEMORY.clear()
    again = sf.shapes_feature_network(config, folder)  # read back from the file
    assert np.allclose(again.features(images), net.features(images))
    path.write_bytes(b"not a checkpoint")
    features._MEMORY.clear()
    rebuilt = sf.shapes_feature_network(config, folder)  # retrained, same seed
    assert np.allclose(rebuilt.features(images), net.features(images), atol=1e-5)


def test_shapes_features_refuse_bad_images(shapes_net):
    net, _, _ = shapes_net
    with pytest.raises(ValueError, match="images"):
        net.features(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        net.features(torch.full((2, 3, 32, 32), 255.0))


# ----------------------------------------------------------------------------- BiGAN anomaly


def test_bigan_detector_scores_every_test_image():
    from mmgan_ref.metrics.anomaly import anomaly_splits
    from mmgan_ref.metrics.anomaly_bigan import SCORES, AnomalyBiGANConfig, fit_bigan_detector

    train, test, _ = anomaly_splits(0, seed=0)
    state = torch.get_rng_state()
    detector = fit_bigan_detector(train, AnomalyBiGANConfig(steps=5, hidden=(32,)))
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is untouched
    for score in SCORES:
        values = detector.scores(test[:50], score)
        assert values.shape == (50,) and np.all(np.isfinite(values))
    with pytest.raises(ValueError, match="score"):
        detector.scores(test[:5], "likelihood")
    with pytest.raises(ValueError, match="score"):
        AnomalyBiGANConfig(score="likelihood")

"""Linear and k-NN probes on frozen features (Lesson 07)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.features import load_real_digits
from mmgan_ref.metrics.probe import knn_probe, linear_probe, representation_report


@pytest.fixture(scope="module")
def digits():
    return load_real_digits()


def test_raw_pixel_probes_match_the_anchors(digits):
    images, labels = digits
    flat = images.reshape(len(images), -1)
    assert linear_probe(flat, labels, seed=0) == pytest.approx(0.96, abs=0.02)
    assert knn_probe(torch.from_numpy(flat), torch.from_numpy(labels), k=1) == pytest.approx(
        0.984, abs=0.015)


def test_features_without_information_score_at_chance(digits):
    _, labels = digits
    noise = np.random.default_rng(0).normal(size=(len(labels), 16))
    assert linear_probe(noise, labels, seed=0) < 0.2
    assert knn_probe(noise, labels, k=1, seed=0) < 0.2


def test_report_compares_encoder_random_encoder_and_pixels(digits):
    images, labels = digits
    weights = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))

    def random_encoder(batch):
        return torch.relu(torch.as_tensor(batch).flatten(1) @ weights)

    def oracle_encoder(batch):
        return np.eye(10)[labels] + 0.01 * np.random.default_rng(0).normal(size=(len(labels), 10))

    report = representation_report(oracle_encoder, random_encoder, images, labels, seed=0)
    assert set(report) == {"raw pixels", "encoder", "random encoder"}
    assert report["encoder"]["linear"] == 1.0 and report["encoder"]["1-NN"] == 1.0
    assert report["random encoder"]["1-NN"] < report["raw pixels"]["1-NN"]


def test_bad_labels_are_refused(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="labels must have 1797 rows"):
        linear_probe(images.reshape(len(images), -1), labels[:10])
    with pytest.raises(TypeError, match="encoder"):
        representation_report("not a function", None, images, labels)

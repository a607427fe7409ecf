"""Retrieval metrics (R@K, mAP), chance levels and the CCA baseline (Lessons 04, 07)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.retrieval import (
    cca_retrieval_baseline,
    chance_level,
    cross_modal_retrieval,
    retrieval_metrics,
)


def class_codes(labels: np.ndarray, dim: int = 16) -> np.ndarray:
    return np.eye(dim)[labels]  # one orthogonal direction per class


def test_perfect_codes_score_one():
    labels = np.repeat(np.arange(5), 4)
    codes = class_codes(labels)
    result = retrieval_metrics(torch.from_numpy(codes), 3 * codes, labels, labels, ks=(1, 5))
    assert result == {"R@1": 1.0, "R@5": 1.0, "mAP": 1.0, "queries": 20}


def test_a_hand_ranked_example():
    # one query; gallery ranked by cosine: g0 (irrelevant), g1 (relevant), g2 (relevant)
    query = np.array([[1.0, 0.0]])
    gallery = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])
    result = retrieval_metrics(query, gallery, np.array([1]), np.array([0, 1, 1]), ks=(1, 2))
    assert result["R@1"] == 0.0 and result["R@2"] == 1.0
    assert result["mAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_random_codes_are_near_the_exact_chance_level():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 600)
    result = retrieval_metrics(rng.normal(size=(600, 32)), rng.normal(size=(600, 32)),
                               labels, labels)
    chance = chance_level(labels)
    assert result["R@1"] == pytest.approx(chance["R@1"], abs=0.04)
    assert result["R@5"] == pytest.approx(chance["R@5"], abs=0.06)
    assert result["mAP"] == pytest.approx(chance["mAP"], abs=0.02)
    assert chance["R@1"] == pytest.approx(0.1, abs=0.01)


def test_chance_level_matches_a_simulation():
    labels = np.array([0, 0, 0, 1, 1, 2])
    rng = np.random.default_rng(0)
    runs = [retrieval_metrics(rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), labels, labels,
                              ks=(1, 2)) for _ in range(3000)]
    chance = chance_level(labels, ks=(1, 2))
    for key in ("R@1", "R@2", "mAP"):
        assert np.mean([r[key] for r in runs]) == pytest.approx(chance[key], abs=0.015)


def test_attribute_rows_are_relevant_only_when_all_equal():
    attrs = np.array([[0, 0], [0, 1], [0, 0], [1, 1]])
    codes = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    result = retrieval_metrics(codes, codes, attrs, attrs, ks=(1,), exclude_self=True)
    # only rows 0 and 2 have a relevant partner; row 0's nearest other is row 1 (wrong)
    assert result["queries"] == 2
    assert result["R@1"] == 0.0


def test_cross_modal_runs_every_direction():
    labels = np.repeat(np.arange(4), 5)
    codes = {"text": class_codes(labels), "image": class_codes(labels),
             "sound": -class_codes(labels)}
    result = cross_modal_retrieval(codes, labels)
    assert set(result) == {"text->image", "image->text", "text->sound", "sound->text",
                           "image->sound", "sound->image"}
    assert result["text->image"]["R@1"] == 1.0
    assert result["sound->image"]["R@1"] == 0.0


def test_cca_baseline_beats_chance_on_linearly_related_views():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 400)
    latent = np.eye(5)[labels] * 3 + rng.normal(0, 0.5, (400, 5))
    view_a = latent @ rng.normal(size=(5, 20)) + rng.normal(0, 0.3, (400, 20))
    view_b = latent @ rng.normal(size=(5, 12)) + rng.normal(0, 0.3, (400, 12))
    result = cca_retrieval_baseline(view_a, view_b, labels, n_components=4, seed=0)
    assert result["a->b"]["R@1"] > 0.8 and result["b->a"]["mAP"] > 0.5


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same size"):
        retrieval_metrics(np.zeros((3, 2)), np.zeros((3, 4)), np.arange(3), np.arange(3))
    with pytest.raises(ValueError, match="gallery_labels must have 3 rows"):
        retrieval_metrics(np.ones((3, 2)), np.ones((3, 2)), np.arange(3), np.arange(4))
    with pytest.raises(TypeError, match="ks"):
        retrieval_metrics(np.ones((3, 2)), np.ones((3, 2)), np.arange(3), np.arange(3), ks=5)
    with pytest.raises(ValueError, match="two modalities"):
        cross_modal_retrieval({"text": np.ones((3, 2))}, np.arange(3))

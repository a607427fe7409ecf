"""Classification Accuracy Score and low-data augmentation (Lesson 07)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.cas import (
    classification_accuracy_score,
    low_data_augmentation,
    low_data_digits_split,
)
from mmgan_ref.metrics.coherence import fit_digits_classifier
from mmgan_ref.metrics.features import digits_split


@pytest.fixture(scope="module")
def split():
    return digits_split(seed=0)


def test_real_training_images_as_generated_reach_the_real_accuracy(split):
    train_x, train_y, test_x, test_y = split
    cas = classification_accuracy_score(torch.from_numpy(train_x), torch.from_numpy(train_y),
                                        test_x, test_y, classifier="logreg", seed=0)
    assert cas == pytest.approx(fit_digits_classifier("logreg", seed=0).real_accuracy, abs=1e-9)


def test_noise_images_score_near_chance(split):
    train_x, train_y, test_x, test_y = split
    noise = np.random.default_rng(0).uniform(-1, 1, train_x.shape)
    assert classification_accuracy_score(noise, train_y, test_x, test_y) < 0.2


def test_low_data_split_and_augmentation(split):
    small_x, small_y, test_x, test_y = low_data_digits_split(per_class=10, seed=0)
    assert small_x.shape == (100, 1, 8, 8)
    assert np.bincount(small_y).tolist() == [10] * 10
    assert len(test_x) == 1797 - 100
    train_x, train_y, _, _ = split
    result = low_data_augmentation(small_x, small_y, train_x, train_y, test_x, test_y)
    assert set(result) == {"real_only", "real_plus_generated", "generated_only", "gain"}
    assert result["gain"] > 0.0  # many good "generated" images help 10 real per class
    assert result["gain"] == pytest.approx(result["real_plus_generated"] - result["real_only"])


def test_mismatched_inputs_are_refused(split):
    train_x, train_y, test_x, test_y = split
    with pytest.raises(ValueError, match="differ in size"):
        classification_accuracy_score(train_x[:, :, :4], train_y, test_x, test_y)
    with pytest.raises(ValueError, match="classifier"):
        classification_accuracy_score(train_x, train_y, test_x, test_y, classifier="svm")
    with pytest.raises(ValueError, match="at least 2 classes"):
        classification_accuracy_score(train_x, np.zeros_like(train_y), test_x, test_y)

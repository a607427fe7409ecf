"""Coherence with a real-data classifier, and attribute accuracy (Lesson 03)."""

import numpy as np
import pytest
import torch

from mmgan_ref.metrics.coherence import attribute_accuracy, coherence, fit_digits_classifier
from mmgan_ref.metrics.features import digits_split


@pytest.fixture(scope="module")
def logreg():
    return fit_digits_classifier("logreg", seed=0)


def test_ceiling_is_the_real_test_accuracy(logreg):
    assert 0.94 <= logreg.real_accuracy <= 0.995  # anchor ~96 %
    _, _, test_x, test_y = digits_split(seed=0)
    assert logreg.accuracy(test_x, test_y) == pytest.approx(logreg.real_accuracy)


def test_real_images_are_coherent_and_shuffled_labels_are_not(logreg):
    _, _, test_x, test_y = digits_split(seed=0)
    good = coherence(torch.from_numpy(test_x), torch.from_numpy(test_y), logreg)
    assert good == {"coherence": pytest.approx(logreg.real_accuracy),
                    "ceiling": logreg.real_accuracy}
    wrong = coherence(test_x, (test_y + 1) % 10, logreg)
    assert wrong["coherence"] < 0.05


def test_mlp_classifier_is_seeded():
    first = fit_digits_classifier("mlp", seed=1)
    second = fit_digits_classifier("mlp", seed=1)
    assert first.real_accuracy == second.real_accuracy >= 0.94  # anchor ~97 %


def test_images_on_the_wrong_scale_are_refused(logreg):
    with pytest.raises(ValueError, match=r"x / 8 - 1"):
        logreg.predict(np.full((3, 1, 8, 8), 16.0))
    with pytest.raises(ValueError, match="64 pixels"):
        logreg.predict(np.zeros((3, 1, 4, 4)))
    with pytest.raises(ValueError, match="kind"):
        fit_digits_classifier("svm")
    with pytest.raises(TypeError, match="classifier"):
        coherence(np.zeros((2, 1, 8, 8)), np.zeros(2), classifier="logreg")


def test_attribute_accuracy_per_attribute_and_all():
    target = torch.tensor([[0, 1, 2, 3], [1, 1, 1, 1], [2, 0, 0, 0], [3, 2, 1, 0]])
    pred = target.clone()
    pred[0, 0] = 9  # shape wrong in sample 0
    pred[1, 0] = 9  # shape wrong in sample 1
    pred[1, 3] = 9  # and its position
    names = ("shape", "colour", "size", "position")
    result = attribute_accuracy(pred, target, names)
    assert result == {"shape": 0.5, "colour": 1.0, "size": 1.0, "position": 0.75, "all": 0.5}
    assert set(attribute_accuracy(pred, target)) == {f"attribute_{i}" for i in range(4)} | {"all"}


def test_attribute_accuracy_checks_shapes_and_names():
    with pytest.raises(ValueError, match="same shape"):
        attribute_accuracy(np.zeros((3, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="names"):
        attribute_accuracy(np.zeros((3, 2)), np.zeros((3, 2)), names=("a",))

"""Tests of mmgan_ref.nn.modality_discriminator: shapes, the confusion floor, the gap, errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mmgan_ref.nn.modality_discriminator import (
    ModalityDiscriminator,
    chance_confusion,
    modality_confusion_loss,
    modality_d_loss,
    modality_gap,
    modality_gaps,
    stack_modalities,
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_discriminator_shape_and_gradients() -> None:
    net = ModalityDiscriminator(8, num_modalities=3, hidden=(16,))
    codes = torch.randn(5, 8, requires_grad=True)
    logits = net(codes)
    assert logits.shape == (5, 3)
    logits.sum().backward()
    assert codes.grad is not None and codes.grad.abs().sum() > 0
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("bad, error", [(torch.randn(5, 7), ValueError),
                                        (torch.zeros(5, 8, dtype=torch.long), TypeError)])
def test_discriminator_rejects_wrong_codes(bad: torch.Tensor, error: type) -> None:
    with pytest.raises(error, match="codes"):
        ModalityDiscriminator(8)(bad)


def test_discriminator_needs_two_modalities() -> None:
    with pytest.raises(ValueError, match="num_modalities"):
        ModalityDiscriminator(8, num_modalities=1)


def test_stack_modalities_labels_follow_order() -> None:
    codes = {"text": torch.ones(2, 4), "image": torch.zeros(3, 4)}
    stacked, labels = stack_modalities(codes, order=("image", "text"))
    assert stacked.shape == (5, 4)
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert torch.equal(stacked[3:], torch.ones(2, 4))


@pytest.mark.parametrize("codes, order, fragment", [
    ({"text": torch.ones(2, 4)}, None, "at least two"),
    ({"text": torch.ones(2, 4), "image": torch.ones(2, 3)}, None, "image"),
    ({"text": torch.ones(2, 4), "image": torch.ones(2, 4)}, ("text", "sound"), "order"),
])
def test_stack_modalities_errors(codes, order, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        stack_modalities(codes, order)


def test_d_loss_is_cross_entropy() -> None:
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(modality_d_loss(logits, labels), F.cross_entropy(logits, labels))
    with pytest.raises(TypeError, match="labels"):
        modality_d_loss(logits, labels.float())


def test_confusion_loss_floor_and_value() -> None:
    assert math.isclose(float(modality_confusion_loss(torch.full((4, 3), 2.5))),
                        chance_confusion(3), rel_tol=1e-6)
    logits = 3 * torch.randn(20, 3)
    loss = modality_confusion_loss(logits)
    assert float(loss) > chance_confusion(3)
    uniform = torch.full_like(logits, 1 / 3)
    assert torch.allclose(loss, F.cross_entropy(logits, uniform))
    assert torch.isfinite(modality_confusion_loss(1000 * torch.randn(4, 3)))


def test_confusion_gradient_pushes_towards_undecided() -> None:
    logits = torch.tensor([[4.0, 0.0, 0.0]], requires_grad=True)
    modality_confusion_loss(logits).backward()
    assert logits.grad[0, 0] > 0  # descending lowers the winning logit
    assert logits.grad[0, 1] < 0 and logits.grad[0, 2] < 0


def test_gap_zero_for_same_cloud_and_two_for_opposite_poles() -> None:
    codes = torch.randn(50, 6)
    assert modality_gap(codes, 3 * codes) == pytest.approx(0.0, abs=1e-6)
    north, south = torch.tensor([[0.0, 1.0]]).repeat(4, 1), torch.tensor([[0.0, -2.0]])
    assert modality_gap(north, south) == pytest.approx(2.0)
    gaps = modality_gaps({"a": north, "b": south, "c": north})
    assert gaps == pytest.approx({"a-b": 2.0, "a-c": 0.0, "b-c": 2.0})


def test_gap_errors() -> None:
    with pytest.raises(ValueError, match="codes_b"):
        modality_gap(torch.randn(3, 4), torch.randn(3, 5))
    with pytest.raises(ValueError, match="two modalities"):
        modality_gaps({"a": torch.randn(3, 4)})


def test_adversarial_step_lowers_the_discriminators_accuracy() -> None:
    """A few encoder steps on the confusion loss make a fixed D_m less sure of the modality."""
    net = ModalityDiscriminator(4, num_modalities=2, hidden=(8,))
    codes = {"a": torch.randn(64, 4) + 2.0, "b": torch.randn(64, 4) - 2.0}
    opt_d = torch.optim.Adam(net.parameters(), lr=1e-2)
    stacked, labels = stack_modalities(codes)
    for _ in range(200):
        opt_d.zero_grad()
        modality_d_loss(net(stacked), labels).backward()
        opt_d.step()
    before = float(modality_d_loss(net(stacked), labels).detach())
    moved = stacked.clone().requires_grad_(True)
    opt_e = torch.optim.SGD([moved], lr=50.0)  # the loss is a mean over 128 rows
    for _ in range(50):
        opt_e.zero_grad()
        modality_confusion_loss(net(moved)).backward()
        opt_e.step()
    assert float(modality_d_loss(net(moved), labels)) > before + 0.3
    assert float(modality_confusion_loss(net(moved))) < float(modality_confusion_loss(net(stacked)))

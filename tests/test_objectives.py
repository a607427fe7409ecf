"""Tests of mmgan_ref.objectives: each value against a direct computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm

from mmgan_ref import objectives as obj


@pytest.fixture
def logits() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, generator=g) * 3, torch.randn(64, generator=g) * 3


def gaussians_on_grid() -> tuple[np.ndarray, np.ndarray, float]:
    x, dx = np.linspace(-12, 12, 24001, retstep=True)
    return norm.pdf(x, 0.0, 1.0), norm.pdf(x, 1.5, 0.7), float(dx)


# ----------------------------------------------------------------------------- losses


def test_losses_match_hand_formulas(logits):
    real, fake = logits
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    torch.testing.assert_close(obj.d_loss_minimax(real, fake), expected_d)
    torch.testing.assert_close(obj.g_loss_saturating(fake), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(obj.g_loss_nonsaturating(fake), -torch.log(d_fake).mean())
    torch.testing.assert_close(obj.d_loss_hinge(real, fake),
                               torch.clamp(1 - real, min=0).mean()
                               + torch.clamp(1 + fake, min=0).mean())
    torch.testing.assert_close(obj.g_loss_hinge(fake), -fake.mean())
    torch.testing.assert_close(obj.d_loss_wasserstein(real, fake), fake.mean() - real.mean())
    torch.testing.assert_close(obj.g_loss_wasserstein(fake), -fake.mean())


@pytest.mark.parametrize("kind", obj.LOSS_KINDS)
def test_dispatch_matches_named_functions(kind, logits):
    real, fake = logits
    named_d = {"minimax": obj.d_loss_minimax, "nonsaturating": obj.d_loss_minimax,
               "hinge": obj.d_loss_hinge, "wasserstein": obj.d_loss_wasserstein}[kind]
    named_g = {"minimax": obj.g_loss_saturating, "nonsaturating": obj.g_loss_nonsaturating,
               "hinge": obj.g_loss_hinge, "wasserstein": obj.g_loss_wasserstein}[kind]
    assert torch.equal(obj.d_loss(real, fake, kind), named_d(real, fake))
    assert torch.equal(obj.g_loss(fake, kind), named_g(fake))


def test_losses_stable_for_extreme_logits():
    big = torch.tensor([200.0, -200.0])
    for value in (obj.d_loss_minimax(big, big), obj.g_loss_saturating(big),
                  obj.g_loss_nonsaturating(big)):
        assert torch.isfinite(value)
    torch.testing.assert_close(obj.g_loss_nonsaturating(torch.tensor([-200.0])),
                               torch.tensor(200.0))


def test_saturating_gradient_vanishes_nonsaturating_does_not():
    fake = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) ~ 4.5e-5: D rejects the fake
    (g_sat,) = torch.autograd.grad(obj.g_loss_saturating(fake), fake)
    (g_ns,) = torch.autograd.grad(obj.g_loss_nonsaturating(fake), fake)
    assert abs(g_sat.item()) < 1e-4
    assert g_ns.item() == pytest.approx(-1.0, abs=1e-4)
    # both push the logit up (negative gradient of a loss to minimise)
    assert g_sat.item() < 0
    # where D is fooled (D -> 1) the roles swap
    fooled = torch.tensor([10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(obj.g_loss_saturating(fooled), fooled)
    (g_ns,) = torch.autograd.grad(obj.g_loss_nonsaturating(fooled), fooled)
    assert abs(g_ns.item()) < 1e-4 < abs(g_sat.item())


def test_loss_errors_are_clear():
    with pytest.raises(ValueError, match="kind"):
        obj.d_loss(torch.zeros(2), torch.zeros(2), "bce")
    with pytest.raises(TypeError, match="fake_logits"):
        obj.g_loss(torch.zeros(2, dtype=torch.long))
    with pytest.raises(TypeError, match="real_logits"):
        obj.d_loss([0.0], torch.zeros(2))


# ----------------------------------------------------------------------------- regularisers


def test_gradient_penalty_zero_for_unit_linear_critic():
    w = torch.randn(5, 4)
    w = w / w.norm()
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731  (gradient w, norm 1)
    real, fake = torch.randn(8, 5, 4), torch.randn(8, 5, 4)
    gp = obj.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    gp3 = obj.gradient_penalty(lambda x: 3 * critic(x), real, fake)
    assert gp3.item() == pytest.approx(4.0, rel=1e-5)  # (3 - 1)^2


def test_gradient_penalty_is_seeded_and_differentiable():
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    real, fake = torch.randn(6, 3), torch.randn(6, 3)
    a = obj.gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(1))
    b = obj.gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    a.backward()
    # the last bias does not change grad_x D, so only the weights get gradients
    assert net[0].weight.grad.abs().sum() > 0 and net[2].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="share a shape"):
        obj.gradient_penalty(net, real, fake[:3])


def test_r1_linear_and_constant():
    w, b = torch.tensor([3.0, -4.0]), torch.nn.Parameter(torch.tensor(0.5))
    x = torch.randn(10, 2, requires_grad=True)
    r1 = obj.r1_penalty(x @ w + b, x)
    assert r1.item() == pytest.approx(25.0)  # ||w||^2
    const = b.expand(10)  # D constant in x
    x2 = torch.randn(10, 2, requires_grad=True)
    assert obj.r1_penalty(const, x2).item() == 0.0


def test_r1_differentiable_wrt_parameters():
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = torch.randn(7, 2, requires_grad=True)
    r1 = obj.r1_penalty(net(x).squeeze(1), x)
    r1.backward()
    assert net[0].weight.grad is not None and net[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="requires_grad"):
        obj.r1_penalty(net(torch.randn(3, 2)).squeeze(1), torch.randn(3, 2))


# ----------------------------------------------------------------------------- InfoNCE


def test_info_nce_aligned_and_random():
    g = torch.Generator().manual_seed(0)
    batch = 16
    aligned = torch.eye(batch, 32)  # orthogonal, perfectly matched codes
    assert obj.info_nce(aligned, aligned.clone(), temperature=0.05).item() < 1e-6
    a, b = torch.randn(batch, 512, generator=g), torch.randn(batch, 512, generator=g)
    assert obj.info_nce(a, b, logit_scale=1.0).item() == pytest.approx(math.log(batch), abs=0.05)
    # symmetric is the mean of both directions
    logits = 1 / 0.07 * torch.nn.functional.normalize(a) @ torch.nn.functional.normalize(b).T
    targets = torch.arange(batch)
    expected = (torch.nn.functional.cross_entropy(logits, targets)
                + torch.nn.functional.cross_entropy(logits.T, targets)) / 2
    torch.testing.assert_close(obj.info_nce(a, b), expected)
    torch.testing.assert_close(obj.info_nce(a, b, symmetric=False),
                               torch.nn.functional.cross_entropy(logits, targets))


def test_info_nce_errors():
    with pytest.raises(ValueError, match="not both"):
        obj.info_nce(torch.ones(2, 3), torch.ones(2, 3), logit_scale=1.0, temperature=1.0)
    with pytest.raises(ValueError, match="same shape"):
        obj.info_nce(torch.ones(2, 3), torch.ones(3, 3))


# ----------------------------------------------------------------------------- closed forms


def test_value_at_optimum_equals_integral_and_scipy():
    p, q, dx = gaussians_on_grid()
    d_star = obj.optimal_discriminator(p, q)
    v_integral = obj.value_function(d_star, p, q, dx)
    jsd_scipy = jensenshannon(p * dx, q * dx) ** 2  # natural log by default
    assert v_integral == pytest.approx(-math.log(4) + 2 * jsd_scipy, abs=1e-4)
    assert obj.value_at_optimum(p, q, dx) == pytest.approx(v_integral, abs=1e-4)
    assert obj.jensen_shannon(p, q, dx) == pytest.approx(jsd_scipy, abs=1e-6)


def test_optimal_discriminator_maximises_value():
    p, q, dx = gaussians_on_grid()
    d_star = obj.optimal_discriminator(p, q)
    best = obj.value_function(d_star, p, q, dx)
    rng = np.random.default_rng(0)
    for scale in (0.01, 0.1):
        perturbed = np.clip(d_star + scale * rng.standard_normal(d_star.shape), 0, 1)
        assert obj.value_function(perturbed, p, q, dx) < best


def test_closed_forms_edge_cases_and_types():
    d = obj.optimal_discriminator(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(d, [0.5, 0.5, 1.0])  # 0/0 -> 1/2 by convention
    same = np.array([0.2, 0.3, 0.5])
    assert obj.jensen_shannon(same, same) == pytest.approx(0.0)
    assert obj.jensen_shannon([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    assert obj.value_at_optimum(same, same) == pytest.approx(-math.log(4))
    jsd_t = obj.jensen_shannon(torch.tensor([0.5, 0.5]), torch.tensor([0.9, 0.1]))
    assert isinstance(jsd_t, torch.Tensor)
    assert jsd_t.item() == pytest.approx(jensenshannon([0.5, 0.5], [0.9, 0.1]) ** 2)
    with pytest.raises(ValueError, match="sums to"):
        obj.jensen_shannon([0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        obj.optimal_discriminator([-1.0], [1.0])
    with pytest.raises(ValueError, match="share a shape"):
        obj.jensen_shannon([1.0], [0.5, 0.5])

"""GAN objectives on logits, regularisers, InfoNCE, and the closed forms of the minimax game.

Lesson: 01 The minimax objective, derived (closed forms, saturating vs non-saturating),
02 A first GAN on 2D data (hinge, Wasserstein, R1, gradient penalty) and
04 Encoding modalities into one space (InfoNCE).

Every loss takes LOGITS l, with D = sigmoid(l), and is written with softplus so that it
stays finite where log(sigmoid(l)) would underflow::

    -log D(x)     = softplus(-l)        -log(1 - D(x)) = softplus(l).

The closed forms take densities (NumPy arrays or torch tensors; same type comes back) and
use the natural log, so JSD lies in [0, log 2].

References:
    Goodfellow et al. 2014, "Generative Adversarial Nets" (minimax, non-saturating, D*, JSD).
    Lim and Ye 2017, "Geometric GAN"; Miyato et al. 2018 (hinge loss).
    Arjovsky et al. 2017, "Wasserstein GAN"; Gulrajani et al. 2017, "Improved Training of
    Wasserstein GANs" (gradient penalty).
    Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?" (R1).
    van den Oord et al. 2018, "Representation Learning with Contrastive Predictive Coding";
    Radford et al. 2021, CLIP (symmetric InfoNCE).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan_ref.utils import check_choice, check_float

LOSS_KINDS = ("minimax", "nonsaturating", "hinge", "wasserstein")
DEFAULT_TEMPERATURE = 0.07  # CLIP's initial temperature
DISCRETE_SUM_TOLERANCE = 1e-6

# ----------------------------------------------------------------------------- GAN losses


def _check_logits(name: str, logits: Any) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        what = logits.dtype if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise TypeError(f"{name} must be a floating-point torch.Tensor of logits, got {what}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(logits.shape)})")
    return logits


def d_loss_minimax(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: D's loss for both minimax and non-saturating."""
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], minimised by G: the original minimax generator loss.

    Its gradient w.r.t. a logit is -sigmoid(l), which vanishes when D(G(z)) -> 0,
    i.e. exactly when D confidently rejects the fakes early in training.
    """
    _check_logits("fake_logits", fake_logits)
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))]: gradient -(1 - sigmoid(l)), strong where D rejects the fakes."""
    _check_logits("fake_logits", fake_logits)
    return F.softplus(-fake_logits).mean()


def d_loss_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] on raw scores."""
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_loss_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))] on raw scores."""
    _check_logits("fake_logits", fake_logits)
    return -fake_logits.mean()


def d_loss_wasserstein(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: the critic's loss (pair it with a Lipschitz constraint)."""
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return fake_logits.mean() - real_logits.mean()


def g_loss_wasserstein(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    _check_logits("fake_logits", fake_logits)
    return -fake_logits.mean()


_D_LOSSES = {"minimax": d_loss_minimax, "nonsaturating": d_loss_minimax,
             "hinge": d_loss_hinge, "wasserstein": d_loss_wasserstein}
_G_LOSSES = {"minimax": g_loss_saturating, "nonsaturating": g_loss_nonsaturating,
             "hinge": g_loss_hinge, "wasserstein": g_loss_wasserstein}


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
           kind: str = "nonsaturating") -> torch.Tensor:
    """The discriminator's loss of `kind` (one of `LOSS_KINDS`), a scalar to minimise."""
    return _D_LOSSES[check_choice("kind", kind, LOSS_KINDS)](real_logits, fake_logits)


def g_loss(fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator's loss of `kind` (one of `LOSS_KINDS`); "minimax" is the saturating one."""
    return _G_LOSSES[check_choice("kind", kind, LOSS_KINDS)](fake_logits)


# ----------------------------------------------------------------------------- regularisers


def gradient_penalty(discriminator_fn: Callable[[torch.Tensor], torch.Tensor],
                     real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: E[(||grad_x D(x_hat)|| - 1)^2] on random interpolates x_hat.

    x_hat = eps * real + (1 - eps) * fake with eps ~ U(0, 1) per sample. The penalty is
    differentiable w.r.t. D's parameters (create_graph=True); real and fake are detached.

    Args:
        discriminator_fn: maps a batch shaped like `real` to logits (B,) or (B, 1); wrap
            conditional critics, e.g. `lambda x: D(x, labels)`.
        real, fake: batches of the same shape (B, ...).
        generator: optional torch.Generator for eps (deterministic by seed).

    Returns:
        a scalar tensor (multiply by lambda, 10 in the paper, yourself).
    """
    if not isinstance(real, torch.Tensor) or not isinstance(fake, torch.Tensor):
        raise TypeError("real and fake must be torch.Tensors")
    if real.shape != fake.shape or real.dim() < 2:
        raise ValueError(f"real and fake must share a shape (B, ...), got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    rand_device = generator.device if generator is not None else real.device
    eps = torch.rand(shape, generator=generator, device=rand_device).to(real)  # (B, 1, ...)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = discriminator_fn(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor) -> torch.Tensor:
    """R1: E[||grad_x D(x)||^2] on real data (multiply by gamma / 2 yourself).

    Args:
        real_logits: D's logits on `real_inputs`, computed with grad enabled.
        real_inputs: the real batch (B, ...), with `requires_grad=True` set before D ran.

    Returns:
        a scalar tensor, differentiable w.r.t. D's parameters (create_graph=True);
        exactly zero when D does not depend on x.
    """
    _check_logits("real_logits", real_logits)
    if not isinstance(real_inputs, torch.Tensor) or not real_inputs.requires_grad:
        raise ValueError("real_inputs must be a tensor with requires_grad=True: call "
                         "real.requires_grad_(True) before computing real_logits = D(real)")
    if not real_logits.requires_grad:
        raise ValueError("real_logits does not require grad: compute it from real_inputs "
                         "outside torch.no_grad()")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True,
                                  allow_unused=True)
    if grad is None:  # D is constant in x
        return real_logits.new_zeros(())
    return grad.flatten(1).pow(2).sum(dim=1).mean()


# ----------------------------------------------------------------------------- contrastive


def info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: float | torch.Tensor | None = None,
             temperature: float | None = None, symmetric: bool = True) -> torch.Tensor:
    """InfoNCE over cosine similarities: row i of `a` should pick row i of `b`.

    logits = logit_scale * cos(a_i, b_j); loss = cross-entropy with targets i, averaged
    over a->b and b->a when `symmetric` (CLIP). Give `logit_scale` (the multiplier, e.g.
    `CrossModalEncoder.logit_scale()`) or `temperature` (= 1 / logit_scale), not both;
    with neither, temperature = 0.07. Random codes give about log(B).

    Args:
        a, b: codes (B, D), need not be normalised.

    Returns:
        a scalar tensor.
    """
    for name, t in (("a", a), ("b", b)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2 or not t.is_floating_point():
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a float tensor of shape (B, D), got {got}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if logit_scale is not None and temperature is not None:
        raise ValueError("give logit_scale or temperature, not both")
    if logit_scale is None:
        t = DEFAULT_TEMPERATURE if temperature is None else temperature
        logit_scale = 1.0 / check_float("temperature", t, minimum=0.0, exclusive_min=True)
    logits = logit_scale * F.normalize(a, dim=1) @ F.normalize(b, dim=1).T  # (B, B)
    targets = torch.arange(a.shape[0], device=a.device)
    loss = F.cross_entropy(logits, targets)
    if symmetric:
        loss = (loss + F.cross_entropy(logits.T, targets)) / 2
    return loss


# ----------------------------------------------------------------------------- closed forms


def _densities(**arrays: Any) -> tuple[list[torch.Tensor], bool]:
    """Convert to float64 tensors of one shape; say whether any input was a tensor."""
    any_tensor = any(isinstance(x, torch.Tensor) for x in arrays.values())
    out = []
    for name, x in arrays.items():
        t = x.to(torch.float64) if isinstance(x, torch.Tensor) else torch.as_tensor(
            np.asarray(x, dtype=np.float64))
        if bool((t < 0).any()) or not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must hold finite, non-negative values")
        out.append(t)
    shapes = {tuple(t.shape) for t in out}
    if len(shapes) > 1:
        raise ValueError(f"{', '.join(arrays)} must share a shape, got {sorted(shapes)}")
    return out, any_tensor


def _integrate(values: torch.Tensor, dx: float | None) -> torch.Tensor:
    total = values.sum()
    return total if dx is None else total * check_float("dx", dx, minimum=0.0, exclusive_min=True)


def _back(t: torch.Tensor, as_tensor: bool) -> Any:
    if as_tensor:
        return t
    return float(t) if t.dim() == 0 else t.numpy()


def optimal_discriminator(p_data: Any, p_g: Any) -> Any:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), pointwise.

    Convention: where both densities are 0 (0/0), D* = 1/2. Those points carry no mass,
    so the choice does not change V; 1/2 is also D*'s value wherever p_data = p_g.
    Returns a NumPy array, or a float64 tensor when an input is a tensor.
    """
    (p, q), as_tensor = _densities(p_data=p_data, p_g=p_g)
    total = p + q
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return _back(torch.where(total > 0, p / safe, torch.full_like(total, 0.5)), as_tensor)


def jensen_shannon(p: Any, q: Any, dx: float | None = None) -> Any:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, in nats (0 log 0 = 0).

    Args:
        p, q: discrete distributions (each summing to 1) when dx is None, else densities
            sampled on a regular grid of step dx (integrated by a Riemann sum).
    """
    (p_t, q_t), as_tensor = _densities(p=p, q=q)
    if dx is None:
        for name, t in (("p", p_t), ("q", q_t)):
            if abs(float(t.sum()) - 1.0) > DISCRETE_SUM_TOLERANCE:
                raise ValueError(f"{name} sums to {float(t.sum()):.6g}, not 1: normalise it, "
                                 "or pass dx if it holds densities on a grid")
    m = (p_t + q_t) / 2
    kl_pm = torch.special.xlogy(p_t, p_t) - torch.special.xlogy(p_t, m)
    kl_qm = torch.special.xlogy(q_t, q_t) - torch.special.xlogy(q_t, m)
    return _back(_integrate((kl_pm + kl_qm) / 2, dx), as_tensor)


def value_function(d: Any, p_data: Any, p_g: Any, dx: float | None = None) -> Any:
    """V(D, G) = integral of p_data log D + p_g log(1 - D) (a sum when dx is None).

    Args:
        d: D's values in [0, 1] on the same points as the densities (0 log 0 = 0).
            d is clipped to [eps, 1 - eps], eps = float64 machine epsilon, as
            scikit-learn's log_loss does: D* computed in float64 rounds to exactly 1 where
            p_g / p_data < eps, and the true contribution there is below eps * p_data.
    """
    (d_t, p, q), as_tensor = _densities(d=d, p_data=p_data, p_g=p_g)
    if bool((d_t > 1).any()):
        raise ValueError("d must hold probabilities in [0, 1] (apply sigmoid to logits)")
    eps = torch.finfo(torch.float64).eps
    d_t = d_t.clamp(eps, 1 - eps)
    values = torch.special.xlogy(p, d_t) + torch.special.xlogy(q, 1 - d_t)
    return _back(_integrate(values, dx), as_tensor)


def value_at_optimum(p_data: Any, p_g: Any, dx: float | None = None) -> Any:
    """V(D*, G) = -log 4 + 2 JSD(p_data || p_g): minimal (-log 4) iff p_g = p_data."""
    return -math.log(4.0) + 2 * jensen_shannon(p_data, p_g, dx)

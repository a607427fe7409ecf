"""Checks for the exercises of lesson 02 (``exercises/02_first_gan_2d.ipynb``).

Lesson: 02 A first GAN on 2D data. Exercise 2.1 ``make_generator``, 2.2
``make_discriminator``, 2.3 ``d_step``, 2.4 ``g_step``, 2.5 ``mode_coverage``.

The references are ``mmgan_ref.nn.mlp`` (the networks), ``mmgan_ref.objectives`` (the
losses) and ``mmgan_ref.metrics.coverage.mode_coverage`` (the metric). The steps are
checked with plain SGD, so that the parameters after one step reveal the gradient itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.metrics.coverage import mode_coverage as reference_coverage
from mmgan_ref.nn.mlp import MLPDiscriminator, MLPGenerator

SGD_LR = 0.05
BATCH = 32
FIXED_BATCH_STEPS = 25


def _linear_param_count(sizes: Sequence[int]) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _expect_module(c: Check, module: object, what: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        c.fail(f"{what} should return a torch.nn.Module", got=type(module).__name__,
               hint="build an nn.Sequential(...) (or an nn.Module subclass) and return it")
    return module


def _check_mlp_basics(c: Check, net: nn.Module, in_dim: int, sizes: list[int], what: str,
                      seed: int) -> None:
    """Parameter count of an MLP of `sizes`, non-linearity, and gradients to every parameter."""
    count = sum(p.numel() for p in net.parameters())
    expected = _linear_param_count(sizes)
    if count != expected:
        hint = "one Linear layer per step of sizes = [in, *hidden, out], each with a bias"
        if count == expected - sum(sizes[1:]):
            hint = "the Linear layers have no bias: keep nn.Linear's default bias=True"
        c.fail(f"{what} has {count} parameters, not those of Linear layers of sizes {sizes}",
               expected=str(expected), got=str(count), hint=hint)
    a, b = seeded_randn(seed + 1, 16, in_dim), seeded_randn(seed + 2, 16, in_dim)
    with torch.no_grad():
        gap = c.call(net, a + b) - c.call(net, a) - c.call(net, b) + c.call(net, 0 * a)
    if float(gap.abs().max()) < 1e-6:
        c.fail(f"{what} is an affine map: there is no non-linearity between the layers",
               hint="a stack of Linear layers is a single Linear map; put an activation "
                    "(ReLU / LeakyReLU) after every hidden Linear")
    out = c.call(net, seeded_randn(seed + 3, 64, in_dim))
    dead = [name for name, ok in _grads(net, out.sum()).items() if not ok]
    if dead:
        c.fail(f"no gradient reaches {', '.join(dead)} of {what}",
               hint="do not detach, use .data, or wrap the forward pass in torch.no_grad()")


def _grads(net: nn.Module, loss: torch.Tensor) -> dict[str, bool]:
    named = dict(net.named_parameters())
    if not loss.requires_grad:
        return {name: False for name in named}
    grads = torch.autograd.grad(loss, list(named.values()), allow_unused=True,
                                retain_graph=True)
    return {name: g is not None and bool(g.abs().sum() > 0)
            for name, g in zip(named, grads, strict=True)}


# ----------------------------------------------------------------------------- 2.1 and 2.2


def check_make_generator(make_generator: Callable[..., nn.Module], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 2.1: ``make_generator(z_dim, hidden, out_dim)`` is an MLP with a raw output."""
    c = Check("2.1", "make_generator", quiet=quiet)
    for z_dim, hidden, out_dim in ((2, (16, 16), 2), (3, (8,), 4)):
        torch.manual_seed(seed)
        what = f"make_generator({z_dim}, {hidden}, {out_dim})"
        net = _expect_module(c, c.call(make_generator, z_dim, hidden, out_dim), what)
        z = seeded_randn(seed, 7, z_dim)
        out = c.expect_tensor(c.call_no_inplace(net, z), f"{what}(z)")
        c.expect_shape(out, (7, out_dim), f"{what}(z) for z of shape (7, {z_dim})",
                       hint="G maps (B, z_dim) noise to (B, out_dim) points")
        _check_mlp_basics(c, net, z_dim, [z_dim, *hidden, out_dim], what, seed)
        with torch.no_grad():
            wide = c.call(net, 50.0 * seeded_randn(seed + 4, 256, z_dim))
        if bool((wide >= 0).all()) or bool((wide.abs() <= 1).all()):
            c.fail(f"the outputs of {what} are bounded: the last layer is followed by an "
                   "activation", expected="unbounded coordinates (the grid reaches +-4)",
                   got=f"values in [{float(wide.min()):.3g}, {float(wide.max()):.3g}]",
                   hint="end with a Linear layer; no ReLU, Tanh or Sigmoid after it")
    c.passed("make_generator builds an MLP with the right shapes, parameters and raw output")


def check_make_discriminator(make_discriminator: Callable[..., nn.Module], seed: int = 0,
                             quiet: bool = False) -> None:
    """Exercise 2.2: ``make_discriminator(in_dim, hidden)`` returns logits of shape (B,)."""
    c = Check("2.2", "make_discriminator", quiet=quiet)
    for in_dim, hidden in ((2, (16, 16)), (5, (8,))):
        torch.manual_seed(seed)
        what = f"make_discriminator({in_dim}, {hidden})"
        net = _expect_module(c, c.call(make_discriminator, in_dim, hidden), what)
        x = seeded_randn(seed, 9, in_dim)
        out = c.expect_tensor(c.call_no_inplace(net, x), f"{what}(x)")
        hint = "squeeze the last dimension: return logits.squeeze(1)" if tuple(
            out.shape) == (9, 1) else "D returns one logit per sample"
        c.expect_shape(out, (9,), f"{what}(x) for x of shape (9, {in_dim})", hint=hint)
        _check_mlp_basics(c, net, in_dim, [in_dim, *hidden, 1], what, seed)
        with torch.no_grad():
            wide = c.call(net, 50.0 * seeded_randn(seed + 4, 256, in_dim))
        if bool((wide >= 0).all() and (wide <= 1).all()):
            c.fail(f"{what} returns probabilities in [0, 1], not logits: it ends with a sigmoid",
                   hint="return raw logits; the losses apply the sigmoid inside softplus, "
                        "which stays finite where log(sigmoid(l)) underflows")
        x = seeded_randn(seed + 5, 6, in_dim).requires_grad_(True)
        out = c.call(net, x)
        if not out.requires_grad or torch.autograd.grad(out.sum(), x)[0].abs().sum() == 0:
            c.fail(f"no gradient flows from {what}'s output back to its input x",
                   hint="G learns through D's gradient with respect to x: keep the forward "
                        "pass differentiable in x")
    c.passed("make_discriminator returns logits (B,) from an MLP, with gradients to x")


# ----------------------------------------------------------------------------- 2.3 and 2.4


def _pair(seed: int) -> tuple[MLPGenerator, MLPDiscriminator]:
    torch.manual_seed(seed)
    return MLPGenerator(2, 2, (16, 16)), MLPDiscriminator(2, (16, 16))


def _fill_grads(module: nn.Module, seed: int) -> None:
    """Stale gradients, as a previous phase would leave them."""
    for i, p in enumerate(module.parameters()):
        p.grad = seeded_randn(seed + 100 + i, *p.shape)


def reference_d_step(generator: nn.Module, discriminator: nn.Module,
                     d_optimizer: torch.optim.Optimizer, real: torch.Tensor,
                     z: torch.Tensor) -> float:
    """One discriminator update with the non-saturating GAN's D loss; returns the loss."""
    fake = generator(z).detach()  # D's loss must not reach G
    loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def reference_g_step(generator: nn.Module, discriminator: nn.Module,
                     g_optimizer: torch.optim.Optimizer, z: torch.Tensor) -> float:
    """One generator update with the non-saturating loss -log D(G(z)); returns the loss."""
    loss = F.softplus(-discriminator(generator(z))).mean()
    g_optimizer.zero_grad()
    loss.backward()
    g_optimizer.step()
    return loss.item()


def _as_float(c: Check, value: object, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    c.fail(f"{what} should return the loss as a float", got=type(value).__name__,
           hint="return loss.item()")


def _params(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _d_loss(d: nn.Module, g: nn.Module, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return F.softplus(-d(real)).mean() + F.softplus(d(g(z))).mean()


def check_d_step(d_step: Callable[..., float], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 2.3: ``d_step(generator, discriminator, d_optimizer, real, z) -> float``."""
    c = Check("2.3", "d_step", quiet=quiet)
    real, z = 2 * seeded_randn(seed, BATCH, 2), seeded_randn(seed + 1, BATCH, 2)
    g, d = _pair(seed)
    g_before, d_before = _params(g), _params(d)
    with torch.no_grad():
        real_logits, fake_logits = d(real), d(g(z))
    expected_loss = float(F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
    _fill_grads(d, seed)  # left over from the last G step
    stale = _params_grad(d)
    loss = _as_float(c, c.call_no_inplace(d_step, g, d, torch.optim.SGD(d.parameters(), SGD_LR),
                                          real, z), "d_step")
    mistakes = {
        "swapped the real and fake terms": float(F.softplus(real_logits).mean()
                                                 + F.softplus(-fake_logits).mean()),
        "averaged real and fake together (half the loss): use the sum of the two means":
            expected_loss / 2,
        "returned the generator's loss": float(F.softplus(-fake_logits).mean()),
    }
    _compare_loss(c, loss, expected_loss, "the loss d_step returned", mistakes)
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in g.parameters()):
        c.fail("the generator received gradients from D's loss: did you forget .detach()?",
               expected="no gradient in G's parameters after d_step",
               hint="fake = generator(z).detach() (or compute it under torch.no_grad()): "
                    "D's update must not touch G, and the graph through G is wasted work")
    if not torch.equal(_params(g), g_before):
        c.fail("d_step changed the generator's parameters", hint="only D moves in d_step")
    ref_g, ref_d = _pair(seed)
    reference_d_step(ref_g, ref_d, torch.optim.SGD(ref_d.parameters(), SGD_LR), real, z)
    after, expected = _params(d), _params(ref_d)
    update = expected - d_before
    c.assert_close(after, expected, "D's parameters after one d_step (SGD, lr 0.05)", mistakes={
        "forgot d_optimizer.zero_grad(): stale gradients were added": expected - SGD_LR * stale,
        "the update went uphill (gradient ascent): minimise the loss, do not maximise it":
            d_before - update,
        "D's parameters did not move: call loss.backward() and d_optimizer.step()": d_before,
    })

    g, d = _pair(seed + 7)
    optimizer = torch.optim.SGD(d.parameters(), SGD_LR)
    start = _d_loss(d, g, real, z)
    for _ in range(FIXED_BATCH_STEPS):
        c.call(d_step, g, d, optimizer, real, z)
    end = _d_loss(d, g, real, z)
    if not end < start:
        c.fail(f"D's loss did not decrease over {FIXED_BATCH_STEPS} d_steps on a fixed batch",
               expected=f"below {float(start):.4f}", got=f"{float(end):.4f}")
    c.passed("d_step updates D only, with the right loss and gradients (G detached)")


def _params_grad(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.detach().flatten() for p in module.parameters()])


def _compare_loss(c: Check, loss: float, expected: float, what: str,
                  mistakes: dict[str, float]) -> None:
    if math.isclose(loss, expected, rel_tol=1e-4, abs_tol=1e-5):
        return
    for description, value in mistakes.items():
        if math.isclose(loss, value, rel_tol=1e-4, abs_tol=1e-5):
            c.fail(f"wrong value of {what}", expected=f"{expected:.5f}", got=f"{loss:.5f}",
                   hint=f"this looks like a common mistake: {description}")
    c.fail(f"wrong value of {what}", expected=f"{expected:.5f}", got=f"{loss:.5f}",
           hint="compute the loss BEFORE the optimiser step and return loss.item()")


def check_g_step(g_step: Callable[..., float], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 2.4: ``g_step(generator, discriminator, g_optimizer, z) -> float``."""
    c = Check("2.4", "g_step", quiet=quiet)
    z = seeded_randn(seed + 2, BATCH, 2)
    g, d = _pair(seed)
    g_before, d_before = _params(g), _params(d)
    with torch.no_grad():
        fake_logits = d(g(z))
    expected_loss = float(F.softplus(-fake_logits).mean())
    _fill_grads(g, seed)  # left over from the previous G step
    stale = _params_grad(g)
    loss = _as_float(c, c.call_no_inplace(g_step, g, d, torch.optim.SGD(g.parameters(), SGD_LR),
                                          z), "g_step")
    _compare_loss(c, loss, expected_loss, "the loss g_step returned", {
        "used the saturating loss log(1 - D(G(z))) instead of -log D(G(z))":
            float(-F.softplus(fake_logits).mean()),
        "returned log D(G(z)): the sign is flipped": -expected_loss,
        "used the saturating loss log(1 - D(G(z))) (sign flipped)":
            float(F.softplus(fake_logits).mean()),
    })
    if not torch.equal(_params(d), d_before):
        c.fail("g_step changed the discriminator's parameters", hint="only G moves in g_step")
    ref_g, ref_d = _pair(seed)
    reference_g_step(ref_g, ref_d, torch.optim.SGD(ref_g.parameters(), SGD_LR), z)
    update = _params(ref_g) - g_before

    def saturating() -> torch.Tensor:
        sat_g, sat_d = _pair(seed)
        sat_loss = -F.softplus(sat_d(sat_g(z))).mean()
        grads = torch.autograd.grad(sat_loss, list(sat_g.parameters()))
        return g_before - SGD_LR * torch.cat([gr.flatten() for gr in grads])

    c.assert_close(_params(g), _params(ref_g), "G's parameters after one g_step (SGD, lr 0.05)",
                   mistakes={
        "G's parameters did not move: did you detach G(z) or use torch.no_grad() in g_step? "
        "G's loss needs the graph through G": g_before,
        "forgot g_optimizer.zero_grad(): stale gradients were added":
            _params(ref_g) - SGD_LR * stale,
        "the update went uphill (gradient ascent): minimise the loss": g_before - update,
        "used the saturating gradient of log(1 - D(G(z)))": saturating,
    })
    c.passed("g_step updates G only, with the non-saturating loss and its gradients")


# ----------------------------------------------------------------------------- 2.5


def _grid_means() -> torch.Tensor:
    values = torch.tensor([-2.0, 0.0, 2.0])
    xs, ys = torch.meshgrid(values, values, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)  # (9, 2)


def _coverage_cases(seed: int) -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    means, std = _grid_means(), 0.05
    rng = torch.Generator().manual_seed(seed)
    pick = torch.randint(0, 5, (300,), generator=rng)  # only 5 of 9 modes used
    spread = torch.where(torch.rand(300, 1, generator=rng) < 0.7, 1.0, 6.0)
    mixed = means[pick] + std * spread * torch.randn(300, 2, generator=rng)
    only_low = torch.cat([means[0] + std * seeded_randn(seed, 20, 2) * 0.5,
                          means[4] + torch.tensor([[0.0, 5 * std]]).repeat(10, 1)])
    diagonal = torch.cat([means[1] + torch.tensor([[2.5 * std, 2.5 * std]]).repeat(6, 1),
                          means[2] + std * 0.1 * seeded_randn(seed + 1, 4, 2)])
    one_mode = means[3] + std * 0.3 * seeded_randn(seed + 2, 50, 2)
    nowhere = torch.full((8, 2), 1.0)  # between modes: nothing is high quality
    return [("seeded samples around 5 of 9 modes (70 % close, 30 % spread wide)",
             mixed, means, std),
            ("mode 4 has only low-quality samples (5 std away): it is not covered",
             only_low, means, std),
            ("samples 2.5 std from a mean along both axes (3.5 std away: low quality)",
             diagonal, means, std),
            ("every sample in one mode", one_mode, means, std),
            ("no high-quality sample at all", nowhere, means, std)]


def check_mode_coverage(mode_coverage: Callable[..., dict], seed: int = 0,
                        quiet: bool = False) -> None:
    """Exercise 2.5: ``mode_coverage(samples, means, std)`` follows the VEEGAN/PacGAN protocol."""
    c = Check("2.5", "mode_coverage", quiet=quiet)
    for description, samples, means, std in _coverage_cases(seed):
        result = c.call_no_inplace(mode_coverage, samples, means, std)
        if not isinstance(result, dict) or not {"modes", "high_quality",
                                                "reverse_kl"} <= set(result):
            c.fail("mode_coverage should return a dict with keys 'modes', 'high_quality' "
                   "and 'reverse_kl'", got=repr(result)[:120])
        expected = reference_coverage(samples, means, std)
        nearest = torch.cdist(samples, means).argmin(1)
        got = {k: float(result[k]) for k in ("modes", "high_quality", "reverse_kl")}
        hints = _coverage_hint(samples, means, std, nearest, got)
        for key in ("modes", "high_quality", "reverse_kl"):
            want, have = float(expected[key]), got[key]
            same = (want == have) if math.isinf(want) else math.isclose(
                want, have, rel_tol=1e-4, abs_tol=1e-6)
            if not same:
                c.fail(f"wrong {key!r} for {description}", expected=f"{want:.6g}",
                       got=f"{have:.6g}", hint=hints.get(key))
    c.passed("mode_coverage matches the protocol (nearest mode, 3-std quality, reverse KL)")


def _coverage_hint(samples: torch.Tensor, means: torch.Tensor, std: float,
                   nearest: torch.Tensor, got: dict[str, float]) -> dict[str, str]:
    """Name the mistake a wrong answer matches."""
    distance = (samples - means[nearest]).norm(dim=1)
    hq = distance <= 3 * std
    box = ((samples - means[nearest]).abs() <= 3 * std).all(dim=1)
    hints = {}
    if got["modes"] == len(torch.unique(nearest)) and got["modes"] != len(
            torch.unique(nearest[hq])):
        hints["modes"] = ("you counted a mode with only low-quality samples: a mode is "
                          "covered only if a HIGH-QUALITY sample is nearest to it")
    if math.isclose(got["high_quality"], float(box.float().mean()), abs_tol=1e-9):
        hints["high_quality"] = ("you tested each coordinate within 3 std (a square): use "
                                 "the Euclidean distance to the nearest mean")
    elif math.isclose(got["high_quality"], float(((distance <= std).float()).mean()),
                      abs_tol=1e-9):
        hints["high_quality"] = "the radius is 3 standard deviations, not 1"
    counts_all = torch.bincount(nearest, minlength=len(means)).double()
    counts_hq = torch.bincount(nearest[hq], minlength=len(means)).double()
    if counts_hq.sum() > 0:
        p_all = counts_all / counts_all.sum()
        kl_all = float(torch.special.xlogy(p_all, p_all * len(means)).sum())
        p = counts_hq / counts_hq.sum()
        forward = float((torch.log(1 / (len(means) * p))).mean()) if bool((p > 0).all()) \
            else math.inf
        if math.isclose(got["reverse_kl"], kl_all, rel_tol=1e-6, abs_tol=1e-9):
            hints["reverse_kl"] = "the histogram counts high-quality samples only"
        elif got["reverse_kl"] == forward or math.isclose(got["reverse_kl"], forward,
                                                           rel_tol=1e-6):
            hints["reverse_kl"] = ("you computed KL(uniform || p); the reverse KL is "
                                   "KL(p || uniform) = sum p log(K p)")
    else:
        hints["reverse_kl"] = "with no high-quality sample the histogram is empty: return inf"
    return hints


# ----------------------------------------------------------------------------- meta-test variants


def _gen_sequential(z_dim, hidden, out_dim=2):
    sizes = [z_dim, *hidden]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], out_dim))


def _gen_reference(z_dim, hidden, out_dim=2):
    return MLPGenerator(z_dim, out_dim, hidden, activation="leaky_relu")


def _gen_tanh_out(z_dim, hidden, out_dim=2):
    return nn.Sequential(_gen_sequential(z_dim, hidden, out_dim), nn.Tanh())


def _gen_linear_only(z_dim, hidden, out_dim=2):
    sizes = [z_dim, *hidden, out_dim]
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)])


def _gen_missing_layer(z_dim, hidden, out_dim=2):
    return nn.Sequential(nn.Linear(z_dim, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], out_dim))


def _gen_no_bias(z_dim, hidden, out_dim=2):
    sizes = [z_dim, *hidden]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b, bias=False), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], out_dim, bias=False))


class _Squeeze(nn.Module):
    def forward(self, x):
        return x.squeeze(1)


def _disc_sequential(in_dim, hidden):
    sizes = [in_dim, *hidden]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 1), _Squeeze())


def _disc_reference(in_dim, hidden):
    return MLPDiscriminator(in_dim, hidden)


def _disc_unsqueezed(in_dim, hidden):
    return _disc_sequential(in_dim, hidden)[:-1]


def _disc_sigmoid(in_dim, hidden):
    return nn.Sequential(_disc_sequential(in_dim, hidden), nn.Sigmoid())


def _disc_linear_only(in_dim, hidden):
    sizes = [in_dim, *hidden, 1]
    layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return nn.Sequential(*layers, _Squeeze())


def _d_step_bce(generator, discriminator, d_optimizer, real, z):
    with torch.no_grad():
        fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _make_d_step(detach: bool = True, zero_grad: bool = True, swapped: bool = False,
                 ascent: bool = False) -> Callable[..., float]:
    """A d_step with one of the foreseen mistakes switched on."""
    def d_step(generator, discriminator, d_optimizer, real, z):
        fake = generator(z).detach() if detach else generator(z)
        sign = -1.0 if swapped else 1.0
        loss = (F.softplus(-sign * discriminator(real)).mean()
                + F.softplus(sign * discriminator(fake)).mean())
        if zero_grad:
            d_optimizer.zero_grad()
        (-loss if ascent else loss).backward()
        d_optimizer.step()
        return loss.item()
    return d_step


def _d_step_concat_mean(generator, discriminator, d_optimizer, real, z):
    fake = generator(z).detach()
    logits = discriminator(torch.cat([real, fake]))
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _g_step_logsigmoid(generator, discriminator, g_optimizer, z):
    loss = -F.logsigmoid(discriminator(generator(z))).mean()
    g_optimizer.zero_grad()
    loss.backward()
    g_optimizer.step()
    return loss.item()


def _make_g_step(saturating: bool = False, detach: bool = False, zero_grad: bool = True,
                 ascent: bool = False) -> Callable[..., float]:
    """A g_step with one of the foreseen mistakes switched on."""
    def g_step(generator, discriminator, g_optimizer, z):
        fake = generator(z).detach() if detach else generator(z)
        logits = discriminator(fake)
        loss = -F.softplus(logits).mean() if saturating else F.softplus(-logits).mean()
        if zero_grad:
            g_optimizer.zero_grad()
        if loss.requires_grad:
            (-loss if ascent else loss).backward()
        g_optimizer.step()
        return loss.item()
    return g_step


def _coverage_numpy(samples, means, std):
    import numpy as np

    x, m = np.asarray(samples, dtype=np.float64), np.asarray(means, dtype=np.float64)
    d = np.sqrt(((x[:, None, :] - m[None]) ** 2).sum(-1))
    nearest = d.argmin(1)
    hq = d[np.arange(len(x)), nearest] <= 3 * std
    counts = np.bincount(nearest[hq], minlength=len(m))
    if counts.sum() == 0:
        kl = float("inf")
    else:
        p = counts[counts > 0] / counts.sum()
        kl = float((p * np.log(p * len(m))).sum())
    return {"modes": int((counts > 0).sum()), "high_quality": float(hq.mean()), "reverse_kl": kl}


def _coverage_torch(samples, means, std):
    distance, nearest = torch.cdist(samples, means).min(dim=1)
    hq = distance <= 3 * std
    counts = torch.bincount(nearest[hq], minlength=len(means)).double()
    if counts.sum() == 0:
        return {"modes": 0, "high_quality": 0.0, "reverse_kl": math.inf}
    p = counts / counts.sum()
    kl = torch.special.xlogy(p, p * len(means)).sum()
    return {"modes": int((counts > 0).sum()), "high_quality": hq.float().mean().item(),
            "reverse_kl": kl.item()}


def _coverage_any_sample(samples, means, std):
    result = _coverage_torch(samples, means, std)
    result["modes"] = len(torch.unique(torch.cdist(samples, means).argmin(1)))
    return result


def _coverage_square(samples, means, std):
    nearest = torch.cdist(samples, means).argmin(1)
    hq = ((samples - means[nearest]).abs() <= 3 * std).all(1)
    counts = torch.bincount(nearest[hq], minlength=len(means)).double()
    p = counts / counts.sum().clamp(min=1)
    return {"modes": int((counts > 0).sum()), "high_quality": hq.float().mean().item(),
            "reverse_kl": torch.special.xlogy(p, p * len(means)).sum().item()}


def _coverage_forward_kl(samples, means, std):
    result = _coverage_torch(samples, means, std)
    distance, nearest = torch.cdist(samples, means).min(dim=1)
    counts = torch.bincount(nearest[distance <= 3 * std], minlength=len(means)).double()
    p = counts / counts.sum().clamp(min=1)
    result["reverse_kl"] = torch.log(1 / (len(means) * p)).mean().item()
    return result


def _coverage_all_samples_kl(samples, means, std):
    result = _coverage_torch(samples, means, std)
    counts = torch.bincount(torch.cdist(samples, means).argmin(1), minlength=len(means)).double()
    p = counts / counts.sum()
    result["reverse_kl"] = torch.special.xlogy(p, p * len(means)).sum().item()
    return result


VARIANTS = {
    "check_make_generator": Variants(
        wrong=[(_gen_tanh_out, "bounded"), (_gen_linear_only, "affine"),
               (_gen_missing_layer, "parameters"), (_gen_no_bias, "bias")],
        right=[_gen_sequential, _gen_reference]),
    "check_make_discriminator": Variants(
        wrong=[(_disc_unsqueezed, "squeeze"), (_disc_sigmoid, "sigmoid"),
               (_disc_linear_only, "affine")],
        right=[_disc_sequential, _disc_reference]),
    "check_d_step": Variants(
        wrong=[(_make_d_step(detach=False), "detach"), (_make_d_step(zero_grad=False),
                                                          "zero_grad"),
               (_make_d_step(swapped=True), "swapped"), (_make_d_step(ascent=True), "uphill"),
               (_d_step_concat_mean, "half the loss")],
        right=[reference_d_step, _d_step_bce]),
    "check_g_step": Variants(
        wrong=[(_make_g_step(saturating=True), "saturating"),
               (_make_g_step(detach=True), "detach"),
               (_make_g_step(zero_grad=False), "zero_grad"), (_make_g_step(ascent=True), "uphill")],
        right=[reference_g_step, _g_step_logsigmoid]),
    "check_mode_coverage": Variants(
        wrong=[(_coverage_any_sample, "low-quality"), (_coverage_square, "square"),
               (_coverage_forward_kl, "KL(uniform"), (_coverage_all_samples_kl, "high-quality")],
        right=[reference_coverage, _coverage_numpy, _coverage_torch]),
}

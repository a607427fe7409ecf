"""Checks for the minimax exercises (``exercises/01_minimax_objective.ipynb``).

Lesson: 01 The minimax objective, derived (exercises 1.1 value function, 1.2 optimal
discriminator, 1.3 Jensen-Shannon divergence, 1.4 non-saturating generator loss,
1.5 discriminator loss).

References are the functions of :mod:`mmgan_ref.objectives`; the JSD is also compared
with SciPy's ``jensenshannon`` (a distance: its square is the divergence).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon as scipy_js_distance

from mmgan_ref import objectives as ref
from mmgan_ref.checks._framework import Check, Variants, seeded_randn

F64 = torch.float64
EXTREME_LOGITS = (-200.0, -30.0, 0.0, 30.0, 200.0)  # sigmoid(-200) underflows in float32
PROBABILITY_HINT = ("do not go through probabilities: torch.log(torch.sigmoid(l)) underflows to "
                    "log(0) = -inf for very negative logits (and F.binary_cross_entropy clamps "
                    "it at -100); -log sigmoid(l) = softplus(-l): use F.softplus, F.logsigmoid "
                    "or F.binary_cross_entropy_with_logits")


def _normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def _grid(seed: int) -> tuple[torch.Tensor, float, torch.Tensor, torch.Tensor]:
    """x (801,), dx, p_data = N(0, 1) and p_g = N(mu, sigma^2) with seeded mu, sigma."""
    x = torch.linspace(-10.0, 10.0, 801, dtype=F64)
    mu, spread = seeded_randn(seed, 2, dtype=F64).tolist()
    p_g = _normal_pdf(x, max(-2.0, min(2.0, mu)), 0.5 + min(abs(spread), 1.5))
    return x, float(x[1] - x[0]), _normal_pdf(x, 0.0, 1.0), p_g


def _distribution(seed: int, size: int) -> torch.Tensor:
    return torch.softmax(1.5 * seeded_randn(seed, size, dtype=F64), dim=0)


def _disjoint() -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=F64),
            torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=F64))


def check_value_function(value_function: Callable[..., torch.Tensor], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 1.1: ``value_function(d, p_data, p_g, dx)`` integrates V(D, G) on a grid."""
    c = Check("1.1", "value_function", quiet=quiet)
    x, dx, p_data, p_g = _grid(seed)
    w0, w1, w2 = (0.5 * seeded_randn(seed + 1, 3, dtype=F64)).tolist()
    d = torch.sigmoid(w0 + w1 * x - abs(w2) * x**2 / 4)  # D(x) in (0, 1) on the whole grid
    what = "value_function(d, p_data, p_g, dx) on a grid of 801 points"
    out = c.call_no_inplace(value_function, d, p_data, p_g, dx)
    c.assert_close(out, ref.value_function(d, p_data, p_g, dx), what, mistakes={
        "forgot to multiply the sum by dx (a Riemann sum needs the grid step)":
            lambda: ref.value_function(d, p_data, p_g),
        "averaged over the grid points instead of summing times dx":
            lambda: ref.value_function(d, p_data, p_g) / len(x),
        "used log D(x) for the generator's samples; the fake term is p_g log(1 - D)":
            lambda: (p_data * d.log() + p_g * d.log()).sum() * dx,
        "swapped the roles: p_data log(1 - D) + p_g log D":
            lambda: ref.value_function(1 - d, p_data, p_g, dx),
        "the sign is flipped: V is a sum of log-probabilities, always <= 0":
            lambda: -ref.value_function(d, p_data, p_g, dx)})

    p, q_ = _distribution(seed + 2, 6), _distribution(seed + 3, 6)
    d = torch.sigmoid(seeded_randn(seed + 4, 6, dtype=F64))
    c.assert_close(c.call(value_function, d, p, q_, 1.0), ref.value_function(d, p, q_, 1.0),
                   "value_function(d, p, q, dx=1.0) for discrete distributions")

    p, q_ = _disjoint()
    perfect = ref.optimal_discriminator(p, q_)  # 1 where only data, 0 where only fakes
    c.assert_close(c.call(value_function, perfect, p, q_, 1.0), torch.zeros((), dtype=F64),
                   "value_function for a perfect discriminator (D = 1 or 0) on disjoint "
                   "supports", hint="0 * log 0 counts as 0: use torch.special.xlogy(p, d) "
                   "instead of p * torch.log(d), which gives 0 * -inf = nan")
    c.passed("value_function matches the reference (grid, discrete, perfect discriminator)")


def check_optimal_discriminator(optimal_discriminator: Callable[..., torch.Tensor],
                                seed: int = 0, quiet: bool = False) -> None:
    """Exercise 1.2: ``optimal_discriminator(p_data, p_g)`` = p_data / (p_data + p_g)."""
    c = Check("1.2", "optimal_discriminator", quiet=quiet)
    _, _, p_data, p_g = _grid(seed)
    what = "optimal_discriminator(p_data, p_g) on a grid"
    out = c.call_no_inplace(optimal_discriminator, p_data, p_g)
    expected = ref.optimal_discriminator(p_data, p_g)
    c.assert_close(out, expected, what, atol=1e-7, mistakes={
        "swapped p_data and p_g: D* is the probability that x is REAL":
            lambda: ref.optimal_discriminator(p_g, p_data),
        "returned the ratio p_data / p_g instead of p_data / (p_data + p_g)":
            lambda: p_data / p_g})

    p, q = _distribution(seed + 1, 12).view(3, 4), _distribution(seed + 2, 12).view(3, 4)
    c.assert_close(c.call(optimal_discriminator, p, q), ref.optimal_discriminator(p, q),
                   "optimal_discriminator(p, q) for p, q of shape (3, 4)",
                   hint="work elementwise and keep the input's shape: no sums, no flattening")

    p = torch.tensor([0.0, 0.3, 0.0, 0.7], dtype=F64)
    q = torch.tensor([0.0, 0.0, 0.6, 0.4], dtype=F64)
    c.assert_close(c.call(optimal_discriminator, p, q), ref.optimal_discriminator(p, q),
                   "optimal_discriminator where p_data = p_g = 0 (first entry)",
                   hint="0 / 0 is nan: return 1/2 where both densities are 0 (torch.where), "
                        "the value D* takes wherever p_data = p_g")
    c.passed("optimal_discriminator matches p_data / (p_data + p_g), with 1/2 where both are 0")


def _jsd_mistakes(p: torch.Tensor, q: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    m = (p + q) / 2

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (torch.special.xlogy(a, a) - torch.special.xlogy(a, b)).sum()

    jsd = ref.jensen_shannon(p, q)
    return {"used log base 2 (bits); the course works in nats, the natural log":
            lambda: jsd / math.log(2),
            "forgot the factor 1/2: JSD = (KL(p || m) + KL(q || m)) / 2": lambda: 2 * jsd,
            "the KL direction is reversed: use KL(p || m) and KL(q || m), not KL(m || p)":
            lambda: (kl(m, p) + kl(m, q)) / 2,
            "returned the Jensen-Shannon distance (a square root, as scipy's jensenshannon "
            "does); the divergence is its square": lambda: jsd.sqrt(),
            "computed KL(p || q) instead of the JSD": lambda: kl(p, q)}


def check_jensen_shannon(jensen_shannon: Callable[..., torch.Tensor], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 1.3: ``jensen_shannon(p, q)`` in nats for discrete distributions (K,)."""
    c = Check("1.3", "jensen_shannon", quiet=quiet)
    for index, size in enumerate((5, 12)):
        p, q = _distribution(seed + 2 * index, size), _distribution(seed + 2 * index + 1, size)
        what = f"jensen_shannon(p, q) for distributions of {size} values"
        out = c.call_no_inplace(jensen_shannon, p, q)
        scipy_value = torch.tensor(scipy_js_distance(p.numpy(), q.numpy()) ** 2, dtype=F64)
        c.assert_close(out, scipy_value, what, mistakes=_jsd_mistakes(p, q))
        c.assert_close(c.call(jensen_shannon, q, p), out.detach().double(),
                       "jensen_shannon(q, p) vs jensen_shannon(p, q)", hint="JSD is symmetric")
        c.assert_close(c.call(jensen_shannon, p, p), torch.zeros((), dtype=F64),
                       "jensen_shannon(p, p)", hint="a distribution is at divergence 0 "
                                                    "from itself")
        value_at_d_star = ref.value_function(ref.optimal_discriminator(p, q), p, q)
        c.assert_close(-math.log(4) + 2 * out.detach().double(), value_at_d_star,
                       "-log 4 + 2 * jensen_shannon(p, q) vs V(D*, G)")

    p, q = _disjoint()
    c.assert_close(c.call(jensen_shannon, p, q), torch.tensor(math.log(2), dtype=F64),
                   "jensen_shannon(p, q) for p, q with disjoint supports (expected log 2)",
                   hint="0 * log 0 counts as 0: use torch.special.xlogy(p, p / m) or mask "
                        "the zeros; p * torch.log(p / m) gives 0 * -inf = nan")
    c.passed("jensen_shannon matches SciPy and the reference (values in nats, symmetry, zeros, "
             "V(D*, G) = -log 4 + 2 JSD)")


def _check_grad(c: Check, loss_fn: Callable[..., torch.Tensor], logits: list[torch.Tensor],
                reference: Callable[..., torch.Tensor], what: str) -> None:
    """The gradients of the student's loss w.r.t. every logits tensor match the reference's."""
    leaves = [t.detach().clone().requires_grad_(True) for t in logits]
    out = c.expect_tensor(c.call(loss_fn, *leaves), what)
    if not out.requires_grad:
        c.fail(f"{what} is cut from the autograd graph: no gradient reaches the logits",
               hint="stay in torch: no .item(), .numpy(), .detach() or torch.tensor(...)")
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    wanted = torch.autograd.grad(reference(*leaves), leaves)
    for index, (grad, ref_grad) in enumerate(zip(grads, wanted, strict=True)):
        if grad is None:
            c.fail(f"no gradient reaches argument {index + 1} of {what}",
                   hint="do not detach the logits inside the loss: both networks learn from it")
        c.assert_close(grad, ref_grad, f"the gradient of {what} w.r.t. argument {index + 1}",
                       rtol=1e-4, atol=1e-6, hint=PROBABILITY_HINT
                       if not torch.isfinite(grad).all() else None)


def _generator_mistakes(logits: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    return {
        "used the saturating loss log(1 - D(G(z))), the one the non-saturating loss replaces":
            lambda: ref.g_loss_saturating(logits),
        "the minus sign is wrong: G minimises -log D(G(z))":
            lambda: -ref.g_loss_nonsaturating(logits),
        "summed over the batch instead of taking the mean": lambda: F.softplus(-logits).sum(),
        "computed -log(1 - D(G(z))), the discriminator's fake term: G wants D(G(z)) high":
            lambda: F.softplus(logits).mean()}


def check_generator_loss(generator_loss: Callable[..., torch.Tensor], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 1.4: ``generator_loss(fake_logits)`` = -mean log sigmoid(l), stably."""
    c = Check("1.4", "generator_loss", quiet=quiet)
    for shape in ((16, 1), (9,)):
        logits = 3.0 * seeded_randn(seed, *shape)
        what = f"generator_loss(fake_logits) for logits of shape {shape}"
        out = c.call_no_inplace(generator_loss, logits)
        c.assert_close(out, ref.g_loss_nonsaturating(logits), what,
                       mistakes=_generator_mistakes(logits))

    logits = torch.tensor(EXTREME_LOGITS)
    c.assert_close(c.call(generator_loss, logits), ref.g_loss_nonsaturating(logits),
                   f"generator_loss(fake_logits) for extreme logits {list(EXTREME_LOGITS)}",
                   hint=PROBABILITY_HINT)
    for values in (3.0 * seeded_randn(seed + 1, 8, 1), logits):
        _check_grad(c, generator_loss, [values], ref.g_loss_nonsaturating, "generator_loss")
    c.passed("generator_loss matches the non-saturating loss (values, gradients, extreme "
             "logits)")


def check_discriminator_loss(discriminator_loss: Callable[..., torch.Tensor], seed: int = 0,
                             quiet: bool = False) -> None:
    """Exercise 1.5: ``discriminator_loss(real_logits, fake_logits)`` on logits, stably."""
    c = Check("1.5", "discriminator_loss", quiet=quiet)
    real, fake = 3.0 * seeded_randn(seed, 12, 1), 3.0 * seeded_randn(seed + 1, 7, 1)
    what = "discriminator_loss(real_logits, fake_logits) for 12 real and 7 fake logits"
    out = c.call_no_inplace(discriminator_loss, real, fake)

    def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

    c.assert_close(out, ref.d_loss_minimax(real, fake), what, mistakes={
        "swapped the labels: real logits should be pushed up (target 1), fake down (target 0)":
            lambda: ref.d_loss_minimax(-real, -fake),
        "divided the sum of the two terms by 2": lambda: ref.d_loss_minimax(real, fake) / 2,
        "averaged over real and fake logits concatenated: take the mean of each term, then "
        "add": lambda: F.binary_cross_entropy_with_logits(
            torch.cat([real, fake]), torch.cat([torch.ones_like(real), torch.zeros_like(fake)])),
        "left out the fake term E[-log(1 - D(G(z)))]": lambda: bce(real, 1.0),
        "left out the real term E[-log D(x)]": lambda: bce(fake, 0.0),
        "the sign is flipped: this is a loss to minimise, -V": lambda: -ref.d_loss_minimax(
            real, fake)})

    real_x = fake_x = torch.tensor(EXTREME_LOGITS)  # D(x) = 0 on real and D = 1 on fake too
    c.assert_close(c.call(discriminator_loss, real_x, fake_x), ref.d_loss_minimax(real_x, fake_x),
                   f"discriminator_loss for extreme logits {list(EXTREME_LOGITS)}",
                   hint=PROBABILITY_HINT)
    _check_grad(c, discriminator_loss, [real, fake], ref.d_loss_minimax, "discriminator_loss")
    c.passed("discriminator_loss matches the reference (values, gradients to both inputs, "
             "extreme logits)")


# ----------------------------------------------------------------------------- meta-test variants

_xlogy = torch.special.xlogy
_bce = F.binary_cross_entropy_with_logits


def _v_masked(d, p_data, p_g, dx):
    real = torch.where(p_data > 0, p_data * torch.log(d.clamp_min(1e-300)), 0.0)
    fake = torch.where(p_g > 0, p_g * torch.log((1 - d).clamp_min(1e-300)), 0.0)
    return dx * torch.sum(real + fake)


def _d_where(p_data, p_g):
    total = p_data + p_g
    return torch.where(total > 0, p_data / total, torch.full_like(total, 0.5))


def _jsd_xlogy(p, q):
    m = (p + q) / 2
    return 0.5 * (_xlogy(p, p / m).sum() + _xlogy(q, q / m).sum())


def _jsd_entropy(p, q):  # H(m) - (H(p) + H(q)) / 2
    def entropy(a):
        return -_xlogy(a, a).sum()

    return entropy((p + q) / 2) - (entropy(p) + entropy(q)) / 2


def _jsd_naive(p, q):
    m = (p + q) / 2
    return 0.5 * ((p * torch.log(p / m)).sum() + (q * torch.log(q / m)).sum())


def _jsd_kl_reversed(p, q):
    m = (p + q) / 2
    return 0.5 * (_xlogy(m, m / p).sum() + _xlogy(m, m / q).sum())


def _d_loss_softplus(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def _d_loss_concatenated(real_logits, fake_logits):
    targets = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])
    return _bce(torch.cat([real_logits, fake_logits]), targets)


VARIANTS = {
    "check_value_function": Variants(
        wrong=[(lambda d, p, q, dx: (p * torch.log(d) + q * torch.log(1 - d)).sum() * dx, "xlogy"),
               (lambda d, p, q, dx: (_xlogy(p, d) + _xlogy(q, 1 - d)).sum(), "dx"),
               (lambda d, p, q, dx: (_xlogy(p, d) + _xlogy(q, d)).sum() * dx, "1 - D")],
        right=[lambda d, p, q, dx: (_xlogy(p, d) + _xlogy(q, 1 - d)).sum() * dx, _v_masked]),
    "check_optimal_discriminator": Variants(
        wrong=[(lambda p, q: p / (p + q), "1/2 where both"),
               (lambda p, q: _d_where(q, p), "swapped"), (lambda p, q: p / q, "ratio")],
        right=[_d_where, lambda p, q: torch.nan_to_num(p / (p + q), nan=0.5)]),
    "check_jensen_shannon": Variants(
        wrong=[(lambda p, q: _jsd_xlogy(p, q) / math.log(2), "base 2"),
               (lambda p, q: 2 * _jsd_xlogy(p, q), "1/2"), (_jsd_kl_reversed, "direction"),
               (_jsd_naive, "xlogy")],
        right=[_jsd_xlogy, _jsd_entropy,
               lambda p, q: torch.as_tensor(scipy_js_distance(p.numpy(), q.numpy()) ** 2)]),
    "check_generator_loss": Variants(
        wrong=[(lambda logits: -torch.log(torch.sigmoid(logits)).mean(), "probabilities"),
               (lambda logits: F.binary_cross_entropy(torch.sigmoid(logits),
                                                      torch.ones_like(logits)), "probabilities"),
               (lambda logits: -F.softplus(logits).mean(), "saturating"),
               (lambda logits: F.logsigmoid(logits).mean(), "minus sign")],
        right=[lambda logits: F.softplus(-logits).mean(),
               lambda logits: -F.logsigmoid(logits).mean(),
               lambda logits: _bce(logits, torch.ones_like(logits))]),
    "check_discriminator_loss": Variants(
        wrong=[(lambda r, f: -(torch.log(torch.sigmoid(r)).mean()
                               + torch.log(1 - torch.sigmoid(f)).mean()), "probabilities"),
               (lambda r, f: _d_loss_softplus(f, r), "swapped"),
               (lambda r, f: _d_loss_softplus(r, f) / 2, "by 2"),
               (_d_loss_concatenated, "concatenated"),
               (lambda r, f: _d_loss_softplus(r, f.detach()), "argument 2")],
        right=[_d_loss_softplus,
               lambda r, f: _bce(r, torch.ones_like(r)) + _bce(f, torch.zeros_like(f)),
               lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean())]),
}

"""Checks for the exercises of lesson 09 (``exercises/09_reading_gan_code_critically.ipynb``).

Lesson: 09 Reading GAN code critically (exercise 9.1 ``Discriminator``, 9.2
``discriminator_loss``, 9.3 ``d_step``, 9.4 ``encoder_loss``).

Each exercise repairs one bug of the blog's multimodal-GAN snippet, and each check runs the
repaired piece and measures its behaviour: sizes taken from the constructor, logits read as
logits by the loss, finite losses over a short run, no gradient reaching G during D's step,
and an encoder objective that aligns paired codes and separates unpaired ones.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.objectives import d_loss_minimax as reference_loss
from mmgan_ref.objectives import info_nce

_SIZES = ((5, 16), (11, 32))  # (input_size, hidden_size): unlike any global a student has
_SCALE = 100.0  # inputs this many times larger must not silence D's input gradient
_HINT_ARGS = ("take every size from the constructor's arguments (the snippet read undefined "
              "globals input_size, hidden_size)")


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny networks train several times faster on one thread; the setting is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _single_threaded(check: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        with _one_thread():
            check(*args, **kwargs)
    return wrapper


def _build(c: Check, cls: Any, input_size: int, hidden_size: int, seed: int) -> nn.Module:
    with torch.random.fork_rng():  # seeded weights, the caller's random state untouched
        torch.manual_seed(seed)
        net = c.call(cls, input_size, hidden_size)
    if not isinstance(net, nn.Module):
        c.fail(f"Discriminator({input_size}, {hidden_size}) should be an nn.Module",
               got=type(net).__name__, hint="subclass nn.Module and call super().__init__()")
    return net


def _forward(c: Check, net: nn.Module, x: torch.Tensor, what: str) -> torch.Tensor:
    try:
        out = c.call(net, x)
    except AssertionError as err:
        if "not done yet" in str(err):
            raise
        c.fail(f"{what} failed: {err}", hint=_HINT_ARGS)
    out = c.expect_tensor(out, what)
    c.expect_shape(out, (x.shape[0], 1), what,
                   hint="return (B, 1) logits: a last nn.Linear(hidden_size, 1), no squeeze")
    return out


@_single_threaded
def check_discriminator(discriminator_cls: Any, seed: int = 0, quiet: bool = False) -> None:
    """Exercise 9.1: ``Discriminator(input_size, hidden_size)`` maps (B, input_size) to logits.

    Builds it with sizes no global could supply, checks the (B, 1) shape and that
    ``hidden_size`` is used, trains it briefly with the logit loss (finite, separates,
    leaves (0, 1)), and checks that inputs 100 times larger keep its input gradient alive.
    """
    c = Check("9.1", "Discriminator", quiet=quiet)
    nets = {}
    for input_size, hidden_size in _SIZES:
        net = _build(c, discriminator_cls, input_size, hidden_size, seed)
        x = seeded_randn(seed, 8, input_size)
        _forward(c, net, x, f"Discriminator({input_size}, {hidden_size}) on x of shape (8, "
                            f"{input_size})")
        nets[input_size] = net
    narrow, wide = (_build(c, discriminator_cls, 5, h, seed) for h in (16, 32))
    if sum(p.numel() for p in narrow.parameters()) == sum(p.numel() for p in wide.parameters()):
        c.fail("hidden_size is not used: Discriminator(5, 16) and Discriminator(5, 32) have the "
               "same number of parameters", hint=_HINT_ARGS)

    net = nets[5]
    real = seeded_randn(seed + 1, 256, 5) + 1.5
    fake = seeded_randn(seed + 2, 256, 5) - 1.5
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(120):
        real_out, fake_out = net(real), net(fake)
        loss = reference_loss(real_out, fake_out)
        if not torch.isfinite(loss):
            c.fail(f"the logit loss became {loss.item()} at step {step} of a short run",
                   hint="D must output finite logits")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        real_out, fake_out = net(real), net(fake)
    outputs = torch.cat([real_out, fake_out])
    if bool(((outputs >= 0) & (outputs <= 1)).all()):
        c.fail("after training towards confident answers, every output is still inside [0, 1]: "
               "D ends with a sigmoid, but its loss reads logits",
               expected="logits: large positive for real, large negative for fake",
               got=f"outputs in [{outputs.min().item():.3f}, {outputs.max().item():.3f}]",
               hint="drop the output sigmoid: the loss applies it (softplus / BCE with logits)")
    accuracy = ((real_out > 0).float().mean() + (fake_out < 0).float().mean()).item() / 2
    if accuracy < 0.95 or real_out.mean() < 2 or fake_out.mean() > -2:
        c.fail("D did not learn to separate two well-separated Gaussians in 120 Adam steps",
               expected="accuracy >= 95 % and mean logits beyond +-2",
               got=f"accuracy {accuracy:.0%}, mean logits {real_out.mean().item():.2f} (real), "
                   f"{fake_out.mean().item():.2f} (fake)")

    fresh = _build(c, discriminator_cls, 5, 16, seed)
    x = seeded_randn(seed + 3, 64, 5)
    norms = []
    for scale in (1.0, _SCALE):
        point = (scale * x).requires_grad_(True)
        (grad,) = torch.autograd.grad(fresh(point).sum(), point, allow_unused=True)
        norms.append(0.0 if grad is None else grad.norm(dim=1).mean().item())
    if norms[0] == 0:
        c.fail("D's output does not depend on its input (zero input gradient)")
    if norms[1] < 0.3 * norms[0]:
        c.fail(f"D's gradient with respect to its input almost vanishes for inputs {_SCALE:g} "
               "times larger: a saturating hidden activation (sigmoid, tanh)",
               expected="an input gradient of similar size (G learns through it)",
               got=f"{norms[1] / norms[0]:.2g} times the gradient at the original inputs",
               hint="use nn.LeakyReLU(0.2) (or nn.ReLU) between the layers, as in DCGAN")
    c.passed("Discriminator takes its sizes as arguments and outputs logits that train "
             "with the logit loss, without saturating")


def _loss_mistakes(real: torch.Tensor, fake: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    r, f = real.detach(), fake.detach()
    return {
        "the logits were read as probabilities (log of numbers outside (0, 1)), as in the "
        "snippet": lambda: -torch.mean(torch.log(r) + torch.log(1 - f)),
        "real and fake are swapped": lambda: reference_loss(f, r),
        "the minus sign is missing": lambda: -reference_loss(r, f),
        "summed over the batch instead of averaging":
            lambda: F.softplus(-r).sum() + F.softplus(f).sum(),
        "log(sigmoid(x)) was clamped (F.binary_cross_entropy on probabilities clamps log at "
        "-100)": lambda: (F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r))
                          + F.binary_cross_entropy(torch.sigmoid(f), torch.zeros_like(f))),
    }


def check_discriminator_loss(discriminator_loss: Callable[..., torch.Tensor], seed: int = 0,
                             quiet: bool = False) -> None:
    """Exercise 9.2: ``discriminator_loss(real_logits, fake_logits)`` on logits, stably.

    -mean log sigmoid(real) - mean log(1 - sigmoid(fake)): values on seeded (B, 1) and (B,)
    logits, finite and exact at logits of +-200, gradients, inputs left unchanged.
    """
    c = Check("9.2", "discriminator_loss", quiet=quiet)
    cases = [(3 * seeded_randn(seed, 16, 1), 3 * seeded_randn(seed + 1, 16, 1)),
             (seeded_randn(seed + 2, 7), seeded_randn(seed + 3, 7) - 1)]
    extreme = torch.tensor([-200.0, -40.0, 0.0, 40.0, 200.0])
    cases.append((extreme, extreme.flip(0)))
    for real, fake in cases:
        what = f"discriminator_loss for logits of shape {tuple(real.shape)}"
        if real.abs().max() > 100:
            what = "discriminator_loss at extreme logits (+-200, +-40, 0)"
        out = c.expect_tensor(c.call_no_inplace(discriminator_loss, real, fake), what)
        c.expect_shape(out, (), what, hint="average over the batch: return a scalar")
        c.assert_close(out, reference_loss(real, fake), what, mistakes=_loss_mistakes(real, fake),
                       hint="use F.softplus(-real).mean() + F.softplus(fake).mean(), or "
                            "F.logsigmoid, or F.binary_cross_entropy_with_logits: log(sigmoid(x)) "
                            "rounds sigmoid(-200) to 0 and log(0) = -inf")

    real = (2 * seeded_randn(seed + 4, 12, 1)).requires_grad_(True)
    fake = (2 * seeded_randn(seed + 5, 12, 1)).requires_grad_(True)
    out = c.expect_tensor(c.call(discriminator_loss, real, fake), "discriminator_loss")
    if not out.requires_grad:
        c.fail("no gradient reaches the logits: the result is cut from the autograd graph",
               hint="avoid .detach(), .item() and torch.no_grad() inside the loss")
    grads = torch.autograd.grad(out, (real, fake))
    reference = torch.autograd.grad(reference_loss(real, fake), (real, fake))
    for grad, ref, name in zip(grads, reference, ("real", "fake"), strict=True):
        c.assert_close(grad, ref, f"the gradient with respect to the {name} logits")
    c.passed("discriminator_loss reads logits, stays exact at extreme logits, right gradients")


def _check_nets(seed: int) -> tuple[nn.Module, nn.Module]:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 3))
        discriminator = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return generator, discriminator


def _params(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _grads(net: nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.clone() for p in net.parameters()]


def _same(a: list[torch.Tensor | None], b: list[torch.Tensor | None]) -> bool:
    return all((x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
               for x, y in zip(a, b, strict=True))


@_single_threaded
def check_d_step(d_step: Callable[..., Any], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 9.3: ``d_step(generator, discriminator, d_optimizer, real, noise)``.

    One SGD step is compared with the reference update (loss value, new D weights); G must
    get no gradient and stay unchanged; a stale gradient left in D must not leak into the
    step; then a short run alternating with a G step must keep every loss finite.
    """
    c = Check("9.3", "d_step", quiet=quiet)
    generator, discriminator = _check_nets(seed)
    real, noise = seeded_randn(seed, 32, 3) + 1.0, seeded_randn(seed + 1, 32, 4)
    lr = 0.1
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=lr)
    for p in discriminator.parameters():
        p.grad = torch.ones_like(p)  # a stale gradient from an earlier backward
    ref_d = copy.deepcopy(discriminator)
    ref_loss = reference_loss(ref_d(real), ref_d(generator(noise).detach()))
    ref_grads = torch.autograd.grad(ref_loss, list(ref_d.parameters()))
    d_before, g_before = _params(discriminator), _params(generator)

    out = c.call(d_step, generator, discriminator, d_optimizer, real, noise)
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    if not isinstance(out, float):
        c.fail("d_step should return the loss as a Python float", got=type(out).__name__,
               hint="return loss.item()")
    c.assert_close(torch.tensor(out), ref_loss.detach(), "the loss d_step returned",
                   mistakes={k: v for k, v in _loss_mistakes(ref_d(real), ref_d(
                       generator(noise))).items() if "clamped" not in k})
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in generator.parameters()):
        c.fail("a gradient reached the generator during D's step",
               expected="no .grad on G's parameters", got="non-zero gradients in G",
               hint="detach the fake batch: generator(noise).detach(), or make it under "
                    "torch.no_grad()")
    if not all(p.requires_grad for p in generator.parameters()):
        c.fail("d_step left the generator frozen (requires_grad=False)",
               hint="detach the fake batch instead of switching G's gradients off")
    if not all(torch.equal(a, b) for a, b in zip(_params(generator), g_before, strict=True)):
        c.fail("d_step changed the generator's weights", hint="only d_optimizer steps here")
    after = _params(discriminator)
    if all(torch.equal(a, b) for a, b in zip(after, d_before, strict=True)):
        c.fail("the discriminator did not change", hint="call d_optimizer.step() after backward")
    expected = [p - lr * g for p, g in zip(d_before, ref_grads, strict=True)]
    stale = [p - lr * (g + 1) for p, g in zip(d_before, ref_grads, strict=True)]
    if all(torch.allclose(a, s, atol=1e-6) for a, s in zip(after, stale, strict=True)):
        c.fail("the stale gradient already in D's .grad was added to this step's gradient",
               hint="call d_optimizer.zero_grad() right before loss.backward()")
    for a, e in zip(after, expected, strict=True):
        c.assert_close(a, e, "D's weights after one SGD step (lr 0.1)",
                       hint="one backward of the loss, one d_optimizer.step()")

    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-2)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=1e-2)
    for step in range(30):
        real = seeded_randn(seed + 10 + step, 32, 3) + 1.0
        noise = seeded_randn(seed + 50 + step, 32, 4)
        g_grads = _grads(generator)
        loss = c.call(d_step, generator, discriminator, d_optimizer, real, noise)
        loss = float(loss.item() if isinstance(loss, torch.Tensor) else loss)
        if not math.isfinite(loss):
            c.fail(f"the loss became {loss} at step {step} of a short run")
        if not _same(g_grads, _grads(generator)):
            c.fail(f"G's gradients changed during D's step (step {step} of a short run)",
                   hint="detach the fake batch")
        g_loss = F.softplus(-discriminator(generator(noise))).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
    c.passed("d_step updates D exactly once from a fresh gradient, G untouched, finite losses")


def _pairs(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired views of n items: two noisy linear maps of one shared 8-dim latent."""
    latent = seeded_randn(seed, n, 8)
    image = latent @ seeded_randn(seed + 1, 8, 12) + 0.1 * seeded_randn(seed + 2, n, 12)
    text = latent @ seeded_randn(seed + 3, 8, 10) + 0.1 * seeded_randn(seed + 4, n, 10)
    return image, text


@_single_threaded
def check_encoder_loss(encoder_loss: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 9.4: ``encoder_loss(image_codes, text_codes)``, row i of each paired.

    The loss must prefer true pairs to shuffled ones, must not score a collapsed batch as
    well as aligned distinct codes, must send gradients to both inputs, and, used to train
    two small linear encoders, must align paired codes and separate unpaired ones.
    """
    c = Check("9.4", "encoder_loss", quiet=quiet)
    a = F.normalize(seeded_randn(seed, 32, 16), dim=1).requires_grad_(True)
    b = F.normalize(a.detach() + 0.1 * seeded_randn(seed + 1, 32, 16), dim=1).requires_grad_(True)
    what = "encoder_loss(image_codes, text_codes) for codes of shape (32, 16)"
    aligned = c.expect_tensor(c.call_no_inplace(encoder_loss, a, b), what)
    c.expect_shape(aligned, (), what, hint="average over the batch: return a scalar")
    if not torch.isfinite(aligned):
        c.fail(f"{what} is not finite", got=str(aligned.item()))
    x, y = (seeded_randn(seed + k, 32, 16).requires_grad_(True) for k in (2, 3))  # unrelated
    unrelated = c.expect_tensor(c.call(encoder_loss, x, y), what)
    grads = torch.autograd.grad(unrelated, (x, y), allow_unused=True)
    for grad, name in zip(grads, ("image", "text"), strict=True):
        if grad is None or grad.abs().sum() == 0:
            c.fail(f"no gradient reaches the {name} codes", hint="keep the loss in the graph: no "
                   ".detach(), .item() or torch.no_grad(); use both inputs")
    with torch.no_grad():
        aligned = c.call(encoder_loss, a, b).item()
        shuffled = c.call(encoder_loss, a, b.roll(1, dims=0)).item()
        one = a[:1].expand(32, -1).clone()
        collapsed = c.call(encoder_loss, one, one.clone()).item()
    if not shuffled > aligned + 1e-4:
        c.fail("the loss does not reward pairing: with the captions shuffled (row i meets "
               "another item's caption) it is no higher than for the true pairs",
               expected="loss(true pairs) < loss(shuffled pairs)",
               got=f"{aligned:.4g} (true) vs {shuffled:.4g} (shuffled)",
               hint="compare each image code with every caption code; the target is the "
                    "diagonal (cross-entropy over the similarity matrix)")
    if not collapsed > aligned + 1e-4:
        c.fail("a collapsed encoder (every code the same) scores as well as aligned, distinct "
               "codes: the loss only pulls pairs together, like the snippet's e_loss",
               expected="loss(collapsed) > loss(aligned, distinct)",
               got=f"{collapsed:.4g} (collapsed) vs {aligned:.4g} (aligned)",
               hint="add what pushes unpaired codes apart: InfoNCE, a softmax over the batch")

    image, text = _pairs(seed + 7, 320)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        towers = nn.ModuleList([nn.Linear(12, 16), nn.Linear(10, 16)])
    optimizer = torch.optim.Adam(towers.parameters(), lr=1e-2)
    for step in range(150):
        rows = torch.arange(64) + 64 * (step % 4)  # the first 256 items train
        loss = c.call(encoder_loss, towers[0](image[rows]), towers[1](text[rows]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():  # the last 64 items are held out
        image_codes, text_codes = towers[0](image[256:]), towers[1](text[256:])
        sim = F.normalize(image_codes, dim=1) @ F.normalize(text_codes, dim=1).T
    paired = sim.diagonal().mean().item()
    unpaired = sim[~torch.eye(64, dtype=torch.bool)].mean().item()
    recall = (sim.argmax(dim=1) == torch.arange(64)).float().mean().item()
    if paired - unpaired < 0.3 or recall < 0.5:
        c.fail("training two small encoders with your loss does not separate paired from "
               "unpaired codes on held-out pairs",
               expected="mean cosine paired - unpaired >= 0.3 and image->text R@1 >= 50 %",
               got=f"paired {paired:.3f}, unpaired {unpaired:.3f}, R@1 {recall:.0%}")
    c.passed("encoder_loss rewards pairing, not collapse, and trains encoders that align "
             "paired codes and separate unpaired ones")


# ----------------------------------------------------------------------------- meta-test variants


class _DReference(nn.Module):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(input_size, hidden_size), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden_size, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _DTwoHidden(nn.Module):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


class _DSpectral(_DReference):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        for i in (0, 2):
            self.net[i] = nn.utils.parametrizations.spectral_norm(self.net[i])


class _DSnippet(nn.Module):  # the blog's discriminator: sigmoid in the hidden layer
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.sigmoid(self.fc1(x)))


class _DSigmoidOut(_DReference):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))


class _DGlobalSizes(_DReference):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(64, 128)  # sizes from "globals", not from the arguments


class _DFixedHidden(_DReference):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, 128)


class _DFlat(_DReference):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def _loss_softplus(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _loss_bce(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def _loss_logsigmoid(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return -(F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean())


def _loss_snippet(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return -torch.mean(torch.log(real) + torch.log(1 - fake))


def _loss_naive(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return -torch.mean(torch.log(torch.sigmoid(real)) + torch.log(1 - torch.sigmoid(fake)))


def _loss_swapped(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return _loss_softplus(fake, real)


def _loss_no_minus(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return -_loss_softplus(real, fake)


def _loss_clamped(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (F.binary_cross_entropy(torch.sigmoid(real), torch.ones_like(real))
            + F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros_like(fake)))


def _step_detach(generator, discriminator, d_optimizer, real, noise):
    fake = generator(noise).detach()
    loss = _loss_softplus(discriminator(real), discriminator(fake))
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _step_no_grad(generator, discriminator, d_optimizer, real, noise):
    with torch.no_grad():
        fake = generator(noise)
    discriminator.zero_grad(set_to_none=False)
    loss = _loss_bce(discriminator(real), discriminator(fake))
    loss.backward()
    d_optimizer.step()
    return float(loss)


def _step_concat(generator, discriminator, d_optimizer, real, noise):
    logits = discriminator(torch.cat([real, generator(noise).detach()]))  # one forward pass
    n = real.shape[0]
    loss = F.softplus(-logits[:n]).mean() + F.softplus(logits[n:]).mean()
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _step_no_detach(generator, discriminator, d_optimizer, real, noise):
    loss = _loss_softplus(discriminator(real), discriminator(generator(noise)))
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _step_no_zero_grad(generator, discriminator, d_optimizer, real, noise):
    loss = _loss_softplus(discriminator(real), discriminator(generator(noise).detach()))
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _step_no_step(generator, discriminator, d_optimizer, real, noise):
    loss = _loss_softplus(discriminator(real), discriminator(generator(noise).detach()))
    d_optimizer.zero_grad()
    loss.backward()
    return loss.item()


def _step_snippet_loss(generator, discriminator, d_optimizer, real, noise):
    d_optimizer.zero_grad()
    loss = _loss_snippet(discriminator(real), discriminator(generator(noise).detach()))
    loss.backward()
    d_optimizer.step()
    return loss.item()


def _enc_infonce(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    return info_nce(image_codes, text_codes, temperature=0.1)


def _enc_one_way(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    logits = F.normalize(image_codes, dim=1) @ F.normalize(text_codes, dim=1).T / 0.07
    return F.cross_entropy(logits, torch.arange(len(logits)))


def _enc_triplet(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    sim = F.normalize(image_codes, dim=1) @ F.normalize(text_codes, dim=1).T  # (B, B)
    margins = F.relu(0.2 - sim.diagonal()[:, None] + sim)  # every negative, both directions
    off = ~torch.eye(len(sim), dtype=torch.bool)
    return margins[off].mean() + F.relu(0.2 - sim.diagonal()[None, :] + sim)[off].mean()


def _enc_mse(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    return ((image_codes - text_codes) ** 2).mean()


def _enc_cosine_pull(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    return (1 - F.cosine_similarity(image_codes, text_codes, dim=1)).mean()


def _enc_uniformity(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    codes = F.normalize(torch.cat([image_codes, text_codes]), dim=1)
    return torch.pdist(codes).pow(2).mul(-2).exp().mean().log()  # spreads codes, ignores pairs


def _enc_maximised(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    return -_enc_infonce(image_codes, text_codes)


def _enc_detached(image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
    return _enc_infonce(image_codes.detach(), text_codes)


VARIANTS = {
    "check_discriminator": Variants(
        wrong=[(_DSnippet, "saturating"), (_DSigmoidOut, "sigmoid"),
               (_DGlobalSizes, "arguments"), (_DFixedHidden, "hidden_size"),
               (_DFlat, "shape")],
        right=[_DReference, _DTwoHidden, _DSpectral]),
    "check_discriminator_loss": Variants(
        wrong=[(_loss_snippet, "probabilities"), (_loss_naive, "log(0)"),
               (_loss_swapped, "swapped"), (_loss_no_minus, "minus sign"),
               (_loss_clamped, "clamp")],
        right=[_loss_softplus, _loss_bce, _loss_logsigmoid]),
    "check_d_step": Variants(
        wrong=[(_step_no_detach, "reached the generator"), (_step_no_zero_grad, "zero_grad"),
               (_step_no_step, "d_optimizer.step()"), (_step_snippet_loss, "probabilities")],
        right=[_step_detach, _step_no_grad, _step_concat]),
    "check_encoder_loss": Variants(
        wrong=[(_enc_mse, "collapse"), (_enc_cosine_pull, "collapse"),
               (_enc_uniformity, "pairing"), (_enc_maximised, "pairing"),
               (_enc_detached, "no gradient")],
        right=[_enc_infonce, _enc_one_way, _enc_triplet, info_nce]),
}

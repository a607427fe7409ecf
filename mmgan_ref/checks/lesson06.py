"""Checks for the exercises of lesson 06 (``exercises/06_bigan_ali.ipynb``).

Lesson: 06 BiGAN / ALI. Exercise 6.1 ``joint_logits``, 6.2 ``bigan_d_loss``, 6.3
``ge_step``, 6.4 ``reconstruction_error``, 6.5 ``one_nn_accuracy``.

References: ``mmgan_ref.nn.discriminators.JointDiscriminator`` (the joint D),
``mmgan_ref.train.families.BiGAN`` (its ``d_loss`` and ``ge_loss``) and
``mmgan_ref.metrics.probe.knn_probe``; Donahue, Krähenbühl and Darrell (2017), "Adversarial
Feature Learning"; Dumoulin et al. (2017), "Adversarially Learned Inference".
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan_ref.checks._framework import Check, Variants, grads_reaching, seeded_randn
from mmgan_ref.nn.adapters import FlattenInput
from mmgan_ref.nn.discriminators import JointDiscriminator

X_SHAPE, Z_DIM, HIDDEN = (1, 4, 4), 3, 24  # small, and unlike the lesson's sizes
X_FEATURES = 16
LOGIT_SCALE = 6.0


def _x(seed: int, batch: int) -> torch.Tensor:
    return torch.tanh(seeded_randn(seed, batch, *X_SHAPE))


def _nets(seed: int) -> tuple[nn.Module, nn.Module, nn.Module]:
    """Seeded (discriminator(x, z), encoder(x), generator(z)) on 4x4 images and 3-d codes."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        discriminator = FlattenInput(JointDiscriminator(X_FEATURES, Z_DIM, (HIDDEN,)))
        encoder = nn.Sequential(nn.Flatten(), nn.Linear(X_FEATURES, HIDDEN), nn.LeakyReLU(0.2),
                                nn.Linear(HIDDEN, Z_DIM))
        generator = nn.Sequential(nn.Linear(Z_DIM, HIDDEN), nn.LeakyReLU(0.2),
                                  nn.Linear(HIDDEN, X_FEATURES), nn.Tanh(),
                                  nn.Unflatten(1, X_SHAPE))
        with torch.no_grad():  # logits of a few units: the losses' terms differ clearly
            discriminator.network.out.weight.mul_(LOGIT_SCALE)
    return discriminator, encoder, generator


# ----------------------------------------------------------------------------- 6.1


class _PairNet(nn.Module):
    """An MLP on rows [flattened x, z] that says so when it gets rows of another width."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = nn.Sequential(nn.Linear(X_FEATURES + Z_DIM, HIDDEN), nn.LeakyReLU(0.2),
                                     nn.Linear(HIDDEN, 1))

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        width = X_FEATURES + Z_DIM
        if rows.dim() != 2 or rows.shape[1] != width:
            alone = {X_FEATURES: " (x alone: the pair needs z too)",
                     Z_DIM: " (z alone: the pair needs x too)"}.get(rows.shape[-1], "")
            raise ValueError(f"net expects rows (B, {width}) = [x flattened ({X_FEATURES}), "
                             f"z ({Z_DIM})], got shape {tuple(rows.shape)}{alone}")
        return self.net(rows)


def reference_joint_logits(x: torch.Tensor, z: torch.Tensor, net: nn.Module) -> torch.Tensor:
    """net([x flattened, z]) squeezed: x (B, C, H, W), z (B, z_dim) -> logits (B,)."""
    return net(torch.cat([x.flatten(1), z], dim=1)).squeeze(1)


def check_joint_logits(joint_logits: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 6.1: ``joint_logits(x, z, net)`` -> (B,) logits of the pairs (x_i, z_i)."""
    c = Check("6.1", "joint_logits", quiet=quiet)
    net = _PairNet(seed)
    x, z = _x(seed, 6), seeded_randn(seed + 1, 6, Z_DIM)
    what = "joint_logits(x (6, 1, 4, 4), z (6, 3), net)"
    out = c.expect_tensor(c.call_no_inplace(joint_logits, x, z, net), what)
    c.expect_shape(out, (6,), what, hint="one logit per pair: squeeze the last dimension "
                   "of net's (B, 1) output" if out.shape == (6, 1) else None)
    expected = reference_joint_logits(x, z, net)
    swapped = net.net(torch.cat([z, x.flatten(1)], 1)).squeeze(1)
    c.assert_close(out, expected, what, mistakes={
        "put z before x; the rows are [x flattened, z]": swapped,
        "returned probabilities (sigmoid); return the logits, the losses apply the sigmoid":
            expected.sigmoid(),
        "paired x_i with another row's z (the pairs must stay row by row)":
            reference_joint_logits(x, z.roll(1, 0), net)})
    x, z = x.clone().requires_grad_(True), z.clone().requires_grad_(True)
    out = c.call(joint_logits, x, z, net)
    for tensor, name, why in ((z, "z", "E learns only through D's gradient with respect to "
                               "its code E(x)"),
                              (x, "x", "G learns only through D's gradient with respect to "
                               "its image G(z)")):
        grad = torch.autograd.grad(out.sum(), tensor, retain_graph=True, allow_unused=True)[0]
        if grad is None or grad.abs().sum() == 0:
            c.fail(f"no gradient reaches {name}: it was detached (or cut from the graph)",
                   hint=f"{why}; keep {name} in the graph (no .detach(), no torch.no_grad())")
    c.passed("joint_logits scores each pair [x_i, z_i], logits (B,), gradients reach x and z")


# ----------------------------------------------------------------------------- 6.2


def reference_bigan_d_loss(discriminator: nn.Module, encoder: nn.Module, generator: nn.Module,
                           x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """D's loss: real pairs (x, E(x)) labelled 1, fake pairs (G(z), z) labelled 0."""
    with torch.no_grad():  # D's loss must not train E or G
        code, fake = encoder(x), generator(z)
    return (F.softplus(-discriminator(x, code)).mean()
            + F.softplus(discriminator(fake, z)).mean())


def _d_loss_mistakes(d: nn.Module, e: nn.Module, g: nn.Module, x: torch.Tensor,
                     z: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        code, fake = e(x), g(z)

        def loss(real_x, real_z, fake_x, fake_z):
            return F.softplus(-d(real_x, real_z)).mean() + F.softplus(d(fake_x, fake_z)).mean()

        return {
            "swapped the labels: D calls the encoder's pairs (x, E(x)) real (label 1) and "
            "the generator's pairs (G(z), z) fake": loss(fake, z, x, code),
            "encoded the generated image: the fake pair is (G(z), z), z the noise G was "
            "given": loss(x, code, fake, e(fake)),
            "paired the real image with the noise z: the real pair is (x, E(x))":
                loss(x, z, fake, z),
            "paired the generated image with E(x): the fake pair is (G(z), z)":
                loss(x, code, fake, code),
            "used the sum over the batch instead of the mean":
                F.softplus(-d(x, code)).sum() + F.softplus(d(fake, z)).sum()}


def check_bigan_d_loss(bigan_d_loss: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 6.2: ``bigan_d_loss(discriminator, encoder, generator, x, z)``, a scalar."""
    c = Check("6.2", "bigan_d_loss", quiet=quiet)
    d, e, g = _nets(seed)
    x, z = _x(seed, 10), seeded_randn(seed + 1, 10, Z_DIM)
    what = "bigan_d_loss(discriminator, encoder, generator, x, z)"
    out = c.expect_tensor(c.call_no_inplace(bigan_d_loss, d, e, g, x, z), what)
    if out.dim() != 0:
        c.fail(f"{what} should be a scalar tensor (a mean), got shape {tuple(out.shape)}")
    c.assert_close(out, reference_bigan_d_loss(d, e, g, x, z), what,
                   mistakes=_d_loss_mistakes(d, e, g, x, z))
    if not all(p.requires_grad for net in (e, g) for p in net.parameters()):
        c.fail("bigan_d_loss switched off requires_grad on E or G and left it off",
               hint="detach E(x) and G(z) (or compute them under torch.no_grad()) instead")
    for net, name in ((e, "encoder"), (g, "generator")):
        if any(grads_reaching(net, out).values()):
            c.fail(f"a gradient of D's loss reaches the {name}",
                   hint="D's loss must train D only: compute E(x) and G(z) under "
                        "torch.no_grad(), or .detach() them")
    if not any(grads_reaching(d, out).values()):
        c.fail("no gradient of the loss reaches the discriminator",
               hint="keep D's logits in the graph: no .item(), .detach() or no_grad around D")
    loud = copy.deepcopy(d)
    with torch.no_grad():
        loud.network.out.weight.mul_(1000.0)  # logits in the hundreds
    out = c.call(bigan_d_loss, loud, e, g, x, z)
    if not torch.isfinite(out):
        c.fail("bigan_d_loss is not finite when D is confident (logits ~ +-100s)",
               hint="use F.softplus(-l) for -log sigmoid(l) and F.softplus(l) for "
                    "-log(1 - sigmoid(l)), not log(sigmoid(l))")
    c.passed("bigan_d_loss: real (x, E(x)) vs fake (G(z), z), stable, trains D only")


# ----------------------------------------------------------------------------- 6.3


def reference_ge_loss(discriminator: nn.Module, encoder: nn.Module, generator: nn.Module,
                      x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """G's and E's loss: D's loss with the labels swapped (non-saturating in both terms)."""
    return (F.softplus(discriminator(x, encoder(x))).mean()
            + F.softplus(-discriminator(generator(z), z)).mean())


def _params(*nets: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for net in nets for p in net.parameters()]


def check_ge_step(ge_step: Callable[..., Any], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 6.3: ``ge_step(discriminator, encoder, generator, ge_optimizer, x, z)``.

    One SGD step over G's and E's parameters is compared with the reference update; D must
    stay as it was; a stale gradient already in G and E must not leak into the step.
    """
    c = Check("6.3", "ge_step", quiet=quiet)
    d, e, g = _nets(seed)
    x, z = _x(seed, 10), seeded_randn(seed + 1, 10, Z_DIM)
    lr = 0.1
    ge_params = list(g.parameters()) + list(e.parameters())
    optimizer = torch.optim.SGD(ge_params, lr=lr)
    for p in ge_params:
        p.grad = torch.ones_like(p)  # left over from an earlier backward
    ref_loss = reference_ge_loss(d, e, g, x, z)
    ref_grads = torch.autograd.grad(ref_loss, ge_params)
    ge_before, d_before = _params(g, e), _params(d)
    with torch.no_grad():
        real_logits, fake_logits = d(x, e(x)), d(g(z), z)
    out = c.call(ge_step, d, e, g, optimizer, x, z)
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    if not isinstance(out, float):
        c.fail("ge_step should return the loss as a Python float", got=type(out).__name__,
               hint="return loss.item()")
    c.assert_close(torch.tensor(out), ref_loss.detach(), "the loss ge_step returned", mistakes={
        "did not swap the labels: this is D's loss, which G and E must work against":
            F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean(),
        "left out the real pairs' term softplus(D(x, E(x))): E learns only from it":
            F.softplus(-fake_logits).mean(),
        "used the saturating form (minus D's loss); use softplus(real) + softplus(-fake)":
            -(F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())})
    if not all(torch.equal(a, b) for a, b in zip(_params(d), d_before, strict=True)):
        c.fail("ge_step changed the discriminator's weights",
               hint="only ge_optimizer (over G's and E's parameters) steps here")
    after = _params(g, e)
    n_g = len(list(g.parameters()))
    for name, start, stop in (("generator", 0, n_g), ("encoder", n_g, len(after))):
        if all(torch.equal(after[i], ge_before[i]) for i in range(start, stop)):
            c.fail(f"the {name} did not change",
                   hint=f"a gradient must reach the {name} through D: do not detach "
                        f"{'G(z)' if name == 'generator' else 'E(x)'}; call "
                        "ge_optimizer.step() after loss.backward()")
    stale = [p - lr * (gr + 1) for p, gr in zip(ge_before, ref_grads, strict=True)]
    if all(torch.allclose(a, s, atol=1e-6) for a, s in zip(after, stale, strict=True)):
        c.fail("the stale gradient already in G's and E's .grad was added to this step's",
               hint="call ge_optimizer.zero_grad() right before loss.backward()")
    for a, b, gr in zip(after, ge_before, ref_grads, strict=True):
        c.assert_close(a, b - lr * gr, "G's and E's weights after one SGD step (lr 0.1)",
                       hint="one backward of the loss, one ge_optimizer.step()")
    c.passed("ge_step: labels swapped, one update of G and E, D untouched")


# ----------------------------------------------------------------------------- 6.4


def reference_reconstruction_error(encoder: nn.Module, generator: nn.Module,
                                   x: torch.Tensor) -> torch.Tensor:
    """||x - G(E(x))||² per sample: x (N, C, H, W) -> (N,), without a graph."""
    with torch.no_grad():
        return (x - generator(encoder(x))).pow(2).flatten(1).sum(1)


def check_reconstruction_error(reconstruction_error: Callable[..., torch.Tensor],
                               seed: int = 0, quiet: bool = False) -> None:
    """Exercise 6.4: ``reconstruction_error(encoder, generator, x)`` -> (N,)."""
    c = Check("6.4", "reconstruction_error", quiet=quiet)
    _, e, g = _nets(seed)
    x = _x(seed, 9)
    what = "reconstruction_error(encoder, generator, x (9, 1, 4, 4))"
    out = c.expect_tensor(c.call_no_inplace(reconstruction_error, e, g, x), what)
    c.expect_shape(out, (9,), what, hint="one error per sample: sum over the pixels only, "
                   "not over the batch" if out.dim() == 0 else None)
    expected = reference_reconstruction_error(e, g, x)
    c.assert_close(out, expected, what, mistakes={
        "averaged over the pixels; sum the squared errors over each image's pixels":
            expected / X_FEATURES,
        "took the square root (the L2 distance); return the squared error": expected.sqrt(),
        "summed absolute errors (L1); square the errors":
            lambda: (x - g(e(x))).abs().flatten(1).sum(1)})
    if out.requires_grad:
        c.fail("the result still carries an autograd graph",
               hint="a score needs no gradient: compute it under torch.no_grad()")
    c.passed("reconstruction_error = ||x - G(E(x))||^2 per sample, no graph")


# ----------------------------------------------------------------------------- 6.5


def reference_one_nn_accuracy(train_features: torch.Tensor, train_labels: torch.Tensor,
                              test_features: torch.Tensor, test_labels: torch.Tensor) -> float:
    """Share of test rows whose Euclidean nearest training row has the same label."""
    nearest = torch.cdist(test_features.double(), train_features.double()).argmin(1)
    return float((train_labels[nearest] == test_labels).double().mean())


def _probe_data(seed: int) -> tuple[torch.Tensor, ...]:
    """Noisy clusters with very different row norms, so cosine and Euclidean neighbours differ."""
    centers = 2 * seeded_randn(seed, 4, 6, dtype=torch.float64)
    labels = torch.randint(0, 4, (80,), generator=torch.Generator().manual_seed(seed))
    scale = 0.3 + 3 * torch.rand(80, 1, generator=torch.Generator().manual_seed(seed + 1),
                                 dtype=torch.float64)
    features = scale * (centers[labels] + 1.5 * seeded_randn(seed + 2, 80, 6,
                                                              dtype=torch.float64))
    return features[:40], labels[:40], features[40:], labels[40:]


def check_one_nn_accuracy(one_nn_accuracy: Callable[..., float], seed: int = 0,
                          quiet: bool = False) -> None:
    """Exercise 6.5: ``one_nn_accuracy(train_features, train_labels, test_features,
    test_labels)`` -> a float in [0, 1]."""
    c = Check("6.5", "one_nn_accuracy", quiet=quiet)
    train_x, train_y, test_x, test_y = _probe_data(seed)
    what = "one_nn_accuracy(train (40, 6), labels, test (40, 6), labels)"
    out = c.call_no_inplace(one_nn_accuracy, train_x, train_y, test_x, test_y)
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    if not isinstance(out, (float, np.floating)):
        c.fail(f"{what} should return a float", got=type(out).__name__)
    expected = reference_one_nn_accuracy(train_x, train_y, test_x, test_y)
    unit = F.normalize
    mistakes = {
        "fitted on the test rows: each test row is its own nearest neighbour (accuracy 1)":
            reference_one_nn_accuracy(test_x, test_y, test_x, test_y),
        "returned the error rate; return the share of correct labels": 1 - expected,
        "returned a percentage; return a fraction in [0, 1]": 100 * expected,
        "used cosine similarity; the probe uses Euclidean distance":
            reference_one_nn_accuracy(unit(train_x, dim=1), train_y, unit(test_x, dim=1),
                                      test_y),
        "took the farthest training row (argmax of distances); take the nearest":
            float((train_y[torch.cdist(test_x, train_x).argmax(1)] == test_y).double().mean())}
    if not math.isclose(float(out), expected, abs_tol=1e-6):
        named = [text for text, value in mistakes.items()
                 if math.isclose(float(out), value, abs_tol=1e-6)]
        c.fail(f"wrong accuracy from {what}", expected=f"{expected:.4f}", got=f"{out:.4f}",
               hint=f"this looks like a common mistake: {named[0]}" if named else None)
    order = torch.randperm(40, generator=torch.Generator().manual_seed(seed + 5))
    again = c.call(one_nn_accuracy, train_x[order], train_y[order], test_x, test_y)
    if not math.isclose(float(again), expected, abs_tol=1e-6):
        c.fail("the accuracy changed when the training rows were shuffled (with their labels)",
               hint="look up the label of the nearest row by its index in the training set")
    c.passed("one_nn_accuracy matches the Euclidean 1-NN probe")


# ----------------------------------------------------------------------------- meta-test variants


def _joint_manual_concat(x, z, net):
    rows = torch.hstack([x.reshape(len(x), -1), z])
    return net(rows)[:, 0]


def _joint_no_squeeze(x, z, net):
    return net(torch.cat([x.flatten(1), z], 1))


def _joint_x_only(x, z, net):
    return net(x.flatten(1)).squeeze(1)


def _joint_z_detached(x, z, net):
    return net(torch.cat([x.flatten(1), z.detach()], 1)).squeeze(1)


def _joint_swapped(x, z, net):
    return net(torch.cat([z, x.flatten(1)], 1)).squeeze(1)


def _joint_sigmoid(x, z, net):
    return net(torch.cat([x.flatten(1), z], 1)).squeeze(1).sigmoid()


def _d_loss_bce(d, e, g, x, z):
    code, fake = e(x).detach(), g(z).detach()
    real_logits, fake_logits = d(x, code), d(fake, z)
    bce = F.binary_cross_entropy_with_logits
    return bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits,
                                                                torch.zeros_like(fake_logits))


def _d_loss_no_detach(d, e, g, x, z):
    return F.softplus(-d(x, e(x))).mean() + F.softplus(d(g(z), z)).mean()


def _d_loss_swapped(d, e, g, x, z):
    return F.softplus(d(x, e(x).detach())).mean() + F.softplus(-d(g(z).detach(), z)).mean()


def _d_loss_encoded_fake(d, e, g, x, z):
    with torch.no_grad():
        fake = g(z)
        fake_code, code = e(fake), e(x)
    return F.softplus(-d(x, code)).mean() + F.softplus(d(fake, fake_code)).mean()


def _d_loss_log_sigmoid(d, e, g, x, z):
    with torch.no_grad():
        code, fake = e(x), g(z)
    return -(torch.log(torch.sigmoid(d(x, code))).mean()
             + torch.log(1 - torch.sigmoid(d(fake, z))).mean())


def _ge_step_reference(d, e, g, optimizer, x, z):
    optimizer.zero_grad()
    loss = reference_ge_loss(d, e, g, x, z)
    loss.backward()
    optimizer.step()
    return loss.item()


def _ge_step_bce(d, e, g, optimizer, x, z):
    real_logits, fake_logits = d(x, e(x)), d(g(z), z)
    bce = F.binary_cross_entropy_with_logits
    loss = bce(real_logits, torch.zeros_like(real_logits)) + bce(fake_logits,
                                                                 torch.ones_like(fake_logits))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss)


def _ge_step_d_loss(d, e, g, optimizer, x, z):
    optimizer.zero_grad()
    loss = F.softplus(-d(x, e(x))).mean() + F.softplus(d(g(z), z)).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _ge_step_detached_code(d, e, g, optimizer, x, z):
    optimizer.zero_grad()
    loss = F.softplus(d(x, e(x).detach())).mean() + F.softplus(-d(g(z), z)).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _ge_step_no_zero_grad(d, e, g, optimizer, x, z):
    loss = reference_ge_loss(d, e, g, x, z)
    loss.backward()
    optimizer.step()
    return loss.item()


def _ge_step_fake_only(d, e, g, optimizer, x, z):
    optimizer.zero_grad()
    loss = F.softplus(-d(g(z), z)).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _recon_loop(e, g, x):
    with torch.no_grad():
        return torch.stack([((row - g(e(row[None]))[0]) ** 2).sum() for row in x])


def _recon_mse(e, g, x):
    with torch.no_grad():
        return F.mse_loss(g(e(x)), x, reduction="none").flatten(1).mean(1)


def _recon_batch_mean(e, g, x):
    with torch.no_grad():
        return (x - g(e(x))).pow(2).sum(dim=(1, 2, 3)).mean()


def _recon_norm(e, g, x):
    with torch.no_grad():
        return torch.linalg.vector_norm((x - g(e(x))).flatten(1), dim=1)


def _recon_with_graph(e, g, x):
    return (x - g(e(x))).pow(2).flatten(1).sum(1)


def _one_nn_sklearn(train_x, train_y, test_x, test_y):
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=1).fit(train_x.numpy(), train_y.numpy())
    return float(model.score(test_x.numpy(), test_y.numpy()))


def _one_nn_self(train_x, train_y, test_x, test_y):
    return reference_one_nn_accuracy(test_x, test_y, test_x, test_y)


def _one_nn_error(train_x, train_y, test_x, test_y):
    return 1 - reference_one_nn_accuracy(train_x, train_y, test_x, test_y)


def _one_nn_cosine(train_x, train_y, test_x, test_y):
    return reference_one_nn_accuracy(F.normalize(train_x, dim=1), train_y,
                                     F.normalize(test_x, dim=1), test_y)


def _one_nn_percent(train_x, train_y, test_x, test_y):
    return 100 * reference_one_nn_accuracy(train_x, train_y, test_x, test_y)


VARIANTS: dict[str, Variants] = {
    "check_joint_logits": Variants(
        wrong=[(_joint_no_squeeze, "squeeze"), (_joint_x_only, "x alone"),
               (_joint_z_detached, "no gradient reaches z"), (_joint_swapped, "before x"),
               (_joint_sigmoid, "probabilities")],
        right=[reference_joint_logits, _joint_manual_concat]),
    "check_bigan_d_loss": Variants(
        wrong=[(_d_loss_no_detach, "reaches the"), (_d_loss_swapped, "swapped the labels"),
               (_d_loss_encoded_fake, "encoded the generated image"),
               (_d_loss_log_sigmoid, "not finite")],
        right=[reference_bigan_d_loss, _d_loss_bce]),
    "check_ge_step": Variants(
        wrong=[(_ge_step_d_loss, "did not swap"), (_ge_step_detached_code, "encoder did not"),
               (_ge_step_no_zero_grad, "stale"), (_ge_step_fake_only, "real pairs' term")],
        right=[_ge_step_reference, _ge_step_bce]),
    "check_reconstruction_error": Variants(
        wrong=[(_recon_mse, "averaged over the pixels"), (_recon_batch_mean, "one error per"),
               (_recon_norm, "square root"), (_recon_with_graph, "graph")],
        right=[reference_reconstruction_error, _recon_loop]),
    "check_one_nn_accuracy": Variants(
        wrong=[(_one_nn_self, "own nearest"), (_one_nn_error, "error rate"),
               (_one_nn_cosine, "cosine"), (_one_nn_percent, "percentage")],
        right=[reference_one_nn_accuracy, _one_nn_sklearn]),
}

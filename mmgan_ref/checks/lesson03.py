"""Checks for the exercises of lesson 03 (``exercises/03_conditional_gans.ipynb``).

Lesson: 03 Conditional GANs. Exercise 3.1 ``one_hot_concat``, 3.2 ``projection_logit``,
3.3 ``acgan_d_loss``, 3.4 ``acgan_g_loss``, 3.5 ``coherence_per_class``.

References: ``mmgan_ref.nn.blocks`` (``ConditionInput``, ``ProjectionHead``, ``mlp``),
``mmgan_ref.objectives`` (the adversarial terms) and the AC-GAN losses of Odena, Olah and
Shlens (2017) written out below.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.nn.blocks import ProjectionHead, mlp
from mmgan_ref.objectives import d_loss_minimax, g_loss_nonsaturating

NUM_CLASSES = 10


def _labels(seed: int, n: int, k: int = NUM_CLASSES) -> torch.Tensor:
    return torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- 3.1


def reference_one_hot_concat(z: torch.Tensor, labels: torch.Tensor,
                             num_classes: int) -> torch.Tensor:
    """[z, one_hot(labels)]: (B, z_dim) and (B,) int64 -> (B, z_dim + num_classes)."""
    return torch.cat([z, F.one_hot(labels, num_classes).to(z.dtype)], dim=1)


def check_one_hot_concat(one_hot_concat: Callable[..., torch.Tensor], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 3.1: ``one_hot_concat(z, labels, num_classes)`` -> (B, z_dim + num_classes)."""
    c = Check("3.1", "one_hot_concat", quiet=quiet)
    cases = ((6, 4, 10, torch.float32, _labels(seed, 6)),
             (3, 2, 10, torch.float64, torch.tensor([0, 1, 2])),  # top classes absent
             (5, 3, 4, torch.float32, _labels(seed + 1, 5, 4)))
    for batch, z_dim, k, dtype, labels in cases:
        z = seeded_randn(seed, batch, z_dim, dtype=dtype)
        what = f"one_hot_concat(z {tuple(z.shape)}, labels {labels.tolist()}, {k})"
        out = c.expect_tensor(c.call_no_inplace(one_hot_concat, z, labels, k), what)
        hint = None
        if out.dim() == 2 and out.shape[1] == z_dim + 1:
            hint = ("this looks like a common mistake: concatenated the label as a number; "
                    "a label is a category, encode it one-hot")
        elif out.dim() == 2 and out.shape[1] == z_dim + int(labels.max()) + 1:
            hint = ("F.one_hot(labels) without num_classes guesses the width from the "
                    "largest label in the batch: pass num_classes")
        c.expect_shape(out, (batch, z_dim + k), what, hint=hint)
        c.expect_dtype(out, dtype, what, hint="convert the one-hot code to z's dtype")
        expected = reference_one_hot_concat(z, labels, k)
        c.assert_close(out, expected, what, mistakes={
            "put the one-hot code before z; the order is [z, one_hot(labels)]":
                torch.cat([expected[:, z_dim:], z], 1)})
    # the condition must change what a generator built on it produces
    z_dim, k = 3, 5
    torch.manual_seed(seed)
    net = mlp([z_dim + k, 16, 2], activation="relu")
    z = seeded_randn(seed + 2, 1, z_dim).expand(k, z_dim)
    with torch.no_grad():
        outputs = net(c.call(one_hot_concat, z, torch.arange(k), k))
    if torch.cdist(outputs, outputs).add(torch.eye(k)).min() < 1e-6:
        c.fail("an MLP on one_hot_concat(z, y) gives the same output for different labels",
               hint="the one-hot part must differ between labels")
    z = seeded_randn(seed + 3, 4, z_dim).requires_grad_(True)
    out = c.call(one_hot_concat, z, _labels(seed, 4, k), k)
    if not out.requires_grad or torch.autograd.grad(out.sum(), z)[0].abs().sum() == 0:
        c.fail("no gradient flows back to z through one_hot_concat",
               hint="use torch.cat on z itself (no .detach(), no torch.tensor(...))")
    c.passed("one_hot_concat gives [z, one_hot(y)] with the right shape, dtype and gradients")


# ----------------------------------------------------------------------------- 3.2


def check_projection_logit(projection_logit: Callable[..., torch.Tensor], seed: int = 0,
                           quiet: bool = False) -> None:
    """Exercise 3.2: ``projection_logit(h, labels, psi, embed)`` = psi(h) + <embed(y), h>."""
    c = Check("3.2", "projection_logit", quiet=quiet)
    for batch, features, k in ((8, 6, NUM_CLASSES), (1, 3, 4)):
        torch.manual_seed(seed)
        head = ProjectionHead(features, num_classes=k)
        with torch.no_grad():
            head.psi.bias.fill_(0.3)
        h = seeded_randn(seed + 1, batch, features)
        labels = _labels(seed + 2, batch, k)
        what = f"projection_logit(h {tuple(h.shape)}, labels, psi, embed)"
        out = c.expect_tensor(c.call_no_inplace(projection_logit, h, labels, head.psi,
                                                head.embed), what)
        hint = None
        if tuple(out.shape) == (batch, batch) and batch > 1:
            hint = ("a (B, B) result: either psi(h) of shape (B, 1) was added to a (B,) "
                    "term (squeeze it), or embed(y) @ h.T made a matrix product; the "
                    "projection is a per-row inner product: (embed(y) * h).sum(1)")
        elif tuple(out.shape) == (batch, features):
            hint = "sum the product embed(y) * h over the feature dimension"
        elif tuple(out.shape) == (batch, 1):
            hint = "squeeze psi(h): return logits of shape (B,)"
        c.expect_shape(out, (batch,), what, hint=hint)
        with torch.no_grad():
            expected = head(h, labels)
            psi_term = head.psi(h).squeeze(1)
            proj_term = (head.embed(labels) * h).sum(1)
        c.assert_close(out, expected, what, mistakes={
            "left out the unconditional term psi(h)": proj_term,
            "left out the projection term <embed(y), h>: D ignores the label": psi_term,
            "subtracted the projection term": psi_term - proj_term,
        })
    torch.manual_seed(seed)
    head = ProjectionHead(5, num_classes=4)
    h = seeded_randn(seed + 3, 6, 5).requires_grad_(True)
    labels = torch.tensor([0, 1, 1, 0, 1, 0])
    out = c.call(projection_logit, h, labels, head.psi, head.embed)
    named = {"h": h, **dict(head.named_parameters())}
    reach = {n: g is not None and bool(g.abs().sum() > 0) for n, g in zip(
        named, torch.autograd.grad(out.sum(), list(named.values()), allow_unused=True),
        strict=True)}
    missing = [n for n, ok in reach.items() if not ok]
    if missing:
        c.fail(f"no gradient reaches {', '.join(missing)}",
               hint="compute the logit from h, psi and embed with differentiable operations")
    grad_rows = torch.autograd.grad(c.call(projection_logit, h, labels, head.psi,
                                           head.embed).sum(), head.embed.weight)[0]
    if bool(grad_rows[2:].abs().sum() > 0):
        c.fail("the embeddings of classes absent from the batch received gradient",
               hint="use only embed(labels), the rows of the classes asked for")
    c.passed("projection_logit matches psi(h) + <embed(y), h> (values, shape, gradients)")


# ----------------------------------------------------------------------------- 3.3 and 3.4


def reference_acgan_d_loss(real_logits: torch.Tensor, real_class_logits: torch.Tensor,
                           real_labels: torch.Tensor, fake_logits: torch.Tensor,
                           fake_class_logits: torch.Tensor,
                           fake_labels: torch.Tensor) -> torch.Tensor:
    """AC-GAN's D loss: real-vs-fake loss + class cross-entropy on real AND fake samples."""
    return (d_loss_minimax(real_logits, fake_logits)
            + F.cross_entropy(real_class_logits, real_labels)
            + F.cross_entropy(fake_class_logits, fake_labels))


def reference_acgan_g_loss(fake_logits: torch.Tensor, fake_class_logits: torch.Tensor,
                           fake_labels: torch.Tensor) -> torch.Tensor:
    """AC-GAN's G loss: non-saturating -log D(G(z, y)) + class cross-entropy of y."""
    return g_loss_nonsaturating(fake_logits) + F.cross_entropy(fake_class_logits, fake_labels)


def _acgan_inputs(seed: int, batch: int = 12, k: int = NUM_CLASSES) -> list[torch.Tensor]:
    return [2 * seeded_randn(seed, batch), 2 * seeded_randn(seed + 1, batch, k),
            _labels(seed + 2, batch, k), 2 * seeded_randn(seed + 3, batch),
            2 * seeded_randn(seed + 4, batch, k), _labels(seed + 5, batch, k)]


def _expect_scalar(c: Check, value: object, what: str) -> torch.Tensor:
    value = c.expect_tensor(value, what)
    if value.dim() != 0:
        c.fail(f"{what} should be a scalar tensor (a mean), got shape {tuple(value.shape)}",
               hint="average over the batch with .mean() (F.cross_entropy already does)")
    return value


def check_acgan_d_loss(acgan_d_loss: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 3.3: ``acgan_d_loss(real_logits, real_class_logits, real_labels, fake_logits,
    fake_class_logits, fake_labels)``, a scalar."""
    c = Check("3.3", "acgan_d_loss", quiet=quiet)
    rl, rc, ry, fl, fc, fy = _acgan_inputs(seed)
    what = "acgan_d_loss(...)"
    out = _expect_scalar(c, c.call_no_inplace(acgan_d_loss, rl, rc, ry, fl, fc, fy), what)
    adv = d_loss_minimax(rl, fl)
    ce_real, ce_fake = F.cross_entropy(rc, ry), F.cross_entropy(fc, fy)
    c.assert_close(out, reference_acgan_d_loss(rl, rc, ry, fl, fc, fy), what, mistakes={
        "left out the class loss on the generated samples": adv + ce_real,
        "left out the class loss on the real samples": adv + ce_fake,
        "left out the class losses: D never learns to classify": adv,
        "swapped the real and fake terms of the adversarial loss":
            d_loss_minimax(fl, rl) + ce_real + ce_fake,
        "applied softmax before F.cross_entropy (it takes logits)":
            d_loss_minimax(rl, fl) + F.cross_entropy(rc.softmax(1), ry)
            + F.cross_entropy(fc.softmax(1), fy),
    })
    extreme = [t * 40 if t.is_floating_point() else t for t in _acgan_inputs(seed + 9)]
    out = c.call(acgan_d_loss, *extreme)
    if not torch.isfinite(out):
        c.fail("acgan_d_loss is not finite for large logits (|l| ~ 100)",
               hint="use softplus / F.binary_cross_entropy_with_logits and F.cross_entropy "
                    "on logits, not log(sigmoid(l)) or log(softmax(l))")
    inputs = [t.clone().requires_grad_(True) if t.is_floating_point() else t
              for t in _acgan_inputs(seed + 1)]
    loss = c.call(acgan_d_loss, *inputs)
    names = ("real_logits", "real_class_logits", "", "fake_logits", "fake_class_logits")
    for name, t in zip(names, inputs, strict=False):
        if name and (not loss.requires_grad or torch.autograd.grad(
                loss, t, retain_graph=True, allow_unused=True)[0] is None):
            c.fail(f"no gradient reaches {name}", hint="keep the loss differentiable")
    c.passed("acgan_d_loss = adversarial loss + class cross-entropy on real and fake")


def check_acgan_g_loss(acgan_g_loss: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 3.4: ``acgan_g_loss(fake_logits, fake_class_logits, fake_labels)``."""
    c = Check("3.4", "acgan_g_loss", quiet=quiet)
    _, _, _, fl, fc, fy = _acgan_inputs(seed)
    what = "acgan_g_loss(fake_logits, fake_class_logits, fake_labels)"
    out = _expect_scalar(c, c.call_no_inplace(acgan_g_loss, fl, fc, fy), what)
    ns, ce = g_loss_nonsaturating(fl), F.cross_entropy(fc, fy)
    c.assert_close(out, reference_acgan_g_loss(fl, fc, fy), what, mistakes={
        "used the saturating loss log(1 - D(G(z))) for the adversarial term":
            -F.softplus(fl).mean() + ce,
        "subtracted the class loss: G must make its samples EASY to classify as y, "
        "so the class term's sign is +": ns - ce,
        "left out the class term: the generator ignores the label": ns,
        "left out the adversarial term": ce,
    })
    out = c.call(acgan_g_loss, 40 * fl, 40 * fc, fy)
    if not torch.isfinite(out):
        c.fail("acgan_g_loss is not finite for large logits",
               hint="use softplus(-l) for -log sigmoid(l) and F.cross_entropy on logits")
    c.passed("acgan_g_loss = non-saturating loss + class cross-entropy of the asked label")


# ----------------------------------------------------------------------------- 3.5


def reference_coherence_per_class(images: torch.Tensor, labels: torch.Tensor,
                                  classify: Callable[[torch.Tensor], np.ndarray],
                                  num_classes: int) -> tuple[float, torch.Tensor]:
    """Share of images the classifier reads as their label: overall, and per asked class.

    Returns:
        (overall float, per_class (num_classes,) float64 with NaN for absent classes)
    """
    predicted = torch.as_tensor(np.asarray(classify(images)), dtype=torch.long)
    correct = (predicted == labels).double()
    per_class = torch.full((num_classes,), math.nan, dtype=torch.float64)
    for k in range(num_classes):
        mask = labels == k
        if mask.any():
            per_class[k] = correct[mask].mean()
    return float(correct.mean()), per_class


def _judge(images: torch.Tensor) -> np.ndarray:
    """A fixed, deterministic stand-in for a digit classifier (returns NumPy, as sklearn)."""
    flat = images.reshape(len(images), -1)
    return ((flat[:, :8].sum(1) > 0).long() * 3 + (flat[:, 8:16].sum(1) > 0).long()
            ).numpy().astype(np.int64)


def check_coherence_per_class(coherence_per_class: Callable[..., tuple], seed: int = 0,
                              quiet: bool = False) -> None:
    """Exercise 3.5: ``coherence_per_class(images, labels, classify, num_classes)``."""
    c = Check("3.5", "coherence_per_class", quiet=quiet)
    images = seeded_randn(seed, 40, 1, 8, 8)
    # labels skewed towards the classes the judge predicts; class 2 and 5 never asked for
    labels = torch.tensor([0, 1, 3, 4, 0, 1, 3, 4, 0, 0, 0, 0, 3, 3, 1, 4] * 2 + [1] * 8)
    labels[_labels(seed, 5, 40)] = 6
    result = c.call_no_inplace(coherence_per_class, images, labels, _judge, 7)
    if not isinstance(result, tuple) or len(result) != 2:
        c.fail("coherence_per_class should return a pair (overall, per_class)",
               got=type(result).__name__)
    overall, per_class = result
    expected_overall, expected = reference_coherence_per_class(images, labels, _judge, 7)
    predicted = torch.as_tensor(_judge(images))
    correct = (predicted == labels).double()
    by_prediction = torch.full((7,), math.nan, dtype=torch.float64)
    for k in range(7):
        if (predicted == k).any():
            by_prediction[k] = correct[predicted == k].mean()
    per_class = c.expect_tensor(per_class, "per_class")
    c.expect_shape(per_class, (7,), "per_class", hint="one entry per class 0..num_classes-1")
    got_nan, want_nan = torch.isnan(per_class.double()), torch.isnan(expected)
    if not torch.equal(got_nan, want_nan):
        hint = "a class without samples has no coherence: use float('nan'), not 0"
        if torch.equal(got_nan, torch.isnan(by_prediction)):
            hint = ("this looks like a common mistake: grouped the images by PREDICTED label; "
                    "group them by the label they were generated for")
        c.fail("per_class must be NaN exactly for the classes no image was asked for",
               expected=str(want_nan.tolist()), got=str(got_nan.tolist()), hint=hint)
    keep = ~want_nan
    c.assert_close(per_class.double()[keep], expected[keep], "per_class (classes present)",
                   mistakes={"grouped the images by PREDICTED label; group them by the label "
                             "they were generated for": by_prediction.nan_to_num(0.0)[keep]})
    if not isinstance(overall, (float, int, np.floating, torch.Tensor)) or (
            isinstance(overall, torch.Tensor) and overall.numel() != 1):
        c.fail("overall should be a float", got=type(overall).__name__)
    mean_of_classes = float(expected[keep].mean())
    if not math.isclose(float(overall), expected_overall, abs_tol=1e-6):
        hint = ("averaged the per-class scores; overall is the share of ALL images read as "
                "their label") if math.isclose(float(overall), mean_of_classes,
                                               abs_tol=1e-6) else None
        c.fail("wrong overall coherence", expected=f"{expected_overall:.4f}",
               got=f"{float(overall):.4f}", hint=hint)
    c.passed("coherence_per_class matches the reference (overall, per class, absent classes)")


# ----------------------------------------------------------------------------- meta-test variants


def _concat_scatter(z, labels, num_classes):
    code = torch.zeros(len(z), num_classes, dtype=z.dtype).scatter_(1, labels[:, None], 1.0)
    return torch.cat([z, code], 1)


def _concat_eye(z, labels, num_classes):
    return torch.hstack([z, torch.eye(num_classes, dtype=z.dtype)[labels]])


def _concat_raw_label(z, labels, num_classes):
    return torch.cat([z, labels[:, None].to(z.dtype)], 1)


def _concat_no_num_classes(z, labels, num_classes):
    return torch.cat([z, F.one_hot(labels).to(z.dtype)], 1)


def _concat_swapped(z, labels, num_classes):
    return torch.cat([F.one_hot(labels, num_classes).to(z.dtype), z], 1)


def _concat_float32(z, labels, num_classes):
    return torch.cat([z.float(), F.one_hot(labels, num_classes).float()], 1)


def _projection_reference(h, labels, psi, embed):
    return psi(h).squeeze(1) + (embed(labels) * h).sum(1)


def _projection_einsum(h, labels, psi, embed):
    return psi(h)[:, 0] + torch.einsum("bf,bf->b", F.one_hot(labels, embed.num_embeddings).to(
        h.dtype) @ embed.weight, h)


def _projection_no_squeeze(h, labels, psi, embed):
    return psi(h) + (embed(labels) * h).sum(1)


def _projection_no_psi(h, labels, psi, embed):
    return (embed(labels) * h).sum(1)


def _projection_unconditional(h, labels, psi, embed):
    return psi(h).squeeze(1)


def _projection_matmul(h, labels, psi, embed):
    return psi(h).squeeze(1) + embed(labels) @ h.T


def _d_loss_bce(rl, rc, ry, fl, fc, fy):
    bce = F.binary_cross_entropy_with_logits
    return (bce(rl, torch.ones_like(rl)) + bce(fl, torch.zeros_like(fl))
            + F.nll_loss(F.log_softmax(rc, 1), ry) + F.nll_loss(F.log_softmax(fc, 1), fy))


def _d_loss_real_only(rl, rc, ry, fl, fc, fy):
    return d_loss_minimax(rl, fl) + F.cross_entropy(rc, ry)


def _d_loss_no_class(rl, rc, ry, fl, fc, fy):
    return d_loss_minimax(rl, fl)


def _d_loss_log_sigmoid(rl, rc, ry, fl, fc, fy):
    return (-torch.log(torch.sigmoid(rl)).mean() - torch.log(1 - torch.sigmoid(fl)).mean()
            + F.cross_entropy(rc, ry) + F.cross_entropy(fc, fy))


def _d_loss_softmax(rl, rc, ry, fl, fc, fy):
    return (d_loss_minimax(rl, fl) + F.cross_entropy(rc.softmax(1), ry)
            + F.cross_entropy(fc.softmax(1), fy))


def _g_loss_bce(fl, fc, fy):
    return (F.binary_cross_entropy_with_logits(fl, torch.ones_like(fl))
            + F.nll_loss(F.log_softmax(fc, 1), fy))


def _g_loss_minus_class(fl, fc, fy):
    return F.softplus(-fl).mean() - F.cross_entropy(fc, fy)


def _g_loss_saturating(fl, fc, fy):
    return -F.softplus(fl).mean() + F.cross_entropy(fc, fy)


def _g_loss_no_class(fl, fc, fy):
    return F.softplus(-fl).mean()


def _g_loss_per_sample(fl, fc, fy):
    return F.softplus(-fl) + F.cross_entropy(fc, fy, reduction="none")


def _coherence_numpy(images, labels, classify, num_classes):
    predicted = np.asarray(classify(images))
    y = labels.numpy()
    per_class = [float(np.mean(predicted[y == k] == k)) if np.any(y == k) else float("nan")
                 for k in range(num_classes)]
    return float(np.mean(predicted == y)), torch.tensor(per_class)


def _coherence_by_prediction(images, labels, classify, num_classes):
    predicted = torch.as_tensor(classify(images))
    correct = (predicted == labels).double()
    per_class = torch.full((num_classes,), math.nan, dtype=torch.float64)
    for k in range(num_classes):
        if (predicted == k).any():
            per_class[k] = correct[predicted == k].mean()
        elif (labels == k).any():
            per_class[k] = 0.0
    return float(correct.mean()), per_class


def _coherence_zero_for_absent(images, labels, classify, num_classes):
    overall, per_class = reference_coherence_per_class(images, labels, classify, num_classes)
    return overall, per_class.nan_to_num(0.0)


def _coherence_mean_of_classes(images, labels, classify, num_classes):
    _, per_class = reference_coherence_per_class(images, labels, classify, num_classes)
    return float(per_class.nanmean()), per_class


VARIANTS = {
    "check_one_hot_concat": Variants(
        wrong=[(_concat_raw_label, "as a number"), (_concat_no_num_classes, "num_classes"),
               (_concat_swapped, "before z"), (_concat_float32, "dtype")],
        right=[reference_one_hot_concat, _concat_scatter, _concat_eye]),
    "check_projection_logit": Variants(
        wrong=[(_projection_no_squeeze, "squeeze"), (_projection_no_psi, "psi(h)"),
               (_projection_unconditional, "ignores the label"),
               (_projection_matmul, "inner product")],
        right=[_projection_reference, _projection_einsum]),
    "check_acgan_d_loss": Variants(
        wrong=[(_d_loss_real_only, "generated samples"), (_d_loss_no_class, "class losses"),
               (_d_loss_log_sigmoid, "large logits"), (_d_loss_softmax, "softmax")],
        right=[reference_acgan_d_loss, _d_loss_bce]),
    "check_acgan_g_loss": Variants(
        wrong=[(_g_loss_minus_class, "sign"), (_g_loss_saturating, "saturating"),
               (_g_loss_no_class, "ignores the label"), (_g_loss_per_sample, "scalar")],
        right=[reference_acgan_g_loss, _g_loss_bce]),
    "check_coherence_per_class": Variants(
        wrong=[(_coherence_by_prediction, "predicted"), (_coherence_zero_for_absent, "nan"),
               (_coherence_mean_of_classes, "averaged the per-class")],
        right=[reference_coherence_per_class, _coherence_numpy]),
}

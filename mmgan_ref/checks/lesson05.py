"""Checks for the exercises of lesson 05 (``exercises/05_text_to_image_gan.ipynb``).

Lesson: 05 Text-to-image GAN. Exercise 5.1 ``matching_aware_d_loss`` (GAN-CLS),
5.2 ``slerp`` (caption interpolation), 5.3 ``cosine_consistency`` (E(G(z, s)) close to s),
5.4 ``mismatched_codes`` (wrong captions by rolling the batch).

References: ``mmgan_ref.flagship.model.slerp``, ``mmgan_ref.flagship.family.FlagshipGAN``
(its ``d_loss`` and ``g_loss``), and Reed et al. (2016), "Generative Adversarial Text to
Image Synthesis", for the matching-aware loss written out below.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.flagship.model import slerp as flagship_slerp

# ----------------------------------------------------------------------------- 5.1


def reference_matching_aware_d_loss(real_right: torch.Tensor, real_wrong: torch.Tensor,
                                    fake_right: torch.Tensor) -> torch.Tensor:
    """GAN-CLS D loss on logits: -log D(x, s) - 1/2 [log(1 - D(x, s')) + log(1 - D(G, s))]."""
    return (F.softplus(-real_right).mean()
            + 0.5 * (F.softplus(real_wrong).mean() + F.softplus(fake_right).mean()))


def _expect_scalar(c: Check, value: object, what: str) -> torch.Tensor:
    value = c.expect_tensor(value, what)
    if value.dim() != 0:
        c.fail(f"{what} should be a scalar tensor, got shape {tuple(value.shape)}",
               hint="average each term over its rows with .mean()")
    return value


def _d_inputs(seed: int, scale: float = 2.0) -> list[torch.Tensor]:
    # the wrong pairs have fewer rows: the flagship drops rows whose partner matches
    return [scale * seeded_randn(seed, 10), scale * seeded_randn(seed + 1, 7) + 0.5,
            scale * seeded_randn(seed + 2, 10) - 0.5]


def check_matching_aware_d_loss(matching_aware_d_loss: Callable[..., torch.Tensor],
                                seed: int = 0, quiet: bool = False) -> None:
    """Exercise 5.1: ``matching_aware_d_loss(real_right, real_wrong, fake_right)``, a scalar."""
    c = Check("5.1", "matching_aware_d_loss", quiet=quiet)
    rr, rw, fr = _d_inputs(seed)
    what = "matching_aware_d_loss(real_right (10,), real_wrong (7,), fake_right (10,))"
    out = _expect_scalar(c, c.call_no_inplace(matching_aware_d_loss, rr, rw, fr), what)
    real, wrong, fake = (F.softplus(-rr).mean(), F.softplus(rw).mean(),
                         F.softplus(fr).mean())
    c.assert_close(out, reference_matching_aware_d_loss(rr, rw, fr), what, mistakes={
        "labelled the real-image/wrong-caption pairs as real; they are fake pairs":
            real + 0.5 * (F.softplus(-rw).mean() + fake),
        "left out the real-image/wrong-caption term: D then never has to read the caption":
            real + fake,
        "left out the generated term: D never sees G's images": real + 0.5 * wrong,
        "weights: the two fake terms should share one weight (1/2 each), not 1 each":
            real + wrong + fake,
        "weights: concatenating the fake logits weights the terms by their row counts; "
        "average each term over its own rows, then weight each by 1/2":
            real + F.softplus(torch.cat([rw, fr])).mean(),
        "swapped real and fake: real pairs should have large logits":
            F.softplus(rr).mean() + 0.5 * (F.softplus(-rw).mean() + F.softplus(-fr).mean()),
    })
    out = c.call(matching_aware_d_loss, *_d_inputs(seed + 5, scale=60.0))
    if not torch.isfinite(out):
        c.fail("matching_aware_d_loss is not finite for large logits (|l| ~ 100)",
               hint="use F.softplus or F.binary_cross_entropy_with_logits on logits, "
                    "not log(sigmoid(l))")
    inputs = [t.clone().requires_grad_(True) for t in _d_inputs(seed + 1)]
    grads = torch.autograd.grad(c.call(matching_aware_d_loss, *inputs), inputs,
                                allow_unused=True)
    names = ("real_right", "real_wrong", "fake_right")
    missing = [n for n, g in zip(names, grads, strict=True) if g is None or g.abs().sum() == 0]
    if missing:
        c.fail(f"no gradient reaches {', '.join(missing)}",
               hint="keep every term differentiable (no .detach(), .item() or numpy)")
    c.passed("matching_aware_d_loss matches GAN-CLS (values, large logits, gradients)")


# ----------------------------------------------------------------------------- 5.2


def _unit(seed: int, d: int) -> torch.Tensor:
    x = seeded_randn(seed, d)
    return x / x.norm()


def check_slerp(slerp: Callable[..., torch.Tensor], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 5.2: ``slerp(a, b, t)``: codes (D,), (D,), fractions (K,) -> (K, D)."""
    c = Check("5.2", "slerp", quiet=quiet)
    t = torch.linspace(0, 1, 7)
    for d, scale in ((16, 1.0), (5, 3.0)):
        a, b = scale * _unit(seed, d), _unit(seed + 1, d) / scale
        what = f"slerp(a ({d},), b ({d},), t (7,))" + (" with non-unit a, b" if scale != 1 else "")
        out = c.expect_tensor(c.call_no_inplace(slerp, a, b, t), what)
        c.expect_shape(out, (7, d), what)
        expected = flagship_slerp(a, b, t)
        ua, ub = a / a.norm(), b / b.norm()
        lerp = ua + t[:, None] * (ub - ua)
        c.assert_close(out, expected, what, mistakes={
            "linear interpolation: the middle codes fall inside the sphere (norm < 1), "
            "where no caption's code lies; follow the great circle": lerp,
            "normalised linear interpolation: on the sphere, but not at a constant angle "
            "per step; use sin((1 - t) w) a + sin(t w) b over sin(w)":
                lerp / lerp.norm(dim=1, keepdim=True),
            "t is reversed: t = 0 must give a and t = 1 must give b":
                flagship_slerp(a, b, 1 - t),
            "a and b were not normalised first; the codes must stay unit vectors":
                a.expand(7, -1) if scale == 1.0 else (
                    (torch.sin((1 - t[:, None]) * torch.arccos((ua * ub).sum())) * a
                     + torch.sin(t[:, None] * torch.arccos((ua * ub).sum())) * b)
                    / torch.sin(torch.arccos((ua * ub).sum()))),
        }, atol=1e-4)
    a = _unit(seed + 2, 8)
    out = c.expect_tensor(c.call(slerp, a, a.clone(), torch.tensor([0.0, 0.3, 1.0])),
                          "slerp(a, a, t)")
    if not torch.isfinite(out).all() or not torch.allclose(out, a.expand(3, -1), atol=1e-3):
        c.fail("slerp(a, a, t) should give a at every t", got=f"{out[:, :3].tolist()}",
               hint="when a == b the angle is 0 and sin(0) = 0 divides: clamp the cosine "
                    "below 1 (e.g. 1 - 1e-6) before arccos")
    c.passed("slerp follows the great circle from a to b (values, norms, a == b)")


# ----------------------------------------------------------------------------- 5.3


def reference_cosine_consistency(fake_codes: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Mean over rows of 1 - cos(fake_codes_i, codes_i); no gradient into `codes`."""
    return (1 - F.cosine_similarity(fake_codes, codes.detach(), dim=1)).mean()


def check_cosine_consistency(cosine_consistency: Callable[..., torch.Tensor], seed: int = 0,
                             quiet: bool = False) -> None:
    """Exercise 5.3: ``cosine_consistency(fake_codes, codes)`` (B, D), (B, D) -> scalar."""
    c = Check("5.3", "cosine_consistency", quiet=quiet)
    fake, codes = 2 * seeded_randn(seed, 9, 6), 0.5 * seeded_randn(seed + 1, 9, 6)
    what = "cosine_consistency(fake_codes (9, 6), codes (9, 6))"
    out = _expect_scalar(c, c.call_no_inplace(cosine_consistency, fake, codes), what)
    cos = F.cosine_similarity(fake, codes, dim=1)
    unit_f, unit_c = F.normalize(fake, dim=1), F.normalize(codes, dim=1)
    c.assert_close(out, reference_cosine_consistency(fake, codes), what, mistakes={
        "returned the mean cosine: minimising it pushes E(G(z, s)) AWAY from s; "
        "return 1 - cos": cos.mean(),
        "a raw dot product: normalise both codes (cosine, not inner product)":
            1 - (fake * codes).sum(1).mean(),
        "summed over rows: average them": (1 - cos).sum(),
        "compared every generated code with every caption code (a B x B matrix); "
        "row i goes with code i only": 1 - (unit_f @ unit_c.T).mean(),
    })
    same = _expect_scalar(c, c.call(cosine_consistency, codes * 3, codes), "on aligned codes")
    if abs(float(same)) > 1e-5:
        c.fail("cosine_consistency should be 0 when each generated code points along its code",
               got=f"{float(same):.4g}")
    fake_g = fake.clone().requires_grad_(True)
    codes_g = codes.clone().requires_grad_(True)
    loss = c.call(cosine_consistency, fake_g, codes_g)
    g_fake, g_codes = torch.autograd.grad(loss, [fake_g, codes_g], allow_unused=True)
    if g_fake is None or g_fake.abs().sum() == 0:
        c.fail("no gradient reaches fake_codes: this term is how G learns to obey s",
               hint="keep fake_codes in the graph (no .detach() on it)")
    if g_codes is not None and g_codes.abs().sum() > 0:
        c.fail("the gradient reaches codes: the condition s is a target here, and G's "
               "step must not move the text encoder", hint="use codes.detach()")
    c.passed("cosine_consistency is the mean of 1 - cos(E(G(z, s)), s), s detached")


# ----------------------------------------------------------------------------- 5.4


def reference_mismatched_codes(codes: torch.Tensor, attributes: torch.Tensor
                               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Roll the batch by one; keep rows whose partner differs in at least one attribute."""
    keep = (attributes != attributes.roll(1, 0)).any(dim=1)
    return codes.roll(1, 0)[keep], keep


def _attrs(seed: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    attrs = torch.stack([torch.randint(k, (n,), generator=g) for k in (3, 4, 2, 4)], dim=1)
    attrs[3] = attrs[2]  # a neighbour with the same four attributes
    attrs[6, :3] = attrs[5, :3]  # same shape, colour, size; another position
    return attrs


def check_mismatched_codes(mismatched_codes: Callable[..., tuple], seed: int = 0,
                           quiet: bool = False) -> None:
    """Exercise 5.4: ``mismatched_codes(codes, attributes)`` -> (wrong_codes, keep)."""
    c = Check("5.4", "mismatched_codes", quiet=quiet)
    codes, attrs = seeded_randn(seed, 10, 5), _attrs(seed, 10)
    what = "mismatched_codes(codes (10, 5), attributes (10, 4))"
    result = c.call_no_inplace(mismatched_codes, codes, attrs)
    if not isinstance(result, tuple) or len(result) != 2:
        c.fail(f"{what} should return a pair (wrong_codes, keep)",
               got=type(result).__name__)
    wrong, keep = (c.expect_tensor(x, what) for x in result)
    exp_wrong, exp_keep = reference_mismatched_codes(codes, attrs)
    c.expect_dtype(keep, torch.bool, f"{what}[1] (keep)",
                   hint="keep is a boolean mask over the batch's rows")
    c.expect_shape(keep, (10,), f"{what}[1] (keep)")
    if not torch.equal(keep, exp_keep):
        if torch.equal(keep, torch.ones(10, dtype=torch.bool)):
            hint = ("kept every row: a row whose rolled partner has the same four attributes "
                    "is not a mismatch (its caption describes the image too); drop it")
        elif torch.equal(keep, (attrs != attrs.roll(1, 0)).all(dim=1)):
            hint = ("kept only rows that differ in ALL four attributes; one different "
                    "attribute already makes the caption wrong (use .any)")
        elif torch.equal(keep, (attrs != attrs.roll(-1, 0)).any(dim=1)):
            hint = "rolled the wrong way: row i gets the code of row i - 1 (roll(1, 0))"
        else:
            hint = "keep[i] is True when attributes[i] differs from attributes[i - 1]"
        c.fail(f"wrong keep mask from {what}", expected=str(exp_keep.tolist()),
               got=str(keep.tolist()), hint=hint)
    c.assert_close(wrong, exp_wrong, f"{what}[0] (wrong_codes)", mistakes={
        "rolled the wrong way: row i gets the code of row i - 1 (roll(1, 0))":
            codes.roll(-1, 0)[keep],
        "returned the kept rows' own codes: those are the RIGHT captions":
            codes[keep],
    })
    partners = attrs.roll(1, 0)[keep]
    if (partners == attrs[keep]).all(dim=1).any():
        c.fail("an image is paired with a caption of its own four attributes")
    one = c.call(mismatched_codes, codes[:1], attrs[:1])
    if len(one[0]) != 0 or bool(one[1].any()):
        c.fail("a batch of one scene has no other caption to borrow; expected no rows",
               got=f"{len(one[0])} rows")
    c.passed("mismatched_codes pairs each kept image with another scene's caption code")


# ----------------------------------------------------------------------------- variants


def _d_loss_bce(rr, rw, fr):
    bce = F.binary_cross_entropy_with_logits
    return (bce(rr, torch.ones_like(rr))
            + (bce(rw, torch.zeros_like(rw)) + bce(fr, torch.zeros_like(fr))) / 2)


def _d_loss_wrong_real(rr, rw, fr):
    return F.softplus(-rr).mean() + 0.5 * (F.softplus(-rw).mean() + F.softplus(fr).mean())


def _d_loss_no_wrong(rr, rw, fr):
    return F.softplus(-rr).mean() + F.softplus(fr).mean()


def _d_loss_unit_weights(rr, rw, fr):
    return F.softplus(-rr).mean() + F.softplus(rw).mean() + F.softplus(fr).mean()


def _d_loss_concat(rr, rw, fr):
    return F.softplus(-rr).mean() + F.softplus(torch.cat([rw, fr])).mean()


def _d_loss_log_sigmoid(rr, rw, fr):
    s = torch.sigmoid
    return (-torch.log(s(rr)).mean()
            - 0.5 * (torch.log(1 - s(rw)).mean() + torch.log(1 - s(fr)).mean()))


def _slerp_lerp(a, b, t):
    a, b = a / a.norm(), b / b.norm()
    return a + t[:, None] * (b - a)


def _slerp_nlerp(a, b, t):
    x = _slerp_lerp(a, b, t)
    return x / x.norm(dim=1, keepdim=True)


def _slerp_reversed(a, b, t):
    return flagship_slerp(a, b, 1 - t)


def _slerp_no_clamp(a, b, t):
    a, b = a / a.norm(), b / b.norm()
    w = torch.arccos((a * b).sum())
    return (torch.sin((1 - t[:, None]) * w) * a + torch.sin(t[:, None] * w) * b) / torch.sin(w)


def _slerp_angles(a, b, t):
    """Right: rotate a towards the unit vector orthogonal to it in the (a, b) plane."""
    a, b = F.normalize(a, dim=0), F.normalize(b, dim=0)
    cos = (a * b).sum().clamp(-1 + 1e-6, 1 - 1e-6)
    ortho = F.normalize(b - cos * a, dim=0)
    angle = torch.arccos(cos) * t[:, None]
    return torch.cos(angle) * a + torch.sin(angle) * ortho


def _cons_cos(f, s):
    return (1 - F.cosine_similarity(f, s, dim=1)).mean()


def _cons_mean_cos(f, s):
    return F.cosine_similarity(f, s.detach(), dim=1).mean()


def _cons_dot(f, s):
    return 1 - (f * s.detach()).sum(1).mean()


def _cons_sum(f, s):
    return (1 - F.cosine_similarity(f, s.detach(), dim=1)).sum()


def _cons_matrix(f, s):
    return 1 - (F.normalize(f, dim=1) @ F.normalize(s.detach(), dim=1).T).mean()


def _cons_normalize(f, s):
    return 1 - (F.normalize(f, dim=1) * F.normalize(s, dim=1).detach()).sum(1).mean()


def _mismatch_all(codes, attrs):
    return codes.roll(1, 0), torch.ones(len(codes), dtype=torch.bool)


def _mismatch_all_differ(codes, attrs):
    keep = (attrs != attrs.roll(1, 0)).all(dim=1)
    return codes.roll(1, 0)[keep], keep


def _mismatch_backwards(codes, attrs):
    keep = (attrs != attrs.roll(-1, 0)).any(dim=1)
    return codes.roll(-1, 0)[keep], keep


def _mismatch_own(codes, attrs):
    keep = (attrs != attrs.roll(1, 0)).any(dim=1)
    return codes[keep], keep


def _mismatch_indexing(codes, attrs):
    previous = torch.arange(len(codes)) - 1  # -1 wraps to the last row
    keep = torch.tensor([bool((attrs[i] != attrs[j]).any()) for i, j in
                         enumerate(previous.tolist())], dtype=torch.bool)
    return codes[previous[keep]], keep


VARIANTS = {
    "check_matching_aware_d_loss": Variants(
        wrong=[(_d_loss_wrong_real, "labelled the real-image/wrong-caption pairs as real"),
               (_d_loss_no_wrong, "left out the real-image/wrong-caption term"),
               (_d_loss_unit_weights, "1/2 each"), (_d_loss_concat, "row counts"),
               (_d_loss_log_sigmoid, "large logits")],
        right=[reference_matching_aware_d_loss, _d_loss_bce]),
    "check_slerp": Variants(
        wrong=[(_slerp_lerp, "linear interpolation"), (_slerp_nlerp, "constant angle"),
               (_slerp_reversed, "reversed"), (_slerp_no_clamp, "clamp")],
        right=[flagship_slerp, _slerp_angles]),
    "check_cosine_consistency": Variants(
        wrong=[(_cons_mean_cos, "AWAY"), (_cons_dot, "raw dot product"),
               (_cons_sum, "summed over rows"), (_cons_matrix, "B x B"),
               (_cons_cos, "must not move the text encoder")],
        right=[reference_cosine_consistency, _cons_normalize]),
    "check_mismatched_codes": Variants(
        wrong=[(_mismatch_all, "kept every row"), (_mismatch_all_differ, "use .any"),
               (_mismatch_backwards, "wrong way"), (_mismatch_own, "RIGHT captions")],
        right=[reference_mismatched_codes, _mismatch_indexing]),
}

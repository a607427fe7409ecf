"""Checks for the exercises of lesson 04 (``exercises/04_encoding_modalities.ipynb``).

Lesson: 04 Encoding modalities into one space. Exercise 4.1 ``info_nce``, 4.2
``masked_mean``, 4.3 ``recall_at_k``, 4.4 ``confusion_loss``.

References: ``mmgan_ref.objectives.info_nce``, ``mmgan_ref.nn.encoders.TextEncoder``
(masked mean), ``mmgan_ref.metrics.retrieval.retrieval_metrics`` (R@K, ties keep gallery
order) and ``mmgan_ref.nn.modality_discriminator.modality_confusion_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.metrics.retrieval import retrieval_metrics
from mmgan_ref.nn.encoders import PAD, TextEncoder
from mmgan_ref.nn.modality_discriminator import modality_confusion_loss
from mmgan_ref.objectives import info_nce


def _expect_scalar(c: Check, value: object, what: str) -> torch.Tensor:
    value = c.expect_tensor(value, what)
    if value.dim() != 0:
        c.fail(f"{what} should be a scalar tensor (a mean), got shape {tuple(value.shape)}",
               hint="average over the batch (F.cross_entropy already does)")
    return value


def _uneven(seed: int, batch: int, dim: int) -> torch.Tensor:
    """Codes whose rows have very different norms, so forgetting to normalise shows."""
    scales = torch.linspace(0.3, 4.0, batch)[torch.randperm(
        batch, generator=torch.Generator().manual_seed(seed))]
    return seeded_randn(seed, batch, dim) * scales[:, None]


# ----------------------------------------------------------------------------- 4.1


def reference_info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE of cosine similarities divided by ``temperature``."""
    return info_nce(a, b, temperature=temperature)


def check_info_nce(fn: Callable[..., torch.Tensor], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 4.1: ``info_nce(a, b, temperature)`` -> scalar, symmetric CLIP loss."""
    c = Check("4.1", "info_nce", quiet=quiet)
    for batch, dim, temperature in ((8, 5, 0.1), (5, 3, 0.5), (12, 16, 0.07)):
        a, b = _uneven(seed, batch, dim), _uneven(seed + 1, batch, dim)
        what = f"info_nce(a {tuple(a.shape)}, b {tuple(b.shape)}, temperature={temperature})"
        out = _expect_scalar(c, c.call_no_inplace(fn, a, b, temperature), what)
        targets = torch.arange(batch)
        raw = a @ b.T / temperature
        cos = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
        c.assert_close(out, reference_info_nce(a, b, temperature), what, mistakes={
            "one direction only (a->b); average it with the b->a direction":
                info_nce(a, b, temperature=temperature, symmetric=False),
            "one direction only (b->a); average it with the a->b direction":
                info_nce(b, a, temperature=temperature, symmetric=False),
            "summed the two directions instead of averaging them":
                2 * reference_info_nce(a, b, temperature),
            "no temperature: divide the cosine similarities by it": info_nce(a, b, logit_scale=1.0),
            "multiplied by the temperature instead of dividing by it":
                info_nce(a, b, logit_scale=temperature),
            "forgot to L2-normalise the codes (dot products, not cosines)":
                (F.cross_entropy(raw, targets) + F.cross_entropy(raw.T, targets)) / 2,
            "wrong target indices: row i's positive is column i (torch.arange(B))":
                (F.cross_entropy(cos / temperature, torch.zeros_like(targets))
                 + F.cross_entropy(cos.T / temperature, torch.zeros_like(targets))) / 2,
        })
    a, b = seeded_randn(seed + 2, 6, 4).requires_grad_(True), seeded_randn(seed + 3, 6, 4)
    b = b.requires_grad_(True)
    loss = c.call(fn, a, b, 0.2)
    if not loss.requires_grad:
        c.fail("no gradient flows back to the codes", hint="keep the loss differentiable "
               "(no .detach(), .item() or NumPy inside)")
    ga, gb = torch.autograd.grad(loss, (a, b), allow_unused=True)
    if ga is None or gb is None or ga.abs().sum() == 0 or gb.abs().sum() == 0:
        c.fail("the gradient reaches only one of a and b", hint="both encoders must learn")
    c.passed("info_nce matches the symmetric InfoNCE of mmgan_ref.objectives (values, gradients)")


# ----------------------------------------------------------------------------- 4.2


def reference_masked_mean(embeddings: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Mean of the embeddings over non-PAD positions; rows of only PAD give zeros."""
    mask = (tokens != PAD).to(embeddings.dtype)  # (B, L)
    count = mask.sum(1, keepdim=True).clamp(min=1)
    return (embeddings * mask[..., None]).sum(1) / count


def _tokens_case(seed: int) -> torch.Tensor:
    rng = torch.Generator().manual_seed(seed)
    tokens = torch.randint(2, 20, (5, 7), generator=rng)
    tokens[0, 4:] = PAD   # padded at the end
    tokens[1, 1:] = PAD   # a one-word caption
    tokens[2, :] = PAD    # an empty caption
    tokens[3, 2] = PAD    # PAD in the middle still does not count
    return tokens         # row 4: no padding


def check_masked_mean(fn: Callable[..., torch.Tensor], seed: int = 0,
                      quiet: bool = False) -> None:
    """Exercise 4.2: ``masked_mean(embeddings (B, L, E), tokens (B, L))`` -> (B, E)."""
    c = Check("4.2", "masked_mean", quiet=quiet)
    tokens = _tokens_case(seed)
    for dtype in (torch.float32, torch.float64):
        emb = seeded_randn(seed, 5, 7, 3, dtype=dtype) + 0.5  # PAD rows non-zero on purpose
        what = f"masked_mean(embeddings {tuple(emb.shape)} {str(dtype)[6:]}, tokens (5, 7))"
        out = c.expect_tensor(c.call_no_inplace(fn, emb, tokens), what)
        c.expect_shape(out, (5, 3), what, hint="pool over the token dimension (dim=1)")
        c.expect_dtype(out, dtype, what, hint="keep the embeddings' dtype (convert the mask)")
        if not torch.isfinite(out).all():
            c.fail("masked_mean gives NaN or inf for a caption made only of PAD",
                   hint="divide by the count clamped to at least 1: such a row's code is 0")
        mask = (tokens != PAD).to(dtype)
        summed = (emb * mask[..., None]).sum(1)
        lengths = mask.sum(1).clamp(min=1)
        by_length = torch.stack([emb[i, :int(n)].mean(0) for i, n in
                                 enumerate((tokens != PAD).sum(1).clamp(min=1))])
        c.assert_close(out, reference_masked_mean(emb, tokens), what, mistakes={
            "padding included: averaged over all L positions": emb.mean(1),
            "divided by the full length L instead of the number of real tokens": summed / 7,
            "summed the PAD positions' embeddings too (only the count was masked)":
                emb.sum(1) / lengths[:, None],
            "took the first n positions (n = number of real tokens): the mask must come "
            "from tokens != PAD, wherever PAD is": by_length,
        })
    # agreement with the package's TextEncoder (mean mode) when its projection is identity
    torch.manual_seed(seed)
    encoder = TextEncoder(20, out_dim=4, embed_dim=4, mode="mean")
    with torch.no_grad():
        encoder.proj.weight.copy_(torch.eye(4))
        encoder.proj.bias.zero_()
        expected = encoder(tokens)
        out = c.call(fn, encoder.embed(tokens), tokens)
    c.assert_close(out, expected, "masked_mean(TextEncoder.embed(tokens), tokens)",
                   hint="should equal mmgan_ref.nn.encoders.TextEncoder's pooled code")
    emb = (seeded_randn(seed + 1, 5, 7, 3) + 0.5).requires_grad_(True)
    grad = torch.autograd.grad(c.call(fn, emb, tokens).sum(), emb, allow_unused=True)[0]
    if grad is None:
        c.fail("no gradient flows back to the embeddings", hint="keep it differentiable")
    if grad[tokens == PAD].abs().sum() > 0:
        c.fail("PAD positions receive gradient: they take part in the code",
               hint="multiply by the mask before summing")
    c.passed("masked_mean ignores PAD (anywhere), handles empty captions, keeps dtype")


# ----------------------------------------------------------------------------- 4.3


def reference_recall_at_k(similarity: torch.Tensor, query_labels: torch.Tensor,
                          gallery_labels: torch.Tensor, k: int) -> float:
    """Share of queries with a relevant item (same label) in the top k; ties keep gallery order.

    Queries without any relevant item in the gallery are left out.
    """
    sim = similarity.detach().double().numpy()
    relevant = (query_labels[:, None] == gallery_labels[None, :]).numpy()
    order = np.argsort(-sim, axis=1, kind="stable")
    ranked = np.take_along_axis(relevant, order, axis=1)
    scored = ranked.any(axis=1)
    return float(ranked[scored, :k].any(axis=1).mean())


def _as_float(c: Check, value: Any, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    c.fail(f"{what} should return a float", got=type(value).__name__)


def _unit(x: torch.Tensor) -> np.ndarray:
    array = x.double().numpy()
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def _recall_mistakes(sim: torch.Tensor, ql: torch.Tensor, gl: torch.Tensor,
                     k: int) -> dict[str, float]:
    s = sim.double().numpy()
    relevant = (ql[:, None] == gl[None, :]).numpy()
    order = np.argsort(-s, axis=1, kind="stable")
    ranked = np.take_along_axis(relevant, order, axis=1)
    top = ranked[:, :k]
    scored = ranked.any(axis=1)
    mistakes = {
        "ranked ascending: the most similar item has the LARGEST similarity":
            float(np.take_along_axis(relevant, np.argsort(s, axis=1, kind="stable"),
                                     axis=1)[scored, :k].any(axis=1).mean()),
        "counted queries with no relevant item in the gallery as misses; leave them out":
            float(top.any(axis=1).mean()),
        "averaged the share of relevant items found (item recall); R@K asks whether AT "
        "LEAST ONE relevant item is in the top K":
            float((top.sum(1)[scored] / ranked.sum(1)[scored]).mean()),
        "ties broken towards the later gallery item; keep gallery order (a stable sort)":
            float(np.take_along_axis(relevant, np.argsort(s, axis=1, kind="stable")[:, ::-1],
                                     axis=1)[scored, :k].any(axis=1).mean()),
    }
    if s.shape[0] == s.shape[1]:
        diagonal = np.take_along_axis(np.eye(len(s), dtype=bool), order, axis=1)
        mistakes["used only the diagonal (item i) as relevant; every gallery item with the "
                 "query's label counts"] = float(diagonal[:, :k].any(axis=1).mean())
    return mistakes


def check_recall_at_k(fn: Callable[..., Any], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 4.3: ``recall_at_k(similarity (Q, G), query_labels, gallery_labels, k)``."""
    c = Check("4.3", "recall_at_k", quiet=quiet)
    rng = torch.Generator().manual_seed(seed)
    q_codes, g_codes = seeded_randn(seed, 30, 6), seeded_randn(seed + 1, 30, 6)
    q_codes = q_codes + 0.8 * g_codes  # some signal, so the numbers are not all chance
    q_labels = torch.randint(0, 6, (30,), generator=rng)
    g_labels = torch.randint(0, 5, (30,), generator=rng)  # label 5 never in the gallery
    q_labels[-2:] = 5  # two queries with no relevant item in the gallery
    g_labels[:6] = q_labels[:6].clamp(max=4)
    sim = torch.from_numpy(_unit(q_codes) @ _unit(g_codes).T)  # as retrieval_metrics does
    # ties: query 0 sees an irrelevant gallery item and a relevant one with equal similarity
    tie_sim = torch.tensor([[0.5, 0.9, 0.9, 0.1], [0.2, 0.7, 0.7, 0.7], [0.3, 0.3, 0.3, 0.3]],
                           dtype=torch.float64)
    tie_q, tie_g = torch.tensor([0, 1, 0]), torch.tensor([1, 1, 0, 1])
    cases = [(sim, q_labels, g_labels, k) for k in (1, 3, 5)]
    cases += [(tie_sim, tie_q, tie_g, 1), (tie_sim, tie_q, tie_g, 2)]
    cases += [(sim[:12, :20], q_labels[:12], g_labels[:20], 2)]
    for similarity, ql, gl, k in cases:
        what = f"recall_at_k(similarity {tuple(similarity.shape)}, ..., k={k})"
        got = _as_float(c, c.call_no_inplace(fn, similarity, ql, gl, k), what)
        expected = reference_recall_at_k(similarity, ql, gl, k)
        if similarity is sim:  # the package's own number, from the codes
            expected = retrieval_metrics(q_codes, g_codes, ql, gl, ks=(k,))[f"R@{k}"]
        if math.isclose(got, expected, abs_tol=1e-6):
            continue
        mistake = next((m for m, v in _recall_mistakes(similarity, ql, gl, k).items()
                        if math.isclose(got, v, abs_tol=1e-6)), None)
        c.fail(f"wrong value from {what}", expected=f"{expected:.4f}", got=f"{got:.4f}",
               hint=f"this looks like a common mistake: {mistake}" if mistake else None)
    c.passed("recall_at_k matches retrieval_metrics (labels, ties, queries without a match)")


# ----------------------------------------------------------------------------- 4.4


def reference_confusion_loss(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of softmax(logits) with the uniform target over the M modalities."""
    return modality_confusion_loss(logits)


def check_confusion_loss(fn: Callable[..., torch.Tensor], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 4.4: ``confusion_loss(logits (B, M))`` -> scalar, >= log M."""
    c = Check("4.4", "confusion_loss", quiet=quiet)
    for batch, m in ((10, 3), (7, 2), (4, 5)):
        logits = 2 * seeded_randn(seed + m, batch, m)
        what = f"confusion_loss(logits {tuple(logits.shape)})"
        out = _expect_scalar(c, c.call_no_inplace(fn, logits), what)
        log_p = F.log_softmax(logits, dim=1)
        c.assert_close(out, reference_confusion_loss(logits), what, mistakes={
            "summed over the modalities instead of averaging (the uniform target is 1/M each)":
                -log_p.sum(1).mean(),
            "computed the entropy of D's prediction; the target is the uniform distribution, "
            "so the loss is -(1/M) sum_m log p_m": -(log_p.exp() * log_p).sum(1).mean(),
            "squared distance of the probabilities to 1/M, not the cross-entropy":
                ((log_p.exp() - 1 / m) ** 2).mean(),
        })
    even = torch.full((6, 3), 1.7)
    floor = float(c.call(fn, even))
    if not math.isclose(floor, math.log(3), rel_tol=1e-5):
        c.fail("an undecided discriminator (equal logits) should give log M",
               expected=f"{math.log(3):.5f}", got=f"{floor:.5f}")
    big = 100 * seeded_randn(seed + 9, 6, 3)
    if not torch.isfinite(c.call(fn, big)):
        c.fail("confusion_loss is not finite for large logits (|l| ~ 100)",
               hint="use F.log_softmax, not torch.log(torch.softmax(...))")
    logits = seeded_randn(seed + 4, 6, 3).requires_grad_(True)
    loss = c.call(fn, logits)
    grad = torch.autograd.grad(loss, logits, allow_unused=True)[0] if loss.requires_grad else None
    if grad is None or grad.abs().sum() == 0:
        c.fail("no gradient flows back to the logits", hint="the encoders learn through it")
    with torch.no_grad():
        stepped = float(c.call(fn, logits - 0.5 * grad))
    if not stepped < float(loss.detach()):
        c.fail("a gradient step does not lower the loss", hint="check the sign")
    c.passed("confusion_loss is the cross-entropy with the uniform target (floor log M)")


# ----------------------------------------------------------------------------- meta-test variants


def _nce_manual(a, b, temperature):
    a, b = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    logits = a @ b.T / temperature
    return -(logits.log_softmax(1).diagonal().mean() + logits.log_softmax(0).diagonal().mean()) / 2


def _nce_one_direction(a, b, temperature):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(a)))


def _nce_no_temperature(a, b, temperature):
    return info_nce(a, b, logit_scale=1.0)


def _nce_no_normalise(a, b, temperature):
    logits = a @ b.T / temperature
    t = torch.arange(len(a))
    return (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2


def _nce_zero_targets(a, b, temperature):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    t = torch.zeros(len(a), dtype=torch.long)
    return (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2


def _mean_sum_count(embeddings, tokens):
    mask = (tokens != 0).unsqueeze(-1).to(embeddings.dtype)
    return (embeddings * mask).sum(1) / torch.maximum(mask.sum(1), torch.ones_like(mask.sum(1)))


def _mean_loop(embeddings, tokens):
    rows = []
    for e, t in zip(embeddings, tokens, strict=True):
        keep = e[t != 0]
        rows.append(keep.mean(0) if len(keep) else torch.zeros_like(e[0]))
    return torch.stack(rows)


def _mean_padding_included(embeddings, tokens):
    return embeddings.mean(1)


def _mean_full_length(embeddings, tokens):
    return (embeddings * (tokens != 0)[..., None]).sum(1) / tokens.shape[1]


def _mean_nan_empty(embeddings, tokens):
    mask = (tokens != 0).to(embeddings.dtype)
    return (embeddings * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)


def _mean_by_length(embeddings, tokens):
    lengths = (tokens != 0).sum(1).clamp(min=1)
    return torch.stack([embeddings[i, :int(n)].mean(0) for i, n in enumerate(lengths)])


def _recall_torch(similarity, query_labels, gallery_labels, k):
    order = torch.argsort(similarity, dim=1, descending=True, stable=True)
    relevant = query_labels[:, None] == gallery_labels[None, :]
    ranked = relevant.gather(1, order)
    scored = ranked.any(1)
    return ranked[scored, :k].any(1).float().mean().item()


def _recall_loop(similarity, query_labels, gallery_labels, k):
    hits, n = 0, 0
    for i in range(len(similarity)):
        if not (gallery_labels == query_labels[i]).any():
            continue
        ranked = sorted(range(similarity.shape[1]), key=lambda j: -float(similarity[i, j]))
        hits += any(int(gallery_labels[j]) == int(query_labels[i]) for j in ranked[:k])
        n += 1
    return hits / n


def _recall_ascending(similarity, query_labels, gallery_labels, k):
    return _recall_torch(-similarity, query_labels, gallery_labels, k)


def _recall_keep_unmatched(similarity, query_labels, gallery_labels, k):
    order = torch.argsort(similarity, dim=1, descending=True, stable=True)
    relevant = query_labels[:, None] == gallery_labels[None, :]
    return relevant.gather(1, order)[:, :k].any(1).float().mean().item()


def _recall_reversed_ties(similarity, query_labels, gallery_labels, k):
    order = np.argsort(similarity.numpy(), axis=1, kind="stable")[:, ::-1].copy()
    relevant = query_labels[:, None] == gallery_labels[None, :]
    ranked = relevant.gather(1, torch.from_numpy(order))
    scored = ranked.any(1)
    return ranked[scored, :k].any(1).float().mean().item()


def _recall_item_recall(similarity, query_labels, gallery_labels, k):
    order = torch.argsort(similarity, dim=1, descending=True, stable=True)
    ranked = (query_labels[:, None] == gallery_labels[None, :]).gather(1, order).float()
    scored = ranked.sum(1) > 0
    return (ranked[scored, :k].sum(1) / ranked[scored].sum(1)).mean().item()


def _confusion_manual(logits):
    m = logits.shape[1]
    return F.cross_entropy(logits, torch.full_like(logits, 1 / m))


def _confusion_sum(logits):
    return -F.log_softmax(logits, dim=1).sum(1).mean()


def _confusion_entropy(logits):
    p = logits.softmax(1)
    return -(p * p.log()).sum(1).mean()


def _confusion_naive_log(logits):
    return -torch.log(torch.softmax(logits, dim=1)).mean()


def _confusion_mse(logits):
    return ((logits.softmax(1) - 1 / logits.shape[1]) ** 2).mean()


VARIANTS = {
    "check_info_nce": Variants(
        wrong=[(_nce_one_direction, "one direction"), (_nce_no_temperature, "no temperature"),
               (_nce_no_normalise, "normalise"), (_nce_zero_targets, "target indices")],
        right=[reference_info_nce, _nce_manual]),
    "check_masked_mean": Variants(
        wrong=[(_mean_padding_included, "padding included"), (_mean_full_length, "full length"),
               (_mean_nan_empty, "only of PAD"), (_mean_by_length, "first n positions")],
        right=[reference_masked_mean, _mean_sum_count, _mean_loop]),
    "check_recall_at_k": Variants(
        wrong=[(_recall_ascending, "ascending"), (_recall_keep_unmatched, "no relevant item"),
               (_recall_reversed_ties, "ties"), (_recall_item_recall, "AT LEAST ONE")],
        right=[reference_recall_at_k, _recall_torch, _recall_loop]),
    "check_confusion_loss": Variants(
        wrong=[(_confusion_sum, "summed over the modalities"), (_confusion_entropy, "entropy"),
               (_confusion_naive_log, "large logits"), (_confusion_mse, "squared distance")],
        right=[reference_confusion_loss, _confusion_manual]),
}

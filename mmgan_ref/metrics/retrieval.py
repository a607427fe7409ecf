"""Retrieval in a shared space: Recall@K and mean average precision, every direction.

Lesson: 04 Encoding modalities into one space (and 07 Applications: retrieval).

Protocol. Every query code is compared with every gallery code by cosine similarity and
the gallery is ranked by it (ties keep gallery order). A gallery item is *relevant* when
its label equals the query's: the same class for int labels, the same row (every
attribute equal) for (N, A) attribute labels.

- R@K: share of queries with at least one relevant item among the top K (the usual
  "recall at K" of cross-modal retrieval).
- mAP: mean over queries of average precision, AP = (1/R) sum over relevant items of the
  precision at their rank (R relevant items in the gallery).

Queries with no relevant item in the gallery are left out of both. Always print
:func:`chance_level` and a baseline (:func:`cca_retrieval_baseline`) beside the numbers.

References:
    Manning, Raghavan, Schütze (2008), "Introduction to Information Retrieval", ch. 8
    (precision at K, average precision).
    Rasiwasia et al. (2010), "A New Approach to Cross-Modal Multimedia Retrieval"
    (CCA as the cross-modal retrieval baseline; mAP with class relevance).
    Hotelling (1936), "Relations between two sets of variates" (CCA).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmgan_ref.metrics.features import as_array, as_labels, condition_ids, fit_quietly
from mmgan_ref.utils import check_float, check_int


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    if isinstance(ks, int) or len(ks) == 0:
        raise TypeError(f"ks must be a non-empty sequence of ints such as (1, 5), got {ks!r}")
    return tuple(check_int("ks", k, minimum=1) for k in ks)


def _unit_rows(name: str, codes: Any) -> np.ndarray:
    array = as_array(name, codes, ndim=2)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-12)


def retrieval_metrics(query_codes: Any, gallery_codes: Any, query_labels: Any,
                      gallery_labels: Any, ks: Sequence[int] = (1, 5),
                      exclude_self: bool = False) -> dict[str, float]:
    """R@K for each K in ``ks`` and mAP of cosine-similarity retrieval (see module doc).

    Args:
        query_codes: (Q, d); gallery_codes: (G, d).
        query_labels: (Q,) ints or (Q, A) attribute rows; gallery_labels: (G,) or (G, A).
        ks: the cut-offs K.
        exclude_self: query i and gallery i are the same item (Q == G, same modality):
            drop it from query i's ranking.

    Returns:
        {"R@1": ..., "R@5": ..., "mAP": ..., "queries": number of queries scored}
    """
    ks = _check_ks(ks)
    query = _unit_rows("query_codes", query_codes)
    gallery = _unit_rows("gallery_codes", gallery_codes)
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(f"query_codes and gallery_codes must have the same size, "
                         f"got {query.shape[1]} and {gallery.shape[1]}")
    q_ids, g_ids = condition_ids(as_labels("query_labels", query_labels, len(query)),
                                 as_labels("gallery_labels", gallery_labels, len(gallery)))
    similarity = query @ gallery.T  # (Q, G)
    relevant = q_ids[:, None] == g_ids[None, :]  # (Q, G)
    if exclude_self:
        if len(query) != len(gallery):
            raise ValueError(f"exclude_self needs as many queries as gallery items, "
                             f"got {len(query)} and {len(gallery)}")
        np.fill_diagonal(similarity, -np.inf)
        np.fill_diagonal(relevant, False)
    order = np.argsort(-similarity, axis=1, kind="stable")
    ranked = np.take_along_axis(relevant, order, axis=1)  # (Q, G) relevance by rank
    if exclude_self:
        ranked = ranked[:, :-1]  # the query itself sits last with similarity -inf
    n_relevant = ranked.sum(axis=1)
    scored = n_relevant > 0
    if not scored.any():
        raise ValueError("no query has a relevant item in the gallery; check the labels")
    ranked, n_relevant = ranked[scored], n_relevant[scored]
    result = {f"R@{k}": float(ranked[:, :k].any(axis=1).mean()) for k in ks}
    precision = np.cumsum(ranked, axis=1) / np.arange(1, ranked.shape[1] + 1)
    average_precision = (precision * ranked).sum(axis=1) / n_relevant
    result["mAP"] = float(average_precision.mean())
    result["queries"] = int(scored.sum())
    return result


def cross_modal_retrieval(codes_by_modality: dict[str, Any], labels: Any,
                          ks: Sequence[int] = (1, 5)) -> dict[str, dict[str, float]]:
    """Retrieval in every direction between modalities whose codes share row order.

    Args:
        codes_by_modality: e.g. {"text": (N, d), "image": (N, d), "sound": (N, d)}; row i
            of every modality describes the same item.
        labels: (N,) or (N, A), shared by all modalities.

    Returns:
        {"text->image": retrieval_metrics(...), "image->text": ..., ...}
    """
    if not isinstance(codes_by_modality, dict) or len(codes_by_modality) < 2:
        raise ValueError("codes_by_modality must be a dict of at least two modalities, got "
                         f"{type(codes_by_modality).__name__} with "
                         f"{len(codes_by_modality) if isinstance(codes_by_modality, dict) else 0}")
    return {f"{q}->{g}": retrieval_metrics(q_codes, g_codes, labels, labels, ks)
            for q, q_codes in codes_by_modality.items()
            for g, g_codes in codes_by_modality.items() if q != g}


def chance_level(labels: Any, ks: Sequence[int] = (1, 5),
                 gallery_labels: Any | None = None) -> dict[str, float]:
    """Expected R@K and mAP of a random ranking, exactly, for these labels.

    For a query with R relevant items among G: R@K = 1 - C(G-R, K) / C(G, K) and
    E[AP] = (H_G + (R - 1) / (G - 1) (G - H_G)) / G, with H_G the G-th harmonic number.

    Args:
        labels: query labels (N,) or (N, A); gallery_labels: defaults to ``labels``.
    """
    from scipy.stats import hypergeom

    ks = _check_ks(ks)
    q = as_array("labels", labels, ndim=(1, 2), dtype=np.int64)
    g = q if gallery_labels is None else as_array("gallery_labels", gallery_labels,
                                                  ndim=(1, 2), dtype=np.int64)
    q_ids, g_ids = condition_ids(q, g)
    n = len(g_ids)
    r = np.bincount(g_ids, minlength=q_ids.max() + 1)[q_ids]
    r = r[r > 0]
    if len(r) == 0:
        raise ValueError("no query has a relevant item in the gallery; check the labels")
    harmonic = np.sum(1.0 / np.arange(1, n + 1))
    result = {f"R@{k}": float(np.mean(1.0 - hypergeom.pmf(0, n, r, min(k, n)))) for k in ks}
    spread = (r - 1) / max(n - 1, 1) * (n - harmonic)
    result["mAP"] = float(np.mean((harmonic + spread) / n))
    return result


def cca_retrieval_baseline(feats_a: Any, feats_b: Any, labels: Any, n_components: int = 8,
                           seed: int = 0, train_fraction: float = 0.5,
                           ks: Sequence[int] = (1, 5)) -> dict[str, dict[str, float]]:
    """Classic cross-modal baseline: CCA fitted on a train split, retrieval on the rest.

    Args:
        feats_a: (N, d_a) raw features of modality a; feats_b: (N, d_b), same row order.
        labels: (N,) or (N, A). n_components: CCA dimensions.
        seed: seeds the random split; train_fraction: share of rows used to fit CCA.

    Returns:
        {"a->b": retrieval_metrics(...), "b->a": ...} on the test rows.
    """
    from sklearn.cross_decomposition import CCA

    a = as_array("feats_a", feats_a, ndim=2)
    b = as_array("feats_b", feats_b, ndim=2)
    lab = as_labels("labels", labels, len(a))
    if len(b) != len(a):
        raise ValueError(f"feats_a and feats_b must have the same rows, got {len(a)} and {len(b)}")
    check_int("seed", seed, minimum=0)
    check_float("train_fraction", train_fraction, minimum=0.0, maximum=1.0, exclusive_min=True)
    check_int("n_components", n_components, minimum=1,
              maximum=min(a.shape[1], b.shape[1]))
    order = np.random.default_rng(seed).permutation(len(a))
    n_train = int(round(train_fraction * len(a)))
    if n_train <= n_components or n_train >= len(a):
        raise ValueError(f"train_fraction={train_fraction} leaves {n_train} training rows of "
                         f"{len(a)}; need more than n_components={n_components} and a test set")
    train, test = order[:n_train], order[n_train:]
    cca = fit_quietly(CCA(n_components=n_components, max_iter=1000), a[train], b[train])
    code_a, code_b = cca.transform(a[test], b[test])
    return {"a->b": retrieval_metrics(code_a, code_b, lab[test], lab[test], ks),
            "b->a": retrieval_metrics(code_b, code_a, lab[test], lab[test], ks)}

"""Checks for the exercises of lesson 07 (``exercises/07_applications.ipynb``).

Lesson: 07 Applications. Exercise 7.1 ``pca_anomaly_score``, 7.2 ``auroc_from_normality``,
7.3 ``cas``, 7.4 ``recall_at_k``.

References: ``mmgan_ref.metrics.anomaly`` (the PCA detector, ``anomaly_scores_auc``),
``mmgan_ref.metrics.cas`` (CAS, Ravuri and Vinyals 2019) and
``mmgan_ref.metrics.retrieval`` (``retrieval_metrics``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from mmgan_ref.checks._framework import Check, Variants, describe, seeded_randn
from mmgan_ref.metrics.retrieval import retrieval_metrics


def _as_float(c: Check, value: Any, what: str) -> float:
    """A Python number, NumPy scalar or one-element tensor -> float; anything else fails."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return c.fail(f"{what} should return one number (a float)", got=describe(value))


def _expect_value(c: Check, got: float, expected: float, what: str,
                  mistakes: dict[str, float], tol: float = 1e-6) -> None:
    if math.isclose(got, expected, abs_tol=tol):
        return
    named = [text for text, value in mistakes.items()
             if math.isclose(got, value, abs_tol=tol) and not math.isclose(value, expected,
                                                                           abs_tol=tol)]
    c.fail(f"wrong value from {what}", expected=f"{expected:.6f}", got=f"{got:.6f}",
           hint=f"this looks like a common mistake: {named[0]}" if named else None)


def _as_tensor(c: Check, value: Any, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return c.expect_tensor(value, what)


# ----------------------------------------------------------------------------- 7.1


def reference_pca_anomaly_score(train: torch.Tensor, test: torch.Tensor,
                                n_components: int) -> torch.Tensor:
    """Squared error of rebuilding each test row from the train rows' first PCs.

    Args:
        train: (N, D) normal data; test: (M, D). Returns (M,) float64.
    """
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components).fit(train.double().numpy())
    flat = test.double().numpy()
    rebuilt = pca.inverse_transform(pca.transform(flat))
    return torch.from_numpy(((flat - rebuilt) ** 2).sum(axis=1))


def _low_rank_data(seed: int, n: int, dim: int = 12, rank: int = 3) -> torch.Tensor:
    """Rows near a rank-``rank`` affine subspace, far from the origin (centering matters)."""
    basis = seeded_randn(seed, rank, dim)
    codes = 2 * seeded_randn(seed + 1, n, rank)
    offset = 3 + seeded_randn(seed + 2, 1, dim)
    return codes @ basis + offset + 0.1 * seeded_randn(seed + 3, n, dim)


def _pca_mistakes(train: torch.Tensor, test: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    from sklearn.decomposition import PCA

    ref = reference_pca_anomaly_score(train, test, k)
    pca = PCA(n_components=k).fit(train.double().numpy())
    codes = torch.from_numpy(pca.transform(test.double().numpy()))
    _, _, vh = torch.linalg.svd(train.double(), full_matrices=False)
    plane = vh[:k]
    uncentred = (test.double() - test.double() @ plane.T @ plane).pow(2).sum(1)
    return {
        "fitted the PCA on the test images: the detector may only learn from normal "
        "training data": reference_pca_anomaly_score(test, test, k),
        "fitted the PCA on train and test together (test data leaks into the detector)":
            reference_pca_anomaly_score(torch.cat([train, test]), test, k),
        "returned the L2 norm; the score is the SQUARED error (sum of squares)": ref.sqrt(),
        "averaged over pixels; the score is the SUM of squared errors": ref / test.shape[1],
        "scored the size of the PCA code, not what PCA fails to rebuild": codes.pow(2).sum(1),
        "did not centre the data before the SVD (PCA subtracts the training mean)": uncentred,
    }


def check_pca_anomaly_score(pca_anomaly_score: Callable[..., Any], seed: int = 0,
                            quiet: bool = False) -> None:
    """Exercise 7.1: ``pca_anomaly_score(train, test, n_components)`` -> (M,) scores."""
    c = Check("7.1", "pca_anomaly_score", quiet=quiet)
    for n, m, k in ((80, 30, 3), (40, 9, 5)):
        train, test = _low_rank_data(seed, n), _low_rank_data(seed + 10, m)
        test = torch.cat([test, test[:3] + 2 * seeded_randn(seed + 20, 3, test.shape[1])])
        what = f"pca_anomaly_score(train {tuple(train.shape)}, test {tuple(test.shape)}, {k})"
        out = _as_tensor(c, c.call_no_inplace(pca_anomaly_score, train, test, k), what)
        hint = ("return one score per TEST image" if out.shape[:1] == train.shape[:1]
                else "return the per-image error, not the rebuilt images"
                if out.dim() == 2 else None)
        c.expect_shape(out, (len(test),), what, hint=hint)
        c.assert_close(out.double(), reference_pca_anomaly_score(train, test, k), what,
                       mistakes=_pca_mistakes(train, test, k), rtol=1e-3, atol=1e-5)
    # an image of the training subspace scores ~0 once every direction is kept
    train = _low_rank_data(seed + 30, 50, dim=6)
    out = _as_tensor(c, c.call(pca_anomaly_score, train, train[:5], 6), "all components")
    if float(out.double().abs().max()) > 1e-6:
        c.fail("with n_components equal to the dimension every image is rebuilt exactly, "
               "so every score should be ~0", got=f"max score {float(out.abs().max()):.3g}")
    c.passed("pca_anomaly_score matches PCA's squared reconstruction error, fitted on train")


# ----------------------------------------------------------------------------- 7.2


def reference_auroc_from_normality(normality: torch.Tensor, is_anomaly: torch.Tensor) -> float:
    """AUROC with anomalies as positives, from scores where HIGHER means MORE NORMAL."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(is_anomaly.numpy().astype(int), -normality.double().numpy()))


def _auroc_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    labels = torch.rand(60, generator=torch.Generator().manual_seed(seed)) < 0.3
    labels[:2] = torch.tensor([True, False])
    normal_ish = seeded_randn(seed + 1, 60) - 1.0 * labels  # anomalies look less normal
    rounded = (normal_ish * 2).round() / 2  # many ties
    return [(normal_ish, labels), (rounded, labels), (torch.zeros(10), torch.arange(10) < 4)]


def check_auroc_from_normality(auroc_from_normality: Callable[..., Any], seed: int = 0,
                               quiet: bool = False) -> None:
    """Exercise 7.2: ``auroc_from_normality(normality, is_anomaly)`` -> float AUROC."""
    from sklearn.metrics import average_precision_score

    c = Check("7.2", "auroc_from_normality", quiet=quiet)
    for normality, labels in _auroc_cases(seed):
        what = f"auroc_from_normality(normality ({len(normality)},), is_anomaly)"
        got = _as_float(c, c.call_no_inplace(auroc_from_normality, normality, labels), what)
        expected = reference_auroc_from_normality(normality, labels)
        diff = normality[~labels][:, None] - normality[labels][None, :]
        strict = float((diff > 0).double().mean())
        y = labels.numpy().astype(int)
        _expect_value(c, got, expected, what, {
            "used the normality score as the anomaly score: higher normality means LESS "
            "anomalous, so the sign must be flipped (you get 1 - AUROC)": 1 - expected,
            "counted tied pairs as wrong; a tie between an anomaly and a normal image counts "
            "one half": strict,
            "computed the average precision (AUPRC), not the area under the ROC curve":
                float(average_precision_score(y, -normality.numpy())),
        })
    normality, labels = _auroc_cases(seed)[0]
    squashed = _as_float(c, c.call(auroc_from_normality, torch.sigmoid(3 * normality), labels),
                         "auroc_from_normality")
    if not math.isclose(squashed, reference_auroc_from_normality(normality, labels),
                        abs_tol=1e-6):
        c.fail("AUROC depends only on the ranking of the scores, but an increasing "
               "transformation of them (sigmoid) changed your result")
    c.passed("auroc_from_normality gives the AUROC with anomalies as positives (ties: 1/2)")


# ----------------------------------------------------------------------------- 7.3


def reference_cas(gen_images: torch.Tensor, gen_labels: torch.Tensor,
                  real_test_images: torch.Tensor, real_test_labels: torch.Tensor,
                  make_classifier: Callable[[], Any]) -> float:
    """CAS: fit a fresh classifier on generated (image, label) pairs, score it on real."""
    model = make_classifier().fit(gen_images.flatten(1).numpy(), gen_labels.numpy())
    return float(model.score(real_test_images.flatten(1).numpy(), real_test_labels.numpy()))


def _cas_data(seed: int) -> tuple[torch.Tensor, ...]:
    """Generated digits: clean but shifted class clusters; real digits: noisier, unshifted.

    The real test set has another size than the generated set, so that the accuracies of
    the usual mistakes (testing on generated data, training on the test data) differ from
    the CAS.
    """
    k, n_gen, n_real, dim = 5, 120, 97, 16
    centres = 0.5 * seeded_randn(seed, k, dim)
    labels = torch.arange(k).repeat_interleave(n_gen // k)
    shift = 0.8 * seeded_randn(seed + 1, 1, dim)
    gen = centres[labels] + shift + 0.5 * seeded_randn(seed + 2, n_gen, dim)
    real_labels = torch.randint(0, k, (n_real,), generator=torch.Generator().manual_seed(seed))
    real = centres[real_labels] + 1.2 * seeded_randn(seed + 3, n_real, dim)
    return (gen.reshape(-1, 1, 4, 4), labels, real.reshape(-1, 1, 4, 4), real_labels)


def _nearest_centroid() -> Any:
    from sklearn.neighbors import NearestCentroid

    return NearestCentroid()


def _cas_variant(train: tuple[torch.Tensor, torch.Tensor],
                 test: tuple[torch.Tensor, torch.Tensor]) -> float:
    return reference_cas(*train, *test, _nearest_centroid)


def check_cas(cas: Callable[..., Any], seed: int = 0, quiet: bool = False) -> None:
    """Exercise 7.3: ``cas(gen_images, gen_labels, real_images, real_labels, make_classifier)``."""
    c = Check("7.3", "cas", quiet=quiet)
    gen, gen_y, real, real_y = _cas_data(seed)
    calls = []

    def make_classifier() -> Any:
        calls.append(1)
        return _nearest_centroid()

    what = "cas(gen_images, gen_labels, real_images, real_labels, make_classifier)"
    got = _as_float(c, c.call_no_inplace(cas, gen, gen_y, real, real_y, make_classifier), what)
    if not calls:
        c.fail("make_classifier was never called", hint="train a fresh classifier: "
               "model = make_classifier(), then model.fit(...)")
    both = (torch.cat([gen, real]), torch.cat([gen_y, real_y]))
    _expect_value(c, got, reference_cas(gen, gen_y, real, real_y, _nearest_centroid), what, {
        "tested on the generated images: CAS tests on REAL images": _cas_variant(
            (gen, gen_y), (gen, gen_y)),
        "trained on real and tested on generated (that is the reverse score, 'GAN-test'); "
        "CAS trains on generated, tests on real": _cas_variant((real, real_y), (gen, gen_y)),
        "trained on the real test images (test data leaks into training)": _cas_variant(
            (real, real_y), (real, real_y)),
        "trained on generated plus the real test images (test data leaks into training)":
            _cas_variant(both, (real, real_y)),
    })
    if not 0.0 <= got <= 1.0:
        c.fail("an accuracy lies in [0, 1]", got=f"{got}")
    # a generator that ignores its label gives a classifier that cannot beat chance by much
    shuffled = gen_y[torch.randperm(len(gen_y), generator=torch.Generator().manual_seed(seed))]
    low = _as_float(c, c.call(cas, gen, shuffled, real, real_y, _nearest_centroid), what)
    if not math.isclose(low, reference_cas(gen, shuffled, real, real_y, _nearest_centroid),
                        abs_tol=1e-6):
        c.fail("with the generated labels shuffled your CAS differs from the reference: "
               "use gen_labels as the training targets")
    c.passed("cas trains on generated pairs only and scores on the real test set")


# ----------------------------------------------------------------------------- 7.4


def reference_recall_at_k(query_codes: torch.Tensor, gallery_codes: torch.Tensor,
                          query_labels: torch.Tensor, gallery_labels: torch.Tensor,
                          k: int) -> float:
    """Share of queries with a same-label gallery item among their top k by cosine."""
    return retrieval_metrics(query_codes, gallery_codes, query_labels, gallery_labels,
                             ks=(k,))[f"R@{k}"]


def _recall_data(seed: int) -> tuple[torch.Tensor, ...]:
    classes, per_class, dim = 5, 8, 6
    centres = seeded_randn(seed, classes, dim)
    gallery_labels = torch.arange(classes).repeat(per_class)
    norms = 0.2 + 3 * torch.rand(len(gallery_labels), 1,
                                 generator=torch.Generator().manual_seed(seed + 1))
    gallery = norms * (centres[gallery_labels] + 0.9 * seeded_randn(seed + 2, 40, dim))
    query_labels = torch.arange(classes).repeat(6)
    query = centres[query_labels] + 1.1 * seeded_randn(seed + 3, 30, dim)
    return query, gallery, query_labels, gallery_labels


def _recall_mistakes(query, gallery, q_labels, g_labels, k) -> dict[str, float]:
    sims = torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional.normalize(
        gallery, dim=1).T
    relevant = (q_labels[:, None] == g_labels[None, :]).double()

    def hits(order: torch.Tensor, cut: int) -> float:
        return float(relevant.gather(1, order[:, :cut]).amax(1).mean())

    top = sims.argsort(1, descending=True)
    euclid = torch.cdist(query, gallery).argsort(1)
    return {
        "ranked by Euclidean distance between unnormalised codes; rank by cosine "
        "similarity (normalise the codes first)": hits(euclid, k),
        "took the k LEAST similar items: sort similarities in descending order":
            hits(sims.argsort(1), k),
        "computed precision@k (the share of relevant items in the top k); R@k asks whether "
        "at least one relevant item is there": float(relevant.gather(1, top[:, :k]).mean()),
        "off by one: took the first k + 1 items of the ranking; the top k are the first k":
            hits(top, k + 1),
        "off by one: took the first k - 1 items of the ranking; the top k are the first k":
            hits(top, max(k - 1, 1)),
    }


def check_recall_at_k(recall_at_k: Callable[..., Any], seed: int = 0,
                      quiet: bool = False) -> None:
    """Exercise 7.4: ``recall_at_k(query, gallery, query_labels, gallery_labels, k)``."""
    c = Check("7.4", "recall_at_k", quiet=quiet)
    query, gallery, q_labels, g_labels = _recall_data(seed)
    for k in (1, 3, 5):
        what = f"recall_at_k(query (30, 6), gallery (40, 6), labels, labels, k={k})"
        got = _as_float(c, c.call_no_inplace(recall_at_k, query, gallery, q_labels, g_labels,
                                             k), what)
        expected = reference_recall_at_k(query, gallery, q_labels, g_labels, k)
        mistakes = _recall_mistakes(query, gallery, q_labels, g_labels, k)
        same_index = float((torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional
                            .normalize(gallery[:30], dim=1).T).argsort(1, descending=True)[
            :, :k].eq(torch.arange(30)[:, None]).any(1).double().mean())
        mistakes["counted only the gallery item with the query's own index as relevant; "
                 "relevant means the same label"] = same_index
        _expect_value(c, got, expected, what, mistakes)
    got = _as_float(c, c.call(recall_at_k, 5 * query, gallery, q_labels, g_labels, 3),
                    "recall_at_k")
    if not math.isclose(got, reference_recall_at_k(query, gallery, q_labels, g_labels, 3),
                        abs_tol=1e-6):
        c.fail("scaling the queries by 5 changed R@k: cosine similarity ignores the length "
               "of the codes")
    c.passed("recall_at_k matches retrieval_metrics' R@k (cosine ranking, same-label hits)")


# ----------------------------------------------------------------------------- meta-test variants


def _pca_svd(train, test, n_components):
    mean = train.mean(0, keepdim=True)
    _, _, vh = torch.linalg.svd(train - mean, full_matrices=False)
    plane = vh[:n_components]
    centred = test - mean
    return (centred - centred @ plane.T @ plane).pow(2).sum(1)


def _pca_on_test(train, test, n_components):
    return reference_pca_anomaly_score(test, test, n_components)


def _pca_norm(train, test, n_components):
    return reference_pca_anomaly_score(train, test, n_components).sqrt()


def _pca_uncentred(train, test, n_components):
    _, _, vh = torch.linalg.svd(train, full_matrices=False)
    plane = vh[:n_components]
    return (test - test @ plane.T @ plane).pow(2).sum(1)


def _pca_code(train, test, n_components):
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components).fit(train.numpy())
    return (pca.transform(test.numpy()) ** 2).sum(1)


def _pca_mean(train, test, n_components):
    return reference_pca_anomaly_score(train, test, n_components) / test.shape[1]


def _auroc_mann_whitney(normality, is_anomaly):
    diff = normality[~is_anomaly][:, None] - normality[is_anomaly][None, :]
    return ((diff > 0).double() + 0.5 * (diff == 0).double()).mean().item()


def _auroc_flipped(normality, is_anomaly):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(is_anomaly.numpy(), normality.numpy())


def _auroc_strict(normality, is_anomaly):
    diff = normality[~is_anomaly][:, None] - normality[is_anomaly][None, :]
    return (diff > 0).double().mean().item()


def _auroc_ap(normality, is_anomaly):
    from sklearn.metrics import average_precision_score

    return average_precision_score(is_anomaly.numpy(), -normality.numpy())


def _cas_numpy(gen_images, gen_labels, real_images, real_labels, make_classifier):
    model = make_classifier()
    model.fit(np.asarray(gen_images).reshape(len(gen_images), -1), np.asarray(gen_labels))
    predicted = model.predict(np.asarray(real_images).reshape(len(real_images), -1))
    return float(np.mean(predicted == np.asarray(real_labels)))


def _cas_test_on_generated(gen_images, gen_labels, real_images, real_labels, make_classifier):
    return reference_cas(gen_images, gen_labels, gen_images, gen_labels, make_classifier)


def _cas_reverse(gen_images, gen_labels, real_images, real_labels, make_classifier):
    return reference_cas(real_images, real_labels, gen_images, gen_labels, make_classifier)


def _cas_leak(gen_images, gen_labels, real_images, real_labels, make_classifier):
    return reference_cas(torch.cat([gen_images, real_images]), torch.cat([gen_labels,
                                                                          real_labels]),
                         real_images, real_labels, make_classifier)


def _recall_topk(query, gallery, query_labels, gallery_labels, k):
    sims = torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional.normalize(
        gallery, dim=1).T
    top = sims.topk(k, dim=1).indices
    return (gallery_labels[top] == query_labels[:, None]).any(1).float().mean().item()


def _recall_euclid(query, gallery, query_labels, gallery_labels, k):
    top = torch.cdist(query, gallery).argsort(1)[:, :k]
    return (gallery_labels[top] == query_labels[:, None]).any(1).float().mean().item()


def _recall_ascending(query, gallery, query_labels, gallery_labels, k):
    sims = torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional.normalize(
        gallery, dim=1).T
    top = sims.argsort(1)[:, :k]
    return (gallery_labels[top] == query_labels[:, None]).any(1).float().mean().item()


def _recall_precision(query, gallery, query_labels, gallery_labels, k):
    sims = torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional.normalize(
        gallery, dim=1).T
    top = sims.topk(k, dim=1).indices
    return (gallery_labels[top] == query_labels[:, None]).float().mean().item()


def _recall_off_by_one(query, gallery, query_labels, gallery_labels, k):
    return _recall_topk(query, gallery, query_labels, gallery_labels, k + 1)


VARIANTS = {
    "check_pca_anomaly_score": Variants(
        wrong=[(_pca_on_test, "test images"), (_pca_norm, "squared"),
               (_pca_uncentred, "centre"), (_pca_code, "size of the PCA code"),
               (_pca_mean, "averaged over pixels")],
        right=[reference_pca_anomaly_score, _pca_svd]),
    "check_auroc_from_normality": Variants(
        wrong=[(_auroc_flipped, "flipped"), (_auroc_strict, "tied"), (_auroc_ap, "AUPRC")],
        right=[reference_auroc_from_normality, _auroc_mann_whitney]),
    "check_cas": Variants(
        wrong=[(_cas_test_on_generated, "tested on the generated"),
               (_cas_reverse, "reverse"), (_cas_leak, "leaks")],
        right=[reference_cas, _cas_numpy]),
    "check_recall_at_k": Variants(
        wrong=[(_recall_euclid, "euclidean"), (_recall_ascending, "least similar"),
               (_recall_precision, "precision@k"), (_recall_off_by_one, "off by one")],
        right=[reference_recall_at_k, _recall_topk]),
}

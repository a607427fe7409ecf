"""Checks for the exercises of lesson 08 (``exercises/08_evaluating_gans.ipynb``).

Lesson: 08 Evaluating GANs honestly. Exercise 8.1 ``frechet_distance``, 8.2
``mmd2_unbiased``, 8.3 ``precision_recall``, 8.4 ``fd_infinity``.

References: ``mmgan_ref.metrics.frechet`` (Fréchet distance: ``np.cov`` with ddof 1,
``scipy.linalg.sqrtm`` of the product, tiny imaginary parts dropped; KID's cubic kernel
``(x·y / d + 1)³`` and its unbiased estimator), ``mmgan_ref.metrics.prd`` (k-NN manifolds,
radius = distance to the k-th nearest *other* point) and the 1/N extrapolation of Chong and
Forsyth (2020), written out below. Inputs are NumPy float64 arrays, as in ``mmgan_ref.metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy import linalg

from mmgan_ref.checks._framework import Check, Variants, describe
from mmgan_ref.metrics.frechet import _polynomial_mmd2, frechet_distance
from mmgan_ref.metrics.prd import inside_manifold, manifold_radii
from mmgan_ref.metrics.prd import precision_recall as reference_precision_recall

KID_DEGREE = 3


def _normal(seed: int, n: int, d: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, scale, size=(n, d))


def _as_real_scalar(c: Check, value: Any, what: str) -> float:
    """The student's number as a float; complex, non-scalar or non-numeric values fail."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            c.fail(f"{what} should be one number, got {describe(value)}")
        if value.is_complex():
            c.fail(f"{what} is complex", hint=_COMPLEX_HINT)
        return float(value.item())
    if isinstance(value, np.ndarray):
        if value.size != 1:
            c.fail(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.reshape(())[()]
    if isinstance(value, (complex, np.complexfloating)):
        c.fail(f"{what} is complex ({value!r})", hint=_COMPLEX_HINT)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        c.fail(f"{what} should return a float", got=describe(value))
    return float(value)


_COMPLEX_HINT = ("scipy.linalg.sqrtm of a product of covariances can come back complex with "
                 "tiny imaginary parts (round-off, singular covariances): check they are tiny, "
                 "then keep the real part (.real)")


def _close(c: Check, got: float, expected: float, what: str,
           mistakes: dict[str, float], hint: str | None = None,
           rtol: float = 1e-5, atol: float = 1e-7) -> None:
    if math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
        return
    named = [name for name, wrong in mistakes.items()
             if (math.isnan(wrong) and math.isnan(got))
             or math.isclose(got, wrong, rel_tol=rtol, abs_tol=atol)]
    hints = [f"this looks like a common mistake: {named[0]}"] if named else []
    hints += [hint] if hint else []
    c.fail(f"wrong value from {what}", expected=f"{expected:.8g}", got=f"{got:.8g}",
           hint="; ".join(hints) or None)


# ----------------------------------------------------------------------------- 8.1


def _fd_with(a: np.ndarray, b: np.ndarray, cov: Callable[[np.ndarray], np.ndarray],
             root: Callable[[np.ndarray, np.ndarray], np.ndarray], sign: float = -2.0,
             squared_mean: bool = True) -> float:
    """A Fréchet distance with replaceable parts, to compute what each mistake returns."""
    s1, s2 = cov(a), cov(b)
    diff = a.mean(0) - b.mean(0)
    mean_term = diff @ diff if squared_mean else np.sqrt(diff @ diff)
    with np.errstate(invalid="ignore"):
        trace_root = np.trace(root(s1, s2)).real
    return float(mean_term + np.trace(s1) + np.trace(s2) + sign * trace_root)


def _cov(x: np.ndarray) -> np.ndarray:
    return np.cov(x, rowvar=False)


def _sqrtm_product(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    return linalg.sqrtm(s1 @ s2)


def _fd_mistakes(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    wrong = {
        "the trace term has the wrong sign: it is - 2 Tr((S1 S2)^1/2)":
            _fd_with(a, b, _cov, _sqrtm_product, sign=2.0),
        "covariance with ddof=0 (np.cov(..., bias=True)); the reference uses ddof=1":
            _fd_with(a, b, lambda x: np.cov(x, rowvar=False, bias=True), _sqrtm_product),
        "element-wise np.sqrt of the product; use the matrix square root scipy.linalg.sqrtm":
            _fd_with(a, b, _cov, lambda s1, s2: np.sqrt(s1 @ s2)),
        "used sqrtm(S1) @ sqrtm(S2); the square root is of the product S1 @ S2":
            _fd_with(a, b, _cov, lambda s1, s2: linalg.sqrtm(s1) @ linalg.sqrtm(s2)),
        "left out the square root: Tr(S1 S2) instead of Tr((S1 S2)^1/2)":
            _fd_with(a, b, _cov, lambda s1, s2: s1 @ s2),
        "the mean term is ||mu1 - mu2||, not squared":
            _fd_with(a, b, _cov, _sqrtm_product, squared_mean=False),
    }
    if len(a) == len(b):
        wrong["transposed covariance: np.cov treats ROWS as variables unless rowvar=False"] = \
            _fd_with(a, b, np.cov, _sqrtm_product)
    return wrong


def _complex_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two small sets (N = d = 12) whose covariance product gives sqrtm a complex result."""
    for offset in range(50):
        a, b = _normal(seed + offset, 12, 12), _normal(seed + offset + 100, 12, 12, 0.3, 1.5)
        if np.iscomplexobj(linalg.sqrtm(_cov(a) @ _cov(b))):
            return a, b
    raise RuntimeError("no complex sqrtm case found")  # pragma: no cover (scipy changed)


def check_frechet_distance(frechet: Callable[..., Any], seed: int = 0,
                           quiet: bool = False) -> None:
    """Exercise 8.1: ``frechet_distance(feats_a, feats_b)`` -> float (squared FD)."""
    c = Check("8.1", "frechet_distance", quiet=quiet)
    cases = [("two sets of 40 x 5 features", _normal(seed, 40, 5),
              _normal(seed + 1, 40, 5, 0.5, 1.4)),
             ("sets of 10 and 25 rows (ddof matters at small N)", _normal(seed + 2, 10, 3),
              _normal(seed + 3, 25, 3, -0.2, 0.7)),
             ("correlated features", _normal(seed + 4, 60, 4) @ _normal(seed + 5, 4, 4),
              _normal(seed + 6, 60, 4))]
    for description, a, b in cases:
        what = f"frechet_distance on {description}"
        got = _as_real_scalar(c, c.call(frechet, a.copy(), b.copy()), what)
        _close(c, got, frechet_distance(a, b), what, _fd_mistakes(a, b))
    a, b = _complex_case(seed)
    what = "frechet_distance on 12 x 12 features (singular covariances)"
    got = _as_real_scalar(c, c.call(frechet, a, b), what)
    _close(c, got, frechet_distance(a, b), what, {}, rtol=1e-4, atol=1e-6)
    a = _normal(seed + 7, 30, 4)
    same = _as_real_scalar(c, c.call(frechet, a, a.copy()), "frechet_distance(a, a)")
    if abs(same) > 1e-6:
        c.fail("the distance of a set to itself should be 0", got=f"{same:.6g}")
    b = _normal(seed + 8, 30, 4, 1.0)
    ab = _as_real_scalar(c, c.call(frechet, a, b), "frechet_distance(a, b)")
    ba = _as_real_scalar(c, c.call(frechet, b, a), "frechet_distance(b, a)")
    if not math.isclose(ab, ba, rel_tol=1e-6, abs_tol=1e-9):
        c.fail("frechet_distance(a, b) and frechet_distance(b, a) differ", got=f"{ab} and {ba}")
    c.passed("frechet_distance matches the reference (values, small N, singular "
             "covariances, symmetry)")


# ----------------------------------------------------------------------------- 8.2


def reference_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(u, v) = (u·v / d + 1)³, for x (m, d) and y (n, d)."""
    d, m, n = x.shape[1], len(x), len(y)
    k_xx = (x @ x.T / d + 1.0) ** KID_DEGREE
    k_yy = (y @ y.T / d + 1.0) ** KID_DEGREE
    k_xy = (x @ y.T / d + 1.0) ** KID_DEGREE
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) - 2.0 * k_xy.mean())


def _mmd2_parts(x: np.ndarray, y: np.ndarray, degree: int = KID_DEGREE, scale: bool = True,
                diagonal: bool = False, divide_m2: bool = False) -> float:
    d = x.shape[1] if scale else 1
    kern = [(p @ q.T / d + 1.0) ** degree for p, q in ((x, x), (y, y), (x, y))]
    within = 0.0
    for k in kern[:2]:
        size = len(k)
        total = k.sum() if diagonal else k.sum() - np.trace(k)
        within += total / (size * size if (diagonal or divide_m2) else size * (size - 1))
    return float(within - 2.0 * kern[2].mean())


def check_mmd2_unbiased(mmd2_unbiased: Callable[..., Any], seed: int = 0,
                        quiet: bool = False) -> None:
    """Exercise 8.2: ``mmd2_unbiased(x, y)`` with the cubic polynomial kernel -> float."""
    c = Check("8.2", "mmd2_unbiased", quiet=quiet)
    cases = [("x, y of 30 x 6 rows from different Gaussians", _normal(seed, 30, 6),
              _normal(seed + 1, 30, 6, 0.4, 1.2)),
             ("x of 12 rows, y of 20 rows", _normal(seed + 2, 12, 3),
              _normal(seed + 3, 20, 3, -0.3)),
             ("x, y of 25 x 4 rows from the same Gaussian", _normal(seed + 4, 25, 4),
              _normal(seed + 5, 25, 4))]
    for description, x, y in cases:
        what = f"mmd2_unbiased on {description}"
        got = _as_real_scalar(c, c.call(mmd2_unbiased, x.copy(), y.copy()), what)
        mistakes = {
            "the biased estimator: it keeps the diagonal k(x_i, x_i) terms":
                _mmd2_parts(x, y, diagonal=True),
            "left out the diagonal but still divided by m²; divide by m (m - 1)":
                _mmd2_parts(x, y, divide_m2=True),
            "kernel of degree 2; KID uses the cubic kernel (x·y / d + 1)³":
                _mmd2_parts(x, y, degree=2),
            "forgot to divide x·y by the feature size d": _mmd2_parts(x, y, scale=False),
        }
        _close(c, got, reference_mmd2_unbiased(x, y), what, mistakes, rtol=1e-6, atol=1e-8)
    x, y = _normal(seed + 6, 15, 5), _normal(seed + 7, 15, 5, 0.2)
    reference = _polynomial_mmd2(x, y)  # the package's KID core, for equal sizes
    got = _as_real_scalar(c, c.call(mmd2_unbiased, x, y), "mmd2_unbiased(x, y)")
    _close(c, got, reference, "mmd2_unbiased against mmgan_ref's KID core", {}, rtol=1e-6)
    swapped = _as_real_scalar(c, c.call(mmd2_unbiased, y, x), "mmd2_unbiased(y, x)")
    if not math.isclose(got, swapped, rel_tol=1e-9, abs_tol=1e-12):
        c.fail("mmd2_unbiased(x, y) and mmd2_unbiased(y, x) differ", got=f"{got} and {swapped}")
    c.passed("mmd2_unbiased matches the unbiased cubic-kernel MMD² (equal and unequal sizes)")


# ----------------------------------------------------------------------------- 8.3


def _pr_with(real: np.ndarray, fake: np.ndarray, k: int, radius_k: int | None = None,
             query_radii: bool = False) -> dict[str, float]:
    rk = k if radius_k is None else radius_k
    r_real, r_fake = manifold_radii(real, rk), manifold_radii(fake, rk)
    if query_radii:  # balls centred on the manifold set with the *query* set's radii
        return {"precision": float(np.mean(inside_manifold(fake, real, r_fake[:len(real)]))),
                "recall": float(np.mean(inside_manifold(real, fake, r_real[:len(fake)])))}
    return {"precision": float(inside_manifold(fake, real, r_real).mean()),
            "recall": float(inside_manifold(real, fake, r_fake).mean())}


def check_precision_recall(precision_recall: Callable[..., Any], seed: int = 0,
                           quiet: bool = False) -> None:
    """Exercise 8.3: ``precision_recall(real_feats, fake_feats, k)`` -> dict of two floats."""
    c = Check("8.3", "precision_recall", quiet=quiet)
    cases = [("40 real and 40 fake rows, fake shifted and wider", 3,
              _normal(seed, 40, 3), _normal(seed + 1, 40, 3, 0.6, 1.6)),
             ("50 real rows, 30 fake rows narrower than real", 3,
              _normal(seed + 2, 50, 2), _normal(seed + 3, 30, 2, 0.0, 0.4)),
             ("k = 5, fake half collapsed", 5, _normal(seed + 4, 45, 4),
              np.concatenate([_normal(seed + 5, 20, 4), _normal(seed + 6, 20, 4, 2.0, 0.1)]))]
    for description, k, real, fake in cases:
        what = f"precision_recall on {description} (k={k})"
        result = c.call(precision_recall, real.copy(), fake.copy(), k)
        if not isinstance(result, dict) or not {"precision", "recall"} <= set(result):
            c.fail(f"{what} should return a dict with keys 'precision' and 'recall'",
                   got=repr(result)[:120])
        got = {key: _as_real_scalar(c, result[key], f"{what}[{key!r}]")
               for key in ("precision", "recall")}
        expected = reference_precision_recall(real, fake, k)
        included_self = _pr_with(real, fake, k, radius_k=k - 1)
        mistakes = {
            "the radius counted the point itself as its nearest neighbour: use the k-th "
            "nearest OTHER point (ask NearestNeighbors for k + 1)": included_self,
            "swapped precision and recall: precision asks whether FAKE samples fall in the "
            "REAL manifold": {"precision": expected["recall"], "recall": expected["precision"]},
            "the balls are centred on the manifold set with radii from the other set":
                _pr_with(real, fake, k, query_radii=True) if len(real) == len(fake) else None,
        }
        if all(math.isclose(got[key], expected[key], abs_tol=1e-9) for key in got):
            continue
        named = next((name for name, wrong in mistakes.items() if wrong is not None and all(
            math.isclose(got[key], wrong[key], abs_tol=1e-9) for key in got)), None)
        c.fail(f"wrong values from {what}", expected=str(expected), got=str(got),
               hint=f"this looks like a common mistake: {named}" if named else None)
    real = _normal(seed + 8, 30, 3)
    result = c.call(precision_recall, real, real.copy(), 3)
    if not all(math.isclose(float(result[key]), 1.0) for key in ("precision", "recall")):
        c.fail("a set compared with itself should give precision = recall = 1",
               got=str(result), hint="a point lies in its own ball: compare with <=")
    c.passed("precision_recall matches the k-NN manifold reference (k-th other neighbour)")


# ----------------------------------------------------------------------------- 8.4


def reference_fd_infinity(ns: Any, values: Any) -> tuple[float, float]:
    """Least-squares fit values = fd_inf + slope / n; return (fd_inf, slope)."""
    inv = 1.0 / np.asarray(ns, dtype=np.float64)
    design = np.stack([np.ones_like(inv), inv], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, np.asarray(values, dtype=np.float64),
                                             rcond=None)
    return float(intercept), float(slope)


def check_fd_infinity(fd_infinity: Callable[..., Any], seed: int = 0,
                      quiet: bool = False) -> None:
    """Exercise 8.4: ``fd_infinity(ns, values)`` -> (fd_inf, slope) of values ~ a + b / n."""
    c = Check("8.4", "fd_infinity", quiet=quiet)
    rng = np.random.default_rng(seed)
    exact_ns = [50, 100, 200, 400, 800]
    noisy_ns = np.array([60, 90, 150, 300, 600, 900])
    cases = [("exact line 0.3 + 250 / n", exact_ns, [0.3 + 250.0 / n for n in exact_ns]),
             ("noisy values, a NumPy array of n",
              noisy_ns, 1.5 + 300.0 / noisy_ns + rng.normal(0, 0.05, len(noisy_ns))),
             ("two points", [100, 400], [2.0, 1.25])]
    for description, ns, values in cases:
        what = f"fd_infinity on {description}"
        result = c.call(fd_infinity, ns, values)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            c.fail(f"{what} should return a pair (fd_inf, slope)", got=repr(result)[:120])
        got = [_as_real_scalar(c, v, what) for v in result]
        fd_inf, slope = reference_fd_infinity(ns, values)
        on_n = np.polyfit(np.asarray(ns, dtype=np.float64), values, 1)
        mistakes = {
            "np.polyfit returns the highest power first: (slope, intercept)": (slope, fd_inf),
            "fitted against n; FD's bias falls like 1 / n, fit against 1 / n":
                (float(on_n[1]), float(on_n[0])),
        }
        if all(math.isclose(g, e, rel_tol=1e-6, abs_tol=1e-9)
               for g, e in zip(got, (fd_inf, slope), strict=True)):
            continue
        named = next((name for name, wrong in mistakes.items() if all(
            math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-9)
            for g, w in zip(got, wrong, strict=True))), None)
        c.fail(f"wrong (fd_inf, slope) from {what}", expected=f"({fd_inf:.6g}, {slope:.6g})",
               got=f"({got[0]:.6g}, {got[1]:.6g})",
               hint=f"this looks like a common mistake: {named}" if named else None)
    c.passed("fd_infinity fits FD = fd_inf + slope / N by least squares")


# ----------------------------------------------------------------------------- meta-test variants


def _fd_eigen(a, b):
    s1, s2 = np.cov(a.T), np.cov(b.T)
    root1 = linalg.sqrtm(s1).real
    eig = np.linalg.eigvalsh(root1 @ s2 @ root1)
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(s1 + s2) - 2 * np.sqrt(np.clip(eig, 0, None)).sum())


def _fd_torch(a, b):
    ta, tb = torch.as_tensor(a), torch.as_tensor(b)
    s1, s2 = torch.cov(ta.T), torch.cov(tb.T)
    eig = torch.linalg.eigvals(s1 @ s2).real.clamp(min=0)
    return float((ta.mean(0) - tb.mean(0)).pow(2).sum() + s1.trace() + s2.trace()
                 - 2 * eig.sqrt().sum())


def _fd_plus(a, b):
    return _fd_with(a, b, _cov, _sqrtm_product, sign=2.0)


def _fd_ddof0(a, b):
    return _fd_with(a, b, lambda x: np.cov(x, rowvar=False, bias=True), _sqrtm_product)


def _fd_transposed(a, b):
    return _fd_with(a, b, np.cov, _sqrtm_product)


def _fd_elementwise(a, b):
    return _fd_with(a, b, _cov, lambda s1, s2: np.sqrt(s1 @ s2))


def _fd_complex_sqrtm(a, b):
    s1, s2 = _cov(a), _cov(b)
    diff = a.mean(0) - b.mean(0)
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2))


def _mmd_loops(x, y):
    d = x.shape[1]

    def mean_k(p, q, skip_diagonal):
        total, count = 0.0, 0
        for i in range(len(p)):
            for j in range(len(q)):
                if skip_diagonal and i == j:
                    continue
                total += (p[i] @ q[j] / d + 1) ** 3
                count += 1
        return total / count

    return mean_k(x, x, True) + mean_k(y, y, True) - 2 * mean_k(x, y, False)


def _mmd_torch(x, y):
    tx, ty = torch.as_tensor(x), torch.as_tensor(y)
    d = tx.shape[1]

    def off_diagonal_mean(k):
        return (k.sum() - k.diagonal().sum()) / (k.shape[0] * (k.shape[0] - 1))

    kxx, kyy = (tx @ tx.T / d + 1) ** 3, (ty @ ty.T / d + 1) ** 3
    return (off_diagonal_mean(kxx) + off_diagonal_mean(kyy)
            - 2 * ((tx @ ty.T / d + 1) ** 3).mean())


def _mmd_biased(x, y):
    return _mmd2_parts(x, y, diagonal=True)


def _mmd_m2(x, y):
    return _mmd2_parts(x, y, divide_m2=True)


def _mmd_quadratic(x, y):
    return _mmd2_parts(x, y, degree=2)


def _pr_sklearn(real, fake, k=3):
    from sklearn.neighbors import NearestNeighbors

    def radii(x):
        return NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)[0][:, -1]

    def share(queries, centres, r):
        dist = np.linalg.norm(queries[:, None] - centres[None], axis=-1)
        return float((dist <= r[None]).any(1).mean())

    return {"precision": share(fake, real, radii(real)), "recall": share(real, fake, radii(fake))}


def _pr_sorted(real, fake, k=3):
    def radii(x):
        return np.sort(np.linalg.norm(x[:, None] - x[None], axis=-1), axis=1)[:, k]

    def share(queries, centres, r):
        dist = torch.cdist(torch.as_tensor(queries), torch.as_tensor(centres)).numpy()
        return float(np.mean((dist <= r).any(axis=1)))

    return {"precision": share(fake, real, radii(real)), "recall": share(real, fake, radii(fake))}


def _pr_self(real, fake, k=3):
    return _pr_with(real, fake, k, radius_k=k - 1)


def _pr_swapped(real, fake, k=3):
    result = reference_precision_recall(real, fake, k)
    return {"precision": result["recall"], "recall": result["precision"]}


def _pr_query_radii(real, fake, k=3):
    return _pr_with(real, fake, k, query_radii=True) if len(real) == len(fake) else \
        reference_precision_recall(real, fake, k)


def _fd_inf_polyfit(ns, values):
    slope, intercept = np.polyfit(1.0 / np.asarray(ns, dtype=float), values, 1)
    return float(intercept), float(slope)


def _fd_inf_closed_form(ns, values):
    x, y = 1.0 / np.asarray(ns, dtype=float), np.asarray(values, dtype=float)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return y.mean() - slope * x.mean(), slope


def _fd_inf_swapped(ns, values):
    return tuple(reversed(_fd_inf_polyfit(ns, values)))


def _fd_inf_on_n(ns, values):
    slope, intercept = np.polyfit(np.asarray(ns, dtype=float), values, 1)
    return float(intercept), float(slope)


VARIANTS = {
    "check_frechet_distance": Variants(
        wrong=[(_fd_plus, "wrong sign"), (_fd_ddof0, "ddof"), (_fd_transposed, "transposed"),
               (_fd_elementwise, "element-wise"), (_fd_complex_sqrtm, "complex")],
        right=[frechet_distance, _fd_eigen, _fd_torch]),
    "check_mmd2_unbiased": Variants(
        wrong=[(_mmd_biased, "biased estimator"), (_mmd_m2, "m (m - 1)"),
               (_mmd_quadratic, "degree 2")],
        right=[reference_mmd2_unbiased, _mmd_loops, _mmd_torch]),
    "check_precision_recall": Variants(
        wrong=[(_pr_self, "OTHER point"), (_pr_swapped, "swapped"),
               (_pr_query_radii, "radii from the other set")],
        right=[reference_precision_recall, _pr_sklearn, _pr_sorted]),
    "check_fd_infinity": Variants(
        wrong=[(_fd_inf_swapped, "highest power first"), (_fd_inf_on_n, "against 1 / n")],
        right=[reference_fd_infinity, _fd_inf_polyfit, _fd_inf_closed_form]),
}

"""Fréchet distance and kernel (KID) distance between two sets of features.

Lesson: 08 Evaluating GANs honestly.

References:
    Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter (2017), "GANs Trained by a Two
    Time-Scale Update Rule Converge to a Local Nash Equilibrium" (the Fréchet Inception
    Distance).
    Bińkowski, Sutherland, Arbel, Gretton (2018), "Demystifying MMD GANs" (the Kernel
    Inception Distance).

Both numbers depend on the feature network and on N, so a distance means little alone:
always print the real-vs-real floor at the same N beside it (:func:`real_vs_real_floor`).
The course computes them on domain features (``features.digits_features``), never on
Inception features, so they are *not* comparable with published FID values.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from scipy import linalg

from mmgan_ref.metrics.features import as_array, digits_features, load_real_digits
from mmgan_ref.utils import check_float, check_int

log = logging.getLogger(__name__)

# sqrtm of a product of two covariances can pick up tiny imaginary parts from round-off.
IMAGINARY_TOLERANCE = 1e-3
# Added to both covariances' diagonals when their product is too singular for sqrtm.
SINGULAR_OFFSET = 1e-6


def _features_pair(feats_a: Any, feats_b: Any) -> tuple[np.ndarray, np.ndarray]:
    a = as_array("feats_a", feats_a, ndim=2)
    b = as_array("feats_b", feats_b, ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feats_a and feats_b must have the same feature size, "
                         f"got {a.shape[1]} and {b.shape[1]}")
    return a, b


def feature_stats(feats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of features (N, d), N >= 2."""
    array = as_array("feats", feats, ndim=2)
    if len(array) < 2:
        raise ValueError(f"feats needs at least 2 rows to estimate a covariance, got {len(array)}")
    return array.mean(axis=0), np.cov(array, rowvar=False).reshape(array.shape[1], -1)


def frechet_from_stats(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d² = ||mu1 - mu2||² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2}).

    The square root is ``scipy.linalg.sqrtm``. Round-off can make it complex with tiny
    imaginary parts: they are dropped when the largest on the diagonal is below
    ``IMAGINARY_TOLERANCE``, otherwise a ValueError is raised. When the product is too
    singular for a finite root (e.g. a collapsed generator), ``SINGULAR_OFFSET`` is added
    to both diagonals first, as in the reference implementations.

    Returns:
        the squared Fréchet distance, a float (it can be a hair below 0 from round-off).
    """
    mu1, mu2 = as_array("mu1", mu1, ndim=1), as_array("mu2", mu2, ndim=1)
    sigma1, sigma2 = as_array("sigma1", sigma1, ndim=2), as_array("sigma2", sigma2, ndim=2)
    d = len(mu1)
    for name, value, shape in (("mu2", mu2, (d,)), ("sigma1", sigma1, (d, d)),
                               ("sigma2", sigma2, (d, d))):
        if value.shape != shape:
            raise ValueError(f"{name} must have shape {shape} to match mu1, got {value.shape}")
    with warnings.catch_warnings():
        # Dead ReLU units give singular covariances; sqrtm still returns a usable root.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        log.warning("sqrtm of sigma1 @ sigma2 is not finite; adding %g to the diagonals",
                    SINGULAR_OFFSET)
        offset = np.eye(d) * SINGULAR_OFFSET
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        worst = np.max(np.abs(np.diagonal(covmean).imag))
        if worst > IMAGINARY_TOLERANCE:
            raise ValueError(f"sqrtm(sigma1 @ sigma2) has imaginary parts up to {worst:.3g}; "
                             "the covariances are not valid (use more samples than features)")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(feats_a: Any, feats_b: Any) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets (N_a, d), (N_b, d)."""
    a, b = _features_pair(feats_a, feats_b)
    return frechet_from_stats(*feature_stats(a), *feature_stats(b))


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with the cubic kernel k(x, y) = (x·y / d + 1)³."""
    d, m = x.shape[1], len(x)
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kernel_inception_distance(feats_a: Any, feats_b: Any, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """KID (Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel.

    Each of ``subsets`` rounds draws ``min(subset_size, N_a, N_b)`` rows without
    replacement from each set and computes the unbiased MMD²; the mean and standard
    deviation over rounds are returned. Unbiased means it can be slightly negative.
    When both sets have at most ``subset_size`` rows every round uses all of them, so the
    standard deviation is 0: pass a smaller ``subset_size`` (e.g. N // 2) for a spread.

    Returns:
        {"kid_mean": float, "kid_std": float}
    """
    a, b = _features_pair(feats_a, feats_b)
    check_int("subsets", subsets, minimum=1)
    check_int("subset_size", subset_size, minimum=2)
    check_int("seed", seed, minimum=0)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 rows in each set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    values = [_polynomial_mmd2(a[rng.choice(len(a), m, replace=False)],
                               b[rng.choice(len(b), m, replace=False)]) for _ in range(subsets)]
    return {"kid_mean": float(np.mean(values)), "kid_std": float(np.std(values))}


def real_vs_real_floor(real_feats: Any, n: int, seed: int = 0,
                       kid_subsets: int = 10) -> dict[str, float]:
    """The floor: distances between two disjoint random halves of real data, N = n each.

    A generator cannot be expected to beat this number at the same N.

    Returns:
        {"frechet": float, "kid_mean": float, "kid_std": float, "n": n}
    """
    real = as_array("real_feats", real_feats, ndim=2)
    check_int("n", n, minimum=2)
    if 2 * n > len(real):
        raise ValueError(f"n={n} needs 2n={2 * n} real rows for two disjoint halves, "
                         f"got {len(real)}; use n <= {len(real) // 2}")
    order = np.random.default_rng(seed).permutation(len(real))
    first, second = real[order[:n]], real[order[n:2 * n]]
    kid = kernel_inception_distance(first, second, subsets=kid_subsets, subset_size=n, seed=seed)
    return {"frechet": frechet_distance(first, second), **kid, "n": n}


def digits_reference_distances(seed: int = 0, noise_std: float = 0.5) -> dict[str, float]:
    """Fréchet distances on digits MLP features that calibrate the scale (N = 898).

    The real data is split into two random halves A and B. Rows:
    ``real_vs_real`` (A vs B: the floor), ``noise`` (A vs B plus Gaussian noise of
    ``noise_std``, clipped to [-1, 1]) and ``half_classes`` (A vs the digits 0-4 of B,
    about 450 images: a generator that drops half the classes).
    """
    check_float("noise_std", noise_std, minimum=0.0)
    images, labels = load_real_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    half = len(images) // 2
    a, b = order[:half], order[half:2 * half]
    noise = np.random.default_rng(seed + 1).normal(0.0, noise_std, images[b].shape)
    feats_a = digits_features(images[a])
    return {
        "real_vs_real": frechet_distance(feats_a, digits_features(images[b])),
        "noise": frechet_distance(feats_a, digits_features(np.clip(images[b] + noise, -1, 1))),
        "half_classes": frechet_distance(feats_a, digits_features(images[b][labels[b] < 5])),
    }

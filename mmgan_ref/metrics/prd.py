"""Precision and recall of a generator with k-nearest-neighbour manifolds.

Lesson: 08 Evaluating GANs honestly.

Kynkäänniemi, Karras, Laine, Lehtinen, Aila (2019), "Improved Precision and Recall Metric
for Assessing Generative Models".

The manifold of a set of feature vectors is the union of balls centred on each vector,
with radius the distance to its k-th nearest neighbour in the same set (k = 3 in the
paper). Then

- precision = share of *generated* samples inside the *real* manifold (are the samples
  realistic?);
- recall = share of *real* samples inside the *generated* manifold (is the real data
  covered?).

A collapsed generator has high precision and recall near 0; a noisy one the opposite.
Fréchet distance mixes both failures into one number; these two separate them. Use the
same N for both sets (the radii shrink as N grows) and print the real-vs-real values as
the reference: two halves of real digits do not reach 1.0 (see the tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmgan_ref.metrics.features import as_array
from mmgan_ref.utils import check_int

# Rows of the (N_query, N_manifold) distance matrix computed at once (bounds memory).
_CHUNK_ROWS = 1024


def manifold_radii(feats: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest *other* row, shape (N,)."""
    from sklearn.neighbors import NearestNeighbors

    # The nearest neighbour of a point in its own set is itself (distance 0): ask for k + 1.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(feats).kneighbors(feats)
    return distances[:, k]


def inside_manifold(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each query lies in at least one ball (centre, radius), shape (N_query,) bool."""
    from sklearn.metrics import pairwise_distances

    inside = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), _CHUNK_ROWS):
        block = pairwise_distances(queries[start:start + _CHUNK_ROWS], centres)  # (B, N_c)
        inside[start:start + _CHUNK_ROWS] = (block <= radii[None, :]).any(axis=1)
    return inside


def precision_recall(real_feats: Any, fake_feats: Any, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of features.

    Args:
        real_feats: (N, d) features of real samples; fake_feats: (M, d) of generated ones.
        k: neighbourhood size of the manifold radii (the paper uses 3).

    Returns:
        {"precision": float in [0, 1], "recall": float in [0, 1]}
    """
    real = as_array("real_feats", real_feats, ndim=2)
    fake = as_array("fake_feats", fake_feats, ndim=2)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real_feats and fake_feats must have the same feature size, "
                         f"got {real.shape[1]} and {fake.shape[1]}")
    check_int("k", k, minimum=1)
    if k >= min(len(real), len(fake)):
        raise ValueError(f"k={k} needs more than k rows in each set, "
                         f"got {len(real)} real and {len(fake)} fake")
    precision = inside_manifold(fake, real, manifold_radii(real, k)).mean()
    recall = inside_manifold(real, fake, manifold_radii(fake, k)).mean()
    return {"precision": float(precision), "recall": float(recall)}

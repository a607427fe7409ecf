"""Within-condition diversity: is a conditional generator as varied as the real data?

Lesson: 03 Conditional GANs.

For each condition c: the mean pairwise L2 distance between generated samples of c,
divided by the same for real samples of c. The ratio is averaged over conditions:
1.0 = as varied as real data, near 0 = one prototype per condition. Always report it
beside coherence: a generator drawing one prototype per class reaches ~95 % coherence on
digits with a diversity of ~0.2.

In the spirit of the intra-class diversity checks of Odena, Olah, Shlens (2017),
"Conditional Image Synthesis with Auxiliary Classifier GANs" (which used MS-SSIM).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import pdist

from mmgan_ref.metrics.features import as_labels, condition_ids, flatten_images
from mmgan_ref.utils import check_int


def mean_pairwise_distance(samples: Any, max_samples: int | None = None,
                           seed: int = 0) -> float:
    """Mean L2 distance over all pairs of rows of (N, ...) samples (N >= 2).

    Args:
        max_samples: if set and N is larger, a seeded random subset of this size is used
            (the pair count grows as N²).
    """
    flat = flatten_images("samples", samples)
    if len(flat) < 2:
        raise ValueError(f"samples needs at least 2 rows for a pairwise distance, got {len(flat)}")
    if max_samples is not None and len(flat) > max_samples:
        keep = np.random.default_rng(seed).choice(len(flat), max_samples, replace=False)
        flat = flat[keep]
    return float(pdist(flat).mean())


def within_class_diversity(generated: Any, labels: Any, real: Any, real_labels: Any,
                           max_per_condition: int | None = 500,
                           seed: int = 0) -> dict[str, float]:
    """Generated / real mean pairwise distance, per condition, averaged over conditions.

    Args:
        generated: (N, ...) generated samples (images are flattened).
        labels: (N,) int conditions, or (N, A) attribute rows (a condition = a unique row).
        real: (M, ...) real samples of the same shape; real_labels: like ``labels``.
        max_per_condition: cap on samples per condition (seeded subset), None for all.
        seed: seeds the subsets.

    Conditions with fewer than 2 generated or 2 real samples are skipped; at least one
    condition must remain.

    Returns:
        {"ratio": mean over conditions of gen/real, "generated": mean generated distance,
        "real": mean real distance, "conditions": number of conditions used}
    """
    gen = flatten_images("generated", generated)
    ref = flatten_images("real", real)
    if gen.shape[1] != ref.shape[1]:
        raise ValueError(f"generated and real must have the same size per sample, "
                         f"got {gen.shape[1]} and {ref.shape[1]}")
    if max_per_condition is not None:
        check_int("max_per_condition", max_per_condition, minimum=2)
    gen_ids, ref_ids = condition_ids(as_labels("labels", labels, len(gen)),
                                     as_labels("real_labels", real_labels, len(ref)))
    gen_d, ref_d = [], []
    for c in np.unique(gen_ids):
        g, r = gen[gen_ids == c], ref[ref_ids == c]
        if len(g) < 2 or len(r) < 2:
            continue
        gen_d.append(mean_pairwise_distance(g, max_per_condition, seed))
        ref_d.append(mean_pairwise_distance(r, max_per_condition, seed))
    if not gen_d:
        raise ValueError("no condition has at least 2 generated and 2 real samples; "
                         "generate more samples per condition")
    ratios = np.array(gen_d) / np.maximum(np.array(ref_d), 1e-12)
    return {"ratio": float(ratios.mean()), "generated": float(np.mean(gen_d)),
            "real": float(np.mean(ref_d)), "conditions": len(gen_d)}

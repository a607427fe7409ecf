"""Membership inference against a GAN: was this record in the training set?

Lesson: 11 Where multimodal GANs stand (privacy and security).

A GAN whose discriminator has seen a record many times tends to score it higher than a
similar record it never saw. The white-box attack of LOGAN (Hayes et al. 2019) uses the
discriminator's score itself: rank candidate records by it, call the top ones members.
Its strength is summarised without a threshold by the AUROC of "member" against "not a
member" (0.5: the attacker learns nothing; 1.0: perfect) and by the membership advantage
max(TPR - FPR) over thresholds (Yeom et al. 2018).

Orientation matters: every function here takes scores where **higher means "more likely
a member"** (a discriminator's logit, or minus a reconstruction error).

References:
    Shokri, Stronati, Song and Shmatikov 2017, "Membership Inference Attacks Against
    Machine Learning Models".
    Hayes, Melis, Danezis and De Cristofaro 2019, "LOGAN: Membership Inference Attacks
    Against Generative Models".
    Yeom, Giacomelli, Fredrikson and Jha 2018, "Privacy Risk in Machine Learning:
    Analyzing the Connection to Overfitting".
    Abadi et al. 2016, "Deep Learning with Differential Privacy" (DP-SGD, the defence
    with a guarantee).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from mmgan_ref.utils import check_float, check_int


def _scores(name: str, values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of scores, got shape "
                         f"{array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf; scores must be finite")
    return array


def _labelled(member_scores: Any, nonmember_scores: Any) -> tuple[np.ndarray, np.ndarray]:
    members = _scores("member_scores", member_scores)
    others = _scores("nonmember_scores", nonmember_scores)
    labels = np.concatenate([np.ones(len(members)), np.zeros(len(others))])
    return labels, np.concatenate([members, others])


def membership_auroc(member_scores: Any, nonmember_scores: Any) -> float:
    """AUROC of the attack: P(score of a member > score of a non-member), ties count 1/2.

    Args:
        member_scores: (M,) scores of training records; higher = "member".
        nonmember_scores: (N,) scores of records the model never saw.
    """
    labels, scores = _labelled(member_scores, nonmember_scores)
    return float(roc_auc_score(labels, scores))


def membership_advantage(member_scores: Any, nonmember_scores: Any) -> float:
    """max over thresholds of TPR - FPR (0: no advantage over guessing, 1: perfect)."""
    labels, scores = _labelled(member_scores, nonmember_scores)
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.max(tpr - fpr))


def tpr_at_fpr(member_scores: Any, nonmember_scores: Any, fpr: float = 0.05) -> float:
    """Share of members caught when at most `fpr` of non-members are wrongly accused."""
    check_float("fpr", fpr, minimum=0.0, maximum=1.0)
    labels, scores = _labelled(member_scores, nonmember_scores)
    false_pos, true_pos, _ = roc_curve(labels, scores)
    return float(true_pos[false_pos <= fpr].max())


def membership_report(member_scores: Any, nonmember_scores: Any) -> dict[str, float]:
    """{"auroc", "advantage", "tpr_at_5pct_fpr", "members", "nonmembers"}."""
    return {"auroc": membership_auroc(member_scores, nonmember_scores),
            "advantage": membership_advantage(member_scores, nonmember_scores),
            "tpr_at_5pct_fpr": tpr_at_fpr(member_scores, nonmember_scores, 0.05),
            "members": len(_scores("member_scores", member_scores)),
            "nonmembers": len(_scores("nonmember_scores", nonmember_scores))}


@torch.no_grad()
def discriminator_scores(discriminator: torch.nn.Module, images: torch.Tensor,
                         condition: torch.Tensor | None = None,
                         batch_size: int = 512) -> np.ndarray:
    """D's logits (N,) for images (N, ...) and, for a conditional D, their conditions (N, ...).

    D runs in eval mode (restored afterwards) and without gradients. Higher = "real",
    which the white-box attack reads as "member".
    """
    check_int("batch_size", batch_size, minimum=1)
    if condition is not None and len(condition) != len(images):
        raise ValueError(f"condition has {len(condition)} rows, images has {len(images)}")
    was_training = discriminator.training
    discriminator.eval()
    try:
        parts = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            args = (chunk,) if condition is None else (chunk,
                                                       condition[start:start + batch_size])
            parts.append(discriminator(*args).reshape(len(chunk)).float().cpu())
    finally:
        discriminator.train(was_training)
    return torch.cat(parts).numpy()

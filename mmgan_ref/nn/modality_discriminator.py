"""Adversarial alignment of modalities: a discriminator that tells them apart, and the gap.

Lesson: 04 Encoding modalities into one space (adversarial alignment, the modality gap).

A *modality discriminator* D_m reads a code of the shared space and guesses which
encoder made it (image, text or sound): logits (B, M). It is trained with the ordinary
cross-entropy on the true modality (:func:`modality_d_loss`). The encoders are trained to
fool it with the *confusion loss* (:func:`modality_confusion_loss`): the cross-entropy
between D_m's prediction and the uniform distribution over the M modalities. It is
smallest, log M, when D_m cannot tell the modalities apart, and unlike "maximise D_m's
loss" (gradient reversal) it is bounded below, so the encoders are not pushed to make
D_m confidently wrong.

The *modality gap* is the distance between the centroids of two modalities' unit-norm
codes; a contrastive loss alone leaves the modalities in separate regions of the sphere.

References:
    Tzeng, Hoffman, Darrell, Saenko (2015), "Simultaneous Deep Transfer Across Domains and
    Tasks" (the domain-confusion loss against a uniform target).
    Ganin and Lempitsky (2015), "Unsupervised Domain Adaptation by Backpropagation"
    (a domain classifier that the features learn to fool).
    Wang et al. (2017), "Adversarial Cross-Modal Retrieval" (a modality classifier as the
    adversary of a shared image-text space).
    Liang et al. (2022), "Mind the Gap: Understanding the Modality Gap in Multi-modal
    Contrastive Representation Learning" (the centroid distance as the gap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmgan_ref.nn.blocks import mlp
from mmgan_ref.utils import check_int, check_tensor


class ModalityDiscriminator(nn.Module):
    """D_m: codes (B, dim) -> modality logits (B, num_modalities).

    Args:
        dim: width of the shared space.
        num_modalities: M, the number of modalities to tell apart (at least 2).
        hidden: hidden widths of the MLP (LeakyReLU between layers).
    """

    def __init__(self, dim: int, num_modalities: int = 3, hidden: Sequence[int] = (64,)) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, minimum=1)
        self.num_modalities = check_int("num_modalities", num_modalities, minimum=2)
        self.net = mlp([dim, *hidden, num_modalities], activation="leaky_relu")

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, dim) -> logits (B, num_modalities)."""
        check_tensor("codes", codes, ("B", self.dim))
        return self.net(codes)


def stack_modalities(codes: Mapping[str, torch.Tensor],
                     order: Sequence[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack the codes of several modalities and label each row with its modality index.

    Args:
        codes: {modality: codes (B_m, dim)}, e.g. the output of ``CrossModalEncoder``.
        order: the modalities in label order (default: the dict's order); label m is
            ``order[m]``.

    Returns:
        (codes (sum B_m, dim), labels (sum B_m,) int64)
    """
    if not isinstance(codes, Mapping) or len(codes) < 2:
        raise ValueError("codes must be a dict of at least two modalities, got "
                         f"{type(codes).__name__} of length "
                         f"{len(codes) if isinstance(codes, Mapping) else 0}")
    order = list(codes) if order is None else list(order)
    if sorted(order) != sorted(codes):
        raise ValueError(f"order must list the modalities of codes, {sorted(codes)}, "
                         f"got {order}")
    dim = None
    for name in order:
        check_tensor(f"codes[{name!r}]", codes[name], ("B", dim))
        dim = codes[name].shape[1]
    labels = torch.cat([torch.full((len(codes[name]),), m, dtype=torch.long,
                                   device=codes[name].device) for m, name in enumerate(order)])
    return torch.cat([codes[name] for name in order]), labels


def modality_d_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """D_m's loss: cross-entropy of the true modality. logits (B, M), labels (B,) int64."""
    check_tensor("logits", logits, ("B", "M"))
    check_tensor("labels", labels, (logits.shape[0],), dtype_kind="int")
    return F.cross_entropy(logits, labels)


def modality_confusion_loss(logits: torch.Tensor) -> torch.Tensor:
    """The encoders' adversarial loss: cross-entropy of D_m's prediction with the uniform target.

    loss = mean over rows of -(1/M) sum_m log softmax(logits)_m; its minimum, log M, is
    reached when D_m gives every modality the same probability.

    Args:
        logits: D_m's logits (B, M) on codes the encoders should make indistinguishable.

    Returns:
        a scalar tensor (>= log M).
    """
    check_tensor("logits", logits, ("B", "M"))
    return -F.log_softmax(logits, dim=1).mean()


def modality_gap(codes_a: torch.Tensor, codes_b: torch.Tensor) -> float:
    """Distance between the centroids of two modalities' codes, after L2 normalisation.

    0 when the two clouds share a centre; at most 2 (opposite poles of the sphere).
    """
    check_tensor("codes_a", codes_a, ("N", None))
    check_tensor("codes_b", codes_b, ("M", codes_a.shape[1]))
    centre_a = F.normalize(codes_a.detach().double(), dim=1).mean(0)
    centre_b = F.normalize(codes_b.detach().double(), dim=1).mean(0)
    return float((centre_a - centre_b).norm())


def modality_gaps(codes: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """:func:`modality_gap` for every pair of modalities: {"image-text": ..., ...}."""
    names = list(codes)
    if len(names) < 2:
        raise ValueError(f"codes must hold at least two modalities, got {names}")
    return {f"{a}-{b}": modality_gap(codes[a], codes[b])
            for i, a in enumerate(names) for b in names[i + 1:]}


def chance_confusion(num_modalities: int) -> float:
    """log M: the confusion loss (and D_m's loss) when D_m cannot tell M modalities apart."""
    return math.log(check_int("num_modalities", num_modalities, minimum=2))


__all__ = ["ModalityDiscriminator", "chance_confusion", "modality_confusion_loss",
           "modality_d_loss", "modality_gap", "modality_gaps", "stack_modalities"]

"""MLP generators and discriminators for 2-D data and flat images, plain or conditional.

Lesson: 02 A first GAN on 2D data (plain MLPs) and 03 Conditional GANs (concatenation,
projection discriminator, auxiliary classifier).

Conditioning: `num_classes > 0` takes integer labels (B,) (one-hot inside), `cond_dim > 0`
takes a float code (B, cond_dim). Discriminators return raw logits (B,), never a sigmoid:
the losses in `mmgan_ref.objectives` take logits.

References:
    Goodfellow et al. 2014, "Generative Adversarial Nets".
    Mirza and Osindero 2014, "Conditional Generative Adversarial Nets".
    Miyato and Koyama 2018, "cGANs with Projection Discriminator".
    Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mmgan_ref.nn.blocks import ConditionInput, ProjectionHead, maybe_spectral_norm, mlp
from mmgan_ref.utils import check_choice, check_int, check_tensor

OUT_ACTIVATIONS = (None, "tanh", "sigmoid")


def _check_hidden(hidden: Sequence[int]) -> list[int]:
    hidden = list(hidden)
    if not hidden:
        raise ValueError("hidden must list at least one layer width, got ()")
    for i, width in enumerate(hidden):
        check_int(f"hidden[{i}]", width, minimum=1)
    return hidden


class MLPGenerator(nn.Module):
    """G(z[, cond]) -> x: an MLP on the noise, the condition concatenated to it.

    Args:
        z_dim: noise width.
        out_dim: output width (2 for toy 2-D data, 64 for flat 8x8 digits).
        hidden: hidden widths.
        cond_dim, num_classes: the condition (at most one non-zero).
        activation: hidden activation ("relu" or "leaky_relu").
        out_activation: None (unbounded, for 2-D data), "tanh" (images in [-1, 1]) or
            "sigmoid".
    """

    def __init__(self, z_dim: int, out_dim: int, hidden: Sequence[int] = (128, 128), *,
                 cond_dim: int = 0, num_classes: int = 0, activation: str = "relu",
                 out_activation: str | None = None) -> None:
        super().__init__()
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        check_choice("out_activation", out_activation, OUT_ACTIVATIONS)
        self.condition = ConditionInput(cond_dim, num_classes)
        sizes = [z_dim + self.condition.dim, *_check_hidden(hidden), out_dim]
        self.net = mlp(sizes, activation=activation, final_activation=out_activation)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, z_dim), cond labels (B,) or code (B, cond_dim) -> x (B, out_dim)."""
        check_tensor("z", z, ("B", self.z_dim))
        c = self.condition(cond, z.shape[0])  # (B, K) or None
        return self.net(z if c is None else torch.cat([z, c], dim=1))


class MLPDiscriminator(nn.Module):
    """D(x[, cond]) -> logits (B,), conditioned by concatenation or by projection.

    Args:
        in_dim: input width.
        hidden: hidden widths; the last one is the feature width h.
        cond_dim, num_classes: the condition (at most one non-zero).
        spectral_norm: wrap every Linear (and the projection embedding) in spectral norm.
        projection: condition by logit = psi(h) + <embed(y), h> instead of concatenating y
            to x; needs a condition.
        activation: hidden activation.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (128, 128), *, cond_dim: int = 0,
                 num_classes: int = 0, spectral_norm: bool = False, projection: bool = False,
                 activation: str = "leaky_relu") -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        self.condition = ConditionInput(cond_dim, num_classes)
        if projection and self.condition.dim == 0:
            raise ValueError("projection=True needs a condition: set cond_dim or num_classes")
        self.projection = projection
        hidden = _check_hidden(hidden)
        concat_dim = 0 if projection else self.condition.dim
        self.body = mlp([in_dim + concat_dim, *hidden], activation=activation,
                        spectral_norm=spectral_norm, final_activation=activation)
        head_cond = {"cond_dim": cond_dim, "num_classes": num_classes} if projection else {}
        self.head = ProjectionHead(hidden[-1], spectral_norm=spectral_norm, **head_cond)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, in_dim), cond labels (B,) or code (B, cond_dim) -> logits (B,)."""
        check_tensor("x", x, ("B", self.in_dim))
        if self.projection:
            return self.head(self.body(x), cond)  # (B,)
        c = self.condition(cond, x.shape[0])
        h = self.body(x if c is None else torch.cat([x, c], dim=1))  # (B, hidden[-1])
        return self.head(h)


class AuxClassifierDiscriminator(nn.Module):
    """AC-GAN discriminator: D(x) -> (real/fake logit (B,), class logits (B, K)).

    The label is not an input: D must recognise the class, and both G and D are trained
    to make the class head right (Odena et al. 2017).

    Args:
        in_dim: input width (flat images: C*H*W).
        num_classes: K, the number of classes.
        hidden: hidden widths of the shared body.
        spectral_norm: wrap every Linear in spectral norm.
        activation: hidden activation.
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: Sequence[int] = (128, 128), *,
                 spectral_norm: bool = False, activation: str = "leaky_relu") -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        hidden = _check_hidden(hidden)
        self.body = mlp([in_dim, *hidden], activation=activation, spectral_norm=spectral_norm,
                        final_activation=activation)
        self.adv = maybe_spectral_norm(nn.Linear(hidden[-1], 1), spectral_norm)
        self.cls = maybe_spectral_norm(nn.Linear(hidden[-1], num_classes), spectral_norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, in_dim) -> (logit (B,), class_logits (B, K))."""
        check_tensor("x", x, ("B", self.in_dim))
        h = self.body(x)  # (B, hidden[-1])
        return self.adv(h).squeeze(1), self.cls(h)

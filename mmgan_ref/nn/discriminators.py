"""Discriminators on pairs: image + text code (matching-aware), data + latent (BiGAN/ALI).

Lesson: 05 Text-to-image GAN (`MatchingAwareDiscriminator`, GAN-CLS) and
06 BiGAN/ALI and representation learning (`JointDiscriminator`).

Both return raw logits (B,); the losses in `mmgan_ref.objectives` take logits.

References:
    Reed et al. 2016, "Generative Adversarial Text to Image Synthesis" (GAN-CLS).
    Miyato and Koyama 2018, "cGANs with Projection Discriminator".
    Donahue et al. 2017, "Adversarial Feature Learning" (BiGAN).
    Dumoulin et al. 2017, "Adversarially Learned Inference" (ALI).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mmgan_ref.nn.blocks import ProjectionHead, maybe_spectral_norm, mlp
from mmgan_ref.nn.conv import ConvTrunk
from mmgan_ref.utils import check_int, check_tensor


class MatchingAwareDiscriminator(nn.Module):
    """D(x, s) -> logits (B,): does image x look real AND match the code s?

    A conv trunk gives features h; a projection head scores
    logit = psi(h) + <W s, h>. Trained GAN-CLS style, (real image, wrong code) pairs are
    fakes too, so D must use s (Reed et al. 2016).

    Args:
        channels: image channels.
        image_size: S, one of `mmgan_ref.nn.conv.IMAGE_SIZES`.
        code_dim: width of the shared-space code s.
        base_width: stem width of the trunk.
        spectral_norm: wrap every layer in spectral norm.
    """

    def __init__(self, *, channels: int = 3, image_size: int = 32, code_dim: int = 64,
                 base_width: int = 16, spectral_norm: bool = False) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.code_dim = check_int("code_dim", code_dim, minimum=1)
        self.image_size = image_size
        self.trunk = ConvTrunk(channels, image_size, base_width, spectral_norm=spectral_norm)
        self.head = ProjectionHead(self.trunk.feature_dim, cond_dim=code_dim,
                                   spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """x (B, C, S, S), s (B, code_dim) -> logits (B,)."""
        check_tensor("x", x, ("B", self.channels, self.image_size, self.image_size))
        check_tensor("s", s, (x.shape[0], self.code_dim))
        return self.head(self.trunk(x), s)


class JointDiscriminator(nn.Module):
    """D(x, z) -> logits (B,) on joint pairs, for BiGAN / ALI.

    Real pairs are (x, E(x)), fake pairs (G(z), z); at the optimum E inverts G.
    Flat x is concatenated with z; an image x first goes through a conv trunk.

    Args:
        x_dim: width of flat x, or (C, S, S) for images.
        z_dim: latent width.
        hidden: widths of the joint MLP.
        base_width: stem width of the conv trunk (images only).
        spectral_norm: wrap every layer in spectral norm.
        activation: hidden activation of the joint MLP.
    """

    def __init__(self, x_dim: int | Sequence[int], z_dim: int,
                 hidden: Sequence[int] = (256, 256), *, base_width: int = 16,
                 spectral_norm: bool = False, activation: str = "leaky_relu") -> None:
        super().__init__()
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.trunk: ConvTrunk | None = None
        if isinstance(x_dim, int):
            self.x_shape: tuple[int, ...] = (check_int("x_dim", x_dim, minimum=1),)
            x_features = x_dim
        else:
            self.x_shape = tuple(x_dim)
            if len(self.x_shape) != 3 or self.x_shape[1] != self.x_shape[2]:
                raise ValueError(f"x_dim must be an int or (C, S, S), got {x_dim!r}")
            self.trunk = ConvTrunk(self.x_shape[0], self.x_shape[1], base_width,
                                   spectral_norm=spectral_norm)
            x_features = self.trunk.feature_dim
        hidden = list(hidden)
        if not hidden:
            raise ValueError("hidden must list at least one layer width, got ()")
        self.joint = mlp([x_features + z_dim, *hidden], activation=activation,
                         spectral_norm=spectral_norm, final_activation=activation)
        self.out = maybe_spectral_norm(nn.Linear(hidden[-1], 1), spectral_norm)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """x (B, x_dim) or (B, C, S, S), z (B, z_dim) -> logits (B,)."""
        check_tensor("x", x, ("B", *self.x_shape))
        check_tensor("z", z, (x.shape[0], self.z_dim))
        fx = x if self.trunk is None else self.trunk(x)  # (B, x_features)
        return self.out(self.joint(torch.cat([fx, z], dim=1))).squeeze(1)

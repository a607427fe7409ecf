"""DCGAN-style convolutional generator and discriminator, plain or conditional.

Lesson: 03 Conditional GANs (conditioning images on labels) and 05 Text-to-image GAN
(conditioning on shared-space codes with FiLM / conditional batch norm).

Images are float tensors in [-1, 1], shape (B, C, H, W) with H = W in {8, 16, 32, 64}.
Widths double at each halving of the resolution; `base_width` is the width at full
resolution, so the defaults stay small enough for a laptop CPU. Features are flattened
with `flatten`, never `.view`, so channels_last inputs work.

References:
    Radford et al. 2016, "Unsupervised Representation Learning with Deep Convolutional GANs".
    Miyato and Koyama 2018, "cGANs with Projection Discriminator".
    Perez et al. 2018, "FiLM: Visual Reasoning with a General Conditioning Layer".
"""

from __future__ import annotations

import torch
from torch import nn

from mmgan_ref.nn.blocks import (
    LEAKY_SLOPE,
    ConditionalBatchNorm2d,
    ConditionInput,
    ProjectionHead,
    maybe_spectral_norm,
)
from mmgan_ref.utils import check_choice, check_int, check_tensor

IMAGE_SIZES = (8, 16, 32, 64)
BASE_RESOLUTION = 4  # generators start from, and discriminators end at, a 4x4 map
CONDITIONING = ("concat", "film")


def num_resamplings(image_size: int) -> int:
    """How many x2 up/down steps lie between 4x4 and `image_size` (8 -> 1, 64 -> 4)."""
    check_choice("image_size", image_size, IMAGE_SIZES)
    return int(image_size // BASE_RESOLUTION).bit_length() - 1


class ConvTrunk(nn.Module):
    """A small strided CNN: (B, C, S, S) -> features (B, feature_dim), ending at 4x4.

    A 3x3 stem at full resolution, then 4x4 stride-2 convolutions with LeakyReLU, the
    width doubling at each step. Shared by discriminators and image encoders.

    Args:
        in_channels: input channels C.
        image_size: S, one of `IMAGE_SIZES`.
        base_width: width of the stem.
        spectral_norm: wrap every convolution in spectral norm.
    """

    def __init__(self, in_channels: int, image_size: int, base_width: int = 16, *,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        check_int("in_channels", in_channels, minimum=1)
        check_int("base_width", base_width, minimum=1)
        steps = num_resamplings(image_size)
        layers: list[nn.Module] = [
            maybe_spectral_norm(nn.Conv2d(in_channels, base_width, 3, padding=1), spectral_norm),
            nn.LeakyReLU(LEAKY_SLOPE),
        ]
        width = base_width
        for _ in range(steps):
            conv = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
            layers += [maybe_spectral_norm(conv, spectral_norm), nn.LeakyReLU(LEAKY_SLOPE)]
            width *= 2
        self.net = nn.Sequential(*layers)
        self.out_channels = width
        self.feature_dim = width * BASE_RESOLUTION**2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, S, S) -> (B, feature_dim)."""
        return self.net(x).flatten(1)  # (B, width, 4, 4) -> (B, width*16)


class ConvGenerator(nn.Module):
    """G(z[, cond]) -> images (B, C, S, S) in [-1, 1] (tanh output).

    A Linear maps the input to a 4x4 map, then transposed convolutions double the
    resolution, each followed by batch norm and ReLU, and a 3x3 convolution gives the image.

    Args:
        z_dim: noise width.
        channels: image channels (1 or 3).
        image_size: S, one of `IMAGE_SIZES`.
        base_width: width at full resolution (the 4x4 map has base_width * 2**steps).
        cond_dim, num_classes: the condition (at most one non-zero).
        conditioning: "concat" (condition concatenated to z) or "film" (the condition
            modulates every batch norm, at every resolution, via conditional batch norm).
    """

    def __init__(self, z_dim: int, *, channels: int = 1, image_size: int = 32,
                 base_width: int = 16, cond_dim: int = 0, num_classes: int = 0,
                 conditioning: str = "concat") -> None:
        super().__init__()
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.channels = check_int("channels", channels, minimum=1)
        check_int("base_width", base_width, minimum=1)
        self.conditioning = check_choice("conditioning", conditioning, CONDITIONING)
        self.image_size = image_size
        self.condition = ConditionInput(cond_dim, num_classes)
        film = conditioning == "film" and self.condition.dim > 0
        steps = num_resamplings(image_size)
        widths = [base_width * 2 ** (steps - k) for k in range(steps + 1)]  # 4x4 ... SxS
        self.start_width = widths[0]
        in_dim = z_dim + (0 if film else self.condition.dim)
        self.fc = nn.Linear(in_dim, widths[0] * BASE_RESOLUTION**2, bias=False)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=False)
            for w_in, w_out in zip(widths[:-1], widths[1:], strict=True)
        )
        self.norms = nn.ModuleList(
            ConditionalBatchNorm2d(w, self.condition.dim) if film else nn.BatchNorm2d(w)
            for w in widths
        )
        self.film = film
        self.act = nn.ReLU()
        self.to_image = nn.Conv2d(widths[-1], channels, 3, padding=1)

    def _norm_act(self, i: int, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.act(self.norms[i](h, c) if self.film else self.norms[i](h))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, z_dim), cond labels (B,) or code (B, cond_dim) -> (B, C, S, S)."""
        check_tensor("z", z, ("B", self.z_dim))
        c = self.condition(cond, z.shape[0])  # (B, K) or None
        z_in = z if (c is None or self.film) else torch.cat([z, c], dim=1)
        h = self.fc(z_in).reshape(z.shape[0], self.start_width, BASE_RESOLUTION, BASE_RESOLUTION)
        h = self._norm_act(0, h, c)  # (B, W0, 4, 4)
        for i, up in enumerate(self.ups, start=1):
            h = self._norm_act(i, up(h), c)  # resolution doubles, width halves
        return torch.tanh(self.to_image(h))  # (B, C, S, S)


class ConvDiscriminator(nn.Module):
    """D(x[, cond]) -> logits (B,), conditioned by concatenation or by projection.

    Concatenation tiles the condition vector over the image as extra input channels;
    projection adds <embed(y), h> to the logit (Miyato and Koyama 2018).

    Args:
        channels: image channels.
        image_size: S, one of `IMAGE_SIZES`.
        base_width: stem width of the trunk.
        cond_dim, num_classes: the condition (at most one non-zero).
        projection: condition by projection (needs a condition).
        spectral_norm: wrap every layer in spectral norm.
    """

    def __init__(self, *, channels: int = 1, image_size: int = 32, base_width: int = 16,
                 cond_dim: int = 0, num_classes: int = 0, projection: bool = False,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.image_size = image_size
        self.condition = ConditionInput(cond_dim, num_classes)
        if projection and self.condition.dim == 0:
            raise ValueError("projection=True needs a condition: set cond_dim or num_classes")
        self.projection = projection
        extra = 0 if projection else self.condition.dim
        self.trunk = ConvTrunk(channels + extra, image_size, base_width,
                               spectral_norm=spectral_norm)
        head_cond = {"cond_dim": cond_dim, "num_classes": num_classes} if projection else {}
        self.head = ProjectionHead(self.trunk.feature_dim, spectral_norm=spectral_norm,
                                   **head_cond)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, S, S), cond labels (B,) or code (B, cond_dim) -> logits (B,)."""
        s = self.image_size
        check_tensor("x", x, ("B", self.channels, s, s))
        if self.projection:
            return self.head(self.trunk(x), cond)
        c = self.condition(cond, x.shape[0])  # (B, K) or None
        if c is not None:
            tiled = c[:, :, None, None].expand(-1, -1, s, s)  # (B, K, S, S)
            x = torch.cat([x, tiled.to(x.dtype)], dim=1)
        return self.head(self.trunk(x))

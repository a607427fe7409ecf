"""Adapters that let flat MLPs work on images, so 8x8 digits can use the MLPs of lesson 02.

Lesson: 03 Conditional GANs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ReshapeOutput(nn.Module):
    """Wrap a network whose output is flat (B, C*H*W) to return images (B, C, H, W)."""

    def __init__(self, network: nn.Module, shape: Sequence[int]) -> None:
        super().__init__()
        self.network = network
        self.shape = tuple(shape)

    def forward(self, *args: torch.Tensor | None) -> torch.Tensor:
        out = self.network(*args)
        return out.reshape(out.shape[0], *self.shape)


class FlattenInput(nn.Module):
    """Wrap a network that takes flat inputs so it accepts images (B, C, H, W)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, *rest: torch.Tensor | None) -> torch.Tensor:
        return self.network(x.flatten(1), *rest)

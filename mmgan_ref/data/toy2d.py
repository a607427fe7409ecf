"""Mixtures of 2D Gaussians: the ring and grid of the PacGAN/VEEGAN protocol.

Lesson: 02 A first GAN on 2D data (mode collapse and how to measure it).

Ring: 8 Gaussians with means (cos 2πk/8, sin 2πk/8), k = 0..7, std 0.01.
Grid: 25 Gaussians with means {-4, -2, 0, 2, 4}², std 0.05.
Every mode has the same weight. The ring's angles use ``endpoint=False``: with
``linspace(0, 2π, 8)`` the first and last modes coincide and only 7 distinct modes remain,
a bug found in several public implementations.

References: Srivastava et al. 2017, "VEEGAN"; Lin et al. 2018, "PacGAN".
"""

from __future__ import annotations

import functools
import math

import torch
from torch.utils.data import Dataset

from mmgan_ref.utils import check_choice, check_int

TOY2D_NAMES = ("ring", "grid")
RING_STD = 0.01
GRID_STD = 0.05
RING_MODES = 8
RING_RADIUS = 1.0
GRID_VALUES = (-4.0, -2.0, 0.0, 2.0, 4.0)


def make_generator(seed: int | None = None,
                   generator: torch.Generator | None = None) -> torch.Generator:
    """The torch.Generator a data function draws from: `generator`, or a new one from `seed`.

    Shared by the data modules so that none of them touches the global RNG.
    Give at most one of the two; with neither, seed 0 is used (deterministic by default).
    """
    if seed is not None and generator is not None:
        raise ValueError("give either seed or generator, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    seed = 0 if seed is None else check_int("seed", seed, minimum=0)
    return torch.Generator().manual_seed(seed)


def mixture_means(name: str) -> torch.Tensor:
    """The mode centres of a toy mixture.

    Args:
        name: "ring" or "grid".
    Returns:
        float32 (K, 2): K = 8 for the ring, 25 for the grid (a fresh copy).
    """
    check_choice("name", name, TOY2D_NAMES)
    return _means(name).clone()


@functools.cache
def _means(name: str) -> torch.Tensor:
    # Cached: the training loop samples a batch every few milliseconds.
    if name == "ring":
        angles = 2 * math.pi * torch.arange(RING_MODES, dtype=torch.float64) / RING_MODES
        means = RING_RADIUS * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    else:
        values = torch.tensor(GRID_VALUES, dtype=torch.float64)
        xs, ys = torch.meshgrid(values, values, indexing="ij")
        means = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    return means.float()


def mixture_std(name: str) -> float:
    """The per-coordinate std of every mode: 0.01 for the ring, 0.05 for the grid."""
    check_choice("name", name, TOY2D_NAMES)
    return RING_STD if name == "ring" else GRID_STD


def sample_toy2d(name: str, n: int, generator: torch.Generator | None = None,
                 seed: int | None = None) -> torch.Tensor:
    """Draw `n` points from the ring or grid mixture, every mode equally likely.

    Args:
        name: "ring" or "grid".
        n: number of points (>= 1).
        generator, seed: the randomness (give at most one; neither means seed 0).
    Returns:
        float32 (n, 2).
    """
    check_choice("name", name, TOY2D_NAMES)
    means = _means(name)  # indexed below, never written
    n = check_int("n", n, minimum=1)
    rng = make_generator(seed, generator)
    modes = torch.randint(len(means), (n,), generator=rng)
    noise = torch.randn(n, 2, generator=rng)
    return means[modes] + mixture_std(name) * noise


class Toy2D(Dataset):
    """A fixed sample of a toy mixture, as a Dataset of {"x": (2,)} items.

    Args:
        name: "ring" or "grid".
        n: number of points.
        seed: the sample's seed.
    """

    def __init__(self, name: str = "ring", n: int = 2500, seed: int = 0) -> None:
        self.name = name
        self.points = sample_toy2d(name, n, seed=seed)  # (n, 2)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"x": self.points[index]}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every item stacked: {"x": (n, 2)}."""
        return {"x": self.points}

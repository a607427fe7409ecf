"""Static plots: image grids, training curves and 2-D samples over the true modes.

Lesson: 02 A first GAN on 2D data (curves, 2-D samples), 03 Conditional GANs (grids).
Every plot has a title and labelled axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def image_grid(images: torch.Tensor, nrow: int, pad: int = 1) -> np.ndarray:
    """Tile images (N, C, H, W) in [-1, 1] into one array (rows*H, cols*W, C) in [0, 1]."""
    images = images.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    n, c, h, w = images.shape
    ncol = -(-n // nrow)  # ceil
    grid = np.ones((nrow * (h + pad) - pad, ncol * (w + pad) - pad, c), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        grid[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = (
            images[i].permute(1, 2, 0).numpy())
    return grid


def plot_image_grid(images: torch.Tensor, nrow: int, title: str,
                    row_labels: Sequence[str] | None = None, ax=None):
    """Show an image grid; `row_labels` (one per row) are written at the left of each row."""
    grid = image_grid(images, nrow)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(12, 1 + grid.shape[1] / 12), 1 + grid.shape[0] / 12))
    cmap = "gray" if grid.shape[2] == 1 else None
    ax.imshow(grid.squeeze(2) if grid.shape[2] == 1 else grid, cmap=cmap, vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xticks([])
    h = images.shape[2] + 1
    if row_labels is not None:
        ax.set_yticks([h * i + h / 2 - 1 for i in range(len(row_labels))], list(row_labels))
    else:
        ax.set_yticks([])
    return ax.figure


def plot_history(history: Sequence[dict[str, float]], title: str = "Training curves", ax=None):
    """Plot every logged scalar of a trainer history against the step."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    steps = [h["step"] for h in history]
    for key in sorted({k for h in history for k in h if k != "step"}):
        ax.plot(steps, [h.get(key, np.nan) for h in history], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("value (mean over the logging window)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax.figure


def plot_samples_2d(samples: torch.Tensor, means: torch.Tensor | None = None,
                    title: str = "Samples", ax=None, real: torch.Tensor | None = None):
    """Scatter 2-D samples, with the mixture means as crosses and optional real samples."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    if real is not None:
        ax.scatter(*real.cpu().T, s=2, alpha=0.3, color="tab:gray", label="real")
    ax.scatter(*samples.detach().cpu().T, s=2, alpha=0.5, color="tab:blue", label="generated")
    if means is not None:
        ax.scatter(*means.cpu().T, marker="x", color="tab:red", s=30, label="mode means")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    return ax.figure

"""Interactive explorers (ipywidgets) for trained GANs: training snapshots and digit latents.

Lesson: 02 A first GAN on 2D data (a slider over training snapshots: watch mode collapse)
and 03 Conditional GANs (pick a digit, move through z).

Each explorer is three layers, so the numbers can be tested without a browser:

* a *state* function computing what is shown (plain tensors and floats):
  :func:`snapshot_state`, :func:`digit_explorer_state`;
* a *draw* / *update* pair making a Matplotlib figure and moving its artists;
* the widget function (:func:`snapshot_explorer`, :func:`digit_explorer`), whose callbacks
  only call *update* and redraw the figure into an ``ipywidgets.Output`` (works with the
  default inline backend).

:func:`plot_snapshot_grid` is the static version of the snapshot slider, for readers of a
rendered notebook without a kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from mmgan_ref.data.toy2d import TOY2D_NAMES, mixture_means
from mmgan_ref.metrics.coverage import toy2d_coverage
from mmgan_ref.utils import check_choice, check_float, check_int, check_tensor
from mmgan_ref.viz.widgets import figure_widget

Snapshot = tuple[int, torch.Tensor]  # (training step, generated samples (N, 2))
DIGIT_PATH_POINTS = 9  # images in the strip along the z path
PLOT_MARGIN = 0.5

# ----------------------------------------------------------------------------- lesson 02


def check_snapshots(snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """Validate a list of (step, samples (N, 2)) pairs with increasing steps; return it."""
    if not isinstance(snapshots, (list, tuple)) or not snapshots:
        raise ValueError("snapshots must be a non-empty list of (step, samples) pairs, "
                         f"got {type(snapshots).__name__} of length "
                         f"{len(snapshots) if hasattr(snapshots, '__len__') else '?'}")
    steps = []
    for i, item in enumerate(snapshots):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"snapshots[{i}] must be a (step, samples) pair, got {item!r:.60}")
        steps.append(check_int(f"snapshots[{i}] step", item[0], minimum=0))
        check_tensor(f"snapshots[{i}] samples", item[1], ("N", 2))
    if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(f"snapshot steps must increase, got {steps}")
    return list(snapshots)


def snapshot_state(snapshots: Sequence[Snapshot], index: int, mixture: str) -> dict[str, Any]:
    """What the snapshot slider shows at position `index`.

    Args:
        snapshots: (step, samples (N, 2)) pairs, steps increasing.
        index: which snapshot (0-based).
        mixture: "ring" or "grid", for the mode means and the coverage metrics.

    Returns:
        {"index", "step", "samples" (N, 2), "means" (K, 2), "modes", "high_quality",
        "reverse_kl", "num_modes" (K)}: the coverage numbers follow the VEEGAN/PacGAN
        protocol (`metrics.coverage.toy2d_coverage`) on the snapshot's samples.
    """
    snapshots = check_snapshots(snapshots)
    check_int("index", index, minimum=0, maximum=len(snapshots) - 1)
    check_choice("mixture", mixture, TOY2D_NAMES)
    step, samples = snapshots[index]
    means = mixture_means(mixture)
    return {"index": index, "step": int(step), "samples": samples.detach().cpu(),
            "means": means, "num_modes": len(means),
            **toy2d_coverage(samples.detach().cpu(), mixture)}


def coverage_over_training(snapshots: Sequence[Snapshot], mixture: str) -> dict[str, np.ndarray]:
    """Coverage metrics of every snapshot: arrays "step", "modes", "high_quality", "reverse_kl"."""
    snapshots = check_snapshots(snapshots)
    states = [snapshot_state(snapshots, i, mixture) for i in range(len(snapshots))]
    return {key: np.array([s[key] for s in states], dtype=float)
            for key in ("step", "modes", "high_quality", "reverse_kl")}


def _limits(mixture: str) -> tuple[float, float]:
    means = mixture_means(mixture)
    reach = float(means.abs().max()) + PLOT_MARGIN * (1 + float(means.abs().max()) / 2)
    return -reach, reach


def _snapshot_title(state: dict[str, Any]) -> str:
    return (f"step {state['step']}: {state['modes']}/{state['num_modes']} modes, "
            f"{100 * state['high_quality']:.0f}% HQ")


@dataclass
class SnapshotPlot:
    """The snapshot explorer's figure and the artists :func:`update_snapshot_plot` moves."""

    figure: Any
    artists: dict[str, Any]
    snapshots: list[Snapshot]
    mixture: str
    state: dict[str, Any] = field(default_factory=dict)


def draw_snapshot_plot(snapshots: Sequence[Snapshot], mixture: str, index: int = 0,
                       real: torch.Tensor | None = None) -> SnapshotPlot:
    """Scatter of one snapshot over the mode means (left) and coverage over training (right).

    Args:
        snapshots: (step, samples (N, 2)) pairs. mixture: "ring" or "grid".
        index: the snapshot shown first. real: optional real samples drawn in grey.
    """
    snapshots = check_snapshots(snapshots)
    curves = coverage_over_training(snapshots, mixture)
    fig, (ax_s, ax_c) = plt.subplots(1, 2, figsize=(10, 4.2))
    if real is not None:
        ax_s.scatter(*real.cpu().T, s=2, alpha=0.2, color="tab:gray", label="real")
    means = mixture_means(mixture)
    artists = {"samples": ax_s.scatter([], [], s=3, alpha=0.5, color="tab:blue",
                                       label="generated")}
    ax_s.scatter(*means.T, marker="x", color="tab:red", s=30, label="mode means")
    low, high = _limits(mixture)
    ax_s.set(xlim=(low, high), ylim=(low, high), xlabel="x1", ylabel="x2", aspect="equal")
    ax_s.legend(loc="upper right", fontsize="small", markerscale=3)
    ax_c.plot(curves["step"], curves["modes"] / len(means), "o-", label="modes covered (share)")
    ax_c.plot(curves["step"], curves["high_quality"], "s-", label="high-quality share")
    artists["marker"] = ax_c.axvline(curves["step"][index], color="black", ls="--", lw=1,
                                     label="shown snapshot")
    ax_c.set(xlabel="training step", ylabel="share", ylim=(-0.03, 1.03),
             title="Coverage over training")
    ax_c.legend(loc="best", fontsize="small")
    fig.tight_layout()
    plot = SnapshotPlot(fig, artists, snapshots, mixture)
    update_snapshot_plot(plot, index)
    return plot


def update_snapshot_plot(plot: SnapshotPlot, index: int) -> dict[str, Any]:
    """Show snapshot `index`: move the scatter and the marker; return the state."""
    state = snapshot_state(plot.snapshots, index, plot.mixture)
    plot.artists["samples"].set_offsets(state["samples"].numpy())
    plot.artists["marker"].set_xdata([state["step"], state["step"]])
    plot.figure.axes[0].set_title(_snapshot_title(state))
    plot.figure.canvas.draw_idle()
    plot.state = state
    return state


def plot_snapshot_grid(snapshots: Sequence[Snapshot], mixture: str, ncols: int = 5,
                       title: str = "Generated samples over training",
                       real: torch.Tensor | None = None):
    """Every snapshot in a grid of small scatter plots (the static twin of the slider).

    Returns:
        the Matplotlib figure.
    """
    snapshots = check_snapshots(snapshots)
    check_int("ncols", ncols, minimum=1)
    ncols = min(ncols, len(snapshots))
    nrows = math.ceil(len(snapshots) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.5 * nrows + 0.4),
                             squeeze=False, sharex=True, sharey=True)
    means = mixture_means(mixture)
    low, high = _limits(mixture)
    for i, ax in enumerate(axes.flat):
        if i >= len(snapshots):
            ax.axis("off")
            continue
        state = snapshot_state(snapshots, i, mixture)
        if real is not None:
            ax.scatter(*real.cpu().T, s=1, alpha=0.2, color="tab:gray", label="real")
        ax.scatter(*state["samples"].T, s=1, alpha=0.5, color="tab:blue", label="generated")
        ax.scatter(*means.T, marker="x", color="tab:red", s=12, label="mode means")
        ax.set(xlim=(low, high), ylim=(low, high), aspect="equal")
        ax.set_title(_snapshot_title(state), fontsize="small")
        if i % ncols == 0:
            ax.set_ylabel("x2")
        if i >= (nrows - 1) * ncols or i + ncols >= len(snapshots):
            ax.set_xlabel("x1")
    axes.flat[0].legend(loc="lower left", fontsize="x-small", markerscale=4)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def snapshot_explorer(snapshots: Sequence[Snapshot], mixture: str,
                      real: torch.Tensor | None = None):
    """A slider over training snapshots above the live scatter and coverage curves.

    Returns:
        an ``ipywidgets.VBox``; its attributes ``plot`` (:class:`SnapshotPlot`) and
        ``slider`` let code and tests drive it.
    """
    import ipywidgets as widgets

    snapshots = check_snapshots(snapshots)
    plot = draw_snapshot_plot(snapshots, mixture, index=0, real=real)
    slider = widgets.IntSlider(value=0, min=0, max=len(snapshots) - 1, step=1,
                               description="snapshot", continuous_update=False)
    label = widgets.Label(f"step {snapshots[0][0]}")

    def on_change(change: dict) -> None:
        state = update_snapshot_plot(plot, change["new"])
        label.value = f"step {state['step']}"

    return figure_widget([widgets.HBox([slider, label])], plot, on_change, [slider],
                       slider=slider)


# ----------------------------------------------------------------------------- lesson 03


def latent_path(z_start: torch.Tensor, z_end: torch.Tensor, t: float | torch.Tensor,
                spherical: bool = True) -> torch.Tensor:
    """Points between two noise vectors: slerp (default) or a straight line.

    Gaussian noise concentrates near a sphere of radius sqrt(z_dim); slerp stays near it,
    so every point along the path looks like a typical z, while the straight line's middle
    is shorter than typical z (White 2016, "Sampling generative networks").

    Args:
        z_start, z_end: (z_dim,) noise vectors (not parallel, for slerp).
        t: a float in [0, 1] or a tensor (T,) of them.
        spherical: slerp if True, linear interpolation if False.

    Returns:
        (z_dim,) for a float t, (T, z_dim) for a tensor t.
    """
    check_tensor("z_start", z_start, ("z_dim",))
    check_tensor("z_end", z_end, (z_start.shape[0],))
    scalar = not isinstance(t, torch.Tensor)
    if scalar:
        t = torch.tensor([check_float("t", t, minimum=0.0, maximum=1.0)])
    elif t.dim() != 1 or bool((t < 0).any() | (t > 1).any()):
        raise ValueError(f"t must be a float or a 1-D tensor of values in [0, 1], "
                         f"got shape {tuple(t.shape)}")
    t = t.to(z_start.dtype)[:, None]  # (T, 1)
    if not spherical:
        out = (1 - t) * z_start + t * z_end
    else:
        cos = torch.dot(z_start, z_end) / (z_start.norm() * z_end.norm())
        omega = torch.arccos(cos.clamp(-1.0, 1.0))
        if float(torch.sin(omega)) < 1e-6:
            raise ValueError("z_start and z_end are (anti)parallel: slerp is undefined; "
                             "use spherical=False or other vectors")
        out = (torch.sin((1 - t) * omega) * z_start + torch.sin(t * omega) * z_end) / torch.sin(
            omega)
    return out[0] if scalar else out


GeneratorFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def digit_explorer_state(generator: GeneratorFn, digit: int, t: float,
                         z_start: torch.Tensor, z_end: torch.Tensor,
                         num_classes: int = 10,
                         path_points: int = DIGIT_PATH_POINTS) -> dict[str, Any]:
    """What the digit explorer shows: G(z(t), digit) and a strip of samples along the path.

    Args:
        generator: `generator(z (B, z_dim), labels (B,) int64) -> images (B, 1, H, W)`
            (a conditional generator of `mmgan_ref`, or any function like it).
        digit: the class in [0, num_classes). t: position on the path, in [0, 1].
        z_start, z_end: the path's ends, (z_dim,).
        path_points: images in the strip (>= 2), at t = 0, ..., 1.

    Returns:
        {"digit", "t", "z" (z_dim,), "image" (1, H, W), "path_t" (P,), "strip" (P, 1, H, W)}
    """
    check_int("num_classes", num_classes, minimum=1)
    check_int("digit", digit, minimum=0, maximum=num_classes - 1)
    check_int("path_points", path_points, minimum=2)
    t = check_float("t", t, minimum=0.0, maximum=1.0)
    path_t = torch.linspace(0.0, 1.0, path_points)
    zs = torch.cat([latent_path(z_start, z_end, t)[None], latent_path(z_start, z_end, path_t)])
    labels = torch.full((len(zs),), digit, dtype=torch.long)
    with torch.no_grad():
        images = generator(zs, labels).detach().cpu()
    if images.dim() != 4 or images.shape[0] != len(zs):
        raise ValueError(f"generator must return images (B, C, H, W), got {tuple(images.shape)}")
    return {"digit": digit, "t": t, "z": zs[0], "image": images[0], "path_t": path_t,
            "strip": images[1:]}


@dataclass
class DigitPlot:
    """The digit explorer's figure and what :func:`update_digit_plot` needs."""

    figure: Any
    artists: dict[str, Any]
    generator: GeneratorFn
    z_start: torch.Tensor
    z_end: torch.Tensor
    num_classes: int
    state: dict[str, Any] = field(default_factory=dict)


def _to_display(images: torch.Tensor) -> np.ndarray:
    """(..., 1, H, W) in [-1, 1] -> (..., H, W) in [0, 1] for imshow."""
    return images.clamp(-1, 1).add(1).div(2).squeeze(-3).numpy()


def draw_digit_plot(generator: GeneratorFn, z_start: torch.Tensor, z_end: torch.Tensor,
                    digit: int = 0, t: float = 0.0, num_classes: int = 10) -> DigitPlot:
    """The digit explorer's figure: the current sample (left), the path strip (right)."""
    fig = plt.figure(figsize=(10, 2.8))
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 3.2])
    ax_img, ax_strip = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    blank = np.zeros((8, 8))
    artists = {"image": ax_img.imshow(blank, cmap="gray", vmin=0, vmax=1),
               "strip": ax_strip.imshow(np.zeros((8, 8 * DIGIT_PATH_POINTS)), cmap="gray",
                                        vmin=0, vmax=1, aspect="equal"),
               "cursor": ax_strip.axvline(0.0, color="tab:red", lw=2, label="current t")}
    ax_img.set(xticks=[], yticks=[], xlabel="pixel column", ylabel="pixel row")
    ax_strip.set(yticks=[], xlabel="position t along the path through z (0 to 1)")
    ax_strip.legend(loc="upper right", fontsize="small")
    plot = DigitPlot(fig, artists, generator, z_start, z_end, num_classes)
    update_digit_plot(plot, digit, t)
    fig.tight_layout()
    return plot


def update_digit_plot(plot: DigitPlot, digit: int, t: float) -> dict[str, Any]:
    """Regenerate for (digit, t) and update the images and the cursor; return the state."""
    state = digit_explorer_state(plot.generator, digit, t, plot.z_start, plot.z_end,
                                 plot.num_classes)
    strip = _to_display(state["strip"])  # (P, H, W)
    points, height, width = strip.shape
    plot.artists["image"].set_data(_to_display(state["image"]))
    plot.artists["strip"].set_data(np.concatenate(list(strip), axis=1))
    plot.artists["strip"].set_extent((-0.5, points * width - 0.5, height - 0.5, -0.5))
    ax_img, ax_strip = plot.figure.axes[:2]
    ax_strip.set_xticks([(i + 0.5) * width - 0.5 for i in range(points)],
                        [f"{float(v):.2f}" for v in state["path_t"]])
    centre = (t * (points - 1) + 0.5) * width - 0.5  # t = k / (P - 1) sits on image k's centre
    plot.artists["cursor"].set_xdata([centre] * 2)
    ax_img.set_title(f"G(z(t={t:.2f}), digit {digit})")
    ax_strip.set_title(f"digit {digit}: samples along the path through z")
    plot.figure.canvas.draw_idle()
    plot.state = state
    return state


def digit_explorer(generator: GeneratorFn, z_dim: int, num_classes: int = 10, seed: int = 0):
    """Pick a digit and move through z: a class picker and a slider over a path in z.

    Args:
        generator: `generator(z, labels) -> images (B, 1, H, W)`.
        z_dim: the noise width. seed: draws the path's two end points.

    Returns:
        an ``ipywidgets.VBox``; attributes ``plot`` (:class:`DigitPlot`), ``picker`` and
        ``slider`` let code and tests drive it.
    """
    import ipywidgets as widgets

    check_int("z_dim", z_dim, minimum=2)
    check_int("num_classes", num_classes, minimum=1)
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    z_start, z_end = torch.randn(2, z_dim, generator=rng)
    plot = draw_digit_plot(generator, z_start, z_end, 0, 0.0, num_classes)
    picker = widgets.ToggleButtons(options=list(range(num_classes)), value=0,
                                   description="digit", style={"button_width": "32px"})
    slider = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="t",
                                 continuous_update=False)

    def on_change(_change: dict) -> None:
        update_digit_plot(plot, picker.value, slider.value)

    return figure_widget([picker, slider], plot, on_change, [picker, slider],
                       picker=picker, slider=slider)

"""Interactive explorers (ipywidgets) for the lessons.

Lesson: 01 The minimax objective, derived (the minimax explorer).

The minimax explorer shows a 1-D game: the data are N(data_mu, data_sigma^2), and a linear
generator G(z) = mu + sigma * z with z ~ N(0, 1) makes p_g = N(mu, sigma^2). Sliders move
mu and sigma; the plots show p_data and p_g, the optimal discriminator
D* = p_data / (p_data + p_g), and V(D*, G) and JSD(p_data || p_g) as functions of the
generator's mean, with a marker at the current one.

Everything the plots show is computed by :func:`minimax_explorer_state` (plain arrays, so
tests check the numbers); :func:`update_minimax_plot` moves the lines of a figure made by
:func:`draw_minimax_plot`, and the widget's callback only calls it. The explorer works with
Matplotlib's default inline backend: the figure is redrawn into an ``ipywidgets.Output``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from mmgan_ref.objectives import jensen_shannon, optimal_discriminator, value_function
from mmgan_ref.utils import check_float, check_int

GRID_HALF_WIDTH = 10.0  # the integration grid reaches 10 std beyond every mean: tails < 1e-20
MU_RANGE = (-3.0, 3.0)
SIGMA_RANGE = (0.25, 2.5)
NUM_POINTS = 2001
NUM_MU = 41
LOG4 = math.log(4.0)


def _check_range(name: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r}")
    low, high = (check_float(f"{name}[{i}]", v) for i, v in enumerate(value))
    if not low < high:
        raise ValueError(f"{name} must have low < high, got {value!r}")
    return low, high


def minimax_explorer_state(mu: float, sigma: float, data_mu: float = 0.0,
                           data_sigma: float = 1.0, mu_range: tuple[float, float] = MU_RANGE,
                           num_points: int = NUM_POINTS, num_mu: int = NUM_MU) -> dict[str, Any]:
    """Everything the minimax explorer plots, for p_g = N(mu, sigma^2), p_data = N(data_mu, .).

    The densities are sampled on a regular grid reaching 10 standard deviations beyond every
    mean involved, and integrated by Riemann sums (``dx``).

    Args:
        mu, sigma: the generator's mean and spread (sigma > 0).
        data_mu, data_sigma: the data distribution's mean and spread.
        mu_range: the generator means swept for the V and JSD curves.
        num_points: grid points for x (>= 11); num_mu: means in the sweep (>= 2).

    Returns:
        dict with arrays ``x`` (N,), ``p_data`` (N,), ``p_g`` (N,), ``d_star`` (N,),
        ``mu_grid`` (M,), ``value_curve`` (M,), ``jsd_curve`` (M,), and floats ``dx``,
        ``value`` (V(D*, G) integrated directly from D*), ``jsd`` (in nats), ``mu``,
        ``sigma``. ``value`` = -log 4 + 2 ``jsd`` up to the Riemann sum's error.
    """
    mu, data_mu = check_float("mu", mu), check_float("data_mu", data_mu)
    sigma = check_float("sigma", sigma, minimum=0.0, exclusive_min=True)
    data_sigma = check_float("data_sigma", data_sigma, minimum=0.0, exclusive_min=True)
    mu_low, mu_high = _check_range("mu_range", mu_range)
    check_int("num_points", num_points, minimum=11)
    check_int("num_mu", num_mu, minimum=2)

    reach = GRID_HALF_WIDTH * max(sigma, data_sigma)
    low = min(data_mu, mu, mu_low) - reach
    high = max(data_mu, mu, mu_high) + reach
    x = np.linspace(low, high, num_points)
    dx = float(x[1] - x[0])
    p_data = norm.pdf(x, data_mu, data_sigma)
    p_g = norm.pdf(x, mu, sigma)
    d_star = optimal_discriminator(p_data, p_g)

    mu_grid = np.linspace(mu_low, mu_high, num_mu)
    jsd_curve = np.array([jensen_shannon(p_data, norm.pdf(x, m, sigma), dx=dx) for m in mu_grid])
    return {
        "x": x, "dx": dx, "p_data": p_data, "p_g": p_g, "d_star": d_star,
        "value": float(value_function(d_star, p_data, p_g, dx=dx)),
        "jsd": float(jensen_shannon(p_data, p_g, dx=dx)),
        "mu_grid": mu_grid, "jsd_curve": jsd_curve, "value_curve": -LOG4 + 2 * jsd_curve,
        "mu": mu, "sigma": sigma,
    }


@dataclass
class MinimaxPlot:
    """A figure of the minimax explorer and the artists :func:`update_minimax_plot` moves.

    Attributes:
        figure: the Matplotlib figure (three panels).
        artists: name -> artist: "p_data", "p_g", "d_star", "value_curve", "jsd_curve"
            (Line2D), "value_point", "jsd_point" (Line2D markers).
        settings: the keyword arguments passed to :func:`minimax_explorer_state`.
        state: the state last drawn.
    """

    figure: Any
    artists: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


def draw_minimax_plot(mu: float = 1.5, sigma: float = 0.6, **settings: Any) -> MinimaxPlot:
    """Make the explorer's figure for p_g = N(mu, sigma^2).

    Args:
        mu, sigma: the generator's initial mean and spread.
        **settings: passed on to :func:`minimax_explorer_state` (data_mu, data_sigma, ...).

    Returns:
        a :class:`MinimaxPlot`; its figure is not shown (call ``plt.show()`` or ``display``).
    """
    fig, (ax_p, ax_d, ax_v) = plt.subplots(1, 3, figsize=(13, 3.6))
    artists = {
        "p_data": ax_p.plot([], [], color="tab:gray", label="p_data")[0],
        "p_g": ax_p.plot([], [], color="tab:blue", label="p_g")[0],
        "d_star": ax_d.plot([], [], color="tab:red", label="D*(x)")[0],
        "value_curve": ax_v.plot([], [], color="tab:purple", label="V(D*, G)")[0],
        "jsd_curve": ax_v.plot([], [], color="tab:green", label="JSD(p_data || p_g)")[0],
        "value_point": ax_v.plot([], [], "o", color="tab:purple")[0],
        "jsd_point": ax_v.plot([], [], "o", color="tab:green")[0],
    }
    ax_d.axhline(0.5, color="black", lw=0.8, ls="--", label="1/2")
    ax_v.axhline(-LOG4, color="tab:purple", lw=0.8, ls=":", label="-log 4")
    ax_v.axhline(math.log(2.0), color="tab:green", lw=0.8, ls=":", label="log 2")
    for ax, xlabel, ylabel, title in (
            (ax_p, "x", "density", "Data and generator densities"),
            (ax_d, "x", "D*(x)", "Optimal discriminator"),
            (ax_v, "generator mean mu", "nats", "")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    ax_p.legend(loc="upper right", fontsize="small")
    ax_d.legend(loc="best", fontsize="small")
    ax_v.legend(loc="upper center", fontsize="small", ncol=2)
    ax_d.set_ylim(-0.03, 1.03)
    ax_v.set_ylim(-LOG4 - 0.15, math.log(2.0) + 0.8)  # room for the legend above the curves
    fig.tight_layout()
    plot = MinimaxPlot(fig, artists, dict(settings))
    update_minimax_plot(plot, mu, sigma)
    return plot


def update_minimax_plot(plot: MinimaxPlot, mu: float, sigma: float) -> dict[str, Any]:
    """Recompute the state for (mu, sigma) and move the figure's lines; return the state."""
    state = minimax_explorer_state(mu, sigma, **plot.settings)
    a = plot.artists
    a["p_data"].set_data(state["x"], state["p_data"])
    a["p_g"].set_data(state["x"], state["p_g"])
    a["d_star"].set_data(state["x"], state["d_star"])
    a["value_curve"].set_data(state["mu_grid"], state["value_curve"])
    a["jsd_curve"].set_data(state["mu_grid"], state["jsd_curve"])
    a["value_point"].set_data([state["mu"]], [state["value"]])
    a["jsd_point"].set_data([state["mu"]], [state["jsd"]])

    data_mu = plot.settings.get("data_mu", 0.0)
    data_sigma = plot.settings.get("data_sigma", 1.0)
    low = min(data_mu - 4 * data_sigma, mu - 4 * sigma)
    high = max(data_mu + 4 * data_sigma, mu + 4 * sigma)
    ax_p, ax_d, ax_v = plot.figure.axes
    ax_p.set_xlim(low, high)
    ax_d.set_xlim(low, high)
    ax_p.set_ylim(0, 1.1 * max(state["p_data"].max(), state["p_g"].max()))
    ax_v.set_xlim(state["mu_grid"][0], state["mu_grid"][-1])
    ax_v.set_title(f"mu={mu:.2f}, sigma={sigma:.2f}: V(D*, G)={state['value']:.3f}, "
                   f"JSD={state['jsd']:.3f}", fontsize="medium")
    plot.figure.canvas.draw_idle()
    plot.state = state
    return state


def minimax_explorer(mu: float = 1.5, sigma: float = 0.6, **settings: Any):
    """Sliders for the generator's mean and spread above the live minimax plots.

    Args:
        mu, sigma: initial slider values.
        **settings: passed on to :func:`minimax_explorer_state` (data_mu, data_sigma,
            mu_range, num_points, num_mu).

    Returns:
        an ``ipywidgets.VBox`` (sliders, then an Output holding the figure). Its attributes
        ``plot`` (the :class:`MinimaxPlot`) and ``sliders`` (dict "mu", "sigma") let code
        and tests drive it.
    """
    import ipywidgets as widgets

    mu_low, mu_high = _check_range("mu_range", settings.get("mu_range", MU_RANGE))
    plot = draw_minimax_plot(mu, sigma, **settings)
    sliders = {
        "mu": widgets.FloatSlider(value=mu, min=mu_low, max=mu_high, step=0.05,
                                  description="mu", continuous_update=False),
        "sigma": widgets.FloatSlider(value=sigma, min=SIGMA_RANGE[0], max=SIGMA_RANGE[1],
                                     step=0.05, description="sigma", continuous_update=False),
    }

    def on_change(_change: dict) -> None:
        update_minimax_plot(plot, sliders["mu"].value, sliders["sigma"].value)

    return figure_widget([widgets.HBox(list(sliders.values()))], plot, on_change,
                         list(sliders.values()), sliders=sliders)


# ----------------------------------------------------------------------------- shared


def figure_widget(controls: list, plot: Any, on_change: Callable[[dict], None],
                  observed: list, **attributes: Any):
    """Controls above an Output holding `plot.figure`, redrawn after each change.

    Args:
        controls: widgets shown above the figure (sliders, pickers, boxes of them).
        plot: any object with a `figure` attribute; `on_change` redraws into it.
        on_change: called with the ipywidgets change dict before each redraw.
        observed: the widgets whose value changes trigger `on_change`.
        attributes: set on the returned box (e.g. `sliders=...`), so code and tests can
            drive the widget without a browser.

    Returns:
        an ``ipywidgets.VBox``; ``box.plot`` is `plot`.
    """
    import ipywidgets as widgets
    from IPython.display import clear_output, display

    plt.close(plot.figure)  # shown through the Output, not by the inline backend
    output = widgets.Output()

    def show() -> None:
        with output:
            clear_output(wait=True)
            display(plot.figure)

    def changed(change: dict) -> None:
        on_change(change)
        show()

    for widget in observed:
        widget.observe(changed, names="value")
    show()
    box = widgets.VBox([*controls, output])
    box.plot = plot
    for name, value in attributes.items():
        setattr(box, name, value)
    return box

"""The minimax explorer (mmgan_ref.viz.widgets): its numbers and its live figure."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import norm  # noqa: E402

from mmgan_ref.viz.widgets import (  # noqa: E402
    draw_minimax_plot,
    minimax_explorer,
    minimax_explorer_state,
    update_minimax_plot,
)

SMALL = dict(num_points=801, num_mu=9)


def test_state_at_the_optimum_matches_the_closed_forms():
    state = minimax_explorer_state(0.7, 1.3, data_mu=0.7, data_sigma=1.3, **SMALL)
    assert state["jsd"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(state["d_star"], 0.5, atol=1e-12)
    assert state["value"] == pytest.approx(-math.log(4.0), abs=1e-9)
    # the sweep over generator means is lowest at the data mean
    centred = minimax_explorer_state(0.0, 1.0, mu_range=(-2.0, 2.0), **SMALL)
    assert centred["mu_grid"][np.argmin(centred["value_curve"])] == pytest.approx(0.0)


def test_state_away_from_the_optimum():
    state = minimax_explorer_state(1.0, 0.5, **SMALL)
    x, p_data, p_g = state["x"], state["p_data"], state["p_g"]
    np.testing.assert_allclose(p_g, norm.pdf(x, 1.0, 0.5))
    np.testing.assert_allclose(state["d_star"], p_data / (p_data + p_g), atol=1e-12)
    assert (p_data * state["dx"]).sum() == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < state["jsd"] < math.log(2.0)
    # V(D*, G), integrated from D* directly, equals -log 4 + 2 JSD
    assert state["value"] == pytest.approx(-math.log(4.0) + 2 * state["jsd"], abs=1e-9)
    # JSD from a fine quadrature agrees with the Riemann sum
    m = lambda t: (norm.pdf(t) + norm.pdf(t, 1.0, 0.5)) / 2  # noqa: E731
    fine = np.linspace(-12, 12, 200001)
    kl = lambda p: np.sum(p * np.log(p / m(fine) + 1e-300)) * (fine[1] - fine[0])  # noqa: E731
    assert state["jsd"] == pytest.approx((kl(norm.pdf(fine)) + kl(norm.pdf(fine, 1, .5))) / 2,
                                         abs=1e-6)
    # far apart and narrow: JSD saturates at log 2
    far = minimax_explorer_state(3.0, 0.25, data_sigma=0.25, **SMALL)
    assert far["jsd"] == pytest.approx(math.log(2.0), abs=1e-6)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(mu=0.0, sigma=0.0), "sigma"),
    (dict(mu=0.0, sigma=1.0, data_sigma=-1.0), "data_sigma"),
    (dict(mu="a", sigma=1.0), "mu"),
    (dict(mu=0.0, sigma=1.0, mu_range=(2.0, 1.0)), "mu_range"),
    (dict(mu=0.0, sigma=1.0, num_points=3), "num_points"),
])
def test_bad_arguments_name_themselves(kwargs, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        minimax_explorer_state(**kwargs)


def test_update_moves_the_plotted_lines():
    plot = draw_minimax_plot(1.5, 0.6, **SMALL)
    before = {name: np.asarray(a.get_ydata(), dtype=float).copy()
              for name, a in plot.artists.items()}
    state = update_minimax_plot(plot, -0.5, 1.2)
    after = {name: np.asarray(a.get_ydata(), dtype=float) for name, a in plot.artists.items()}
    for name in ("p_g", "d_star", "value_curve", "jsd_curve", "value_point", "jsd_point"):
        assert before[name].shape != after[name].shape or \
            not np.allclose(before[name], after[name]), name
    np.testing.assert_allclose(plot.artists["p_g"].get_xdata(), state["x"])
    np.testing.assert_allclose(after["p_g"], norm.pdf(state["x"], -0.5, 1.2))
    assert after["value_point"][0] == pytest.approx(state["value"])
    assert "mu=-0.50" in plot.figure.axes[2].get_title()
    plt.close(plot.figure)


def test_sliders_drive_the_figure():
    box = minimax_explorer(mu=1.0, sigma=0.5, **SMALL)
    line = box.plot.artists["p_g"]
    peak_before = float(np.max(line.get_ydata()))
    box.sliders["sigma"].value = 1.0  # the callback runs update_minimax_plot
    assert float(np.max(line.get_ydata())) == pytest.approx(norm.pdf(0.0, 0.0, 1.0), rel=1e-3)
    assert peak_before == pytest.approx(norm.pdf(0.0, 0.0, 0.5), rel=1e-3)
    box.sliders["mu"].value = 0.0
    assert box.plot.state["mu"] == 0.0 and box.plot.state["jsd"] == pytest.approx(0.0, abs=1e-12)

"""The explorers of lessons 02 and 03 (mmgan_ref.viz.explorers): their numbers and widgets."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mmgan_ref.data.toy2d import mixture_means, sample_toy2d  # noqa: E402
from mmgan_ref.viz.explorers import (  # noqa: E402
    coverage_over_training,
    digit_explorer,
    digit_explorer_state,
    draw_snapshot_plot,
    latent_path,
    plot_snapshot_grid,
    snapshot_explorer,
    snapshot_state,
    update_snapshot_plot,
)


def _snapshots() -> list[tuple[int, torch.Tensor]]:
    """Step 0: every point at mode 0; step 10: noise far from every mode; step 20: real data."""
    means = mixture_means("ring")
    collapsed = means[0] + 0.001 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    far = torch.full((200, 2), 5.0)
    return [(0, collapsed), (10, far), (20, sample_toy2d("ring", 400, seed=1))]


def test_snapshot_state_measures_each_snapshot():
    snaps = _snapshots()
    first = snapshot_state(snaps, 0, "ring")
    assert (first["step"], first["modes"], first["num_modes"]) == (0, 1, 8)
    assert first["high_quality"] == 1.0 and first["reverse_kl"] == pytest.approx(math.log(8))
    far = snapshot_state(snaps, 1, "ring")
    assert far["modes"] == 0 and far["high_quality"] == 0.0 and far["reverse_kl"] == math.inf
    real = snapshot_state(snaps, 2, "ring")
    assert real["modes"] == 8 and real["high_quality"] > 0.95 and real["reverse_kl"] < 0.05
    curves = coverage_over_training(snaps, "ring")
    np.testing.assert_array_equal(curves["step"], [0, 10, 20])
    np.testing.assert_array_equal(curves["modes"], [1, 0, 8])


@pytest.mark.parametrize("args, error, fragment", [
    (([], 0, "ring"), ValueError, "non-empty"),
    (([(0, torch.zeros(3, 3))], 0, "ring"), ValueError, "samples"),
    (([(5, torch.zeros(3, 2)), (5, torch.zeros(3, 2))], 0, "ring"), ValueError, "increase"),
    (([(0, torch.zeros(3, 2))], 1, "ring"), ValueError, "index"),
    (([(0, torch.zeros(3, 2))], 0, "moons"), ValueError, "mixture"),
    (([(0.5, torch.zeros(3, 2))], 0, "ring"), TypeError, "step"),
])
def test_snapshot_state_rejects_bad_input(args, error, fragment):
    with pytest.raises(error, match=fragment):
        snapshot_state(*args)


def test_snapshot_plot_and_widget_follow_the_slider():
    snaps = _snapshots()
    plot = draw_snapshot_plot(snaps, "ring", index=0)
    assert "step 0: 1/8 modes" in plot.figure.axes[0].get_title()
    update_snapshot_plot(plot, 2)
    np.testing.assert_allclose(plot.artists["samples"].get_offsets(), snaps[2][1].numpy())
    assert list(plot.artists["marker"].get_xdata()) == [20, 20]
    plt.close(plot.figure)

    box = snapshot_explorer(snaps, "ring")
    assert box.slider.max == 2
    box.slider.value = 1
    assert box.plot.state["step"] == 10 and box.plot.state["modes"] == 0
    assert "step 10" in box.plot.figure.axes[0].get_title()


def test_snapshot_grid_has_one_titled_panel_per_snapshot():
    snaps = _snapshots()
    fig = plot_snapshot_grid(snaps, "ring", ncols=2)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 3 and titled[2].get_title().startswith("step 20: 8/8 modes")
    assert fig.axes[0].get_ylabel() == "x2" and fig._suptitle.get_text()
    plt.close(fig)


def test_latent_path_ends_and_norms():
    rng = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 16, generator=rng)
    path = latent_path(a, b, torch.linspace(0, 1, 5))
    assert path.shape == (5, 16)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    torch.testing.assert_close(latent_path(a, b, 0.5, spherical=False), (a + b) / 2)
    # slerp between two vectors of the same norm keeps that norm; the line does not
    b_scaled = b * a.norm() / b.norm()
    mid = latent_path(a, b_scaled, 0.5)
    assert float(mid.norm()) == pytest.approx(float(a.norm()), rel=1e-5)
    assert float(latent_path(a, b_scaled, 0.5, spherical=False).norm()) < float(a.norm())
    with pytest.raises(ValueError, match="parallel"):
        latent_path(a, 2 * a, 0.5)
    with pytest.raises(ValueError, match="t"):
        latent_path(a, b, 1.5)


class _LabelPainter(torch.nn.Module):
    """A fake conditional generator: pixel (0, label) is lit, the rest encodes z[0]."""

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images = torch.tanh(z[:, :1, None, None]).expand(len(z), 1, 8, 8).clone()
        images[torch.arange(len(z)), 0, 0, labels] = 1.0
        return images


def test_digit_state_passes_the_digit_and_the_path():
    rng = torch.Generator().manual_seed(3)
    a, b = torch.randn(2, 4, generator=rng)
    state = digit_explorer_state(_LabelPainter(), 7, 0.25, a, b, path_points=5)
    assert state["strip"].shape == (5, 1, 8, 8) and state["image"].shape == (1, 8, 8)
    assert bool((state["strip"][:, 0, 0, 7] == 1).all())
    torch.testing.assert_close(state["z"], latent_path(a, b, 0.25))
    torch.testing.assert_close(state["strip"][0, 0, 1, 1], torch.tanh(a[0]))
    with pytest.raises(ValueError, match="digit"):
        digit_explorer_state(_LabelPainter(), 10, 0.0, a, b)


def test_digit_widget_reacts_to_picker_and_slider():
    box = digit_explorer(_LabelPainter(), z_dim=4, seed=1)
    box.picker.value = 3
    box.slider.value = 1.0
    state = box.plot.state
    assert state["digit"] == 3 and state["t"] == 1.0
    assert float(state["image"][0, 0, 3]) == 1.0
    torch.testing.assert_close(state["z"], box.plot.z_end)
    assert "digit 3" in box.plot.figure.axes[0].get_title()
    # the cursor sits on the centre of the last image of the strip (9 images, 8 px wide)
    assert list(box.plot.artists["cursor"].get_xdata()) == [67.5, 67.5]

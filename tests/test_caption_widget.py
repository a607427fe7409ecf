"""Tests of the caption widget of lesson 05 (mmgan_ref.viz.caption_widget), on a tiny family."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mmgan_ref.data.attributes import default_held_out  # noqa: E402
from mmgan_ref.data.shapes import canonical_caption, shapes_vocabulary  # noqa: E402
from mmgan_ref.flagship import FlagshipConfig, FlagshipGAN  # noqa: E402
from mmgan_ref.flagship.recipe import FREQ_BINS  # noqa: E402
from mmgan_ref.viz.caption_widget import (  # noqa: E402
    DEFAULT_CAPTION,
    caption_state,
    caption_widget,
    draw_caption_figure,
    show_caption_state,
)


@pytest.fixture(scope="module")
def family() -> FlagshipGAN:
    torch.manual_seed(0)
    config = FlagshipConfig(code_dim=8, z_dim=8, g_width=4, d_width=4, e_width=4,
                            text_dim=8, sound_width=4)
    return FlagshipGAN(config, shapes_vocabulary(), FREQ_BINS).eval()


def test_state_gives_seeded_samples_of_the_caption(family):
    state = caption_state(family, None, "  a large blue square at the bottom right ", n=5, seed=3)
    assert state["message"] is None
    assert state["caption"] == "a large blue square at the bottom right"
    assert state["images"].shape == (5, 3, 32, 32)
    assert state["images"].min() >= -1 and state["images"].max() <= 1
    again = caption_state(family, family.generator, state["caption"], n=5, seed=3)
    assert torch.equal(state["images"], again["images"])
    other_seed = caption_state(family, None, state["caption"], n=5, seed=4)
    assert not torch.equal(state["images"], other_seed["images"])


def test_state_depends_on_the_caption(family):
    a = caption_state(family, None, "a small red circle at the top left", n=2)
    b = caption_state(family, None, "a large blue square at the bottom right", n=2)
    assert not torch.allclose(a["images"], b["images"])


def test_unknown_words_give_a_message_not_an_exception(family):
    state = caption_state(family, None, "a purple dragon at the top left")
    assert state["images"] is None
    assert "unknown words" in state["message"]
    assert "'purple'" in state["message"] and "'dragon'" in state["message"]
    assert "circle" in state["message"]  # the known words are listed
    empty = caption_state(family, None, "   ")
    assert empty["images"] is None and "give a caption" in empty["message"]


def test_held_out_captions_are_marked(family):
    held = canonical_caption(default_held_out()[0])
    assert caption_state(family, None, held, n=1)["held_out"]
    assert not caption_state(family, None, DEFAULT_CAPTION, n=1)["held_out"]
    assert not caption_state(family, None, "a red circle", n=1)["held_out"]  # partial


def test_bad_arguments_raise(family):
    with pytest.raises(ValueError, match="n"):
        caption_state(family, None, DEFAULT_CAPTION, n=0)
    with pytest.raises(TypeError, match="seed"):
        caption_state(family, None, DEFAULT_CAPTION, seed=1.5)


def test_figure_is_titled_with_the_caption(family):
    state = caption_state(family, None, DEFAULT_CAPTION, n=4)
    fig = draw_caption_figure(state)
    title = fig.axes[0].get_title()
    plt.close(fig)
    assert DEFAULT_CAPTION in title and "4 samples" in title
    fig = draw_caption_figure(caption_state(family, None, DEFAULT_CAPTION, n=6), per_row=3)
    height, width = fig.axes[0].images[0].get_array().shape[:2]
    plt.close(fig)
    assert (height, width) == (2 * 33 - 1, 3 * 33 - 1)  # 2 rows of 3 images of 32 + 1 pad
    held = caption_state(family, None, canonical_caption(default_held_out()[1]), n=2)
    fig = draw_caption_figure(held)
    assert "held out" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="no images"):
        draw_caption_figure(caption_state(family, None, "a purple dragon"))


def test_output_shows_a_png_or_the_message(family):
    import ipywidgets as widgets

    output = widgets.Output()
    show_caption_state(output, caption_state(family, None, DEFAULT_CAPTION, n=2))
    assert len(output.outputs) == 1 and "image/png" in output.outputs[0]["data"]
    show_caption_state(output, caption_state(family, None, "a purple circle"))
    assert len(output.outputs) == 1 and output.outputs[0]["output_type"] == "stream"
    assert "unknown words: 'purple'" in output.outputs[0]["text"]


def test_widget_controls_and_updates(family):
    import ipywidgets as widgets

    box = caption_widget(family, family.generator, n=3, seed=1)
    assert isinstance(box.text, widgets.Text) and box.text.description == "caption"
    assert box.text.continuous_update is False and box.text.value == DEFAULT_CAPTION
    assert isinstance(box.button, widgets.Button) and box.button.description == "Generate"
    assert isinstance(box.output, widgets.Output)
    assert box.state["images"].shape == (3, 3, 32, 32)
    assert "image/png" in box.output.outputs[0]["data"]
    box.text.value = "a purple red circle"  # Enter in the box: observed, redrawn
    assert box.state["images"] is None and "'purple'" in box.state["message"]
    assert "'purple'" in box.output.outputs[0]["text"]
    box.text.value = "a large green triangle at the top right"
    box.button.click()
    assert box.state["caption"] == "a large green triangle at the top right"
    assert box.state["images"] is not None and len(box.output.outputs) == 1
    with pytest.raises(ValueError, match="n"):
        caption_widget(family, n=0)

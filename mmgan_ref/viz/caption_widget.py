"""A caption box for the flagship: type a caption, press "Generate", see samples of it.

Lesson: 05 Text-to-image GAN (text -> image, interactively).

The logic sits in small functions that tests drive without a browser:
:func:`caption_state` turns a caption into samples (or into a message saying what is
wrong with it), :func:`draw_caption_figure` draws a state, and :func:`show_caption_state`
puts either the figure or the message into an ``ipywidgets.Output``. The widget made by
:func:`caption_widget` only wires a ``Text`` box and a ``Generate`` button to them.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn

from mmgan_ref.data.attributes import default_held_out
from mmgan_ref.data.shapes import parse_caption
from mmgan_ref.flagship.sampling import encode_captions
from mmgan_ref.utils import check_int
from mmgan_ref.viz.plots import image_grid

DEFAULT_CAPTION = "a small red circle at the top left"
DEFAULT_SAMPLES = 8
MAX_SAMPLES = 64


def _held_out(caption: str) -> bool:
    """True when the caption names a full combination that was held out of training."""
    try:
        attrs = tuple(parse_caption(caption).tolist())
    except ValueError:  # a partial caption ("a red circle") still gets samples
        return False
    return attrs in set(default_held_out())


@torch.no_grad()
def caption_state(family: Any, generator: nn.Module | None, caption: Any,
                  n: int = DEFAULT_SAMPLES, seed: int = 0) -> dict[str, Any]:
    """Samples of one caption, or the message explaining why there are none.

    Args:
        family: a `FlagshipGAN` (its text encoder and vocabulary are used).
        generator: the network to sample from (the EMA copy after training); None means
            `family.generator`.
        caption: the text typed by the user.
        n: samples to draw (1 to 64).
        seed: seeds the noise, so one caption and seed always give the same images.

    Returns:
        {"caption": str, "images": (n, 3, S, S) tensor in [-1, 1] or None,
        "message": None or a sentence saying what to change, "held_out": bool,
        "n": n, "seed": seed}.
    """
    n = check_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    seed = check_int("seed", seed, minimum=0)
    text = caption.strip() if isinstance(caption, str) else caption
    state: dict[str, Any] = {"caption": text, "images": None, "message": None,
                             "held_out": False, "n": n, "seed": seed}
    try:
        code = encode_captions(family, [text], what="caption")  # (1, code_dim)
    except ValueError as err:  # unknown words or an empty caption: say so, no traceback
        state["message"] = str(err)
        return state
    noise = torch.Generator().manual_seed(seed)
    state["images"] = family.sample(n, code.expand(n, -1), noise,
                                    network=generator).float().cpu()
    state["held_out"] = _held_out(text)
    return state


def caption_title(state: dict[str, Any]) -> str:
    """The figure title: the caption, the sample count and seed, and a held-out note."""
    note = "  (held out of training)" if state["held_out"] else ""
    return f"{state['caption']!r}: {state['n']} samples, seed {state['seed']}{note}"


def draw_caption_figure(state: dict[str, Any], per_row: int | None = None):
    """A figure of the state's samples in a grid, titled with the caption.

    Args:
        state: from :func:`caption_state`, with images.
        per_row: images per row (default: up to 8).

    Returns:
        the matplotlib Figure (not shown; the caller displays or closes it).
    """
    if state.get("images") is None:
        raise ValueError(f"state: no images to draw ({state.get('message')})")
    images = state["images"]
    per_row = min(len(images), 8) if per_row is None else check_int("per_row", per_row,
                                                                     minimum=1)
    rows = -(-len(images) // per_row)
    fig, ax = plt.subplots(figsize=(1.1 * per_row + 0.4, 1.1 * rows + 0.6))
    ax.imshow(image_grid(images, nrow=rows))  # image_grid's nrow counts rows
    ax.set_title(caption_title(state), fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def figure_png(fig) -> bytes:
    """The figure as PNG bytes (so the Output shows it whatever the matplotlib backend)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def show_caption_state(output: Any, state: dict[str, Any]) -> None:
    """Make `output` (an ``ipywidgets.Output``) show the state's figure, or its message.

    The Output's ``outputs`` are set directly rather than captured with ``with output:``,
    so the same code works in a kernel, in a callback and in tests without a kernel.
    """
    from IPython.display import Image

    output.outputs = ()
    if state["message"] is not None:
        output.append_stdout(state["message"] + "\n")
        return
    fig = draw_caption_figure(state)
    try:
        output.append_display_data(Image(data=figure_png(fig), format="png"))
    finally:
        plt.close(fig)  # shown through the Output only, not again by the inline backend


def caption_widget(family: Any, generator: nn.Module | None = None,
                   caption: str = DEFAULT_CAPTION, n: int = DEFAULT_SAMPLES, seed: int = 0):
    """A ``Text`` box ("caption"), a ``Generate`` button and an ``Output`` with the samples.

    Pressing Enter in the box (``continuous_update=False``) or the button draws samples of
    the caption; a caption with unknown words shows the list of known words instead.

    Args:
        family: a `FlagshipGAN`; generator: the network to sample from (EMA copy).
        caption: the caption shown at first; n: samples per caption; seed: noise seed.

    Returns:
        an ``ipywidgets.VBox``; its attributes ``text``, ``button``, ``output``,
        ``state`` (the last :func:`caption_state`) and ``generate()`` let code and tests
        drive it without a browser.
    """
    import ipywidgets as widgets

    check_int("n", n, minimum=1, maximum=MAX_SAMPLES)
    text = widgets.Text(value=caption, description="caption", continuous_update=False,
                        layout=widgets.Layout(width="32em"))
    button = widgets.Button(description="Generate", button_style="primary")
    output = widgets.Output()
    box = widgets.VBox([widgets.HBox([text, button]), output])

    def generate(*_args: Any) -> dict[str, Any]:
        box.state = caption_state(family, generator, text.value, n=n, seed=seed)
        show_caption_state(output, box.state)
        return box.state

    button.on_click(generate)
    text.observe(generate, names="value")
    box.text, box.button, box.output, box.generate = text, button, output, generate
    generate()
    return box

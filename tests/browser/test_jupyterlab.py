"""Lessons as students meet them: JupyterLab in a real browser, Run All, then use the widgets.

Each test opens a lesson, runs every cell from the Run menu, waits for the kernel to be
idle with every code cell executed, and checks that no cell shows an error it is not
tagged to raise. Then it works a widget the way a student does (keyboard on a slider,
typing a caption) and checks the figure changes. Screenshots: test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.integration  # a JupyterLab server and a browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"

RUN_ALL_TIMEOUT_MS = 240_000
WIDGET_TIMEOUT_MS = 60_000
# True once the kernel is idle and every code cell shows an execution count "[n]:".
ALL_EXECUTED_JS = """(selector) => {
    const prompts = [...document.querySelectorAll(selector)];
    const idle = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
    return idle && prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""

KERNEL_IDLE = re.compile(r"Python 3 \(ipykernel\) \| Idle")
ANY_QUEUED_JS = """(selector) => [...document.querySelectorAll(selector)]
    .some(p => p.textContent.includes('[*]'))"""


def _open(page, lab, name: str) -> None:
    """Open a notebook and wait until its kernel is idle (choosing it if JupyterLab asks)."""
    page.goto(lab(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    select = page.locator(".jp-Dialog", has_text="Select Kernel").locator("button",
                                                                         has_text="Select")
    idle = page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)
    deadline = time.monotonic() + 90
    while not idle.count():
        if time.monotonic() > deadline:
            page.screenshot(path=str(_artifact("open-failed.png")))
            raise AssertionError(f"the kernel of {name} did not start; see open-failed.png")
        if select.count():
            select.click()
        page.wait_for_timeout(500)


def _run_all(page) -> None:
    """Kernel > Restart Kernel and Run All Cells, then wait until every cell has run.

    A restart rather than "Run All": a fresh kernel, and no race with the kernel the page
    starts on opening.
    """
    prompts = ".jp-Notebook .jp-CodeCell .jp-InputPrompt"
    try:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel and Run All Cells").click()
        page.locator(".jp-Dialog button", has_text=re.compile(r"^(Confirm Kernel )?Restart$")) \
            .click()
        # Stored outputs show "[n]:" before the run starts: wait for cells to be queued.
        page.wait_for_function(ANY_QUEUED_JS, arg=prompts, timeout=RUN_ALL_TIMEOUT_MS)
        page.wait_for_function(ALL_EXECUTED_JS, arg=prompts, timeout=RUN_ALL_TIMEOUT_MS)
    except Exception as err:
        page.screenshot(path=str(_artifact("run-all-failed.png")))
        states = page.locator(prompts).all_inner_texts()
        raise AssertionError(f"Restart and Run All did not finish ({type(err).__name__}); "
                             f"prompts: {states}; see run-all-failed.png") from None


def _cells_with_errors(page) -> list[int]:
    """Indices (in notebook order) of the cells whose output shows a traceback."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
            .map((cell, i) => [i, cell.querySelector('.jp-OutputArea-output')
                ? [...cell.querySelectorAll('.jp-OutputArea-output')]
                    .some(o => /Traceback|Error\\b.*Traceback/.test(o.textContent)
                          || o.getAttribute('data-mime-type') === 'application/vnd.jupyter.error')
                : false])
            .filter(([, bad]) => bad).map(([i]) => i)""")


def _expected_errors(name: str) -> list[int]:
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return [i for i, cell in enumerate(notebook.cells)
            if "raises-exception" in cell.metadata.get("tags", [])]


def _run_lesson(page, lab, name: str) -> None:
    _open(page, lab, name)
    _run_all(page)
    page.screenshot(path=str(_artifact(f"{Path(name).stem}-run-all.png")), full_page=True)
    assert _cells_with_errors(page) == _expected_errors(name), \
        "cells show errors they are not tagged to raise"
    # Matplotlib figures arrive as images, not as "<Figure size ...>" text.
    assert page.locator(".jp-RenderedImage img").count() > 0
    assert "<Figure size" not in page.locator(".jp-Notebook").inner_text()


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def _widget_image(widget) -> str:
    """The ``src`` of the figure inside a widget's Output (a data: URL of a PNG)."""
    image = widget.locator(".widget-output img").first
    image.wait_for(timeout=WIDGET_TIMEOUT_MS)
    return image.get_attribute("src")


def _wait_for_new_image(widget, before: str, what: str) -> str:
    try:
        widget.page.wait_for_function(
            """([root, before]) => {
                const img = root.querySelector('.widget-output img');
                return img && img.src !== before;
            }""", arg=[widget.element_handle(), before], timeout=WIDGET_TIMEOUT_MS)
    except Exception:
        widget.screenshot(path=str(_artifact("widget-unchanged.png")))
        raise AssertionError(f"the widget's figure did not change after {what} "
                             f"(waited {WIDGET_TIMEOUT_MS // 1000} s)") from None
    return _widget_image(widget)


@pytest.mark.slow
def test_lesson01_runs_and_its_minimax_slider_redraws_the_plot(page, lab):
    _run_lesson(page, lab, "01_minimax_objective.ipynb")
    explorer = page.locator(".jp-Cell", has=page.locator(".widget-slider")).first
    explorer.scroll_into_view_if_needed()
    sliders = explorer.locator(".widget-slider")
    assert sliders.count() >= 2, "the minimax explorer shows a slider for mu and for sigma"
    before = _widget_image(explorer)
    handle = sliders.first.locator(".noUi-handle")
    value = sliders.first.locator(".widget-readout")
    start = value.inner_text()
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    assert value.inner_text() != start, "the slider did not move"
    after = _wait_for_new_image(explorer, before, "moving the slider")
    assert after != before
    explorer.screenshot(path=str(_artifact("01-minimax-explorer-moved.png")))


@pytest.mark.slow
def test_lesson05_caption_widget_draws_the_typed_caption(page, lab):
    _run_lesson(page, lab, "05_text_to_image_gan.ipynb")
    widget = page.locator(".jp-Cell", has=page.locator(".widget-text")).first
    widget.scroll_into_view_if_needed()
    before = _widget_image(widget)
    box = widget.locator(".widget-text input")
    box.fill("a big blue square in the lower right corner")
    widget.locator("button", has_text="Generate").click()
    after = _wait_for_new_image(widget, before, "typing a caption")
    assert after != before, "typing a new caption did not change the samples"
    widget.screenshot(path=str(_artifact("05-caption-widget.png")))

    box.fill("a purple hexagon")  # words the vocabulary does not know: a message, no crash
    box.press("Enter")
    message = widget.locator(".widget-output")
    message.filter(has_text=re.compile("unknown|not in the vocabulary|known words", re.I)) \
        .wait_for(timeout=WIDGET_TIMEOUT_MS)
    assert "Traceback" not in message.inner_text()

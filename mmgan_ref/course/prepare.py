"""Make the course notebooks ready for Google Colab and for reveal.js slides.

Lesson: 00 Setup and tour (where the course lives: notebooks, website, slides, Colab).

``mmgan notebooks prepare`` rewrites ``notebooks/`` and ``solutions/`` (``exercises/`` follow
with ``mmgan exercises build``); ``mmgan notebooks check`` lists the notebooks that are not
prepared. Two things are added, and nothing else changes (outputs stay as committed):

1. The Colab cell: a code cell with id ``colab-setup`` placed right after the title cell
   (the first cell when it is markdown; otherwise at the very top), so it is always the
   first code cell. On Colab it pip-installs the course package from :data:`REPOSITORY`;
   anywhere else it does nothing. It is committed unexecuted (no output, no count).
2. The slide rule, written to ``cell.metadata.slideshow.slide_type`` of every cell:

   - the Colab cell: ``"skip"`` (not shown);
   - a markdown cell whose first non-blank line is a ``#`` or ``##`` heading: ``"slide"``
     (a new horizontal slide per lesson section);
   - any other markdown cell: ``"subslide"`` (a vertical slide inside its section);
   - code and raw cells: ``"-"`` (they stay on the slide of the text above them).

   Then ``jupyter nbconvert --to slides notebooks/NN_slug.ipynb`` writes the deck.

Both steps are idempotent, and files are written with :func:`generator.render`, as the
exercise generator writes them, so a second ``prepare`` changes no byte.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from mmgan_ref.course.generator import render
from mmgan_ref.utils import atomic_write_text

# Also [project.urls] Repository in pyproject.toml; a test keeps the two equal.
REPOSITORY = "https://github.com/mmgan-course/multimodal-gans"
COLAB_CELL_ID = "colab-setup"
COLAB_SOURCE = f'''\
# On Google Colab only: install the course package (elsewhere this cell does nothing).
import sys

if "google.colab" in sys.modules:
    import subprocess

    REPOSITORY = "{REPOSITORY}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mmgan_ref @ git+" + REPOSITORY], check=True)'''
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
DEFAULT_PREPARE = ("notebooks", "solutions")
DEFAULT_CHECK = ("notebooks", "solutions", "exercises")
_HEADING = re.compile(r"#{1,2}\s")


def colab_cell() -> NotebookNode:
    """The Colab set-up cell, as committed: unexecuted, hidden from the slides and the site.

    ``remove-cell`` is myst-nb's tag for a cell the website leaves out.
    """
    return new_code_cell(source=COLAB_SOURCE, id=COLAB_CELL_ID,
                         metadata={"slideshow": {"slide_type": "skip"},
                                   "tags": ["remove-cell"]})


def slide_type(cell: NotebookNode) -> str:
    """The reveal.js slide type the rule gives ``cell`` (see the module docstring)."""
    if cell.get("id") == COLAB_CELL_ID:
        return "skip"
    if cell.get("cell_type") != "markdown":
        return "-"
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    first = next((line for line in source.splitlines() if line.strip()), "")
    return "slide" if _HEADING.match(first) else "subslide"


def colab_index(cells: list[NotebookNode]) -> int:
    """Where the Colab cell goes among ``cells`` (which do not hold it): after a title cell."""
    return 1 if cells and cells[0].get("cell_type") == "markdown" else 0


def prepare_notebook(nb: NotebookNode) -> NotebookNode:
    """A prepared copy of ``nb``: the Colab cell in place, every cell's slide type set.

    Raises:
        TypeError: ``nb`` is not a notebook node.
        ValueError: the notebook is older than nbformat 4.5 (its cells have no ids).
    """
    if not isinstance(nb, NotebookNode) or "cells" not in nb:
        raise TypeError(f"nb must be an nbformat NotebookNode, got {type(nb).__name__}")
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        raise ValueError(f"nb must be nbformat >= 4.5 (cells with ids), got "
                         f"{nb.get('nbformat')}.{nb.get('nbformat_minor')}; "
                         "save it again with a current Jupyter")
    nb = copy.deepcopy(nb)
    cells = [cell for cell in nb.cells if cell.get("id") != COLAB_CELL_ID]
    cells.insert(colab_index(cells), colab_cell())
    for cell in cells:
        cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type(cell)
    nb.cells = cells
    return nbformat.from_dict(nb)


def notebook_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The ``*.ipynb`` files named by ``paths`` (folders are expanded, sorted).

    Raises:
        ValueError: a path that does not exist, or a file that is not ``.ipynb``.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.ipynb")))
        elif path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        else:
            raise ValueError(f"paths: {str(path)!r} is neither a folder nor an .ipynb file")
    return found


def _read(path: Path) -> NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: cannot read the notebook ({err})") from None


def prepare_paths(paths: Iterable[str | os.PathLike] = DEFAULT_PREPARE) -> list[Path]:
    """Prepare every notebook named by ``paths`` in place; return the files that changed.

    Raises:
        ValueError: a bad path, an unreadable notebook, or one older than nbformat 4.5.
    """
    changed: list[Path] = []
    for path in notebook_paths(paths):
        text = render(prepare_notebook(_read(path)))
        if path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
            changed.append(path)
    return changed


def _problems(nb: NotebookNode) -> list[str]:
    """What is missing from ``nb`` to be prepared (empty when it is)."""
    problems: list[str] = []
    ids = [cell.get("id") for cell in nb.cells]
    if ids.count(COLAB_CELL_ID) != 1:
        problems.append(f"{ids.count(COLAB_CELL_ID)} cells with id {COLAB_CELL_ID!r}, "
                        "expected 1")
    else:
        index = ids.index(COLAB_CELL_ID)
        others = nb.cells[:index] + nb.cells[index + 1:]
        if index != colab_index(others):
            problems.append(f"the Colab cell is cell {index}, expected {colab_index(others)}")
        wanted = json.loads(json.dumps(colab_cell()))
        if json.loads(json.dumps(nb.cells[index])) != wanted:
            problems.append("the Colab cell differs from the canonical one (source, metadata, "
                            "or it was executed)")
    wrong = [f"{i} (id {cell.get('id')!r})" for i, cell in enumerate(nb.cells)
             if cell.metadata.get("slideshow", {}).get("slide_type") != slide_type(cell)]
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        problems.append(f"slide type not set by the rule on cells {shown}")
    return problems


def check_paths(paths: Iterable[str | os.PathLike] = DEFAULT_CHECK) -> list[str]:
    """One line per notebook named by ``paths`` that is not prepared (empty when all are).

    Content is compared, not bytes; nothing is written.

    Raises:
        ValueError: a bad path, or an unreadable notebook.
    """
    report: list[str] = []
    for path in notebook_paths(paths):
        problems = _problems(_read(path))
        if problems:
            report.append(f"{path}: not prepared ({'; '.join(problems)}); "
                          "run `mmgan notebooks prepare`")
    return report

"""``mmgan notebooks prepare|check``: the Colab cell and the reveal.js slide types."""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from mmgan_ref.course.cli import main as cli_main
from mmgan_ref.course.prepare import (
    COLAB_CELL_ID,
    COLAB_SOURCE,
    REPOSITORY,
    check_paths,
    prepare_notebook,
    prepare_paths,
    slide_type,
)

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "notebooks", ROOT / "solutions", ROOT / "exercises"]


def _synthetic() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Title\n\nWhat this lesson is about.", id="title"),
        new_code_cell("import math", id="setup"),
        new_markdown_cell("\n## 1 · A section", id="section"),
        new_markdown_cell("Look at the value below.", id="prose"),
        new_code_cell("print(math.pi)", id="code"),
        new_markdown_cell("### A smaller heading", id="h3"),
        new_markdown_cell("#hashtag is not a heading", id="tag"),
        new_raw_cell("raw", id="raw"),
    ])


def test_repository_is_the_one_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert REPOSITORY == urls["Repository"]
    assert REPOSITORY in COLAB_SOURCE


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_course_notebook_is_prepared(folder):
    assert sorted(folder.glob("*.ipynb")), f"no notebooks in {folder}"
    assert check_paths([folder]) == []


def test_colab_cell_is_first_code_cell_unexecuted_and_hidden():
    for path in sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert code[0].id == COLAB_CELL_ID, path
        assert nb.cells[0].cell_type == "markdown" and nb.cells[1].id == COLAB_CELL_ID, path
        assert code[0].outputs == [] and code[0].execution_count is None, path
        assert code[0].metadata == {"slideshow": {"slide_type": "skip"},
                                    "tags": ["remove-cell"]}, path  # not on the website
        # the rest of the notebook keeps its committed outputs
        assert any(cell.outputs for cell in code[1:]), path


def _run_colab_cell(monkeypatch) -> list[tuple[tuple, dict]]:
    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    exec(compile(COLAB_SOURCE, "colab-setup", "exec"), {})
    return calls


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_colab_cell(monkeypatch) == []


def test_colab_cell_installs_the_package_on_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = _run_colab_cell(monkeypatch)
    assert len(calls) == 1
    (command,), kwargs = calls[0]
    assert command[:5] == [sys.executable, "-m", "pip", "install", "-q"]
    assert command[5] == f"mmgan_ref @ git+{REPOSITORY}"
    assert kwargs == {"check": True}


def test_slide_rule_on_a_synthetic_notebook():
    nb = prepare_notebook(_synthetic())
    types_ = {cell.id: cell.metadata.slideshow.slide_type for cell in nb.cells}
    assert [cell.id for cell in nb.cells][:3] == ["title", COLAB_CELL_ID, "setup"]
    assert types_ == {"title": "slide", COLAB_CELL_ID: "skip", "setup": "-",
                      "section": "slide", "prose": "subslide", "code": "-",
                      "h3": "subslide", "tag": "subslide", "raw": "-"}
    assert all(slide_type(cell) == types_[cell.id] for cell in nb.cells)


def test_colab_cell_goes_first_without_a_title_and_moves_back_in_place():
    nb = _synthetic()
    nb.cells = nb.cells[1:]  # starts with a code cell
    assert prepare_notebook(nb).cells[0].id == COLAB_CELL_ID
    nb = prepare_notebook(_synthetic())
    cell = nb.cells.pop(1)
    cell.source, cell.execution_count = "print('edited')", 3
    nb.cells.append(cell)
    fixed = prepare_notebook(nb)
    assert [c.id for c in fixed.cells].count(COLAB_CELL_ID) == 1
    assert fixed.cells[1].id == COLAB_CELL_ID and fixed.cells[1].source == COLAB_SOURCE
    assert fixed.cells[1].execution_count is None


def test_prepare_is_idempotent_and_check_sees_what_it_fixes(tmp_path, capsys):
    path = tmp_path / "nb" / "01_x.ipynb"
    path.parent.mkdir()
    nbformat.write(_synthetic(), path)
    assert cli_main(["notebooks", "check", str(path.parent)]) == 1
    assert "01_x.ipynb: not prepared" in capsys.readouterr().err
    assert prepare_paths([path.parent]) == [path]
    first = path.read_bytes()
    assert prepare_paths([path.parent]) == []
    assert path.read_bytes() == first
    assert cli_main(["notebooks", "check", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].metadata.slideshow.slide_type = "fragment"
    nbformat.write(nb, path)
    assert [len(p) > 0 for p in check_paths([path])] == [True]


def test_prepare_leaves_a_prepared_lesson_byte_identical(tmp_path):
    copy = tmp_path / "01_minimax_objective.ipynb"
    shutil.copy(ROOT / "notebooks" / copy.name, copy)
    assert prepare_paths([copy]) == []
    assert copy.read_bytes() == (ROOT / "notebooks" / copy.name).read_bytes()


def test_bad_paths_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="paths"):
        prepare_paths([tmp_path / "missing"])
    assert cli_main(["notebooks", "check", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(TypeError, match="nb must be"):
        prepare_notebook({"cells": []})


class _TopSections(html.parser.HTMLParser):
    """Counts the <section>s directly under reveal's <div class="slides">, and all of them."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.top, self.total, self.in_slides = 0, 0, 0, False

    def handle_starttag(self, tag, attrs):
        if tag == "div" and ("class", "slides") in attrs:
            self.in_slides = True
        elif tag == "section" and self.in_slides:
            self.top += self.depth == 0
            self.total += 1
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "section" and self.in_slides:
            self.depth -= 1


def test_slides_export_has_one_section_per_slide_cell():
    from nbconvert import SlidesExporter

    nb = nbformat.read(ROOT / "notebooks" / "01_minimax_objective.ipynb", as_version=4)
    kinds = [cell.metadata.slideshow.slide_type for cell in nb.cells]
    body, _ = SlidesExporter().from_notebook_node(nb)
    # nbconvert: each "slide" is an outer <section>; it and each "subslide" open an inner one
    parser = _TopSections()
    parser.feed(body)
    assert parser.depth == 0
    assert parser.top == kinds.count("slide") > 3
    assert parser.total == 2 * kinds.count("slide") + kinds.count("subslide")
    assert "google.colab" not in body  # the skipped Colab cell is not in the deck
    assert re.search(r"<h1[^>]*>01 · The minimax objective", body)

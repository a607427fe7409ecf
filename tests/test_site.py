"""The course website: built offline with warnings as errors, every lesson a page, no dead link."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmgan_ref.course.site import ROOT, SiteError, build_site, internal_link_problems

pytest.importorskip("sphinx", reason="the site's tools are in the dev extra")
pytest.importorskip("myst_nb", reason="the site's tools are in the dev extra")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "html").parent


@pytest.mark.integration
def test_every_lesson_has_a_page_with_its_outputs(site):
    lessons = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert lessons, "no lesson notebooks found"
    for notebook in lessons:
        page = site / "lessons" / f"{notebook.stem}.html"
        assert page.is_file(), f"no page for {notebook.name}"
    # Stored outputs are rendered: lesson 01's figures become images on its page.
    page = (site / "lessons" / "01_minimax_objective.html").read_text()
    assert "<img" in page
    # The Colab install cell (tagged remove-cell) is for Colab, not for readers of the site.
    assert "google.colab" not in page


@pytest.mark.integration
def test_guides_and_api_reference_are_built(site):
    for page in ("index", "results", "instructors", "architecture", "api"):
        assert (site / f"{page}.html").is_file(), page
    objectives = (site / "_autosummary" / "mmgan_ref.objectives.html").read_text()
    assert "mmgan_ref.objectives.info_nce" in objectives
    index = (site / "index.html").read_text()
    assert "lessons/01_minimax_objective.html" in index


@pytest.mark.integration
def test_no_broken_internal_link(site):
    assert internal_link_problems(site) == []


def test_link_checker_finds_missing_pages_and_anchors(tmp_path):
    (tmp_path / "index.html").write_text(
        '<a href="gone.html">x</a> <a href="other.html#nope">y</a> <a href="other.html#here">z</a>'
        ' <a href="https://example.org/">external</a> <img src="img/missing.png">')
    (tmp_path / "other.html").write_text('<h1 id="here">Other</h1>')
    problems = internal_link_problems(tmp_path)
    assert len(problems) == 3, problems
    assert any("gone.html (no such file)" in p for p in problems)
    assert any("no id 'nope'" in p for p in problems)
    assert any("img/missing.png" in p for p in problems)


def test_link_checker_needs_a_built_site(tmp_path):
    with pytest.raises(SiteError, match="index.html"):
        internal_link_problems(tmp_path)

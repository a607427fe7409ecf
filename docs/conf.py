"""Sphinx configuration of the course website (`mmgan site` builds it, offline).

The lessons are the committed, executed notebooks (``docs/lessons`` links to
``notebooks/``); myst-nb renders their stored outputs and never executes them, so the
site builds in about a minute on a laptop CPU with no network. The API reference is
generated from the docstrings of ``mmgan_ref``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "Multimodal GANs"
author = "The Multimodal GANs course authors"
copyright = "2026, the Multimodal GANs course authors (code MIT, lesson text CC BY 4.0)"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

# Stored outputs only: the test suite already executes every notebook, and building the
# site must not train anything.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

autosummary_generate = True
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_title = "Multimodal GANs"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
}

"""Build the course website offline, and check its internal links.

Lesson: 00 Setup and tour (where the course lives: notebooks, website, slides).

The site is Sphinx with myst-nb and sphinx-book-theme: ``docs/`` holds the guides, the API
reference (autosummary over ``mmgan_ref``) and ``docs/lessons``, a link to ``notebooks/``.
myst-nb renders the outputs stored in the committed notebooks and executes nothing, so the
build needs no network and trains nothing::

    mmgan site                     # -> _build/site/index.html
    sphinx-build -W --keep-going -b html docs _build/site      # the same, by hand
"""

from __future__ import annotations

import html.parser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DEFAULT_OUT = ROOT / "_build" / "site"


class SiteError(RuntimeError):
    """The site could not be built (missing tools, or Sphinx reported problems)."""


def sphinx_args(out: Path, docs: Path = DOCS, warnings_as_errors: bool = True) -> list[str]:
    """The ``sphinx-build`` arguments that build the site into ``out``."""
    args = ["-b", "html", "-q", str(docs), str(out)]
    if warnings_as_errors:
        args[:0] = ["-W", "--keep-going"]
    return args


def build_site(out: str | Path = DEFAULT_OUT, warnings_as_errors: bool = True) -> Path:
    """Build the website into ``out``; return the path of its ``index.html``.

    Args:
        out: output folder (created; an existing build there is updated incrementally).
        warnings_as_errors: fail on any Sphinx warning (the default, as the tests build it).
    Raises:
        SiteError: Sphinx or myst-nb is not installed, or the build reported problems.
    """
    try:
        from sphinx.cmd.build import build_main
    except ImportError as err:  # the site's tools are in the dev extra
        raise SiteError("building the site needs Sphinx, myst-nb and sphinx-book-theme: "
                        "pip install -e '.[dev]'") from err
    if not (DOCS / "conf.py").is_file():
        raise SiteError(f"no Sphinx configuration at {DOCS / 'conf.py'}: run from a checkout "
                        "of the course repository")
    out = Path(out)
    status = build_main(sphinx_args(out, warnings_as_errors=warnings_as_errors))
    if status != 0:
        raise SiteError(f"sphinx-build exited with status {status} (messages above)")
    return out / "index.html"


class _Links(html.parser.HTMLParser):
    """Collects the ``href`` and ``src`` targets and the element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            elif (tag, name) in {("a", "href"), ("img", "src"), ("link", "href"),
                                 ("script", "src")}:
                self.targets.append(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def internal_link_problems(site: str | Path) -> list[str]:
    """Every broken internal link of a built site, as ``"page: target (why)"`` lines.

    An internal link is one without a scheme or host. Its file must exist in the site, and
    a ``#fragment`` on an HTML page must name an element id there.

    Raises:
        SiteError: ``site`` holds no ``index.html``.
    """
    site = Path(site)
    if not (site / "index.html").is_file():
        raise SiteError(f"site: no index.html in {site}; build the site first")
    # _static holds the theme's own template fragments, not pages of the site.
    pages = {page: _parse(page) for page in sorted(site.rglob("*.html"))
             if page.relative_to(site).parts[0] not in {"_static", "_sources"}}
    problems = []
    for page, links in pages.items():
        for target in links.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            name = page.relative_to(site)
            if not path.exists():
                problems.append(f"{name}: {target} (no such file)")
            elif parts.fragment and path.suffix == ".html":
                ids = pages[path].ids if path in pages else _parse(path).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{name}: {target} (no id {parts.fragment!r} on that page)")
    return problems


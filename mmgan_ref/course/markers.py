"""Solution and hidden-test markers in one cell's source: find regions, cut them out.

Lesson: 00 Setup and tour (how exercises are made from solutions and graded).

The markers are nbgrader's, one per line, so the same sources work with nbgrader:

    ### BEGIN SOLUTION / ### END SOLUTION          (code or markdown answer cells)
    ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS  (check cells)

A marker line may carry any number of leading ``#`` and surrounding spaces. In a code
cell each solution region must have an exercise title line above it in the same cell,
``# Exercise 2.3: implement the non-saturating generator loss``; the stub that replaces
the region raises ``NotImplementedError`` with that title, at the marker's indentation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SOLUTION = "SOLUTION"
HIDDEN_TESTS = "HIDDEN TESTS"
ANSWER_STUB = "YOUR ANSWER HERE"
CODE_STUB_COMMENT = "# YOUR CODE HERE"

_MARKER = re.compile(
    r"^(?P<indent>\s*)#+\s*(?P<kind>BEGIN|END)\s+(?P<what>SOLUTION|HIDDEN TESTS)\s*$")
_TITLE = re.compile(r"^\s*#\s*(?P<title>Exercise\s+\d+(?:\.\d+)*\s*:\s*\S.*?)\s*$")


class MarkerError(ValueError):
    """Markers that do not pair up, nest, or lack an exercise title."""


@dataclass(frozen=True)
class Region:
    """One marked region of a cell: lines ``begin`` .. ``end``, markers included (0-based).

    Attributes:
        what: SOLUTION or HIDDEN_TESTS.
        begin, end: line numbers of the BEGIN and END markers.
        indent: the whitespace before the BEGIN marker.
    """

    what: str
    begin: int
    end: int
    indent: str


def find_regions(source: str) -> list[Region]:
    """Return the marked regions of a cell source, in order.

    Raises:
        MarkerError: an END without a BEGIN, a BEGIN inside an open region (nesting),
            an END of the other kind, or a region left open at the end of the cell.
            Line numbers in the message count from 1.
    """
    regions: list[Region] = []
    open_what, open_line, open_indent = None, -1, ""
    for number, line in enumerate(source.splitlines()):
        match = _MARKER.match(line)
        if match is None:
            continue
        kind, what = match["kind"], match["what"]
        if kind == "BEGIN":
            if open_what is not None:
                raise MarkerError(
                    f"line {number + 1}: '### BEGIN {what}' is nested inside the "
                    f"'### BEGIN {open_what}' region opened on line {open_line + 1}; "
                    "close that region first")
            open_what, open_line, open_indent = what, number, match["indent"]
        else:
            if open_what is None:
                raise MarkerError(
                    f"line {number + 1}: '### END {what}' without a matching '### BEGIN {what}'")
            if open_what != what:
                raise MarkerError(
                    f"line {number + 1}: '### END {what}' closes the '### BEGIN {open_what}' "
                    f"region opened on line {open_line + 1}")
            regions.append(Region(what, open_line, number, open_indent))
            open_what = None
    if open_what is not None:
        raise MarkerError(
            f"line {open_line + 1}: '### BEGIN {open_what}' is never closed by "
            f"'### END {open_what}'")
    return regions


def exercise_title(lines: list[str], before: int) -> str | None:
    """The nearest ``# Exercise N.M: title`` line above line ``before``, without the ``#``."""
    for line in reversed(lines[:before]):
        match = _TITLE.match(line)
        if match:
            return " ".join(match["title"].split())
    return None


def stub_code(source: str) -> str:
    """Replace each solution region of a code cell with a stub; drop hidden-test regions.

    The stub keeps the BEGIN marker's indentation, so a region inside a function body
    becomes ``raise NotImplementedError("Exercise 2.3: ...")`` in that body.

    Raises:
        MarkerError: bad markers, or a solution region with no exercise title above it.
    """
    lines = source.splitlines()
    out: list[str] = []
    cursor = 0
    for region in find_regions(source):
        out.extend(lines[cursor:region.begin])
        if region.what == SOLUTION:
            title = exercise_title(lines, region.begin)
            if title is None:
                raise MarkerError(
                    f"line {region.begin + 1}: the solution region has no "
                    "'# Exercise N.M: what to do' line above it in the same cell; "
                    "the stub needs it to name the exercise")
            out.append(region.indent + CODE_STUB_COMMENT)
            literal = json.dumps(title, ensure_ascii=False)  # a valid, double-quoted str literal
            out.append(f"{region.indent}raise NotImplementedError({literal})")
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return _join(out, source)


def stub_markdown(source: str) -> str:
    """Replace each solution region of a markdown cell with ``YOUR ANSWER HERE``.

    A markdown answer cell without markers is replaced whole, as nbgrader does.
    """
    regions = find_regions(source)
    if any(region.what == HIDDEN_TESTS for region in regions):
        raise MarkerError("hidden tests belong in check cells, not in a markdown cell")
    if not regions:
        return ANSWER_STUB
    lines = source.splitlines()
    out: list[str] = []
    cursor = 0
    for region in regions:
        out.extend(lines[cursor:region.begin])
        out.append(ANSWER_STUB)
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return _join(out, source)


def drop_hidden_tests(source: str) -> str:
    """Remove every hidden-test region (markers included) from a check cell."""
    lines = source.splitlines()
    out: list[str] = []
    cursor = 0
    for region in find_regions(source):
        if region.what == SOLUTION:
            raise MarkerError(f"line {region.begin + 1}: a check cell cannot hold a solution "
                              "region; put the solution in its own cell")
        out.extend(lines[cursor:region.begin])
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return _join(out, source)


def _join(lines: list[str], like: str) -> str:
    """Join lines, keeping the original source's trailing newline if it had one."""
    return "\n".join(lines) + ("\n" if like.endswith("\n") else "")


def stub_messages(source: str) -> list[str]:
    """The NotImplementedError messages that :func:`stub_code` would put in this cell."""
    lines = source.splitlines()
    return [exercise_title(lines, r.begin) or "" for r in find_regions(source)
            if r.what == SOLUTION]

"""Exercises generated from solutions: classify cells, validate, stub, write, detect drift.

Lesson: 00 Setup and tour (how exercises are made from solutions and graded).

``solutions/NN_*.ipynb`` is the single source of truth. Cells are told apart by their
nbgrader metadata, so nbgrader reads the same files:

- solution cell: ``"nbgrader": {"solution": true, "grade_id": ...}``; code cells hold
  ``### BEGIN SOLUTION`` regions, markdown cells either regions or a whole answer;
- check cell: a code cell with ``"nbgrader": {"grade": true, "points": N, "grade_id": ...}``
  and the tag ``nbval-check-output`` (its one pass line is compared by nbval); it may hold
  ``### BEGIN HIDDEN TESTS`` regions, dropped from the exercise and restored by the grader;
- any other cell is copied as it is (outputs cleared).

Exercise cells keep their solution cell's id, so a student's cell can be traced back.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from mmgan_ref.course import markers
from mmgan_ref.utils import atomic_write_text

CHECK_OUTPUT_TAG = "nbval-check-output"
_DROPPED_CELL_METADATA = ("execution", "collapsed", "scrolled")
_DROPPED_NOTEBOOK_METADATA = ("widgets",)


class CourseError(ValueError):
    """A solution notebook that cannot be turned into an exercise; lists every problem."""


@dataclass(frozen=True)
class CheckCell:
    """One graded check cell of a notebook.

    Attributes:
        index: position among all cells; code_index: position among code cells
            (nbval's "Cell N" counts code cells only).
        cell_id, grade_id, points, label: the cell's id, its nbgrader grade_id and points,
            and its first comment line (e.g. "Check Exercise 0.1").
    """

    index: int
    code_index: int
    cell_id: str
    grade_id: str
    points: float
    label: str


@dataclass
class SolutionNotebook:
    """A validated solution notebook and what the generator and grader need from it."""

    path: Path
    nb: NotebookNode
    solution_ids: list[str] = field(default_factory=list)
    checks: list[CheckCell] = field(default_factory=list)
    stub_messages: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def max_points(self) -> float:
        return sum(check.points for check in self.checks)


def cell_role(cell: NotebookNode) -> str:
    """"solution", "check" or "other", read from the cell's nbgrader metadata."""
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    if nbgrader.get("solution"):
        return "solution"
    if nbgrader.get("grade") and cell.get("cell_type") == "code":
        return "check"
    return "other"


def _label(source: str) -> str:
    """The check's name from its first comment: "# Check Exercise 0.1 (2 points). ..." ->
    "Check Exercise 0.1"."""
    for line in source.splitlines():
        text = line.strip().lstrip("#").strip()
        if line.strip().startswith("#") and text:
            return re.split(r" \(|\. |: ", text, maxsplit=1)[0].strip()
    return ""


def _cell_problems(cell: NotebookNode, role: str) -> list[str]:
    """Everything wrong with one cell, as sentences (empty when it is fine)."""
    problems: list[str] = []
    nbgrader = cell.metadata.get("nbgrader", {})
    source = cell.source
    try:
        regions = markers.find_regions(source)
        if role == "solution" and cell.cell_type == "code":
            markers.stub_code(source)
        elif role == "solution":
            markers.stub_markdown(source)
        elif role == "check":
            markers.drop_hidden_tests(source)
    except markers.MarkerError as err:
        return [str(err)]
    if role in ("solution", "check") and not nbgrader.get("grade_id"):
        problems.append("nbgrader metadata has no 'grade_id'")
    if role == "solution" and cell.cell_type == "code" and not regions:
        problems.append("solution code cell has no '### BEGIN SOLUTION' region")
    if role == "other" and regions:
        problems.append("has markers but its nbgrader metadata does not say "
                        "'solution': true (solution cell) or 'grade': true (check cell)")
    if role == "check":
        points = nbgrader.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            problems.append(f"check cell needs nbgrader 'points' > 0, got {points!r}")
        if CHECK_OUTPUT_TAG not in cell.metadata.get("tags", []):
            problems.append(f"check cell needs the tag {CHECK_OUTPUT_TAG!r} so nbval "
                            "compares its pass line")
    return problems


def load_solution(path: str | os.PathLike) -> SolutionNotebook:
    """Read and validate one solution notebook.

    Raises:
        CourseError: unreadable notebook, missing cell ids, bad markers or metadata;
            every problem is listed with the notebook and the cell (index and id).
    """
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:
        raise CourseError(f"{path}: cannot read the notebook ({err})") from None
    solution = SolutionNotebook(path=path, nb=nb)
    problems: list[str] = []
    code_index = 0
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell)
        where = f"{path}, cell {index} (id {cell.get('id')!r})"
        if not cell.get("id"):
            problems.append(f"{where}: has no id; save the notebook with nbformat >= 4.5")
        cell_problems = _cell_problems(cell, role)
        problems.extend(f"{where}: {p}" for p in cell_problems)
        if cell_problems:
            pass
        elif role == "solution":
            solution.solution_ids.append(cell.get("id", ""))
            if cell.cell_type == "code":
                solution.stub_messages.extend(markers.stub_messages(cell.source))
        elif role == "check":
            nbgrader = cell.metadata["nbgrader"]
            solution.checks.append(CheckCell(index, code_index, cell.id, nbgrader["grade_id"],
                                             float(nbgrader["points"]), _label(cell.source)))
        code_index += cell.cell_type == "code"
    if problems:
        raise CourseError("\n".join(problems))
    return solution


def load_course(solutions_dir: str | os.PathLike = "solutions") -> list[SolutionNotebook]:
    """Load every ``*.ipynb`` in ``solutions_dir``; grade_ids must be unique course-wide.

    Raises:
        CourseError: no notebooks, any notebook problem, or a grade_id used twice.
    """
    folder = Path(solutions_dir)
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise CourseError(f"solutions_dir: no *.ipynb in {str(folder)!r}")
    problems: list[str] = []
    course: list[SolutionNotebook] = []
    for path in paths:
        try:
            course.append(load_solution(path))
        except CourseError as err:
            problems.append(str(err))
    seen: dict[str, str] = {}
    for solution in course:
        ids = [check.grade_id for check in solution.checks]
        ids += [c.metadata["nbgrader"]["grade_id"] for c in solution.nb.cells
                if cell_role(c) == "solution"]
        for grade_id in ids:
            if grade_id in seen:
                problems.append(f"{solution.path}: grade_id {grade_id!r} is also used in "
                                f"{seen[grade_id]}; grade_ids name gradebook columns")
            seen[grade_id] = str(solution.path)
    if problems:
        raise CourseError("\n".join(problems))
    return course


def make_exercise(solution: SolutionNotebook) -> NotebookNode:
    """The student version: solutions stubbed, hidden tests dropped, outputs cleared."""
    nb = copy.deepcopy(solution.nb)
    for key in _DROPPED_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in _DROPPED_CELL_METADATA:
            cell.metadata.pop(key, None)
        role = cell_role(cell)
        if role == "solution":
            stub = markers.stub_code if cell.cell_type == "code" else markers.stub_markdown
            cell.source = stub(cell.source)
        elif role == "check":
            cell.source = markers.drop_hidden_tests(cell.source)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def render(nb: NotebookNode) -> str:
    """The notebook as the exact text written to disk (stable bytes for stable content)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def build_exercises(solutions_dir: str | os.PathLike = "solutions",
                    exercises_dir: str | os.PathLike = "exercises") -> list[Path]:
    """Write ``exercises_dir/NAME.ipynb`` for every solution; return the files that changed.

    Raises:
        CourseError: any problem in any solution notebook (nothing is written then).
    """
    course = load_course(solutions_dir)
    changed: list[Path] = []
    for solution in course:
        target = Path(exercises_dir) / solution.path.name
        text = render(make_exercise(solution))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            atomic_write_text(target, text)
            changed.append(target)
    return changed


def check_exercises(solutions_dir: str | os.PathLike = "solutions",
                    exercises_dir: str | os.PathLike = "exercises") -> list[str]:
    """Compare ``exercises_dir`` with what the solutions generate; return the problems.

    Content is compared (parsed JSON), not bytes. An empty list means up to date.

    Raises:
        CourseError: any problem in any solution notebook.
    """
    problems: list[str] = []
    course = load_course(solutions_dir)
    expected_names = {solution.path.name for solution in course}
    for solution in course:
        target = Path(exercises_dir) / solution.path.name
        if not target.exists():
            problems.append(f"{target}: missing; run `mmgan exercises build`")
            continue
        wanted = json.loads(render(make_exercise(solution)))
        try:
            found = json.loads(target.read_text(encoding="utf-8"))
        except ValueError as err:
            problems.append(f"{target}: not valid JSON ({err}); run `mmgan exercises build`")
            continue
        if found != wanted:
            problems.append(f"{target}: stale ({_describe_drift(found, wanted)}); "
                            "run `mmgan exercises build`, never edit exercises by hand")
    for extra in sorted(Path(exercises_dir).glob("*.ipynb")):
        if extra.name not in expected_names:
            problems.append(f"{extra}: has no solution in {solutions_dir}; delete it")
    return problems


def _describe_drift(found: dict, wanted: dict) -> str:
    found_cells, wanted_cells = found.get("cells", []), wanted.get("cells", [])
    if len(found_cells) != len(wanted_cells):
        return f"{len(found_cells)} cells on disk, {len(wanted_cells)} expected"
    differing = [f"{i} (id {w.get('id')!r})" for i, (f, w) in
                 enumerate(zip(found_cells, wanted_cells, strict=True)) if f != w]
    if differing:
        return "cells differ: " + ", ".join(differing)
    return "notebook metadata differs"

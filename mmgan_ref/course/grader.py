"""Grade a folder of student notebooks: one nbval run each, a gradebook, feedback files.

Lesson: 00 Setup and tour (how grading works).

Layouts accepted under SUBMISSIONS_DIR: ``STUDENT/ANY/PATH.ipynb`` (the student is the
first folder) or ``STUDENT.ipynb``. Each notebook is matched to its solution notebook by
cell ids, nbgrader grade_ids, then file name; each is graded in its own process with
per-cell and per-notebook time limits, so a notebook that crashes, hangs or is not JSON
scores what it earned and grading goes on. See docs/instructors.md for the CSV format.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgan_ref.course.generator import SolutionNotebook, load_course, render
from mmgan_ref.course.merge import merge_submission, scan_flags
from mmgan_ref.course.nbrun import RunResult, run_nbval
from mmgan_ref.utils import atomic_write_text, check_float, check_int, ensure_writable_dir


@dataclass
class NotebookGrade:
    """One student notebook's result.

    Attributes:
        path: the submitted file; notebook: the solution notebook it was graded against.
        points: grade_id -> points earned; messages: grade_id -> why a check failed.
        status: "ok" or what went wrong (time limit, dead kernel, unreadable file).
        notes: extra feedback lines; flags: things for the instructor to look at.
        answers: markdown answers (grade_id -> text), graded by hand.
    """

    path: Path
    notebook: str
    points: dict[str, float] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)


def find_submissions(submissions_dir: Path) -> list[tuple[str, Path]]:
    """(student, notebook) pairs, sorted; hidden folders (checkpoints) are skipped."""
    pairs = []
    for path in sorted(submissions_dir.rglob("*.ipynb")):
        relative = path.relative_to(submissions_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        student = relative.parts[0] if len(relative.parts) > 1 else path.stem
        pairs.append((student, path))
    return pairs


def _load_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cells"), list) else None


def _identify(path: Path, data: dict[str, Any] | None,
              course: list[SolutionNotebook]) -> SolutionNotebook | None:
    """The solution notebook a submission answers: by cell ids, grade_ids, then file name."""
    if data is not None:
        ids = {c.get("id") for c in data["cells"] if isinstance(c, dict)}
        ids |= {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                for c in data["cells"] if isinstance(c, dict)
                and isinstance(c.get("metadata", {}).get("nbgrader"), dict)}
        overlap = {s.name: len(ids & ({c.get("id") for c in s.nb.cells}
                                      | {ch.grade_id for ch in s.checks})) for s in course}
        best = max(overlap.values(), default=0)
        if best > 0 and list(overlap.values()).count(best) == 1:
            return next(s for s in course if overlap[s.name] == best)
    named = [s for s in course if s.name in path.stem]
    if len(named) == 1:
        return named[0]
    prefix = re.match(r"\d+", path.stem)
    numbered = [s for s in course if prefix and s.name.startswith(prefix.group() + "_")]
    return numbered[0] if len(numbered) == 1 else None


def _status(run: RunResult, notebook_timeout: float) -> str:
    """"ok", or the first thing that stopped the notebook from running normally."""
    if run.timed_out:
        return f"notebook time limit ({notebook_timeout:g} s) reached"
    cells = [cell for _, cell in sorted(run.cells.items())]
    dead = any("kernel had died" in cell.message for cell in cells)
    for cell in cells:
        if "Timeout of" in cell.message:
            if dead or "did not respond" in cell.message:
                return f"the kernel died or hung in cell {cell.cell_id!r}"
            return f"cell {cell.cell_id!r} reached the cell time limit"
        if "kernel had died" in cell.message:
            return f"the kernel died before cell {cell.cell_id!r}"
    return "ok"


def grade_notebook(solution: SolutionNotebook, path: Path, data: dict[str, Any] | None,
                   cell_timeout: float, notebook_timeout: float) -> NotebookGrade:
    """Grade one submission against ``solution`` (see the module docstring)."""
    grade = NotebookGrade(path=path, notebook=solution.name,
                          points={check.grade_id: 0.0 for check in solution.checks})
    if data is None:
        grade.status = "not a readable notebook (invalid JSON?)"
        grade.messages = {c.grade_id: "not graded: the notebook could not be read"
                          for c in solution.checks}
        return grade
    merged = merge_submission(solution, data)
    grade.answers, grade.flags = merged.answers, scan_flags(merged.code_answers)
    if merged.missing:
        grade.notes.append("answer cells not found (left as stubs): " + ", ".join(merged.missing))
    if merged.added_cells:
        grade.notes.append(f"{merged.added_cells} cell(s) you added were not run: put all "
                           "your code in the exercise cells")
    with tempfile.TemporaryDirectory(prefix="mmgan-grade-") as tmp:
        master = Path(tmp) / f"{solution.name}.ipynb"
        master.write_text(render(merged.nb), encoding="utf-8")
        run = run_nbval(master, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout)
    check_indices = {check.code_index for check in solution.checks}
    for check in solution.checks:
        cell = run.cells.get(check.code_index)
        if cell is not None and cell.outcome == "passed":
            grade.points[check.grade_id] = check.points
        else:
            grade.messages[check.grade_id] = cell.message if cell else (
                "not run: " + ("the notebook time limit was reached" if run.timed_out
                               else "the run stopped before this cell"))
    failed_other = [c for i, c in sorted(run.cells.items())
                    if i not in check_indices and c.outcome == "failed"]
    for cell in failed_other:
        grade.notes.append(f"cell {cell.cell_id!r} failed: {cell.message.splitlines()[0]}")
    grade.status = _status(run, notebook_timeout)
    if not run.cells and not run.timed_out:
        tail = run.log.strip().splitlines()
        grade.status = "nbval did not run: " + (tail[-1] if tail else f"exit {run.returncode}")
    return grade


def grade(submissions_dir: str | os.PathLike, out: str | os.PathLike = "gradebook.csv",
          feedback_dir: str | os.PathLike | None = None,
          solutions_dir: str | os.PathLike = "solutions", cell_timeout: float = 60.0,
          notebook_timeout: float = 600.0, workers: int = 2) -> list[dict[str, str]]:
    """Grade every notebook under ``submissions_dir``; write the gradebook and feedback.

    Args:
        submissions_dir: one folder per student, or one notebook per student.
        out: the gradebook CSV; feedback_dir: one STUDENT.md each (default: a
            ``feedback`` folder beside ``out``).
        solutions_dir: the solution notebooks (the masters).
        cell_timeout, notebook_timeout: time limits in seconds; workers: parallel runs.

    Returns:
        The gradebook rows as written (column -> text).
    """
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise ValueError(f"submissions_dir: {str(folder)!r} is not a folder")
    check_float("cell_timeout", cell_timeout, minimum=0, exclusive_min=True)
    check_float("notebook_timeout", notebook_timeout, minimum=0, exclusive_min=True)
    check_int("workers", workers, minimum=1)
    out = Path(out)
    feedback = Path(feedback_dir) if feedback_dir is not None else out.parent / "feedback"
    ensure_writable_dir("feedback_dir", feedback)
    course = load_course(solutions_dir)
    jobs, unknown = [], []
    for student, path in find_submissions(folder):
        data = _load_json(path)
        jobs.append((student, path, data, _identify(path, data, course)))
    usual = Counter(j[3].name for j in jobs if j[3] is not None).most_common(1)
    for index, (student, path, data, solution) in enumerate(jobs):
        if solution is None and usual:  # e.g. an unreadable file: grade it as the others
            jobs[index] = (student, path, data, next(s for s in course if s.name == usual[0][0]))
        elif solution is None:
            unknown.append((student, path))
    runnable = [j for j in jobs if j[3] is not None]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        grades = list(pool.map(lambda j: (j[0], grade_notebook(j[3], j[1], j[2], cell_timeout,
                                                                notebook_timeout)), runnable))
    graded = [s for s in course if any(g.notebook == s.name for _, g in grades)]
    rows = _gradebook_rows(grades, graded, unknown)
    _write_csv(out, rows, graded)
    for student, notebook_grades in _by_student(grades).items():
        atomic_write_text(feedback / f"{_safe(student)}.md",
                          feedback_text(student, notebook_grades, graded))
    return rows


def _by_student(grades: list[tuple[str, NotebookGrade]]) -> dict[str, list[NotebookGrade]]:
    result: dict[str, list[NotebookGrade]] = {}
    for student, notebook_grade in grades:
        result.setdefault(student, []).append(notebook_grade)
    return result


def _fmt(points: float) -> str:
    return f"{points:g}"


def _gradebook_rows(grades: list[tuple[str, NotebookGrade]], course: list[SolutionNotebook],
                    unknown: list[tuple[str, Path]]) -> list[dict[str, str]]:
    rows = []
    max_total = sum(s.max_points for s in course)
    for student, notebook_grades in sorted(_by_student(grades).items()):
        row = {"student": student}
        kept: dict[str, NotebookGrade] = {}
        for g in notebook_grades:  # a second copy of the same notebook is ignored, and flagged
            if g.notebook in kept:
                kept[g.notebook].flags.append(f"duplicate submission ignored: {g.path.name}")
            else:
                kept[g.notebook] = g
        points = {k: v for g in kept.values() for k, v in g.points.items()}
        row["notebooks"] = ";".join(sorted(kept))
        statuses = [f"{name}: {g.status}" for name, g in sorted(kept.items()) if g.status != "ok"]
        statuses += [f"{s.name}: not submitted" for s in course if s.name not in kept]
        row["status"] = "; ".join(statuses) or "ok"
        for solution in course:
            for check in solution.checks:
                row[check.grade_id] = _fmt(points.get(check.grade_id, 0.0))
        row["total"] = _fmt(sum(points.values()))
        row["max_total"] = _fmt(max_total)
        row["flags"] = "; ".join(f for g in kept.values() for f in g.flags)
        rows.append(row)
    for student, path in unknown:
        rows.append({"student": student, "notebooks": "", "total": "0",
                     "max_total": _fmt(max_total), "flags": "",
                     "status": f"{path.name}: could not tell which exercise notebook this is"})
    return rows


def _write_csv(out: Path, rows: list[dict[str, str]], course: list[SolutionNotebook]) -> None:
    columns = ["student", "notebooks", "status"]
    columns += [check.grade_id for s in course for check in s.checks]
    columns += ["total", "max_total", "flags"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="0", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out, buffer.getvalue())


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name) or "student"


def feedback_text(student: str, grades: list[NotebookGrade],
                  course: list[SolutionNotebook]) -> str:
    """A student's feedback in Markdown: every check, its points, each failure's message."""
    lines = [f"# Feedback for {student}", ""]
    for g in grades:
        solution = next(s for s in course if s.name == g.notebook)
        earned = sum(g.points.values())
        lines += [f"## {g.notebook} ({g.path.name}): {_fmt(earned)} / "
                  f"{_fmt(solution.max_points)} points", ""]
        if g.status != "ok":
            lines += [f"Grading note: {g.status}.", ""]
        for check in solution.checks:
            got = g.points.get(check.grade_id, 0.0)
            verdict = "passed" if got == check.points else "failed"
            lines.append(f"### {check.label or check.grade_id}: {verdict} "
                         f"({_fmt(got)} / {_fmt(check.points)})")
            if verdict == "failed":
                message = g.messages.get(check.grade_id, "")
                lines += ["", "```", message, "```"]
            lines.append("")
        if g.notes:
            lines += ["### Notes", ""] + [f"- {note}" for note in g.notes] + [""]
        manual = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points")
                  for c in solution.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")}
        for grade_id, text in g.answers.items():
            points = manual.get(grade_id)
            worth = f", {_fmt(float(points))} point(s)" if points else ""
            lines += [f"### Your answer {grade_id} (graded by hand{worth})", "", text.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"

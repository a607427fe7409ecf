"""The instructor kit in docs/instructors.md stays true to the course it describes.

Lesson: 00 Setup and tour (the instructor's guide: syllabi, rubric, hosting).

- both syllabi name every lesson notebook and every exercise notebook;
- the grading rubric's points and totals equal the points in ``solutions/``, read with the
  function the grader itself uses (``load_course``);
- the per-lesson CPU times are the ones the notebooks' header cells state, and no GPU time
  is claimed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mmgan_ref.course.generator import load_course

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructors.md"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb"))


def sections(text: str) -> dict[str, str]:
    """Heading text (levels 2 and 3) -> the lines up to the next heading, outside code fences."""
    result: dict[str, str] = {}
    title, body, fenced = None, [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = re.match(r"#{2,3} (.+)", line) if not fenced else None
        if heading:
            if title is not None:
                result[title] = "\n".join(body)
            title, body = heading.group(1).strip(), []
        else:
            body.append(line)
    if title is not None:
        result[title] = "\n".join(body)
    return result


def tables(body: str) -> list[list[list[str]]]:
    """Every Markdown table in ``body``: rows of cells (header first, separator dropped)."""
    found, current = [], []
    for line in body.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def table_with(section: str, column: str) -> tuple[list[str], list[list[str]]]:
    """The (header, rows) of the first table in ``section`` that has a column ``column``."""
    body = sections(GUIDE.read_text(encoding="utf-8")).get(section)
    assert body is not None, f"docs/instructors.md has no section {section!r}"
    for table in tables(body):
        if column in table[0]:
            return table[0], table[1:]
    raise AssertionError(f"section {section!r} has no table with a column {column!r}")


def names(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def number(cell: str) -> float:
    return float(re.sub(r"[*`\s]", "", cell))


@pytest.mark.parametrize("section, weeks", [("6-week syllabus", 6), ("10-week syllabus", 10)])
def test_syllabus_names_every_lesson_and_exercise(section, weeks):
    header, rows = table_with(section, "hand in")
    assert len(rows) == weeks, f"{section}: {len(rows)} weeks in the table"
    lessons = set().union(*(names(r[header.index("lessons")]) for r in rows))
    handed_in = set().union(*(names(r[header.index("hand in")]) for r in rows))
    assert LESSONS and EXERCISES
    assert sorted(set(LESSONS) - lessons) == [], f"{section}: lessons not in the plan"
    assert sorted(set(EXERCISES) - handed_in) == [], f"{section}: exercises never handed in"
    assert sorted(lessons - set(LESSONS)) == [], f"{section}: names no lesson notebook"
    assert sorted(handed_in - set(EXERCISES)) == [], f"{section}: names no exercise notebook"


def test_rubric_points_per_check_match_the_solutions():
    course = load_course(ROOT / "solutions")
    header, rows = table_with("Grading rubric", "check (`grade_id`)")
    name, check, points = (header.index(c) for c in
                           ("exercise notebook", "check (`grade_id`)", "points"))
    per_check: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for row in rows:
        notebook = row[name].strip("`")
        if "total" in row[check]:
            totals[notebook] = number(row[points])
        else:
            per_check.setdefault(notebook, {})[row[check].strip("`")] = number(row[points])
    assert per_check == {s.name: {c.grade_id: c.points for c in s.checks} for s in course}
    assert totals == {s.name: s.max_points for s in course}


def test_rubric_totals_match_what_the_grader_counts():
    course = load_course(ROOT / "solutions")
    header, rows = table_with("Grading rubric", "auto-graded total")
    name, count, total = (header.index(c) for c in ("exercise notebook", "checks",
                                                    "auto-graded total"))
    hand = next(i for i, c in enumerate(header) if c.startswith("graded by hand"))
    documented = {r[name].strip("`"): r for r in rows if r[name].startswith("`")}
    assert sorted(documented) == [s.name for s in course]
    for solution in course:
        row = documented[solution.name]
        assert number(row[total]) == solution.max_points, solution.name
        assert int(row[count]) == len(solution.checks), solution.name
        by_hand = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
                   for c in solution.nb.cells if c.cell_type == "markdown"
                   and c.metadata.get("nbgrader", {}).get("grade")
                   and c.metadata["nbgrader"].get("points")}
        listed = {g: float(p) for g, p in re.findall(r"`([^`]+)`: *([\d.]+)", row[hand])}
        assert listed == by_hand, solution.name
    course_row = next(r for r in rows if "course" in r[name])
    assert number(course_row[total]) == sum(s.max_points for s in course)


def test_lesson_cpu_times_are_the_notebooks_own_and_no_gpu_time_is_claimed():
    header, rows = table_with("The lessons", "GPU time")
    lesson = header.index("lesson")
    cpu = next(i for i, c in enumerate(header) if c.startswith("CPU time"))
    gpu = header.index("GPU time")
    documented = {r[lesson].strip("`"): r for r in rows}
    assert sorted(documented) == LESSONS
    for stem, row in documented.items():
        nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        header_text = " ".join("".join(first["source"]).split()).casefold()
        quoted = " ".join(row[cpu].strip('"').split()).casefold()
        assert "cpu" in quoted and quoted in header_text, f"{stem}: {row[cpu]!r} not in its header"
        assert row[gpu] == "not measured", stem

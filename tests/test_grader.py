"""The grader: merging answers into the master, flags, and whole-class grading runs.

The warm-up runs check real marks (full, zero, partial, tampering); a tiny torch-free
course checks the failure modes (invalid JSON, endless loop, dead kernel) quickly.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from mmgan_ref.course.generator import build_exercises, load_solution, make_exercise
from mmgan_ref.course.grader import find_submissions, grade
from mmgan_ref.course.merge import merge_submission, scan_flags
from mmgan_ref.course.nbrun import clean_message, run_nbval

ROOT = Path(__file__).resolve().parents[1]
WARMUP = ROOT / "solutions" / "00_warmup.ipynb"


def _json(nb) -> dict:
    return json.loads(nbformat.writes(nb))


def _cell(nb: dict, cell_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("id") == cell_id)


def _save(folder: Path, student: str, nb: dict | str, name: str = "00_warmup.ipynb") -> None:
    (folder / student).mkdir(parents=True)
    text = nb if isinstance(nb, str) else json.dumps(nb)
    (folder / student / name).write_text(text, encoding="utf-8")


def _read_gradebook(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


# ----------------------------------------------------------------------------- merging


def test_merge_takes_only_answer_cells_and_restores_checks_and_hidden_tests():
    solution = load_solution(WARMUP)
    student = _json(make_exercise(solution))
    _cell(student, "ex0-1-solution")["source"] = "def standardize(x, eps=1e-5):\n    return x"
    _cell(student, "ex0-1-check")["source"] = "print('all good')"
    student["cells"].append({"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [],
                             "execution_count": None, "source": "extra = 1"})
    merged = merge_submission(solution, student)
    cells = {c.id: c for c in merged.nb.cells}
    assert cells["ex0-1-solution"].source.endswith("return x")
    assert cells["ex0-1-solution"].outputs == [] and cells["ex0-1-solution"].execution_count is None
    assert "BEGIN HIDDEN TESTS" in cells["ex0-1-check"].source  # master check, hidden tests back
    assert cells["ex0-1-check"].outputs  # the stored pass line nbval compares
    assert "mine" not in cells and merged.added_cells == 1
    assert sorted(merged.found) == ["ex0-1-standardize", "ex0-2-sample-noise", "ex0-3-answer"]


def test_merge_falls_back_to_grade_ids_and_leaves_unfound_answers_as_stubs():
    solution = load_solution(WARMUP)
    student = _json(solution.nb)
    for cell in student["cells"]:
        cell["id"] = "renamed-" + cell["id"]
    student["cells"] = [c for c in student["cells"]
                        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                        != "ex0-2-sample-noise"]
    merged = merge_submission(solution, student)
    assert "ex0-1-standardize" in merged.found and merged.missing == ["ex0-2-sample-noise"]
    stub = next(c for c in merged.nb.cells if c.id == "ex0-2-solution").source
    assert "raise NotImplementedError" in stub


def test_scan_flags_spots_tampering_but_not_ordinary_code():
    assert scan_flags(["import torch\ndef f(x):\n    return torch.relu(x)\n%timeit f(1)"]) == []
    flags = scan_flags(["import mmgan_ref.checks.warmup as w\nw.check_standardize = print",
                        "import importlib\ndef check_x():\n    pass", "def (broken"])
    assert "imports mmgan_ref.checks" in flags and "assigns to w.check_standardize" in flags
    assert "uses importlib" in flags and "defines check_x" in flags


def test_clean_message_keeps_the_last_exception_whole():
    traceback = ("\x1b[0;31mKeyError\x1b[0m: 'a'\n\nThe above exception was the direct cause\n"
                 "AssertionError: Exercise 1.1 (f): wrong\n  expected: 1\n  got:      2")
    assert clean_message("Cell execution caused an exception", traceback) == \
        "AssertionError: Exercise 1.1 (f): wrong\n  expected: 1\n  got:      2"
    assert "pass line" in clean_message("Cell outputs differ", "diff")


def test_find_submissions_layouts(tmp_path):
    for rel in ("alice/00_warmup.ipynb", "bob/ps0/00_warmup.ipynb", "carol.ipynb",
                "alice/.ipynb_checkpoints/00_warmup-checkpoint.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    assert [s for s, _ in find_submissions(tmp_path)] == ["alice", "bob", "carol"]


# ----------------------------------------------------------------------------- the warm-up class


@pytest.mark.integration
def test_grading_the_warmup_gives_full_zero_and_partial_marks(tmp_path):
    solution = load_solution(WARMUP)
    full, blank = _json(solution.nb), _json(make_exercise(solution))
    half = copy.deepcopy(blank)
    _cell(half, "ex0-1-solution")["source"] = _cell(full, "ex0-1-solution")["source"]
    half_no_checks = copy.deepcopy(half)
    half_no_checks["cells"] = [c for c in half["cells"] if not c["id"].endswith("-check")]
    cheat = copy.deepcopy(blank)
    _cell(cheat, "ex0-1-solution")["source"] = (
        "import mmgan_ref.checks as mc\nimport mmgan_ref.checks.warmup as w\n"
        "def standardize(x, eps=1e-5):\n    return x\n"
        "def check_standardize(*args, **kwargs):\n    pass\n"
        "w.check_standardize = check_standardize\n"
        "def load(name):\n    return w\n")
    _cell(cheat, "ex0-1-check")["source"] = "print('\u2713 Exercise 0.1 passed')"
    submissions = tmp_path / "submissions"
    for student, nb in [("full", full), ("blank", blank), ("half", half),
                        ("half_no_checks", half_no_checks), ("cheat", cheat)]:
        _save(submissions, student, nb)

    rows = grade(submissions, out=tmp_path / "gradebook.csv", solutions_dir=ROOT / "solutions",
                 cell_timeout=120, notebook_timeout=300, workers=2)
    book = _read_gradebook(tmp_path / "gradebook.csv")
    assert len(rows) == len(book) == 5
    assert list(book["full"])[:5] == ["student", "notebooks", "status", "check-0-1", "check-0-2"]
    marks = {s: (r["check-0-1"], r["check-0-2"], r["total"]) for s, r in book.items()}
    assert marks == {"full": ("2", "1", "3"), "blank": ("0", "0", "0"),
                     "half": ("2", "0", "2"), "half_no_checks": ("2", "0", "2"),
                     "cheat": ("0", "0", "0")}
    assert all(r["max_total"] == "3" and r["status"] == "ok" for r in book.values())
    assert "imports mmgan_ref.checks" in book["cheat"]["flags"] and book["full"]["flags"] == ""

    feedback = (tmp_path / "feedback" / "half.md").read_text()
    assert "Check Exercise 0.1: passed (2 / 2)" in feedback
    assert "Check Exercise 0.2: failed (0 / 1)" in feedback
    assert "NotImplementedError" in feedback and "Exercise 0.2" in feedback
    assert "YOUR ANSWER HERE" in feedback  # the markdown answer, shown for hand grading
    assert "failed" not in (tmp_path / "feedback" / "full.md").read_text()


# ----------------------------------------------------------------------------- failure modes


def _tiny_course(folder: Path) -> Path:
    """A torch-free course: three exercises (add, mul, neg), one point each."""
    cells = [new_code_cell("import time", id="setup")]
    for number, (name, body, call, value) in enumerate(
            [("add", "a + b", "add(2, 3)", 5), ("mul", "a * b", "mul(2, 3)", 6),
             ("neg", "-a", "neg(2)", -2)], start=1):
        args = "a" if name == "neg" else "a, b"
        solution = new_code_cell(f"# Exercise 1.{number}: {name}\ndef {name}({args}):\n"
                                 f"    ### BEGIN SOLUTION\n    return {body}\n"
                                 "    ### END SOLUTION", id=f"s{number}")
        solution.metadata["nbgrader"] = {"solution": True, "grade": False,
                                         "grade_id": f"tiny-s{number}"}
        check = new_code_cell(f"assert {call} == {value}, 'expected {call} == {value}'\n"
                              f"print('\u2713 Exercise 1.{number} passed')", id=f"c{number}",
                              execution_count=2 * number + 1)
        check.outputs = [new_output("stream", name="stdout",
                                    text=f"\u2713 Exercise 1.{number} passed\n")]
        check.metadata.update(tags=["nbval-check-output"], nbgrader={
            "grade": True, "solution": False, "points": 1, "grade_id": f"tiny-c{number}"})
        cells += [solution, check]
    (folder / "solutions").mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells), folder / "solutions" / "01_tiny.ipynb")
    build_exercises(folder / "solutions", folder / "exercises")
    return folder / "solutions" / "01_tiny.ipynb"


@pytest.mark.integration
def test_broken_looping_and_crashing_notebooks_score_what_they_earned(tmp_path):
    full = json.loads(_tiny_course(tmp_path).read_text())
    loop, crash = copy.deepcopy(full), copy.deepcopy(full)
    _cell(loop, "s2")["source"] = "def mul(a, b):\n    while True:\n        pass"
    _cell(crash, "s2")["source"] = "import os\nos._exit(1)"
    submissions = tmp_path / "submissions"
    for student, nb in [("loop", loop), ("crash", crash), ("broken", "{not json")]:
        _save(submissions, student, nb, name="01_tiny.ipynb")
    grade(submissions, out=tmp_path / "book.csv", solutions_dir=tmp_path / "solutions",
          cell_timeout=3, notebook_timeout=120, workers=2)
    book = _read_gradebook(tmp_path / "book.csv")
    assert [book["loop"][f"tiny-c{i}"] for i in (1, 2, 3)] == ["1", "0", "1"]
    assert "cell 'c2' reached the cell time limit" in book["loop"]["status"]
    assert [book["crash"][f"tiny-c{i}"] for i in (1, 2, 3)] == ["1", "0", "0"]
    assert "kernel died" in book["crash"]["status"]
    assert book["broken"]["total"] == "0" and "not a readable notebook" in book["broken"]["status"]
    assert "Timeout" in (tmp_path / "feedback" / "loop.md").read_text()


@pytest.mark.slow
@pytest.mark.integration
def test_notebook_time_limit_keeps_finished_cells(tmp_path):
    solution = _tiny_course(tmp_path)
    slow = json.loads(solution.read_text())
    _cell(slow, "s2")["source"] = "while True:\n    time.sleep(0.2)"
    path = tmp_path / "slow.ipynb"
    path.write_text(json.dumps(slow))
    run = run_nbval(path, cell_timeout=300, notebook_timeout=15)
    assert run.timed_out and run.cells[2].outcome == "passed" and 3 not in run.cells

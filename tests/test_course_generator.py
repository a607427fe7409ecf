"""Meta-tests of the exercise pipeline: markers, generator, drift check, and every check module.

Generic on purpose: every solutions/*.ipynb and every mmgan_ref.checks module is covered
without editing this file (a new lesson adds a notebook and a check module with VARIANTS).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mmgan_ref import checks
from mmgan_ref.course import markers
from mmgan_ref.course.cli import main as cli_main
from mmgan_ref.course.generator import (
    CourseError,
    build_exercises,
    check_exercises,
    load_course,
    load_solution,
    make_exercise,
    render,
)
from mmgan_ref.course.nbrun import run_nbval

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


# ----------------------------------------------------------------------------- markers


def test_stub_keeps_indentation_and_names_the_exercise():
    source = ("# Exercise 2.3: implement the non-saturating generator loss\n"
              "def loss(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return -x\n"
              "    ### END SOLUTION\n")
    stubbed = markers.stub_code(source)
    assert "return -x" not in stubbed and "BEGIN SOLUTION" not in stubbed
    assert ('    raise NotImplementedError("Exercise 2.3: implement the non-saturating '
            'generator loss")') in stubbed.splitlines()
    assert stubbed.endswith("\n") and "    y = 1" in stubbed
    namespace: dict = {}
    exec(compile(stubbed, "<cell>", "exec"), namespace)  # the stub is valid Python
    with pytest.raises(NotImplementedError, match="Exercise 2.3"):
        namespace["loss"](1)


def test_hidden_tests_dropped_and_markdown_answers_stubbed():
    check = "a = 1\n### BEGIN HIDDEN TESTS\nassert secret()\n### END HIDDEN TESTS\nb = 2"
    assert markers.drop_hidden_tests(check) == "a = 1\nb = 2"
    assert markers.stub_markdown("My long answer.") == markers.ANSWER_STUB
    assert markers.stub_markdown("Q?\n### BEGIN SOLUTION\nA.\n### END SOLUTION") == \
        "Q?\n" + markers.ANSWER_STUB


@pytest.mark.parametrize("source, fragment", [
    ("### END SOLUTION", "without a matching"),
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
     "nested"),
    ("### BEGIN SOLUTION\n### END HIDDEN TESTS", "closes the"),
])
def test_bad_markers_are_errors(source, fragment):
    with pytest.raises(markers.MarkerError, match=fragment):
        markers.find_regions(source)


def _notebook(path: Path, solution_source: str, cell_id: str = "bad") -> Path:
    cell = new_code_cell(solution_source, id=cell_id)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "s1"}
    nb = new_notebook(cells=[new_markdown_cell("# T", id="intro"), cell])
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("source, fragment", [
    ("# Exercise 1.1: x\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ("# Exercise 1.1: x\n### BEGIN SOLUTION\nx = 1", "never closed"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "Exercise N.M"),
    ("x = 1", "no '### BEGIN SOLUTION'"),
])
def test_errors_name_the_notebook_and_the_cell(tmp_path, source, fragment):
    path = _notebook(tmp_path / "01_bad.ipynb", source)
    with pytest.raises(CourseError) as err:
        load_solution(path)
    assert "01_bad.ipynb, cell 1 (id 'bad')" in str(err.value) and fragment in str(err.value)


def test_check_cells_need_points_and_the_output_tag(tmp_path):
    path = _notebook(tmp_path / "01_x.ipynb", "# Exercise 1.1: x\n### BEGIN SOLUTION\n"
                     "x = 1\n### END SOLUTION")
    nb = nbformat.read(path, as_version=4)
    check = new_code_cell("assert x == 1", id="chk")
    check.metadata["nbgrader"] = {"grade": True, "grade_id": "c1", "points": 0}
    nb.cells.append(check)
    nbformat.write(nb, path)
    with pytest.raises(CourseError, match="points") as err:
        load_solution(path)
    assert "nbval-check-output" in str(err.value)


# ----------------------------------------------------------------------------- generator


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_keeps_ids_and_clears_outputs(path):
    solution = load_solution(path)
    exercise = make_exercise(solution)
    assert [c.id for c in exercise.cells] == [c.id for c in solution.nb.cells]
    text = json.dumps(exercise)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert render(exercise) == render(make_exercise(load_solution(path)))  # stable bytes
    assert solution.stub_messages and solution.checks


def test_duplicate_grade_ids_across_notebooks_are_an_error(tmp_path):
    for name in ("00_a.ipynb", "01_b.ipynb"):
        _notebook(tmp_path / name, "# Exercise 1.1: x\n### BEGIN SOLUTION\nx = 1\n"
                  "### END SOLUTION", cell_id=name[:2])
    with pytest.raises(CourseError, match="also used"):
        load_course(tmp_path)


def test_committed_exercises_are_up_to_date(capsys, monkeypatch):
    assert check_exercises(ROOT / "solutions", ROOT / "exercises") == []
    monkeypatch.chdir(ROOT)
    assert cli_main(["exercises", "check"]) == 0, capsys.readouterr().err


def test_check_detects_stale_and_hand_edited_exercises(tmp_path, capsys):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    exercises = tmp_path / "exercises"
    assert build_exercises(tmp_path / "solutions", exercises)  # first build writes
    assert build_exercises(tmp_path / "solutions", exercises) == []  # then nothing changes
    target = exercises / SOLUTIONS[0].name
    data = json.loads(target.read_text())
    data["cells"][1]["source"] = "hand edit"
    target.write_text(json.dumps(data))
    problems = check_exercises(tmp_path / "solutions", exercises)
    assert len(problems) == 1 and "stale" in problems[0] and "cells differ: 1" in problems[0]
    status = cli_main(["exercises", "check", "--solutions", str(tmp_path / "solutions"),
                       "--exercises", str(exercises)])
    assert status == 1 and "stale" in capsys.readouterr().err
    assert cli_main(["exercises", "build", "--solutions", str(tmp_path / "solutions"),
                     "--exercises", str(exercises)]) == 0
    assert check_exercises(tmp_path / "solutions", exercises) == []


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "mmgan_ref.course", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "exercises" in done.stdout and "grade" in done.stdout


# ----------------------------------------------------------------------------- notebooks


@pytest.mark.integration
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_passes_and_exercise_fails_exactly_on_its_checks(path, monkeypatch):
    monkeypatch.setenv("MMGAN_FAST", "1")  # lessons shorten their training runs
    solution = load_solution(path)
    run = run_nbval(path, cell_timeout=120, notebook_timeout=600)
    failed = {i: c.message for i, c in run.cells.items() if c.outcome != "passed"}
    assert not failed and len(run.cells) == sum(c.cell_type == "code" for c in solution.nb.cells)

    exercise = ROOT / "exercises" / path.name
    run = run_nbval(exercise, cell_timeout=120, notebook_timeout=600)
    check_indices = {check.code_index for check in solution.checks}
    failed = {i for i, c in run.cells.items() if c.outcome == "failed"}
    assert failed == check_indices
    for index in check_indices:
        message = run.cells[index].message
        assert "NotImplementedError" in message, message
        assert any(stub in message for stub in solution.stub_messages), message


# ----------------------------------------------------------------------------- every check module


def _check_functions():
    for name in checks.available():
        module = checks.load(name)
        for attr, fn in inspect.getmembers(module, inspect.isfunction):
            if attr.startswith("check_") and fn.__module__ == module.__name__:
                yield name, attr


CHECKS = list(_check_functions())


def _run(module_name: str, check_name: str, candidate, **kwargs) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        getattr(checks.load(module_name), check_name)(candidate, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("module_name, check_name", CHECKS)
def test_every_check_has_variants(module_name, check_name):
    variants = checks.load(module_name).VARIANTS.get(check_name)
    assert variants is not None, f"{module_name}.VARIANTS has no entry for {check_name}"
    assert variants.wrong and variants.right


@pytest.mark.parametrize("module_name, check_name", CHECKS)
def test_right_variants_pass_with_one_stable_line(module_name, check_name):
    for candidate in checks.load(module_name).VARIANTS[check_name].right:
        first = _run(module_name, check_name, candidate)
        again = _run(module_name, check_name, candidate, seed=123)
        assert first == again and first.count("\n") == 1, (candidate, first)
        assert first.startswith("\u2713 Exercise ")
        assert _run(module_name, check_name, candidate, quiet=True) == ""


@pytest.mark.parametrize("module_name, check_name", CHECKS)
def test_wrong_variants_fail_naming_the_mistake(module_name, check_name):
    for candidate, fragment in checks.load(module_name).VARIANTS[check_name].wrong:
        with pytest.raises(AssertionError) as err:
            _run(module_name, check_name, candidate)
        assert fragment.lower() in str(err.value).lower(), (candidate.__name__, str(err.value))


@pytest.mark.parametrize("module_name, check_name", CHECKS)
def test_a_stub_fails_with_the_not_implemented_message(module_name, check_name):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 9.9: the stub")

    with pytest.raises(AssertionError, match=r"not done yet.*NotImplementedError.*Exercise 9\.9"):
        _run(module_name, check_name, stub)


def test_grade_ids_and_copy_are_independent():
    """make_exercise must not modify the loaded solution (the grader reuses it)."""
    solution = load_solution(SOLUTIONS[0])
    before = copy.deepcopy(solution.nb)
    make_exercise(solution)
    assert solution.nb == before

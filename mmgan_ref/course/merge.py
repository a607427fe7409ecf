"""Put a student's answers into the master notebook; flag code that tampers with grading.

Lesson: 00 Setup and tour (how grading works).

The master is the solution notebook: check cells complete with their hidden tests and
stored pass lines. Only the *solution cells* come from the student, matched by cell id,
then by nbgrader ``grade_id``; an answer that cannot be found stays a stub. Everything
else, check cells included, comes from the master, so deleting or editing a check cell,
or adding cells, changes nothing.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode

from mmgan_ref.course.generator import SolutionNotebook, cell_role, make_exercise

# Names whose use in an answer cell deserves a look: they can reach the checks' machinery.
_SUSPICIOUS = ("importlib", "sys", "builtins", "__builtins__", "globals", "setattr",
               "exec", "eval", "get_ipython", "__import__")


@dataclass
class Merged:
    """A master notebook holding one student's answers.

    Attributes:
        nb: the notebook to run.
        found: grade_ids of the solution cells taken from the student.
        missing: grade_ids of solution cells not found (left as stubs).
        added_cells: how many student cells match no master cell (they are not run).
        answers: grade_id -> the student's text for markdown answer cells.
        code_answers: the student's code answer sources (for :func:`scan_flags`).
    """

    nb: NotebookNode
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added_cells: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    code_answers: list[str] = field(default_factory=list)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def merge_submission(solution: SolutionNotebook, student: dict[str, Any]) -> Merged:
    """Copy the student's solution cells into a copy of the master notebook.

    Args:
        solution: the validated solution notebook (the master).
        student: the student's notebook as parsed JSON (nbformat 4, any minor version).

    Returns:
        The merged notebook and what was found; solution code cells have no outputs, so
        nbval checks only the master's check cells against their stored pass lines.
    """
    cells = [c for c in student.get("cells", []) if isinstance(c, dict)]
    by_id = {c["id"]: c for c in cells if isinstance(c.get("id"), str)}
    by_grade_id = {}
    for cell in cells:
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if isinstance(nbgrader, dict) and nbgrader.get("grade_id"):
            by_grade_id.setdefault(nbgrader["grade_id"], cell)
    stubs = make_exercise(solution).cells
    nb = copy.deepcopy(solution.nb)
    merged = Merged(nb=nb)
    master_ids = {cell.get("id") for cell in nb.cells}
    merged.added_cells = sum(1 for c in cells if c.get("id") not in master_ids) if by_id else 0
    for index, cell in enumerate(nb.cells):
        if cell_role(cell) != "solution":
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        mine = by_id.get(cell.id) or by_grade_id.get(grade_id)
        if mine is None:
            merged.missing.append(grade_id)
            cell.source = stubs[index].source
        else:
            merged.found.append(grade_id)
            cell.source = _source(mine)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            merged.code_answers.append(cell.source)
        else:
            merged.answers[grade_id] = cell.source
    return merged


def _python_only(source: str) -> str:
    """Drop IPython magics and shell lines, which are not Python syntax."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def scan_flags(sources: list[str]) -> list[str]:
    """Things in answer cells an instructor may want to look at (never used for marks).

    Flags imports of ``mmgan_ref.checks``, names that reach interpreter internals
    (``importlib``, ``sys``, ``setattr``, ...), assignments to attributes of imported
    modules (monkey-patching), and definitions named like a check (``check_*``, ``load``).
    """
    flags: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(_python_only(source))
        except SyntaxError:
            continue
        modules: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    modules.add(alias.asname or alias.name.split(".")[0])
                    if alias.name.split(".")[0] in _SUSPICIOUS:
                        flags.append(f"uses {alias.name.split('.')[0]}")
                    if alias.name.startswith("mmgan_ref.checks"):
                        flags.append("imports mmgan_ref.checks")
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                modules.update(alias.asname or alias.name for alias in node.names)
                if module.split(".")[0] in _SUSPICIOUS:
                    flags.append(f"uses {module.split('.')[0]}")
                if module.startswith("mmgan_ref.checks") or (
                        module == "mmgan_ref" and any(a.name == "checks" for a in node.names)):
                    flags.append("imports mmgan_ref.checks")
            elif isinstance(node, ast.Name) and node.id in _SUSPICIOUS:
                flags.append(f"uses {node.id}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
                    node.name.startswith("check_") or node.name == "load"):
                flags.append(f"defines {node.name}")
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in modules):
                    flags.append(f"assigns to {target.value.id}.{target.attr}")
    return sorted(set(flags))

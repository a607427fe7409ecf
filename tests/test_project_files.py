"""Project files agree with each other: pyproject, environment.yml, README, .ci/run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ


def _requirement(spec: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert match, spec
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"], "use conda-forge only"
    found = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            name, rest = _requirement(item)
            found[name] = rest.split("cpu")[0]  # "pytorch >=2.2 cpu*": keep the bound
    return found


def test_environment_yml_matches_pyproject_dependencies():
    project = _pyproject()["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    conda = _conda_requirements()
    for spec in wanted:
        name, bound = _requirement(spec)
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{conda_name} is in pyproject.toml, not environment.yml"
        assert conda[conda_name] == bound, (
            f"{name}: pyproject says {bound!r}, environment.yml says {conda[conda_name]!r}")
    extra = set(conda) - {CONDA_NAMES.get(_requirement(s)[0], _requirement(s)[0])
                          for s in wanted} - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml lacks: {sorted(extra)}"


def test_python_bound_agrees():
    assert _pyproject()["project"]["requires-python"] == ">=3.10"
    assert _conda_requirements()["python"] == ">=3.10"


def test_readme_quickstart_is_two_commands_and_ci_runs_them():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- quickstart -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README.md needs a ```bash block after <!-- quickstart -->"
    commands = [line for line in block.group(1).splitlines() if line.strip()
                and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    assert "pip install torch==" in commands[0] and "mmgan train" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- quickstart -->" in ci, ".ci/run must take its commands from the README"


def test_unit_selection_leaves_out_notebooks_browser_and_site():
    """`pytest -m "not integration"` (the README's unit-test command) runs no notebook."""
    targets = ["notebooks/01_minimax_objective.ipynb", "tests/browser", "tests/test_site.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-m", "not integration", *targets],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    kept = [line for line in done.stdout.splitlines() if "::" in line]
    assert not any(".ipynb" in line or "browser" in line for line in kept), kept
    # what is left of those files are the site's link-checker unit tests
    assert kept and all("test_link_checker" in line for line in kept), done.stdout
    assert "deselected" in done.stdout, done.stdout

"""Run one notebook through nbval in a separate process, with time limits; read each cell's result.

Lesson: 00 Setup and tour (how grading works).

This is what ``pytest --nbval-lax --nbval-current-env NOTEBOOK`` does, run so that a
notebook which crashes its kernel or loops forever cannot stop the caller: every cell has
a time limit (nbval interrupts the kernel), the whole run has one (the process group is
interrupted, then killed), and results are recorded cell by cell as they end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mmgan_ref.utils import check_float

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding mmgan_ref/
_PLUGIN = "mmgan_nbval_report"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b:?")
_IPYTHON_CONFIG = ('c.InteractiveShell.colors = "nocolor"\n'
                   "c.HistoryManager.enabled = False\n")


@dataclass(frozen=True)
class CellResult:
    """How one code cell ended: outcome "passed", "failed" or "skipped", and why."""

    code_index: int
    cell_id: str | None
    outcome: str
    message: str = ""


@dataclass
class RunResult:
    """The result of one nbval run.

    Attributes:
        cells: code-cell index -> result, for every cell that finished.
        timed_out: the whole-notebook limit was reached (later cells never ran).
        returncode: pytest's exit status (None when killed).
        seconds: wall time of the run.
        log: the tail of pytest's own output, for diagnosing a run that failed to start.
    """

    cells: dict[int, CellResult] = field(default_factory=dict)
    timed_out: bool = False
    returncode: int | None = None
    seconds: float = 0.0
    log: str = ""


def clean_message(summary: str, traceback: str) -> str:
    """The readable part of a failed cell: the final exception and its message.

    Colour codes are stripped; for an exception the text from its last ``Name: ...``
    line to the end is kept (multi-line messages stay whole), otherwise nbval's summary.
    """
    text = _ANSI.sub("", traceback or "").rstrip()
    if (summary or "").startswith("Cell outputs differ"):
        return ("The check cell did not print its pass line, so it did not pass (was a check "
                "replaced?). nbval's comparison:\n" + "\n".join(text.splitlines()[:20]))
    summary = _ANSI.sub("", summary or "").strip()
    if summary.startswith("Timeout of") and "Failed to interrupt" in summary:
        return (summary.split(".")[0] + ": the kernel did not respond (it crashed, or could "
                "not be interrupted) and was stopped.")
    if summary.startswith("Timeout of"):
        return (summary.split(".")[0] + ": the cell ran past the time limit (an endless loop, "
                "or far too much work?) and was interrupted.")
    if summary.startswith("Kernel dead"):
        return ("Not run: the kernel had died in an earlier cell (a crash, os._exit, or too "
                "much memory).")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    if starts:
        return "\n".join(lines[starts[-1]:]).strip()
    return summary or "the cell failed"


def _read_report(path: Path) -> tuple[dict[int, CellResult], list[int]]:
    cells: dict[int, CellResult] = {}
    pids: list[int] = []
    if not path.exists():
        return cells, pids
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if "kernel_pid" in record:
            pids.append(int(record["kernel_pid"]))
        elif isinstance(record.get("code_index"), int):
            message = ""
            if record["outcome"] == "failed":
                message = clean_message(record.get("summary", ""), record.get("traceback", ""))
            cells[record["code_index"]] = CellResult(record["code_index"], record.get("cell_id"),
                                                     record["outcome"], message)
    return cells, pids


def _stop(process: subprocess.Popen, kernel_pids: list[int]) -> None:
    """Interrupt pytest (it then shuts its kernel down), and kill whatever is left."""
    for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    for pid in kernel_pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_nbval(notebook: str | os.PathLike, cell_timeout: float = 60.0,
              notebook_timeout: float = 600.0) -> RunResult:
    """Run ``pytest --nbval-lax --nbval-current-env notebook`` in a child process.

    The kernel starts in the notebook's folder, with this package importable and plain
    (colourless) tracebacks.

    Args:
        notebook: the .ipynb file.
        cell_timeout: seconds one cell may run before the kernel is interrupted.
        notebook_timeout: seconds the whole run may take.

    Returns:
        A :class:`RunResult`; cells that never finished are absent from ``cells``.
    """
    check_float("cell_timeout", cell_timeout, minimum=0, exclusive_min=True)
    check_float("notebook_timeout", notebook_timeout, minimum=0, exclusive_min=True)
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise ValueError(f"notebook: {str(notebook)!r} is not a file")
    with tempfile.TemporaryDirectory(prefix="mmgan-nbval-") as tmp:
        tmp_path = Path(tmp)
        profile = tmp_path / "ipython" / "profile_default"
        profile.mkdir(parents=True)
        (profile / "ipython_config.py").write_text(_IPYTHON_CONFIG, encoding="utf-8")
        (profile / "ipython_kernel_config.py").write_text(_IPYTHON_CONFIG, encoding="utf-8")
        (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        report = tmp_path / "report.jsonl"
        # The plugin runs as a top-level module: importing it from the package would make
        # pytest import mmgan_ref (and torch) before every run.
        shutil.copyfile(Path(__file__).with_name("_nbval_report.py"),
                        tmp_path / f"{_PLUGIN}.py")
        # jsonschema (via nbformat) imports this optional IRI checker if present, and it
        # builds a grammar at import: seconds per run, for a format nbformat never checks.
        (tmp_path / "rfc3987_syntax.py").write_text(
            'raise ImportError("not needed for notebook validation")\n', encoding="utf-8")
        path = [str(tmp_path), str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]
        env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"),
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join(filter(None, path)))
        command = [sys.executable, "-m", "pytest", str(notebook), "--nbval-lax",
                   "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout:g}",
                   "-p", "nbval.plugin", "-p", _PLUGIN,
                   f"--mmgan-report={report}", "-p", "no:cacheprovider", "-q",
                   "--color=no", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
        start = time.monotonic()
        log_path = tmp_path / "pytest.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            result = RunResult()
            try:
                result.returncode = process.wait(timeout=notebook_timeout)
            except subprocess.TimeoutExpired:
                result.timed_out = True
                _stop(process, _read_report(report)[1])
        result.seconds = time.monotonic() - start
        result.cells, pids = _read_report(report)
        _stop_leftover_kernels(pids)
        result.log = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    return result


def _stop_leftover_kernels(pids: list[int]) -> None:
    """Kill kernels a crashed or killed pytest left behind (normally there are none)."""
    for pid in pids:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            continue
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # pytest's own shutdown may still be finishing
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

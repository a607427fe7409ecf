"""A pytest plugin, loaded by the grader's nbval run, that records each cell as it ends.

Lesson: 00 Setup and tour (how grading works).

One JSON object per line is appended to ``--mmgan-report`` and flushed at once, so a run
killed for its time limit still leaves the results of the cells it finished:

    {"kernel_pid": 1234}
    {"code_index": 3, "cell_id": "ex0-1-check", "outcome": "failed",
     "summary": "Cell execution caused an exception", "traceback": "..."}
"""

from __future__ import annotations

import json
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--mmgan-report", default=None,
                     help="append one JSON line per notebook cell result to this file")


def _write(config: pytest.Config, record: dict[str, Any]) -> None:
    path = config.getoption("--mmgan-report")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()


def _kernel_pid(item: pytest.Item) -> int | None:
    try:
        return int(item.parent.kernel.km.provisioner.pid)
    except (AttributeError, TypeError, ValueError):
        return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    cell = getattr(item, "cell", None)
    if cell is None or not (report.when == "call" or report.failed or report.skipped):
        return
    record: dict[str, Any] = {
        "code_index": getattr(item, "cell_num", None),
        "cell_id": cell.get("id"),
        "outcome": "failed" if getattr(report, "wasxfail", None) is not None
        and report.skipped else report.outcome,
        "summary": "",
        "traceback": "",
    }
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed or record["outcome"] == "failed":
        record["summary"] = str(error) if error is not None else str(report.longrepr)
        record["traceback"] = str(getattr(error, "inner_traceback", "") or "")
    _write(item.config, record)


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    parent = item.parent
    if getattr(parent, "_mmgan_pid_written", False):
        return
    pid = _kernel_pid(item)
    if pid is not None:
        parent._mmgan_pid_written = True
        _write(item.config, {"kernel_pid": pid})

"""A JupyterLab server and a headless Chromium for the real-browser tests.

The browser is Debian's ``chromium`` package driven by Playwright (``.ci/run`` installs
both; Playwright never downloads a browser here). Where either is missing the tests are
skipped with the reason, never passed. Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [  # no sandbox as root; no background traffic on a closed network
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 90
SETTINGS = [  # render every cell (no windowing); start the kernel without asking; no pop-ups
    ("notebook-extension", "tracker", {"windowingMode": "none"}),
    ("docmanager-extension", "plugin", {"autoStartDefaultKernel": True}),
    ("apputils-extension", "notification", {"fetchNews": "false"}),
]


def chromium_path() -> str | None:
    """The system Chromium, or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n"
                               + log.read_text()[-3000:])
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_S} s:\n"
                       + log.read_text()[-3000:])


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab on 127.0.0.1 with a token, serving a copy of the lessons.

    Yields a function ``url(notebook_name)`` giving the notebook's page. The copy keeps
    the committed notebooks safe from JupyterLab's autosave. Notebooks render every cell
    (no windowing), so the test sees each cell's output; kernels run with MMGAN_FAST=1,
    as in CI.
    """
    if chromium_path() is None:
        pytest.skip("no system Chromium: install Debian's chromium package "
                    "(.ci/run does: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the Python playwright package is "
                        "not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("lab")
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    for plugin, name, value in SETTINGS:
        path = root / ".settings" / "@jupyterlab" / plugin / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, MMGAN_FAST="1", JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"))
    log = root / "jupyterlab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", process, log)
        # One workspace per notebook: no tabs left open by a previous test.
        yield lambda name: (f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}"
                            f"?token={token}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser(lab):
    """Headless system Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page, 1400 x 1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()

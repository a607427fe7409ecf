"""Suite-wide marks: `pytest -m "not integration"` runs the unit tests alone.

Integration tests run whole notebooks (nbval, the grader), a real browser, or the Sphinx
site build; they are marked in their modules, and every notebook item nbval collects is
marked here.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.integration)

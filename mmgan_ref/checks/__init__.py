"""Checks that exercise notebooks call: one module per exercise notebook.

Lesson: 00 Setup and tour (how exercises are checked and graded).

A check cell imports its module afresh with :func:`load`, so a function of the same
name defined in the notebook, or a check replaced on the imported module, does not
stand in for the real check::

    from mmgan_ref.checks import load
    load("warmup").check_standardize(standardize)

Writing a check module: see ``_framework`` (``Check``, ``Variants``, helpers) and
``docs/instructors.md``. Each module defines ``VARIANTS``: for every ``check_*``
function, wrong and right solutions that the meta-tests run.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["available", "load"]


def available() -> list[str]:
    """Names of the check modules (one per exercise notebook)."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__)
                  if not info.name.startswith("_"))


def load(name: str) -> ModuleType:
    """Import ``mmgan_ref.checks.<name>`` afresh, its framework reloaded first.

    Args:
        name: the module name, e.g. "warmup" or "lesson01".

    Raises:
        ValueError: no such check module.
    """
    if not isinstance(name, str) or name not in available():
        raise ValueError(f"name: got {name!r}; allowed: {', '.join(map(repr, available()))}")
    importlib.reload(importlib.import_module(f"{__name__}._framework"))
    return importlib.reload(importlib.import_module(f"{__name__}.{name}"))

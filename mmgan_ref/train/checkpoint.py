"""Checkpoints: everything needed to continue a run exactly, written atomically.

Lesson: 10 Scaling up (resume, checkpoints on rank 0).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgan_ref.utils import atomic_torch_save

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or from an incompatible run."""


def rng_state() -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (plus the format version) to `path` atomically."""
    return atomic_torch_save({"format_version": FORMAT_VERSION, **payload}, path)


def resolve_checkpoint_path(name: str, path: str | Path) -> Path:
    """Accept a run folder or a checkpoint file; return the checkpoint file."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(
            f"{name}: no checkpoint at {str(path)!r}; pass a run folder written by "
            f"`mmgan train` (it holds {CHECKPOINT_NAME}) or the checkpoint file itself"
        )
    return path


def load_checkpoint(path: str | Path, name: str = "checkpoint") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`, with clear errors when it is bad."""
    path = resolve_checkpoint_path(name, path)
    try:
        # weights_only=False: our own files hold RNG states and config dicts as well.
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many types for a damaged file
        raise CheckpointError(
            f"{name}: {str(path)!r} is not a readable checkpoint ({type(err).__name__}); "
            "it may be truncated or from another program; train again or pick another run"
        ) from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{name}: {str(path)!r} is not an mmgan checkpoint of format {FORMAT_VERSION}"
        )
    return payload

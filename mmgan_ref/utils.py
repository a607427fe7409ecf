"""Small shared helpers: seeding, device choice, atomic writes, argument checks.

Lesson: 00 Setup and tour (device choice, seeds) and 10 Scaling up (devices).

Errors raised here follow one rule of the course: name the argument, say what
was given and what is allowed, and raise before any work starts.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

# ----------------------------------------------------------------------------- seeds


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch.Generator seeded the same way.

    Args:
        seed: any non-negative integer.
    """
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- devices

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a device name into a torch.device, checking that it exists here.

    "auto" picks cuda, then mps, then cpu. "cuda:1" style indices are accepted.

    Raises:
        ValueError: unknown name, or a device this machine does not have.
    """
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', got {name!r}")
    base = name.split(":", 1)[0]
    if base not in DEVICE_CHOICES:
        raise ValueError(
            f"device: got {name!r}; allowed: {', '.join(DEVICE_CHOICES)} (optionally 'cuda:N')"
        )
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device: got {name!r} but CUDA is not available on this machine "
                f"(torch {torch.__version__}); use --device cpu or --device auto"
            )
        if ":" in name:
            index = int(name.split(":", 1)[1])
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f"device: got {name!r} but only {torch.cuda.device_count()} "
                    "CUDA device(s) exist"
                )
    if base == "mps" and not mps_available():
        raise ValueError(f"device: got {name!r} but MPS is not available; use cpu or auto")
    return torch.device(name)


# ----------------------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes to `path` atomically: a temporary file in the same folder, then rename.

    A reader never sees a half-written file, even if the process dies mid-write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default)
    return atomic_write_text(path, text + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """torch.save to a temporary file beside `path`, then an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_savefig(fig: Any, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically (format taken from the final suffix)."""
    import io

    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", **kwargs)
    return atomic_write_bytes(path, buffer.getvalue())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def ensure_writable_dir(name: str, path: str | os.PathLike) -> Path:
    """Create `path` if needed and check it can be written, before any work starts."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as err:
        raise ValueError(f"{name}: cannot write to {str(path)!r} ({err.strerror}); "
                         "choose a folder you can write to") from None
    return path


# ----------------------------------------------------------------------------- argument checks


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Check that `value` is an int within [minimum, maximum]; return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_float(name: str, value: Any, minimum: float | None = None,
                maximum: float | None = None, exclusive_min: bool = False) -> float:
    """Check that `value` is a finite real number in range; return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if exclusive_min else value < minimum):
        op = ">" if exclusive_min else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name}: got {value!r}; allowed: {', '.join(map(repr, choices))}")
    return value


def check_tensor(name: str, tensor: Any, shape: Sequence[int | str | None],
                 dtype_kind: str | None = "float") -> torch.Tensor:
    """Check a tensor's rank and sizes at a public boundary.

    Args:
        name: the argument's name, used in the message.
        shape: one entry per dimension: an int (that size exactly) or a str/None
            (any size; a str names the dimension in the message, e.g. "B").
        dtype_kind: "float", "int", or None for any dtype.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    sizes = tensor.shape
    fits = len(sizes) == len(shape)
    if fits:
        for actual, wanted in zip(sizes, shape, strict=True):
            if isinstance(wanted, int) and actual != wanted:
                fits = False
                break
    if not fits:  # the message is built only here: this check runs on every forward pass
        expected = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {expected}, got {tuple(sizes)}")
    if dtype_kind == "float" and not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    if dtype_kind == "int" and (tensor.is_floating_point() or tensor.is_complex()):
        raise TypeError(f"{name} must be an integer tensor, got dtype {tensor.dtype}")
    return tensor


def fast_mode() -> bool:
    """True when MMGAN_FAST is set: notebooks and tests shorten training runs."""
    return os.environ.get("MMGAN_FAST", "").strip().lower() not in ("", "0", "false", "no")

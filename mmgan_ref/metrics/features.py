"""Domain features for the metrics, and the input helpers every metric shares.

Lesson: 08 Evaluating GANs honestly.

Fréchet distance, KID and precision/recall compare *features*, not pixels. The
course never downloads an Inception network: it trains a small feature network on
the same domain, once, seeded, and caches its weights on disk. For digits this is
an MLP (scikit-learn's ``MLPClassifier``, one hidden layer of 64 ReLU units) fitted
on all 1,797 real images; its hidden activations are the features. Another domain
(shapes) plugs in by offering the same ``features(images)`` method
(:class:`FeatureExtractor`).

The cache lives in ``$MMGAN_CACHE`` (or ``~/.cache/mmgan``). A file is named by a
hash of the training configuration, written atomically, and rebuilt when it is
missing or unreadable.

Image convention: float in [-1, 1], shape (N, 1, 8, 8), i.e. ``x / 8 - 1`` for
scikit-learn's 0..16 digits. (N, 8, 8) and flat (N, 64) are accepted too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from mmgan_ref.utils import atomic_write_bytes, check_float, check_int

DIGITS_PIXELS = 64
# A generated digit outside this band is almost surely on the 0..16 scale, not [-1, 1].
_DIGITS_RANGE_LIMIT = 1.5

# ----------------------------------------------------------------------------- inputs


def as_array(name: str, values: Any, ndim: int | tuple[int, ...] | None = None,
             dtype: Any = np.float64) -> np.ndarray:
    """Turn a torch tensor or a NumPy array into a NumPy array, checking its rank.

    Args:
        name: the argument's name, used in error messages.
        values: a ``torch.Tensor`` or ``np.ndarray`` (detached and moved to the CPU).
        ndim: allowed number of dimensions (an int or a tuple of ints); None for any.
        dtype: the NumPy dtype of the result.

    Raises:
        TypeError: neither a tensor nor an array.
        ValueError: wrong rank, empty, or non-finite values (for float dtypes).
    """
    if isinstance(values, torch.Tensor):
        array = values.detach().cpu().numpy()
    elif isinstance(values, np.ndarray):
        array = values
    else:
        raise TypeError(f"{name} must be a torch.Tensor or a numpy.ndarray, "
                        f"got {type(values).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                             f"got shape {tuple(array.shape)}")
    if array.shape[:1] == (0,):
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)}); pass at least one row")
    array = np.asarray(array, dtype=dtype)
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def condition_ids(*labels: np.ndarray) -> list[np.ndarray]:
    """Map labels to integer group ids, consistently across several label arrays.

    Labels are int class ids of shape (N,) or attribute rows of shape (N, D): two
    rows are the same condition when every attribute is equal.

    Returns:
        One int64 array of shape (N_i,) per input.
    """
    flat = [lab.reshape(len(lab), -1) for lab in labels]
    widths = {f.shape[1] for f in flat}
    if len(widths) != 1:
        raise ValueError(f"labels must all have the same number of attributes, "
                         f"got {sorted(widths)}")
    _, inverse = np.unique(np.concatenate(flat), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    splits = np.cumsum([len(f) for f in flat])[:-1]
    return [part.astype(np.int64) for part in np.split(inverse, splits)]


def as_labels(name: str, labels: Any, n: int) -> np.ndarray:
    """Check labels (int (N,) or attribute rows (N, D)) against N rows; return an array."""
    array = as_array(name, labels, ndim=(1, 2), dtype=np.int64)
    if len(array) != n:
        raise ValueError(f"{name} must have {n} rows (one per sample), got {len(array)}")
    return array


def flatten_images(name: str, images: Any, pixels: int | None = None) -> np.ndarray:
    """Flatten images (N, C, H, W), (N, H, W) or (N, P) to (N, P) float64."""
    array = as_array(name, images, ndim=(2, 3, 4))
    flat = array.reshape(len(array), -1)
    if pixels is not None and flat.shape[1] != pixels:
        raise ValueError(f"{name} must hold {pixels} pixels per image (e.g. shape (N, 1, 8, 8)), "
                         f"got shape {tuple(array.shape)}")
    return flat


def flatten_digits(name: str, images: Any) -> np.ndarray:
    """Flatten digit images to (N, 64), checking they are on the [-1, 1] scale."""
    flat = flatten_images(name, images, pixels=DIGITS_PIXELS)
    if np.abs(flat).max() > _DIGITS_RANGE_LIMIT:
        raise ValueError(f"{name} must be digit images scaled to [-1, 1] (x / 8 - 1 for "
                         f"scikit-learn's 0..16 values), got values up to {np.abs(flat).max():.3g}")
    return flat


def single_thread() -> Any:
    """A context in which BLAS/OpenMP use one thread.

    The metrics fit small scikit-learn models (a few thousand rows); on a shared
    2-core laptop, threads fighting over the cores make such fits 10-30x slower.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def fit_quietly(model: Any, x: np.ndarray, y: np.ndarray | None = None) -> Any:
    """Fit a scikit-learn model on one thread, without convergence warnings; return it."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x) if y is None else model.fit(x, y)


# ----------------------------------------------------------------------------- real digits


def load_real_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 real digits in the course convention.

    Returns:
        images: float32 (1797, 1, 8, 8) in [-1, 1]; labels: int64 (1797,).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 8.0 - 1.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    return images, bunch.target.astype(np.int64)


def digits_split(seed: int = 0, test_fraction: float = 0.25
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified, seeded train/test split of the real digits.

    Returns:
        train_images (N_tr, 1, 8, 8), train_labels (N_tr,), test_images, test_labels.
    """
    from sklearn.model_selection import train_test_split

    check_int("seed", seed, minimum=0)
    check_float("test_fraction", test_fraction, minimum=0.0, maximum=1.0, exclusive_min=True)
    images, labels = load_real_digits()
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    return train_x, train_y, test_x, test_y


# ----------------------------------------------------------------------------- feature networks


@runtime_checkable
class FeatureExtractor(Protocol):
    """What a Fréchet/KID/PRD feature network offers: a name and ``features(images)``."""

    name: str

    def features(self, images: Any) -> np.ndarray:
        """Images -> features of shape (N, d), float64."""
        ...


@dataclass(frozen=True)
class DigitsMLPConfig:
    """How the digits feature network is trained; its hash names the cache file."""

    hidden: int = 64
    seed: int = 0
    solver: str = "lbfgs"  # full-batch, converges in ~50 steps (< 1 s) on 1,797 images
    max_iter: int = 200
    alpha: float = 1.0  # L2 penalty: keeps activations O(1), distances on the anchor scale
    format_version: int = 1  # bump when the cache file layout changes

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class MLPFeatures:
    """The hidden ReLU layer of a trained MLP: ``relu(x @ weight + bias)``."""

    name: str
    weight: np.ndarray  # (64, hidden)
    bias: np.ndarray  # (hidden,)

    def features(self, images: Any) -> np.ndarray:
        """Digit images in [-1, 1], (N, 1, 8, 8) -> hidden activations (N, hidden)."""
        flat = flatten_digits("images", images)
        return np.maximum(flat @ self.weight + self.bias, 0.0)


def cache_dir() -> Path:
    """The cache folder: ``$MMGAN_CACHE`` if set, else ``~/.cache/mmgan``."""
    return Path(os.environ.get("MMGAN_CACHE") or Path.home() / ".cache" / "mmgan")


def _train_digits_mlp(config: DigitsMLPConfig) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neural_network import MLPClassifier

    images, labels = load_real_digits()
    model = MLPClassifier(hidden_layer_sizes=(config.hidden,), alpha=config.alpha,
                          solver=config.solver, max_iter=config.max_iter,
                          random_state=config.seed)
    fit_quietly(model, images.reshape(len(images), -1), labels)
    return model.coefs_[0].astype(np.float64), model.intercepts_[0].astype(np.float64)


def _read_cache(path: Path, config: DigitsMLPConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached weights, or None when the file is missing, corrupt or for another config."""
    try:
        with np.load(path, allow_pickle=False) as data:
            weight, bias, key = data["weight"], data["bias"], str(data["key"])
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if key != config.key() or weight.shape != (DIGITS_PIXELS, config.hidden) \
            or bias.shape != (config.hidden,) or not np.all(np.isfinite(weight)):
        return None
    return weight, bias


_MEMORY: dict[tuple[str, int, int], Any] = {}


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat() if path.exists() else None
    return str(path), stat.st_mtime_ns if stat else -1, stat.st_size if stat else -1


def cached_extractor(path: Path, read: Callable[[Path], Any], build: Callable[[], Any],
                     write: Callable[[Path, Any], None], make: Callable[[Any], Any]) -> Any:
    """A feature extractor from its cache file, trained and cached when missing or corrupt.

    `read(path)` returns the saved state or None; `build()` trains a new state; `write`
    saves it (atomically); `make(state)` turns a state into the extractor. Extractors are
    also kept in memory, keyed by the file's path, time and size, so a rewritten cache
    file is read again.
    """
    key = _file_key(path)
    if key in _MEMORY:
        return _MEMORY[key]
    state = read(path)
    if state is None:  # missing or corrupt: rebuild
        state = build()
        write(path, state)
        key = _file_key(path)
    extractor = make(state)
    _MEMORY[key] = extractor
    return extractor


def _write_digits_cache(path: Path, cached: tuple[np.ndarray, np.ndarray], key: str) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, weight=cached[0], bias=cached[1], key=np.array(key))
    atomic_write_bytes(path, buffer.getvalue())


def digits_feature_network(config: DigitsMLPConfig | None = None,
                           folder: str | os.PathLike | None = None) -> MLPFeatures:
    """The digits feature network: read from the cache, or trained (~2 s) and cached.

    Args:
        config: training configuration (default ``DigitsMLPConfig()``).
        folder: cache folder (default :func:`cache_dir`).
    """
    config = config or DigitsMLPConfig()
    return cached_extractor(
        Path(folder or cache_dir()) / f"digits_mlp_{config.key()}.npz",
        read=lambda path: _read_cache(path, config),
        build=lambda: _train_digits_mlp(config),
        write=lambda path, cached: _write_digits_cache(path, cached, config.key()),
        make=lambda cached: MLPFeatures(name=f"digits-mlp{config.hidden}", weight=cached[0],
                                        bias=cached[1]))


def digits_features(images: Any, config: DigitsMLPConfig | None = None,
                    folder: str | os.PathLike | None = None) -> np.ndarray:
    """Features of digit images for Fréchet distance, KID and precision/recall.

    Args:
        images: (N, 1, 8, 8) (or (N, 8, 8), (N, 64)) in [-1, 1], tensor or array.

    Returns:
        float64 array (N, hidden): the feature network's hidden ReLU activations.
    """
    return digits_feature_network(config, folder).features(images)

"""A feature network for shapes images: Fréchet distance, KID and precision/recall on shapes.

Lesson: 08 Evaluating GANs honestly.

As for digits (``features.digits_feature_network``), the course never downloads an
Inception network. A small CNN (the course's ``ConvTrunk``, then one hidden layer of
``feature_dim`` ReLU units) is trained, seeded, on real procedural shapes images to predict
the four attributes (shape, colour, size, position; one softmax head each). Its hidden
ReLU activations are the features: they know what a shapes scene is made of, so a
generator that draws the wrong colours or only circles moves far in that space.

Training takes ~10-30 s on a laptop CPU; the weights are cached in ``$MMGAN_CACHE`` (or
``~/.cache/mmgan``) under a hash of the configuration, written atomically and rebuilt when
the file is missing or unreadable. Images of another size than ``config.image_size`` are
area-resized to it first, so 64x64 runs are measured with the same network.

Image convention: float in [-1, 1], shape (N, 3, S, S).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan_ref.metrics.features import as_array, cache_dir, cached_extractor
from mmgan_ref.utils import atomic_torch_save, check_int

_FEATURE_BATCH = 512  # images per forward pass when extracting features


@dataclass(frozen=True)
class ShapesCNNConfig:
    """How the shapes feature network is trained; its hash names the cache file."""

    n_train: int = 4000
    seed: int = 0
    image_size: int = 32
    base_width: int = 8
    feature_dim: int = 64
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    format_version: int = 1  # bump when the cache file layout changes

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class ShapesAttributeNet(nn.Module):
    """CNN: images (B, 3, S, S) -> features (B, feature_dim) -> one logit vector per attribute."""

    def __init__(self, config: ShapesCNNConfig) -> None:
        super().__init__()
        from mmgan_ref.data.attributes import NUM_VALUES
        from mmgan_ref.nn.conv import ConvTrunk

        self.trunk = ConvTrunk(3, config.image_size, config.base_width)
        self.hidden = nn.Linear(self.trunk.feature_dim, config.feature_dim)
        self.heads = nn.ModuleList(nn.Linear(config.feature_dim, k) for k in NUM_VALUES)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, feature_dim), the hidden ReLU layer."""
        return F.relu(self.hidden(self.trunk(images)))

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        h = self.features(images)
        return [head(h) for head in self.heads]  # one (B, K_a) per attribute


def _train(config: ShapesCNNConfig) -> dict[str, torch.Tensor]:
    """Train the network on fresh real scenes (every combination, none held out)."""
    from mmgan_ref.data.shapes import sample_scenes

    scenes = sample_scenes(config.n_train, seed=config.seed, image_size=config.image_size,
                           held_out=[], with_sound=False)
    images, attributes = scenes["image"], scenes["attributes"]
    # fork_rng: initialising and shuffling must not move the caller's global RNG
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = ShapesAttributeNet(config)
        optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
        for _ in range(config.epochs):
            order = torch.randperm(len(images))
            for start in range(0, len(images) - config.batch_size + 1, config.batch_size):
                rows = order[start:start + config.batch_size]
                logits = network(images[rows])
                loss = sum(F.cross_entropy(lg, attributes[rows, i]) for i, lg in enumerate(logits))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return network.state_dict()


@dataclass
class ShapesFeatures:
    """A trained :class:`ShapesAttributeNet` offering ``features(images)`` (a FeatureExtractor)."""

    name: str
    network: ShapesAttributeNet
    image_size: int

    def _prepare(self, images: Any) -> torch.Tensor:
        array = as_array("images", images, ndim=4, dtype=np.float32)
        if array.shape[1] != 3 or array.shape[2] != array.shape[3]:
            raise ValueError(f"images must have shape (N, 3, S, S), got {tuple(array.shape)}")
        if np.abs(array).max() > 1.5:
            raise ValueError("images must be scaled to [-1, 1], got values up to "
                             f"{np.abs(array).max():.3g}")
        batch = torch.from_numpy(array)
        if batch.shape[-1] != self.image_size:
            batch = F.interpolate(batch, size=(self.image_size, self.image_size), mode="area")
        return batch

    @torch.no_grad()
    def features(self, images: Any) -> np.ndarray:
        """Images (N, 3, S, S) in [-1, 1] -> float64 features (N, feature_dim)."""
        batch = self._prepare(images)
        parts = [self.network.features(batch[i:i + _FEATURE_BATCH])
                 for i in range(0, len(batch), _FEATURE_BATCH)]
        return torch.cat(parts).double().numpy()

    @torch.no_grad()
    def predict(self, images: Any) -> torch.Tensor:
        """Images -> predicted attributes (N, 4) int64 (a learned reader, for checks)."""
        batch = self._prepare(images)
        return torch.stack([lg.argmax(1) for lg in self.network(batch)], dim=1)


def _load(path: Path, config: ShapesCNNConfig) -> dict[str, torch.Tensor] | None:
    """The cached weights, or None when missing, corrupt or of another configuration."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload["key"] != config.key():
            return None
        ShapesAttributeNet(config).load_state_dict(payload["state"])
        return payload["state"]
    except Exception:  # any unreadable or mismatched cache file is rebuilt
        return None


def shapes_feature_network(config: ShapesCNNConfig | None = None,
                           folder: str | os.PathLike | None = None) -> ShapesFeatures:
    """The shapes feature network: read from the cache, or trained and cached.

    Args:
        config: training configuration (default ``ShapesCNNConfig()``).
        folder: cache folder (default ``features.cache_dir()``).
    """
    config = config or ShapesCNNConfig()
    if not isinstance(config, ShapesCNNConfig):
        raise TypeError(f"config must be a ShapesCNNConfig, got {type(config).__name__}")
    check_int("config.n_train", config.n_train, minimum=config.batch_size)

    def make(state: dict[str, torch.Tensor]) -> ShapesFeatures:
        network = ShapesAttributeNet(config)
        network.load_state_dict(state)
        network.eval()
        return ShapesFeatures(f"shapes-cnn{config.feature_dim}", network, config.image_size)

    return cached_extractor(
        Path(folder or cache_dir()) / f"shapes_cnn_{config.key()}.pt",
        read=lambda path: _load(path, config), build=lambda: _train(config),
        write=lambda path, state: atomic_torch_save({"key": config.key(), "state": state},
                                                    path),
        make=make)


def shapes_features(images: Any, config: ShapesCNNConfig | None = None,
                    folder: str | os.PathLike | None = None) -> np.ndarray:
    """Features of shapes images (N, 3, S, S) in [-1, 1] for Fréchet, KID and PRD.

    Returns:
        float64 array (N, feature_dim).
    """
    return shapes_feature_network(config, folder).features(images)

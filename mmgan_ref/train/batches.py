"""Batch sources: the batch for a global step is a pure function of (seed, step, rank).

Lesson: 02 A first GAN on 2D data (the training loop) and 10 Scaling up (DDP).

Because nothing about the data order is kept in memory, resuming from a checkpoint
needs only the step number, and data-parallel ranks each take their own slice of one
global batch: rank r of W gets rows [r*b, (r+1)*b) of the global batch of W*b rows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from mmgan_ref.utils import check_int

Batch = dict[str, torch.Tensor]
BatchSource = Callable[[int], Batch]


def _step_generator(seed: int, step: int) -> torch.Generator:
    # A large odd multiplier keeps (seed, step) pairs from colliding for any realistic run.
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2**63 - 1))


class TensorBatches:
    """Shuffled mini-batches from tensors held in memory, epoch after epoch.

    Each epoch is a fresh permutation seeded by (seed, epoch); a batch never spans two
    epochs (the incomplete tail of each epoch is dropped, as DataLoader's drop_last).

    Args:
        tensors: fields with the same first dimension N, e.g. {"image": (N, 1, 8, 8), ...}.
        batch_size: rows per rank and step.
        seed: seeds the permutations.
        rank, world_size: this process's slice of the global batch (DDP).
    """

    def __init__(self, tensors: Batch, batch_size: int, seed: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        if not tensors:
            raise ValueError("tensors must hold at least one field, got an empty dict")
        sizes = {name: t.shape[0] for name, t in tensors.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"tensors must share their first dimension, got sizes {sizes}")
        self.n = next(iter(sizes.values()))
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.world_size = check_int("world_size", world_size, minimum=1)
        self.rank = check_int("rank", rank, minimum=0, maximum=world_size - 1)
        global_batch = batch_size * world_size
        if global_batch > self.n:
            raise ValueError(f"batch_size x world_size = {global_batch} exceeds the data set's "
                             f"{self.n} rows; choose batch_size <= {self.n // world_size}")
        self.tensors = tensors
        self.seed = seed
        self.batches_per_epoch = self.n // global_batch
        self._epoch = -1
        self._perm = torch.empty(0, dtype=torch.long)

    def to(self, device: torch.device | str) -> TensorBatches:
        """Keep the tensors on `device`, so each batch is gathered there."""
        self.tensors = {name: t.to(device) for name, t in self.tensors.items()}
        return self

    def __call__(self, step: int) -> Batch:
        epoch, index = divmod(step, self.batches_per_epoch)
        if epoch != self._epoch:
            self._perm = torch.randperm(self.n, generator=_step_generator(self.seed, -1 - epoch))
            self._epoch = epoch
        start = (index * self.world_size + self.rank) * self.batch_size
        rows = self._perm[start:start + self.batch_size]
        rows = rows.to(next(iter(self.tensors.values())).device)
        return {name: t[rows] for name, t in self.tensors.items()}


class SampledBatches:
    """Fresh samples every step from a sampler `sample(n, generator) -> Batch`.

    For data with an unlimited supply (toy 2-D mixtures, procedural scenes). The
    generator for (seed, step) is the same whatever happened before, so resume is exact.
    """

    def __init__(self, sample: Callable[[int, torch.Generator], Batch], batch_size: int,
                 seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        self.sample = sample
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.world_size = check_int("world_size", world_size, minimum=1)
        self.rank = check_int("rank", rank, minimum=0, maximum=world_size - 1)
        self.seed = seed

    def __call__(self, step: int) -> Batch:
        generator = _step_generator(self.seed, step)
        batch = self.sample(self.batch_size * self.world_size, generator)
        start = self.rank * self.batch_size
        return {name: t[start:start + self.batch_size] for name, t in batch.items()}

"""Data-parallel training with torch.distributed, kept deliberately plain.

Lesson: 10 Scaling up.

Each process (rank) computes losses on its own slice of the global batch; before each
optimiser step the gradients are averaged across ranks with one all-reduce, so every
rank takes the same step and the parameters stay identical. This is what
DistributedDataParallel does, without its bucketing and overlap: a GAN step calls D
several times before one backward, which DDP's reducer handles badly, and averaging
explicitly keeps the semantics visible: global batch = per-rank batch x world size.

Launch with `torchrun --nproc_per_node=N -m mmgan_ref.cli train RECIPE --distributed`.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn

REQUIRED_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def is_active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_active() else 0


def world_size() -> int:
    return dist.get_world_size() if is_active() else 1


def is_main_process() -> bool:
    return rank() == 0


def init_from_env(device_name: str = "auto") -> tuple[int, int, str]:
    """Join the process group torchrun describes in the environment.

    Returns:
        (rank, world_size, device name for this rank): NCCL and "cuda:LOCAL_RANK" on
        GPUs, gloo and "cpu" otherwise.

    Raises:
        ValueError: the launch environment is incomplete (not started by torchrun).
    """
    missing = [name for name in REQUIRED_ENV if name not in os.environ]
    if missing:
        raise ValueError(
            f"--distributed: environment variables {', '.join(missing)} are not set; launch "
            "with `torchrun --nproc_per_node=N -m mmgan_ref.cli train RECIPE --distributed` "
            "(torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT)"
        )
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    local_rank = int(os.environ["LOCAL_RANK"])
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not is_active():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), f"cuda:{local_rank}" if use_cuda else "cpu"


def shutdown() -> None:
    if is_active():
        dist.destroy_process_group()


def broadcast_parameters(module: nn.Module) -> None:
    """Start every rank from rank 0's parameters and buffers."""
    if not is_active():
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def broadcast_buffers(module: nn.Module) -> None:
    """Rank 0's buffers (batch-norm statistics) win each step, as in DDP's default."""
    if not is_active():
        return
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def average_gradients(params: list[torch.Tensor]) -> None:
    """All-reduce and average the gradients of `params` in one flat buffer."""
    if not is_active():
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()

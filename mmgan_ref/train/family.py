"""What a GAN family gives the trainer: networks, optimisers and the losses of each phase.

Lesson: 02 A first GAN on 2D data (the D step and the G step).

A family is an `nn.Module` holding every network of one GAN variant. Its `phases`
list says what one training step does, in order: for instance "update D with the
discriminator loss, then update G with the generator loss". The trainer runs the
phases, so every variant shares one loop (devices, AMP, EMA, checkpoints) and
differs only in its networks and losses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

Batch = dict[str, torch.Tensor]
LossFn = Callable[[Batch], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Parameters of `modules` need no gradient inside the block.

    Autograd decides at forward time what needs a gradient, so a graph built inside the
    block sends gradients through these modules to their inputs but not to their weights
    (cheaper than computing them and throwing them away).
    """
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@dataclass(frozen=True)
class Phase:
    """One part of a training step.

    Attributes:
        name: shown in logs, e.g. "d" or "g".
        loss: batch -> (scalar loss to minimise, extra named tensors to log). The
            trainer detaches what is logged and averages each over its log window
            (every element: a batch of logits logs their mean).
        optimizer: key into the family's `optimizers` dict: which parameters this
            phase updates. Gradients that the loss sends elsewhere are discarded.
        repeats: how many updates per training step (e.g. 5 critic steps for WGAN-GP).
    """

    name: str
    loss: LossFn
    optimizer: str
    repeats: int = 1


class GANFamily(nn.Module):
    """Base class: subclasses set `generator`, build `optimizers` and list `phases`.

    `schedulers` (optional) maps names to learning-rate schedulers; the trainer steps each
    once per training step, after every phase, and keeps their state in checkpoints.

    Subclasses also implement `sample(n, generator=None, **condition)` returning
    generated data, used by the CLI, the metrics and the notebooks.
    """

    generator: nn.Module

    def __init__(self) -> None:
        super().__init__()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}
        self.phases: list[Phase] = []
        # What changes every step lives in this dict, not in attributes: assigning an
        # attribute of an nn.Module runs its __setattr__ (isinstance checks against
        # Parameter, Buffer and Module, ~2-3 µs), a measurable cost on a toy step.
        self.step_state: dict[str, Any] = {"handed_over": None}

    def hand_over(self, batch: Batch, value: Any) -> None:
        """Keep `value` for the next phase that runs on this same `batch` (see `take_over`).

        A D step draws G's images with their graph and the G step that follows on the
        same batch back-propagates through them, as pytorch/examples' DCGAN does, instead
        of running G a second time: G has not changed in between.
        """
        self.step_state["handed_over"] = (batch, value)

    def take_over(self, batch: Batch) -> Any | None:
        """What `hand_over` kept for this very batch object, once; else None."""
        kept, self.step_state["handed_over"] = self.step_state["handed_over"], None
        return kept[1] if kept is not None and kept[0] is batch else None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def networks(self) -> dict[str, nn.Module]:
        """The named sub-networks (`compilable` says which of them `--compile` compiles)."""
        return dict(self.named_children())

    def compilable(self) -> dict[str, nn.Module]:
        """The modules `--compile` compiles, by name: whole networks, or a network's parts
        (dotted: "discriminator.trunk") where the family's steps call those directly.

        torch.compile's autograd does not support double backward, so a network whose
        loss differentiates its own gradient (R1, gradient penalty) stays eager; families
        with such penalties override this.
        """
        return self.networks()

    def extra_state(self) -> dict:
        """Anything beyond parameters a checkpoint must keep (a vocabulary, say)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        del state

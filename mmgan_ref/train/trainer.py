"""One trainer for every GAN family: the loop, devices, AMP, EMA, checkpoints, history.

Lesson: 02 A first GAN on 2D data (the loop), 10 Scaling up (AMP, compile, DDP).

The loop is the one from pytorch/examples' DCGAN, generalised: for each step, for each
phase of the family (D, then G, ...), compute that phase's loss, back-propagate, and
step that phase's optimiser. Everything else here (mixed precision, an exponential
moving average of G, atomic checkpoints that resume bit-for-bit, NaN detection) is
what a real run needs and what a notebook would rather not repeat.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from mmgan_ref.train import distributed as ddp
from mmgan_ref.train.batches import BatchSource
from mmgan_ref.train.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from mmgan_ref.train.family import GANFamily
from mmgan_ref.utils import check_float, check_int, resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of the loop itself; a recipe fills the defaults, the CLI overrides them.

    Attributes:
        steps: training steps (each runs every phase of the family once, or `repeats` times).
        batch_size: rows per process and step (the global batch is this x world size).
        lr: learning rate handed to the family's optimisers.
        seed: seeds networks, noise and data order.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        amp: mixed precision (bf16 where supported, else fp16 with a gradient scaler).
        compile: wrap each network in torch.compile.
        ema_decay: decay of the generator's moving average; 0 disables EMA.
        log_every: steps between history entries (and NaN checks).
        checkpoint_every: steps between checkpoints; 0 writes one at the end only.
        channels_last: store conv weights and image batches as NHWC (faster convolutions
            with tensor cores under AMP on GPUs).
        progress: show a tqdm progress bar.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 2e-4
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    compile: bool = False
    ema_decay: float = 0.0
    log_every: int = 50
    checkpoint_every: int = 0
    channels_last: bool = False
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_int("steps", self.steps, minimum=1, maximum=10_000_000)
        check_int("batch_size", self.batch_size, minimum=1, maximum=65_536)
        check_float("lr", self.lr, minimum=0.0, maximum=1.0, exclusive_min=True)
        check_int("seed", self.seed, minimum=0)
        check_float("ema_decay", self.ema_decay, minimum=0.0, maximum=0.99999)
        check_int("log_every", self.log_every, minimum=1)
        check_int("checkpoint_every", self.checkpoint_every, minimum=0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class NonFiniteLossError(FloatingPointError):
    """Training produced NaN or Inf; the last good checkpoint is kept."""


class Trainer:
    """Runs a family's phases for `config.steps` steps.

    Args:
        family: the networks, optimisers and phase losses (see `train.family`).
        source: `source(step) -> batch`, a pure function of the step (see `train.batches`).
        config: loop settings.
        run_dir: where checkpoints go; None keeps everything in memory (notebooks).
        config_payload: what else to store in each checkpoint (recipe name and settings),
            so `mmgan sample RUN` can rebuild the family.
    """

    def __init__(self, family: GANFamily, source: BatchSource, config: TrainConfig,
                 run_dir: str | Path | None = None,
                 config_payload: dict[str, Any] | None = None) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.family = family.to(self.device)
        if config.channels_last:
            self.family.to(memory_format=torch.channels_last)
        if hasattr(source, "to"):
            source.to(self.device)  # small data sets live on the device: no copy per step
        self.source = source
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.config_payload = config_payload or {}
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.seconds = 0.0
        self._ddp = ddp.is_active()  # refreshed by each `fit`
        # Batches need moving unless the source already makes them here (CPU training).
        self._move_batches = self.device.type != "cpu" or config.channels_last
        self.amp_dtype = _amp_dtype(self.device) if config.amp else None
        use_scaler = self.amp_dtype == torch.float16
        self.scalers = {name: torch.amp.GradScaler(self.device.type, enabled=use_scaler)
                        for name in family.optimizers}
        self.ema = (AveragedModel(family.generator, multi_avg_fn=get_ema_multi_avg_fn(
            config.ema_decay), use_buffers=True) if config.ema_decay > 0 else None)
        if config.compile:
            compiled = family.compilable()
            for network in compiled.values():
                network.compile()
            eager = [name for name in family.networks()
                     if not any(part.split(".")[0] == name for part in compiled)]
            log.info("compiled %s; eager: %s", ", ".join(compiled) or "nothing",
                     ", ".join(eager) or "nothing")
        ddp.broadcast_parameters(self.family)

    # ------------------------------------------------------------------ the loop

    def fit(self, steps: int | None = None) -> list[dict[str, float]]:
        """Train until `steps` (default: config.steps) steps are done; return the history."""
        end = self.config.steps if steps is None else check_int("steps", steps, minimum=0)
        if ddp.world_size() > 1:
            # Each rank draws its own noise: seed from (seed, step, rank). Rank 0's RNG state
            # alone is checkpointed, so a resumed DDP run is reseeded here the same way.
            torch.manual_seed(self.config.seed * 1_000_003 + self.step * 1_009 + ddp.rank())
        window: list[tuple[int, dict[str, torch.Tensor]]] = []  # (step, logged) per phase run
        self._ddp = ddp.is_active()
        # `_run_phase` takes the plain path (no grad scaler, no DDP) on this flag
        self._plain_update = not (self._ddp or any(s.is_enabled() for s in self.scalers.values()))
        bar = tqdm(total=end, initial=self.step, desc="train", leave=False,
                   disable=not (self.config.progress and ddp.is_main_process()))
        started = time.perf_counter()
        while self.step < end:
            batch = self.source(self.step)
            if self._move_batches:
                batch = {k: self._to_device(v) for k, v in batch.items()}
            if self._ddp:
                ddp.broadcast_buffers(self.family)
            for phase in self.family.phases:
                for _ in range(phase.repeats):
                    window.append((self.step + 1, self._run_phase(phase, batch)))
            for scheduler in self.family.schedulers.values():
                scheduler.step()
            if self.ema is not None:
                self.ema.update_parameters(self.family.generator)
            self.step += 1
            bar.update(1)
            due_checkpoint = bool(self.config.checkpoint_every) and (
                self.step % self.config.checkpoint_every == 0)
            if due_checkpoint or self.step % self.config.log_every == 0 or self.step == end:
                self._flush(window)  # NaN check first: never checkpoint a broken model
                window = []
                bar.set_postfix({k: f"{v:.3g}" for k, v in self.history[-1].items() if k != "step"})
            if due_checkpoint:
                self.save()
        bar.close()
        self.seconds += time.perf_counter() - started
        return self.history

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.to(self.device, non_blocking=True)
        if self.config.channels_last and tensor.dim() == 4:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def _run_phase(self, phase, batch) -> dict[str, torch.Tensor]:
        """One update of one phase; returns what it logs (the loss and the phase's extras)."""
        optimizer = self.family.optimizers[phase.optimizer]
        optimizer.zero_grad(set_to_none=True)
        # The plain path (float32, one process) is spelled out: on a toy model's ~4 ms
        # step, a no-op autocast context and the scaler's and DDP's no-op calls are worth
        # skipping (benchmarks/trainer_overhead.py).
        if self.amp_dtype is None:
            loss, extras = phase.loss(batch)
        else:
            with torch.autocast(self.device.type, dtype=self.amp_dtype):
                loss, extras = phase.loss(batch)
        if self._plain_update:
            loss.backward()
            optimizer.step()
        else:
            scaler = self.scalers[phase.optimizer]
            scaler.scale(loss).backward()
            if self._ddp:
                ddp.average_gradients(
                    [p for group in optimizer.param_groups for p in group["params"]])
            scaler.step(optimizer)
            scaler.update()
        logged = {phase.name + "_loss": loss.detach()}
        for name, value in extras.items():
            logged[name] = value.detach()
        return logged

    def _flush(self, window: list[tuple[int, dict[str, torch.Tensor]]]) -> None:
        """Average each logged tensor over the window (all its elements: a phase may log a
        loss or a batch of logits); stop on NaN/Inf, naming the step.

        Values stay on the device between flushes, so a GPU is not synchronised every step.
        """
        entry: dict[str, float] = {"step": float(self.step)}
        names = dict.fromkeys(name for _, logged in window for name in logged)
        for name in names:
            steps = [step for step, logged in window if name in logged]
            values = [logged[name] for _, logged in window if name in logged]
            if len({value.shape for value in values}) == 1:
                flat = torch.stack(values).float().cpu()  # one op, not one per value
            else:  # e.g. logits of a shorter last batch
                flat = torch.cat([value.reshape(-1) for value in values]).float().cpu()
            if not torch.isfinite(flat).all():
                first = int((~torch.isfinite(flat.reshape(-1))).nonzero()[0, 0])
                ends = torch.tensor([value.numel() for value in values]).cumsum(0)
                step = steps[int(torch.searchsorted(ends, first, right=True))]
                self._stop_on_nonfinite(name, step, float(flat.reshape(-1)[first]))
            entry[name] = float(flat.mean())
        self.history.append(entry)

    def _stop_on_nonfinite(self, name: str, step: int, value: float) -> None:
        where = "no checkpoint was written yet"
        if self.run_dir is not None and (self.run_dir / CHECKPOINT_NAME).exists():
            where = f"the last good checkpoint is kept at {self.run_dir / CHECKPOINT_NAME}"
        raise NonFiniteLossError(
            f"{name} became {value} at step {step}; training stopped and {where}. "
            "Try a lower --lr, a penalty (R1) or --amp off."
        )

    # ------------------------------------------------------------------ sampling

    def sampling_generator(self) -> nn.Module:
        """The generator to sample from: the EMA copy when EMA is on."""
        return self.ema.module if self.ema is not None else self.family.generator

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "train_config": self.config.to_dict(),
            "family": self.family.state_dict(),
            "family_extra": self.family.extra_state(),
            "optimizers": {k: o.state_dict() for k, o in self.family.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.family.schedulers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "history": self.history,
            "seconds": self.seconds,
            "rng": rng_state(),
            **self.config_payload,
        }

    def save(self) -> Path | None:
        """Write the checkpoint atomically (rank 0 only); return its path."""
        if self.run_dir is None or not ddp.is_main_process():
            return None
        return save_checkpoint(self.run_dir / CHECKPOINT_NAME, self.state())

    def load_state(self, payload: dict[str, Any]) -> None:
        """Restore a state written by `state()` so training continues exactly."""
        self.family.load_state_dict(payload["family"])
        self.family.load_extra_state(payload.get("family_extra", {}))
        for name, opt in self.family.optimizers.items():
            opt.load_state_dict(payload["optimizers"][name])
        for name, scheduler in self.family.schedulers.items():
            scheduler.load_state_dict(payload.get("schedulers", {})[name])
        for name, scaler in self.scalers.items():
            scaler.load_state_dict(payload["scalers"][name])
        if self.ema is not None and payload.get("ema") is not None:
            self.ema.load_state_dict(payload["ema"])
        self.step = int(payload["step"])
        self.history = list(payload["history"])
        self.seconds = float(payload.get("seconds", 0.0))
        set_rng_state(payload["rng"])

    def resume(self, path: str | Path) -> None:
        self.load_state(load_checkpoint(path, name="resume"))


def _amp_dtype(device: torch.device) -> torch.dtype:
    """bf16 where the device has it (no gradient scaler needed), else fp16."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def with_overrides(config: TrainConfig, **overrides: Any) -> TrainConfig:
    """A copy of `config` with the non-None overrides applied (CLI flags)."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


def throughput(trainer: Trainer) -> dict[str, float]:
    """Steps/s and samples/s of the last `fit` calls, and CUDA peak memory where it applies."""
    seconds = trainer.seconds
    steps_per_s = trainer.step / seconds if seconds > 0 else math.nan
    report = {"steps_per_second": steps_per_s,
              "samples_per_second": steps_per_s * trainer.config.batch_size * ddp.world_size()}
    if trainer.device.type == "cuda":
        report["peak_memory_mb"] = torch.cuda.max_memory_allocated(trainer.device) / 2**20
    return report

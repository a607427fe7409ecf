"""A run: train a recipe into a run folder, or load one back. What `mmgan train` calls.

Lesson: 00 Setup and tour (the `mmgan` command), 10 Scaling up (distributed runs).

A run folder holds config.json, checkpoint.pt, history.json, metrics.json,
samples.png and curves.png. Every file is written atomically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mmgan_ref.train import distributed as ddp
from mmgan_ref.train.checkpoint import load_checkpoint
from mmgan_ref.train.recipes import Recipe, get_recipe
from mmgan_ref.train.trainer import TrainConfig, Trainer, throughput, with_overrides
from mmgan_ref.utils import atomic_savefig, atomic_write_json, ensure_writable_dir

log = logging.getLogger(__name__)


@dataclass
class Run:
    """A trained (or resumed) recipe: its trainer, its folder and its metrics."""

    recipe: Recipe
    trainer: Trainer
    run_dir: Path | None
    metrics: dict[str, Any]

    @property
    def family(self):
        return self.trainer.family

    @property
    def generator(self) -> torch.nn.Module:
        return self.trainer.sampling_generator()


def make_trainer(recipe_name: str, run_dir: str | Path | None = None,
                 rank: int = 0, world_size: int = 1, **overrides: Any) -> tuple[Recipe, Trainer]:
    """Build the recipe's family, batch source and trainer, with CLI-style overrides."""
    recipe = get_recipe(recipe_name)
    config = with_overrides(recipe.defaults, **overrides)
    family, source = recipe.build(config, rank=rank, world_size=world_size)
    payload = {"recipe": recipe.name, "world_size": world_size}
    trainer = Trainer(family, source, config, run_dir=run_dir, config_payload=payload)
    return recipe, trainer


def train(recipe_name: str, out: str | Path | None = None, resume: str | Path | None = None,
          evaluate: bool = True, rank: int = 0, world_size: int = 1,
          **overrides: Any) -> Run:
    """Train `recipe_name` (optionally resuming) and write the run folder `out`.

    Args:
        recipe_name: one of `recipes.recipe_names()`.
        out: the run folder; None keeps the run in memory (notebooks, tests).
        resume: a run folder or checkpoint to continue from; its recipe and settings are
            used, and `steps` may be raised to train longer.
        evaluate: compute the recipe's metrics and figures at the end.
        overrides: TrainConfig fields (steps, batch_size, lr, seed, device, amp, ...).
    """
    run_dir = ensure_writable_dir("out", out) if out is not None else None
    if resume is not None:
        payload = load_checkpoint(resume, name="resume")
        if payload["recipe"] != recipe_name:
            raise ValueError(f"resume: the checkpoint is of recipe {payload['recipe']!r}, "
                             f"not {recipe_name!r}; train {payload['recipe']!r} to resume it")
        saved = dict(payload["train_config"])
        for key, value in overrides.items():
            if key == "extra" and value is not None:  # merged: e.g. --data alone
                saved["extra"] = {**saved.get("extra", {}), **value}
            elif value is not None:
                saved[key] = value
        overrides = saved
    recipe, trainer = make_trainer(recipe_name, run_dir, rank, world_size, **overrides)
    if resume is not None:
        trainer.load_state(payload)
        log.info("resumed %s at step %d", recipe_name, trainer.step)
    if run_dir is not None and ddp.is_main_process():
        atomic_write_json(run_dir / "config.json", {
            "recipe": recipe.name, "description": recipe.description,
            "train": trainer.config.to_dict(), "options": recipe.options,
            "world_size": world_size, "device": str(trainer.device)})
    trainer.fit()
    trainer.save()
    metrics: dict[str, Any] = {}
    if evaluate and ddp.is_main_process():
        metrics = finish(recipe, trainer, run_dir)
    return Run(recipe, trainer, run_dir, metrics)


def finish(recipe: Recipe, trainer: Trainer, run_dir: Path | None) -> dict[str, Any]:
    """Evaluate, and write metrics.json, history.json and the figures into the run folder."""
    family, generator = trainer.family, trainer.sampling_generator()
    family.eval()
    metrics = recipe.evaluate(family, generator, seed=trainer.config.seed)
    metrics["train_seconds"] = round(trainer.seconds, 2)
    metrics["steps"] = trainer.step
    metrics["throughput"] = {k: round(v, 2) for k, v in throughput(trainer).items()}
    if run_dir is not None:
        atomic_write_json(run_dir / "metrics.json", metrics)
        atomic_write_json(run_dir / "history.json", trainer.history)
        recipe.save_figures(family, generator, run_dir, seed=trainer.config.seed)
        _save_curves(trainer, recipe.name, run_dir / "curves.png")
    family.train()
    return metrics


def _save_curves(trainer: Trainer, name: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    from mmgan_ref.viz import plot_history

    fig = plot_history(trainer.history, title=f"{name}: training curves")
    atomic_savefig(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def load_run(path: str | Path, device: str = "cpu") -> Run:
    """Load a run folder (or checkpoint) for sampling or evaluation."""
    payload = load_checkpoint(path, name="run")
    config = dict(payload["train_config"])
    config.update(device=device, compile=False, progress=False)
    # A recipe whose networks depend on its data (a vocabulary read from a caption folder)
    # rebuilds them from what the checkpoint saved, so a run samples without its data.
    config["extra"] = {**config.get("extra", {}),
                       "checkpoint_extra": payload.get("family_extra", {})}
    recipe, trainer = make_trainer(payload["recipe"], None, **config)
    trainer.load_state(payload)
    trainer.family.eval()
    run_dir = Path(path) if Path(path).is_dir() else Path(path).parent
    return Run(recipe, trainer, run_dir, {})


__all__ = ["Run", "TrainConfig", "finish", "load_run", "make_trainer", "train"]

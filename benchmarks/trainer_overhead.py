"""Trainer overhead: steps/s through `Trainer` vs a minimal hand-written loop (target >= 0.95).

Usage (from the repository root):
    python benchmarks/trainer_overhead.py [--recipe grid] [--steps 50] [--repeats 120]

Both loops train the same networks (the recipe's, taking turns on them), with the same
losses (`mmgan_ref.objectives`: the recipe's GAN loss plus lazy R1), the same work per step
(one G pass shared by the D and G steps, one D pass over real and fake, D frozen in the G
step), the same Adam settings, the same lr schedule and the same batch size. They run in
one process, one thread, in pairs: each repeat times `--steps` steps of the trainer and of
the hand loop back to back, in alternating order, so a slow spell of a busy shared machine
hits both. The figure is the ratio of their steps/s over all pairs (CPU time,
`time.process_time`), with a bootstrap 90 % interval over the pairs; the median of the
pairs' own ratios and the wall-time ratio are printed beside it. On this 2-core VM the
figure moves by a few per cent from one run to the next (the machine's speed drifts).

A cross-check that no drift disturbs: count the instructions of N steps of each loop with
valgrind (`valgrind --tool=cachegrind --cache-sim=no python SCRIPT`, once with 100 and
once with 300 steps, so the start-up cancels; ~5 min a run). On 2026-11-28 (commit
21fbecd) the trainer ran 10.24 M instructions a grid step against the hand loop's 10.06 M
(ratio 0.983; 0.973 the commit before). `cg_diff` of the two runs puts the difference in
Python's interpreter loop, its dict lookups, and malloc/free; counting Python calls with
`sys.setprofile` names them: 771 a step in the trainer against 738 in the hand loop (the
family's small methods, the log's `detach`es, `nn.Module.__getattr__` for its networks).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmgan_ref import objectives  # noqa: E402
from mmgan_ref.train.families import AdversarialGAN  # noqa: E402
from mmgan_ref.train.family import frozen  # noqa: E402
from mmgan_ref.train.run import make_trainer  # noqa: E402

TARGET = 0.95


class HandLoop:
    """The textbook loop (pytorch/examples' DCGAN): D step with (lazy) R1, then G step
    through the same generated batch, doing the same work as `AdversarialGAN`."""

    def __init__(self, family: AdversarialGAN, source, batch_size: int) -> None:
        self.g, self.d = family.generator, family.discriminator
        self.opt_d, self.opt_g = family.optimizers["d"], family.optimizers["g"]
        self.schedulers = list(family.schedulers.values())
        self.kind, self.gamma, self.z_dim = family.loss_kind, family.r1_gamma, family.z_dim
        self.r1_every, self.r1_until = family.r1_every, family.r1_until
        self.data_key, self.cond_key = family.data_key, family.cond_key
        self.source, self.batch_size, self.step = source, batch_size, 0

    def run(self, steps: int) -> None:
        for _ in range(steps):
            batch = self.source(self.step)
            real, cond = batch[self.data_key], batch.get(self.cond_key) if self.cond_key else None
            b = real.shape[0]
            # D step on one G pass, kept for the G step (as DCGAN does); lazy R1 as the family
            self.opt_d.zero_grad(set_to_none=True)
            fake = self.g(torch.randn(b, self.z_dim), cond)
            with_r1 = (self.gamma > 0 and self.step % self.r1_every == 0
                       and (self.r1_until is None or self.step < self.r1_until))
            real = real.requires_grad_(with_r1)
            both = None if cond is None else torch.cat([cond, cond])
            real_logits, fake_logits = self.d(torch.cat([real, fake.detach()]), both).split(b)
            loss = objectives.d_loss(real_logits, fake_logits, self.kind)
            if with_r1:
                r1 = objectives.r1_penalty(real_logits, real)
                loss = loss + 0.5 * self.gamma * self.r1_every * r1
            loss.backward()
            self.opt_d.step()
            self.opt_g.zero_grad(set_to_none=True)
            with frozen(self.d):
                logits = self.d(fake, cond)
            objectives.g_loss(logits, self.kind).backward()
            self.opt_g.step()
            for scheduler in self.schedulers:
                scheduler.step()
            self.step += 1


def _seconds(fn, steps: int) -> tuple[float, float]:
    """Wall and CPU seconds of `fn(steps)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(steps)
    return time.perf_counter() - wall, time.process_time() - cpu


def _ratio(trainer: list[float], hand: list[float]) -> float:
    """Trainer steps/s over hand-loop steps/s: equal steps, so hand time over trainer time."""
    return sum(hand) / sum(trainer)


def _bootstrap(trainer: list[float], hand: list[float], draws: int = 1000
               ) -> tuple[float, float]:
    """A 90 % interval for `_ratio`, resampling whole pairs."""
    rng = random.Random(0)
    n = len(trainer)
    ratios = []
    for _ in range(draws):
        pairs = [rng.randrange(n) for _ in range(n)]
        ratios.append(_ratio([trainer[i] for i in pairs], [hand[i] for i in pairs]))
    ratios.sort()
    return ratios[int(0.05 * draws)], ratios[int(0.95 * draws) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="grid", help="an AdversarialGAN recipe (default: grid)")
    parser.add_argument("--steps", type=int, default=50,
                        help="steps per timed chunk (default: 50, the trainer's log interval)")
    parser.add_argument("--repeats", type=int, default=120, help="timed pairs")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    total = args.steps * (args.repeats + 2)
    common = {"steps": total, "progress": False, "device": "cpu", "log_every": 50,
              "batch_size": args.batch_size}
    _, trainer = make_trainer(args.recipe, None, **common)
    if not isinstance(trainer.family, AdversarialGAN):
        raise SystemExit(f"--recipe {args.recipe!r} is not an AdversarialGAN recipe")
    # The hand loop trains the trainer's own networks, optimisers and data: the two loops
    # take turns on the same tensors, so neither gains from where its memory happens to
    # lie (two copies of one model differ by ~1-2 % in speed on this VM).
    hand = HandLoop(trainer.family, trainer.source, trainer.config.batch_size)
    trainer.fit(2 * args.steps)  # warm-up, both
    hand.run(2 * args.steps)
    loops = {"trainer": lambda n: trainer.fit(trainer.step + n), "hand": hand.run}
    times: dict[str, list[tuple[float, float]]] = {"trainer": [], "hand": []}
    for repeat in range(args.repeats):
        # Pairs in alternating order (trainer first, then hand first): a slow spell on a
        # shared machine hits both members of a pair, and neither always runs second.
        order = ("trainer", "hand") if repeat % 2 == 0 else ("hand", "trainer")
        for name in order:
            times[name].append(_seconds(loops[name], args.steps))
    cpu = {name: [t[1] for t in rows] for name, rows in times.items()}
    wall = {name: [t[0] for t in rows] for name, rows in times.items()}
    ratio = _ratio(cpu["trainer"], cpu["hand"])
    low, high = _bootstrap(cpu["trainer"], cpu["hand"])
    median = statistics.median(h / t for t, h in zip(cpu["trainer"], cpu["hand"], strict=True))
    print(f"recipe {args.recipe}, batch {trainer.config.batch_size}, {args.repeats} pairs x "
          f"{args.steps} steps each, 1 thread, load average {os.getloadavg()[0]:.1f}")
    steps = args.steps * args.repeats
    for name in ("trainer", "hand"):
        print(f"  {name:8s} {steps / sum(cpu[name]):7.1f} steps/s (CPU time)  "
              f"{steps / sum(wall[name]):7.1f} (wall)")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"ratio trainer / hand loop: {ratio:.3f} (CPU time; 90 % interval {low:.3f}-{high:.3f}; "
          f"median of the pairs {median:.3f}; wall {_ratio(wall['trainer'], wall['hand']):.3f}); "
          f"target >= {TARGET}: {verdict}")


if __name__ == "__main__":
    main()

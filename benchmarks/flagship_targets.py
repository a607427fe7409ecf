"""Issue 3's targets for the flagship: train the default `shapes` recipe, check every target.

Lesson: 05 Text-to-image GAN (the figures its closing note quotes).

Runs `mmgan train` (the default recipe, nothing overridden unless asked) in a child
process, times it (wall clock and the child's CPU time), reads the run folder's
metrics.json and prints every target beside the measured figure with PASS or FAIL.
The load average is printed too: on a shared machine the wall clock is not the
unloaded time, so CPU seconds / 2 cores is shown as a second estimate.

    python benchmarks/flagship_targets.py [--out runs/flagship-bench] [-- extra mmgan args]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TIME_LIMIT_S = 300.0
TARGETS = (  # (label, path in metrics.json, comparison, threshold)
    ("held-in captions: all 4 attributes right", ("attribute_accuracy", "held_in", "all"),
     ">=", 0.90),
    ("held-out combinations: all 4 right", ("attribute_accuracy", "held_out", "all"),
     ">=", 0.70),
    ("sound -> image: all 4 right", ("attribute_accuracy", "sound_to_image", "all"),
     ">=", 0.85),
    ("retrieval text->image R@1 (held-in)", ("retrieval", "text->image", "R@1"), ">=", 0.90),
)
DIVERSITY_BAND = (0.8, 1.2)  # within 20 % of real images' diversity


def _lookup(metrics: dict, path: tuple[str, ...]) -> float:
    for key in path:
        metrics = metrics[key]
    return float(metrics)


def _row(label: str, target: str, value: str, ok: bool) -> str:
    return f"{label:44s} {target:>14s} {value:>10s}  {'PASS' if ok else 'FAIL'}"


def run_training(out: Path, extra: list[str]) -> tuple[float, float]:
    """Run `mmgan train` into `out`; return (wall seconds, child CPU seconds)."""
    command = [sys.executable, "-m", "mmgan_ref.cli", "train", "--out", str(out),
               "--no-progress", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def report(metrics: dict, wall: float, cpu: float, load: tuple[float, float]) -> bool:
    """Print the table; return True when every target passes."""
    lines, passed = [], []
    ok = wall <= TIME_LIMIT_S
    passed.append(ok)
    lines.append(_row("mmgan train (default recipe), wall clock", f"<= {TIME_LIMIT_S:.0f} s",
                      f"{wall:.0f} s", ok))
    lines.append(f"{'  (child CPU time, and CPU / 2 cores)':44s} {'':>14s} {cpu:>8.0f} s"
                 f"  / 2 = {cpu / 2:.0f} s")
    for label, path, op, threshold in TARGETS:
        value = _lookup(metrics, path)
        ok = value >= threshold
        passed.append(ok)
        lines.append(_row(label, f"{op} {threshold:.2f}", f"{value:.3f}", ok))
    chance = metrics["retrieval"]["chance"]["R@1"]
    lines.append(f"{'  (chance R@1 for these scenes)':44s} {'':>14s} {chance:>10.3f}")
    ratio = metrics["diversity"]["ratio"]
    ok = DIVERSITY_BAND[0] <= ratio <= DIVERSITY_BAND[1]
    passed.append(ok)
    lines.append(_row("diversity, generated / real", f"{DIVERSITY_BAND[0]}-{DIVERSITY_BAND[1]}",
                      f"{ratio:.3f}", ok))
    print(f"load average at start / end: {load[0]:.2f} / {load[1]:.2f} "
          f"({os.cpu_count()} CPUs)")
    print(_row("target", "wanted", "measured", True).replace("PASS", "").rstrip())
    print("\n".join(lines))
    print("retrieval, all six directions (R@1 / R@5 / mAP):")
    for direction, values in metrics["retrieval"].items():
        if "->" in direction:
            print(f"  {direction:14s} {values['R@1']:.3f} / {values['R@5']:.3f} / "
                  f"{values['mAP']:.3f}")
    for condition, values in metrics["attribute_accuracy"].items():
        detail = ", ".join(f"{k} {v:.3f}" for k, v in values.items())
        print(f"  attributes, {condition:15s} {detail}")
    return all(passed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/flagship-bench", help="run folder to write")
    parser.add_argument("extra", nargs="*", help="extra `mmgan train` arguments (after --)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    load_start = os.getloadavg()[0]
    wall, cpu = run_training(out, args.extra)
    metrics = json.loads((out / "metrics.json").read_text())
    return 0 if report(metrics, wall, cpu, (load_start, os.getloadavg()[0])) else 1


if __name__ == "__main__":
    sys.exit(main())

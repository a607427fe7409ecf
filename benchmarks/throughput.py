"""Training throughput of one recipe: eager fp32 vs AMP vs AMP + compile, side by side.

Lesson: 10 Scaling up. Prints samples/s, the model FLOPs of one training step (counted
by torch.utils.flop_counter on the eager model), the achieved FLOP/s and that figure as
a fraction of the device's peak, and writes the table as JSON.

    python benchmarks/throughput.py --recipe shapes-64 --device cuda --steps 50
    python benchmarks/throughput.py --recipe digits-cgan --device cpu --steps 20   # smoke test
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from mmgan_ref.train.run import make_trainer
from mmgan_ref.utils import atomic_write_json

# Dense peak FLOP/s from the vendors' data sheets (SXM parts; no sparsity), keyed by the
# `amp_dtype` a row reports. Eager fp32 is held to the plain fp32 peak, although cuDNN
# runs its convolutions in TF32 by default (torch.backends.cudnn.allow_tf32).
PEAK_FLOPS = {
    "H100": {"fp32": 67e12, "bfloat16": 989e12, "float16": 989e12},
    "H200": {"fp32": 67e12, "bfloat16": 989e12, "float16": 989e12},
    "A100": {"fp32": 19.5e12, "bfloat16": 312e12, "float16": 312e12},
}
MODES = {
    "eager fp32": dict(amp=False, compile=False, channels_last=False),
    "amp": dict(amp=True, compile=False, channels_last=True),
    "amp + compile": dict(amp=True, compile=True, channels_last=True),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def skip_warm_up_stage(trainer) -> None:
    """Time the steps that make up a run: count a staged family's E warm-up as done.

    The flagship trains E alone for its first `e_steps` steps (a tenth of a shapes-64 run),
    then D and G with E frozen. A short benchmark would otherwise time a mix of the two.
    """
    family = trainer.family
    if getattr(family, "e_steps", 0):
        family.e_updates = family.e_steps


def step_flops(recipe: str, device: str, batch_size: int | None) -> int:
    """FLOPs of one training step (every phase, forward and backward), eager fp32."""
    _, trainer = make_trainer(recipe, steps=10, device=device, progress=False,
                              batch_size=batch_size)
    skip_warm_up_stage(trainer)
    trainer.fit(1)  # warm-up: lazy initialisation outside the count
    activities = [ProfilerActivity.CPU] + (
        [ProfilerActivity.CUDA] if trainer.device.type == "cuda" else [])
    # The profiler's FLOP estimates (matmuls and convolutions, forward and backward) also
    # work through R1's double backward, where torch.utils.flop_counter does not.
    with profile(activities=activities, with_flops=True) as prof:
        trainer.fit(3)
    return sum(event.flops for event in prof.key_averages() if event.flops)


def measure(recipe: str, device: str, steps: int, warmup: int, batch_size: int | None,
            **mode) -> dict[str, float | str]:
    _, trainer = make_trainer(recipe, steps=warmup + steps, device=device, progress=False,
                              batch_size=batch_size, log_every=max(1, steps), **mode)
    skip_warm_up_stage(trainer)
    trainer.fit(warmup)  # compile, cuDNN autotuning, allocator warm-up
    if trainer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(trainer.device)
    _sync(trainer.device)
    start = time.perf_counter()
    trainer.fit(warmup + steps)
    _sync(trainer.device)
    seconds = time.perf_counter() - start
    result = {"steps_per_s": steps / seconds,
              "samples_per_s": steps * trainer.config.batch_size / seconds,
              "batch_size": trainer.config.batch_size,
              "amp_dtype": str(trainer.amp_dtype).replace("torch.", "") if trainer.amp_dtype
              else "fp32"}
    if trainer.device.type == "cuda":
        result["peak_memory_mb"] = torch.cuda.max_memory_allocated(trainer.device) / 2**20
    result["peak_flops"] = peak_for(trainer.device, result["amp_dtype"])
    return result


def peak_for(device: torch.device, dtype: str) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((p.get(dtype) for key, p in PEAK_FLOPS.items() if key in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="shapes-64", help="recipe to measure")
    parser.add_argument("--device", default="auto", help="cuda, cpu or auto")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per mode")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES),
                        help="which modes to run")
    parser.add_argument("--json", help="write the table here as JSON")
    args = parser.parse_args()

    flops = step_flops(args.recipe, args.device, args.batch_size) / 2  # fit(3) counted 2 steps
    rows, failed = {}, {}
    for name in args.modes:
        try:
            row = measure(args.recipe, args.device, args.steps, args.warmup, args.batch_size,
                          **MODES[name])
        except Exception as error:  # one mode failing (say, compile) still reports the rest
            failed[name] = f"{type(error).__name__}: {error}"
            print(f"{name}: failed: {failed[name]}", flush=True)
            continue
        row["tflops_per_s"] = flops * row["steps_per_s"] / 1e12
        peak = row.pop("peak_flops")
        row["fraction_of_peak"] = row["tflops_per_s"] * 1e12 / peak if peak else None
        rows[name] = row
    if not rows:
        raise SystemExit("every mode failed: " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    device = torch.device("cuda") if args.device in ("cuda", "auto") and \
        torch.cuda.is_available() else torch.device("cpu")
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"recipe {args.recipe} on {device_name}, torch {torch.__version__}, "
          f"{time.strftime('%Y-%m-%d')}; model FLOPs per training step: {flops / 1e9:.2f} GFLOP")
    print(f"{'mode':16s} {'samples/s':>10s} {'x eager':>8s} {'TFLOP/s':>8s} {'% peak':>7s} "
          f"{'peak MB':>8s}")
    base = next(iter(rows.values()))["samples_per_s"]
    for name, row in rows.items():
        fraction = f"{100 * row['fraction_of_peak']:.1f}" if row["fraction_of_peak"] else "-"
        memory = f"{row['peak_memory_mb']:.0f}" if "peak_memory_mb" in row else "-"
        print(f"{name:16s} {row['samples_per_s']:10.0f} {row['samples_per_s'] / base:8.2f} "
              f"{row['tflops_per_s']:8.3f} {fraction:>7s} {memory:>8s}")
    if args.json:
        atomic_write_json(Path(args.json), {"recipe": args.recipe, "device": device_name,
                                            "torch": torch.__version__,
                                            "date": time.strftime("%Y-%m-%d"),
                                            "gflop_per_step": flops / 1e9, "modes": rows,
                                            "failed": failed})
        print(json.dumps({"written": args.json}))


if __name__ == "__main__":
    main()

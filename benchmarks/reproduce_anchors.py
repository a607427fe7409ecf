"""Reproduce the course's results page: our figures beside the published anchors.

Lesson: 08 Evaluating GANs honestly (the results page, docs/results.md).

    python benchmarks/reproduce_anchors.py [--seeds 3] [--jobs 2] [--out FILE] [--fast]

1. toy 2D: the `grid` and `ring` recipes, trained with their defaults over --seeds seeds,
   2,500 samples each (PacGAN/VEEGAN protocol), beside the published rows;
2. digits coherence: the `digits-cgan` recipe over --cgan-seeds seeds: coherence with the
   judge's ceiling, diversity, Fréchet/KID with the real-vs-real floor, precision/recall;
3. anomaly detection: the digits protocol (one held-out digit, ten rounds, split seed 0)
   with PCA-16 (the anchor's baseline), raw-pixel 1-NN distance, and the course's
   BiGAN-based scores (``metrics.anomaly_bigan``; its settings were chosen on split seed 1).

Jobs run in --jobs processes of one thread each. The page is Markdown on stdout (and in
--out); --fast shortens every training run to check the script, not to report.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(clock: tuple[float, float]) -> dict[str, float]:
    """Wall seconds and CPU seconds since `clock` (one thread: CPU ~ wall on an idle core)."""
    return {"seconds": time.perf_counter() - clock[0], "cpu": time.process_time() - clock[1]}


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def toy_job(recipe: str, seed: int, steps: int | None) -> dict[str, Any]:
    from mmgan_ref.metrics.evaluate import evaluate_run
    from mmgan_ref.train.run import train

    _one_thread()
    clock = _clock()
    run = train(recipe, out=None, evaluate=False, seed=seed, steps=steps, progress=False,
                device="cpu")
    result = evaluate_run(run, metrics=["coverage"], n=2500, name=f"{recipe} seed {seed}")
    return {**result, **_elapsed(clock)}


def cgan_job(seed: int, steps: int | None) -> dict[str, Any]:
    from mmgan_ref.metrics.evaluate import evaluate_run
    from mmgan_ref.train.run import train

    _one_thread()
    clock = _clock()
    run = train("digits-cgan", out=None, evaluate=False, seed=seed, steps=steps,
                progress=False, device="cpu")
    result = evaluate_run(run, metrics=["coherence", "frechet", "prd"],
                          name=f"digits-cgan seed {seed}")
    return {**result, **_elapsed(clock)}


def anomaly_job(digit: int, split_seed: int, steps: int | None) -> dict[str, Any]:
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    from mmgan_ref.metrics.anomaly import anomaly_scores_auc, anomaly_splits
    from mmgan_ref.metrics.anomaly_bigan import SCORES, AnomalyBiGANConfig, fit_bigan_detector

    _one_thread()
    clock = _clock()
    train, test, is_anomaly = anomaly_splits(digit, split_seed)
    flat_train, flat_test = train.flatten(1).numpy(), test.flatten(1).numpy()
    pca = PCA(n_components=16, random_state=split_seed).fit(flat_train)
    rebuilt = pca.inverse_transform(pca.transform(flat_test))
    scores = {"PCA-16 reconstruction": ((flat_test - rebuilt) ** 2).sum(1),
              "raw-pixel 1-NN distance":
                  NearestNeighbors(n_neighbors=1).fit(flat_train).kneighbors(flat_test)[0][:, 0]}
    config = AnomalyBiGANConfig() if steps is None else AnomalyBiGANConfig(steps=steps)
    detector = fit_bigan_detector(train, config)
    for score in SCORES:
        scores[f"BiGAN {score}"] = detector.scores(test, score)
    return {"digit": digit, **_elapsed(clock),
            "auc": {name: anomaly_scores_auc(s, is_anomaly) for name, s in scores.items()}}


# ----------------------------------------------------------------------------- the page


def toy_table(mixture: str, results: list[dict[str, Any]]) -> str:
    from mmgan_ref.metrics.coverage import PUBLISHED_GRID, PUBLISHED_RING
    from mmgan_ref.metrics.evaluate import pool_results

    pooled = pool_results(results, f"ours: `{mixture}` recipe")["figures"]
    modes, hq, kl = (pooled[f"coverage.{k}"] for k in ("modes", "high_quality", "reverse_kl"))
    k = 25 if mixture == "grid" else 8
    lines = [f"| model ({mixture}, {len(results)} seeds) | modes (of {k}) | % high quality "
             "| reverse KL |", "|---|---|---|---|",
             f"| **ours: `{mixture}` recipe** | **{modes.mean:.1f} ± {modes.std:.1f}** | "
             f"**{100 * hq.mean:.1f} ± {100 * hq.std:.1f}** | **{kl.mean:.3f} ± {kl.std:.3f}** |"]
    for name, m, h, r in (PUBLISHED_GRID if mixture == "grid" else PUBLISHED_RING):
        lines.append(f"| {name} | {m:g} | {h:g} | {'—' if r is None else f'{r:g}'} |")
    lines.append(f"| real data (same protocol, ceiling) | {modes.ceiling:.1f} | "
                 f"{100 * hq.ceiling:.1f} | {kl.floor:.3f} |")
    per_seed = ", ".join(f"{int(m)}/{100 * h:.1f}" for m, h in zip(modes.values, hq.values,
                                                                    strict=True))
    lines.append(f"\nPer seed (modes/% HQ): {per_seed}.")
    return "\n".join(lines)


def anomaly_table(rounds: list[dict[str, Any]]) -> str:
    rounds = sorted(rounds, key=lambda r: r["digit"])
    names = list(rounds[0]["auc"])
    header = "| detector | " + " | ".join(str(r["digit"]) for r in rounds) + \
        " | mean AUROC | mean AUPRC |"
    lines = [header, "|---" * (len(rounds) + 3) + "|",
             "| PCA-16, published anchor | " + " | ".join("—" for _ in rounds) +
             " | 0.847 | 0.756 |"]
    for name in names:
        aurocs = [r["auc"][name]["auroc"] for r in rounds]
        auprcs = [r["auc"][name]["auprc"] for r in rounds]
        label = f"**{name}** (the course's score)" if name == "BiGAN combined" else name
        lines.append(f"| {label} | " + " | ".join(f"{a:.3f}" for a in aurocs) +
                     f" | {np.mean(aurocs):.3f} | {np.mean(auprcs):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="training seeds of grid and ring")
    parser.add_argument("--cgan-seeds", type=int, default=2, help="training seeds of digits-cgan")
    parser.add_argument("--anomaly-seed", type=int, default=0,
                        help="split seed of the anomaly protocol (0 reports; 1 chose settings)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", help="also write the page to this Markdown file")
    parser.add_argument("--fast", action="store_true", help="tiny runs: checks the script only")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    toy_steps, cgan_steps, bigan_steps = (60, 60, 20) if args.fast else (None, None, None)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_one_thread) as pool:
        # the longest jobs first, so the two workers finish together
        cgan = [pool.submit(cgan_job, s, cgan_steps) for s in range(args.cgan_seeds)]
        toys = {m: [pool.submit(toy_job, m, s, toy_steps) for s in range(args.seeds)]
                for m in ("grid", "ring")}
        anomaly = [pool.submit(anomaly_job, d, args.anomaly_seed, bigan_steps)
                   for d in range(10)]
        toys = {m: [f.result() for f in futures] for m, futures in toys.items()}
        cgan = [f.result() for f in cgan]
        anomaly = [f.result() for f in anomaly]
    wall = time.perf_counter() - started
    page = render(args, toys, cgan, anomaly, wall)
    print(page)
    if args.out:
        from mmgan_ref.utils import atomic_write_text

        atomic_write_text(args.out, page + "\n")
    return 0


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "an unnamed CPU"


def render(args: argparse.Namespace, toys: dict[str, list[dict[str, Any]]],
           cgan: list[dict[str, Any]], anomaly: list[dict[str, Any]], wall: float) -> str:
    import sklearn
    import torch

    from mmgan_ref.metrics.evaluate import format_table, pool_results

    jobs = [r for rs in (*toys.values(), cgan, anomaly) for r in rs]
    cpu_seconds = sum(r["cpu"] for r in jobs)
    longest = max(r["cpu"] for r in jobs)
    command = "python benchmarks/reproduce_anchors.py " + " ".join(sys.argv[1:])
    pooled_cgan = pool_results(cgan, f"ours: digits-cgan ({len(cgan)} seeds)")
    return "\n\n".join([
        f"Generated {datetime.date.today().isoformat()} by `{command.strip()}` in "
        f"{wall / 60:.1f} min wall with {args.jobs} workers on {cpu_name()} "
        f"({platform.machine()}, {torch.backends.cpu.get_cpu_capability()} kernels), "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end), torch "
        f"{torch.__version__}, scikit-learn {sklearn.__version__}. Training figures repeat bit "
        f"for bit only on a CPU whose kernels torch picks the same way (the vector "
        f"instructions named). The single-threaded jobs used {cpu_seconds / 60:.1f} min of CPU "
        f"(longest job {longest / 60:.1f} min): on {args.jobs} idle cores the page takes about "
        f"{max(cpu_seconds / args.jobs, longest) / 60:.1f} min."
        + (" **--fast: not for reporting.**" if args.fast else ""),
        "### Mode coverage: grid (25 Gaussians, 2,500 samples)", toy_table("grid", toys["grid"]),
        "### Mode coverage: ring (8 Gaussians, 2,500 samples)", toy_table("ring", toys["ring"]),
        "### Digits: conditional generation (`digits-cgan`)", format_table([pooled_cgan]),
        f"### Anomaly detection on digits (AUROC per held-out digit, split seed "
        f"{args.anomaly_seed})", anomaly_table(anomaly),
    ])


if __name__ == "__main__":
    sys.exit(main())

"""`mmgan evaluate`: measure trained runs, print the table, write metrics.json.

Lesson: 08 Evaluating GANs honestly.

    mmgan evaluate RUN [RUN ...] [--metrics GROUP ...] [--n N] [--seeds K] [--no-write]

Each RUN is a folder written by `mmgan train` (or its checkpoint.pt). With several runs
the table puts them side by side, one column each.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("mmgan")


def register_cli(sub) -> None:
    """Add the `evaluate` sub-command to the `mmgan` parser's sub-parsers."""
    p = sub.add_parser(
        "evaluate", help="measure trained runs against the course's anchors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compute the metrics that apply to each run's family, print them beside "
                    "the anchor (published or protocol number), the ceiling and the floor, "
                    "and merge them into each run folder's metrics.json under 'evaluation'.\n\n"
                    "metric groups: recipe (the recipe's own figures), coverage (toy 2D), "
                    "coherence (conditional digits), frechet (Fréchet + KID), prd "
                    "(precision/recall)")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s) or checkpoint(s)")
    p.add_argument("--metrics", nargs="+", metavar="GROUP",
                   help="metric groups to compute (default: all that apply)")
    p.add_argument("--n", type=int, help="samples per figure (default: toy 2D 2500, digits "
                                         "898, shapes 1000)")
    p.add_argument("--seeds", type=int, default=1,
                   help="evaluation seeds; figures are mean ± std over them (default 1)")
    p.add_argument("--device", default="cpu", help="device to sample on (default cpu)")
    p.add_argument("--no-write", action="store_true", help="do not update metrics.json")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mmgan_ref.metrics.evaluate import evaluate_run, format_table, write_metrics
    from mmgan_ref.train.run import load_run
    from mmgan_ref.utils import check_int

    check_int("--seeds", args.seeds, minimum=1, maximum=100)
    if args.n is not None:
        check_int("--n", args.n, minimum=20)
    metrics = [m.strip() for item in args.metrics for m in item.split(",") if m.strip()] \
        if args.metrics else None
    results = []
    for path in args.runs:
        if not Path(path).exists():
            raise FileNotFoundError(f"RUN: {path!r} does not exist; give a run folder written "
                                    "by `mmgan train` or its checkpoint.pt")
        run = load_run(path, device=args.device)
        name = Path(path).name if Path(path).is_dir() else Path(path).parent.name
        result = evaluate_run(run, metrics=metrics, n=args.n, seeds=args.seeds, name=name)
        if not args.no_write and run.run_dir is not None:
            written = write_metrics(run.run_dir, result)
            log.info("wrote %s", written)
        results.append(result)
    log.info("%s", format_table(results))
    return 0

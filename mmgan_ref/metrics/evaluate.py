"""What `mmgan evaluate` measures on a trained run, and the table it prints.

Lesson: 08 Evaluating GANs honestly.

A run is measured in two layers:

1. the run's *recipe* contributes its own figures (``recipe.evaluate(family, generator,
   seed)``: probes for the BiGAN, attribute accuracy and retrieval for the flagship ...);
2. *metric groups* add the generic figures of the run's domain, at the N asked for:
   ``coverage`` (toy 2D), ``coherence`` (conditional digits), ``frechet`` (Fréchet + KID)
   and ``prd`` (precision/recall) on domain features (digits MLP, shapes CNN).

The groups live in ``metric_groups``. A group that recomputes a recipe figure (coverage of
the toy recipes, say) replaces it.
A recipe may declare ``domain = "shapes"`` (else the domain is read from one sample's shape)
and may offer ``metric_references() -> {key: {"label", "better", "fmt", "anchor",
"ceiling", "floor"}}`` to fill the table's columns for its own figures. A new group is
added with :func:`register_group`.

Every figure is printed beside three references, never alone:

- ``anchor``: the published or protocol number to compare with (PacGAN4 on the grid ...);
- ``ceiling``: the highest meaningful value, measured the same way (real data's coverage,
  the judge's accuracy on real digits, real-vs-real recall) or a bound (log K);
- ``floor``: the lowest meaningful value (chance, a collapse, or for a distance the
  real-vs-real value at the same N: no generator can be expected to go below it).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgan_ref.utils import atomic_write_json, check_int

DEFAULT_N = {"toy2d": 2500, "digits": 898, "shapes": 1000}
DIGITS_HALF = 898  # two disjoint halves of the 1,797 real digits: the largest real-vs-real N
KID_SUBSETS = 20


@dataclass
class Figure:
    """One measured number with its references; ``values`` holds one entry per seed."""

    key: str
    label: str
    values: list[float]
    better: str = "higher"  # or "lower"
    fmt: str = "float"  # "pct", "count" or "float"
    anchor: str = ""
    ceiling: float | str | None = None
    floor: float | str | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values)) if len(self.values) > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "mean": _finite(self.mean), "std": _finite(self.std),
                "values": [_finite(v) for v in self.values], "better": self.better,
                "anchor": self.anchor, "ceiling": _finite(self.ceiling),
                "floor": _finite(self.floor)}


def _finite(value: Any) -> Any:
    """Non-finite floats as strings ("inf"): metrics.json stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@dataclass
class EvalContext:
    """A loaded run plus what its groups share (N, domain, cached judges and features)."""

    run: Any
    domain: str
    n: int
    cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def sample(self, n: int, seed: int, **condition: Any) -> torch.Tensor:
        run = self.run
        with torch.no_grad():
            return run.recipe.sample(run.family, run.generator, n, seed, **condition).cpu()


@dataclass(frozen=True)
class MetricGroup:
    """A named set of figures: which runs it applies to, how to compute them for one seed."""

    name: str
    description: str
    applies: Callable[[EvalContext], bool]
    compute: Callable[[EvalContext, int], list[Figure]]
    replaces: tuple[str, ...] = ()  # top-level recipe keys this group recomputes


GROUPS: dict[str, MetricGroup] = {}


def register_group(group: MetricGroup) -> MetricGroup:
    GROUPS[group.name] = group
    return group


# ----------------------------------------------------------------------------- domains


def run_domain(run: Any) -> str:
    """"toy2d", "digits", "shapes" or "other": declared by the recipe, else read from a sample."""
    declared = getattr(run.recipe, "domain", None)
    if isinstance(declared, str):
        return declared
    if run.recipe.options.get("mixture") in ("ring", "grid"):
        return "toy2d"
    try:
        shape = tuple(EvalContext(run, "other", 2).sample(2, 0).shape[1:])
    except (TypeError, ValueError, NotImplementedError, KeyError):
        return "other"  # the recipe needs a condition we cannot guess
    if shape == (2,):
        return "toy2d"
    if shape == (1, 8, 8):
        return "digits"
    return "shapes" if len(shape) == 3 and shape[0] == 3 else "other"


# ----------------------------------------------------------------------------- evaluation


def applicable_groups(ctx: EvalContext) -> list[str]:
    """Names of the registered groups that apply to this run."""
    import mmgan_ref.metrics.metric_groups  # noqa: F401  (registers the built-in groups)

    return [name for name, group in GROUPS.items() if group.applies(ctx)]


def evaluate_run(run: Any, metrics: Iterable[str] | None = None, n: int | None = None,
                 seeds: int = 1, name: str | None = None) -> dict[str, Any]:
    """Measure a loaded run (``train.run.load_run``) with every group that applies.

    Args:
        run: a Run (recipe, family, generator).
        metrics: group names to compute (default: all that apply); see ``GROUPS``.
        n: samples per figure (default by domain: toy 2D 2,500, digits 898, shapes 1,000).
        seeds: evaluation seeds 0..seeds-1; figures are reported as mean ± std over them.
        name: the run's name in tables (default: its folder).

    Returns:
        {"name", "recipe", "domain", "n", "seeds", "groups", "figures": {key: Figure}}
    """
    check_int("seeds", seeds, minimum=1, maximum=100)
    domain = run_domain(run)
    n = DEFAULT_N.get(domain, 1000) if n is None else check_int("n", n, minimum=20)
    ctx = EvalContext(run, domain, n)
    allowed = applicable_groups(ctx)
    chosen = allowed if metrics is None else list(metrics)
    for group in chosen:
        if group not in allowed:
            raise ValueError(f"metrics: {group!r} does not apply to this {domain} run of recipe "
                             f"{run.recipe.name!r}; allowed here: {', '.join(allowed)}")
    ctx.cache["replaced"] = {key for g in chosen for key in GROUPS[g].replaces}
    figures: dict[str, Figure] = {}
    for seed in range(seeds):
        for group in chosen:
            for figure in GROUPS[group].compute(ctx, seed):
                _merge(figures, figure)
        ctx.cache = {k: v for k, v in ctx.cache.items() if not k.startswith("features/")}
    default_name = run.run_dir.name if getattr(run, "run_dir", None) else run.recipe.name
    return {"name": name or default_name, "recipe": run.recipe.name, "domain": domain,
            "n": n, "seeds": seeds, "groups": chosen, "figures": figures}


def _merge(figures: dict[str, Figure], figure: Figure) -> None:
    """Add one seed's figure; numeric ceilings and floors are averaged over seeds."""
    old = figures.get(figure.key)
    if old is None:
        figures[figure.key] = figure
        return
    count = len(old.values)
    for attr in ("ceiling", "floor"):
        a, b = getattr(old, attr), getattr(figure, attr)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            setattr(old, attr, (a * count + b) / (count + 1))
    old.values.extend(figure.values)


def pool_results(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """Pool results of several runs (e.g. training seeds) into one column: mean ± std over all."""
    if not results:
        raise ValueError("results must hold at least one evaluation")
    pooled: dict[str, Figure] = {}
    for result in results:
        for figure in result["figures"].values():
            _merge(pooled, Figure(**{**figure.__dict__, "values": list(figure.values)}))
    return {**results[0], "name": name, "figures": pooled, "runs": len(results)}


def write_metrics(run_dir: str | Path, result: dict[str, Any]) -> Path:
    """Merge the evaluation into ``run_dir/metrics.json`` (atomically) under "evaluation"."""
    path = Path(run_dir) / "metrics.json"
    try:
        existing = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        existing = {}  # unreadable: rewrite it rather than fail after the work is done
    existing["evaluation"] = {
        "date": datetime.date.today().isoformat(), "n": result["n"], "seeds": result["seeds"],
        "domain": result["domain"], "groups": result["groups"],
        "figures": {k: f.to_dict() for k, f in result["figures"].items()}}
    return atomic_write_json(path, existing)


# ----------------------------------------------------------------------------- the table


def format_value(value: Any, fmt: str, std: float | None = None) -> str:
    """A number as the table shows it ("93.6 %", "24.7 ± 0.5", "0.041"); text passes through."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    scale, unit = (100.0, " %") if fmt == "pct" else (1.0, "")
    if fmt == "count" and float(value).is_integer() and not std:
        text = f"{int(value)}"
    else:
        text = f"{value * scale:.1f}" if fmt in ("pct", "count") else f"{value:.3g}"
    if std:
        text += f" ± {std * scale:.1f}" if fmt in ("pct", "count") else f" ± {std:.2g}"
    return text + unit


def format_table(results: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per figure, one column per run, then anchor, ceiling, floor."""
    rows: dict[str, Figure] = {}
    for result in results:
        for key, figure in result["figures"].items():
            rows.setdefault(key, figure)
    header = ["metric", "better", *(r["name"] for r in results), "anchor", "ceiling", "floor"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, ref in rows.items():
        cells = [ref.label, "↑" if ref.better == "higher" else "↓"]
        for result in results:
            fig = result["figures"].get(key)
            cells.append(format_value(fig.mean, fig.fmt, fig.std) if fig else "—")
        cells += [ref.anchor or "—", format_value(ref.ceiling, ref.fmt),
                  format_value(ref.floor, ref.fmt)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

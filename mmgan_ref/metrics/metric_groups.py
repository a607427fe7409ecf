"""The built-in metric groups of `mmgan evaluate`: which figures apply to which runs.

Lesson: 08 Evaluating GANs honestly.

- ``recipe`` (every run): what ``recipe.evaluate`` returns, with the recipe's references.
- ``coverage`` (toy 2D): modes, % high quality, reverse KL; anchors PacGAN4 and VEEGAN,
  ceiling = real data at the same N, floor = a one-mode collapse.
- ``coherence`` (conditional digits): coherence (ceiling = the judge's accuracy on real
  digits, floor = chance) and within-class diversity (1.0 = as varied as real data).
- ``frechet`` (digits, shapes): Fréchet distance and KID on domain features; floor = real
  vs real at the same N.
- ``prd`` (digits, shapes): precision and recall; ceiling = real vs real at the same N.

Importing this module registers the groups in ``evaluate.GROUPS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from mmgan_ref.metrics.evaluate import (
    DIGITS_HALF,
    KID_SUBSETS,
    EvalContext,
    Figure,
    MetricGroup,
    register_group,
    run_domain,
)


def _flatten(metrics: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, float]]:
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            yield f"{prefix}{key}", float(value)


# ----------------------------------------------------------------------------- groups

# References of figures the course's recipes report themselves (recipe.evaluate).
RECIPE_REFERENCES: dict[str, dict[str, Any]] = {
    "linear_probe": {"label": "linear probe on E(x)", "fmt": "pct", "floor": 0.1,
                     "anchor": "raw pixels ~96 %"},
    "knn_probe": {"label": "1-NN probe on E(x)", "fmt": "pct", "floor": 0.1,
                  "anchor": "raw pixels ~98.4 %"},
}
SKIPPED_RECIPE_KEYS = ("train_seconds", "steps")


def _recipe_figures(ctx: EvalContext, seed: int) -> list[Figure]:
    run = ctx.run
    try:
        result = run.recipe.evaluate(run.family, run.generator, seed=seed)
    except NotImplementedError:
        return []
    references = dict(RECIPE_REFERENCES)
    hook = getattr(run.recipe, "metric_references", None)
    if callable(hook):
        references.update(hook())
    replaced = ctx.cache.get("replaced", set())
    figures = []
    for key, value in _flatten(result):
        if key.split(".")[0] in replaced or key in SKIPPED_RECIPE_KEYS:
            continue
        ref = references.get(key, {})
        figures.append(Figure(f"recipe.{key}", ref.get("label", key), [value],
                              ref.get("better", "higher"), ref.get("fmt", "float"),
                              ref.get("anchor", ""), ref.get("ceiling"), ref.get("floor")))
    return figures


def _published(mixture: str) -> dict[str, tuple[float, float, float | None]]:
    from mmgan_ref.metrics.coverage import PUBLISHED_GRID, PUBLISHED_RING

    rows = PUBLISHED_GRID if mixture == "grid" else PUBLISHED_RING
    return {name: (modes, hq, kl) for name, modes, hq, kl in rows}


def _coverage_figures(ctx: EvalContext, seed: int) -> list[Figure]:
    from mmgan_ref.data.toy2d import mixture_means, sample_toy2d
    from mmgan_ref.metrics.coverage import toy2d_coverage

    mixture = ctx.run.recipe.options["mixture"]
    k = len(mixture_means(mixture))
    fake = toy2d_coverage(ctx.sample(ctx.n, seed), mixture)
    real = toy2d_coverage(sample_toy2d(mixture, ctx.n, seed=seed), mixture)
    pub = _published(mixture)
    best = ("PacGAN4", "VEEGAN") if mixture == "grid" else ("VEEGAN",)
    modes = "; ".join(f"{pub[b][0]:g} {b}" for b in best)
    hq = "; ".join(f"{pub[b][1]:g} % {b}" for b in best)
    kl = "; ".join(f"{pub[b][2]:g} {b}" for b in best if pub[b][2] is not None)
    return [
        Figure("coverage.modes", f"modes covered (of {k})", [fake["modes"]], "higher", "count",
               modes, real["modes"], 1),
        Figure("coverage.high_quality", "high-quality samples", [fake["high_quality"]],
               "higher", "pct", hq, real["high_quality"], 0.0),
        Figure("coverage.reverse_kl", "reverse KL to uniform", [fake["reverse_kl"]], "lower",
               "float", kl, math.log(k), real["reverse_kl"]),
    ]


def _digits_conditional(ctx: EvalContext) -> bool:
    return ctx.domain == "digits" and "label" in ctx.run.recipe.sample_options


def _coherence_figures(ctx: EvalContext, seed: int) -> list[Figure]:
    from mmgan_ref.metrics.coherence import coherence, fit_digits_classifier
    from mmgan_ref.metrics.diversity import within_class_diversity
    from mmgan_ref.metrics.features import load_real_digits

    judge = ctx.run.recipe.options.get("judge", "mlp")
    classifier = ctx.cached("judge", lambda: fit_digits_classifier(judge, seed=0))
    per_class = max(2, ctx.n // 10)
    fake = torch.cat([ctx.sample(per_class, seed * 10 + d, label=d) for d in range(10)])
    labels = torch.arange(10).repeat_interleave(per_class)
    real_images, real_labels = load_real_digits()
    result = coherence(fake, labels, classifier)
    diversity = within_class_diversity(fake, labels, real_images, real_labels, seed=seed)
    return [
        Figure("coherence", f"coherence (judge: {judge})", [result["coherence"]], "higher",
               "pct", "~95 % by one prototype per class", result["ceiling"], 0.1),
        Figure("diversity", "within-class diversity", [diversity["ratio"]], "higher", "float",
               "~0.2 by one prototype per class", 1.0, 0.0),
    ]


def _feature_sets(ctx: EvalContext, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Features of real set A, real set B (disjoint) and generated samples, N rows each."""

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        if ctx.domain == "digits":
            from mmgan_ref.metrics.features import digits_features, load_real_digits

            n = min(ctx.n, DIGITS_HALF)
            images, _ = load_real_digits()
            order = np.random.default_rng(seed).permutation(len(images))
            real_a, real_b = images[order[:n]], images[order[n:2 * n]]
            extract = digits_features
        else:
            from mmgan_ref.data.shapes import sample_scenes
            from mmgan_ref.metrics.shapes_features import shapes_features as extract

            n = ctx.n
            fake_probe = ctx.sample(2, seed)
            size = int(fake_probe.shape[-1])
            real_a, real_b = (sample_scenes(n, seed=s, image_size=size, with_sound=False)["image"]
                              for s in (10_000 + 2 * seed, 10_001 + 2 * seed))
        fake = ctx.sample(n, seed)
        return extract(real_a), extract(real_b), extract(fake), n

    return ctx.cached(f"features/{seed}", build)


def _frechet_figures(ctx: EvalContext, seed: int) -> list[Figure]:
    from mmgan_ref.metrics.frechet import frechet_distance, kernel_inception_distance

    real_a, real_b, fake, n = _feature_sets(ctx, seed)
    anchor = "noise 1.9; half the classes 7.6 (N~900)" if ctx.domain == "digits" else ""

    def kid(other: np.ndarray) -> float:
        return kernel_inception_distance(real_a, other, subsets=KID_SUBSETS,
                                         subset_size=max(2, n // 2), seed=seed)["kid_mean"]

    return [
        Figure("frechet", f"Fréchet distance (N={n})", [frechet_distance(real_a, fake)],
               "lower", "float", anchor, None, frechet_distance(real_a, real_b)),
        Figure("kid", f"KID (N={n})", [kid(fake)], "lower", "float", "", None, kid(real_b)),
    ]


def _prd_figures(ctx: EvalContext, seed: int) -> list[Figure]:
    from mmgan_ref.metrics.prd import precision_recall

    real_a, real_b, fake, n = _feature_sets(ctx, seed)
    ours, real = precision_recall(real_a, fake), precision_recall(real_a, real_b)
    return [Figure("precision", f"precision (k=3, N={n})", [ours["precision"]], "higher",
                   "pct", "", real["precision"], 0.0),
            Figure("recall", f"recall (k=3, N={n})", [ours["recall"]], "higher", "pct", "",
                   real["recall"], 0.0)]


def _can_sample(ctx: EvalContext) -> bool:
    return ctx.domain in ("digits", "shapes") and ctx.cached(
        "can_sample", lambda: run_domain(ctx.run) == ctx.domain)


register_group(MetricGroup("recipe", "the recipe's own figures (recipe.evaluate)",
                           lambda ctx: True, _recipe_figures))
register_group(MetricGroup(
    "coverage", "modes, % high quality, reverse KL (toy 2D, PacGAN protocol)",
    lambda ctx: ctx.domain == "toy2d" and "mixture" in ctx.run.recipe.options,
    _coverage_figures, ("protocol", "modes", "high_quality", "reverse_kl")))
register_group(MetricGroup(
    "coherence", "coherence and within-class diversity (conditional digits)",
    _digits_conditional, _coherence_figures,
    ("judge", "coherence", "ceiling", "diversity", "diversity_detail")))
register_group(MetricGroup("frechet", "Fréchet distance and KID on domain features",
                           _can_sample, _frechet_figures))
register_group(MetricGroup("prd", "precision and recall (k-NN manifolds)", _can_sample,
                           _prd_figures))



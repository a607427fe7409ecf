"""`mmgan evaluate` (Lesson 08): what applies to which run, the table, metrics.json."""

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

from mmgan_ref.data.toy2d import sample_toy2d
from mmgan_ref.metrics.evaluate import (
    evaluate_run,
    format_table,
    format_value,
    pool_results,
    run_domain,
    write_metrics,
)
from mmgan_ref.metrics.features import load_real_digits


@dataclass
class StubRecipe:
    """A recipe whose 'generator' draws real data (or a degraded copy): known answers."""

    name: str
    draw: Any
    options: dict = field(default_factory=dict)
    sample_options: tuple = ()

    def sample(self, family, generator, n, seed, label=None, **condition):
        return self.draw(n, seed, label)

    def evaluate(self, family, generator, seed=0):
        raise NotImplementedError


@dataclass
class StubRun:
    recipe: StubRecipe
    family: Any = None
    generator: Any = None
    run_dir: Any = None


def real_grid(n, seed, label=None):
    return sample_toy2d("grid", n, seed=seed + 100)


def collapsed_grid(n, seed, label=None):
    noise = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    return 0.01 * noise  # every sample at the mode (0, 0)


IMAGES, LABELS = load_real_digits()


def real_digits(n, seed, label=None, classes=range(10)):
    pool = np.flatnonzero(np.isin(LABELS, list(classes)) if label is None else LABELS == label)
    rows = np.random.default_rng(seed + 7).choice(pool, n, replace=len(pool) < n)
    return torch.from_numpy(IMAGES[rows])


def half_digits(n, seed, label=None):
    return real_digits(n, seed, label, classes=range(5))


def grid_run(draw):
    return StubRun(StubRecipe("grid", draw, {"mixture": "grid"}))


def test_real_grid_scores_at_the_ceiling_and_a_collapse_at_the_floor():
    real = evaluate_run(grid_run(real_grid), seeds=2)
    assert real["domain"] == "toy2d" and real["groups"] == ["recipe", "coverage"]
    modes, hq, kl = (real["figures"][f"coverage.{k}"] for k in ("modes", "high_quality",
                                                                   "reverse_kl"))
    assert modes.values == [25, 25] and modes.ceiling == 25
    assert hq.mean >= 0.98 and hq.ceiling >= 0.98
    assert kl.mean < 0.02 and kl.ceiling == pytest.approx(math.log(25))
    collapsed = evaluate_run(grid_run(collapsed_grid))["figures"]
    assert collapsed["coverage.modes"].values == [1]
    assert collapsed["coverage.reverse_kl"].mean == pytest.approx(math.log(25))


@pytest.fixture(scope="module")
def digits_results():
    def run(draw):
        return StubRun(StubRecipe("digits-cgan", draw, {"judge": "logreg"}, ("label",)))

    real = evaluate_run(run(real_digits), n=300, name="real")
    half = evaluate_run(run(half_digits), n=300, name="half")
    return real, half


def test_digits_real_data_meets_its_references(digits_results):
    real, _ = digits_results
    assert real["domain"] == "digits"
    assert set(real["groups"]) == {"recipe", "coherence", "frechet", "prd"}
    figures = real["figures"]
    # coherence of real digits = the judge's accuracy on real data (the ceiling)
    assert figures["coherence"].mean == pytest.approx(figures["coherence"].ceiling, abs=0.05)
    assert figures["diversity"].mean == pytest.approx(1.0, abs=0.15)
    assert figures["frechet"].mean < 3 * figures["frechet"].floor + 0.5
    assert figures["recall"].mean == pytest.approx(figures["recall"].ceiling, abs=0.1)


def test_dropping_half_the_classes_raises_frechet_and_lowers_recall(digits_results):
    real, half = digits_results
    assert half["figures"]["frechet"].mean > 3 * real["figures"]["frechet"].mean
    assert half["figures"]["kid"].mean > real["figures"]["kid"].mean
    assert half["figures"]["recall"].mean < real["figures"]["recall"].mean - 0.2


def test_table_puts_runs_side_by_side_with_the_references(digits_results):
    table = format_table(list(digits_results))
    lines = table.splitlines()
    assert lines[0] == "| metric | better | real | half | anchor | ceiling | floor |"
    row = next(line for line in lines if line.startswith("| coherence"))
    assert row.count("%") >= 3 and "prototype" in row
    assert format_value(0.936, "pct") == "93.6 %"
    assert format_value(24.6, "count", 0.5) == "24.6 ± 0.5"
    assert format_value(None, "float") == "—"


def test_metric_choice_is_checked():
    with pytest.raises(ValueError, match="coherence.*allowed here: recipe, coverage"):
        evaluate_run(grid_run(real_grid), metrics=["coherence"])
    with pytest.raises(ValueError, match="seeds"):
        evaluate_run(grid_run(real_grid), seeds=0)
    only = evaluate_run(grid_run(real_grid), metrics=["coverage"], n=500)
    assert only["n"] == 500 and set(only["figures"]) == {
        "coverage.modes", "coverage.high_quality", "coverage.reverse_kl"}


def test_pooling_and_metrics_json(tmp_path):
    first = evaluate_run(grid_run(real_grid), n=500)
    second = evaluate_run(grid_run(collapsed_grid), n=500)
    pooled = pool_results([first, second], "both")
    assert pooled["figures"]["coverage.modes"].values == [25, 1]
    (tmp_path / "metrics.json").write_text(json.dumps({"steps": 10}))
    write_metrics(tmp_path, second)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["steps"] == 10  # what `mmgan train` wrote is kept
    assert saved["evaluation"]["figures"]["coverage.modes"]["mean"] == 1
    assert saved["evaluation"]["n"] == 500


def test_a_trained_run_through_the_command_line(tmp_path, capsys):
    from mmgan_ref.cli import main
    from mmgan_ref.train.run import load_run, train

    out = tmp_path / "grid"
    train("grid", out=out, steps=10, batch_size=64, progress=False, device="cpu")
    assert run_domain(load_run(out)) == "toy2d"
    assert main(["evaluate", str(out), str(out), "--n", "200"]) == 0
    printed = capsys.readouterr().out
    assert "| modes covered (of 25) | ↑ |" in printed and "PacGAN4" in printed
    figures = json.loads((out / "metrics.json").read_text())["evaluation"]["figures"]
    assert "coverage.modes" in figures and "recipe.modes" not in figures
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert main(["evaluate", str(out), "--metrics", "frechet"]) == 2

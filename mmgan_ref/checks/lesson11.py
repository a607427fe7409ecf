"""Checks for the exercises of lesson 11 (``exercises/11_open_challenges.ipynb``).

Lesson: 11 Where multimodal GANs stand. Exercise 11.1 ``membership_auroc``, 11.2
``edit_code``, 11.3 ``median_latency``.

References: ``mmgan_ref.metrics.privacy`` (membership inference: Hayes et al. 2019,
LOGAN), ``mmgan_ref.metrics.latency`` (fair timing) and the unit-norm codes of
``mmgan_ref.nn.encoders.CrossModalEncoder``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import mannwhitneyu

from mmgan_ref.checks._framework import Check, Variants, seeded_randn
from mmgan_ref.metrics.privacy import membership_auroc as reference_membership_auroc

# ----------------------------------------------------------------------------- 11.1


def _auroc_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [
        ("members scored higher than every non-member", np.array([3.0, 4.0, 5.0]),
         np.array([0.0, 1.0, 2.0])),
        ("members scored lower than every non-member", np.array([0.0, 1.0]),
         np.array([2.0, 3.0, 4.0])),
        ("a tie between a member and a non-member", np.array([2.0, 4.0, 5.0]),
         np.array([0.0, 1.0, 2.0])),
        ("overlapping normal scores", rng.normal(0.5, 1.0, 40), rng.normal(0.0, 1.0, 60)),
        ("rounded scores with many ties", np.round(rng.normal(0.3, 1.0, 50)),
         np.round(rng.normal(0.0, 1.0, 30))),
    ]


def check_membership_auroc(membership_auroc: Callable[..., float], seed: int = 0,
                           quiet: bool = False) -> None:
    """Exercise 11.1: ``membership_auroc(member_scores, nonmember_scores)`` -> float in [0, 1]."""
    c = Check("11.1", "membership_auroc", quiet=quiet)
    for case, members, others in _auroc_cases(seed):
        what = f"membership_auroc(...) on {case}"
        out = c.call(membership_auroc, members.copy(), others.copy())
        if isinstance(out, torch.Tensor) and out.numel() == 1:
            out = out.item()
        if not isinstance(out, Real):
            c.fail(f"{what} should return a number", got=type(out).__name__,
                   hint="return a Python float, e.g. float(roc_auc_score(...))")
        expected = reference_membership_auroc(members, others)
        if abs(float(out) - expected) < 1e-9:
            continue
        strict = float(np.mean(members[:, None] > others[None, :]))
        hint = None
        if abs(float(out) - (1 - expected)) < 1e-9:
            hint = ("this looks like a common mistake: the orientation is reversed. Members "
                    "are the positive class (label 1) and a higher score means 'member'")
        elif abs(float(out) - strict) < 1e-9:
            hint = ("this looks like a common mistake: ties were counted as losses; a tie "
                    "between a member and a non-member counts one half")
        c.fail(f"wrong value from {what}", expected=f"{expected:.4f}", got=f"{float(out):.4f}",
               hint=hint or "AUROC = P(score of a random member > score of a random "
                            "non-member) + half the probability of a tie")
    c.passed("membership_auroc matches the reference (orientation, ties, overlapping scores)")


# ----------------------------------------------------------------------------- 11.2


def reference_edit_code(codes: torch.Tensor, direction: torch.Tensor,
                        step: float) -> torch.Tensor:
    """Move unit codes (B, D) by `step` along the unit version of `direction` (D,); renormalise."""
    return F.normalize(codes + step * direction / direction.norm(), dim=1)


def check_edit_code(edit_code: Callable[..., torch.Tensor], seed: int = 0,
                    quiet: bool = False) -> None:
    """Exercise 11.2: ``edit_code(codes, direction, step)`` -> unit codes (B, D)."""
    c = Check("11.2", "edit_code", quiet=quiet)
    for batch, dim, scale, step in ((6, 8, 3.0, 0.7), (1, 5, 0.2, -1.5), (4, 4, 1.0, 0.0)):
        codes = F.normalize(seeded_randn(seed, batch, dim), dim=1)
        direction = scale * seeded_randn(seed + 1, dim)
        what = f"edit_code(codes {tuple(codes.shape)}, direction {tuple(direction.shape)}, {step})"
        out = c.expect_tensor(c.call_no_inplace(edit_code, codes, direction, step), what)
        c.expect_shape(out, (batch, dim), what)
        moved = codes + step * direction / direction.norm()
        raw = codes + step * direction
        c.assert_close(out, reference_edit_code(codes, direction, step), what, mistakes={
            "the direction was not made unit length first, so the step size depends on "
            "how long the probe's weight vector happens to be": F.normalize(raw, dim=1),
            "the result was not renormalised: codes live on the unit sphere":
                moved,
            "normalised over the batch (dim=0) instead of each code (dim=1)":
                F.normalize(moved, dim=0),
            "stepped against the direction (sign)": F.normalize(
                codes - step * direction / direction.norm(), dim=1),
        })
    codes = F.normalize(seeded_randn(seed + 2, 3, 6), dim=1).requires_grad_(True)
    direction = seeded_randn(seed + 3, 6)
    out = c.call(edit_code, codes, direction, 0.5)
    if not out.requires_grad:
        c.fail("the edited codes carry no gradient back to the input codes",
               hint="build the result with differentiable torch operations (no .detach(), "
                    "no numpy round trip)")
    c.passed("edit_code moves unit codes by a unit step and keeps them on the sphere")


# ----------------------------------------------------------------------------- 11.3


class FakeWork:
    """A workload with a fake clock: the clock moves only while the work runs.

    Call i of the work takes ``durations[i]`` fake seconds (1000 after the list ends),
    so a latency measurement on it has one exact answer.
    """

    def __init__(self, durations: list[float]) -> None:
        self.durations, self.now, self.calls = list(durations), 0.0, 0

    def clock(self) -> float:
        return self.now

    def __call__(self) -> None:
        self.now += self.durations[self.calls] if self.calls < len(self.durations) else 1000.0
        self.calls += 1


LATENCY_CASES = (  # (warm-up durations, timed durations)
    ([50.0, 40.0], [1.0, 2.0, 100.0, 3.0, 4.0]),
    ([9.0], [7.0, 5.0, 6.0]),
    ([30.0, 20.0, 10.0], [0.2, 0.5, 0.1, 0.3, 0.4, 0.35, 9.0]),
)


def check_median_latency(median_latency: Callable[..., float], seed: int = 0,
                         quiet: bool = False) -> None:
    """Exercise 11.3: ``median_latency(fn, warmup, repeats, clock)`` -> median seconds."""
    c = Check("11.3", "median_latency", quiet=quiet)
    order = np.random.default_rng(seed).permutation(len(LATENCY_CASES))
    for index in order:
        warm, timed = LATENCY_CASES[index]
        work = FakeWork(warm + timed)
        what = f"median_latency(work, warmup={len(warm)}, repeats={len(timed)}, clock)"
        out = c.call(median_latency, work, len(warm), len(timed), work.clock)
        if work.calls != len(warm) + len(timed):
            hint = ("the warm-up calls must be made (they are just not timed)"
                    if work.calls == len(timed) else
                    "call fn once per warm-up and once per repeat, nothing more")
            c.fail(f"{what} called fn {work.calls} times", expected=str(len(warm) + len(timed)),
                   got=str(work.calls), hint=hint)
        if isinstance(out, torch.Tensor) and out.numel() == 1:
            out = out.item()
        if not isinstance(out, Real):
            c.fail(f"{what} should return a number of seconds", got=type(out).__name__)
        expected = statistics.median(timed)
        if abs(float(out) - expected) < 1e-9:
            continue
        mistakes = {
            "the warm-up calls were timed too": statistics.median(warm + timed),
            "returned the mean, which one slow call drags up; report the median":
                statistics.mean(timed),
            "returned the minimum (the best case), not the typical call": min(timed),
            "timed the whole run including warm-up and divided by the repeats":
                sum(warm + timed) / len(timed),
            "returned the total time of the repeats, not the time of one call": sum(timed),
        }
        mistake = next((m for m, v in mistakes.items() if abs(float(out) - v) < 1e-9), None)
        if abs(float(out)) < 1e-3 and expected > 1e-3:
            mistake = "the clock argument was not used (time with clock(), not time.time)"
        c.fail(f"wrong value from {what}", expected=f"{expected:g}", got=f"{float(out):g}",
               hint=f"this looks like a common mistake: {mistake}" if mistake else
               "time each repeat on its own with clock() before and after, then take "
               "the median")
    c.passed("median_latency warms up untimed, times each repeat, and reports the median")


# ----------------------------------------------------------------------------- variants


def _auroc_reversed(members, others):
    labels = np.r_[np.zeros(len(members)), np.ones(len(others))]
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, np.r_[members, others]))


def _auroc_strict(members, others):
    return float(np.mean(np.asarray(members)[:, None] > np.asarray(others)[None, :]))


def _auroc_pairs(members, others):
    m, o = np.asarray(members)[:, None], np.asarray(others)[None, :]
    return float(np.mean((m > o) + 0.5 * (m == o)))


def _auroc_mann_whitney(members, others):
    return float(mannwhitneyu(members, others).statistic / (len(members) * len(others)))


def _edit_unnormalised_direction(codes, direction, step):
    return F.normalize(codes + step * direction, dim=1)


def _edit_no_renorm(codes, direction, step):
    return codes + step * direction / direction.norm()


def _edit_in_place(codes, direction, step):
    codes += step * direction / direction.norm()
    return codes / codes.norm(dim=1, keepdim=True)


def _edit_manual(codes, direction, step):
    unit = direction / torch.linalg.vector_norm(direction)
    moved = codes + step * unit[None, :]
    return moved / moved.norm(dim=1, keepdim=True)


def _latency_reference(fn, warmup, repeats, clock):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def _latency_numpy_laps(fn, warmup, repeats, clock):
    for _ in range(warmup):
        fn()
    marks = [clock()]
    for _ in range(repeats):
        fn()
        marks.append(clock())
    return float(np.median(np.diff(marks)))


def _latency_mean(fn, warmup, repeats, clock):
    for _ in range(warmup):
        fn()
    start = clock()
    for _ in range(repeats):
        fn()
    return (clock() - start) / repeats


def _latency_warmup_timed(fn, warmup, repeats, clock):
    times = []
    for _ in range(warmup + repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def _latency_no_warmup(fn, warmup, repeats, clock):
    return _latency_reference(fn, 0, repeats, clock)


def _latency_wall_clock(fn, warmup, repeats, clock):
    import time

    return _latency_reference(fn, warmup, repeats, time.perf_counter)


VARIANTS = {
    "check_membership_auroc": Variants(
        wrong=[(_auroc_reversed, "orientation"), (_auroc_strict, "ties")],
        right=[reference_membership_auroc, _auroc_pairs, _auroc_mann_whitney]),
    "check_edit_code": Variants(
        wrong=[(_edit_unnormalised_direction, "unit length"),
               (_edit_no_renorm, "renormalised"), (_edit_in_place, "in place")],
        right=[reference_edit_code, _edit_manual]),
    "check_median_latency": Variants(
        wrong=[(_latency_mean, "mean"), (_latency_warmup_timed, "warm-up calls were timed"),
               (_latency_no_warmup, "warm-up calls must be made"),
               (_latency_wall_clock, "clock argument")],
        right=[_latency_reference, _latency_numpy_laps]),
}

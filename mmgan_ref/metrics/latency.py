"""Fair latency measurement, and what an N-step sampler would cost at the same network size.

Lesson: 11 Where multimodal GANs stand (real-time efficiency).

A timing is fair when it leaves out the first calls (which pay for memory allocation,
kernel selection, caches and lazy initialisation), repeats the call, and reports the
median (robust to the odd slow call caused by another process). On a GPU the work is
asynchronous: the clock must stop after the device has finished (``synchronize=True``).

A GAN draws a sample with one network evaluation; an iterative sampler (a diffusion
model's reverse process, an autoregressive decoder) needs N of them. Given the measured
cost of one evaluation, ``iterative_cost`` gives the cost of N evaluations of a network
of the same size: a lower bound for the iterative sampler, whose networks are usually
larger.

References:
    Ho, Jain and Abbeel 2020, "Denoising Diffusion Probabilistic Models" (T = 1000 steps).
    Sauer, Lorenz, Blattmann and Rombach 2023, "Adversarial Diffusion Distillation"
    (1 to 4 steps).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

from mmgan_ref.utils import check_float, check_int

DEFAULT_WARMUP = 3
DEFAULT_REPEATS = 10


def measure_latency(fn: Callable[[], Any], *, warmup: int = DEFAULT_WARMUP,
                    repeats: int = DEFAULT_REPEATS,
                    clock: Callable[[], float] = time.perf_counter,
                    synchronize: bool = False) -> dict[str, Any]:
    """Time `fn()` fairly: `warmup` untimed calls, then `repeats` timed calls, the median.

    Args:
        fn: the work to time, called with no arguments (wrap it in a lambda).
        warmup: calls made first and not timed (>= 0).
        repeats: timed calls (>= 1); each is timed on its own.
        clock: seconds as a float; `time.perf_counter` (wall) by default,
            `time.process_time` for the CPU time of this process.
        synchronize: wait for CUDA work to finish before stopping the clock.
    Returns:
        {"median": seconds per call, "times": every timed call (list), "min", "max",
        "warmup", "repeats"}.
    """
    check_int("warmup", warmup, minimum=0)
    check_int("repeats", repeats, minimum=1)
    if not callable(fn):
        raise TypeError(f"fn must be callable (wrap the work in a lambda), got "
                        f"{type(fn).__name__}")
    sync = torch.cuda.synchronize if synchronize and torch.cuda.is_available() else _no_op
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return {"median": statistics.median(times), "times": times, "min": min(times),
            "max": max(times), "warmup": warmup, "repeats": repeats}


def per_item(latency: dict[str, Any] | float, batch_size: int) -> dict[str, float]:
    """Seconds per item and items per second from the latency of one batch.

    Args:
        latency: a `measure_latency` result or seconds per batch.
        batch_size: items the timed call produced.
    Returns:
        {"seconds_per_item", "items_per_second", "batch_size"}.
    """
    check_int("batch_size", batch_size, minimum=1)
    seconds = latency["median"] if isinstance(latency, dict) else latency
    seconds = check_float("latency", seconds, minimum=0.0, exclusive_min=True)
    return {"seconds_per_item": seconds / batch_size,
            "items_per_second": batch_size / seconds, "batch_size": batch_size}


def iterative_cost(one_evaluation: float, evaluations: Iterable[int]) -> dict[int, float]:
    """Cost of a sampler making N evaluations of a network that costs `one_evaluation`.

    N evaluations run one after the other (each needs the previous one's output), so the
    cost is N times one evaluation; the sampler's own arithmetic between evaluations is
    left out, so this is a lower bound at equal network size.

    Args:
        one_evaluation: measured seconds of one network evaluation (> 0).
        evaluations: the N to cost, each >= 1.
    Returns:
        {N: seconds}.
    """
    seconds = check_float("one_evaluation", one_evaluation, minimum=0.0, exclusive_min=True)
    steps = [check_int("evaluations", n, minimum=1) for n in evaluations]
    if not steps:
        raise ValueError("evaluations: got an empty list; give at least one N >= 1")
    return {n: n * seconds for n in steps}


def _no_op() -> None:
    return None

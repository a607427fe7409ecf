"""Fair latency measurement and the cost of iterative sampling (Lesson 11)."""

import pytest

from mmgan_ref.metrics.latency import iterative_cost, measure_latency, per_item


class FakeWork:
    """A clock that only moves when the work runs: call i takes durations[i] seconds."""

    def __init__(self, durations):
        self.durations, self.now, self.calls = list(durations), 0.0, 0

    def clock(self):
        return self.now

    def __call__(self):
        self.now += self.durations[self.calls]
        self.calls += 1


def test_warmup_calls_are_made_but_not_timed_and_the_median_is_reported():
    work = FakeWork([50.0, 40.0, 1.0, 2.0, 100.0, 3.0, 4.0])
    result = measure_latency(work, warmup=2, repeats=5, clock=work.clock)
    assert work.calls == 7
    assert result["times"] == [1.0, 2.0, 100.0, 3.0, 4.0]
    assert result["median"] == 3.0  # the mean (22) and a run with warm-up (4) differ
    assert (result["min"], result["max"], result["warmup"], result["repeats"]) == (
        1.0, 100.0, 2, 5)


def test_real_clock_measures_positive_times():
    result = measure_latency(lambda: sum(range(1000)), warmup=1, repeats=3)
    assert len(result["times"]) == 3 and result["median"] > 0


def test_per_item_and_iterative_cost():
    assert per_item({"median": 0.5}, 100) == {"seconds_per_item": 0.005,
                                              "items_per_second": 200.0, "batch_size": 100}
    assert per_item(2.0, 1)["items_per_second"] == 0.5
    assert iterative_cost(0.01, [1, 4, 1000]) == pytest.approx({1: 0.01, 4: 0.04, 1000: 10.0})


@pytest.mark.parametrize("call, message", [
    (lambda: measure_latency(lambda: None, repeats=0), "repeats"),
    (lambda: measure_latency(lambda: None, warmup=-1), "warmup"),
    (lambda: measure_latency(42), "callable"),
    (lambda: per_item(0.0, 4), "latency"),
    (lambda: per_item(1.0, 0), "batch_size"),
    (lambda: iterative_cost(0.0, [1]), "one_evaluation"),
    (lambda: iterative_cost(1.0, [0]), "evaluations"),
    (lambda: iterative_cost(1.0, []), "evaluations"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()

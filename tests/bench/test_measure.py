"""Repeat until stable: the warm-up is dropped, the figure is the median of agreeing
rounds, and a series that never settles is reported as such."""

from __future__ import annotations

import math

from studio.bench.measure import PeakRss, Rounds, Settings, percentile, spread, until_stable


def _feed(values, settings):
    it = iter(values)
    return until_stable(lambda: next(it), settings)


def test_the_warm_up_is_dropped_and_agreeing_rounds_stop_the_series():
    stat, window = _feed([1000.0, 10.0, 10.2, 9.9, 50.0, 50.0], Settings(repeats=3, tolerance=0.05))
    assert window == [10.0, 10.2, 9.9]
    assert stat.value == 10.0 and stat.repeats == 3 and stat.stable
    assert math.isclose(stat.spread, 0.03)


def test_a_series_that_never_settles_stops_at_the_limit_and_says_so():
    values = [1.0] + [10.0, 20.0] * 10
    stat, window = _feed(values, Settings(repeats=3, max_repeats=8, tolerance=0.05, budget_s=1e9))
    assert stat.repeats == 8 and not stat.stable
    assert window == [20.0, 10.0, 20.0] and stat.spread == 0.5


def test_rounds_fed_from_outside_agree_with_until_stable():
    rounds = Rounds(Settings(repeats=2, tolerance=0.1))
    assert [rounds.add(v) for v in (5.0, 100.0, 101.0)] == [False, False, True]
    assert rounds.stat().value == 100.5


def test_percentiles_and_spread():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50.5 and math.isclose(percentile(values, 99), 99.01)
    assert spread([9.0, 10.0, 11.0]) == 0.2


def test_peak_resident_memory_sees_a_large_allocation():
    with PeakRss() as rss:
        block = bytearray(64 << 20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        del block
    if rss.bytes is None:  # not Linux: the bench says "not measurable here"
        return
    assert rss.bytes >= 60 << 20

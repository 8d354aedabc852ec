"""Repeat a measurement until it is stable; peak memory of a stretch of work.

A measurement is a series of rounds, each a number (samples/s, ms). The first round is
a warm-up and is dropped; rounds go on until the last ``repeats`` of them lie within
``tolerance`` of their median (spread = (max - min) / median), or until ``max_repeats``
or the time budget is spent. The figure is the median of that window, reported with the
number of rounds and the spread, and ``stable`` says whether the tolerance was met.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable

TOLERANCE = 0.05


@dataclass
class Settings:
    repeats: int = 5  # rounds in the window that must agree
    round_s: float = 0.1  # a round lasts at least this long
    max_repeats: int = 30
    budget_s: float = 8.0  # per measurement, warm-up included
    tolerance: float = TOLERANCE


@dataclass
class Stat:
    value: float
    repeats: int  # rounds measured after the warm-up
    spread: float  # (max - min) / median over the kept window
    stable: bool

    def to_json(self) -> dict:
        return asdict(self)


def spread(values: list[float]) -> float:
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else math.inf


class Rounds:
    """Figures fed one round at a time (the first is the warm-up); ``add`` says when to stop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = time.perf_counter()
        self.warmed = False
        self.values: list[float] = []

    def add(self, value: float) -> bool:
        if not self.warmed:  # caches, lazy initialisation, the allocator, autotuning
            self.warmed = True
            return False
        self.values.append(float(value))
        need = max(1, self.settings.repeats)
        window = self.window
        if len(window) == need and spread(window) <= self.settings.tolerance:
            return True
        spent = time.perf_counter() - self.started
        return len(self.values) >= max(need, self.settings.max_repeats) or (
            spent > self.settings.budget_s and len(self.values) >= need)

    @property
    def window(self) -> list[float]:
        return self.values[-max(1, self.settings.repeats):]

    def stat(self) -> Stat:
        window = self.window
        if not window:
            return Stat(math.nan, 0, math.nan, False)
        s = spread(window)
        return Stat(statistics.median(window), len(self.values), s, s <= self.settings.tolerance)


def until_stable(round_fn: Callable[[], float], settings: Settings) -> tuple[Stat, list[float]]:
    """Call ``round_fn`` (one round, returning its figure) after one warm-up call, until
    the last ``settings.repeats`` figures agree. Returns the stat and the kept figures."""
    rounds = Rounds(settings)
    while not rounds.add(round_fn()):
        pass
    return rounds.stat(), rounds.window


def calls_per_round(call: Callable[[], None], round_s: float, limit: int = 100_000) -> int:
    """How many calls of ``call`` fill a round (timed once, after one untimed call)."""
    call()
    t0 = time.perf_counter()
    call()
    dt = max(time.perf_counter() - t0, 1e-6)
    return max(1, min(limit, math.ceil(round_s / dt)))


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class PeakRss:
    """Peak resident memory of this process during a ``with`` block, above what it held
    when the block began (Linux: the kernel's high-water mark is reset on entry through
    ``/proc/self/clear_refs``). ``bytes`` is None where that cannot be measured."""

    def __enter__(self):
        self.bytes = None
        self.base = None
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.base = _status_kb("VmRSS")
        except OSError:
            pass
        return self

    def __exit__(self, *exc):
        if self.base is not None:
            peak = _status_kb("VmHWM")
            if peak is not None:
                self.bytes = max(0, peak - self.base) * 1024
        return False


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None

"""Spikes: a topic in a ward with more calls than its recent baseline (issue 30 #2b). Pure.

The model (docs/rules.md, "Spikes"): for each topic × ward, the calls of the last
``window_h`` hours (24) are compared with the same cell's daily mean over the ``baseline_days``
(28) days before the window. Under "nothing new happens" the window's count is Poisson with
mean ``lam = max(baseline mean, floor_per_day) * window_h / 24``; the cell spikes when

    P(X >= x | lam) < alpha   and   x >= min_count

The floor keeps a cell with no calls in four weeks from alarming on its first two calls; the
minimum count keeps one or two calls from ever being a spike, whatever the baseline. ``alpha``
is small because some thousand cells are tested every day (10 topics × ~100 wards).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Cell = tuple[str, str]  # (topic key, ward name)


@dataclass(frozen=True)
class SpikeOptions:
    window_h: float = 24.0  # h; the calls counted against the baseline
    baseline_days: int = 28  # days before the window whose mean is the baseline
    alpha: float = 1e-4  # tail probability below which a count is a spike
    min_count: int = 4  # calls in the window; fewer is never a spike
    floor_per_day: float = 0.1  # calls/day; the smallest baseline a cell is given


@dataclass(frozen=True)
class Spike:
    topic: str
    ward: str
    count: int  # calls in the window
    expected: float  # calls expected in the window (the baseline, scaled to it)
    baseline_per_day: float  # the cell's daily mean over the baseline days (before the floor)
    p_value: float  # P(X >= count) under Poisson(expected)


def poisson_sf(x: int, lam: float) -> float:
    """P(X >= x) for X ~ Poisson(lam); 1.0 for x <= 0. Summed in log space (no overflow for large x)."""
    if x <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    # 1 - P(X <= x-1), by the terms below x when they are the smaller side, else the tail itself.
    log_term = -lam  # log P(X = 0)
    below = 0.0
    for k in range(x):
        below += math.exp(log_term)
        log_term += math.log(lam) - math.log(k + 1)
    if below < 0.5:
        return max(0.0, 1.0 - below)
    # tail sum from x upward: stable where 1 - below would lose all digits
    tail, k, term = 0.0, x, log_term
    while True:
        t = math.exp(term)
        tail += t
        k += 1
        term += math.log(lam) - math.log(k)
        if t < 1e-17 * max(tail, 1e-300) and k > lam:
            break
    return min(1.0, tail)


def expected_in_window(baseline_calls: int, options: SpikeOptions = SpikeOptions()) -> tuple[float, float]:
    """(daily mean, calls expected in the window) of a cell with ``baseline_calls`` over the baseline days."""
    per_day = baseline_calls / options.baseline_days
    return per_day, max(per_day, options.floor_per_day) * options.window_h / 24.0


def find_spikes(window: Mapping[Cell, int], baseline: Mapping[Cell, int],
                options: SpikeOptions = SpikeOptions()) -> list[Spike]:
    """The cells of ``window`` (calls per topic × ward in the window) that spike against ``baseline``
    (calls per cell over the ``baseline_days`` before it); strongest first. Inputs are not changed."""
    out = []
    for (topic, ward), count in window.items():
        if count < options.min_count:
            continue
        per_day, lam = expected_in_window(baseline.get((topic, ward), 0), options)
        p = poisson_sf(count, lam)
        if p < options.alpha:
            out.append(Spike(topic, ward, count, round(lam, 4), round(per_day, 4), p))
    return sorted(out, key=lambda s: (s.p_value, s.topic, s.ward))

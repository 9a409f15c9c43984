"""A simulated year of calls with planted spikes, run through the live spike detector (issue 30 #2b).

``hotline eval spikes`` (docs/rules.md, "Spikes"). Nothing here is measured data: this
repository holds no year of real call volumes, so the simulation's rates are stated
assumptions, each named below, and the detector (:func:`pipeline.analysis.spikes.find_spikes`,
the same function the alerts call) is run on every simulated day:

- volume: ``calls_per_day`` (150) calls a day across the province (assumed for a provincial
  1022 line; scale it with ``--calls-per-day``);
- places: the 102 current wards and communes of ``models/data/gazetteer_daklak.csv``; a ward
  (city) draws 4× a commune's calls, and each unit a lognormal(0, 0.8) size factor, so a few
  wards carry much of the volume, as city wards do;
- topics: :data:`TOPIC_SHARES` (assumed shares of the 10 taxonomy topics, rubbish and
  urban order most common);
- weekdays: :data:`WEEKDAY` (Monday busiest, Sunday about a third of it); season: the rainy
  months (May–October) raise environment and utilities by 30 % and traffic by 15 %; Tết
  (:data:`TET`, a week) halves all calls;
- noise: the day's calls are over-dispersed, not Poisson: every day a province-wide factor
  Gamma(20) and every cell a Gamma(4) factor (mean 1), so a detector tuned on a pure Poisson
  world would alarm more here than on paper;
- spikes: ``n_spikes`` (60) planted in random cells (drawn by the square root of their rate,
  so quiet and busy cells both get some): ``extra`` calls a day on top (3, 5 or 8) for 1–3 days.

An alarm on a cell while one of its planted spikes runs (or the day after it) is a detection; any
other alarm is false. Detection delay: days from a spike's first day to its first alarm (0:
alarmed at the end of its first day).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from pipeline.analysis.spikes import SpikeOptions, find_spikes
from pipeline.config import REPO_ROOT

GAZETTEER = REPO_ROOT / "models" / "data" / "gazetteer_daklak.csv"
TOPIC_SHARES = {  # assumed shares of a 1022 line's calls
    "environment": 0.22, "urban_order": 0.14, "traffic": 0.12, "utilities": 0.12,
    "administrative_procedures": 0.11, "security_order": 0.08, "land": 0.07, "construction": 0.06,
    "social_services": 0.04, "other": 0.04}
WEEKDAY = (1.25, 1.1, 1.05, 1.0, 1.0, 0.6, 0.45)  # Monday .. Sunday, relative
RAINY_MONTHS = range(5, 11)
RAINY = {"environment": 1.3, "utilities": 1.3, "traffic": 1.15}
TET = (date(2025, 1, 27), date(2025, 2, 2))  # Tết Ất Tỵ week: half the calls


@dataclass(frozen=True)
class SimResult:
    days: int
    cells: int
    calls: int
    spikes: int
    detected: int
    delays: tuple[int, ...]  # days, one per detected spike
    false_alarms: int
    false_by_month: tuple[int, ...]  # 12 numbers
    options: SpikeOptions
    by_extra: tuple[tuple[int, int, int], ...] = ()  # (extra calls a day, spikes detected, spikes planted)

    @property
    def detection_rate(self) -> float:
        return self.detected / self.spikes if self.spikes else 0.0

    def line(self) -> str:
        o, d = self.options, sorted(self.delays)
        med = d[len(d) // 2] if d else float("nan")
        return (f"alpha={o.alpha:g} min_count={o.min_count} floor={o.floor_per_day:g}/day baseline={o.baseline_days}d: "
                f"calls={self.calls} cells={self.cells} false_alarms={self.false_alarms} "
                f"({self.false_alarms / 12:.1f}/month, max {max(self.false_by_month)} in a month) "
                f"detected={self.detected}/{self.spikes} ({self.detection_rate:.0%}) "
                f"delay_days median={med} max={max(d) if d else 'nan'} by_size="
                + ",".join(f"+{e}:{k}/{n}" for e, k, n in self.by_extra))


def current_units(path: Path = GAZETTEER) -> list[tuple[str, str]]:
    """(name, kind) of the gazetteer's current wards and communes."""
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            if len(row) > 5 and row[0] != "code" and row[2] in ("ward", "commune") and not row[5]:
                out.append((row[1], row[2]))
    return out


def simulate(*, year: int = 2025, calls_per_day: float = 150.0, n_spikes: int = 60, seed: int = 1,
             options_list: tuple[SpikeOptions, ...] = (SpikeOptions(),)) -> list[SimResult]:
    """One simulated year (plus the baseline days before it), scored for each of ``options_list``."""
    rng = np.random.default_rng(seed)
    units = current_units()
    topics = list(TOPIC_SHARES)
    unit_w = np.array([4.0 if kind == "ward" else 1.0 for _, kind in units]) * rng.lognormal(0, 0.8, len(units))
    unit_w /= unit_w.sum()
    share = np.array([TOPIC_SHARES[t] for t in topics])
    cells = [(t, u[0]) for t in topics for u in units]
    base_rate = (share[:, None] * unit_w[None, :]).ravel() * calls_per_day  # calls/day per cell
    warmup = max(o.baseline_days for o in options_list)
    first = date(year, 1, 1) - timedelta(days=warmup)
    n_days = (date(year + 1, 1, 1) - first).days
    rainy = np.array([RAINY.get(t, 1.0) for t in topics for _ in units])
    counts = np.zeros((n_days, len(cells)), dtype=np.int64)
    for d in range(n_days):
        day = first + timedelta(days=d)
        rate = base_rate * WEEKDAY[day.weekday()] * (rainy if day.month in RAINY_MONTHS else 1.0)
        if TET[0] <= day <= TET[1]:
            rate = rate * 0.5
        rate = rate * rng.gamma(20, 1 / 20) * rng.gamma(4, 1 / 4, len(cells))
        counts[d] = rng.poisson(rate)
    # planted spikes, inside the year (not the warm-up)
    pick = rng.choice(len(cells), size=n_spikes, replace=False, p=np.sqrt(base_rate) / np.sqrt(base_rate).sum())
    spikes = []
    for c in pick:
        start = int(rng.integers(warmup + 7, n_days - 4))
        length, extra = int(rng.integers(1, 4)), int(rng.choice([3, 5, 8]))
        counts[start:start + length, c] += rng.poisson(extra, length)
        spikes.append((int(c), start, length, extra))
    active: dict[tuple[int, int], int] = {}  # (cell, day) -> spike index; the day after counts too
    for i, (c, start, length, _) in enumerate(spikes):
        for d in range(start, start + length + 1):
            active.setdefault((c, d), i)
    cum = np.vstack([np.zeros((1, len(cells)), dtype=np.int64), counts.cumsum(axis=0)])
    cell_index = {c: i for i, c in enumerate(cells)}
    results = []
    for o in options_list:
        first_alarm: dict[int, int] = {}
        false_by_month = [0] * 12
        for d in range(warmup, n_days):
            today = counts[d]
            idx = np.nonzero(today >= o.min_count)[0]
            window = {cells[i]: int(today[i]) for i in idx}
            baseline = {cells[i]: int(cum[d, i] - cum[d - o.baseline_days, i]) for i in idx}
            for s in find_spikes(window, baseline, o):
                i = cell_index[(s.topic, s.ward)]
                k = active.get((i, d))
                if k is None:
                    false_by_month[(first + timedelta(days=d)).month - 1] += 1
                else:
                    first_alarm.setdefault(k, d - spikes[k][1])
        results.append(SimResult(days=n_days - warmup, cells=len(cells), calls=int(counts[warmup:].sum()),
                                 spikes=len(spikes), detected=len(first_alarm),
                                 delays=tuple(first_alarm.values()), false_alarms=sum(false_by_month),
                                 false_by_month=tuple(false_by_month), options=o,
                                 by_extra=tuple((e, sum(1 for k in first_alarm if spikes[k][3] == e),
                                                 sum(1 for s in spikes if s[3] == e)) for e in (3, 5, 8))))
    return results

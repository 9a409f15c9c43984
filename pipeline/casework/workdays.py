"""Working days for case deadlines: weekends and Vietnamese public holidays excluded.

The holidays are the ``holidays`` package's Vietnam calendar (``holidays.country_holidays("VN")``,
pinned in pyproject.toml): the Labour Code's days, Tết and Giỗ Tổ from the lunar calendar,
the weekend-to-weekday carry-overs, and the swaps the government announces for public
servants (a weekday off in exchange for a Saturday worked: the package's ``weekend_workdays``).
``models/data/vn_announced_days.csv`` adds what an announcement says and the pinned package
does not yet carry, each row with its source. ``models/data/case_deadlines.csv`` says how
many working days a unit has per topic. A deadline is the Nth working day *after* the day
the call came in (the day of receipt is not counted): a case opened on Friday with 2
working days is due on Tuesday, end of day.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays

from pipeline.analysis.places import DATA_DIR
from pipeline.errors import HotlineError

ANNOUNCED_CSV = DATA_DIR / "vn_announced_days.csv"
DEADLINES_CSV = DATA_DIR / "case_deadlines.csv"
MAX_DAYS = 3660  # a deadline search never walks further than this many calendar days
FIRST_YEAR = 2015  # the shipped calendar covers FIRST_YEAR … this year + 10 (MAX_DAYS ahead)


class CalendarDataError(HotlineError):
    """The holiday or deadline table is unreadable or has a bad row."""

    exit_code = 2


def _rows(path: Path) -> list[tuple[int, dict]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            numbered = [(n, line) for n, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise CalendarDataError(f"{path}: cannot read ({exc.strerror})") from exc
    reader = csv.DictReader(line for _, line in numbered)
    return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for (n, _), row in zip(numbered[1:], reader)]


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()  # days off (those on a weekend change nothing)
    extra_working: frozenset[date] = frozenset()  # weekend days worked in exchange

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start`` (``n = 0``: ``start`` if it is one, else the next)."""
        day = start.date() if isinstance(start, datetime) else start
        if n <= 0:
            for _ in range(MAX_DAYS):
                if self.is_working_day(day):
                    return day
                day += timedelta(days=1)
            raise CalendarDataError("no working day within ten years: check vn_announced_days.csv")
        left = n
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
                if left == 0:
                    return day
        raise CalendarDataError("no working day within ten years: check vn_announced_days.csv")

    def working_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """Working days in (start, end]: 0 when resolved the same day, negative never."""
        a = start.date() if isinstance(start, datetime) else start
        b = end.date() if isinstance(end, datetime) else end
        n, day = 0, a
        while day < b:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return n


def load_announced(path: str | Path = ANNOUNCED_CSV) -> WorkCalendar:
    """Read announced days (``date,kind,name,source``; kind ``holiday`` or ``working``) as a calendar of their own."""
    path = Path(path)
    off, on = set(), set()
    for line, row in _rows(path):
        try:
            day = date.fromisoformat(row.get("date", ""))
        except ValueError:
            raise CalendarDataError(f"{path}:{line}: date {row.get('date')!r} is not YYYY-MM-DD") from None
        kind = row.get("kind") or "holiday"
        if kind not in ("holiday", "working"):
            raise CalendarDataError(f"{path}:{line}: kind {kind!r} must be holiday or working")
        if not row.get("source"):
            raise CalendarDataError(f"{path}:{line}: say where the day was announced (source)")
        (off if kind == "holiday" else on).add(day)
    return WorkCalendar(frozenset(off), frozenset(on))


def vietnam_calendar(years: range, announced: WorkCalendar | None = None) -> WorkCalendar:
    """The ``holidays`` package's Vietnam calendar for ``years``, with ``announced`` days on top.

    An announced working day wins over the package's day off, an announced day off over
    the package's working Saturday (an announcement is newer than the pinned package).
    """
    vn = holidays.country_holidays("VN", years=years)
    announced = announced or WorkCalendar()
    off = (frozenset(vn) | announced.holidays) - announced.extra_working
    on = (frozenset(vn.weekend_workdays) | announced.extra_working) - announced.holidays
    return WorkCalendar(off, on)


def load_calendar(path: str | Path = ANNOUNCED_CSV, *, years: range | None = None) -> WorkCalendar:
    """The Vietnam calendar (``FIRST_YEAR`` … this year + 10 unless ``years``) with the announced days of ``path``."""
    years = years or range(FIRST_YEAR, date.today().year + 11)
    return vietnam_calendar(years, load_announced(path))


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    return load_calendar()


@dataclass(frozen=True)
class DeadlineRule:
    topic: str  # taxonomy key or *
    unit: str  # * or words the unit name contains (lower case)
    working_days: int
    urgent_working_days: int


def load_deadlines(path: str | Path = DEADLINES_CSV) -> tuple[DeadlineRule, ...]:
    path = Path(path)
    rules = []
    for line, row in _rows(path):
        try:
            days, urgent = int(row["working_days"]), int(row.get("urgent_working_days") or row["working_days"])
        except (KeyError, ValueError):
            raise CalendarDataError(f"{path}:{line}: working_days and urgent_working_days must be whole numbers") from None
        if days < 0 or urgent < 0:
            raise CalendarDataError(f"{path}:{line}: working days must not be negative")
        rules.append(DeadlineRule(row.get("topic") or "*", (row.get("unit") or "*").lower(), days, urgent))
    if not any(r.topic == "*" and r.unit == "*" for r in rules):
        raise CalendarDataError(f"{path}: needs a default row `*,*,DAYS,URGENT_DAYS`")
    return tuple(rules)


@functools.lru_cache(maxsize=1)
def default_deadlines() -> tuple[DeadlineRule, ...]:
    return load_deadlines()


def working_days_for(topic: str | None, unit: str | None, urgent: bool,
                     rules: tuple[DeadlineRule, ...] | None = None) -> int:
    """Working days allowed for a case: the most specific matching row of the deadline table."""
    rules = rules if rules is not None else default_deadlines()
    unit_l = (unit or "").lower()

    def rank(r: DeadlineRule) -> int | None:
        t_ok = r.topic == "*" or r.topic == topic
        u_ok = r.unit == "*" or (r.unit in unit_l and bool(unit_l))
        if not (t_ok and u_ok):
            return None
        return (2 if r.topic != "*" else 0) + (1 if r.unit != "*" else 0)

    best = max((r for r in rules if rank(r) is not None), key=rank)
    return best.urgent_working_days if urgent else best.working_days


def due_date(opened: date | datetime, topic: str | None, unit: str | None, urgent: bool,
             calendar: WorkCalendar | None = None, rules: tuple[DeadlineRule, ...] | None = None) -> date:
    """Last day (inclusive) to resolve a case opened at ``opened``."""
    calendar = calendar or default_calendar()
    return calendar.add_working_days(opened, working_days_for(topic, unit, urgent, rules))

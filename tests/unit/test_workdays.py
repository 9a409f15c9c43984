"""Deadline arithmetic: weekends, Vietnamese public holidays (data), make-up working days, the deadline table."""

from datetime import date, datetime

import pytest

from pipeline.casework import workdays
from pipeline.casework.workdays import CalendarDataError, WorkCalendar, load_calendar, load_deadlines, working_days_for


def test_weekends_are_skipped():
    cal = WorkCalendar()
    assert cal.add_working_days(date(2026, 10, 16), 1) == date(2026, 10, 19)  # Friday + 1 → Monday
    assert cal.add_working_days(datetime(2026, 10, 17, 9, 30), 1) == date(2026, 10, 19)  # a Saturday call
    assert cal.add_working_days(date(2026, 10, 12), 5) == date(2026, 10, 19)  # Monday + 5 → next Monday
    assert cal.add_working_days(date(2026, 10, 18), 0) == date(2026, 10, 19)  # 0 days: the next working day


def test_shipped_holidays_tet_and_national_day():
    cal = workdays.default_calendar()
    # Tết 2026 (16-20 Feb off): a call on Friday 13 Feb with 1 working day is due Monday 23 Feb.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # National Day 1-2 Sep 2026 (Tue, Wed): Monday + 2 → Friday 4 Sep.
    assert cal.add_working_days(date(2026, 8, 31), 2) == date(2026, 9, 4)
    assert not cal.is_working_day(date(2026, 4, 30)) and not cal.is_working_day(date(2026, 5, 1))


def test_make_up_saturday_counts_as_working():
    cal = workdays.default_calendar()
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday worked in exchange for Friday 2 May 2025
    assert cal.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)
    # 29 Apr (Tue) + 1 → 5 May: 30 Apr, 1 May, 2 May off, then the weekend.
    assert cal.add_working_days(date(2025, 4, 29), 1) == date(2025, 5, 5)


def test_working_days_between():
    cal = load_calendar()
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert cal.working_days_between(datetime(2026, 10, 12, 8), datetime(2026, 10, 12, 16)) == 0
    assert cal.working_days_between(date(2026, 10, 12), date(2026, 10, 26)) == 10


def test_deadline_table_most_specific_row_wins():
    assert working_days_for("utilities", "Công ty Điện lực Đắk Lắk", False) == 2  # topic + unit row
    assert working_days_for("utilities", "Công ty cấp nước", False) == 3  # topic row
    assert working_days_for("utilities", "Công ty cấp nước", True) == 1  # urgent column
    assert working_days_for("no_such_topic", None, False) == 10  # the * * default
    # Friday 20 Nov 2026 + 2 working days: Monday 23, (24 Nov holiday), Wednesday 25.
    assert workdays.due_date(datetime(2026, 11, 20, 10), "utilities", "Điện lực Đắk Lắk", False) == date(2026, 11, 25)


def test_bad_tables_name_the_line(tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("date,kind,name\n2026-13-01,holiday,x\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match=":2: date"):
        load_calendar(bad)
    bad.write_text("date,kind,name\n2026-12-01,maybe,x\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="kind 'maybe'"):
        load_calendar(bad)
    dl = tmp_path / "d.csv"
    dl.write_text("topic,unit,working_days,urgent_working_days\nland,*,30,5\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="default row"):
        load_deadlines(dl)

"""Deadline arithmetic: weekends, the `holidays` package's Vietnam calendar, announced swaps, the deadline table."""

from datetime import date, datetime, timedelta

import pytest

from pipeline.casework import workdays
from pipeline.casework.workdays import (
    CalendarDataError,
    WorkCalendar,
    load_announced,
    load_calendar,
    load_deadlines,
    vietnam_calendar,
    working_days_for,
)


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


# Every day of the hand-kept list the package replaced (models/data/vn_holidays.csv, removed):
# (date, off?) — the package must carry each, or vn_announced_days.csv must.
OLD_LIST = [
    ("2025-01-01", True), ("2025-01-27", True), ("2025-01-28", True), ("2025-01-29", True), ("2025-01-30", True),
    ("2025-01-31", True), ("2025-04-07", True), ("2025-04-26", False), ("2025-04-30", True), ("2025-05-01", True),
    ("2025-05-02", True), ("2025-09-01", True), ("2025-09-02", True),
    ("2026-01-01", True), ("2026-02-16", True), ("2026-02-17", True), ("2026-02-18", True), ("2026-02-19", True),
    ("2026-02-20", True), ("2026-04-27", True), ("2026-04-30", True), ("2026-05-01", True), ("2026-09-01", True),
    ("2026-09-02", True), ("2026-11-24", True),
    ("2027-01-01", True), ("2027-02-04", True), ("2027-02-05", True), ("2027-02-08", True), ("2027-02-09", True),
    ("2027-02-10", True), ("2027-04-16", True), ("2027-04-30", True), ("2027-05-03", True), ("2027-09-02", True),
    ("2027-09-03", True),
]


def test_the_package_carries_every_day_of_the_old_hand_kept_list():
    vn = vietnam_calendar(range(2025, 2028))
    for day, off in OLD_LIST:
        assert vn.is_working_day(date.fromisoformat(day)) is not off, day
    # and the days in between are working days: the package adds nothing the old list had not
    # except the 2026 swap the old list missed (Mon 31 Aug off, Sat 22 Aug worked) and Culture Day 2027
    listed = {date.fromisoformat(d) for d, _ in OLD_LIST} | {date(2026, 8, 31), date(2026, 8, 22), date(2027, 11, 24)}
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        if day not in listed:
            assert vn.is_working_day(day) is (day.weekday() < 5), day
        day += timedelta(days=1)


def test_the_2026_national_day_swap_moves_deadlines():
    cal = workdays.default_calendar()
    assert cal.is_working_day(date(2026, 8, 22))  # Saturday worked in exchange for Monday 31 Aug
    assert not cal.is_working_day(date(2026, 8, 31))
    # Friday 28 Aug + 1 working day: Saturday 22 Aug is behind it; 31 Aug, 1 and 2 Sep off → Thursday 3 Sep
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    # Friday 21 Aug + 1: the make-up Saturday 22 Aug counts
    assert cal.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert cal.working_days_between(date(2026, 8, 21), date(2026, 9, 3)) == 7  # Sat 22, Mon-Fri 24-28 Aug, Thu 3 Sep


def test_announced_days_win_over_the_package(tmp_path):
    notice = tmp_path / "announced.csv"
    notice.write_text("date,kind,name,source\n"
                      "2027-12-31,holiday,Nghỉ bù,Thông báo số 1/TB-BNV (example)\n"
                      "2028-01-08,working,Làm bù cho 31/12,Thông báo số 1/TB-BNV (example)\n", encoding="utf-8")
    cal = load_calendar(notice, years=range(2027, 2029))
    assert not cal.is_working_day(date(2027, 12, 31)) and cal.is_working_day(date(2028, 1, 8))
    # Fri 31 Dec off (announced), Sat 1 Jan carried to Mon 3 Jan (the package), so Tuesday 4 Jan
    assert cal.add_working_days(date(2027, 12, 30), 1) == date(2028, 1, 4)
    assert not cal.is_working_day(date(2027, 2, 8))  # the package's Tết stays
    no_source = tmp_path / "no_source.csv"
    no_source.write_text("date,kind,name,source\n2027-12-31,holiday,Nghỉ bù,\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match=":2: say where"):
        load_announced(no_source)


def test_shipped_announced_days_are_ones_the_package_lacks():
    shipped = load_announced()
    vn = vietnam_calendar(range(2015, date.today().year + 11))
    assert not (shipped.holidays & vn.holidays), "the package carries these now: delete them from vn_announced_days.csv"
    assert not (shipped.extra_working & vn.extra_working)


def test_deadline_table_most_specific_row_wins():
    assert working_days_for("utilities", "Công ty Điện lực Đắk Lắk", False) == 2  # topic + unit row
    assert working_days_for("utilities", "Công ty cấp nước", False) == 3  # topic row
    assert working_days_for("utilities", "Công ty cấp nước", True) == 1  # urgent column
    assert working_days_for("no_such_topic", None, False) == 10  # the * * default
    # Friday 20 Nov 2026 + 2 working days: Monday 23, (24 Nov holiday), Wednesday 25.
    assert workdays.due_date(datetime(2026, 11, 20, 10), "utilities", "Điện lực Đắk Lắk", False) == date(2026, 11, 25)


def test_bad_tables_name_the_line(tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("date,kind,name,source\n2026-13-01,holiday,x,y\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match=":2: date"):
        load_announced(bad)
    bad.write_text("date,kind,name,source\n2026-12-01,maybe,x,y\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="kind 'maybe'"):
        load_announced(bad)
    dl = tmp_path / "d.csv"
    dl.write_text("topic,unit,working_days,urgent_working_days\nland,*,30,5\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="default row"):
        load_deadlines(dl)

"""Working days as China counts them (DOMAIN.md §7)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacklist.core.workdays import (
    WorkdayCalendar,
    chinesecalendar_calendar,
    chinesecalendar_days,
    chinesecalendar_years,
    default_calendar,
)

SPRING_FESTIVAL_2025 = [date(2025, 1, 28) + timedelta(days=i) for i in range(8)]  # Tue to Tue


@pytest.fixture(scope="module")
def official() -> WorkdayCalendar:
    """A calendar of its own (not the shared default) so fallback_years starts empty."""
    return chinesecalendar_calendar()


# ------------------------------------------------------------------------------ the calendar


def test_spring_festival_2025_is_off_from_tuesday_28_january_to_tuesday_4_february(official):
    assert not any(official.is_workday(d) for d in SPRING_FESTIVAL_2025)
    assert official.is_workday(date(2025, 1, 27))
    assert official.is_workday(date(2025, 2, 5))


def test_sunday_26_january_and_saturday_8_february_2025_are_working_days(official):
    assert official.is_workday(date(2025, 1, 26))
    assert official.is_workday(date(2025, 2, 8))
    assert not official.is_workday(date(2025, 2, 9))


def test_an_ordinary_weekend_is_a_rest_day_and_an_ordinary_weekday_a_working_day(official):
    assert not official.is_workday(date(2025, 3, 8))
    assert not official.is_workday(date(2025, 3, 9))
    assert official.is_workday(date(2025, 3, 10))


# -------------------------------------------------------------------------------- add_workdays


def test_a_debt_paid_on_monday_27_january_2025_is_deleted_by_friday_7_february(official):
    assert official.add_workdays(date(2025, 1, 27), 3) == date(2025, 2, 7)


def test_a_trigger_on_friday_24_january_2025_counts_the_working_sunday(official):
    assert official.add_workdays(date(2025, 1, 24), 3) == date(2025, 2, 5)


def test_the_first_day_is_not_counted(official):
    assert official.add_workdays(date(2025, 3, 10), 1) == date(2025, 3, 11)
    assert official.add_workdays(date(2025, 3, 7), 1) == date(2025, 3, 10)


def test_zero_working_days_is_the_start_itself(official):
    assert official.add_workdays(date(2025, 2, 1), 0) == date(2025, 2, 1)


def test_a_negative_count_is_a_programming_error(official):
    with pytest.raises(ValueError):
        official.add_workdays(date(2025, 3, 10), -1)


def test_a_deadline_into_a_year_without_data_uses_monday_to_friday_and_says_so(caplog):
    official = chinesecalendar_calendar()

    with caplog.at_level(logging.WARNING, logger="blacklist.workdays"):
        due = official.add_workdays(date(2026, 12, 30), 3)

    assert due == date(2027, 1, 4)  # Thu 31, Fri 1 (no notice yet), Mon 4
    assert official.fallback_years == {2027}
    assert not official.knows_year(2027)
    assert [r.getMessage() for r in caplog.records] == [
        "no official working-day calendar for 2027: counting Monday to Friday as working days"
    ]


def test_the_fallback_is_logged_once_per_year(caplog):
    calendar = WorkdayCalendar({}, known_years=[2025])

    with caplog.at_level(logging.WARNING, logger="blacklist.workdays"):
        calendar.add_workdays(date(2026, 1, 1), 20)
        calendar.add_workdays(date(2027, 12, 20), 20)

    assert calendar.fallback_years == {2026, 2027, 2028}
    assert sorted(r.args[0] for r in caplog.records) == [2026, 2027, 2028]


def test_a_known_year_needs_no_fallback(caplog):
    official = chinesecalendar_calendar()

    with caplog.at_level(logging.WARNING, logger="blacklist.workdays"):
        official.add_workdays(date(2025, 1, 24), 30)

    assert official.fallback_years == set()
    assert caplog.records == []


# -------------------------------------------------------------------------------- period_end


def test_a_15_day_period_ending_on_a_saturday_ends_on_the_monday(official):
    assert official.period_end(date(2025, 3, 7), 15) == date(2025, 3, 24)


def test_a_period_ending_on_a_make_up_working_saturday_ends_that_saturday(official):
    assert official.period_end(date(2025, 1, 24), 15) == date(2025, 2, 8)


def test_a_period_ending_in_national_day_week_ends_on_the_first_working_day_after(official):
    # 2025: off Wed 1 October to Wed 8 October; Thu 9 October is the first working day.
    assert official.period_end(date(2025, 9, 16), 15) == date(2025, 10, 9)
    assert official.period_end(date(2025, 9, 28), 10) == date(2025, 10, 9)


def test_a_period_ending_on_a_working_day_is_not_moved(official):
    assert official.period_end(date(2025, 3, 3), 10) == date(2025, 3, 13)


# ------------------------------------------------------------------ workdays_between, next_workday


def test_working_days_left_before_a_deadline(official):
    assert official.workdays_between(date(2025, 2, 5), date(2025, 2, 7)) == 2
    assert official.workdays_between(date(2025, 1, 27), date(2025, 2, 7)) == 3
    assert official.workdays_between(date(2025, 2, 7), date(2025, 2, 7)) == 0


def test_working_days_overdue_are_negative(official):
    assert official.workdays_between(date(2025, 2, 10), date(2025, 2, 7)) == -2  # Sat 8 works
    assert official.workdays_between(date(2025, 3, 10), date(2025, 3, 7)) == -1


def test_next_workday_is_the_day_itself_or_the_first_after_the_holiday(official):
    assert official.next_workday(date(2025, 3, 10)) == date(2025, 3, 10)
    assert official.next_workday(date(2025, 1, 28)) == date(2025, 2, 5)
    assert official.next_workday(date(2025, 2, 8)) == date(2025, 2, 8)


@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 6, 30)),
    n=st.integers(0, 40),
)
def test_counting_back_the_working_days_added_gives_the_same_number(start, n):
    calendar = default_calendar()
    due = calendar.add_workdays(start, n)

    assert calendar.workdays_between(start, due) == n
    assert calendar.workdays_between(due, start) == -n
    assert n == 0 or calendar.is_workday(due)


# --------------------------------------------------------------------------- explicit entries


def test_explicit_entries_override_monday_to_friday():
    calendar = WorkdayCalendar({date(2030, 1, 1): False, date(2030, 1, 5): True})

    assert not calendar.is_workday(date(2030, 1, 1))  # a Tuesday holiday
    assert calendar.is_workday(date(2030, 1, 5))  # a working Saturday
    assert calendar.is_workday(date(2030, 1, 2))  # known year, ordinary Wednesday
    assert calendar.known_years == {2030}
    assert calendar.fallback_years == set()


def test_an_empty_calendar_falls_back_for_every_year():
    calendar = WorkdayCalendar({})

    assert calendar.add_workdays(date(2025, 1, 27), 3) == date(2025, 1, 30)
    assert calendar.fallback_years == {2025}


# ------------------------------------------------------------------------------ chinesecalendar


def test_the_package_years_start_in_2004_and_include_2026():
    years = chinesecalendar_years()

    assert years.start == 2004
    assert 2026 in years


def test_package_entries_hold_only_the_days_that_differ_from_monday_to_friday():
    days = chinesecalendar_days(2025)

    assert days is not None
    assert days[date(2025, 1, 28)] is False
    assert days[date(2025, 1, 26)] is True
    assert days[date(2025, 2, 8)] is True
    assert date(2025, 2, 1) not in days  # a Saturday inside the holiday: off anyway
    assert date(2025, 3, 10) not in days
    assert all(is_workday == (d.weekday() >= 5) for d, is_workday in days.items())


def test_the_package_has_no_entries_outside_its_years():
    assert chinesecalendar_days(2003) is None
    assert chinesecalendar_days(max(chinesecalendar_years()) + 1) is None


def test_the_default_calendar_is_built_once():
    assert default_calendar() is default_calendar()
    assert default_calendar().known_years == set(chinesecalendar_years())

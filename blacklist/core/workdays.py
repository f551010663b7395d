"""Working days (工作日) as China counts them (DOMAIN.md §7).

Arts. 9, 10 and 12 of the 2017 provisions set deadlines in working days, and China's working days
are not Monday to Friday: each year the State Council moves weekend days around the holidays (调休),
e.g. Spring Festival 2025 was off from Tue 28 January to Tue 4 February while Sun 26 January and
Sat 8 February were working days. The holiday table lives in the database (seeded from the
``chinesecalendar`` package, edited by an administrator when the next notice is out); this module
only computes with whatever entries it is given.

For a year nobody has entered yet, the calendar falls back to Monday–Friday, logs it once and
remembers the year in ``fallback_years`` so the caller can say the deadline was computed without the
official calendar. A deadline computation must never crash (§7).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

__all__ = [
    "WorkdayCalendar",
    "chinesecalendar_calendar",
    "chinesecalendar_days",
    "chinesecalendar_years",
    "default_calendar",
]

log = logging.getLogger("blacklist.workdays")

_ONE_DAY = timedelta(days=1)


class WorkdayCalendar:
    """Which dates are working days, given the official entries for some years.

    ``days`` maps a date to whether it is a working day: weekday holidays (False) and make-up
    working weekends (True); ordinary days may be listed too. ``known_years`` are the years whose
    entries are complete (default: the years present in ``days``); a date of a known year that is
    not in ``days`` follows Monday–Friday. Any other year falls back to Monday–Friday as well, but
    is logged once and recorded in ``fallback_years``.
    """

    def __init__(self, days: Mapping[date, bool], known_years: Iterable[int] | None = None) -> None:
        self._days: dict[date, bool] = dict(days)
        self.known_years: frozenset[int] = frozenset(
            {d.year for d in self._days} if known_years is None else known_years
        )
        self.fallback_years: set[int] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        years = sorted(self.known_years)
        span = f"{years[0]}-{years[-1]}" if years else "none"
        return f"WorkdayCalendar(known_years={span}, entries={len(self._days)})"

    def knows_year(self, year: int) -> bool:
        """Whether the official calendar of ``year`` is loaded (else Monday–Friday is assumed)."""
        return year in self.known_years

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day: the explicit entry if any, else Monday–Friday."""
        entry = self._days.get(d)
        if entry is not None:
            return entry
        if d.year not in self.known_years:
            self._record_fallback(d.year)
        return d.weekday() < 5

    def _record_fallback(self, year: int) -> None:
        with self._lock:
            if year in self.fallback_years:
                return
            self.fallback_years.add(year)
        log.warning(
            "no official working-day calendar for %d: counting Monday to Friday as working days",
            year,
        )

    def next_workday(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start``: the first day is not counted (Civil
        Procedure Law Art. 85), so deletion "within three working days" of a payment on Mon
        2025-01-27 is due on Fri 2025-02-07. ``n = 0`` gives ``start``."""
        if n < 0:
            raise ValueError("n must not be negative")
        d = start
        while n:
            d += _ONE_DAY
            if self.is_workday(d):
                n -= 1
        return d

    def period_end(self, start: date, days: int) -> date:
        """Last day of a period counted in plain days (15 days, 10 days): ``start + days``, moved to
        the next working day if that is a rest day (Civil Procedure Law Art. 85)."""
        if days < 0:
            raise ValueError("days must not be negative")
        return self.next_workday(start + timedelta(days=days))

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end], negative when ``end`` is before ``start``: "2 working days
        left" is ``workdays_between(today, due_on) == 2``, "1 day overdue" is ``-1``.
        ``workdays_between(s, add_workdays(s, n)) == n``."""
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            if self.is_workday(d):
                count += 1
        return count


def _package_tables() -> tuple[dict[date, str], dict[date, str]]:
    from chinese_calendar import holidays, workdays

    return holidays, workdays


@functools.cache
def chinesecalendar_years() -> range:
    """The years the ``chinesecalendar`` package has data for: the span of its holiday table,
    which is what the package itself checks before it raises ``NotImplementedError``."""
    holidays, _ = _package_tables()
    return range(min(holidays).year, max(holidays).year + 1)


def chinesecalendar_days(year: int) -> dict[date, bool] | None:
    """The entries of ``year`` from ``chinesecalendar`` that differ from Monday–Friday (weekday
    holidays False, working weekends True), to seed the holiday table; ``None`` if the package
    has no data for that year."""
    if year not in chinesecalendar_years():
        return None
    holidays, workdays = _package_tables()
    days = {d: False for d in holidays if d.year == year and d.weekday() < 5}
    days.update({d: True for d in workdays if d.year == year and d.weekday() >= 5})
    return days


def chinesecalendar_calendar() -> WorkdayCalendar:
    """A new calendar of every year ``chinesecalendar`` knows (no database needed)."""
    years = chinesecalendar_years()
    days: dict[date, bool] = {}
    for year in years:
        days.update(chinesecalendar_days(year) or {})
    return WorkdayCalendar(days, known_years=years)


@functools.cache
def default_calendar() -> WorkdayCalendar:
    """One shared ``chinesecalendar_calendar()``, for tests and the CLI without a database.
    Shared means its ``fallback_years`` collects the fallbacks of every caller."""
    return chinesecalendar_calendar()

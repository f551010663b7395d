"""Time, injected. Services take a ``Clock`` so the scheduler, the CLI and tests control "now".

Datetimes are timezone-aware UTC. Court dates (decision dates, deadlines) are dates in China Standard
Time (UTC+8, no daylight saving), so ``today()`` is the date in Beijing, not the server's local date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""

    def today(self) -> date:
        """Today's date in China Standard Time."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(CHINA_TZ).date()


class FixedClock:
    """A clock that stands still until moved: for tests and for replaying a day."""

    def __init__(self, now: datetime | date) -> None:
        self._now = _as_instant(now)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.astimezone(CHINA_TZ).date()

    def set(self, now: datetime | date) -> None:
        self._now = _as_instant(now)

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def _as_instant(value: datetime | date) -> datetime:
    """A date means 10:00 Beijing time on that day; a naive datetime is taken as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, 10, tzinfo=CHINA_TZ).astimezone(UTC)

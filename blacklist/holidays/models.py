"""The working-day table (DOMAIN.md §7): one row per day that differs from Monday–Friday (a weekday
off, or a weekend day worked, 调休). Seeded from the chinesecalendar package, edited by a court
administrator once the State Council's yearly notice is out; a year with at least one row is
"known", any other year falls back to Monday–Friday."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from blacklist.db import Base


class DaySource(StrEnum):
    CHINESECALENDAR = "chinesecalendar"
    ADMIN = "admin"


class Holiday(Base):
    """A day whose status is set explicitly: ``is_workday`` False for a holiday on a weekday, True
    for a weekend day worked. (A row may also restate the default, e.g. an administrator marking
    an ordinary day of a new year: that alone makes the year known.)"""

    __tablename__ = "holidays"

    on: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))

    def snapshot(self) -> dict[str, object]:
        """The row as audit before/after data."""
        return {
            "on": self.on.isoformat(),
            "is_workday": self.is_workday,
            "source": self.source,
            "note": self.note,
        }

    def __repr__(self) -> str:
        return f"<Holiday {self.on} {'workday' if self.is_workday else 'rest'} {self.source}>"

"""The working-day calendar as the courts keep it (DOMAIN.md §7).

``chinesecalendar`` knows 2004–2026 and nothing after; the State Council publishes the next year's
arrangement each November. So the table is seeded from the package and a court administrator adds
or corrects days when the notice is out; an administrator's row always wins over the package. A
year with no rows falls back to Monday–Friday (``WorkdayCalendar`` logs it and lists it in
``fallback_years``) — a deadline computation never crashes.

Every writer here takes the journal lock first (``lock_journal``): they all write an audit entry,
which takes it anyway, and taking it before reading the table also keeps a seeding run and an
administrator's edit from inserting the same day twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from blacklist.audit.services import record
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import Clock
from blacklist.core.errors import NotAllowed, NotFound, ValidationFailed
from blacklist.core.workdays import WorkdayCalendar, chinesecalendar_days, chinesecalendar_years
from blacklist.db import lock_journal
from blacklist.holidays.models import DaySource, Holiday

CALENDAR_ENTITY = ("calendar", "holidays")
NOTE_MAX = 200

_SESSION_KEY = "calendar"
_WRITTEN_KEY = "calendar_written"


# --- the cache --------------------------------------------------------------------------------
#
# Per engine: (version, days, known years). The version is read with one aggregate query on each
# load, so an edit made by another process is seen on its next request; an edit made here also
# drops the entry at once. Entries are replaced whole (one dict assignment), which is atomic under
# the GIL: a reader sees the old or the new entry, never half of one.

_Version = tuple[Any, ...]
_cache: dict[tuple[int, str], tuple[_Version, dict[date, bool], frozenset[int]]] = {}


def invalidate_calendar_cache(session: Session | None = None) -> None:
    """Forget loaded calendars: this session's, and the process-wide cache. Writers call it; tests
    that wipe the table behind the services' back may call it too."""
    if session is not None:
        session.info.pop(_SESSION_KEY, None)
    _cache.clear()


def _engine_key(session: Session) -> tuple[int, str]:
    engine = session.get_bind()
    # id() tells apart two in-memory SQLite databases, which share the URL "sqlite://".
    return id(engine), engine.url.render_as_string(hide_password=True)


def _version(session: Session) -> _Version:
    """What changes whenever the table does: count, latest edit, and how many rows are working
    days or an administrator's (so that an edit within the same clock tick, as in tests with a
    fixed clock, still changes the version)."""
    row = session.execute(
        select(
            func.count(),
            func.max(Holiday.updated_at),
            func.sum(case((Holiday.is_workday, 1), else_=0)),
            func.sum(case((Holiday.source == DaySource.ADMIN.value, 1), else_=0)),
        )
    ).one()
    return tuple(row)


def _mark_written(session: Session) -> None:
    """This transaction changed the table: stop sharing this session's view with the process-wide
    cache (it may still roll back)."""
    session.info[_WRITTEN_KEY] = True
    invalidate_calendar_cache(session)


def load_calendar(session: Session) -> WorkdayCalendar:
    """The working-day calendar from the table: every row, and as known years the years with at
    least one row. Cached for the session (``session.info["calendar"]``) and across sessions of the
    process while the table's version stays the same, so a request does not reload ~700 rows.

    Each session gets its own ``WorkdayCalendar`` object, so its ``fallback_years`` tell that
    request's caller which years were computed Monday–Friday.
    """
    cached = session.info.get(_SESSION_KEY)
    if cached is not None:
        return cached
    shareable = not session.info.get(_WRITTEN_KEY)
    key = _engine_key(session)
    version = _version(session)
    entry = _cache.get(key) if shareable else None
    if entry is not None and entry[0] == version:
        days, known = entry[1], entry[2]
    else:
        rows = session.execute(select(Holiday.on, Holiday.is_workday)).all()
        days = {on: is_workday for on, is_workday in rows}
        known = frozenset(d.year for d in days)
        if shareable:
            _cache[key] = (version, days, known)
    calendar = WorkdayCalendar(days, known_years=known)
    session.info[_SESSION_KEY] = calendar
    return calendar


# --- seeding ----------------------------------------------------------------------------------


def seed_from_chinesecalendar(
    session: Session, *, actor: Actor, clock: Clock, years: Iterable[int] | None = None
) -> int:
    """Add the ``chinesecalendar`` package's days (only those that differ from Monday–Friday) for
    ``years`` (default: every year the package knows; years it does not know are skipped). An
    existing row is never overwritten: an administrator's edit wins. Idempotent: a second run adds
    nothing and records nothing. Returns the number of days added; audited as ``calendar.seeded``.
    """
    lock_journal(session)
    wanted = sorted(set(chinesecalendar_years() if years is None else years))
    package_days: dict[date, bool] = {}
    for year in wanted:
        package_days.update(chinesecalendar_days(year) or {})
    if not package_days:
        return 0
    existing = set(
        session.scalars(
            select(Holiday.on).where(Holiday.on.between(min(package_days), max(package_days)))
        )
    )
    now = clock.now()
    added = [
        Holiday(
            on=day,
            is_workday=is_workday,
            source=DaySource.CHINESECALENDAR.value,
            note=_package_note(day, is_workday),
            updated_at=now,
            updated_by=actor.name,
        )
        for day, is_workday in sorted(package_days.items())
        if day not in existing
    ]
    if not added:
        return 0
    session.add_all(added)
    session.flush()
    _mark_written(session)
    seeded_years = sorted({h.on.year for h in added})
    record(
        session,
        actor,
        "calendar.seeded",
        CALENDAR_ENTITY,
        clock=clock,
        after={"added": len(added), "years": seeded_years},
    )
    return len(added)


def _package_note(day: date, is_workday: bool) -> str | None:
    """The holiday's Chinese name from the package ("春节"), marked for a make-up working day."""
    from chinese_calendar import Holiday as PackageHoliday
    from chinese_calendar import get_holiday_detail

    try:
        _, name = get_holiday_detail(day)
    except NotImplementedError:
        return None
    if name is None:
        return None
    label = next((h.chinese for h in PackageHoliday if h.value == name), name)
    return f"{label}调休上班" if is_workday else label


# --- an administrator's edits ------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not (actor.is_system or actor.has_role(Role.ADMIN)):
        raise NotAllowed("只有法院管理员可以修改工作日历")


def set_day(
    session: Session,
    on: date,
    is_workday: bool,
    *,
    note: str | None,
    actor: Actor,
    clock: Clock,
) -> Holiday:
    """Set one day as a working day or a rest day, as the State Council's notice says (DOMAIN.md
    §7). Only a court administrator (or the system) may; the row becomes the administrator's and
    survives reseeding. Entering any day of a new year makes that year known, so enter the whole
    notice. Audited as ``calendar.day_set`` with the row before and after."""
    _require_admin(actor)
    if isinstance(on, datetime) or not isinstance(on, date):
        raise ValidationFailed.on("on", "请填写日期")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed.on("note", f"备注不能超过{NOTE_MAX}个字")
    lock_journal(session)
    row = session.get(Holiday, on)
    before = row.snapshot() if row is not None else None
    if row is None:
        row = Holiday(on=on)
        session.add(row)
    row.is_workday = bool(is_workday)
    row.source = DaySource.ADMIN.value
    row.note = note
    row.updated_at = clock.now()
    row.updated_by = actor.name
    session.flush()
    _mark_written(session)
    record(
        session,
        actor,
        "calendar.day_set",
        ("holiday", on.isoformat()),
        clock=clock,
        before=before,
        after=row.snapshot(),
    )
    return row


def clear_day(session: Session, on: date, *, actor: Actor, clock: Clock) -> None:
    """Remove a day's row, so it follows Monday–Friday again (reseeding brings back the package's
    value, if the package has one). Only a court administrator (or the system); ``NotFound`` if
    there is no row. Audited as ``calendar.day_cleared`` with the row removed."""
    _require_admin(actor)
    lock_journal(session)
    row = session.get(Holiday, on)
    if row is None:
        raise NotFound(f"{on.isoformat()} 没有特别安排")
    before = row.snapshot()
    session.delete(row)
    session.flush()
    _mark_written(session)
    record(
        session,
        actor,
        "calendar.day_cleared",
        ("holiday", on.isoformat()),
        clock=clock,
        before=before,
    )


# --- reading ----------------------------------------------------------------------------------


class CalendarDay(NamedTuple):
    on: date
    is_workday: bool
    source: str
    note: str | None


@dataclass(frozen=True)
class YearView:
    """One year of the table for the administrator's page. ``known`` is False when the year has no
    rows: deadlines in it are counted Monday–Friday."""

    year: int
    known: bool
    days: list[CalendarDay]


def year_view(session: Session, year: int) -> YearView:
    """Every row of ``year``, by date."""
    rows = session.execute(
        select(Holiday.on, Holiday.is_workday, Holiday.source, Holiday.note)
        .where(Holiday.on.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(Holiday.on)
    ).all()
    days = [CalendarDay(*row) for row in rows]
    return YearView(year=year, known=bool(days), days=days)

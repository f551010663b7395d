"""Administrator page of the working-day calendar (DOMAIN.md §7): a year as twelve month grids, the
days that differ from Monday–Friday with their note and source, a form to enter the State
Council's notice day by day, and a quick check of "three working days after" a date.

The grid is drawn from ``year_view`` (the table's rows for the year, with note and source), the
check from ``load_calendar`` (what every deadline computation uses), so an edit shows in both.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for

from blacklist.core.actor import Role
from blacklist.core.errors import DomainError
from blacklist.db import get_session
from blacklist.holidays import services
from blacklist.holidays.models import DaySource
from blacklist.staff.auth import clock, current_actor, staff_page

bp = Blueprint("holidays", __name__, url_prefix="/staff/calendar", template_folder="templates")

#: Years the page accepts: wide enough for any court record, narrow enough to refuse nonsense.
FIRST_YEAR, LAST_YEAR = 1990, 2100
#: The quick check counts this many working days: the deadline of Arts. 9, 10 and 12.
CHECK_WORKDAYS = 3

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
SOURCE_LABELS = {DaySource.CHINESECALENDAR.value: "软件包", DaySource.ADMIN.value: "管理员"}
NO_DATA = "该年度尚无官方节假日数据，期限按周一至周五计算，请在国务院办公厅通知发布后录入"


@dataclass(frozen=True)
class GridDay:
    """One cell of a month grid. ``kind`` drives the colour: ``workday``, ``weekend`` (an ordinary
    Saturday or Sunday), ``holiday`` (a weekday off), ``makeup`` (a weekend day worked, 调休)."""

    on: date
    is_workday: bool
    kind: str
    note: str | None
    source: str | None

    @property
    def title(self) -> str:
        status = "工作日" if self.is_workday else "休息日"
        parts = [f"{self.on.isoformat()} 周{WEEKDAYS[self.on.weekday()]} {status}"]
        if self.note:
            parts.append(self.note)
        if self.source:
            parts.append(f"来源：{SOURCE_LABELS.get(self.source, self.source)}")
        return "，".join(parts)


def weekday_label(on: date) -> str:
    return f"周{WEEKDAYS[on.weekday()]}"


def _grid_day(on: date, row: services.CalendarDay | None) -> GridDay:
    weekend = on.weekday() >= 5
    if row is None:
        return GridDay(on, not weekend, "weekend" if weekend else "workday", None, None)
    if row.is_workday:
        kind = "makeup" if weekend else "workday"
    else:
        kind = "weekend" if weekend else "holiday"
    return GridDay(on, row.is_workday, kind, row.note, row.source)


def month_grids(view: services.YearView) -> list[tuple[int, list[list[GridDay | None]]]]:
    """Twelve (month, weeks) pairs; a week is seven cells Monday to Sunday, None outside the
    month. A date without a row follows Monday–Friday, as ``WorkdayCalendar`` does."""
    rows = {day.on: day for day in view.days}
    weeks_of = month_calendar.Calendar(firstweekday=0)
    grids = []
    for month in range(1, 13):
        weeks = [
            [_grid_day(on, rows.get(on)) if on.month == month else None for on in week]
            for week in weeks_of.monthdatescalendar(view.year, month)
        ]
        grids.append((month, weeks))
    return grids


def year_ranges(years: list[int]) -> str:
    """Sorted years as compact ranges: ``[2004, …, 2026, 2028]`` → "2004–2026、2028"."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _parse_date(raw: str | None) -> date | None:
    """A ``YYYY-MM-DD`` date, or None."""
    raw = (raw or "").strip()
    if len(raw) != 10:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _requested_year(raw: str | None, errors: dict[str, list[str]]) -> int:
    if raw is None or raw.strip() == "":
        return clock().today().year
    try:
        year = int(raw.strip())
    except ValueError:
        year = None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        errors["year"] = [f"年份应为{FIRST_YEAR}至{LAST_YEAR}之间的整数"]
        return clock().today().year
    return year


def _check(raw: str | None, errors: dict[str, list[str]]) -> dict | None:
    """The quick check: the third working day after a date, by the calendar deadlines use."""
    if raw is None or raw.strip() == "":
        return None
    start = _parse_date(raw)
    if start is None or not FIRST_YEAR <= start.year <= LAST_YEAR:
        errors["check"] = ["请按 YYYY-MM-DD 填写日期，例如 2025-01-27"]
        return None
    workdays = services.load_calendar(get_session())
    due = workdays.add_workdays(start, CHECK_WORKDAYS)
    unknown = [y for y in range(start.year, due.year + 1) if not workdays.knows_year(y)]
    return {"start": start, "due": due, "unknown_years": unknown}


def _edit_form(raw: str | None, view: services.YearView) -> dict:
    """The day form prefilled with a day's current arrangement (``?edit=YYYY-MM-DD``, the link of
    a grid cell)."""
    on = _parse_date(raw)
    if on is None:
        return {}
    row = next((day for day in view.days if day.on == on), None)
    is_workday = row.is_workday if row is not None else on.weekday() < 5
    return {
        "on": on.isoformat(),
        "is_workday": "1" if is_workday else "0",
        "note": (row and row.note) or "",
    }


def _render(status: int = 200, *, form: dict | None = None, errors: dict | None = None):
    """The page. ``year`` comes from the query string, or from the posted form (a refused edit
    shows the year it was made on)."""
    errors = dict(errors or {})
    year = _requested_year(request.values.get("year"), errors)
    check = _check(request.args.get("check"), errors)
    session = get_session()
    view = services.year_view(session, year)
    known_years = year_ranges(list(services.load_calendar(session).known_years))
    exceptional = [_grid_day(day.on, day) for day in view.days]
    if form is None:
        form = _edit_form(request.args.get("edit"), view)
    return (
        render_template(
            "holidays/calendar.html",
            view=view,
            grids=month_grids(view),
            exceptional=exceptional,
            known_years=known_years,
            first_year=FIRST_YEAR,
            last_year=LAST_YEAR,
            today=clock().today(),
            check=check,
            check_raw=request.args.get("check", ""),
            check_workdays=CHECK_WORKDAYS,
            form=form,
            errors=errors,
            no_data=NO_DATA,
            weekdays=WEEKDAYS,
            weekday_label=weekday_label,
            source_labels=SOURCE_LABELS,
            note_max=services.NOTE_MAX,
        ),
        status,
    )


@bp.get("/")
@staff_page(Role.ADMIN)
def calendar():
    """The year's calendar (``?year=YYYY``, default this year) and the check tool
    (``?check=YYYY-MM-DD``)."""
    return _render()


@bp.post("/days")
@staff_page(Role.ADMIN)
def set_day():
    """Enter one day of the State Council's notice as a working day or a rest day."""
    form = {key: request.form.get(key, "") for key in ("on", "is_workday", "note")}
    errors: dict[str, list[str]] = {}
    on = _parse_date(form["on"])
    if on is None:
        errors["on"] = ["请按 YYYY-MM-DD 填写日期，例如 2025-10-01"]
    elif not FIRST_YEAR <= on.year <= LAST_YEAR:
        errors["on"] = [f"日期应在{FIRST_YEAR}年至{LAST_YEAR}年之间"]
    if form["is_workday"] not in ("1", "0"):
        errors["is_workday"] = ["请选择工作日或休息日"]
    if errors:
        return _render(422, form=form, errors=errors)
    session = get_session()
    is_workday = form["is_workday"] == "1"
    try:
        services.set_day(
            session, on, is_workday, note=form["note"], actor=current_actor(), clock=clock()
        )
    except DomainError as error:
        session.rollback()
        return _render(error.status, form=form, errors=error.errors or {"on": [error.message]})
    session.commit()
    status = "工作日" if is_workday else "休息日"
    flash(f"已将 {on.isoformat()}（{weekday_label(on)}）设为{status}")
    return redirect(url_for("holidays.calendar", year=on.year))


@bp.post("/days/clear")
@staff_page(Role.ADMIN)
def clear_day():
    """Remove an administrator's entry: the day follows Monday–Friday again (or the package's
    value after the next seeding)."""
    on = _parse_date(request.form.get("on"))
    if on is None:
        flash("请按 YYYY-MM-DD 填写要清除的日期", "error")
        return redirect(url_for("holidays.calendar"))
    session = get_session()
    try:
        services.clear_day(session, on, actor=current_actor(), clock=clock())
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("holidays.calendar", year=on.year))
    session.commit()
    flash(f"已清除 {on.isoformat()}（{weekday_label(on)}）的特别安排，该日按周一至周五计算")
    return redirect(url_for("holidays.calendar", year=on.year))

"""``flask --app wsgi calendar …``: the working-day table from the command line. Commands act as the
system actor named "cli", through the same services as the administrator's page."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from blacklist.core.actor import Actor
from blacklist.core.clock import SystemClock
from blacklist.core.errors import DomainError
from blacklist.core.workdays import chinesecalendar_years
from blacklist.db import get_db
from blacklist.holidays.services import seed_from_chinesecalendar, set_day, year_view

calendar_cli = AppGroup("calendar", help="China's working-day calendar (holidays and 调休).")

CLI_ACTOR = Actor.system("cli")


@calendar_cli.command("seed")
def calendar_seed() -> None:
    """Add the chinesecalendar package's holidays; existing rows (an administrator's) are kept."""
    years = chinesecalendar_years()
    with get_db().session() as session:
        added = seed_from_chinesecalendar(session, actor=CLI_ACTOR, clock=SystemClock())
        session.commit()
    click.echo(f"calendar seeded: {added} days added (package years {years[0]}-{years[-1]})")


@calendar_cli.command("set")
@click.option(
    "--date", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD"
)
@click.option(
    "--workday/--rest-day",
    "is_workday",
    default=None,
    help="Whether the day is worked (调休上班) or a rest day (放假).",
)
@click.option("--note", default=None, help="e.g. 春节")
def calendar_set(on: datetime, is_workday: bool | None, note: str | None) -> None:
    """Set one day as a working day or a rest day (the State Council's notice)."""
    if is_workday is None:
        raise click.UsageError("pass --workday or --rest-day")
    day = on.date()
    with get_db().session() as session:
        try:
            set_day(session, day, is_workday, note=note, actor=CLI_ACTOR, clock=SystemClock())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
    click.echo(f"{day.isoformat()}: {'working day' if is_workday else 'rest day'}")


@calendar_cli.command("show")
@click.option("--year", required=True, type=int)
def calendar_show(year: int) -> None:
    """List the days of YEAR that differ from Monday–Friday, and whether the year is known."""
    with get_db().session() as session:
        view = year_view(session, year)
    if not view.known:
        click.echo(
            f"{year}: no calendar entered; deadlines in {year} fall back to Monday-Friday "
            "(enter the State Council's notice with `calendar set`)"
        )
        return
    click.echo(f"{year}: known, {len(view.days)} exceptional days")
    for day in view.days:
        status = "workday" if day.is_workday else "rest   "
        weekday = day.on.strftime("%a")
        click.echo(f"{day.on.isoformat()} {weekday} {status} {day.source:<15} {day.note or ''}")

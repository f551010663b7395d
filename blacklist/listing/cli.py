"""Demo data: ``flask --app wsgi seed-demo`` (the data itself is made in ``blacklist.demo``)."""

from __future__ import annotations

import time
import unicodedata

import click
from flask.cli import with_appcontext

from blacklist.core.clock import SystemClock
from blacklist.db import get_db
from blacklist.demo import (
    DEFAULT_LISTINGS,
    DEFAULT_SEED,
    DemoFailed,
    DemoRefused,
    DemoSummary,
)
from blacklist.demo import seed_demo as load_demo


@click.command("seed-demo")
@click.option(
    "--listings",
    type=click.IntRange(0, 5000),
    default=DEFAULT_LISTINGS,
    show_default=True,
    help="How many synthetic listings to make.",
)
@click.option(
    "--seed",
    "rng_seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed on the same day gives the same data.",
)
@with_appcontext
def seed_demo(listings: int, rng_seed: int) -> None:
    """Load demo courts, staff, the holiday calendar and synthetic listings, then print the demo
    logins. Runs only on an empty database (no courts yet)."""
    started = time.monotonic()
    with get_db().session() as session:
        try:
            summary = load_demo(session, clock=SystemClock(), rng_seed=rng_seed, listings=listings)
        except DemoRefused as error:
            raise click.ClickException(f"refusing to seed: {error}") from None
        except DemoFailed as error:
            raise click.ClickException(
                f"seed-demo failed part-way: {error}. Start again from an empty database."
            ) from error
    _print_summary(summary, time.monotonic() - started)


def _print_summary(summary: DemoSummary, seconds: float) -> None:
    echo = click.echo
    echo(
        f"Demo data loaded in {seconds:.1f} s (seed {summary.rng_seed}): "
        f"{summary.courts} courts, {summary.staff} staff accounts, "
        f"{summary.calendar_days} calendar days, {summary.listings} listings "
        f"({summary.organisations} organisations), {summary.audit_entries} audit entries, "
        f"{summary.change_log_items} change log items."
    )
    echo("")
    echo("Listings by status:")
    for status, count in summary.by_status.items():
        note = f"  ({summary.in_grace} in their grace period)" if status == "approved" else ""
        echo(f"  {status:<20}{count:>6}{note}")
    echo("Removed listings by kind:")
    for kind, count in summary.by_removal_kind.items():
        echo(f"  {kind:<20}{count:>6}")
    echo("Removal reasons:")
    for reason, count in summary.by_removal_reason.items():
        echo(f"  {reason:<28}{count:>6}")
    echo("Performance:")
    for status, count in summary.by_performance.items():
        echo(f"  {status:<20}{count:>6}")
    echo("Acts in the audit journal:")
    for action, count in summary.acts.items():
        echo(f"  {action:<28}{count:>6}")
    echo(
        f"Left for the scheduler: {summary.due_for_scheduler} listing(s) whose deletion is due "
        "(`make run` deletes them when it starts; or `flask --app wsgi scheduler run-once`)."
    )
    echo("")
    echo(f"Partners ({summary.hits} demo hits reported). Their API keys, shown once (more with")
    echo("`flask --app wsgi partners keys add --partner CODE`):")
    for code, name, key in summary.partners:
        echo(f"  {_pad(code, 12)} {_pad(name, 28)} {key}")
    echo("")
    echo("Courts and demo logins. DEMO CREDENTIALS ONLY: never use them outside a demo.")
    header = ("court", "name", "parent", "role", "username", "password", "display name")
    rows = []
    previous = None
    for login in summary.logins:
        first = login.court_code != previous
        previous = login.court_code
        rows.append(
            (
                login.court_code if first else "",
                login.court_name if first else "",
                (login.parent_code or "-") if first else "",
                login.role,
                login.username,
                login.password,
                login.display_name,
            )
        )
    widths = [max(_width(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        echo("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))

"""Flask commands (``flask --app wsgi …``). Each feature keeps its commands in its own ``cli.py``;
this module registers them and owns the ``db`` group."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from blacklist.db import get_db
from blacklist.migrate import current_revision, downgrade_database, upgrade_database

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade_database(get_db().engine, revision)
    click.echo(f"database at {current_revision(get_db().engine)}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    downgrade_database(get_db().engine, revision)
    click.echo(f"database at {current_revision(get_db().engine)}")


@db_cli.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    click.echo(current_revision(get_db().engine) or "empty")


def configure_logging() -> None:
    """Long-running commands (scheduler, push worker, serve) log their INFO lines to stderr, unless
    the host configured logging already."""
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # APScheduler logs every execution (the heartbeat every few seconds): warnings only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    from blacklist.audit.cli import audit_cli
    from blacklist.holidays.cli import calendar_cli
    from blacklist.listing.cli import seed_demo
    from blacklist.partners.cli import COMMANDS as partner_commands
    from blacklist.scheduler.cli import scheduler_cli, serve
    from blacklist.staff.cli import courts_cli, staff_cli

    for command in (
        db_cli,
        audit_cli,
        calendar_cli,
        courts_cli,
        staff_cli,
        seed_demo,
        *partner_commands,
        scheduler_cli,
        serve,
    ):
        app.cli.add_command(command)

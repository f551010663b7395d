"""Operator commands to set up a real court: ``courts create`` and ``staff create``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from blacklist.core.actor import Actor, Role
from blacklist.core.clock import SystemClock
from blacklist.core.errors import DomainError
from blacklist.db import get_db
from blacklist.staff import services

courts_cli = AppGroup("courts", help="Courts.")
staff_cli = AppGroup("staff", help="Court staff accounts.")


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.errors.items())
    raise click.ClickException(f"{error.message}{' (' + details + ')' if details else ''}")


@courts_cli.command("create")
@click.option("--code", required=True, help="Court code, e.g. BJ0105.")
@click.option("--name", required=True, help="Full name, e.g. 北京市朝阳区人民法院.")
@click.option("--province", required=True, help="Province, e.g. 北京.")
@click.option("--parent", "parent_code", help="Code of the next higher court.")
def create_court(code: str, name: str, province: str, parent_code: str | None) -> None:
    """Register a court."""
    with get_db().session() as session:
        try:
            court = services.create_court(
                session,
                code=code,
                name=name,
                province=province,
                parent_code=parent_code,
                actor=Actor.system("cli"),
                clock=SystemClock(),
            )
        except DomainError as error:
            _fail(error)
        click.echo(f"court {court.code} created: {court.name} ({court.province})")


@staff_cli.command("create")
@click.option("--court", "court_code", required=True, help="Court code.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--username", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
def create_staff(
    court_code: str, role: str, username: str, password: str, display_name: str | None
) -> None:
    """Create a staff account for a court."""
    with get_db().session() as session:
        try:
            user = services.create_staff_user(
                session,
                court_code=court_code,
                role=role,
                username=username,
                password=password,
                display_name=display_name,
                actor=Actor.system("cli"),
                clock=SystemClock(),
            )
        except DomainError as error:
            _fail(error)
        click.echo(f"staff user {user.username} ({user.role.value}) created for court {court_code}")

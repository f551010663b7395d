"""``flask --app wsgi audit …``: operator commands for the audit journal."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from blacklist.audit.services import verify
from blacklist.db import get_db

audit_cli = AppGroup("audit", help="The audit journal (append-only, hash-chained).")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute every hash of the audit chain; exit 1 if an entry was altered or removed."""
    session = get_db().session()
    try:
        result = verify(session)
    finally:
        session.close()
    if result.ok:
        click.echo(result.message)
        if result.last_seq is not None:
            click.echo(f"head: seq {result.last_seq} hash {result.last_hash}")
        return
    click.echo(result.message, err=True)
    raise SystemExit(1)

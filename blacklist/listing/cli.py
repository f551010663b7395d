"""Demo data: ``flask --app wsgi seed-demo``."""

from __future__ import annotations

import click


@click.command("seed-demo")
def seed_demo() -> None:
    """Seed demo courts, staff and listings."""
    raise click.ClickException("seed-demo is being written")

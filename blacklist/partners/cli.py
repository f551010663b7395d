"""Operator commands: ``partners create|list|update|rotate-secret|retry``, ``partners keys
add|revoke|list``, ``deliveries run [--once]|status``, ``feed prune``."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from blacklist.cli import configure_logging
from blacklist.core.actor import Actor
from blacklist.core.clock import SystemClock
from blacklist.core.errors import DomainError
from blacklist.db import get_db
from blacklist.partners import feed, services
from blacklist.partners.push import PushWorker
from blacklist.restrictions.catalogue import codes_of
from blacklist.staff.cli import _fail

partners_cli = AppGroup("partners", help="Partner agencies (joint sanctions).")
keys_cli = AppGroup("keys", help="API keys of a partner.")
partners_cli.add_command(keys_cli)
deliveries_cli = AppGroup("deliveries", help="Push delivery to partners' webhooks.")
feed_cli = AppGroup("feed", help="The change log partners follow.")

CLI = Actor.system("cli")


def _require_https() -> bool:
    return bool(current_app.config.get("WEBHOOK_REQUIRE_HTTPS"))


def _show_credentials(credentials: services.Credentials) -> None:
    click.echo("Shown once, never stored in the clear: hand them to the partner now.")
    if credentials.api_key:
        click.echo(f"  API key (id {credentials.key_id}): {credentials.api_key}")
    if credentials.signing_secret:
        click.echo(f"  webhook signing secret:  {credentials.signing_secret}")


@partners_cli.command("create")
@click.option("--code", required=True, help="Short code, e.g. caac.")
@click.option("--name", required=True, help="Full name, e.g. 中国民用航空局.")
@click.option("--measures", required=True, help="Comma-separated measure codes, e.g. flight.")
@click.option(
    "--scope", required=True, type=click.Choice(["restriction", "listing", "both"]),
    help="restriction records, full listing records, or both.",
)  # fmt: skip
@click.option("--webhook-url", help="Where to push the feed (https).")
def create(code: str, name: str, measures: str, scope: str, webhook_url: str | None) -> None:
    """Register a partner; prints its API key and webhook signing secret once."""
    with get_db().session() as session:
        try:
            partner, credentials = services.create_partner(
                session, code=code, name=name, measures=measures, scope=scope,
                webhook_url=webhook_url, require_https=_require_https(), actor=CLI,
                clock=SystemClock(),
            )  # fmt: skip
        except DomainError as error:
            _fail(error)
        click.echo(f"partner {partner.code} created: {partner.name}")
        _show_credentials(credentials)


@partners_cli.command("update")
@click.argument("code")
@click.option("--name")
@click.option("--measures", help="Comma-separated measure codes (replaces the current ones).")
@click.option("--scope", type=click.Choice(["restriction", "listing", "both"]))
@click.option("--webhook-url", help="New webhook URL; an empty string removes it.")
@click.option("--active/--inactive", default=None, help="Deactivate to cut off the partner.")
def update(code, name, measures, scope, webhook_url, active) -> None:
    """Change a partner's settings (only the options given)."""
    with get_db().session() as session:
        try:
            partner = services.get_partner(session, code)
            partner = services.update_partner(
                session, partner.code,
                name=partner.name if name is None else name,
                measures=codes_of(partner.measures) if measures is None else measures,
                scope=partner.scope.value if scope is None else scope,
                webhook_url=partner.webhook_url if webhook_url is None else webhook_url,
                is_active=partner.is_active if active is None else active,
                require_https=_require_https(), actor=CLI, clock=SystemClock(),
            )  # fmt: skip
        except DomainError as error:
            _fail(error)
        click.echo(f"partner {partner.code} updated")


@partners_cli.command("list")
def list_partners() -> None:
    """Every partner with its measures, scope, webhook, cursors and keys."""
    with get_db().session() as session:
        for p in services.list_partners(session):
            active = sum(1 for k in p.keys if k.revoked_at is None)
            pushed = p.cursor.pushed_seq if p.cursor else "-"
            click.echo(
                f"{p.code:<12} {'active' if p.is_active else 'INACTIVE':<8} {p.scope.value:<11} "
                f"acked={p.acked_seq} pushed={pushed} keys={active} "
                f"measures={','.join(codes_of(p.measures))} webhook={p.webhook_url or '-'}  {p.name}"
            )


@partners_cli.command("rotate-secret")
@click.argument("code")
def rotate_secret(code: str) -> None:
    """A new webhook signing secret (printed once); the next push is signed with it."""
    with get_db().session() as session:
        try:
            credentials = services.rotate_secret(session, code, actor=CLI, clock=SystemClock())
        except DomainError as error:
            _fail(error)
        _show_credentials(credentials)


@partners_cli.command("retry")
@click.argument("code")
def retry(code: str) -> None:
    """Push to the partner at the next opportunity instead of waiting out the back-off."""
    with get_db().session() as session:
        try:
            services.retry_push_now(session, code, actor=CLI, clock=SystemClock())
        except DomainError as error:
            _fail(error)
        click.echo(f"push to {code} is due now")


@keys_cli.command("add")
@click.option("--partner", "code", required=True)
@click.option("--label", default="", help="What the key is for, e.g. 'production 2026'.")
def keys_add(code: str, label: str) -> None:
    """Add an API key (printed once); the partner's other keys keep working."""
    with get_db().session() as session:
        try:
            _partner, credentials = services.add_key(
                session, code, label=label, actor=CLI, clock=SystemClock()
            )
        except DomainError as error:
            _fail(error)
        _show_credentials(credentials)


@keys_cli.command("revoke")
@click.option("--partner", "code", required=True)
@click.argument("key_id", type=int)
def keys_revoke(code: str, key_id: int) -> None:
    """Revoke an API key by its id (``partners keys list``)."""
    with get_db().session() as session:
        try:
            row = services.revoke_key(session, code, key_id, actor=CLI, clock=SystemClock())
        except DomainError as error:
            _fail(error)
        click.echo(f"key {row.id} ({row.prefix}…) of {code} revoked")


@keys_cli.command("list")
@click.option("--partner", "code", required=True)
def keys_list(code: str) -> None:
    """A partner's keys: id, prefix, label, created, revoked."""
    with get_db().session() as session:
        try:
            partner = services.get_partner(session, code)
        except DomainError as error:
            _fail(error)
        for key in partner.keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            click.echo(f"{key.id:>5} {key.prefix}…  {state:<24} {key.label}")


@deliveries_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--idle", default=1.0, show_default=True, help="Seconds to sleep when idle.")
def deliveries_run(once: bool, idle: float) -> None:
    """Push the feed to partners' webhooks (several workers may run at once on PostgreSQL)."""
    configure_logging()
    worker = PushWorker(get_db())
    if once:
        attempts = worker.run_once()
        for a in attempts:
            click.echo(
                f"{a.partner:<12} {a.outcome:<9} {a.webhook_id or '-'} seq {a.first_seq}-{a.last_seq}"
                f" items={a.items} {a.error or ''}"
            )
        click.echo(f"{len(attempts)} attempt(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"push worker {worker.name} running; Ctrl-C to stop")
    worker.run_forever(stop, idle_seconds=idle)


@deliveries_cli.command("status")
def deliveries_status() -> None:
    """Per partner: push cursor, failures, next attempt, last error."""
    with get_db().session() as session:
        for p in services.list_partners(session):
            c = p.cursor
            if not p.webhook_url or c is None:
                click.echo(f"{p.code:<12} no webhook (pull only)")
                continue
            click.echo(
                f"{p.code:<12} pushed={c.pushed_seq} failures={c.failures} "
                f"next={c.next_attempt_at:%Y-%m-%d %H:%M:%S} last_error={c.last_error or '-'}"
            )


@feed_cli.command("prune")
@click.option("--days", type=int, help="Keep this many days (default: FEED_RETENTION_DAYS).")
def feed_prune(days: int | None) -> None:
    """Delete change-log items older than the retention window."""
    days = days if days is not None else int(current_app.config["FEED_RETENTION_DAYS"])
    before = SystemClock().now() - timedelta(days=days)
    with get_db().session() as session:
        removed = feed.prune(session, before=before)
    click.echo(f"{removed} change(s) older than {days} days deleted")


COMMANDS = (partners_cli, deliveries_cli, feed_cli)

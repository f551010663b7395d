"""``flask --app wsgi scheduler run|run-once|status`` and ``flask --app wsgi serve`` (the web
server with the scheduler and the push worker as background threads, for ``make run``)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from blacklist.cli import configure_logging
from blacklist.core.clock import CHINA_TZ, SystemClock
from blacklist.db import get_db
from blacklist.scheduler.jobs import JOBS, JobContext, run_job
from blacklist.scheduler.models import JobRun, SchedulerState
from blacklist.scheduler.runner import SchedulerRunner, leader_lock, leader_state

scheduler_cli = AppGroup("scheduler", help="Scheduled jobs: delisting on time, deadline alerts.")

#: Settings the jobs read from the app's configuration.
JOB_SETTINGS = ("FEED_RETENTION_DAYS", "PARTNER_ACK_DEADLINE_MINUTES")


def job_settings(app: Flask) -> dict[str, Any]:
    return {name: app.config.get(name) for name in JOB_SETTINGS}


def _at(value) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@scheduler_cli.command("run")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between lock attempts.")
def run(poll: float) -> None:
    """Run the scheduler (a second one waits as a hot standby and takes over when the first
    stops or dies)."""
    configure_logging()
    runner = SchedulerRunner(
        get_db(), settings=job_settings(current_app), poll_seconds=poll,
        lock=leader_lock(get_db(), current_app.instance_path),
    )  # fmt: skip
    stop = threading.Event()

    def _stop(*_args: Any) -> None:
        stop.set()
        runner.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    click.echo(f"scheduler {runner.name}: waiting for the leader lock; Ctrl-C to stop")
    runner.run(stop)


@scheduler_cli.command("run-once")
@click.option("--job", "names", multiple=True, type=click.Choice(list(JOBS)), help="Only this job.")
@click.option("--force", is_flag=True, help="Run even while a scheduler leads (it would too).")
def run_once(names: tuple[str, ...], force: bool) -> None:
    """Run the jobs once and exit (cron, recovery after an outage). Refuses while a scheduler is
    leading, unless --force: the jobs are idempotent, but one runner at a time is the rule."""
    db = get_db()
    lock = leader_lock(db, current_app.instance_path)
    if not lock.acquire():
        if not force:
            raise click.ClickException(
                "a scheduler is running and leads the jobs (see `scheduler status`); "
                "use --force to run them here as well"
            )
        lock = None
    try:
        ctx = JobContext(db, SystemClock(), runner="run-once", settings=job_settings(current_app))
        failed = 0
        for name in names or tuple(JOBS):
            job_run = run_job(name, ctx)
            failed += job_run.status.value in ("failed", "partial")
            click.echo(f"{name:<20} {job_run.status.value:<8} {job_run.summary}")
            for error in job_run.errors or []:
                click.echo(f"    {error['row']}: {error['error']}")
    finally:
        if lock is not None:
            lock.release()
    if failed:
        raise SystemExit(1)


@scheduler_cli.command("status")
def status() -> None:
    """The leading scheduler, and per job its last run and its next one."""
    db = get_db()
    leader = leader_state(db, now=SystemClock().now())
    if leader["runner"] is None:
        click.echo("leader: none has run yet")
    else:
        state = "alive" if leader["alive"] else "NO RECENT HEARTBEAT"
        click.echo(f"leader: {leader['runner']} (heartbeat {_at(leader['heartbeat_at'])}, {state})")
    with db.session() as session:
        planned = {s.name: s.next_run_at for s in session.scalars(select(SchedulerState))}
        for name, job in JOBS.items():
            last = session.scalar(
                select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1)
            )
            last_text = (
                f"last {_at(last.started_at)} {last.status.value} ({last.summary})"
                if last
                else "never run"
            )
            click.echo(f"{name:<20} next {_at(planned.get(name))}  {last_text}  — {job.label}")


# --------------------------------------------------------------------------------------------------
# make run: everything in one process


def start_in_process(app: Flask) -> tuple[threading.Event, list[threading.Thread]]:
    """The scheduler and the push worker as daemon threads of this process (``make run``)."""
    from blacklist.partners.push import PushWorker

    db = get_db(app)
    stop = threading.Event()
    runner = SchedulerRunner(
        db, settings=job_settings(app), lock=leader_lock(db, app.instance_path)
    )
    worker = PushWorker(db)
    threads = [
        threading.Thread(target=runner.run, args=(stop,), name="scheduler", daemon=True),
        threading.Thread(target=worker.run_forever, args=(stop,), name="push", daemon=True),
    ]
    for thread in threads:
        thread.start()
    stop_runner = threading.Thread(
        target=lambda: (stop.wait(), runner.stop()), name="scheduler-stop", daemon=True
    )
    stop_runner.start()
    return stop, threads


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the app (development server) and, when SCHEDULER_IN_PROCESS is on, run the scheduler
    and the push worker in background threads of the same process."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    configure_logging()
    stop = None
    if app.config.get("SCHEDULER_IN_PROCESS"):
        stop, _threads = start_in_process(app)
        click.echo("scheduler and push worker running in this process")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if stop is not None:
            stop.set()

"""``flask --app wsgi scheduler run|run-once|status`` end to end: through Flask's CLI runner against
the test database (SQLite, or PostgreSQL with BLACKLIST_TEST_DATABASE_URL), and ``scheduler run``
as real processes (a hot standby taking over from a leader that is killed).

The commands run on the real clock (``SystemClock``), not on the app's ``CLOCK``: data is set up
on the fixed test clock (March 2025), so whatever fell due then is due "now" for the commands."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from blacklist import create_app
from blacklist.audit.models import AuditEntry
from blacklist.core.clock import CHINA_TZ
from blacklist.db import get_db
from blacklist.holidays import services as calendar
from blacklist.listing import services
from blacklist.listing.inputs import PaymentIn
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus
from blacklist.scheduler import jobs
from blacklist.scheduler.jobs import JOBS
from blacklist.scheduler.models import JobRun, RunStatus, SchedulerState
from blacklist.scheduler.runner import LEADER, leader_lock
from tests.factories import fast_password_hashing, publish_listing, setup_court

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _collect_garbage_of_earlier_tests():
    """As in test_cli.py: engines earlier tests left open are collected here, not mid-test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def app(database, session, clock, tmp_path):
    app = create_app(
        {"DATABASE_URL": database.url, "TESTING": True, "CLOCK": clock, "FEED_RETENTION_DAYS": 30}
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    get_db(app).dispose()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def read(database, query):
    with database.session() as s:
        return s.execute(query).all()


def runs(database) -> list[JobRun]:
    with database.session() as s:
        return list(s.scalars(select(JobRun).order_by(JobRun.id)))


@pytest.fixture
def due_listing(session, clock, monkeypatch) -> int:
    """A listing without a term paid in full on Mon 2025-03-03: due for deletion on 2025-03-06,
    long past on the real clock."""
    fast_password_hashing(monkeypatch)
    calendar.seed_from_chinesecalendar(session, actor=jobs.SCHEDULER, clock=clock, years=[2025])
    court = setup_court(session, clock)
    listing = publish_listing(session, clock, court)
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("100000.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    session.close()
    assert listing.deletion_due_on == date(2025, 3, 6)
    return listing.id


def status_of(database, listing_id: int) -> ListingStatus:
    return read(database, select(Listing.status).where(Listing.id == listing_id))[0][0]


# --------------------------------------------------------------------------------------------------
# run-once


def test_run_once_runs_every_job_once_records_each_run_and_exits(cli, database, due_listing):
    result = cli.invoke(args=["scheduler", "run-once"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(JOBS)
    assert all(line.split()[1] == "ok" for line in lines), result.output
    assert "deletions_due        ok       1 listing(s) deleted" in lines
    recorded = runs(database)
    assert [r.job for r in recorded] == list(JOBS)
    assert {(r.runner, r.status) for r in recorded} == {("run-once", RunStatus.OK)}
    assert all(r.finished_at is not None for r in recorded)
    # The real clock: started within the last minute, not on the app's fixed clock.
    assert all(datetime.now(UTC) - r.started_at < timedelta(minutes=1) for r in recorded)
    assert status_of(database, due_listing) is ListingStatus.REMOVED

    again = cli.invoke(args=["scheduler", "run-once"])  # idempotent
    assert again.exit_code == 0, again.output
    assert "deletions_due        ok       0 listing(s) deleted" in again.output


def test_run_once_with_job_runs_only_the_jobs_named(cli, database, due_listing):
    result = cli.invoke(
        args=["scheduler", "run-once", "--job", "expire_terms", "--job", "deletions_due"]
    )

    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.strip().splitlines()] == [
        "expire_terms",
        "deletions_due",
    ]
    assert [r.job for r in runs(database)] == ["expire_terms", "deletions_due"]
    assert status_of(database, due_listing) is ListingStatus.REMOVED


def test_run_once_refuses_an_unknown_job_and_runs_nothing(cli, database):
    result = cli.invoke(args=["scheduler", "run-once", "--job", "delete_everything"])

    assert result.exit_code == 2
    assert "delete_everything" in result.output and "deletions_due" in result.output
    assert runs(database) == []


def test_run_once_exits_with_1_when_a_job_fails_and_shows_why(cli, database, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(jobs, "_due_ids", broken)

    result = cli.invoke(args=["scheduler", "run-once"])

    assert result.exit_code == 1, result.output
    assert "expire_terms         failed   RuntimeError: database gone" in result.output
    assert "    expire_terms: RuntimeError: database gone" in result.output
    # The other jobs still ran.
    statuses = {r.job: r.status for r in runs(database)}
    assert set(statuses) == set(JOBS)
    assert statuses["deadline_alerts"] is RunStatus.OK
    assert statuses["deletions_due"] is RunStatus.FAILED


def test_run_once_exits_with_1_when_a_row_fails_and_names_the_row(
    cli, database, due_listing, monkeypatch
):
    def refuse(*_args, **_kwargs):
        raise RuntimeError("partner feed locked")

    monkeypatch.setattr(services, "carry_out_due_deletion", refuse)

    result = cli.invoke(args=["scheduler", "run-once", "--job", "deletions_due"])

    assert result.exit_code == 1, result.output
    assert "deletions_due        partial  0 listing(s) deleted, 1 failed" in result.output
    assert f"    listing:{due_listing}: RuntimeError: partner feed locked" in result.output
    assert status_of(database, due_listing) is ListingStatus.PUBLISHED


def test_run_once_refuses_while_a_scheduler_leads_unless_forced(app, cli, database, due_listing):
    held = leader_lock(database, app.instance_path)  # a running scheduler's lock
    assert held.acquire()
    try:
        refused = cli.invoke(args=["scheduler", "run-once"])

        assert refused.exit_code == 1
        assert "a scheduler is running" in refused.output and "--force" in refused.output
        assert runs(database) == []
        assert status_of(database, due_listing) is ListingStatus.PUBLISHED

        forced = cli.invoke(args=["scheduler", "run-once", "--force", "--job", "deletions_due"])

        assert forced.exit_code == 0, forced.output
        assert status_of(database, due_listing) is ListingStatus.REMOVED
        # It did not take (or drop) the running scheduler's lock.
        assert held.is_held()
        other = leader_lock(database, app.instance_path)
        assert other.acquire() is False
    finally:
        held.release()


def test_run_once_releases_its_lock_when_done(app, cli, database):
    assert cli.invoke(args=["scheduler", "run-once", "--job", "prune_feed"]).exit_code == 0
    lock = leader_lock(database, app.instance_path)
    try:
        assert lock.acquire() is True
    finally:
        lock.release()


# --------------------------------------------------------------------------------------------------
# status


def test_status_before_anything_ran(cli):
    result = cli.invoke(args=["scheduler", "status"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "leader: none has run yet"
    assert [line.split()[0] for line in lines[1:]] == list(JOBS)
    for line, job in zip(lines[1:], JOBS.values(), strict=True):
        assert "next -" in line and "never run" in line and job.label in line


def _beijing(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def test_status_shows_the_leader_the_last_runs_and_the_next_ones(cli, database, session):
    assert cli.invoke(args=["scheduler", "run-once", "--job", "deletions_due"]).exit_code == 0
    [last] = runs(database)
    now = datetime.now(UTC).replace(microsecond=0)
    nightly = datetime(2030, 1, 2, 2, 30, tzinfo=CHINA_TZ)
    session.add_all(
        [
            SchedulerState(name=LEADER, runner="host-1:4242:abc123", updated_at=now),
            SchedulerState(
                name="deletions_due", runner="host-1:4242:abc123",
                next_run_at=now + timedelta(minutes=10), updated_at=now,
            ),
            SchedulerState(
                name="verify_audit", runner="host-1:4242:abc123", next_run_at=nightly,
                updated_at=now,
            ),
        ]
    )  # fmt: skip
    session.commit()
    session.close()

    result = cli.invoke(args=["scheduler", "status"])

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.strip().splitlines()}
    assert lines["leader:"] == f"leader: host-1:4242:abc123 (heartbeat {_beijing(now)}, alive)"
    deletions = lines["deletions_due"]
    assert f"next {_beijing(now + timedelta(minutes=10))}" in deletions
    assert f"last {_beijing(last.started_at)} ok (0 listing(s) deleted)" in deletions
    assert "next 2030-01-02 02:30:00" in lines["verify_audit"]
    assert "never run" in lines["verify_audit"]
    assert "next -" in lines["expire_terms"]


def test_status_says_when_the_leaders_heartbeat_is_old(cli, session):
    old = datetime.now(UTC) - timedelta(minutes=10)
    session.add(SchedulerState(name=LEADER, runner="host-1:4242:abc123", updated_at=old))
    session.commit()
    session.close()

    result = cli.invoke(args=["scheduler", "status"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"leader: host-1:4242:abc123 (heartbeat {_beijing(old)}, NO RECENT HEARTBEAT)"
    )


# --------------------------------------------------------------------------------------------------
# scheduler run, as processes


class Scheduler:
    """``flask --app wsgi scheduler run --poll 0.2`` in a process of its own."""

    def __init__(self, database, tmp_path: Path, name: str) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BLACKLIST_CONFIG": "testing",
            "BLACKLIST_DATABASE_URL": database.url,
            "BLACKLIST_INSTANCE_PATH": str(tmp_path / "instance"),
        }
        self.out = open(tmp_path / f"{name}.out", "w+")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", "--poll", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        self.marker = f":{self.process.pid}:"

    def ran(self, database) -> set[str]:
        """The jobs this process has finished."""
        return {r.job for r in runs(database) if self.marker in r.runner and r.finished_at}

    def output(self) -> str:
        return Path(self.out.name).read_text()

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self.out.close()


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_standby_process_takes_over_when_the_leading_process_is_killed(
    cli, database, tmp_path, due_listing
):
    at_start = {name for name, job in JOBS.items() if job.at_start}
    first = Scheduler(database, tmp_path, "first")
    second = None
    try:
        assert wait_for(lambda: at_start <= first.ran(database)), first.output()
        assert status_of(database, due_listing) is ListingStatus.REMOVED
        second = Scheduler(database, tmp_path, "second")
        assert wait_for(lambda: "waiting for the leader lock" in second.output())
        time.sleep(1.0)  # five lock attempts
        assert second.ran(database) == set()
        # While a scheduler leads, run-once refuses.
        assert cli.invoke(args=["scheduler", "run-once"]).exit_code == 1

        first.stop(signal.SIGKILL)  # no clean-up at all: the lock goes with the process

        assert wait_for(lambda: at_start <= second.ran(database)), second.output()
        assert wait_for(lambda: second.marker in leader_runner(database)), leader_runner(database)
        assert second.stop(signal.SIGTERM) == 0, second.output()
        assert "released the leader lock" in second.output()
        second = None
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop(signal.SIGKILL)
    # The listing was deleted exactly once, by the first process.
    deleted = read(
        database,
        select(AuditEntry.actor_name).where(
            AuditEntry.action == "listing.deleted", AuditEntry.entity_id == str(due_listing)
        ),
    )
    assert deleted == [("scheduler",)]


def leader_runner(database) -> str:
    rows = read(database, select(SchedulerState.runner).where(SchedulerState.name == LEADER))
    return rows[0][0] if rows else ""

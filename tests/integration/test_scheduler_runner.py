"""One active scheduler at a time (DESIGN.md §7): the leader locks (a PostgreSQL advisory lock on a
connection of its own, an ``flock`` on SQLite), and ``SchedulerRunner`` — the leader runs the jobs,
a second runner waits as a hot standby and takes over when the first stops, dies or loses its
lock; the leader records its heartbeat and each job's next run (``SchedulerState``).

Runners run in threads of this process with a small ``poll_seconds``; the tests wait for
conditions with a deadline rather than sleeping."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from blacklist.core.clock import CHINA_TZ, SystemClock
from blacklist.db import Database
from blacklist.holidays import services as calendar
from blacklist.listing import services
from blacklist.listing.inputs import PaymentIn
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus
from blacklist.scheduler import jobs
from blacklist.scheduler.jobs import JOBS, Job, JobContext, Outcome
from blacklist.scheduler.models import JobRun, RunStatus, SchedulerState
from blacklist.scheduler.runner import (
    LEADER,
    LEADER_LOCK_KEY,
    FileLeaderLock,
    PostgresLeaderLock,
    SchedulerRunner,
    leader_lock,
    leader_state,
)
from tests.conftest import make_vault
from tests.factories import fast_password_hashing, publish_listing, setup_court

POLL = 0.2
ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def read(database: Database, query):
    """One query in a short transaction of its own (never holding SQLite's write lock)."""
    with database.session() as s:
        return s.execute(query).all()


def job_runs(database: Database) -> list[JobRun]:
    with database.session() as s:
        return list(s.scalars(select(JobRun).order_by(JobRun.id)))


def states(database: Database) -> dict[str, SchedulerState]:
    with database.session() as s:
        return {state.name: state for state in s.scalars(select(SchedulerState))}


@dataclass
class Probe:
    """A job function that records which runner ran it, and when (monotonic); ``hold`` makes the
    runs of the runners named in it wait until it is set."""

    calls: list[tuple[str, float, float]] = field(default_factory=list)
    #: (runner, monotonic start) of every run, recorded as it starts (before any hold).
    started: list[tuple[str, float]] = field(default_factory=list)
    hold: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, ctx: JobContext) -> Outcome:
        started = time.monotonic()
        with self.lock:
            self.started.append((ctx.runner, started))
        if ctx.runner in self.hold:
            self.hold[ctx.runner].wait(10)
        with self.lock:
            self.calls.append((ctx.runner, started, time.monotonic()))
        return Outcome(touched=0, summary=f"probed by {ctx.runner}")

    def runners(self) -> list[str]:
        with self.lock:
            return [name for name, _started, _finished in self.calls]

    def count(self, name: str) -> int:
        return self.runners().count(name)

    def starts(self, name: str) -> list[float]:
        with self.lock:
            return [at for runner, at in self.started if runner == name]


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def probe_jobs(probe, monkeypatch) -> dict[str, Job]:
    """A tiny registry: one job every half second, run at start. It is also put into ``JOBS``,
    because ``SchedulerRunner._run`` looks the job up there (see the xfail test below)."""
    registry = {"probe": Job("probe", probe, "探针", ("interval", {"seconds": 0.5}))}
    monkeypatch.setitem(JOBS, "probe", registry["probe"])
    return registry


@pytest.fixture
def runners(session):
    """``start(runner)`` runs it in a thread; at the end every runner is stopped and joined (before
    the ``session`` fixture empties the tables)."""
    started: list[tuple[SchedulerRunner, threading.Thread]] = []

    def start(runner: SchedulerRunner, stop: threading.Event | None = None) -> threading.Thread:
        thread = threading.Thread(
            target=runner.run, args=(stop,) if stop else (), name=f"runner {runner.name}"
        )
        thread.start()
        started.append((runner, thread))
        return thread

    yield start
    for runner, _thread in started:
        runner.stop()
    for runner, thread in started:
        thread.join(15)
        assert not thread.is_alive(), f"runner {runner.name} did not stop"


def runner(database, tmp_path, name: str, jobs: dict[str, Job] | None = None, **kwargs):
    return SchedulerRunner(
        database,
        lock=leader_lock(database, str(tmp_path)),
        name=name,
        poll_seconds=kwargs.pop("poll_seconds", POLL),
        jobs=jobs,
        **kwargs,
    )


# --------------------------------------------------------------------------------------------------
# The file lock (SQLite)


def test_two_file_locks_on_the_same_file_exclude_each_other(tmp_path):
    path = tmp_path / "sub" / "scheduler.lock"
    first, second = FileLeaderLock(path), FileLeaderLock(path)
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert (first.is_held(), second.is_held()) == (True, False)

        first.release()
        assert first.is_held() is False
        assert second.acquire() is True
        assert first.acquire() is False
    finally:
        first.release()
        second.release()
    first.release()  # releasing twice is harmless


def test_a_file_lock_held_by_a_process_that_dies_is_free_again(tmp_path):
    """The kernel drops an ``flock`` when its process dies (SIGKILL: no clean-up at all)."""
    path = tmp_path / "scheduler.lock"
    script = (
        "import sys, time\n"
        "from blacklist.scheduler.runner import FileLeaderLock\n"
        "lock = FileLeaderLock(sys.argv[1])\n"
        "print('held' if lock.acquire() else 'refused', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lock = FileLeaderLock(path)
    try:
        assert process.stdout.readline().strip() == "held"
        assert lock.acquire() is False
        process.kill()
        process.wait(10)
        assert lock.acquire() is True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        process.stdout.close()
        lock.release()


def test_the_lock_fits_the_database(database, tmp_path):
    lock = leader_lock(database, str(tmp_path))
    if database.dialect == "postgresql":
        assert isinstance(lock, PostgresLeaderLock)
    else:
        assert isinstance(lock, FileLeaderLock)
        assert lock.path == Path(database.engine.url.database + ".scheduler.lock")
    memory = Database("sqlite://")
    try:
        in_memory = leader_lock(memory, str(tmp_path))
        assert isinstance(in_memory, FileLeaderLock)
        assert in_memory.path == tmp_path / "scheduler.lock"
    finally:
        memory.dispose()


# --------------------------------------------------------------------------------------------------
# The advisory lock (PostgreSQL)


def advisory_holders(database: Database) -> list[int]:
    """Backend pids holding the leader's advisory lock."""
    return [
        pid
        for (pid,) in read(
            database,
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = :key AND classid = 0 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ).bindparams(key=LEADER_LOCK_KEY),
        )
    ]


def terminate(database: Database, pid: int) -> None:
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


@pytest.fixture
def postgres(database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("the advisory lock needs PostgreSQL (BLACKLIST_TEST_DATABASE_URL)")
    return database


@pytest.fixture
def second_process_db(postgres):
    """Another engine on the same database, as another process would have."""
    other = Database(postgres.url, vault=make_vault())
    yield other
    other.dispose()


@pytest.mark.postgres
def test_two_advisory_locks_exclude_each_other_and_release_lets_the_other_in(
    postgres, second_process_db
):
    first, second = PostgresLeaderLock(postgres), PostgresLeaderLock(second_process_db)
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert PostgresLeaderLock(postgres).acquire() is False  # same engine, other connection
        assert (first.is_held(), second.is_held()) == (True, False)
        assert len(advisory_holders(postgres)) == 1

        first.release()
        assert first.is_held() is False
        assert advisory_holders(postgres) == []
        assert second.acquire() is True
        assert first.acquire() is False
    finally:
        first.release()
        second.release()
    assert advisory_holders(postgres) == []


@pytest.mark.postgres
def test_an_advisory_lock_dies_with_its_connection(postgres, second_process_db):
    holder, other = PostgresLeaderLock(postgres), PostgresLeaderLock(second_process_db)
    try:
        assert holder.acquire() is True
        [pid] = advisory_holders(postgres)

        terminate(postgres, pid)  # the server drops the connection (a crash, a network cut)

        assert wait_for(lambda: other.acquire(), timeout=5)
        assert holder.is_held() is False
    finally:
        holder.release()  # on a dead connection: logged, not raised
        other.release()
    assert holder.connection is None
    assert advisory_holders(postgres) == []


# --------------------------------------------------------------------------------------------------
# Two runners: one leads, the other waits


def test_of_two_runners_exactly_one_leads_and_runs_the_jobs(
    database, tmp_path, probe, probe_jobs, runners
):
    a = runner(database, tmp_path, "A", probe_jobs)
    b = runner(database, tmp_path, "B", probe_jobs)
    runners(a)
    runners(b)

    assert wait_for(lambda: a.leading.is_set() or b.leading.is_set())
    leader, standby = (a, b) if a.leading.is_set() else (b, a)
    assert wait_for(lambda: len(probe.runners()) >= 3)  # at start, then every half second

    assert set(probe.runners()) == {leader.name}
    assert not standby.leading.is_set()
    assert {r.runner for r in job_runs(database)} == {leader.name}
    assert {r.job for r in job_runs(database)} == {"probe"}
    assert wait_for(lambda: LEADER in states(database))
    assert {s.runner for s in states(database).values()} == {leader.name}


def test_when_the_leader_stops_the_standby_takes_over(
    database, tmp_path, probe, probe_jobs, runners
):
    a = runner(database, tmp_path, "A", probe_jobs)
    b = runner(database, tmp_path, "B", probe_jobs)
    thread_a = runners(a)
    assert wait_for(a.leading.is_set)
    runners(b)
    assert wait_for(lambda: probe.count("A") >= 1)

    a.stop()
    thread_a.join(10)
    stopped = time.monotonic()

    assert not thread_a.is_alive()
    assert not a.leading.is_set()
    assert wait_for(b.leading.is_set, timeout=5)
    assert wait_for(lambda: probe.count("B") >= 2, timeout=5)
    time.sleep(0.6)  # more than one interval of the job
    # At most the run already handed to A's executor (the xfail test below), nothing later.
    late = [at - stopped for at in probe.starts("A") if at >= stopped]
    assert len(late) <= 1 and all(delay < 0.4 for delay in late), late
    assert wait_for(lambda: states(database)[LEADER].runner == "B")
    assert "B" in {r.runner for r in job_runs(database)}

    # And back: A starts again, now as the standby.
    a2 = runner(database, tmp_path, "A2", probe_jobs)
    runners(a2)
    time.sleep(3 * POLL)
    assert not a2.leading.is_set()
    assert "A2" not in probe.runners()


def test_the_new_leader_runs_nothing_while_the_old_leaders_job_is_still_running(
    database, tmp_path, probe, probe_jobs, runners
):
    release = threading.Event()
    probe.hold["A"] = release
    a = runner(database, tmp_path, "A", probe_jobs)
    b = runner(database, tmp_path, "B", probe_jobs)
    runners(a)
    assert wait_for(a.leading.is_set)
    runners(b)
    assert wait_for(lambda: probe.starts("A"))  # A's first run is under way, held

    stopping = threading.Thread(target=a.stop)  # a fix may make stop() wait for the job
    stopping.start()
    time.sleep(1.5)  # B tries the lock every 0.2 s: time enough to take over if it is free
    release.set()
    stopping.join(10)

    assert wait_for(lambda: probe.count("A") == 1)
    assert wait_for(lambda: probe.count("B") >= 1, timeout=5)  # B takes over once A is done
    [(_, _, a_finished)] = [c for c in probe.calls if c[0] == "A"]
    b_started = min(started for name, started, _ in probe.calls if name == "B")
    assert b_started >= a_finished


def test_a_runner_runs_the_jobs_of_its_own_registry(database, tmp_path, probe, runners):
    registry = {"own_probe": Job("own_probe", probe, "探针", ("interval", {"seconds": 0.5}))}
    a = runner(database, tmp_path, "A", registry)
    runners(a)

    assert wait_for(lambda: probe.count("A") >= 1, timeout=3)
    assert wait_for(lambda: [r.job for r in job_runs(database)][:1] == ["own_probe"])


def test_a_standby_stops_at_once_when_asked(database, tmp_path, probe_jobs, runners):
    holder = leader_lock(database, str(tmp_path))
    assert holder.acquire()
    try:
        standby = runner(database, tmp_path, "B", probe_jobs, poll_seconds=30)
        thread = runners(standby)
        time.sleep(0.2)
        standby.stop()
        thread.join(2)
        assert not thread.is_alive()
        assert not standby.leading.is_set()
        assert job_runs(database) == []
    finally:
        holder.release()


def test_a_leader_stops_when_its_stop_event_is_set(database, tmp_path, probe, probe_jobs, runners):
    """``serve`` (``start_in_process``) hands the runner an event and sets it on shutdown."""
    stop = threading.Event()
    a = runner(database, tmp_path, "A", probe_jobs)
    thread = runners(a, stop)
    assert wait_for(lambda: probe.count("A") >= 1)

    stop.set()
    thread.join(5)

    assert not thread.is_alive()
    lock = leader_lock(database, str(tmp_path))
    assert lock.acquire()  # released
    lock.release()


@pytest.mark.postgres
def test_a_leader_whose_lock_connection_is_killed_stops_its_jobs_and_the_standby_takes_over(
    postgres, tmp_path, probe, probe_jobs, runners
):
    a = runner(postgres, tmp_path, "A", probe_jobs, poll_seconds=1.0)
    b = runner(postgres, tmp_path, "B", probe_jobs)
    runners(a)
    assert wait_for(a.leading.is_set)
    runners(b)
    assert wait_for(lambda: probe.count("A") >= 1)
    [pid] = advisory_holders(postgres)

    terminate(postgres, pid)

    assert wait_for(b.leading.is_set, timeout=5)
    assert wait_for(lambda: not a.leading.is_set(), timeout=5)  # its heartbeat noticed
    stopped_leading = time.monotonic()
    assert wait_for(lambda: probe.count("B") >= 1)
    time.sleep(1.2)  # more than two intervals of the job, and one heartbeat of A
    # The run A's scheduler had already handed to its executor when the heartbeat noticed may
    # still go through (run_job records it first, so the probe starts a few ms later: the
    # in-flight run of the xfail test above); no later run is scheduled (they come every 0.5 s).
    late = [at - stopped_leading for at in probe.starts("A") if at >= stopped_leading]
    assert len(late) <= 1 and all(delay < 0.4 for delay in late), late
    assert not a.leading.is_set()
    assert probe.starts("B")[-1] > stopped_leading  # B goes on
    assert len(advisory_holders(postgres)) == 1


# --------------------------------------------------------------------------------------------------
# The real jobs


@pytest.fixture
def due_listing(session, clock, monkeypatch):
    """A listing paid in full on Mon 3 March (due Thu 6 March); the clock on Fri 7 March."""
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
    clock.set(date(2025, 3, 7))
    return listing.id


def test_the_real_jobs_run_at_start_and_the_leader_records_its_state(
    database, tmp_path, clock, due_listing, runners
):
    """The scheduler was down when the deletion fell due: it catches up as soon as it leads; the
    nightly jobs, never run before, run at start too. Fixed job ids, coalesce, one instance."""
    leader = runner(database, tmp_path, "real", clock=clock)
    runners(leader)

    assert wait_for(
        lambda: {r.job for r in job_runs(database) if r.finished_at} == set(JOBS), timeout=20
    ), [(r.job, r.status) for r in job_runs(database)]

    runs = job_runs(database)
    assert {(r.job, r.status) for r in runs} >= {(name, RunStatus.OK) for name in JOBS}
    assert {r.runner for r in runs} == {"real"}
    assert all(r.started_at == clock.now() for r in runs)
    deleted = next(r for r in runs if r.job == "deletions_due")
    assert deleted.rows_touched == 1
    with database.session() as s:
        assert s.get(Listing, due_listing).status is ListingStatus.REMOVED

    scheduled = {job.id: job for job in leader._scheduler.get_jobs()}
    assert set(scheduled) == {*JOBS, "heartbeat"}
    for name in JOBS:
        assert scheduled[name].coalesce is True
        assert scheduled[name].max_instances == 1

    assert wait_for(lambda: set(states(database)) == {LEADER, *JOBS})
    state = states(database)
    assert {s.runner for s in state.values()} == {"real"}
    # The leader row's next_run_at: when its next heartbeat is due at the latest.
    assert state[LEADER].updated_at == clock.now()
    assert state[LEADER].next_run_at == clock.now() + timedelta(seconds=leader.poll_seconds)
    now = datetime.now(UTC)
    for name in ("deletions_due", "expire_terms", "publish_after_grace"):
        assert now < state[name].next_run_at <= now + timedelta(minutes=10, seconds=5)
    nightly = state["verify_audit"].next_run_at.astimezone(CHINA_TZ)
    assert (nightly.hour, nightly.minute) == (2, 30)
    assert now < state["verify_audit"].next_run_at <= now + timedelta(days=1)


def test_a_nightly_job_that_ran_within_the_day_does_not_run_again_at_start(
    database, session, tmp_path, runners
):
    now = datetime.now(UTC)
    session.add_all(
        [
            JobRun(
                job="verify_audit", runner="earlier", started_at=now - timedelta(hours=3),
                finished_at=now - timedelta(hours=3), status=RunStatus.OK, summary="ok",
            ),
            JobRun(
                job="prune_feed", runner="earlier", started_at=now - timedelta(days=2),
                finished_at=now - timedelta(days=2), status=RunStatus.OK, summary="ok",
            ),
        ]
    )  # fmt: skip
    session.commit()
    session.close()
    leader = runner(database, tmp_path, "real", clock=SystemClock())
    runners(leader)

    at_start = set(JOBS) - {"verify_audit"}
    assert wait_for(
        lambda: (
            {r.job for r in job_runs(database) if r.runner == "real" and r.finished_at} == at_start
        ),
        timeout=20,
    )
    time.sleep(0.5)
    assert {r.job for r in job_runs(database) if r.runner == "real"} == at_start


def test_the_heartbeat_is_recorded_while_leading_and_stops_with_the_leader(
    database, tmp_path, probe_jobs, runners
):
    leader = runner(database, tmp_path, "A", probe_jobs, clock=SystemClock())
    thread = runners(leader)
    assert wait_for(lambda: LEADER in states(database))
    first = states(database)[LEADER].updated_at
    assert wait_for(lambda: states(database)[LEADER].updated_at > first, timeout=3)
    alive = leader_state(database, now=datetime.now(UTC))
    assert (alive["runner"], alive["alive"]) == ("A", True)
    assert wait_for(lambda: states(database)["probe"].next_run_at is not None)

    leader.stop()
    thread.join(5)
    # A leader that stops cleanly removes its row: nobody is shown as leading.
    assert LEADER not in states(database)
    time.sleep(3 * POLL)
    assert LEADER not in states(database)
    assert leader_state(database, now=datetime.now(UTC))["alive"] is False


def test_nobody_has_led_yet(database):
    assert leader_state(database, now=datetime.now(UTC)) == {
        "runner": None,
        "heartbeat_at": None,
        "alive": False,
    }
    assert read(database, select(func.count()).select_from(SchedulerState)) == [(0,)]

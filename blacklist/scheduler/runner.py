"""Running the jobs: one active scheduler at a time, the others hot standbys (DESIGN.md §2, §7).

``SchedulerRunner.run`` loops: take the leader lock without waiting; if another runner holds it,
wait ``poll_seconds`` and try again (hot standby); once it leads, run an APScheduler 3.11
``BlockingScheduler`` with the jobs of ``jobs.JOBS`` (fixed ids, ``coalesce=True``, one instance
each, the sweeps also at start to catch up) until it is stopped or loses the lock, then release it.

The leader lock: on PostgreSQL a session-level advisory lock held on a connection of its own (a
runner that dies drops its connection, and the lock with it); on SQLite an exclusive ``flock`` on a
file beside the database (released by the kernel when the process dies). A heartbeat job checks
the lock every ``poll_seconds``: a leader whose database connection broke stops at once, because
another runner may already lead.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from blacklist.core.clock import CHINA_TZ, Clock, SystemClock
from blacklist.db import Database
from blacklist.scheduler.jobs import JOBS, JobContext, run_job
from blacklist.scheduler.models import JobRun, SchedulerState

log = logging.getLogger("blacklist.scheduler")

#: PostgreSQL advisory lock key of the leading scheduler (the journal lock is 7436001).
LEADER_LOCK_KEY = 7_436_002
LEADER = "leader"


class LeaderLock:
    """Base: ``acquire`` without waiting, ``is_held`` (still ours?), ``release``."""

    def acquire(self) -> bool:
        raise NotImplementedError

    def is_held(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class PostgresLeaderLock(LeaderLock):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self.connection = connection
        return True

    def is_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("leader lock connection lost")
            return False

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_KEY}
            )
        except Exception:
            log.warning("could not unlock the leader lock (the connection is gone: so is the lock)")
        finally:
            self.connection.close()
            self.connection = None


class FileLeaderLock(LeaderLock):
    """An exclusive ``flock`` on ``path``. Each lock opens the file itself, so two runners of one
    process exclude each other as two processes do."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.handle: Any = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115  (held for as long as we lead)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def is_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leader_lock(db: Database, instance_path: str | None = None) -> LeaderLock:
    """The lock that fits the database: an advisory lock on PostgreSQL, a file lock on SQLite (next
    to the database file; in the instance folder for an in-memory database)."""
    if db.dialect == "postgresql":
        return PostgresLeaderLock(db)
    database = db.engine.url.database
    if database and database != ":memory:":
        return FileLeaderLock(database + ".scheduler.lock")
    return FileLeaderLock(Path(instance_path or ".") / "scheduler.lock")


class SchedulerRunner:
    """Leads the jobs when it holds the leader lock, waits as a standby otherwise."""

    def __init__(
        self,
        db: Database,
        *,
        lock: LeaderLock | None = None,
        clock: Clock | None = None,
        settings: dict[str, Any] | None = None,
        name: str | None = None,
        poll_seconds: float = 5.0,
        jobs: dict | None = None,
    ) -> None:
        self.db = db
        self.lock = lock or leader_lock(db)
        self.clock = clock or SystemClock()
        self.settings = settings or {}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_seconds = poll_seconds
        self.jobs = JOBS if jobs is None else jobs
        self.leading = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self._stop = threading.Event()

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Until ``stop`` is set (or ``stop()`` called): lead while holding the lock, else wait."""
        if stop is not None:
            self._stop = stop
        log.info("scheduler %s started (standby until it holds the leader lock)", self.name)
        while not self._stop.is_set():
            try:
                acquired = self.lock.acquire()
            except Exception:
                log.exception("scheduler %s: could not try the leader lock", self.name)
                acquired = False
            if not acquired:
                self._stop.wait(self.poll_seconds)
                continue
            try:
                self._lead()
            finally:
                self.leading.clear()
                self.lock.release()
                log.info("scheduler %s released the leader lock", self.name)
        log.info("scheduler %s stopped", self.name)

    def stop(self) -> None:
        self._stop.set()
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def _lead(self) -> None:
        log.info("scheduler %s leads", self.name)
        executor = ThreadPoolExecutor(max_workers=len(self.jobs) + 1)
        scheduler = BlockingScheduler(
            timezone=CHINA_TZ,
            executors={"default": executor},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        now = datetime.now(CHINA_TZ)
        for job in self.jobs.values():
            kind, fields = job.trigger
            due = job.at_start or self._missed(job.name, self.clock.now())
            start = {"next_run_time": now} if due else {}
            scheduler.add_job(
                self._run, kind, args=[job.name], id=job.name, name=job.label,
                replace_existing=True, misfire_grace_time=3600, **start, **fields,
            )  # fmt: skip
        scheduler.add_job(
            self._heartbeat, "interval", seconds=self.poll_seconds, id="heartbeat",
            next_run_time=now,
        )  # fmt: skip
        scheduler.add_listener(self._after_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._scheduler = scheduler
        self.leading.set()
        if self._stop.is_set():
            return
        try:
            scheduler.start()  # blocks until shut down (stop, or the lock is lost)
        finally:
            # Jobs already running finish before the lock is released: a standby must never run
            # a job while the old leader's run of it is still going.
            executor.shutdown(wait=True)
            self._scheduler = None
            self._clear_state()

    def _missed(self, name: str, now: datetime) -> bool:
        """A daily job catches up at start when its last run is more than a day old (or never
        was): a scheduler down at 02:30 still verifies the audit chain that day."""
        with self.db.session() as session:
            last = session.scalar(select(func.max(JobRun.started_at)).where(JobRun.job == name))
        return last is None or now - last > timedelta(days=1)

    def _run(self, name: str) -> None:
        ctx = JobContext(self.db, self.clock, runner=self.name, settings=self.settings)
        run_job(name, ctx, self.jobs)

    def _heartbeat(self) -> None:
        if self._stop.is_set() or not self.lock.is_held():
            if not self._stop.is_set():
                log.error("scheduler %s lost the leader lock: stopping its jobs", self.name)
            if self._scheduler is not None:
                self._scheduler.shutdown(wait=False)
            return
        self._record_state()

    def _clear_state(self) -> None:
        """A leader that stops cleanly says so at once: its leader row goes (if still its own)."""
        try:
            with self.db.session() as session:
                state = session.get(SchedulerState, LEADER)
                if state is not None and state.runner == self.name:
                    session.delete(state)
                    session.commit()
        except Exception:
            log.exception("scheduler %s could not clear its leader row", self.name)

    def _after_job(self, _event: JobExecutionEvent) -> None:
        self._record_state()

    def _record_state(self) -> None:
        """Write the leader's heartbeat and each job's next run, for ``scheduler status`` and the
        status page (which run in other processes)."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        now = self.clock.now()
        planned = {job.id: job.next_run_time for job in scheduler.get_jobs() if job.id in self.jobs}
        try:
            with self.db.session() as session:
                # The leader row's next_run_at: when the next heartbeat is due at the latest.
                expected = now + timedelta(seconds=self.poll_seconds)
                for name, next_run in [(LEADER, expected), *planned.items()]:
                    state = session.get(SchedulerState, name) or SchedulerState(name=name)
                    session.add(state)
                    state.runner = self.name
                    state.next_run_at = next_run
                    state.updated_at = now
                session.commit()
        except Exception:
            log.exception("scheduler %s could not record its state", self.name)


#: A heartbeat may be this late before the leader counts as gone.
HEARTBEAT_GRACE = timedelta(seconds=60)


def leader_state(db: Database, *, now: datetime) -> dict[str, Any]:
    """Who leads (per the last heartbeat) and whether it is alive: its next heartbeat (the leader
    row's ``next_run_at``, one poll interval after the last) is not more than a minute late. A
    leader that stopped cleanly has removed its row. Read in a snapshot session: it takes no write
    lock (a web request on SQLite may hold one already)."""
    with db.snapshot_session() as session:
        state = session.get(SchedulerState, LEADER)
        if state is None:
            return {"runner": None, "heartbeat_at": None, "alive": False}
        expected = state.next_run_at or state.updated_at
        alive = now <= expected + HEARTBEAT_GRACE
        return {"runner": state.runner, "heartbeat_at": state.updated_at, "alive": alive}

"""Read-only questions about the scheduler (DESIGN.md §7) for the staff pages: the open alerts a
staff member should see, and where each job stands — its last run, the runs before it, its next
run as the leading scheduler planned it, and whether any scheduler leads at all. No Flask, no
writes.

Alerts are scoped like everything that names people (DOMAIN.md §6): a staff member sees their own
court's alerts and the national ones. Alerts about the system itself (a broken audit chain, a
failing job) go only to administrators and auditors: they are the ones who act on them, and a
failed job's message quotes its error, which may carry data of any court.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from blacklist.core.actor import Actor, Role
from blacklist.db import Database
from blacklist.listing.models import Listing
from blacklist.scheduler.jobs import JOBS, Job
from blacklist.scheduler.models import Alert, AlertSeverity, JobRun, RunStatus, SchedulerState
from blacklist.scheduler.runner import LEADER, leader_state

#: National alerts about the system itself, for administrators and auditors only.
SYSTEM_KINDS = ("audit_chain", "job_failed")
#: The roles that see them (and the scheduler's status page).
SYSTEM_ROLES = (Role.ADMIN, Role.AUDITOR)
#: Alerts listed at most; the list says when there are more.
ALERT_LIMIT = 50
#: Runs listed on the status page.
RECENT_RUNS = 50


def sees_system_alerts(actor: Actor) -> bool:
    """Administrators and auditors of any court see the system's own alerts and status."""
    return actor.has_role(*SYSTEM_ROLES)


# --------------------------------------------------------------------------------------------------
# Alerts


@dataclass(frozen=True)
class ShownAlert:
    """An open alert as a staff member sees it."""

    id: int
    kind: str
    severity: AlertSeverity
    message: str
    due_at: datetime | None
    raised_at: datetime
    #: The listing it is about, only when that listing is the viewer's court's (else None: no link).
    listing_id: int | None
    is_national: bool

    @property
    def is_critical(self) -> bool:
        return self.severity is AlertSeverity.CRITICAL


@dataclass(frozen=True)
class Alerts:
    rows: list[ShownAlert]
    more: bool = False


def open_alerts(
    session: Session, actor: Actor, *, limit: int = ALERT_LIMIT, kinds: Iterable[str] | None = None
) -> Alerts:
    """The open alerts ``actor`` should see: their court's and the national ones (the system's
    own only for administrators and auditors), critical first, then the nearest deadline first
    (alerts without one last), then the oldest first."""
    national = Alert.court_id.is_(None)
    if not sees_system_alerts(actor):
        national = national & Alert.kind.not_in(SYSTEM_KINDS)
    scope = national if actor.court_id is None else (Alert.court_id == actor.court_id) | national
    query = (
        select(Alert, Listing.court_id)
        .outerjoin(Listing, Listing.id == Alert.listing_id)
        .where(Alert.resolved_at.is_(None), scope)
        .order_by(
            case((Alert.severity == AlertSeverity.CRITICAL, 0), else_=1),
            Alert.due_at.is_(None),
            Alert.due_at,
            Alert.id,
        )
        .limit(limit + 1)
    )
    if kinds is not None:
        query = query.where(Alert.kind.in_(tuple(kinds)))
    rows = session.execute(query).all()
    shown = [
        ShownAlert(
            id=alert.id,
            kind=alert.kind,
            severity=alert.severity,
            message=alert.message,
            due_at=alert.due_at,
            raised_at=alert.raised_at,
            listing_id=(
                alert.listing_id
                if alert.listing_id is not None and listing_court == actor.court_id
                else None
            ),
            is_national=alert.court_id is None,
        )
        for alert, listing_court in rows[:limit]
    ]
    return Alerts(shown, more=len(rows) > limit)


def open_alert_counts(session: Session) -> dict[str, int]:
    """Open alerts per kind, nationally (counts only: no names), for the status page."""
    rows = session.execute(
        select(Alert.kind, func.count())
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.kind)
        .order_by(Alert.kind)
    )
    return {kind: count for kind, count in rows}


# --------------------------------------------------------------------------------------------------
# Jobs and runs


@dataclass(frozen=True)
class Leader:
    """The leading scheduler per its last heartbeat; ``alive``: the heartbeat is recent."""

    runner: str | None
    heartbeat_at: datetime | None
    alive: bool


def leader(db: Database, *, now: datetime) -> Leader:
    """Who leads the jobs, and whether any scheduler is running at all (``runner.leader_state``)."""
    state = leader_state(db, now=now)
    return Leader(runner=state["runner"], heartbeat_at=state["heartbeat_at"], alive=state["alive"])


@dataclass(frozen=True)
class JobStatus:
    job: Job
    #: The last finished run (ok, partial or failed).
    last: JobRun | None
    #: A run started after ``last`` and not finished (running now, or cut off by a crash).
    running: JobRun | None
    #: The next run as the leading scheduler planned it (stale when no scheduler runs).
    next_run_at: datetime | None


def _latest(session: Session, *conditions) -> dict[str, JobRun]:
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("id"))
        .where(*conditions)
        .group_by(JobRun.job)
        .subquery()
    )
    return {
        run.job: run
        for run in session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
    }


def job_statuses(session: Session) -> list[JobStatus]:
    """Per job of ``jobs.JOBS``, in the registry's order: its last finished run, a later run
    still marked running, and its next planned run."""
    finished = _latest(session, JobRun.status != RunStatus.RUNNING)
    running = _latest(session, JobRun.status == RunStatus.RUNNING)
    planned = {
        state.name: state.next_run_at
        for state in session.scalars(select(SchedulerState).where(SchedulerState.name != LEADER))
    }
    statuses = []
    for name, job in JOBS.items():
        last, current = finished.get(name), running.get(name)
        if current is not None and last is not None and current.id < last.id:
            current = None
        statuses.append(JobStatus(job, last, current, planned.get(name)))
    return statuses


def recent_runs(
    session: Session, *, job: str | None = None, limit: int = RECENT_RUNS
) -> list[JobRun]:
    """The latest runs (of one job, or of all), newest first."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))

"""What the scheduler leaves behind: every run of a job, the alerts it raised, and where each job
stands (next run, which runner leads), so that the status page and ``scheduler status`` can show it
from any process."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from blacklist.db import Base, str_enum

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    #: Some rows failed; the others were done.
    PARTIAL = "partial"
    FAILED = "failed"


class JobRun(Base):
    """One run of one job: when, how many rows it changed, which rows failed and why."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_id", "job", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    runner: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, 16))
    rows_touched: Mapped[int] = mapped_column(default=0)
    rows_failed: Mapped[int] = mapped_column(default=0)
    #: What the run did, in a line (e.g. "3 listing(s) published").
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: The first errors: ``[{"row": "listing:42", "error": "..."}]`` (at most ``MAX_ERRORS``).
    errors: Mapped[list | None] = mapped_column(JSON(none_as_null=True))


class AlertSeverity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(Base):
    """A deadline coming close or passed, a partner late with an acknowledgement, a broken audit
    chain, a failing job. Raised and resolved by the ``deadline_alerts`` and ``verify_audit`` jobs;
    ``key`` makes raising idempotent (one open alert per thing). ``court_id`` None: national."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_resolved_at_court_id", "resolved_at", "court_id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity, 16))
    court_id: Mapped[int | None] = mapped_column(ForeignKey("courts.id"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    message: Mapped[str] = mapped_column(String(500))
    due_at: Mapped[datetime | None]
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class SchedulerState(Base):
    """Per job: its next run as the leading scheduler planned it; and one row ``"leader"``: which
    runner leads and its last heartbeat."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    runner: Mapped[str] = mapped_column(String(100))
    next_run_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

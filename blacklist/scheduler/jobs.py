"""The scheduler's jobs (DESIGN.md §7), as module-level functions that call the same services as
court staff, with the system as the actor.

Every job is a sweep over what is due *now*, read from the list itself, so it is idempotent (a
second run finds nothing left to do) and catches up after any downtime (three days off means three
days' worth of due rows on the next run, each done exactly once). The sweeps give every listing its
own transaction (the services commit per act): a crash leaves no half-done listing, and a row that
fails is recorded in the run and the sweep goes on with the others.

``run_job`` records every run (``JobRun``): started, finished, rows touched, rows failed and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blacklist.core.actor import Actor
from blacklist.core.clock import CHINA_TZ, Clock
from blacklist.db import Database
from blacklist.scheduler.models import Alert, AlertSeverity, JobRun, RunStatus

log = logging.getLogger("blacklist.scheduler")

SCHEDULER = Actor.system("scheduler")
#: Errors kept per run (the count is always complete).
MAX_ERRORS = 20


@dataclass
class JobContext:
    """What a job needs: the database, the clock, the settings it reads, who runs it."""

    db: Database
    clock: Clock
    runner: str = "run-once"
    settings: dict[str, Any] = field(default_factory=dict)

    def setting(self, name: str, default: Any) -> Any:
        value = self.settings.get(name)
        return default if value in (None, "") else value


@dataclass
class Outcome:
    touched: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    failed: int = 0
    summary: str = ""

    def fail(self, row: str, error: BaseException | str) -> None:
        self.failed += 1
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "error": text[:300]})


# --------------------------------------------------------------------------------------------------
# Sweeps over listings (Arts. 9–10)


def _due_ids(ctx: JobContext, *conditions) -> list[int]:
    from blacklist.listing.models import Listing

    with ctx.db.session() as session:
        return list(session.scalars(select(Listing.id).where(*conditions).order_by(Listing.id)))


#: Listings acted on per database transaction by a sweep (``Database.batch``).
SWEEP_BATCH = 100


def _sweep(ctx: JobContext, ids: Iterable[int], act: Callable[..., bool], done: str) -> Outcome:
    """Call ``act`` (a listing service) for each listing, each in its own session and its own
    savepoint: a listing that fails is rolled back alone and reported, the others go on. Listings
    are committed ``SWEEP_BATCH`` at a time (one WAL flush per batch: issue #8 measured the flush
    as most of a deletion's cost). A batch whose commit fails stores nothing; its listings stay due
    and the next run takes them again."""
    outcome = Outcome()
    ids = list(ids)
    for start in range(0, len(ids), SWEEP_BATCH):
        batch = ids[start : start + SWEEP_BATCH]
        touched = 0
        try:
            with ctx.db.batch() as new_session:
                for listing_id in batch:
                    session = new_session()
                    try:
                        if act(session, listing_id, actor=SCHEDULER, clock=ctx.clock):
                            touched += 1
                    except Exception as error:
                        log.exception("%s failed for listing %s", act.__name__, listing_id)
                        outcome.fail(f"listing:{listing_id}", error)
                    finally:
                        session.close()
        except Exception as error:
            log.exception(
                "%s: the batch of %s listing(s) failed to commit", act.__name__, len(batch)
            )
            outcome.fail(f"listings:{batch[0]}-{batch[-1]}", error)
            continue
        outcome.touched += touched
    outcome.summary = f"{outcome.touched} listing(s) {done}"
    if outcome.failed:
        outcome.summary += f", {outcome.failed} failed"
    return outcome


def publish_after_grace(ctx: JobContext) -> Outcome:
    """Publish signed listings whose grace period has ended, unless the debtor fully performed
    meanwhile (SPC 2019 opinion on 善意文明执行; ``services.publish_after_grace``)."""
    from blacklist.listing import services
    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus

    ids = _due_ids(
        ctx, Listing.status == ListingStatus.APPROVED, Listing.publish_on <= ctx.clock.today()
    )
    return _sweep(ctx, ids, services.publish_after_grace, "published")


def deletions_due(ctx: JobContext) -> Outcome:
    """Art. 10: a listing without a term whose obligation was fully performed is deleted within
    three working days; on its ``deletion_due_on`` the system deletes it if no judge acted first
    (reason ``performed``; ``services.carry_out_due_deletion``)."""
    from blacklist.listing import services
    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus

    ids = _due_ids(
        ctx,
        Listing.status.in_((ListingStatus.APPROVED, ListingStatus.PUBLISHED)),
        Listing.deletion_due_on <= ctx.clock.today(),
    )
    return _sweep(ctx, ids, services.carry_out_due_deletion, "deleted")


def expire_terms(ctx: JobContext) -> Outcome:
    """Art. 10: a listing whose term has ended is deleted (``expired``) within three working days;
    the sweep deletes it on the first run on or after ``ends_on`` (``services.expire_listing``)."""
    from blacklist.listing import services
    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus

    ids = _due_ids(
        ctx, Listing.status == ListingStatus.PUBLISHED, Listing.ends_on <= ctx.clock.today()
    )
    return _sweep(ctx, ids, services.expire_listing, "expired")


# --------------------------------------------------------------------------------------------------
# Alerts


@dataclass(frozen=True)
class Wanted:
    kind: str
    severity: AlertSeverity
    message: str
    court_id: int | None = None
    listing_id: int | None = None
    due_at: datetime | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), CHINA_TZ)


#: Kinds ``deadline_alerts`` owns (raises and resolves); ``verify_audit`` owns ``audit_chain``.
DEADLINE_KINDS = (
    "deletion_due",
    "creditor_application",
    "term_ended",
    "partner_acks",
    "job_failed",
    "correction_review",
    "correction_carry_out",
    "reconsideration_due",
)


def deadline_alerts(ctx: JobContext) -> Outcome:
    """Raise an alert for each deadline that is close or passed, and resolve those that are met:
    deletions due within a working day (Art. 10), creditors' applications to decide within three
    days (Art. 5), terms ended but still published (the expiry sweep is not working), partners with
    removals not acknowledged in time (DOMAIN.md §4), jobs whose last run failed, and correction
    requests to review, carry out or decide on reconsideration (Art. 12, ``_correction_alerts``)."""
    from blacklist.holidays.services import load_calendar
    from blacklist.listing import rules
    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus
    from blacklist.partners.queries import ack_deadline, overdue_by_partner

    today = ctx.clock.today()
    wanted: dict[str, Wanted] = {}
    with ctx.db.session() as session:
        calendar = load_calendar(session)
        live = (ListingStatus.APPROVED, ListingStatus.PUBLISHED)
        for row in _named_listings(
            session, Listing.deletion_due_on,
            Listing.status.in_(live), Listing.deletion_due_on.is_not(None),
        ):  # fmt: skip
            late = today > row.day
            if late or calendar.workdays_between(today, row.day) <= 1:
                wanted[f"deletion_due:{row.id}"] = _listing_alert(
                    "deletion_due", row, row.day, late,
                    f"应于{row.day:%Y年%m月%d日}前删除（第十条，三个工作日）"
                    + ("，已逾期" if late else "，即将到期"),
                )  # fmt: skip
        for row in _named_listings(
            session, Listing.applied_on,
            Listing.status.in_((ListingStatus.DRAFT, ListingStatus.PENDING_APPROVAL)),
            Listing.by_creditor.is_(True), Listing.applied_on.is_not(None),
        ):  # fmt: skip
            due_on = rules.creditor_application_due_on(calendar, row.day)
            late = today > due_on
            if (due_on - today).days <= 3:
                wanted[f"creditor_application:{row.id}"] = _listing_alert(
                    "creditor_application", row, due_on, late,
                    f"申请执行人的纳入申请应于{due_on:%Y年%m月%d日}前决定（第五条，十五日）"
                    + ("，已逾期" if late else ""),
                )  # fmt: skip
        for row in _named_listings(
            session, Listing.ends_on,
            Listing.status == ListingStatus.PUBLISHED, Listing.ends_on < today,
        ):  # fmt: skip
            wanted[f"term_ended:{row.id}"] = _listing_alert(
                "term_ended", row, row.day, True,
                f"失信期限已于{row.day:%Y年%m月%d日}届满，仍在公布中（应在三个工作日内删除）",
            )  # fmt: skip
        _correction_alerts(session, calendar, today, wanted)
        deadline = ack_deadline(ctx.settings.get("PARTNER_ACK_DEADLINE_MINUTES"))
        for late in overdue_by_partner(session, now=ctx.clock.now(), deadline=deadline):
            wanted[f"partner_acks:{late.code}"] = Wanted(
                "partner_acks", AlertSeverity.CRITICAL,
                f"{late.name}（{late.code}）有{late.count}条移出超过时限未确认，"
                f"最早一条移出于{late.oldest_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}",
                due_at=late.oldest_at + deadline,
            )  # fmt: skip
        for name, run in _last_runs(session).items():
            if run.status in (RunStatus.FAILED, RunStatus.PARTIAL) and name != "deadline_alerts":
                wanted[f"job_failed:{name}"] = Wanted(
                    "job_failed", AlertSeverity.WARNING,
                    f"定时任务“{JOBS[name].label if name in JOBS else name}”最近一次运行"
                    + ("失败" if run.status is RunStatus.FAILED else f"有{run.rows_failed}行出错")
                    + f"：{run.summary}",
                )  # fmt: skip
        outcome = _reconcile(session, wanted, DEADLINE_KINDS, ctx.clock.now())
        session.commit()
    return outcome


def _correction_alerts(session: Session, calendar, today: date, wanted: dict[str, Wanted]) -> None:
    """Art. 12: a request to review within 15 days and a reconsideration to decide within 15 days
    (alerted from three days before), an accepted request to carry out within three working days
    (alerted from one working day before); critical once overdue. Reviews and carrying out are the
    enforcing court's; a reconsideration is the next higher court's."""
    from blacklist.corrections.queries import open_deadlines

    texts = {
        "review": ("correction_review", "纠正申请（{ref}）应于{due}前审查（第十二条，十五日）"),
        "carry_out": ("correction_carry_out", "纠正申请（{ref}）已决定纠正，应于{due}前落实（三个工作日）"),
        "reconsideration": ("reconsideration_due", "复议申请（{ref}）应于{due}前作出决定（第十二条，十五日）"),
    }  # fmt: skip
    for kind, request_id, reference, court_id, _listing_id, name, due_on in open_deadlines(session):
        late = today > due_on
        if kind == "carry_out":
            near = calendar.workdays_between(today, due_on) <= 1
        else:
            near = (due_on - today).days <= 3
        if not (late or near):
            continue
        alert_kind, text = texts[kind]
        wanted[f"{alert_kind}:{request_id}"] = Wanted(
            alert_kind, AlertSeverity.CRITICAL if late else AlertSeverity.WARNING,
            f"{name}：" + text.format(ref=reference, due=f"{due_on:%Y年%m月%d日}")
            + ("，已逾期" if late else "，即将到期"),
            # No listing link: the higher court may not open the lower court's listing, and the
            # request's own page (linked by kind on the dashboard) is where the act is done.
            court_id, None, _day_start(due_on),
        )  # fmt: skip


def _named_listings(session: Session, day_column, *conditions) -> list:
    """Rows ``(id, court_id, day, name)`` of the listings matching ``conditions``."""
    from blacklist.listing.models import Listing, Subject

    return session.execute(
        select(Listing.id, Listing.court_id, day_column.label("day"), Subject.name)
        .join(Subject, Subject.id == Listing.subject_id)
        .where(*conditions)
    ).all()


def _listing_alert(kind: str, row, due_on: date, late: bool, text: str) -> Wanted:
    """An alert about one listing, for its court: critical once the deadline has passed."""
    return Wanted(
        kind, AlertSeverity.CRITICAL if late else AlertSeverity.WARNING, f"{row.name}：{text}",
        row.court_id, row.id, _day_start(due_on),
    )  # fmt: skip


def _reconcile(
    session: Session, wanted: dict[str, Wanted], kinds: Iterable[str], now: datetime
) -> Outcome:
    """Make the open alerts of ``kinds`` what ``wanted`` says: raise new ones, update changed ones,
    resolve the rest. Idempotent: the same ``wanted`` twice changes nothing the second time."""
    open_alerts = {
        a.key: a
        for a in session.scalars(
            select(Alert).where(Alert.kind.in_(tuple(kinds)), Alert.resolved_at.is_(None))
        )
    }
    raised = updated = resolved = 0
    for key, want in wanted.items():
        alert = open_alerts.pop(key, None)
        if alert is None:
            alert = session.scalar(select(Alert).where(Alert.key == key))
            if alert is None:
                alert = Alert(key=key, raised_at=now)
                session.add(alert)
            else:  # resolved earlier, due again: reopen
                alert.raised_at, alert.resolved_at = now, None
            raised += 1
        elif (alert.severity, alert.message, alert.due_at) == (
            want.severity, want.message, want.due_at
        ):  # fmt: skip
            continue
        else:
            updated += 1
        alert.kind, alert.severity, alert.message = want.kind, want.severity, want.message
        alert.court_id, alert.listing_id, alert.due_at = want.court_id, want.listing_id, want.due_at
        alert.updated_at = now
    for alert in open_alerts.values():
        alert.resolved_at = alert.updated_at = now
        resolved += 1
    return Outcome(
        touched=raised + updated + resolved,
        summary=f"{raised} raised, {updated} updated, {resolved} resolved, {len(wanted)} open",
    )


def _last_runs(session: Session) -> dict[str, JobRun]:
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("id"))
        .where(JobRun.status != RunStatus.RUNNING)
        .group_by(JobRun.job)
        .subquery()
    )
    runs = session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
    return {run.job: run for run in runs}


# --------------------------------------------------------------------------------------------------
# The audit chain and the change log


def verify_audit(ctx: JobContext) -> Outcome:
    """DOMAIN.md §8: recompute the audit chain; a break raises a critical national alert (resolved
    once the chain verifies again). The head is logged so a cut-off end can be noticed."""
    from blacklist.audit.services import verify

    with ctx.db.session() as session:
        result = verify(session)
        wanted = {}
        if not result.ok:
            wanted["audit_chain"] = Wanted(
                "audit_chain", AlertSeverity.CRITICAL,
                f"审计日志校验失败：第{result.first_broken_seq}条记录被改动或其前一条被删除。"
                "请立即报告安全管理员。",
            )  # fmt: skip
        _reconcile(session, wanted, ("audit_chain",), ctx.clock.now())
        session.commit()
    if result.ok:
        log.info("audit chain verified: %s (head seq %s)", result.message, result.last_seq)
    else:
        log.error("%s", result.message)
    return Outcome(
        touched=result.checked,
        failed=0 if result.ok else 1,
        errors=[] if result.ok else [{"row": f"audit:{result.first_broken_seq}", "error": result.message}],
        summary=result.message,
    )  # fmt: skip


def prune_feed(ctx: JobContext) -> Outcome:
    """Delete change-log items older than ``FEED_RETENTION_DAYS`` (partners behind it get 410 and
    take a new snapshot)."""
    from blacklist.partners.feed import prune

    days = int(ctx.setting("FEED_RETENTION_DAYS", 30))
    with ctx.db.session() as session:
        removed = prune(session, before=ctx.clock.now() - timedelta(days=days))
    return Outcome(touched=removed, summary=f"{removed} change(s) older than {days} days deleted")


# --------------------------------------------------------------------------------------------------
# The registry and the run record


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[JobContext], Outcome]
    label: str
    #: APScheduler trigger: ("interval", {"minutes": 10}) or ("cron", {"hour": 2, "minute": 30}).
    trigger: tuple[str, dict[str, int]]
    #: Run as soon as a scheduler starts leading (the sweeps: catch up after downtime). Daily jobs
    #: run at start only when their last run is more than a day old (``SchedulerRunner._missed``).
    at_start: bool = True


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("deletions_due", deletions_due, "到期删除（履行完毕）", ("interval", {"minutes": 10})),
        Job("expire_terms", expire_terms, "失信期限届满删除", ("interval", {"minutes": 10})),
        Job("publish_after_grace", publish_after_grace, "宽限期满公布", ("interval", {"minutes": 10})),
        Job("deadline_alerts", deadline_alerts, "期限提醒", ("interval", {"minutes": 15})),
        Job("verify_audit", verify_audit, "审计日志夜间校验", ("cron", {"hour": 2, "minute": 30}), at_start=False),
        Job("prune_feed", prune_feed, "清理过期变更日志", ("cron", {"hour": 3, "minute": 30}), at_start=False),
    )
}  # fmt: skip


def run_job(name: str, ctx: JobContext, jobs: dict[str, Job] | None = None) -> JobRun:
    """Run one job (of ``jobs``, default ``JOBS``) and record the run. A job that raises is
    recorded as failed (and logged); it never takes the scheduler down. An interruption (Ctrl-C,
    SystemExit) is recorded as a failed run too, then goes on up."""
    job = (JOBS if jobs is None else jobs)[name]
    with ctx.db.session() as session:
        run = JobRun(
            job=name, runner=ctx.runner, started_at=ctx.clock.now(), status=RunStatus.RUNNING,
            rows_touched=0, rows_failed=0, summary="",
        )  # fmt: skip
        session.add(run)
        session.commit()
        run_id = run.id
    try:
        outcome = job.func(ctx)
        status = RunStatus.PARTIAL if outcome.failed else RunStatus.OK
    except Exception as error:
        log.exception("job %s failed", name)
        outcome = Outcome(summary=f"{type(error).__name__}: {error}"[:500])
        outcome.fail(name, error)
        status = RunStatus.FAILED
    except BaseException as interruption:
        outcome = Outcome(summary=f"interrupted ({type(interruption).__name__})")
        outcome.fail(name, "interrupted")
        _finish(ctx, run_id, RunStatus.FAILED, outcome)
        raise
    run = _finish(ctx, run_id, status, outcome)
    log.info("job %s: %s (%s)", name, status.value, run.summary)
    return run


def _finish(ctx: JobContext, run_id: int, status: RunStatus, outcome: Outcome) -> JobRun:
    with ctx.db.session() as session:
        run = session.get(JobRun, run_id)
        run.finished_at = ctx.clock.now()
        run.status = status
        run.rows_touched, run.rows_failed = outcome.touched, outcome.failed
        run.summary, run.errors = outcome.summary[:500], outcome.errors or None
        session.commit()
        session.refresh(run)
        session.expunge(run)
    return run

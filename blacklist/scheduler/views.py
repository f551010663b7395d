"""The scheduler's status page (定时任务, DESIGN.md §7) and the dashboard's system alerts.

The status page shows whether a scheduler runs at all (its leader's heartbeat), per job its last
run and its next one, the open alerts per kind, and the latest runs. It is for administrators and
auditors of any court, and read-only: nothing here starts or stops a job (that is the scheduler's
process, ``flask --app wsgi scheduler run``, or ``make run`` in development). Alerts with names
are the viewer's court's only (``queries.open_alerts``).

The staff dashboard shows the viewer's open alerts in a panel of its own (``dashboard_alerts``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from blacklist.core.actor import Actor, Role
from blacklist.core.clock import CHINA_TZ
from blacklist.db import get_db, get_session
from blacklist.scheduler import queries
from blacklist.scheduler.jobs import JOBS, Job
from blacklist.scheduler.models import AlertSeverity, RunStatus
from blacklist.staff.auth import clock, current_actor, staff_page
from blacklist.web.privacy import never_cached

bp = Blueprint(
    "scheduler", __name__, url_prefix="/staff/admin/scheduler", template_folder="templates"
)

ALERT_KIND_LABELS = {
    "deletion_due": "删除期限",
    "creditor_application": "纳入申请待决定",
    "term_ended": "期限届满未删除",
    "partner_acks": "合作单位未确认移出",
    "job_failed": "定时任务出错",
    "audit_chain": "审计日志校验",
    "correction_review": "纠正申请审查期限",
    "correction_carry_out": "纠正落实期限",
    "reconsideration_due": "复议决定期限",
}
SEVERITY_LABELS = {AlertSeverity.CRITICAL: "紧急", AlertSeverity.WARNING: "提醒"}
RUN_STATUS_LABELS = {
    RunStatus.OK: "正常",
    RunStatus.PARTIAL: "部分出错",
    RunStatus.FAILED: "失败",
    RunStatus.RUNNING: "运行中",
}
UNIT_LABELS = {"weeks": "周", "days": "天", "hours": "小时", "minutes": "分钟", "seconds": "秒"}


def beijing(value: datetime | None, seconds: bool = False) -> str:
    """An instant as Beijing wall time, to the minute (or the second)."""
    if value is None:
        return ""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def due_text(value: datetime | None) -> str:
    """A deadline: a date alone when it is the start of a day in Beijing (a court deadline),
    else the time to the minute."""
    if value is None:
        return ""
    local = value.astimezone(CHINA_TZ)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")


def duration(start: datetime | None, end: datetime | None) -> str:
    """How long a run took: 0.4秒, 12秒, 3分5秒."""
    if start is None or end is None:
        return ""
    seconds = max((end - start).total_seconds(), 0)
    if seconds < 10:
        return f"{seconds:.1f}秒"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}分{rest}秒" if minutes else f"{rest}秒"


def ago(period: timedelta) -> str:
    """A past period as staff read it: 12秒, 5分钟, 3小时, 2天."""
    seconds = max(int(period.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{seconds // 60}分钟"
    if seconds < 86400:
        return f"{seconds // 3600}小时"
    return f"{seconds // 86400}天"


def schedule_text(job: Job) -> str:
    """A job's trigger in words: 每10分钟, 每天02:30."""
    kind, fields = job.trigger
    if kind == "interval":
        return "每" + "".join(f"{n}{UNIT_LABELS.get(unit, unit)}" for unit, n in fields.items())
    if kind == "cron" and set(fields) <= {"hour", "minute"}:
        return f"每天{fields.get('hour', 0):02d}:{fields.get('minute', 0):02d}"
    return f"{kind} {fields}"


@bp.app_context_processor
def _helpers() -> dict:
    """Labels and times of alerts, also for the dashboard panel (rendered by ``listing``)."""
    return {
        "alert_kind_label": lambda kind: ALERT_KIND_LABELS.get(kind, kind),
        "alert_severity_label": lambda severity: SEVERITY_LABELS.get(severity, severity),
        "alert_due": due_text,
    }


never_cached(bp)


def dashboard_alerts(session: Session, actor: Actor) -> queries.Alerts:
    """The open alerts for the staff dashboard: the viewer's court's and the national ones."""
    return queries.open_alerts(session, actor)


@bp.get("/")
@staff_page(Role.ADMIN, Role.AUDITOR)
def status():
    """Whether a scheduler runs, per job its last and next run, open alerts, the latest runs."""
    session = get_session()
    actor = current_actor()
    now = clock().now()
    leader = queries.leader(get_db(), now=now)
    return render_template(
        "scheduler/status.html",
        now=now,
        leader=leader,
        jobs=queries.job_statuses(session),
        runs=queries.recent_runs(session, limit=queries.RECENT_RUNS),
        run_limit=queries.RECENT_RUNS,
        job_labels={name: job.label for name, job in JOBS.items()},
        alert_counts=queries.open_alert_counts(session),
        alerts=queries.open_alerts(session, actor),
        kind_labels=ALERT_KIND_LABELS,
        status_labels=RUN_STATUS_LABELS,
        beijing=beijing,
        duration=duration,
        ago=ago,
        schedule_text=schedule_text,
    )

"""The staff page of partner feedback (联合惩戒反馈, DOMAIN.md §4: trigger → response → feedback):
where each partner's acknowledgement and push stand, removals a partner has not acknowledged in
time, hits on people no longer restricted, and hits per measure and month. Any signed-in staff
member may read it; it changes nothing.

Personal data stays within the court (DOMAIN.md §6): the overdue removals and the wrong hits listed
with names and masked ID numbers are the viewer's court's; other courts' appear as counts only.
The dashboard shows a compact panel of the same (``dashboard_panel``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from blacklist.core.clock import CHINA_TZ
from blacklist.db import get_session
from blacklist.partners import queries
from blacklist.partners.models import Partner
from blacklist.publication.queries import hit_statistics
from blacklist.restrictions.catalogue import BY_CODE
from blacklist.staff.auth import clock, current_actor, staff_page

bp = Blueprint("partners", __name__, url_prefix="/staff/partners", template_folder="templates")


def ack_deadline() -> timedelta:
    """``PARTNER_ACK_DEADLINE_MINUTES`` (default 60)."""
    return queries.ack_deadline(current_app.config.get("PARTNER_ACK_DEADLINE_MINUTES"))


def beijing(value: datetime | None) -> str:
    """An instant as Beijing wall time, to the minute."""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def waited(period: timedelta | None) -> str:
    """A period as staff read it: 3天2小时, 1小时5分, 1小时, 12分钟."""
    if period is None:
        return ""
    minutes = max(0, int(period.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def measure_label(code: str) -> str:
    return BY_CODE[code].label if code in BY_CODE else code


@bp.app_context_processor
def _helpers() -> dict:
    """The partner pages' helpers, also for the dashboard panel (rendered by ``listing``)."""
    return {
        "partner_time": beijing,
        "partner_waited": waited,
        "partner_measure_label": measure_label,
    }


@bp.after_request
def _no_store(response: Response) -> Response:
    """Names and masked ID numbers of the court's people: browsers and proxies keep no copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def dashboard_panel(session: Session, court_id: int | None) -> list[queries.PartnerOverdue]:
    """Partners with removals not acknowledged in time, the longest waiting first (counts only),
    for the staff dashboard."""
    return queries.overdue_by_partner(
        session, now=clock().now(), deadline=ack_deadline(), court_id=court_id
    )


@bp.get("/")
@staff_page()
def feedback():
    """Per partner: ack and push status; the court's overdue removals with national counts; the
    court's hits on people no longer restricted; hits per measure and month."""
    session = get_session()
    actor = current_actor()
    now, deadline = clock().now(), ack_deadline()
    statuses = queries.ack_statuses(session, now=now, deadline=deadline)
    late = sorted((s for s in statuses if s.overdue), key=lambda s: (s.overdue_since, s.code))
    partners = {
        p.code: p
        for p in session.scalars(select(Partner).where(Partner.code.in_([s.code for s in late])))
    }
    overdue = [
        (
            status,
            queries.overdue_removals(
                session, partners[status.code], now=now, deadline=deadline, court_id=actor.court_id
            ),
        )
        for status in late
    ]
    return render_template(
        "partners/feedback.html",
        now=now,
        deadline=deadline,
        statuses=statuses,
        overdue=overdue,
        wrong_hits=queries.hits_not_in_force(session, court_id=actor.court_id),
        hits=hit_statistics(session, today=clock().today()),
        count_cap=queries.COUNT_CAP,
    )

"""Administrator pages of the partner registry (DOMAIN.md §4): partners with their measures, scope
and webhook; API keys (several active at once, so a partner rotates without downtime; revocable);
the webhook signing secret; "push now" after a partner's endpoint is back.

The registry is national: only administrators of a court with no higher court may manage it
(``services.may_manage_partners``); everyone else gets 403. Every act goes through
``partners.services`` (validated, audited, one transaction); a refused form is shown again with
the errors beside the fields and the input kept, and nothing changed.

An API key and a signing secret are shown once, on the page that answers the POST that made them,
never stored in the clear and never shown again; like every page here it is ``no-store``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from blacklist.core.errors import Conflict, DomainError, NotAllowed, NotFound
from blacklist.db import get_session
from blacklist.partners import queries, services
from blacklist.partners.models import Partner, PartnerKey
from blacklist.partners.rules import Scope
from blacklist.partners.views import ack_deadline
from blacklist.restrictions.catalogue import MEASURES, MeasureGroup, codes_of
from blacklist.staff.auth import clock, current_actor, staff_page

bp = Blueprint(
    "partners_admin", __name__, url_prefix="/staff/admin/partners", template_folder="templates"
)

GROUP_LABELS = {
    MeasureGroup.CONSUMPTION: "限制消费",
    MeasureGroup.EXIT: "限制出境",
    MeasureGroup.LISTING: "失信联合惩戒",
}
#: The measures as the form shows them: grouped, in catalogue order.
MEASURE_GROUPS = [
    (GROUP_LABELS[group], [m for m in MEASURES if m.group is group]) for group in MeasureGroup
]
FIELDS = ("code", "name", "scope", "webhook_url")


def manager_page(view: Callable) -> Callable:
    """A signed-in staff member who may manage partners (an administrator of a court with no
    higher court), else 403."""

    @staff_page()
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not services.may_manage_partners(get_session(), current_actor()):
            raise NotAllowed("只有最高一级法院的管理员可以管理合作单位")
        return view(*args, **kwargs)

    return wrapper


@bp.after_request
def _no_store(response: Response) -> Response:
    """Keys and secrets are shown once: no browser or proxy may keep a copy of any of these
    pages."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _require_https() -> bool:
    return bool(current_app.config.get("WEBHOOK_REQUIRE_HTTPS"))


def _posted_form() -> dict[str, Any]:
    form: dict[str, Any] = {name: request.form.get(name, "") for name in FIELDS}
    form["measures"] = request.form.getlist("measures")
    form["is_active"] = request.form.get("is_active") == "1"
    return form


def _partner_form(partner: Partner) -> dict[str, Any]:
    return {
        "code": partner.code,
        "name": partner.name,
        "scope": partner.scope.value,
        "webhook_url": partner.webhook_url or "",
        "measures": codes_of(partner.measures),
        "is_active": partner.is_active,
    }


def _errors(error: DomainError, field: str = "_") -> dict[str, list[str]]:
    return error.errors or {field: [error.message]}


def _credentials_page(partner: Partner, credentials: services.Credentials, title: str):
    return render_template(
        "partners_admin/credentials.html",
        partner=partner,
        credentials=credentials,
        title=title,
    )


# --------------------------------------------------------------------------------------------------
# The list and a new partner


def _render_index(status: int = 200, *, form: dict | None = None, errors: dict | None = None):
    session = get_session()
    statuses = {
        s.code: s for s in queries.ack_statuses(session, now=clock().now(), deadline=ack_deadline())
    }
    return (
        render_template(
            "partners_admin/index.html",
            partners=services.list_partners(session),
            statuses=statuses,
            form=form or {"scope": Scope.RESTRICTION.value, "measures": []},
            errors=errors or {},
            measure_groups=MEASURE_GROUPS,
            scopes=list(Scope),
            require_https=_require_https(),
        ),
        status,
    )


@bp.get("/")
@manager_page
def index():
    """Every partner with its subscription, keys, acknowledgement and overdue removals, and the
    form for a new one (the new partner's form lives here, not at a path of its own, so that
    every valid partner code has its own page)."""
    return _render_index()


@bp.post("/")
@manager_page
def create():
    """Register a partner; its first API key and its signing secret are shown once."""
    form = _posted_form()
    session = get_session()
    try:
        partner, credentials = services.create_partner(
            session,
            code=form["code"],
            name=form["name"],
            measures=form["measures"],
            scope=form["scope"],
            webhook_url=form["webhook_url"],
            require_https=_require_https(),
            actor=current_actor(),
            clock=clock(),
        )
    except DomainError as error:
        session.rollback()
        return _render_index(error.status, form=form, errors=_errors(error))
    return _credentials_page(partner, credentials, f"已登记合作单位 {partner.name}")


# --------------------------------------------------------------------------------------------------
# One partner: settings, keys, secret, push


def _render_show(
    partner: Partner,
    status: int = 200,
    *,
    form: dict | None = None,
    errors: dict | None = None,
    key_errors: dict | None = None,
    label: str = "",
):
    session = get_session()
    now = clock().now()
    statuses = queries.ack_statuses(session, now=now, deadline=ack_deadline())
    return (
        render_template(
            "partners_admin/show.html",
            partner=partner,
            status=next((s for s in statuses if s.code == partner.code), None),
            overdue=queries.overdue_removals(
                session, partner, now=now, deadline=ack_deadline(), limit=0
            ),
            deliveries=queries.recent_deliveries(session, partner_id=partner.id, limit=20),
            form=form or _partner_form(partner),
            errors=errors or {},
            key_errors=key_errors or {},
            label=label,
            measure_groups=MEASURE_GROUPS,
            scopes=list(Scope),
            require_https=_require_https(),
            now=now,
            deadline=ack_deadline(),
        ),
        status,
    )


@bp.get("/<code>")
@manager_page
def show(code: str):
    return _render_show(services.get_partner(get_session(), code))


@bp.post("/<code>")
@manager_page
def update(code: str):
    """Change name, measures, scope, webhook or status."""
    session = get_session()
    partner = services.get_partner(session, code)
    form = _posted_form()
    form["code"] = partner.code
    try:
        services.update_partner(
            session,
            partner.code,
            name=form["name"],
            measures=form["measures"],
            scope=form["scope"],
            webhook_url=form["webhook_url"],
            is_active=form["is_active"],
            require_https=_require_https(),
            actor=current_actor(),
            clock=clock(),
        )
    except DomainError as error:
        session.rollback()
        partner = services.get_partner(session, code)
        return _render_show(partner, error.status, form=form, errors=_errors(error))
    flash(f"已保存合作单位 {partner.name} 的设置")
    return redirect(url_for(".show", code=partner.code))


@bp.post("/<code>/keys")
@manager_page
def add_key(code: str):
    """A new API key beside the others (shown once)."""
    session = get_session()
    label = request.form.get("label", "")
    try:
        partner, credentials = services.add_key(
            session, code, label=label, actor=current_actor(), clock=clock()
        )
    except DomainError as error:
        session.rollback()
        partner = services.get_partner(session, code)
        return _render_show(partner, error.status, key_errors=_errors(error, "label"), label=label)
    return _credentials_page(partner, credentials, f"已为 {partner.name} 生成新的接口密钥")


def _key_of(partner: Partner, key_id: int) -> PartnerKey:
    for key in partner.keys:
        if key.id == key_id:
            return key
    raise NotFound(f"合作单位 {partner.code} 没有编号为 {key_id} 的密钥")


@bp.get("/<code>/keys/<int:key_id>/revoke")
@manager_page
def confirm_revoke(code: str, key_id: int):
    """Ask before revoking: calls with the key are refused at once."""
    partner = services.get_partner(get_session(), code)
    key = _key_of(partner, key_id)
    active = [k for k in partner.keys if k.revoked_at is None]
    return render_template(
        "partners_admin/revoke.html", partner=partner, key=key, last_key=active == [key]
    )


@bp.post("/<code>/keys/<int:key_id>/revoke")
@manager_page
def revoke_key(code: str, key_id: int):
    session = get_session()
    try:
        row = services.revoke_key(session, code, key_id, actor=current_actor(), clock=clock())
    except Conflict as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".show", code=code))
    flash(f"已撤销密钥 {row.prefix}…：使用该密钥的请求将被拒绝")
    return redirect(url_for(".show", code=code))


@bp.get("/<code>/secret")
@manager_page
def confirm_rotate(code: str):
    """Ask before replacing the signing secret: the partner must switch to the new one."""
    partner = services.get_partner(get_session(), code)
    return render_template("partners_admin/rotate.html", partner=partner)


@bp.post("/<code>/secret")
@manager_page
def rotate_secret(code: str):
    """A new webhook signing secret (shown once); the next push is signed with it."""
    session = get_session()
    credentials = services.rotate_secret(session, code, actor=current_actor(), clock=clock())
    partner = services.get_partner(session, code)
    return _credentials_page(partner, credentials, f"已更换 {partner.name} 的推送签名密钥")


@bp.post("/<code>/retry")
@manager_page
def retry_push(code: str):
    """Push at the next opportunity instead of waiting out the back-off."""
    session = get_session()
    partner = services.get_partner(session, code)
    if not partner.webhook_url:
        flash("该合作单位没有设置推送地址（仅拉取）", "error")
        return redirect(url_for(".show", code=partner.code))
    services.retry_push_now(session, partner.code, actor=current_actor(), clock=clock())
    flash(f"已安排立即向 {partner.name} 推送")
    return redirect(url_for(".show", code=partner.code))

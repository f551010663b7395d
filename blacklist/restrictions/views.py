"""Staff pages of consumption orders and exit bans (DOMAIN.md §3): the court's orders with filters,
the "发出限制消费令" and "决定限制出境" forms (judges), the order page with the people it binds, its
measures and the lifting form (judges; clerks and auditors read).

Views stay thin, like the listing pages: parse the form, call one service, redirect with a message,
or show the form again with the service's errors beside the fields. Another court's order is a 404
and a refused role a 403 (the app's error pages); a state conflict (409) is shown as a message.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from blacklist.core.actor import Role
from blacklist.core.clock import CHINA_TZ
from blacklist.core.errors import Conflict, ValidationFailed
from blacklist.db import get_session
from blacklist.documents.queries import documents_for
from blacklist.listing.rules import BOUND_ROLES, PERSON_ROLE_LABELS
from blacklist.restrictions import forms, rules, services
from blacklist.restrictions.catalogue import BY_CODE, CONSUMPTION_MEASURES
from blacklist.restrictions.models import OrderKind, OrderStatus
from blacklist.restrictions.queries import orders_awaiting_decision
from blacklist.staff import auth
from blacklist.staff.auth import staff_page
from blacklist.web.privacy import never_cached

bp = Blueprint("orders", __name__, url_prefix="/staff/orders", template_folder="templates")

PER_PAGE = 20
KINDS = {k.value for k in OrderKind}


@bp.context_processor
def _helpers() -> dict:
    return {
        "KIND_LABELS": rules.ORDER_KIND_LABELS,
        "STATUS_LABELS": rules.ORDER_STATUS_LABELS,
        "ROLE_LABELS": {r.value: label for r, label in PERSON_ROLE_LABELS.items()},
        "measure_label": lambda code: BY_CODE[code].label,
        "lift_label": _lift_label,
        "beijing": lambda at: at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else "",
    }


def _lift_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        return rules.LiftGround(code).label
    except ValueError:
        from blacklist.listing.rules import DeletionReason

        try:
            return DeletionReason(code).label
        except ValueError:
            return code


never_cached(bp)


@bp.errorhandler(Conflict)
def _conflict(error: Conflict):
    """A state conflict (already lifted, a duplicate, a listing's order) is told as a message."""
    flash(error.message, "error")
    public_id = (request.view_args or {}).get("public_id")
    if public_id is not None:
        return redirect(url_for(".show", public_id=public_id))
    return redirect(url_for(".index"))


@bp.get("/")
@staff_page()
def index():
    actor = auth.current_actor()
    kind = (request.args.get("kind") or "").strip()
    status = (request.args.get("status") or "").strip()
    q = (request.args.get("q") or "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = get_session()
    error = None
    try:
        items, total = services.list_orders(
            session, actor=actor, kind=kind or None, status=status or None, q=q or None,
            page=page, per_page=PER_PAGE,
        )  # fmt: skip
    except ValidationFailed as failure:
        items, total, error = [], 0, failure.message
    return render_template(
        "orders/index.html",
        items=services.staff_orders(session, items),
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        kind=kind,
        status=status,
        q=q,
        error=error,
        kinds=list(OrderKind),
        statuses=list(OrderStatus),
        may_decide=actor.role is Role.JUDGE,
        awaiting_orders=orders_awaiting_decision(session, actor.court_id),
    )


def _render_form(kind: str, values: dict, errors=None, *, message=None, status=200):
    return (
        render_template(
            "orders/form.html",
            kind=kind,
            values=values,
            errors=errors or {},
            message=message,
            measures=[BY_CODE[c] for c in CONSUMPTION_MEASURES],
            bound_roles=BOUND_ROLES,
            exit_roles=rules.EXIT_BAN_ROLES,
            id_info={},
        ),
        status,
    )


@bp.route("/new/<kind>", methods=["GET", "POST"])
@staff_page(Role.JUDGE)
def new(kind: str):
    if kind not in KINDS:
        abort(404)
    if request.method == "GET":
        return _render_form(kind, forms.blank_values(kind))
    parsed = forms.parse_order(request.form, kind)
    if parsed.value is None:
        return _render_form(
            kind, parsed.values, parsed.errors, message="填写的信息有误，未发出", status=422
        )
    try:
        order = services.issue_order(
            get_session(), parsed.value, actor=auth.current_actor(), clock=auth.clock()
        )
    except ValidationFailed as error:
        return _render_form(kind, parsed.values, error.errors, message=error.message, status=422)
    flash(f"{rules.ORDER_KIND_LABELS[kind]}已发出，已通知各协同单位", "success")
    return redirect(url_for(".show", public_id=order.public_id))


def _render_show(public_id: str, *, errors=None, values=None, message=None, status=200):
    actor = auth.current_actor()
    session = get_session()
    order = services.get_order(session, public_id, actor=actor)
    [view] = services.staff_orders(session, [order])
    return (
        render_template(
            "orders/show.html",
            order=view,
            entries=services.history(session, public_id, actor=actor),
            documents=documents_for(session, order_id=order.id, actor=actor),
            may_decide=actor.role is Role.JUDGE,
            grounds=list(rules.LiftGround),
            errors=errors or {},
            values=values or {},
            message=message,
        ),
        status,
    )


@bp.get("/<public_id>")
@staff_page()
def show(public_id: str):
    return _render_show(public_id)


@bp.post("/<public_id>/lifting")
@staff_page(Role.JUDGE)
def lift(public_id: str):
    parsed = forms.parse_lifting(request.form)
    errors = dict(parsed.errors)
    if not forms.confirmed(request.form):
        errors["confirm"] = ["请勾选“我已核对，确认执行”后再提交"]
    if errors:
        return _render_show(
            public_id, errors=errors, values=parsed.values,
            message="未解除：请按提示修改后重新提交", status=422,
        )  # fmt: skip
    try:
        services.lift_order(
            get_session(), public_id, parsed.value, actor=auth.current_actor(), clock=auth.clock()
        )
    except ValidationFailed as error:
        return _render_show(
            public_id, errors=error.errors, values=parsed.values, message=error.message,
            status=422,
        )  # fmt: skip
    flash("限制令已解除，已通知各协同单位", "success")
    return redirect(url_for(".show", public_id=public_id))

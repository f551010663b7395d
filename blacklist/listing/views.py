"""Staff pages of the listing lifecycle (DOMAIN.md §2): the dashboard, the listing form, the
listing page with its acts, and the search.

Views stay thin: parse the form (``forms``), call one service, then redirect with a message
(POST/redirect/GET), or show the form again with the service's errors beside the fields and the
entered values kept. Another court's listing is a 404 and a refused role a 403 (the app's error
pages); a state conflict (409) is shown as a message on the listing.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from blacklist.audit.models import AuditEntry
from blacklist.core.actor import Role
from blacklist.core.clock import CHINA_TZ
from blacklist.core.errors import Conflict, DomainError, ValidationFailed
from blacklist.core.identity import SEX_LABELS, Sex
from blacklist.db import get_session
from blacklist.listing import forms, queries, rules, services
from blacklist.listing.rules import (
    BOUND_ROLES,
    EXEMPTION_LABELS,
    GROUND_LABELS,
    REMOVAL_KIND_LABELS,
    Act,
    DeletionReason,
    ListingStatus,
    PersonRole,
)
from blacklist.staff import auth
from blacklist.staff.auth import staff_page
from blacklist.web.privacy import never_cached

bp = Blueprint("listing", __name__, url_prefix="/staff", template_folder="templates")

PER_PAGE = 20
#: What an amount field accepts in the browser (the service checks again): 100000, 100,000.00.
AMOUNT_PATTERN = r"\s*[0-9][0-9,]*(\.[0-9]{1,2})?\s*"

#: Audit actions as the history and the dashboard show them.
ACTION_LABELS = {
    "document.issued": "制作法律文书",
    "document.downloaded": "下载法律文书",
    "listing.drafted": "起草名单",
    "listing.edited": "修改草稿",
    "listing.corrected": "更正",
    "listing.submitted": "提交审批",
    "listing.rejected": "退回修改",
    "listing.approved": "签发决定书",
    "listing.published": "发布",
    "listing.performance_recorded": "登记履行",
    "listing.deleted": "删除",
    "listing.revoked": "撤销",
    "listing.expired": "期满删除",
    "listing.extended": "延长期限",
    "listing.id_revealed": "查看完整身份证号",
    "restriction_order.issued": "发出限制令",
    "restriction_order.lifted": "解除限制令",
    "correction.submitted": "收到纠正申请",
    "correction.accepted": "纠正申请成立",
    "correction.rejected": "驳回纠正申请",
    "correction.served": "纠正决定送达",
    "correction.carried_out": "落实纠正",
    "correction.reconsideration_requested": "收到复议申请",
    "correction.reconsideration_decided": "作出复议决定",
    "staff.login": "登录",
    "staff.logout": "退出登录",
    "staff.login_failed": "登录失败",
    "staff.locked": "账号锁定",
    "staff.login_refused_locked": "账号锁定期间尝试登录",
    "staff.created": "新增工作人员账号",
    "staff.activated": "启用账号",
    "staff.deactivated": "停用账号",
    "staff.password_set": "重设密码",
    "staff.token_issued": "签发接口令牌",
    "staff.token_revoked": "撤销接口令牌",
    "court.created": "新增法院",
    "calendar.seeded": "导入工作日历",
    "calendar.day_set": "设置工作日/休息日",
    "calendar.day_cleared": "清除日历设置",
}

_REVEALED_PERSON_LABELS = {"debtor": "被执行人"}


def _beijing(value: datetime | None) -> str:
    """An instant as Beijing time (UTC+8), as staff read the clock."""
    if value is None:
        return ""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _reason_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return DeletionReason(value).label
    except ValueError:
        return value


def _entry_details(entry: AuditEntry) -> str:
    """A short Chinese summary of what an audit entry changed."""
    after = entry.after or {}
    parts = []
    if entry.action == "listing.approved":
        parts.append(f"决定书 {after.get('decision_number')}，决定日期 {after.get('decided_on')}")
        if after.get("ends_on"):
            parts.append(f"期限至 {after['ends_on']}")
    elif entry.action == "listing.performance_recorded":
        if after.get("amount"):
            parts.append(f"金额 {after['amount']} 元")
        parts.append(f"履行日期 {after.get('performed_on')}")
        if after.get("full"):
            parts.append("全部履行")
    elif entry.action == "listing.extended":
        parts.append(f"期限延长至 {after.get('ends_on')}")
    elif entry.action in ("listing.deleted", "listing.expired", "listing.revoked"):
        label = _reason_label(after.get("reason"))
        if label and label != "revoked":
            parts.append(f"事由：{label}")
    elif entry.action == "listing.id_revealed":
        who = str(after.get("person") or "")
        role = who.partition(":")[0]
        parts.append(_REVEALED_PERSON_LABELS.get(role) or _role_label(role))
    elif entry.action == "listing.published" and after.get("published_on"):
        parts.append(f"发布日期 {after['published_on']}")
    return "；".join(p for p in parts if p)


def _role_label(value: str) -> str:
    try:
        return PersonRole(value).label
    except ValueError:
        return value


def _sex_label(value: str | None) -> str:
    try:
        return SEX_LABELS[Sex(value)]
    except ValueError:
        return ""


def _money(value) -> str:
    return "" if value is None else f"{value:,.2f}"


@bp.context_processor
def _helpers() -> dict:
    return {
        "beijing": _beijing,
        "action_label": lambda code: ACTION_LABELS.get(code, code),
        "entry_details": _entry_details,
        "reason_label": _reason_label,
        "sex_label": _sex_label,
        "money": _money,
        "amount_pattern": AMOUNT_PATTERN,
        "GROUND_LABELS": GROUND_LABELS,
        "BOUND_ROLES": BOUND_ROLES,
        "EXEMPTION_LABELS": EXEMPTION_LABELS,
        "REMOVAL_KIND_LABELS": REMOVAL_KIND_LABELS,
        "Act": Act,
        "today": auth.clock().today(),
    }


never_cached(bp)


@bp.errorhandler(Conflict)
def _conflict(error: Conflict):
    """A state conflict (409: the listing changed meanwhile, a duplicate, an act that does not fit
    the status) is told as a message on the listing it concerns."""
    flash(error.message, "error")
    listing_id = (request.view_args or {}).get("listing_id")
    if listing_id is not None:
        return redirect(url_for(".show", listing_id=listing_id))
    return redirect(url_for(".dashboard"))


def _actor_and_clock():
    return auth.current_actor(), auth.clock()


# --------------------------------------------------------------------------------------------------
# Dashboard and search


@bp.get("/")
@staff_page()
def dashboard():
    from blacklist.corrections.queries import deadlines_for_court
    from blacklist.partners.views import dashboard_panel
    from blacklist.restrictions.queries import orders_awaiting_decision
    from blacklist.scheduler.views import dashboard_alerts

    actor = auth.current_actor()
    session, today = get_session(), auth.clock().today()
    board = queries.dashboard(session, court_id=actor.court_id, today=today)
    return render_template(
        "listing/dashboard.html",
        board=board,
        late_partners=dashboard_panel(session, actor.court_id),
        alerts=dashboard_alerts(session, actor),
        correction_deadlines=deadlines_for_court(session, actor.court_id, today),
        awaiting_orders=orders_awaiting_decision(session, actor.court_id),
    )


@bp.get("/listings")
@staff_page()
def search():
    q = (request.args.get("q") or "").strip()
    status = (request.args.get("status") or "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    error = None
    try:
        items, total = services.list_listings(
            get_session(),
            actor=auth.current_actor(),
            status=status or None,
            q=q or None,
            page=page,
            per_page=PER_PAGE,
        )
    except ValidationFailed as failure:
        items, total, error = [], 0, failure.message
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template(
        "listing/search.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        q=q,
        status=status,
        error=error,
        statuses=list(ListingStatus),
    )


# --------------------------------------------------------------------------------------------------
# The listing form: new draft, edit of a draft, correction


def _render_form(values, errors=None, *, listing=None, message=None, status=200):
    today = auth.clock().today()
    id_info = {
        name: forms.describe_resident_id(str(values.get(name) or ""), today)
        for name in forms.ID_FIELDS
    }
    return (
        render_template(
            "listing/form.html",
            values=values,
            errors=errors or {},
            message=message,
            listing=listing,
            id_info=id_info,
            bound_rows=forms.BOUND_ROWS,
            grace_choices=forms.GRACE_CHOICES,
            exemption_fields=forms.EXEMPTION_FIELDS,
        ),
        status,
    )


def _submit_after_save(listing_id: int, saved: str) -> None:
    """ "保存并提交审批": the draft is saved; submitting it is a second act that may be refused."""
    actor, clock = _actor_and_clock()
    try:
        services.submit_listing(get_session(), listing_id, actor=actor, clock=clock)
    except DomainError as error:
        flash(f"{saved}，但未能提交审批：{error.message}", "error")
    else:
        flash(f"{saved}，已提交审批", "success")


@bp.route("/listings/new", methods=["GET", "POST"])
@staff_page(Role.CLERK, Role.JUDGE)
def new():
    if request.method == "GET":
        return _render_form(forms.blank_values())
    parsed = forms.parse_draft(request.form)
    if parsed.value is None:
        return _render_form(
            parsed.values, parsed.errors, message="填写的信息有误，未保存", status=422
        )
    actor, clock = _actor_and_clock()
    try:
        listing = services.create_draft(get_session(), parsed.value, actor=actor, clock=clock)
    except ValidationFailed as error:
        return _render_form(parsed.values, error.errors, message=error.message, status=422)
    except Conflict as error:
        # A double submission, or a colleague's entry for the same debtor and case: show it.
        flash(error.message, "error")
        return redirect(url_for(".search", q=parsed.values.get("case.case_number") or None))
    if request.form.get("action") == "submit":
        _submit_after_save(listing.id, "草稿已保存")
    else:
        flash("草稿已保存", "success")
    return redirect(url_for(".show", listing_id=listing.id))


@bp.route("/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@staff_page(Role.CLERK, Role.JUDGE)
def edit(listing_id: int):
    actor, clock = _actor_and_clock()
    session = get_session()
    listing = services.get_listing(session, listing_id, actor=actor)
    is_draft = listing.status is ListingStatus.DRAFT
    rules.check_act(Act.EDIT if is_draft else Act.CORRECT, listing.status, actor.role)
    if request.method == "GET":
        return _render_form(forms.listing_values(listing), listing=listing)
    parsed = forms.parse_patch(request.form, is_draft=is_draft)
    if parsed.value is None:
        return _render_form(
            parsed.values,
            parsed.errors,
            listing=listing,
            message="填写的信息有误，未保存",
            status=422,
        )
    try:
        services.edit_listing(session, listing_id, parsed.value, actor=actor, clock=clock)
    except ValidationFailed as error:
        listing = services.get_listing(session, listing_id, actor=actor)
        return _render_form(
            parsed.values, error.errors, listing=listing, message=error.message, status=422
        )
    saved = "草稿已修改" if is_draft else "更正已保存，已通知各协同单位"
    if is_draft and request.form.get("action") == "submit":
        _submit_after_save(listing_id, saved)
    else:
        flash(saved, "success")
    return redirect(url_for(".show", listing_id=listing_id))


# --------------------------------------------------------------------------------------------------
# The listing page and its acts


def _render_show(
    listing_id: int,
    *,
    form: str | None = None,
    errors: dict | None = None,
    values: dict | None = None,
    message: str | None = None,
    revealed: tuple[int | None, str] | None = None,
    status: int = 200,
):
    actor, clock = _actor_and_clock()
    session = get_session()
    listing = services.get_listing(session, listing_id, actor=actor)
    entries = services.history(session, listing_id, actor=actor)
    facts = queries.listing_facts(session, listing, clock.today())
    acts = rules.allowed_acts(listing.status, actor.role, has_term=listing.has_term)
    may_reveal = actor.role in (Role.CLERK, Role.JUDGE)
    from blacklist.documents.queries import documents_for

    documents = documents_for(session, listing_id=listing.id, actor=actor)
    return (
        render_template(
            "listing/show.html",
            listing=listing,
            documents=documents,
            entries=entries,
            facts=facts,
            acts=acts,
            may_reveal=may_reveal,
            form=form,
            errors=errors or {},
            values=values or {},
            message=message,
            revealed=revealed,
            deletion_reasons=rules.deletion_reasons_for(listing.has_term),
            extension_choices=forms.EXTENSION_CHOICES,
        ),
        status,
    )


@bp.get("/listings/<int:listing_id>")
@staff_page()
def show(listing_id: int):
    return _render_show(listing_id)


def _act(listing_id: int, form: str, parsed: forms.Parsed, call, done: str, *, confirm=False):
    """Run one act of the listing page: refuse an unconfirmed irreversible act and input that
    cannot be parsed, call the service, then redirect with ``done`` or show the page again with
    the errors beside the act's fields."""
    errors = dict(parsed.errors)
    if confirm and not forms.confirmed(request.form):
        errors["confirm"] = ["请勾选“我已核对，确认执行”后再提交"]
    if errors:
        return _render_show(
            listing_id,
            form=form,
            errors=errors,
            values=parsed.values,
            message="未执行：请按提示修改后重新提交",
            status=422,
        )
    actor, clock = _actor_and_clock()
    try:
        call(get_session(), actor, clock, parsed.value)
    except ValidationFailed as error:
        return _render_show(
            listing_id,
            form=form,
            errors=error.errors,
            values=parsed.values,
            message=error.message,
            status=422,
        )
    flash(done, "success")
    return redirect(url_for(".show", listing_id=listing_id))


@bp.post("/listings/<int:listing_id>/submit")
@staff_page(Role.CLERK, Role.JUDGE)
def submit(listing_id: int):
    return _act(
        listing_id,
        "submit",
        forms.parse_reason(request.form),
        lambda s, a, c, _: services.submit_listing(s, listing_id, actor=a, clock=c),
        "已提交审批",
    )


@bp.post("/listings/<int:listing_id>/approve")
@staff_page(Role.JUDGE)
def approve(listing_id: int):
    return _act(
        listing_id,
        "approve",
        forms.parse_approval(request.form),
        lambda s, a, c, v: services.approve_listing(s, listing_id, v, actor=a, clock=c),
        "决定书已签发",
        confirm=True,
    )


@bp.post("/listings/<int:listing_id>/reject")
@staff_page(Role.JUDGE)
def reject(listing_id: int):
    return _act(
        listing_id,
        "reject",
        forms.parse_reason(request.form, "reason"),
        lambda s, a, c, v: services.reject_listing(s, listing_id, v["reason"], actor=a, clock=c),
        "已退回修改",
    )


@bp.post("/listings/<int:listing_id>/performances")
@staff_page(Role.CLERK, Role.JUDGE)
def record_payment(listing_id: int):
    return _act(
        listing_id,
        "payment",
        forms.parse_payment(request.form),
        lambda s, a, c, v: services.record_performance(s, listing_id, v, actor=a, clock=c),
        "履行情况已登记",
    )


@bp.post("/listings/<int:listing_id>/deletion")
@staff_page(Role.JUDGE)
def delete(listing_id: int):
    return _act(
        listing_id,
        "delete",
        forms.parse_deletion(request.form),
        lambda s, a, c, v: services.delete_listing(
            s, listing_id, v["reason"], note=v["note"] or None, actor=a, clock=c
        ),
        "名单已删除，已通知各协同单位",
        confirm=True,
    )


@bp.post("/listings/<int:listing_id>/revocation")
@staff_page(Role.JUDGE)
def revoke(listing_id: int):
    return _act(
        listing_id,
        "revoke",
        forms.parse_reason(request.form, "reason"),
        lambda s, a, c, v: services.revoke_listing(s, listing_id, v["reason"], actor=a, clock=c),
        "名单已撤销，已通知各协同单位",
        confirm=True,
    )


@bp.post("/listings/<int:listing_id>/extension")
@staff_page(Role.JUDGE)
def extend(listing_id: int):
    return _act(
        listing_id,
        "extend",
        forms.parse_extension(request.form),
        lambda s, a, c, v: services.extend_listing(s, listing_id, v[0], v[1], actor=a, clock=c),
        "失信期限已延长",
        confirm=True,
    )


@bp.post("/listings/<int:listing_id>/id-number")
@staff_page(Role.CLERK, Role.JUDGE)
def reveal_id_number(listing_id: int):
    """Show one full ID number once, in this response only: never in the session, a flash
    message or a redirect. The service records who opened it (DOMAIN.md §6)."""
    raw = (request.form.get("person_id") or "").strip()
    if raw and not raw.isdigit():
        abort(404)
    person_id = int(raw) if raw else None
    actor, clock = _actor_and_clock()
    number = services.reveal_id_number(
        get_session(), listing_id, person_id=person_id, actor=actor, clock=clock
    )
    body, status = _render_show(listing_id, revealed=(person_id, number))
    return make_response(body, status)

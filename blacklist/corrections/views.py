"""Pages of correction requests: the public form and status page (no account), and the staff
review and reconsideration pages (Arts. 11–12).

Public: ``/corrections/new`` files a request (multipart, CSRF-protected, rate-limited per client),
``/corrections/status`` follows it by its reference number (posted, so the number stays out of
URLs and logs) and, after a rejection, asks the next higher court for reconsideration. Staff:
``/staff/corrections`` lists the court's requests and the reconsiderations before it; a request's
page shows the listing, the applicant's text (escaped), the attachments, the timeline and the
decision forms. Views stay thin: parse, call one service, render.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from blacklist.core.actor import Role
from blacklist.core.clock import CHINA_TZ
from blacklist.core.errors import Conflict, DomainError, ValidationFailed
from blacklist.corrections import forms, queries, rules, services
from blacklist.corrections.models import (
    CorrectionGround,
    CorrectionStatus,
    ReconsiderationOutcome,
    Remedy,
)
from blacklist.db import get_session
from blacklist.documents.queries import documents_for
from blacklist.staff import auth
from blacklist.staff.auth import staff_page
from blacklist.web.ratelimit import limiter

#: Public: file a request, follow it by its reference number, ask for reconsideration.
public_bp = Blueprint(
    "corrections_public", __name__, url_prefix="/corrections", template_folder="templates"
)
#: Staff: review (the enforcing court) and reconsideration (the next higher court).
bp = Blueprint(
    "corrections", __name__, url_prefix="/staff/corrections", template_folder="templates"
)

DEFAULT_RATE_LIMIT = "20 per hour;100 per day"
PER_PAGE = 20

ACTION_LABELS = {
    "correction.submitted": "提交纠正申请",
    "correction.accepted": "决定申请成立",
    "correction.rejected": "决定驳回申请",
    "correction.served": "决定送达申请人",
    "correction.carried_out": "纠正已落实",
    "correction.reconsideration_requested": "申请复议",
    "correction.reconsideration_decided": "作出复议决定",
}


def max_attachment_bytes() -> int:
    """``CORRECTION_ATTACHMENT_MAX_BYTES`` (default 5 MB): the largest attachment accepted."""
    return int(
        current_app.config.get("CORRECTION_ATTACHMENT_MAX_BYTES")
        or rules.DEFAULT_ATTACHMENT_MAX_BYTES
    )


def _rate_limit() -> str:
    return current_app.config.get("CORRECTION_RATE_LIMIT") or DEFAULT_RATE_LIMIT


#: Filing, looking up and asking for reconsideration count against one allowance per client
#: (``CORRECTION_RATE_LIMIT``, default 20 an hour and 100 a day); reading the blank form does not.
correction_limit = limiter.shared_limit(_rate_limit, scope="public-correction", methods=["POST"])


def _beijing(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def _helpers() -> dict:
    return {
        "cn_date": lambda d: rules.cn_date(d) if d else "—",
        "beijing": _beijing,
        "GROUND_LABELS": rules.GROUND_LABELS,
        "STATUS_LABELS": rules.STATUS_LABELS,
        "REMEDY_LABELS": rules.REMEDY_LABELS,
        "OUTCOME_LABELS": rules.OUTCOME_LABELS,
        "ACTION_LABELS": ACTION_LABELS,
        "grounds": list(CorrectionGround),
        "remedies": list(Remedy),
        "outcomes": list(ReconsiderationOutcome),
        "statuses": list(CorrectionStatus),
        "CorrectionStatus": CorrectionStatus,
        "max_mb": f"{max_attachment_bytes() / 1024 / 1024:g}",
        "max_attachments": rules.MAX_ATTACHMENTS,
        "today": auth.clock().today(),
    }


public_bp.context_processor(_helpers)
bp.context_processor(_helpers)


@public_bp.url_value_preprocessor
def _limit_upload_size(_endpoint, _values) -> None:
    """Cap the body of a public post before anything reads it: URL value preprocessors run before
    every ``before_request`` function, CSRF protection's included (which parses the form). A
    larger body is refused with 413 and never spooled to disk."""
    if request.method == "POST":
        request.max_content_length = max_attachment_bytes() * rules.MAX_ATTACHMENTS + 1024 * 1024


@public_bp.after_request
@bp.after_request
def _no_store(response: Response) -> Response:
    """Pages with personal data and reference numbers: never cached, never sniffed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# --------------------------------------------------------------------------------------------------
# Public: the request form


def _render_new(values: dict, errors: dict | None = None, message: str | None = None, status=200):
    return (
        render_template(
            "corrections/new.html", values=values, errors=errors or {}, message=message
        ),
        status,
    )


@public_bp.route("/new", methods=["GET", "POST"])
@correction_limit
def new():
    """Art. 11: the listed person's request for correction, revocation or deletion."""
    if request.method == "GET":
        public_id = (request.args.get("listing") or "")[:32]
        return _render_new({"public_id": public_id})
    values = forms.values_of(request.form, forms.CORRECTION_FIELDS)
    max_bytes = max_attachment_bytes()
    data = forms.parse_correction(request.form, request.files, max_bytes)
    session = get_session()
    try:
        correction = services.submit_request(
            session,
            data,
            actor=services.public_actor(auth.client_ip()),
            clock=auth.clock(),
            max_bytes=max_bytes,
        )
    except ValidationFailed as error:
        return _render_new(values, error.errors, error.message, 422)
    except Conflict as error:
        return _render_new(values, {}, error.message, 409)
    return render_template("corrections/submitted.html", correction=correction), 201


# --------------------------------------------------------------------------------------------------
# Public: status and reconsideration


def _render_status(
    correction=None,
    *,
    reference: str = "",
    errors: dict | None = None,
    message: str | None = None,
    notice: str | None = None,
    status: int = 200,
):
    can_reconsider = False
    has_higher_court = False
    if correction is not None:
        today = auth.clock().today()
        can_reconsider = rules.reconsideration_open(
            correction.status, correction.reconsideration_until, today
        )
        has_higher_court = correction.court.parent_id is not None
    return (
        render_template(
            "corrections/status.html",
            correction=correction,
            reference=reference,
            errors=errors or {},
            message=message,
            notice=notice,
            can_reconsider=can_reconsider,
            has_higher_court=has_higher_court,
        ),
        status,
    )


@public_bp.route("/status", methods=["GET", "POST"])
@correction_limit
def status():
    """Follow a request by its reference number: status, deadlines, decision and reasons."""
    if request.method == "GET":
        return _render_status()
    reference = (request.form.get("reference") or "").strip()[:40]
    try:
        correction = services.serve_rejection(
            get_session(), reference, actor=services.public_actor(auth.client_ip()),
            clock=auth.clock(),
        )  # fmt: skip
    except DomainError as error:
        return _render_status(
            reference=reference, errors={"reference": [error.message]}, status=404
        )
    return _render_status(correction, reference=correction.reference)


@public_bp.post("/status/reconsideration")
@correction_limit
def reconsideration():
    """Art. 12: ask the next higher court to reconsider a rejection (within ten days)."""
    reference = (request.form.get("reference") or "").strip()[:40]
    session = get_session()
    max_bytes = max_attachment_bytes()
    data = forms.parse_reconsideration(request.form, request.files, max_bytes)
    try:
        correction = services.request_reconsideration(
            session,
            reference,
            data,
            actor=services.public_actor(auth.client_ip()),
            clock=auth.clock(),
            max_bytes=max_bytes,
        )
    except DomainError as error:
        session = get_session()
        try:
            correction = services.find_by_reference(session, reference)
        except DomainError:
            return _render_status(
                reference=reference, errors={"reference": [error.message]}, status=error.status
            )
        return _render_status(
            correction,
            reference=correction.reference,
            errors=error.errors or {"reconsideration": [error.message]},
            message=error.message,
            status=error.status,
        )
    return _render_status(
        correction,
        reference=correction.reference,
        notice=f"复议申请已提交，{correction.reconsideration.court.name}将于"
        f"{rules.cn_date(correction.reconsideration.decision_due_on)}前作出决定。",
        status=201,
    )


# --------------------------------------------------------------------------------------------------
# Staff


@bp.get("/")
@staff_page()
def index():
    """The court's requests (as enforcing court) and the reconsiderations before it (as the next
    higher court), with deadlines; overdue rows highlighted."""
    actor = auth.current_actor()
    tab = request.args.get("tab") if request.args.get("tab") == "reconsideration" else "review"
    status_filter = (request.args.get("status") or "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = get_session()
    error = None
    try:
        items, total = services.list_requests(
            session, actor=actor, scope=tab, status=status_filter or None,
            page=page, per_page=PER_PAGE,
        )  # fmt: skip
    except ValidationFailed as failure:
        items, total, error = [], 0, failure.message
    deadlines = queries.deadlines_for_court(session, actor.court_id, auth.clock().today())
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template(
        "corrections/index.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        tab=tab,
        status_filter=status_filter,
        error=error,
        deadlines=deadlines,
        due_of=_due_of,
    )


def _due_of(correction) -> tuple[str, object] | None:
    """The deadline that matters now for a request: what, and when."""
    if correction.status is CorrectionStatus.RECEIVED:
        return ("审查期限", correction.review_due_on)
    if correction.status is CorrectionStatus.ACCEPTED:
        return ("落实期限", correction.carry_out_due_on)
    if correction.status is CorrectionStatus.REJECTED:
        return ("复议申请期限", correction.reconsideration_until)
    if correction.status is CorrectionStatus.UNDER_RECONSIDERATION and correction.reconsideration:
        return ("复议决定期限", correction.reconsideration.decision_due_on)
    return None


def _render_show(reference: str, *, form=None, errors=None, values=None, message=None, status=200):
    actor = auth.current_actor()
    session = get_session()
    correction = services.get_request(session, reference, actor=actor)
    entries = services.history(session, reference, actor=actor)
    is_enforcing = actor.court_id == correction.court_id
    recon = correction.reconsideration
    is_higher = recon is not None and actor.court_id == recon.court_id
    is_judge = actor.role is Role.JUDGE
    return (
        render_template(
            "corrections/show.html",
            correction=correction,
            entries=entries,
            documents=documents_for(session, correction_id=correction.id, actor=actor),
            is_enforcing=is_enforcing,
            is_higher=is_higher,
            may_decide=is_enforcing and is_judge and correction.status is CorrectionStatus.RECEIVED,
            may_confirm=is_enforcing
            and is_judge
            and correction.status is CorrectionStatus.ACCEPTED
            and correction.remedy is Remedy.CORRECT,
            may_decide_reconsideration=is_higher
            and is_judge
            and correction.status is CorrectionStatus.UNDER_RECONSIDERATION,
            form=form,
            errors=errors or {},
            values=values or {},
            message=message,
            due=_due_of(correction),
        ),
        status,
    )


@bp.get("/<reference>")
@staff_page()
def show(reference: str):
    return _render_show(reference)


def _decide(reference: str, form: str, call, done: str):
    values = {
        k: (request.form.get(k) or "")[:4000] for k in ("decision", "outcome", "remedy", "reasons")
    }
    actor, clock = auth.current_actor(), auth.clock()
    try:
        call(get_session(), actor, clock)
    except ValidationFailed as error:
        return _render_show(
            reference, form=form, errors=error.errors, values=values, message=error.message,
            status=422,
        )  # fmt: skip
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for(".show", reference=reference))
    flash(done, "success")
    return redirect(url_for(".show", reference=reference))


@bp.post("/<reference>/completion")
@staff_page(Role.JUDGE)
def complete(reference: str):
    """The enforcing court's judge confirms that the listing was corrected (remedy 更正)."""
    note = (request.form.get("note") or "")[:4000]
    return _decide(
        reference,
        "completion",
        lambda s, a, c: services.confirm_correction(s, reference, note, actor=a, clock=c),
        "已确认纠正落实",
    )


@bp.post("/<reference>/decision")
@staff_page(Role.JUDGE)
def decide(reference: str):
    """The enforcing court's judge accepts (with a remedy) or rejects the request."""
    data = forms.parse_decision(request.form)
    return _decide(
        reference,
        "decision",
        lambda s, a, c: services.decide_request(s, reference, data, actor=a, clock=c),
        "决定已作出" + ("，请在三个工作日内落实纠正" if data.decision == "accept" else ""),
    )


@bp.post("/<reference>/reconsideration")
@staff_page(Role.JUDGE)
def decide_reconsideration(reference: str):
    """The next higher court's judge upholds the rejection or overturns it with a remedy."""
    data = forms.parse_reconsideration_decision(request.form)
    return _decide(
        reference,
        "reconsideration",
        lambda s, a, c: services.decide_reconsideration(s, reference, data, actor=a, clock=c),
        "复议决定已作出",
    )


@bp.get("/<reference>/attachments/<int:attachment_id>")
@staff_page()
def attachment(reference: str, attachment_id: int):
    """Download an attachment (enforcing court; the higher court once it has the request)."""
    from blacklist.corrections.api import attachment_response

    row = services.get_attachment(
        get_session(), reference, attachment_id, actor=auth.current_actor()
    )
    return attachment_response(row)

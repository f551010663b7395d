"""Correction requests (Art. 11) and reconsideration (Art. 12), one use case per function and one
transaction each, in the shape of ``listing.services``.

The listed person files a request on the public form (no account: the actor is the public
``申请人``); the enforcing court's judge accepts it with a remedy (更正 / 撤销 / 删除, carried out
within three working days with the listing's own services) or rejects it by a reasoned decision;
within ten days of a rejection the applicant may ask the next higher court, whose judge upholds the
rejection or overturns it and orders the remedy. The listing stays in force meanwhile: nothing here
changes a listing. When the court then corrects, revokes or deletes the listing, ``on_listing_event``
(called from ``events.emit``) marks the accepted request carried out.

Full ID numbers are never stored or logged: the applicant is kept as the vault's keyed hash
(``applicant_hash``), enough to check that a reconsideration comes from the same person.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from blacklist.audit import services as audit
from blacklist.core.actor import Actor, ActorKind, Role
from blacklist.core.clock import CHINA_TZ, Clock
from blacklist.core.errors import (
    Conflict,
    ErrorCollector,
    NotAllowed,
    NotFound,
    ValidationFailed,
    parse_choice,
)
from blacklist.core.identity import parse_identifier
from blacklist.corrections import rules
from blacklist.corrections.inputs import (
    AttachmentIn,
    CorrectionIn,
    DecisionIn,
    ReconsiderationDecisionIn,
    ReconsiderationIn,
)
from blacklist.corrections.models import (
    CorrectionAttachment,
    CorrectionGround,
    CorrectionRequest,
    CorrectionStatus,
    Reconsideration,
    ReconsiderationOutcome,
    Remedy,
)
from blacklist.db import lock_journal, vault_of
from blacklist.documents.models import DocumentKind
from blacklist.holidays.services import load_calendar
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus
from blacklist.listing.services import require_reason, use_case
from blacklist.staff.models import Court

ENTITY = "correction_request"
NAME_MAX = 100
CONTACT_MAX = 200
PER_PAGE_MAX = 100


def public_actor(ip: str | None = None) -> Actor:
    """The applicant on the public form: no account, named ``申请人`` in the audit log, with the
    address the request came from."""
    return Actor(kind=ActorKind.PUBLIC, name="申请人", ip=ip)


def _commit(session: Session) -> None:
    """Commit; a concurrent decision on the same request (optimistic version check) is a conflict."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("该申请已被他人处理，请刷新后重试") from None


def _entity(request: CorrectionRequest) -> tuple[str, int]:
    return (ENTITY, request.id)


def _attachments(
    attachments: tuple[AttachmentIn, ...],
    stage: str,
    *,
    max_bytes: int,
    errors: ErrorCollector,
    clock: Clock,
) -> list[CorrectionAttachment]:
    """Check every file (count, size, real type) and build the rows; errors go to ``errors``."""
    files = [a for a in attachments if a.data or a.filename]
    if len(files) > rules.MAX_ATTACHMENTS:
        errors.add(ValidationFailed.on("attachments", f"最多上传{rules.MAX_ATTACHMENTS}个附件"))
        return []
    rows = []
    for item in files:
        checked = errors.check(
            rules.check_attachment, item.data, item.filename, max_bytes=max_bytes
        )
        if checked is None:
            continue
        content_type, filename = checked
        rows.append(
            CorrectionAttachment(
                stage=stage,
                filename=filename,
                content_type=content_type,
                size=len(item.data),
                sha256=hashlib.sha256(item.data).hexdigest(),
                data=item.data,
                uploaded_at=clock.now(),
            )
        )
    return rows


def _identifier_hash(session: Session, errors: ErrorCollector, raw: str) -> str | None:
    """The vault hash of a resident ID number or credit code as typed (a malformed number is a
    field error: it says nothing about any listing)."""
    parsed = errors.check(parse_identifier, raw or "", "id_number")
    if parsed is None:
        return None
    return vault_of(session).hash(parsed[1])


# --------------------------------------------------------------------------------------------------
# The applicant (public)


@use_case
def submit_request(
    session: Session,
    data: CorrectionIn,
    *,
    actor: Actor,
    clock: Clock,
    max_bytes: int = rules.DEFAULT_ATTACHMENT_MAX_BYTES,
) -> CorrectionRequest:
    """Art. 11: a listed person asks the enforcing court to correct a published listing. The public
    id and the debtor's ID number (credit code for an organisation) must belong together; any
    mismatch — an unknown id, a listing no longer published, a wrong number — gets the same answer
    (``rules.MISMATCH``), so the form never tells whether a listing exists. One open request per
    listing and applicant. The court reviews within 15 days (Art. 12): ``review_due_on``."""
    errors = ErrorCollector()
    id_hash = _identifier_hash(session, errors, data.id_number)
    name = errors.check(_applicant_name, data.applicant_name)
    contact = " ".join((data.contact or "").split()) or None
    if contact and len(contact) > CONTACT_MAX:
        errors.add(ValidationFailed.on("contact", f"联系方式不能超过{CONTACT_MAX}个字符"))
    try:
        ground = CorrectionGround(data.ground or "")
    except ValueError:
        ground = None
        errors.add(ValidationFailed.on("ground", "请选择申请理由"))
    explanation = errors.check(rules.clean_text, data.explanation, "explanation", "具体理由")
    files = _attachments(
        data.attachments, "application", max_bytes=max_bytes, errors=errors, clock=clock
    )
    public_id = (data.public_id or "").strip().lower()
    if not public_id:
        errors.add(ValidationFailed.on("public_id", "请填写名单编号"))
    errors.raise_if_any("申请信息有误，未提交")

    listing = session.scalar(
        select(Listing)
        .where(Listing.public_id == public_id[:32])
        .options(selectinload(Listing.subject))
        .with_for_update()
    )
    if (
        listing is None
        or listing.status is not ListingStatus.PUBLISHED
        or listing.subject.id_hash != id_hash
    ):
        raise ValidationFailed(rules.MISMATCH, {"public_id": [rules.MISMATCH]})
    # A resubmission (the same ground and explanation while the first is open: a double click, a
    # reload) is refused; a different request is taken, because whoever knows the identifier (an
    # organisation's credit code is public) must not be able to block the debtor's own request.
    existing = session.scalar(
        select(CorrectionRequest.id).where(
            CorrectionRequest.listing_id == listing.id,
            CorrectionRequest.applicant_hash == id_hash,
            CorrectionRequest.status.in_(rules.OPEN_STATUSES),
            CorrectionRequest.ground == ground,
            CorrectionRequest.explanation == explanation,
        )
    )
    if existing is not None:
        # The reference is not repeated here: it is the key to the request's status and to
        # reconsideration, and the identifier alone (a public credit code, a masked ID number) is
        # not proof enough to hand it out again.
        raise Conflict(
            "同一纠正申请已经提交、正在处理，请勿重复提交；请凭提交时取得的申请编号查询办理进度"
        )

    today = clock.today()
    request = CorrectionRequest(
        listing_id=listing.id,
        court_id=listing.court_id,
        ground=ground,
        explanation=explanation,
        applicant_name=name,
        applicant_hash=id_hash,
        contact=contact,
        status=CorrectionStatus.RECEIVED,
        submitted_at=clock.now(),
        submitted_on=today,
        review_due_on=rules.review_due_on(load_calendar(session), today),
        updated_at=clock.now(),
        attachments=files,
    )
    session.add(request)
    session.flush()
    audit.record(
        session, actor, "correction.submitted", _entity(request), clock=clock,
        after={"reference": request.reference, "listing_id": listing.id,
               "court_id": listing.court_id, "ground": ground.value, "applicant": name,
               "attachments": [_attachment_audit(f) for f in files],
               "review_due_on": request.review_due_on},
    )  # fmt: skip
    _commit(session)
    return request


def _applicant_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValidationFailed.on("applicant_name", "请填写申请人姓名或名称")
    if len(name) > NAME_MAX:
        raise ValidationFailed.on("applicant_name", f"申请人姓名或名称不能超过{NAME_MAX}个字")
    return name


def _attachment_audit(row: CorrectionAttachment) -> dict:
    return {
        "filename": row.filename,
        "type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
    }


def find_by_reference(session: Session, reference: str) -> CorrectionRequest:
    """The request behind a reference number, for the applicant's status page (the reference is
    the applicant's key: 79 random bits, not enumerable)."""
    request = session.scalar(
        select(CorrectionRequest)
        .where(CorrectionRequest.reference == rules.normalize_reference(reference))
        .options(*_detail_options())
    )
    if request is None:
        raise NotFound("未找到该查询编号，请核对后重新输入")
    return request


@use_case
def request_reconsideration(
    session: Session,
    reference: str,
    data: ReconsiderationIn,
    *,
    actor: Actor,
    clock: Clock,
    max_bytes: int = rules.DEFAULT_ATTACHMENT_MAX_BYTES,
) -> CorrectionRequest:
    """Art. 12: within ten days of the rejection the applicant asks the next higher court for
    reconsideration; that court decides within 15 days, and the listing stays in force meanwhile.
    The ID number must be the applicant's again. A high court's rejection cannot go further here:
    the Supreme People's Court above it is not in this system."""
    request = find_by_reference(session, reference)
    errors = ErrorCollector()
    id_hash = _identifier_hash(session, errors, data.id_number)
    reasons = errors.check(rules.clean_text, data.reasons, "reasons", "复议理由")
    files = _attachments(
        data.attachments, "reconsideration", max_bytes=max_bytes, errors=errors, clock=clock
    )
    errors.raise_if_any("复议申请信息有误，未提交")
    if id_hash != request.applicant_hash:
        message = "证件号码与原申请人不一致"
        raise ValidationFailed(message, {"id_number": [message]})
    _lock_for_decision(session, request)  # two filings at once: the second sees the first
    rules.check_status(request.status, CorrectionStatus.REJECTED, act="申请复议")
    _serve(session, request, actor=actor, clock=clock)  # filing proves the decision reached them
    today = clock.today()
    rules.check_reconsideration_window(request.reconsideration_until, today)
    court = session.get(Court, request.court_id)
    if court is None or court.parent_id is None:
        raise ValidationFailed.on(
            "reconsideration",
            "作出决定的是高级人民法院，其上一级法院（最高人民法院）不在本系统中，"
            "请直接向最高人民法院书面申请复议",
        )
    calendar = load_calendar(session)
    request.reconsideration = Reconsideration(
        court_id=court.parent_id,
        applicant_reasons=reasons,
        submitted_at=clock.now(),
        submitted_on=today,
        decision_due_on=rules.reconsideration_due_on(calendar, today),
    )
    request.attachments.extend(files)
    request.status = CorrectionStatus.UNDER_RECONSIDERATION
    request.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "correction.reconsideration_requested", _entity(request), clock=clock,
        before={"status": "rejected"},
        after={"status": request.status.value, "court_id": court.parent_id,
               "decision_due_on": request.reconsideration.decision_due_on,
               "attachments": [_attachment_audit(f) for f in files]},
    )  # fmt: skip
    _commit(session)
    return request


# --------------------------------------------------------------------------------------------------
# Staff: loading within the courts concerned


def _detail_options():
    return (
        selectinload(CorrectionRequest.attachments).options(defer(CorrectionAttachment.data)),
        selectinload(CorrectionRequest.reconsideration).selectinload(Reconsideration.court),
        selectinload(CorrectionRequest.listing).selectinload(Listing.subject),
        selectinload(CorrectionRequest.listing).selectinload(Listing.case),
        selectinload(CorrectionRequest.court),
    )


def may_see(actor: Actor, request: CorrectionRequest) -> bool:
    """The enforcing court's staff see its requests; the next higher court's staff see those sent
    to it for reconsideration. Anyone else gets 404, as for what does not exist."""
    if actor.is_system:
        return True
    if actor.court_id is None:
        return False
    if actor.court_id == request.court_id:
        return True
    reconsideration = request.reconsideration
    return reconsideration is not None and reconsideration.court_id == actor.court_id


def get_request(session: Session, reference: str, *, actor: Actor) -> CorrectionRequest:
    """A request the actor may see (404 otherwise)."""
    request = session.scalar(
        select(CorrectionRequest)
        .where(CorrectionRequest.reference == rules.normalize_reference(reference))
        .options(*_detail_options())
    )
    if request is None or not may_see(actor, request):
        raise NotFound("未找到该纠正申请")
    return request


@use_case
def serve_rejection(
    session: Session, reference: str, *, actor: Actor, clock: Clock
) -> CorrectionRequest:
    """Art. 12: the applicant may ask for reconsideration within 10 days *of service* of the
    rejection. The decision is served electronically when the applicant first opens it on the
    status page (or files for reconsideration): from that day the 10 days run, so an applicant who
    looks only on day 12 has not lost the right. Idempotent: serving twice changes nothing."""
    request = find_by_reference(session, reference)
    if request.status is CorrectionStatus.REJECTED and request.served_on is None:
        _lock_for_decision(session, request)
        _serve(session, request, actor=actor, clock=clock)
        _commit(session)
    return request


def _serve(session: Session, request: CorrectionRequest, *, actor: Actor, clock: Clock) -> None:
    if request.status is not CorrectionStatus.REJECTED or request.served_on is not None:
        return
    request.served_on = clock.today()
    request.reconsideration_until = rules.reconsideration_until(
        load_calendar(session), request.served_on
    )
    request.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "correction.served", _entity(request), clock=clock,
        after={"served_on": request.served_on,
               "reconsideration_until": request.reconsideration_until},
    )  # fmt: skip


def _lock_for_decision(session: Session, request: CorrectionRequest) -> None:
    """Serialise a decision with every other act (the journal lock, taken anyway by the audit
    entry) and re-read the request and its listing: of two judges deciding at once the second sees
    the first's decision (a 409, not a crash), and a remedy is checked against the listing as it
    is now, not as it was before a concurrent deletion committed."""
    lock_journal(session)
    session.refresh(request)
    session.refresh(request.listing)


def _require_judge(actor: Actor, what: str) -> None:
    if not (actor.is_system or actor.has_role(Role.JUDGE)):
        raise NotAllowed(f"只有执行法官可以{what}")


def list_requests(
    session: Session,
    *,
    actor: Actor,
    scope: str = "review",
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[CorrectionRequest], int]:
    """``review``: the requests the actor's court reviews (as enforcing court); ``reconsideration``:
    those sent to it as the next higher court. Open ones first by their deadline, then newest."""
    if actor.court_id is None:
        raise NotAllowed("您没有权限查看纠正申请")
    query = select(CorrectionRequest)
    if scope == "reconsideration":
        query = query.join(
            Reconsideration, Reconsideration.request_id == CorrectionRequest.id
        ).where(Reconsideration.court_id == actor.court_id)
    elif scope == "review":
        query = query.where(CorrectionRequest.court_id == actor.court_id)
    else:
        raise ValidationFailed.on("scope", "范围应为 review 或 reconsideration")
    if status:
        query = query.where(
            CorrectionRequest.status == parse_choice(CorrectionStatus, status, "status", "状态")
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), PER_PAGE_MAX)
    items = session.scalars(
        query.options(*_detail_options())
        .order_by(CorrectionRequest.submitted_at.desc(), CorrectionRequest.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def get_attachment(
    session: Session, reference: str, attachment_id: int, *, actor: Actor
) -> CorrectionAttachment:
    """One attachment of a request the actor may see (its bytes loaded)."""
    request = get_request(session, reference, actor=actor)
    attachment = session.get(CorrectionAttachment, attachment_id)
    if attachment is None or attachment.request_id != request.id:
        raise NotFound("未找到该附件")
    return attachment


def history(session: Session, reference: str, *, actor: Actor):
    """The request's audit entries, oldest first: its timeline."""
    request = get_request(session, reference, actor=actor)
    return audit.history(session, ENTITY, request.id)


# --------------------------------------------------------------------------------------------------
# Staff: decisions


@use_case
def decide_request(
    session: Session, reference: str, decision: DecisionIn, *, actor: Actor, clock: Clock
) -> CorrectionRequest:
    """Art. 12: the enforcing court's judge decides within 15 days. Accepted: the remedy (更正,
    撤销 or 删除) is due within three working days (Arts. 9–10) and is carried out with the
    listing's own services; if the listing was already removed in a way that satisfies it, the
    request is carried out at once. Rejected: a reasoned decision, open to reconsideration by the
    next higher court for ten days from its date (served that day)."""
    request = get_request(session, reference, actor=actor)
    if not actor.is_system and actor.court_id != request.court_id:
        raise NotAllowed("只有执行法院可以审查纠正申请")
    _require_judge(actor, "审查纠正申请")
    _lock_for_decision(session, request)
    rules.check_status(request.status, CorrectionStatus.RECEIVED, act="再次作出决定")
    errors = ErrorCollector()
    reasons = errors.check(require_reason, decision.reasons, "reasons", "决定理由")
    remedy = None
    if decision.decision == "accept":
        remedy = errors.check(rules.parse_remedy, decision.remedy)
    elif decision.decision == "reject":
        errors.check(rules.check_no_remedy, decision.remedy)
    else:
        errors.add(ValidationFailed.on("decision", "请选择决定：申请成立或驳回"))
    errors.raise_if_any("决定信息有误，未保存")
    if remedy is not None:
        _check_remedy_possible(request.listing, remedy)

    today = clock.today()
    calendar = load_calendar(session)
    request.decided_on = today
    request.decided_by_id = actor.user_id
    request.decision_reasons = reasons
    request.updated_at = clock.now()
    if remedy is not None:
        request.status = CorrectionStatus.ACCEPTED
        request.remedy = remedy
        request.carry_out_due_on = rules.carry_out_due_on(calendar, today)
        after = {"status": "accepted", "remedy": remedy.value,
                 "carry_out_due_on": request.carry_out_due_on}  # fmt: skip
        action = "correction.accepted"
    else:
        request.status = CorrectionStatus.REJECTED
        # The 10 days run from service (Art. 12), not from today: see ``serve_rejection``.
        request.served_on = request.reconsideration_until = None
        after = {"status": "rejected"}
        action = "correction.rejected"
    session.flush()
    audit.record(
        session, actor, action, _entity(request), clock=clock,
        before={"status": "received"}, after=after, reason=reasons,
    )  # fmt: skip
    _issue(session, DocumentKind.CORRECTION_DECISION, request, actor=actor, clock=clock)
    _carry_out_if_already_done(session, request, actor=actor, clock=clock)
    _commit(session)
    return request


@use_case
def decide_reconsideration(
    session: Session,
    reference: str,
    decision: ReconsiderationDecisionIn,
    *,
    actor: Actor,
    clock: Clock,
) -> CorrectionRequest:
    """Art. 12: the next higher court's judge decides the reconsideration within 15 days: the
    rejection is upheld (final), or overturned with the remedy the enforcing court must now carry
    out within three working days."""
    request = get_request(session, reference, actor=actor)
    reconsideration = request.reconsideration
    if not actor.is_system and (
        reconsideration is None or actor.court_id != reconsideration.court_id
    ):
        raise NotAllowed("只有上一级人民法院可以作出复议决定")
    _require_judge(actor, "作出复议决定")
    _lock_for_decision(session, request)
    reconsideration = request.reconsideration
    rules.check_status(request.status, CorrectionStatus.UNDER_RECONSIDERATION, act="作出复议决定")
    errors = ErrorCollector()
    reasons = errors.check(require_reason, decision.reasons, "reasons", "复议决定理由")
    remedy = None
    try:
        outcome = ReconsiderationOutcome(decision.outcome or "")
    except ValueError:
        outcome = None
        errors.add(ValidationFailed.on("outcome", "请选择复议结果：维持或撤销原决定"))
    if outcome is ReconsiderationOutcome.OVERTURNED:
        remedy = errors.check(rules.parse_remedy, decision.remedy)
    elif outcome is ReconsiderationOutcome.UPHELD:
        errors.check(rules.check_no_remedy, decision.remedy)
    errors.raise_if_any("复议决定信息有误，未保存")
    if remedy is not None:
        _check_remedy_possible(request.listing, remedy)

    today = clock.today()
    reconsideration.outcome = outcome
    reconsideration.remedy = remedy
    reconsideration.decision_reasons = reasons
    reconsideration.decided_on = today
    reconsideration.decided_by_id = actor.user_id
    request.updated_at = clock.now()
    if remedy is not None:
        request.status = CorrectionStatus.ACCEPTED
        request.remedy = remedy
        request.carry_out_due_on = rules.carry_out_due_on(load_calendar(session), today)
    else:
        request.status = CorrectionStatus.REJECTION_UPHELD
    session.flush()
    audit.record(
        session, actor, "correction.reconsideration_decided", _entity(request), clock=clock,
        before={"status": "under_reconsideration"},
        after={"status": request.status.value, "outcome": outcome.value,
               "remedy": remedy.value if remedy else None,
               "carry_out_due_on": request.carry_out_due_on if remedy else None},
        reason=reasons,
    )  # fmt: skip
    _issue(
        session, DocumentKind.RECONSIDERATION_DECISION, request, actor=actor, clock=clock,
        number=decision.decision_number,
    )  # fmt: skip
    _carry_out_if_already_done(session, request, actor=actor, clock=clock)
    _commit(session)
    return request


def _issue(
    session: Session,
    kind: DocumentKind,
    request,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
) -> None:
    """The decision document (决定书), registered in the same transaction. Imported here: the
    documents feature reads correction requests too, so a module-level import would be circular."""
    from blacklist.documents import services as documents

    documents.issue_for_correction(session, kind, request, actor=actor, clock=clock, number=number)


def _check_remedy_possible(listing: Listing, remedy: Remedy) -> None:
    """A listing already removed cannot be corrected or removed another way: the remedy must be
    the one its removal already satisfies (then the request is carried out at once)."""
    if listing.status is not ListingStatus.REMOVED:
        return
    if not rules.satisfies(remedy, listing.removal_kind, corrected=False):
        kind = listing.removal_kind.value if listing.removal_kind else ""
        label = {"deleted": "删除", "revoked": "撤销", "expired": "期满删除"}.get(kind, "移除")
        raise ValidationFailed.on(
            "remedy",
            f"该名单已于{rules.cn_date(listing.removed_on)}{label}，"
            f"不能再{rules.REMEDY_LABELS[remedy]}；请选择与之相符的纠正方式",
        )


def _carry_out_if_already_done(
    session: Session, request: CorrectionRequest, *, actor: Actor, clock: Clock
) -> None:
    listing = request.listing
    if request.status is CorrectionStatus.ACCEPTED and rules.satisfies(
        request.remedy, listing.removal_kind if listing.status is ListingStatus.REMOVED else None,
        corrected=False,
    ):  # fmt: skip
        _mark_carried_out(
            session, request, note=f"名单已于{rules.cn_date(listing.removed_on)}移除",
            actor=actor, clock=clock,
        )  # fmt: skip


def _mark_carried_out(
    session: Session, request: CorrectionRequest, *, note: str, actor: Actor, clock: Clock
) -> None:
    request.status = CorrectionStatus.CARRIED_OUT
    request.carried_out_on = clock.today()
    request.carried_out_by_id = actor.user_id
    request.carried_out_note = note
    request.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "correction.carried_out", _entity(request), clock=clock,
        before={"status": "accepted"},
        after={"status": "carried_out", "remedy": request.remedy.value,
               "carried_out_on": request.carried_out_on,
               "carry_out_due_on": request.carry_out_due_on},
        reason=note,
    )  # fmt: skip


@use_case
def confirm_correction(
    session: Session, reference: str, note: str | None, *, actor: Actor, clock: Clock
) -> CorrectionRequest:
    """An accepted request whose remedy is a correction (更正, Art. 9) is carried out by correcting
    the listing's data; the enforcing court's judge then confirms it here, so that an unrelated
    edit of the listing never closes the request by itself. Refused until the listing has been
    corrected on or after the day the request was accepted."""
    from blacklist.audit.models import AuditEntry

    request = get_request(session, reference, actor=actor)
    if not actor.is_system and actor.court_id != request.court_id:
        raise NotAllowed("只有执行法院可以确认纠正已落实")
    _require_judge(actor, "确认纠正已落实")
    _lock_for_decision(session, request)
    rules.check_status(request.status, CorrectionStatus.ACCEPTED, act="确认落实")
    if request.remedy is not Remedy.CORRECT:
        raise Conflict("撤销或删除名单后，申请随之落实，无需确认")
    recon = request.reconsideration
    accepted_on = recon.decided_on if recon is not None and recon.decided_on else request.decided_on
    since = datetime.combine(accepted_on, time(0, 0), CHINA_TZ)
    corrected = session.scalar(
        select(AuditEntry.seq)
        .where(
            AuditEntry.entity_kind == "listing",
            AuditEntry.entity_id == str(request.listing_id),
            AuditEntry.action == "listing.corrected",
            AuditEntry.at >= since,
        )
        .limit(1)
    )
    if corrected is None:
        raise Conflict("名单信息自申请成立以来尚未更正：请先在名单页面更正，再确认落实")
    text = " ".join((note or "").split())[: rules.MAX_TEXT]
    _mark_carried_out(
        session, request, note=text or _carried_out_note(Remedy.CORRECT), actor=actor, clock=clock
    )
    _commit(session)
    return request


# --------------------------------------------------------------------------------------------------
# The listing's acts carry out accepted requests


def on_listing_event(session: Session, event, *, actor: Actor, clock: Clock) -> None:
    """Called by ``events.emit`` in the act's transaction: a revocation carries out the listing's
    accepted requests whose remedy is revocation, a deletion (or expiry) those whose remedy is
    deletion, a correction of the data those whose remedy is correction (Art. 12 with Arts. 9–10).
    Each is marked carried out by the one who acted, and audited."""
    from blacklist.events import ListingRemoved

    if not isinstance(event, ListingRemoved):
        return  # a correction of the data is confirmed by the judge: ``confirm_correction``
    listing = event.listing
    accepted = session.scalars(
        select(CorrectionRequest).where(
            CorrectionRequest.listing_id == listing.id,
            CorrectionRequest.status == CorrectionStatus.ACCEPTED,
        )
    ).all()
    removal = listing.removal_kind
    for request in accepted:
        if rules.satisfies(request.remedy, removal, corrected=False):
            note = _carried_out_note(request.remedy)
        elif removal is not None:
            # Removed another way (a correction overtaken by a deletion, a deletion by a
            # revocation): the listing is off the list and no basis for sanctions any more, so
            # nothing is left to carry out and the deadline must not stay open for ever.
            note = f"名单已{_REMOVAL_LABELS.get(removal.value, '移除')}，纠正事项随之完结"
        else:
            continue
        _mark_carried_out(session, request, note=note, actor=actor, clock=clock)


_REMOVAL_LABELS = {"deleted": "删除", "revoked": "撤销", "expired": "因期限届满删除"}


def _carried_out_note(remedy: Remedy) -> str:
    return {
        Remedy.CORRECT: "名单信息已更正",
        Remedy.REVOKE: "名单已撤销",
        Remedy.DELETE: "名单已删除",
    }[remedy]

"""The listing lifecycle, one use case per function and one transaction each (DOMAIN.md §2).

Every service takes the session, the actor and the clock; loads the listing within the actor's court;
applies the rules of ``rules.py``; writes; records the act in the audit log; emits the event that
keeps the restrictions projection and the change log right; and commits. A rule that fails raises
before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import ParamSpec, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from blacklist import events
from blacklist.audit import services as audit
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import Clock
from blacklist.core.errors import (
    Conflict,
    ErrorCollector,
    NotAllowed,
    NotFound,
    ValidationFailed,
    parse_choice,
)
from blacklist.core.identity import looks_like_resident_id, parse_credit_code, parse_resident_id
from blacklist.core.names import clean_name, normalize_name
from blacklist.db import lock_journal, vault_of
from blacklist.documents import services as documents
from blacklist.documents.models import DocumentKind
from blacklist.holidays.services import load_calendar
from blacklist.listing import rules
from blacklist.listing.inputs import (
    ApplicationIn,
    ApprovalIn,
    CaseIn,
    DraftIn,
    ListingPatch,
    PaymentIn,
    PersonIn,
    SubjectIn,
)
from blacklist.listing.models import BoundPerson, Case, Listing, Performance, Subject
from blacklist.listing.rules import (
    Act,
    DeletionReason,
    Exemptions,
    ListingStatus,
    PersonRole,
    RemovalKind,
    SubjectKind,
)

MAX_TEXT = 2000
P = ParamSpec("P")
R = TypeVar("R")


def use_case(func: Callable[P, R]) -> Callable[P, R]:
    """One use case, one transaction: if the service raises (a refused rule, a conflict, a crash),
    everything it changed in the session is rolled back, so a later commit on the same session (a
    scheduler sweep, a CLI batch) can never store half an act."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Session = args[0]
        try:
            return func(*args, **kwargs)
        except BaseException:
            session.rollback()
            raise

    return wrapper


# --------------------------------------------------------------------------------------------------
# Loading within the actor's court


def get_listing(session: Session, listing_id: int, *, actor: Actor) -> Listing:
    """A listing the actor may see: staff see only their own court's listings (404 otherwise, so
    another court's listing is indistinguishable from one that does not exist)."""
    listing = session.get(
        Listing,
        listing_id,
        options=[
            selectinload(Listing.subject).selectinload(Subject.bound_persons),
            selectinload(Listing.case),
            selectinload(Listing.performances),
            selectinload(Listing.court),
        ],
    )
    if listing is None or not _may_see(actor, listing):
        raise NotFound("未找到该名单记录")
    return listing


def _may_see(actor: Actor, listing: Listing) -> bool:
    return actor.is_system or (actor.court_id is not None and actor.court_id == listing.court_id)


def _act(session: Session, listing_id: int, act: Act, actor: Actor) -> Listing:
    listing = get_listing(session, listing_id, actor=actor)
    rules.check_act(act, listing.status, actor.role, system=actor.is_system)
    return listing


def _commit(session: Session) -> None:
    """Commit; a concurrent change of the same listing (optimistic version check) is a conflict."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("该名单已被他人修改，请刷新后重试") from None


# --------------------------------------------------------------------------------------------------
# Building subjects and cases from input


def required_text(errors: ErrorCollector, value: str | None, field: str, label: str, limit=200):
    text = " ".join((value or "").split())
    if not text:
        errors.add(ValidationFailed.on(field, f"请填写{label}"))
        return None
    if len(text) > limit:
        errors.add(ValidationFailed.on(field, f"{label}不能超过{limit}个字符"))
        return None
    return text


def _person_fields(session: Session, errors: ErrorCollector, person: PersonIn, prefix: str):
    name = errors.check(clean_name, person.name, field=f"{prefix}.name")
    rid = errors.check(parse_resident_id, person.id_number or "", f"{prefix}.id_number")
    if name is None or rid is None:
        return None
    vault = vault_of(session)
    return {
        "name": name,
        "name_key": normalize_name(name),
        "id_hash": vault.hash(rid.number),
        "id_cipher": vault.encrypt(rid.number),
        "id_masked": rid.masked,
        "sex": rid.sex.value,
        "birth_date": rid.birth_date,
    }


def build_subject(
    session: Session, data: SubjectIn, *, on: date, refuse_minor: bool = True
) -> Subject:
    """Art. 6 fields of the debtor. A natural person is identified by the resident ID number (age
    and sex come from it, and a minor is refused, Art. 4); an organisation by its Unified Social
    Credit Code (or old organisation code), with its legal representative required and the other
    people its listing binds (DOMAIN.md §3)."""
    errors = ErrorCollector()
    try:
        kind = SubjectKind(data.kind)
    except ValueError:
        raise ValidationFailed.on("subject.kind", "被执行人类型应为自然人或法人/其他组织") from None
    vault = vault_of(session)
    subject = Subject(kind=kind)
    if kind is SubjectKind.PERSON:
        fields = _person_fields(
            session, errors, PersonIn(data.name, data.id_number or ""), "subject"
        )
        if fields:
            if refuse_minor:
                errors.check(rules.check_not_minor, fields["birth_date"], on, "subject.id_number")
            for key, value in fields.items():
                setattr(subject, key, value)
        if data.legal_representative or data.bound_persons:
            errors.add(
                ValidationFailed.on("subject.bound_persons", "自然人被执行人不填写法定代表人等人员")
            )
    else:
        name = errors.check(clean_name, data.name, field="subject.name")
        code = errors.check(parse_credit_code, data.credit_code or "", "subject.credit_code")
        if name and code:
            subject.name, subject.name_key = name, normalize_name(name)
            subject.id_hash = vault.hash(code.code)
            subject.id_cipher = vault.encrypt(code.code)
            subject.id_masked = code.code  # organisations' codes are public (DOMAIN.md §6)
        if data.legal_representative is None:
            errors.add(
                ValidationFailed.on("subject.legal_representative", "请填写法定代表人或主要负责人")
            )
        people = []
        if data.legal_representative is not None:
            people.append(
                (
                    PersonRole.LEGAL_REPRESENTATIVE,
                    data.legal_representative,
                    "subject.legal_representative",
                )
            )
        for index, person in enumerate(data.bound_persons):
            prefix = f"subject.bound_persons.{index}"
            try:
                role = PersonRole(person.role)
            except ValueError:
                role = None
            if role not in rules.BOUND_ROLES:
                errors.add(
                    ValidationFailed.on(
                        f"{prefix}.role", "人员身份应为主要负责人、直接责任人员或实际控制人"
                    )
                )
                continue
            people.append((role, person, prefix))
        seen: set[tuple[PersonRole, str]] = set()
        for role, person, prefix in people:
            fields = _person_fields(session, errors, person, prefix)
            if fields is None:
                continue
            if (role, fields["id_hash"]) in seen:
                errors.add(ValidationFailed.on(f"{prefix}.id_number", "同一人员重复填写"))
                continue
            seen.add((role, fields["id_hash"]))
            subject.bound_persons.append(BoundPerson(role=role, **fields))
    errors.raise_if_any("被执行人信息有误")
    return subject


def _parse_amount(errors: ErrorCollector, value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors.add(ValidationFailed.on(field, "金额格式不正确"))
        return None
    if (
        not amount.is_finite()
        or amount < 0
        or amount.as_tuple().exponent < -2
        or amount >= Decimal("1e16")
    ):
        errors.add(ValidationFailed.on(field, "金额应为不小于0、最多两位小数的数字"))
        return None
    return amount.quantize(Decimal("0.01"))


def case_fields(data: CaseIn, *, court_id: int, today: date) -> dict:
    """The enforcement case and its basis (Art. 6)."""
    errors = ErrorCollector()
    number = errors.check(rules.parse_case_number, data.case_number or "")
    if data.filed_on is None:
        errors.add(ValidationFailed.on("case.filed_on", "请填写立案日期"))
    elif data.filed_on > today:
        errors.add(ValidationFailed.on("case.filed_on", "立案日期不能晚于今天"))
    basis = required_text(
        errors, data.basis_document_number, "case.basis_document_number", "执行依据文号", 100
    )
    issuer = required_text(errors, data.basis_issuer, "case.basis_issuer", "做出执行依据单位")
    obligation = required_text(
        errors, data.obligation, "case.obligation", "生效法律文书确定的义务", MAX_TEXT
    )
    amount = _parse_amount(errors, data.amount_due, "case.amount_due")
    errors.raise_if_any("执行案件信息有误")
    return {
        "court_id": court_id,
        "case_number": number[0],
        "case_number_key": number[1],
        "filed_on": data.filed_on,
        "basis_document_number": basis,
        "basis_issuer": issuer,
        "obligation": obligation,
        "amount_due": amount,
    }


def _application_fields(data: ApplicationIn, *, today: date) -> dict:
    """Art. 5: a listing on the creditor's application names the creditor (internally) and the date
    of the application, from which the 15-day decision period runs."""
    errors = ErrorCollector()
    name = None
    if data.by_creditor:
        name = errors.check(clean_name, data.creditor_name or "", field="application.creditor_name")
        if data.applied_on is None:
            errors.add(
                ValidationFailed.on("application.applied_on", "请填写申请执行人提出申请的日期")
            )
        elif data.applied_on > today:
            errors.add(ValidationFailed.on("application.applied_on", "申请日期不能晚于今天"))
    errors.raise_if_any("申请信息有误")
    return {
        "by_creditor": data.by_creditor,
        "creditor_name": name,
        "creditor_key": normalize_name(name) if name else None,
        "applied_on": data.applied_on if data.by_creditor else None,
    }


def _check_grounds(grounds: tuple[str, ...], exemptions: Exemptions) -> list[str]:
    parsed = rules.parse_grounds(grounds)
    rules.check_exemptions(parsed, exemptions)
    return sorted(g.value for g in parsed)


def _check_relisting_bar(session: Session, listing: Listing, *, today: date) -> None:
    """Art. 10: the same creditor may not have the debtor listed again within six months of a
    deletion it asked for."""
    if not listing.by_creditor or not listing.creditor_key:
        return
    deleted_on = session.scalars(
        select(Listing.removed_on)
        .join(Subject, Subject.id == Listing.subject_id)
        .where(
            Subject.id_hash == listing.subject.id_hash,
            Listing.removal_reason == DeletionReason.CREDITOR_REQUEST.value,
            Listing.creditor_key == listing.creditor_key,
            Listing.id != listing.id,
        )
    ).all()
    rules.check_relisting_bar([d for d in deleted_on if d], today)


def _check_no_duplicate(session: Session, listing: Listing) -> None:
    """One debtor is listed once per case: a second draft for the same debtor and case (a double
    submission, or a colleague's parallel entry) is refused while the first is not removed."""
    existing = session.scalar(
        select(Listing)
        .join(Subject, Subject.id == Listing.subject_id)
        .join(Case, Case.id == Listing.case_id)
        .where(
            Listing.court_id == listing.court_id,
            Listing.status != ListingStatus.REMOVED,
            Subject.id_hash == listing.subject.id_hash,
            Case.case_number_key == listing.case.case_number_key,
            Listing.id != (listing.id or -1),
        )
    )
    if existing is not None:
        raise Conflict(
            f"该被执行人在本案中已有名单记录（{existing.public_id}，{existing.status.label}），不能重复纳入"
        )


def subject_audit(subject: Subject) -> dict:
    """The subject as the audit log keeps it: masked identifiers only, never full numbers."""
    return {
        "kind": subject.kind.value,
        "name": subject.name,
        "id": subject.id_masked,
        "people": [
            {"role": p.role.value, "name": p.name, "id": p.id_masked} for p in subject.bound_persons
        ],
    }


def case_audit(case: Case) -> dict:
    return {
        "case_number": case.case_number,
        "filed_on": case.filed_on,
        "basis_document_number": case.basis_document_number,
        "basis_issuer": case.basis_issuer,
        "obligation": case.obligation,
        "amount_due": case.amount_due,
    }


def _listing_audit(listing: Listing) -> dict:
    return {
        "status": listing.status.value,
        "subject": subject_audit(listing.subject),
        "case": case_audit(listing.case),
        "grounds": list(listing.grounds),
        "exemptions": dict(listing.exemptions),
        "grace_days": listing.grace_days,
        "by_creditor": listing.by_creditor,
        "decision_number": listing.decision_number,
        "decided_on": listing.decided_on,
        "ends_on": listing.ends_on,
        "extension_years": listing.extension_years,
    }


def require_reason(reason: str | None, field: str = "reason", label: str = "理由") -> str:
    text = " ".join((reason or "").split())
    if len(text) < 2:
        raise ValidationFailed.on(field, f"请填写{label}")
    if len(text) > MAX_TEXT:
        raise ValidationFailed.on(field, f"{label}不能超过{MAX_TEXT}个字符")
    return text


def _require_staff(actor: Actor, *roles: Role) -> None:
    if not (actor.is_system or actor.has_role(*roles)):
        raise NotAllowed("您没有权限执行此操作")


# --------------------------------------------------------------------------------------------------
# Drafting


@use_case
def create_draft(session: Session, data: DraftIn, *, actor: Actor, clock: Clock) -> Listing:
    """A clerk or judge drafts a listing for their court (Art. 5: the court acts on a creditor's
    application or on its own authority). Every field is checked now, so the judge later signs a
    complete, lawful draft."""
    _require_staff(actor, Role.CLERK, Role.JUDGE)
    if actor.court_id is None:
        raise NotAllowed("系统账号不能直接创建名单")
    today = clock.today()
    errors = ErrorCollector()
    subject = errors.check(build_subject, session, data.subject, on=today)
    case_data = errors.check(case_fields, data.case, court_id=actor.court_id, today=today)
    grounds = errors.check(_check_grounds, data.grounds, data.exemptions)
    errors.check(rules.check_grace_days, data.grace_days)
    application = errors.check(_application_fields, data.application, today=today)
    errors.raise_if_any("名单信息有误，未保存")

    now = clock.now()
    listing = Listing(
        court_id=actor.court_id,
        subject=subject,
        name_key=subject.name_key,
        case=Case(**case_data, created_at=now),
        status=ListingStatus.DRAFT,
        grounds=grounds,
        exemptions=data.exemptions.as_dict(),
        grace_days=data.grace_days,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **application,
    )
    # The journal lock (taken anyway by the audit entry below) serializes this check with a
    # concurrent submission of the same draft, so a double click cannot store two listings.
    lock_journal(session)
    _check_no_duplicate(session, listing)
    _check_relisting_bar(session, listing, today=today)
    session.add(listing)
    session.flush()
    audit.record(
        session, actor, "listing.drafted", ("listing", listing.id), clock=clock,
        after=_listing_audit(listing),
    )  # fmt: skip
    _commit(session)
    return listing


_PERSON_FIELDS = ("name", "name_key", "id_hash", "id_cipher", "id_masked", "sex", "birth_date")
_SUBJECT_FIELDS = ("kind", *_PERSON_FIELDS)


def _apply_patch(session: Session, listing: Listing, patch: ListingPatch, *, today: date) -> None:
    errors = ErrorCollector()
    check_on = listing.decided_on or today
    if patch.subject is not None:
        new_subject = errors.check(build_subject, session, patch.subject, on=check_on)
        if new_subject is not None:
            subject = listing.subject
            for attr in _SUBJECT_FIELDS:
                setattr(subject, attr, getattr(new_subject, attr))
            listing.name_key = subject.name_key
            subject.bound_persons = [
                BoundPerson(role=p.role, **{a: getattr(p, a) for a in _PERSON_FIELDS})
                for p in new_subject.bound_persons
            ]
    if patch.case is not None:
        fields = errors.check(case_fields, patch.case, court_id=listing.court_id, today=today)
        if fields:
            for key, value in fields.items():
                setattr(listing.case, key, value)
    grounds = list(patch.grounds) if patch.grounds is not None else listing.grounds
    exemptions = patch.exemptions or Exemptions(**listing.exemptions)
    checked = errors.check(_check_grounds, tuple(grounds), exemptions)
    if checked is not None:
        listing.grounds, listing.exemptions = checked, exemptions.as_dict()
    if patch.grace_days is not None:
        if listing.status is not ListingStatus.DRAFT and patch.grace_days != listing.grace_days:
            errors.add(ValidationFailed.on("grace_days", "名单签发后不能修改宽限期"))
        else:
            errors.check(rules.check_grace_days, patch.grace_days)
            listing.grace_days = patch.grace_days
    if patch.application is not None:
        fields = errors.check(_application_fields, patch.application, today=today)
        if fields:
            for key, value in fields.items():
                setattr(listing, key, value)
    errors.raise_if_any("名单信息有误，未保存")
    if listing.decided_on is not None:
        listing.ends_on = rules.listing_ends_on(
            listing.decided_on, listing.ground_set, listing.extension_years
        )


@use_case
def edit_listing(
    session: Session, listing_id: int, patch: ListingPatch, *, actor: Actor, clock: Clock
) -> Listing:
    """Edit a draft, or correct (更正) an approved or published listing (Art. 9: wrong data is
    corrected within three working days of the court finding out; the correction reaches partners
    through the change log). A correction needs a reason."""
    listing = get_listing(session, listing_id, actor=actor)
    correcting = listing.status is not ListingStatus.DRAFT
    act = Act.CORRECT if correcting else Act.EDIT
    rules.check_act(act, listing.status, actor.role, system=actor.is_system)
    reason = require_reason(patch.reason, label="更正理由") if correcting else patch.reason
    before = _listing_audit(listing)
    was_full = listing.is_fully_performed
    with session.no_autoflush:
        _apply_patch(session, listing, patch, today=clock.today())
    _check_no_duplicate(session, listing)
    if correcting:
        # Art. 9/10: a corrected amount due can make the obligation fully performed; the three
        # working days then run from the day the court corrects the record.
        _follow_performance(session, listing, was_full, triggered_on=clock.today())
    listing.updated_at = clock.now()
    session.flush()
    action = "listing.corrected" if correcting else "listing.edited"
    audit.record(
        session, actor, action, ("listing", listing.id), clock=clock,
        before=before, after=_listing_audit(listing), reason=reason,
    )  # fmt: skip
    if correcting:
        events.emit(session, events.ListingCorrected(listing), actor=actor, clock=clock)
    _commit(session)
    return listing


@use_case
def submit_listing(session: Session, listing_id: int, *, actor: Actor, clock: Clock) -> Listing:
    """The clerk submits a complete draft to the judge for signature."""
    listing = _act(session, listing_id, Act.SUBMIT, actor)
    _revalidate(session, listing, on=clock.today())
    listing.status = ListingStatus.PENDING_APPROVAL
    listing.submitted_by_id = actor.user_id
    listing.updated_at = clock.now()
    audit.record(
        session, actor, "listing.submitted", ("listing", listing.id), clock=clock,
        before={"status": "draft"}, after={"status": listing.status.value},
    )  # fmt: skip
    _commit(session)
    return listing


def _revalidate(session: Session, listing: Listing, *, on: date) -> None:
    """Rules that depend on the date are checked again when the listing moves on."""
    rules.check_exemptions(listing.ground_set, Exemptions(**listing.exemptions))
    if listing.subject.kind is SubjectKind.PERSON and listing.subject.birth_date:
        rules.check_not_minor(listing.subject.birth_date, on)
    _check_relisting_bar(session, listing, today=on)


@use_case
def reject_listing(
    session: Session, listing_id: int, reason: str, *, actor: Actor, clock: Clock
) -> Listing:
    """The judge sends a draft back to the clerk with reasons."""
    listing = _act(session, listing_id, Act.REJECT, actor)
    reason = require_reason(reason, label="退回理由")
    listing.status = ListingStatus.DRAFT
    listing.updated_at = clock.now()
    audit.record(
        session, actor, "listing.rejected", ("listing", listing.id), clock=clock,
        before={"status": "pending_approval"}, after={"status": "draft"}, reason=reason,
    )  # fmt: skip
    _commit(session)
    return listing


@use_case
def approve_listing(
    session: Session, listing_id: int, decision: ApprovalIn, *, actor: Actor, clock: Clock
) -> Listing:
    """The judge signs the decision (决定书) for the court president (Art. 5). The term runs from the
    decision date (Art. 2). Without a grace period the listing is published at once; with one it
    waits, and is published when the grace period ends unless the debtor performs meanwhile."""
    listing = _act(session, listing_id, Act.APPROVE, actor)
    today = clock.today()
    errors = ErrorCollector()
    number = required_text(errors, decision.decision_number, "decision_number", "决定书文号", 100)
    decided_on = decision.decided_on or today
    errors.check(rules.check_decision_date, decided_on, today, listing.case.filed_on)
    errors.raise_if_any("签发信息有误")
    _revalidate(session, listing, on=decided_on)
    listing.decision_number = number
    listing.decided_on = decided_on
    listing.approved_by_id = actor.user_id
    listing.ends_on = rules.listing_ends_on(decided_on, listing.ground_set, listing.extension_years)
    listing.publish_on = rules.publish_on(decided_on, listing.grace_days)
    listing.status = ListingStatus.APPROVED
    listing.updated_at = clock.now()
    audit.record(
        session, actor, "listing.approved", ("listing", listing.id), clock=clock,
        before={"status": "pending_approval"},
        after={"status": "approved", "decision_number": number, "decided_on": decided_on,
               "publish_on": listing.publish_on, "ends_on": listing.ends_on},
    )  # fmt: skip
    session.flush()
    documents.issue_for_listing(
        session, DocumentKind.LISTING_DECISION, listing, actor=actor, clock=clock, number=number
    )
    if listing.publish_on <= today:
        _publish(session, listing, actor=actor, clock=clock)
    _commit(session)
    return listing


def _publish(session: Session, listing: Listing, *, actor: Actor, clock: Clock) -> None:
    listing.status = ListingStatus.PUBLISHED
    listing.published_on = clock.today()
    listing.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "listing.published", ("listing", listing.id), clock=clock,
        before={"status": "approved"}, after={"status": "published", "published_on": listing.published_on},
    )  # fmt: skip
    events.emit(session, events.ListingPublished(listing), actor=actor, clock=clock)


@use_case
def publish_after_grace(session: Session, listing_id: int, *, actor: Actor, clock: Clock) -> bool:
    """Publish a signed listing whose grace period has ended, unless the debtor fully performed
    meanwhile (SPC 2019 opinion on 善意文明执行). Idempotent: returns False when nothing is due."""
    listing = get_listing(session, listing_id, actor=actor)
    if (
        listing.status is not ListingStatus.APPROVED
        or listing.publish_on is None
        or listing.publish_on > clock.today()
        or listing.is_fully_performed
    ):
        return False
    _publish(session, listing, actor=actor, clock=clock)
    _commit(session)
    return True


# --------------------------------------------------------------------------------------------------
# Performance, deletion, revocation, extension, expiry


@use_case
def record_performance(
    session: Session, listing_id: int, payment: PaymentIn, *, actor: Actor, clock: Clock
) -> Listing:
    """Record a payment. Full performance lifts the consumption order at once (2015 provisions,
    Art. 9); a listing without a term must then be deleted within three working days (Art. 10), so
    its ``deletion_due_on`` is set and the scheduler deletes it then if no judge acts first; for a
    listing with a term, early deletion is proposed to the judge (Art. 2)."""
    listing = _act(session, listing_id, Act.RECORD_PERFORMANCE, actor)
    errors = ErrorCollector()
    amount = _parse_amount(errors, payment.amount, "amount")
    if payment.performed_on is None:
        errors.add(ValidationFailed.on("performed_on", "请填写履行日期"))
    else:
        errors.check(rules.check_payment, amount, payment.performed_on, clock.today(), payment.full)
    note = " ".join((payment.note or "").split())[:MAX_TEXT] or None
    errors.raise_if_any("履行信息有误")
    was_full = listing.is_fully_performed
    listing.performances.append(
        Performance(
            amount=amount,
            performed_on=payment.performed_on,
            full=payment.full,
            note=note,
            recorded_by_id=actor.user_id,
            recorded_at=clock.now(),
        )
    )
    session.flush()
    summary = listing.performance
    now_full = _follow_performance(session, listing, was_full, triggered_on=payment.performed_on)
    listing.updated_at = clock.now()
    audit.record(
        session, actor, "listing.performance_recorded", ("listing", listing.id), clock=clock,
        after={"amount": amount, "performed_on": payment.performed_on, "full": payment.full,
               "performance": summary.status.value, "performed_amount": summary.performed_amount,
               "deletion_due_on": listing.deletion_due_on,
               "early_deletion_proposed": listing.early_deletion_proposed},
        reason=note,
    )  # fmt: skip
    events.emit(
        session, events.PerformanceRecorded(listing, full=now_full), actor=actor, clock=clock
    )
    _commit(session)
    return listing


def _follow_performance(
    session: Session, listing: Listing, was_full: bool, *, triggered_on: date
) -> bool:
    """What full performance sets in motion (Art. 10, Art. 2), after a payment or after a
    correction of the amount due: a listing without a term (or not yet published) falls due for
    deletion three working days after the trigger; a published termed listing gets early deletion
    proposed to the judge. A correction that shows the obligation is not fully performed after all
    withdraws what was scheduled. Returns True when the listing has just become fully performed."""
    is_full = listing.is_fully_performed
    if is_full and not was_full:
        if listing.has_term and listing.status is ListingStatus.PUBLISHED:
            listing.early_deletion_proposed = True
        else:
            calendar = load_calendar(session)
            listing.deletion_due_on = rules.deletion_due_on(calendar, triggered_on)
            listing.deletion_due_reason = DeletionReason.PERFORMED
    elif was_full and not is_full:
        listing.early_deletion_proposed = False
        listing.deletion_due_on = None
        listing.deletion_due_reason = None
    return is_full and not was_full


def _remove(
    session: Session,
    listing: Listing,
    kind: RemovalKind,
    reason: str,
    note: str | None,
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    before = {"status": listing.status.value}
    listing.status = ListingStatus.REMOVED
    listing.removal_kind = kind
    listing.removal_reason = reason
    listing.removal_note = note
    listing.removed_on = clock.today()
    listing.removed_by_id = actor.user_id
    listing.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, f"listing.{kind.value}", ("listing", listing.id), clock=clock,
        before=before, after={"status": "removed", "kind": kind.value, "reason": reason},
        reason=note or reason,
    )  # fmt: skip
    events.emit(session, events.ListingRemoved(listing), actor=actor, clock=clock)
    # The decision served on the parties (Art. 9 / Art. 10) and the certificate the debtor can
    # show a bank or an employer, in the same transaction as the removal.
    if kind is RemovalKind.REVOKED:
        documents.issue_for_listing(
            session, DocumentKind.REVOCATION_DECISION, listing, actor=actor, clock=clock,
            reasons=note,
        )  # fmt: skip
    else:
        documents.issue_for_listing(
            session, DocumentKind.DELETION_DECISION, listing, actor=actor, clock=clock
        )
    documents.issue_for_listing(
        session, DocumentKind.DELETION_CERTIFICATE, listing, actor=actor, clock=clock
    )


@use_case
def delete_listing(
    session: Session,
    listing_id: int,
    reason: str,
    *,
    note: str | None = None,
    actor: Actor,
    clock: Clock,
) -> Listing:
    """Delete (删除) a listing: Art. 10 reasons for a listing without a term; early deletion of a
    termed listing when the debtor performs or corrects the conduct (Art. 2). The record stays in
    the database with its history but leaves the public list, and every partner receives a removal."""
    listing = _act(session, listing_id, Act.DELETE, actor)
    value = rules.check_deletion_reason(reason, has_term=listing.has_term)
    note = " ".join((note or "").split())[:MAX_TEXT] or None
    if value is DeletionReason.CREDITOR_REQUEST and not note:
        raise ValidationFailed.on("note", "申请执行人书面申请删除的，请注明申请情况")
    _remove(session, listing, RemovalKind.DELETED, value.value, note, actor=actor, clock=clock)
    _commit(session)
    return listing


@use_case
def revoke_listing(
    session: Session, listing_id: int, reason: str, *, actor: Actor, clock: Clock
) -> Listing:
    """Revoke (撤销) a listing that should never have been made (Art. 9): it leaves the public list
    and partners receive a removal."""
    listing = _act(session, listing_id, Act.REVOKE, actor)
    text = require_reason(reason, label="撤销理由")
    _remove(session, listing, RemovalKind.REVOKED, "revoked", text, actor=actor, clock=clock)
    _commit(session)
    return listing


@use_case
def extend_listing(
    session: Session, listing_id: int, years: int, reason: str, *, actor: Actor, clock: Clock
) -> Listing:
    """Extend a termed listing by 1–3 years, 5 years in total at most (Art. 2)."""
    listing = _act(session, listing_id, Act.EXTEND, actor)
    text = require_reason(reason, label="延长理由")
    if not isinstance(years, int) or isinstance(years, bool):
        raise ValidationFailed.on("years", "延长期限应为1至3年")
    rules.check_extension(listing.ground_set, listing.extension_years, years)
    if listing.ends_on is not None and listing.ends_on <= clock.today():
        raise Conflict("失信期限已届满，不能再延长")
    before = {"extension_years": listing.extension_years, "ends_on": listing.ends_on}
    listing.extension_years += years
    listing.ends_on = rules.listing_ends_on(
        listing.decided_on, listing.ground_set, listing.extension_years
    )
    listing.updated_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "listing.extended", ("listing", listing.id), clock=clock,
        before=before, after={"extension_years": listing.extension_years, "ends_on": listing.ends_on},
        reason=text,
    )  # fmt: skip
    events.emit(session, events.ListingExtended(listing), actor=actor, clock=clock)
    _commit(session)
    return listing


@use_case
def expire_listing(session: Session, listing_id: int, *, actor: Actor, clock: Clock) -> bool:
    """Delete a listing whose term has ended (Art. 10: within three working days after the term).
    The consumption order stays for the judge to decide (DOMAIN.md §3). Idempotent."""
    listing = get_listing(session, listing_id, actor=actor)
    if (
        listing.status is not ListingStatus.PUBLISHED
        or listing.ends_on is None
        or listing.ends_on > clock.today()
    ):
        return False
    _remove(
        session, listing, RemovalKind.EXPIRED, DeletionReason.EXPIRED.value, None,
        actor=actor, clock=clock,
    )  # fmt: skip
    _commit(session)
    return True


@use_case
def carry_out_due_deletion(
    session: Session, listing_id: int, *, actor: Actor, clock: Clock
) -> bool:
    """Delete a listing whose deletion fell due (full performance of a listing without a term, or of
    one still in its grace period) when no judge acted first. Idempotent."""
    listing = get_listing(session, listing_id, actor=actor)
    if (
        listing.status not in (ListingStatus.APPROVED, ListingStatus.PUBLISHED)
        or listing.deletion_due_on is None
        or listing.deletion_due_on > clock.today()
        or not listing.is_fully_performed
    ):
        return False
    reason = (listing.deletion_due_reason or DeletionReason.PERFORMED).value
    _remove(session, listing, RemovalKind.DELETED, reason, None, actor=actor, clock=clock)
    _commit(session)
    return True


# --------------------------------------------------------------------------------------------------
# Reading


def list_listings(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Listing], int]:
    """The court's listings, newest first, filtered by status and by a name, an ID number / credit
    code (exact) or a case number typed in ``q``."""
    if actor.court_id is None and not actor.is_system:
        raise NotAllowed("您没有权限查看名单")
    query = select(Listing).join(Subject, Subject.id == Listing.subject_id)
    if actor.court_id is not None:
        query = query.where(Listing.court_id == actor.court_id)
    if status:
        query = query.where(Listing.status == parse_choice(ListingStatus, status, "status", "状态"))
    text = (q or "").strip()
    if text:
        query = query.where(_search_condition(session, text))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), 100)
    items = session.scalars(
        query.options(
            selectinload(Listing.subject).selectinload(Subject.bound_persons),
            selectinload(Listing.case),
            selectinload(Listing.court),
            selectinload(Listing.performances),
        )
        .order_by(Listing.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def _search_condition(session: Session, text: str):
    vault = vault_of(session)
    from blacklist.core.identity import looks_like_credit_code

    if looks_like_resident_id(text):
        try:
            return Subject.id_hash == vault.hash(parse_resident_id(text).number)
        except ValidationFailed:
            pass
    if looks_like_credit_code(text):
        try:
            return Subject.id_hash == vault.hash(parse_credit_code(text).code)
        except ValidationFailed:
            pass
    # A name or a case number (or part of one): "王执中" is a name, "执1234号" part of a case number.
    key = rules.case_number_key(text)
    case_ids = select(Case.id).where(Case.case_number_key.contains(key, autoescape=True))
    return or_(
        Subject.name_key.contains(normalize_name(text), autoescape=True),
        Listing.case_id.in_(case_ids),
    )


def history(session: Session, listing_id: int, *, actor: Actor):
    """The listing's audit entries, oldest first (DOMAIN.md §8)."""
    listing = get_listing(session, listing_id, actor=actor)
    return audit.history(session, "listing", listing.id)


@use_case
def reveal_id_number(
    session: Session, listing_id: int, *, person_id: int | None = None, actor: Actor, clock: Clock
) -> str:
    """Staff see masked ID numbers; opening a full number is deliberate and itself audited
    (DOMAIN.md §6, PIPL). ``person_id`` picks a bound person instead of the debtor."""
    listing = get_listing(session, listing_id, actor=actor)  # another court's: 404 first
    _require_staff(actor, Role.CLERK, Role.JUDGE)
    if person_id is None:
        cipher, who = listing.subject.id_cipher, "debtor"
    else:
        person = next((p for p in listing.subject.bound_persons if p.id == person_id), None)
        if person is None:
            raise NotFound("未找到该人员")
        cipher, who = person.id_cipher, f"{person.role.value}:{person.id}"
    number = vault_of(session).decrypt(cipher)
    audit.record(
        session, actor, "listing.id_revealed", ("listing", listing.id), clock=clock,
        after={"person": who},
    )  # fmt: skip
    _commit(session)
    return number

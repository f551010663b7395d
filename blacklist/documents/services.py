"""Issuing and serving documents: one register row per document, written in the caller's
transaction (DOMAIN.md §2 Art. 5, Arts. 9–12; §3; §8).

``issue_for_listing``, ``issue_for_order`` and ``issue_for_correction`` are called by the service
that performs the act (the judge signs, deletes or revokes a listing; an order is issued or lifted;
a correction or reconsideration is decided). Each freezes the facts the document states in
``Document.content`` (masked identifiers only, dates and decimals as JSON strings), composes its
wording with ``rules``, numbers it, records ``document.issued`` in the audit log and flushes; the
caller commits, so the document stands or falls with the act.

Reading documents (``get_document``, ``list_documents``) follows the court scoping of the rest of
the system: staff see their own court's documents, and for a correction request the enforcing
court and the higher court see each other's decisions; anything else is a 404. Every download is
audited (``document.downloaded``): a document names a person (PIPL, DOMAIN.md §6).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blacklist.audit import services as audit
from blacklist.audit.services import jsonable
from blacklist.core.actor import Actor, ActorKind
from blacklist.core.clock import Clock
from blacklist.core.errors import NotFound
from blacklist.db import lock_journal
from blacklist.documents import queries, render, rules
from blacklist.documents.models import Document, DocumentKind
from blacklist.listing.models import Case, Listing, Subject
from blacklist.listing.rules import (
    DELETION_REASON_LABELS,
    GROUND_LABELS,
    PERSON_ROLE_LABELS,
    REMOVAL_KIND_LABELS,
    DeletionReason,
    Ground,
    PersonRole,
    RemovalKind,
    SubjectKind,
    term_years,
)
from blacklist.restrictions.catalogue import BY_CODE, CONSUMPTION_MEASURES, codes_of
from blacklist.staff.models import Court

LISTING_KINDS = (
    DocumentKind.LISTING_DECISION,
    DocumentKind.DELETION_DECISION,
    DocumentKind.REVOCATION_DECISION,
    DocumentKind.DELETION_CERTIFICATE,
)
ORDER_KINDS = (DocumentKind.CONSUMPTION_ORDER, DocumentKind.EXIT_BAN, DocumentKind.ORDER_LIFTING)
CORRECTION_KINDS = (DocumentKind.CORRECTION_DECISION, DocumentKind.RECONSIDERATION_DECISION)


# --------------------------------------------------------------------------------------------------
# Facts, as the documents state them (masked identifiers only, DOMAIN.md §6)


def court_facts(court: Court) -> dict[str, Any]:
    return {"name": court.name, "code": court.code, "province": court.province}


def party_facts(subject: Subject, *, with_bound_persons: bool = True) -> dict[str, Any]:
    """The debtor (or the person an order binds) and, for an organisation, the people bound with
    it. ``id_masked`` is a person's masked number or an organisation's (public) code."""
    people = []
    if with_bound_persons:
        people = [
            {
                "role": p.role.value,
                "role_label": PERSON_ROLE_LABELS[p.role],
                "name": p.name,
                "id_masked": p.id_masked,
            }
            for p in subject.bound_persons
        ]
    person = subject.kind is SubjectKind.PERSON
    return {
        "kind": subject.kind.value,
        "name": subject.name,
        "id_label": "公民身份号码" if person else "统一社会信用代码",
        "id_masked": subject.id_masked,
        "sex": subject.sex if person else None,
        "bound_persons": people,
    }


def case_facts(case: Case) -> dict[str, Any]:
    return {
        "case_number": case.case_number,
        "filed_on": case.filed_on,
        "basis_document_number": case.basis_document_number,
        "basis_issuer": case.basis_issuer,
        "obligation": case.obligation,
        "amount_due": case.amount_due,
    }


def _judge(actor: Actor) -> str | None:
    """The signing judge's name as printed; acts of the system (scheduler) print none."""
    return actor.name if actor.kind is ActorKind.STAFF else None


def _measure_labels(codes) -> list[str]:
    return [BY_CODE[c].label for c in codes if c in BY_CODE]


# --------------------------------------------------------------------------------------------------
# Numbering


def _documents_of_case(court_id: int, case_key: str):
    """Documents of one court about one case (by case-number key): those of its listings
    (corrections carry their listing), and those of standalone orders of that case."""
    listing_ids = (
        select(Listing.id)
        .join(Case, Case.id == Listing.case_id)
        .where(Case.case_number_key == case_key)
    )
    from blacklist.restrictions.models import RestrictionOrder

    order_ids = (
        select(RestrictionOrder.id)
        .join(Case, Case.id == RestrictionOrder.case_id)
        .where(Case.case_number_key == case_key)
    )
    return (
        Document.court_id == court_id,
        (Document.listing_id.in_(listing_ids)) | (Document.order_id.in_(order_ids)),
    )


def next_case_number(session: Session, court_id: int, case: Case) -> str:
    """``<case number>之N``: N counts the documents already issued for this case at this court
    (certificates excluded), and moves on past any number already taken. Called under the journal
    lock, so two acts on one case at the same time cannot take the same number."""
    lock_journal(session)
    session.flush()
    condition = _documents_of_case(court_id, case.case_number_key)
    issued = session.scalar(
        select(func.count(Document.id)).where(
            *condition, Document.kind != DocumentKind.DELETION_CERTIFICATE
        )
    )
    sequence = (issued or 0) + 1
    while True:
        number = rules.derived_number(case.case_number, sequence)
        taken = session.scalar(
            select(Document.id).where(Document.court_id == court_id, Document.number == number)
        )
        if taken is None:
            return number
        sequence += 1


def next_reconsideration_number(session: Session, court: Court, issued_on: date) -> str:
    """The higher court's reconsideration decisions are numbered in its own yearly series
    (``（2025）北京市第一中级人民法院执复3号``), never after the lower court's case: the enforcing
    court's numbers are its own. Under the journal lock, like ``next_case_number``."""
    lock_journal(session)
    session.flush()
    sequence = 1 + (
        session.scalar(
            select(func.count(Document.id)).where(
                Document.court_id == court.id,
                Document.kind == DocumentKind.RECONSIDERATION_DECISION,
                Document.issued_on >= date(issued_on.year, 1, 1),
                Document.issued_on <= date(issued_on.year, 12, 31),
            )
        )
        or 0
    )
    while True:
        number = rules.reconsideration_number(court.name, issued_on.year, sequence)
        taken = session.scalar(
            select(Document.id).where(Document.court_id == court.id, Document.number == number)
        )
        if taken is None:
            return number
        sequence += 1


# --------------------------------------------------------------------------------------------------
# Writing the register row


def _issue(
    session: Session,
    kind: DocumentKind,
    *,
    court: Court,
    number: str,
    issued_on: date,
    facts: Mapping[str, Any],
    title: str,
    basis: str,
    actor: Actor,
    clock: Clock,
    listing_id: int | None = None,
    order_id: int | None = None,
    correction_id: int | None = None,
) -> Document:
    """Freeze the facts, compose the wording, write the row and audit it (no commit)."""
    content = jsonable(
        {
            **facts,
            "kind": kind.value,
            "title": title,
            "number": number,
            "court": court_facts(court),
            "issued_on": issued_on,
            "issued_on_text": rules.chinese_date(issued_on),
            "legal_basis": basis,
            "judge": _judge(actor),
        }
    )
    if kind is DocumentKind.DELETION_CERTIFICATE:
        content["verification_path"] = rules.VERIFY_PATH
    content["paragraphs"] = rules.body_of(kind, content)
    document = Document(
        kind=kind,
        court_id=court.id,
        number=number,
        issued_on=issued_on,
        listing_id=listing_id,
        order_id=order_id,
        correction_id=correction_id,
        content=content,
        issued_by_id=actor.user_id,
        created_at=clock.now(),
    )
    session.add(document)
    session.flush()
    audit.record(
        session, actor, "document.issued", ("document", document.id), clock=clock,
        after={"kind": kind.value, "number": number, "issued_on": issued_on,
               "listing_id": listing_id, "order_id": order_id, "correction_id": correction_id},
    )  # fmt: skip
    return document


# --------------------------------------------------------------------------------------------------
# Listings: the decision, deletion, revocation, and the certificate


def issue_for_listing(
    session: Session,
    kind: DocumentKind,
    listing,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
    reasons: str | None = None,
) -> Document:
    """The listing decision (Art. 5, numbered by the judge's decision number), the deletion
    decision (Art. 10) or revocation decision (Art. 9), or the certificate of deletion or
    revocation a debtor shows a bank or an employer (numbered after the decision it certifies)."""
    if kind not in LISTING_KINDS:
        raise ValueError(f"{kind} is not a listing document")
    session.flush()
    court = listing.court or session.get(Court, listing.court_id)
    grounds = list(listing.grounds)
    has_term = term_years(frozenset(Ground(g) for g in grounds)) is not None
    facts: dict[str, Any] = {
        "debtor": party_facts(listing.subject),
        "case": case_facts(listing.case),
        "listing": {
            "public_id": listing.public_id,
            "decision_number": listing.decision_number,
            "decided_on": listing.decided_on,
        },
        "reasons": " ".join(reasons.split()) if reasons else None,
    }
    today = clock.today()
    removal_reason = listing.removal_reason
    if kind is DocumentKind.LISTING_DECISION:
        years = term_years(frozenset(Ground(g) for g in grounds))
        facts.update(
            grounds=[{"code": g, "label": GROUND_LABELS[Ground(g)]} for g in sorted(grounds)],
            decided_on=listing.decided_on,
            term={
                "years": (years + listing.extension_years) if years else None,
                "ends_on": listing.ends_on,
            },
            grace_days=listing.grace_days,
            publish_on=listing.publish_on,
            measures=_measure_labels(CONSUMPTION_MEASURES),
        )
        number = number or listing.decision_number
        issued_on = listing.decided_on or today
    else:
        if listing.removal_kind is None:
            raise ValueError("the listing has not been removed")
        facts["removal"] = {
            "kind": listing.removal_kind.value,
            "kind_label": REMOVAL_KIND_LABELS[listing.removal_kind],
            "reason": removal_reason,
            "reason_label": _removal_reason_label(listing.removal_kind, removal_reason),
            "on": listing.removed_on or today,
        }
        issued_on = listing.removed_on or today
        if kind is DocumentKind.DELETION_CERTIFICATE:
            decision = _latest_removal_decision(session, listing.id)
            facts["decision_number"] = decision.number if decision else None
            facts["debtor"] = party_facts(listing.subject, with_bound_persons=False)
            facts["reasons"] = None  # a public certificate states no internal notes
            if number is None:
                base = (
                    decision.number
                    if decision
                    else next_case_number(session, court.id, listing.case)
                )
                number = rules.certificate_number(base)
    if number is None:
        number = next_case_number(session, court.id, listing.case)
    title = rules.title_of(
        kind,
        removal=listing.removal_kind.value if listing.removal_kind is not None else None,
    )
    basis = rules.legal_basis(
        kind,
        grounds=grounds,
        removal_reason="revoked" if listing.removal_kind is RemovalKind.REVOKED else removal_reason,
        has_term=has_term,
    )
    return _issue(
        session, kind, court=court, number=number, issued_on=issued_on, facts=facts,
        title=title, basis=basis, actor=actor, clock=clock, listing_id=listing.id,
    )  # fmt: skip


def _removal_reason_label(kind: RemovalKind, reason: str | None) -> str:
    if kind is RemovalKind.REVOKED:
        return "不应纳入失信被执行人名单，依法撤销"
    try:
        return DELETION_REASON_LABELS[DeletionReason(reason)]
    except ValueError:
        return reason or ""


def _latest_removal_decision(session: Session, listing_id: int) -> Document | None:
    return session.scalar(
        select(Document)
        .where(
            Document.listing_id == listing_id,
            Document.kind.in_((DocumentKind.DELETION_DECISION, DocumentKind.REVOCATION_DECISION)),
        )
        .order_by(Document.id.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------------------------------
# Restriction orders


def issue_for_order(
    session: Session,
    kind: DocumentKind,
    order,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
    reasons: str | None = None,
) -> Document:
    """A consumption restriction order (2015 provisions Arts. 1, 3), an exit ban (Civil Procedure
    Law Art. 266, Exit-Entry Administration Law Art. 12), or the lifting of either (2015
    provisions Art. 9: after full performance, on security, or with the creditor's consent)."""
    if kind not in ORDER_KINDS:
        raise ValueError(f"{kind} is not an order document")
    session.flush()
    court = session.get(Court, order.court_id)
    listing = order.listing
    subject = order.subject or (listing.subject if listing is not None else None)
    case = order.case or (listing.case if listing is not None else None)
    if subject is None:
        raise ValueError("the order names no debtor")
    order_kind = order.kind.value
    codes = codes_of(order.measures)
    if order_kind == "consumption":
        codes = [c for c in codes if c in CONSUMPTION_MEASURES] or list(CONSUMPTION_MEASURES)
    facts: dict[str, Any] = {
        "order_kind": order_kind,
        "party": party_facts(subject),
        "case": case_facts(case) if case is not None else None,
        "measures": _measure_labels(codes),
        "listing_public_id": listing.public_id if listing is not None else None,
        "order_public_id": order.public_id,
        "reasons": " ".join((reasons or order.reasons or "").split()) or None,
    }
    if order.person_role is not None and order.organisation_name:
        role = PersonRole(order.person_role)
        facts["person_role_label"] = PERSON_ROLE_LABELS[role]
        facts["organisation"] = {"name": order.organisation_name, "code": order.organisation_code}
    if kind is DocumentKind.ORDER_LIFTING:
        facts.update(
            order_number=order.decision_number,
            order_issued_on=order.issued_on,
            lift_reason=order.lift_reason,
            lift_reason_label=rules.LIFT_REASON_LABELS.get(order.lift_reason or "", ""),
            reasons=" ".join((reasons or order.lift_note or "").split()) or None,
        )
        issued_on = order.lifted_on or clock.today()
    else:
        number = number or order.decision_number
        issued_on = order.issued_on or clock.today()
    if number is None:
        if case is None:
            raise ValueError("an order without a case needs a number")
        number = next_case_number(session, court.id, case)
    return _issue(
        session, kind, court=court, number=number, issued_on=issued_on, facts=facts,
        title=rules.title_of(kind, order_kind=order_kind),
        basis=rules.legal_basis(kind, order_kind=order_kind),
        actor=actor, clock=clock, listing_id=order.listing_id, order_id=order.id,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Correction requests and reconsideration


_REJECTED = {"rejected", "under_reconsideration", "rejection_upheld"}


def issue_for_correction(
    session: Session,
    kind: DocumentKind,
    request,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
) -> Document:
    """The enforcing court's decision on a correction request (Arts. 11–12; a rejection carries
    the ten-day reconsideration notice), or the next higher court's reconsideration decision
    (Art. 12), issued by that higher court."""
    if kind not in CORRECTION_KINDS:
        raise ValueError(f"{kind} is not a correction document")
    session.flush()
    listing = request.listing
    lower = request.court or session.get(Court, request.court_id)
    facts: dict[str, Any] = {
        "correction_reference": request.reference,
        "applicant_name": request.applicant_name,
        "ground": request.ground.value,
        "ground_label": rules.CORRECTION_GROUND_LABELS.get(request.ground.value, ""),
        "submitted_on": request.submitted_on,
        "debtor": party_facts(listing.subject),
        "case": case_facts(listing.case),
        "listing_public_id": listing.public_id,
    }
    if kind is DocumentKind.CORRECTION_DECISION:
        accepted = request.remedy is not None and request.status.value not in _REJECTED
        facts.update(
            accepted=accepted,
            remedy=request.remedy.value if accepted else None,
            remedy_label=rules.REMEDY_LABELS[request.remedy.value] if accepted else None,
            reasons=request.decision_reasons,
            decided_on=request.decided_on,
        )
        court, issued_on, rejected = lower, request.decided_on or clock.today(), not accepted
    else:
        review = request.reconsideration
        if review is None:
            raise ValueError("no reconsideration was requested")
        upheld = review.outcome is None or review.outcome.value == "upheld"
        earlier = session.scalar(
            select(Document.number)
            .where(
                Document.correction_id == request.id,
                Document.kind == DocumentKind.CORRECTION_DECISION,
            )
            .order_by(Document.id.desc())
            .limit(1)
        )
        facts.update(
            lower_court=lower.name,
            correction_number=earlier,
            upheld=upheld,
            remedy=review.remedy.value if review.remedy is not None else None,
            remedy_label=rules.REMEDY_LABELS[review.remedy.value] if review.remedy else None,
            reasons=review.decision_reasons,
            decided_on=review.decided_on,
        )
        court = review.court or session.get(Court, review.court_id)
        issued_on, rejected = review.decided_on or clock.today(), False
    if number is None and kind is DocumentKind.RECONSIDERATION_DECISION:
        number = next_reconsideration_number(session, court, issued_on)
    elif number is None:
        number = next_case_number(session, court.id, listing.case)
    return _issue(
        session, kind, court=court, number=number, issued_on=issued_on, facts=facts,
        title=rules.title_of(kind), basis=rules.legal_basis(kind, rejected=rejected),
        actor=actor, clock=clock, listing_id=listing.id, correction_id=request.id,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Reading and downloading


def get_document(session: Session, document_id: int, *, actor: Actor) -> Document:
    """A document the actor may see (404 otherwise, like one that does not exist)."""
    document = queries.visible_document(session, document_id, actor=actor)
    if document is None:
        raise NotFound("未找到该法律文书")
    return document


def pdf_of(document: Document) -> bytes:
    """The document as PDF, rendered from its register row."""
    return render.render_pdf(
        document.content,
        verification_code=document.verification_code,
        created_at=document.created_at,
    )


def download(session: Session, document_id: int, *, actor: Actor, clock: Clock) -> tuple:
    """A member of staff (or the debtor, through the public form) downloads a document: the PDF
    and its file name. The access is recorded (DOMAIN.md §6: every access attributable)."""
    document = (
        get_document(session, document_id, actor=actor)
        if actor.kind is not ActorKind.PUBLIC
        else session.get(Document, document_id)
    )
    if document is None:
        raise NotFound("未找到该法律文书")
    pdf = pdf_of(document)
    audit.record(
        session, actor, "document.downloaded", ("document", document.id), clock=clock,
        after={"kind": document.kind.value, "number": document.number},
    )  # fmt: skip
    session.commit()
    return pdf, render.filename_of(document.content)


def public_actor(ip: str | None) -> Actor:
    """The anonymous public as the audit log names it."""
    return Actor(kind=ActorKind.PUBLIC, name="public", ip=ip)

"""Standalone consumption orders (限制消费令) and exit bans (限制出境), one use case per function and one
transaction each (DOMAIN.md §3).

A judge issues an order for a debtor of the court's case, and lifts it: after full performance
(mandatory), or on effective security or the creditor's consent (discretionary, 2015 provisions
Art. 9). The same lifting serves a listing's consumption order that stayed in force after the
listing's term expired (the judge decides, DOMAIN.md §3). Each act keeps the restrictions projection
and the change log right in the same transaction (so partners receive it), is audited with masked
identifiers only, and registers its document. A refused rule raises before anything is written.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from blacklist.audit import services as audit
from blacklist.core.actor import Actor
from blacklist.core.clock import Clock
from blacklist.core.errors import (
    Conflict,
    ErrorCollector,
    NotAllowed,
    NotFound,
    ValidationFailed,
    parse_choice,
)
from blacklist.core.identity import (
    looks_like_credit_code,
    looks_like_resident_id,
    parse_credit_code,
    parse_resident_id,
)
from blacklist.core.names import clean_name, normalize_name
from blacklist.db import lock_journal, vault_of
from blacklist.documents import services as documents
from blacklist.documents.models import DocumentKind
from blacklist.listing import rules as listing_rules
from blacklist.listing.models import Case, Listing, Subject
from blacklist.listing.services import (
    build_subject,
    case_audit,
    case_fields,
    require_reason,
    required_text,
    subject_audit,
    use_case,
)
from blacklist.restrictions import projection, rules
from blacklist.restrictions.catalogue import codes_of
from blacklist.restrictions.inputs import LiftingIn, OrderIn
from blacklist.restrictions.models import OrderKind, OrderStatus, RestrictionOrder
from blacklist.restrictions.queries import order_case_id, order_subject_id
from blacklist.restrictions.schemas import StaffOrder

MAX_PER_PAGE = 100

#: Loaded with every order staff see: its own debtor and case, or its listing's.
ORDER_LOADS = (
    selectinload(RestrictionOrder.subject).selectinload(Subject.bound_persons),
    selectinload(RestrictionOrder.case),
    selectinload(RestrictionOrder.listing)
    .selectinload(Listing.subject)
    .selectinload(Subject.bound_persons),
    selectinload(RestrictionOrder.listing).selectinload(Listing.case),
)


# --------------------------------------------------------------------------------------------------
# Reading within the actor's court


def get_order(session: Session, public_id: str, *, actor: Actor) -> RestrictionOrder:
    """An order the actor may see: staff see their own court's orders only (404 otherwise, so
    another court's order is indistinguishable from one that does not exist)."""
    order = session.scalar(
        select(RestrictionOrder)
        .where(RestrictionOrder.public_id == str(public_id or ""))
        .options(*ORDER_LOADS)
    )
    if order is None or not (
        actor.is_system or (actor.court_id is not None and actor.court_id == order.court_id)
    ):
        raise NotFound("未找到该限制令")
    return order


def subject_of(order: RestrictionOrder) -> Subject:
    """The debtor an order is about: its own, or its listing's."""
    return order.subject if order.subject is not None else order.listing.subject


def case_of(order: RestrictionOrder) -> Case:
    return order.case if order.case is not None else order.listing.case


def list_orders(
    session: Session,
    *,
    actor: Actor,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[RestrictionOrder], int]:
    """The court's orders (standalone ones and listings' consumption orders), newest first,
    filtered by kind, status, and a name, an exact ID number / credit code or a case number."""
    if actor.court_id is None and not actor.is_system:
        raise NotAllowed("您没有权限查看限制令")
    query = (
        select(RestrictionOrder)
        .outerjoin(Listing, Listing.id == RestrictionOrder.listing_id)
        .join(Subject, Subject.id == order_subject_id())
    )
    if actor.court_id is not None:
        query = query.where(RestrictionOrder.court_id == actor.court_id)
    if kind:
        query = query.where(
            RestrictionOrder.kind == parse_choice(OrderKind, kind, "kind", "限制令类型")
        )
    if status:
        query = query.where(
            RestrictionOrder.status == parse_choice(OrderStatus, status, "status", "状态")
        )
    text = (q or "").strip()
    if text:
        query = query.where(_search_condition(session, text))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    items = session.scalars(
        query.options(*ORDER_LOADS)
        .order_by(RestrictionOrder.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def _search_condition(session: Session, text: str):
    from blacklist.listing.models import BoundPerson

    vault = vault_of(session)
    hashes = []
    if looks_like_resident_id(text):
        with contextlib.suppress(ValidationFailed):
            hashes.append(vault.hash(parse_resident_id(text).number))
    if looks_like_credit_code(text):
        with contextlib.suppress(ValidationFailed):
            hashes.append(vault.hash(parse_credit_code(text).code))
    if hashes:
        bound = select(BoundPerson.subject_id).where(BoundPerson.id_hash.in_(hashes))
        return or_(Subject.id_hash.in_(hashes), Subject.id.in_(bound))
    key = listing_rules.case_number_key(text)
    case_ids = select(Case.id).where(Case.case_number_key.contains(key, autoescape=True))
    return or_(
        Subject.name_key.contains(normalize_name(text), autoescape=True),
        order_case_id().in_(case_ids),
    )


# --------------------------------------------------------------------------------------------------
# Issuing


def _require_judge(actor: Actor) -> None:
    rules.check_may_decide(actor.role, system=actor.is_system)
    if actor.court_id is None:
        raise NotAllowed("只有法院的执行法官可以发出限制令")


def _organisation_fields(errors: ErrorCollector, data: OrderIn) -> dict:
    """Exit ban for an organisation's debt: the organisation and the barred person's role."""
    org = data.organisation
    if org is None:
        return {"person_role": None, "organisation_name": None, "organisation_code": None}
    name = errors.check(clean_name, org.name or "", field="organisation.name")
    code = errors.check(parse_credit_code, org.credit_code or "", "organisation.credit_code")
    role = errors.check(rules.check_exit_ban_role, org.role)
    return {
        "person_role": role,
        "organisation_name": name,
        "organisation_code": code.code if code else None,
    }


def _check_no_duplicate(
    session: Session, *, kind: OrderKind, court_id: int, id_hash: str, case_number_key: str
) -> None:
    """One active order of a kind per debtor and case at a court: a second one (a double
    submission, a colleague's parallel entry) is refused, naming the first."""
    existing = session.scalar(
        select(RestrictionOrder)
        .join(Subject, Subject.id == RestrictionOrder.subject_id)
        .join(Case, Case.id == RestrictionOrder.case_id)
        .where(
            RestrictionOrder.court_id == court_id,
            RestrictionOrder.kind == kind,
            RestrictionOrder.status == OrderStatus.ACTIVE,
            RestrictionOrder.listing_id.is_(None),
            Subject.id_hash == id_hash,
            Case.case_number_key == case_number_key,
        )
        .limit(1)
    )
    if existing is not None:
        label = rules.ORDER_KIND_LABELS[kind.value]
        raise Conflict(
            f"该被执行人在本案中已有执行中的{label}（{existing.public_id}），不能重复发出"
        )


def order_audit(order: RestrictionOrder) -> dict:
    """The order as the audit log keeps it: masked identifiers only, never full numbers."""
    subject = subject_of(order)
    data = {
        "kind": order.kind.value,
        "subject": subject_audit(subject),
        "case_number": case_of(order).case_number,
        "measures": codes_of(order.measures),
        "decision_number": order.decision_number,
        "issued_on": order.issued_on,
    }
    if order.listing is not None:
        data["listing"] = order.listing.public_id
    if order.organisation_name:
        data["organisation"] = {
            "name": order.organisation_name,
            "credit_code": order.organisation_code,
            "role": order.person_role.value if order.person_role else None,
        }
    return data


@use_case
def issue_order(session: Session, data: OrderIn, *, actor: Actor, clock: Clock) -> RestrictionOrder:
    """A judge issues a standalone consumption order (a court *may* restrict a debtor that is not
    listed, 2015 provisions Art. 1, with the measures of Art. 3) or an exit ban (Civil Procedure Law
    Art. 266, Exit-Entry Administration Law Art. 12). An organisation's consumption order binds its
    legal representative, principal, directly responsible person and actual controller too; an exit
    ban binds one natural person only (for an organisation's debt: its legal representative,
    principal or directly responsible person, named with the organisation)."""
    _require_judge(actor)
    today = clock.today()
    try:
        kind = OrderKind(data.kind)
    except ValueError:
        raise ValidationFailed.on("kind", "限制令类型应为限制消费令或限制出境") from None
    if kind is OrderKind.EXIT:
        identifier_kind = (
            "organisation"
            if data.subject.credit_code
            or (
                looks_like_credit_code(data.subject.id_number or "")
                and not looks_like_resident_id(data.subject.id_number or "")
            )
            else None
        )
        rules.check_exit_ban_subject(data.subject.kind, identifier_kind)
    errors = ErrorCollector()
    issued_on = data.issued_on or today
    subject = errors.check(build_subject, session, data.subject, on=issued_on, refuse_minor=False)
    case = errors.check(case_fields, data.case, court_id=actor.court_id, today=today)
    number = required_text(errors, data.decision_number, "decision_number", "文书文号", 100)
    reasons = errors.check(require_reason, data.reasons, "reasons", "发出理由")
    mask = errors.check(rules.order_measures_mask, kind.value, data.measures)
    errors.check(rules.check_issued_on, issued_on, today, case["filed_on"] if case else None)
    organisation = (
        _organisation_fields(errors, data)
        if kind is OrderKind.EXIT
        else {"person_role": None, "organisation_name": None, "organisation_code": None}
    )
    if kind is OrderKind.CONSUMPTION and data.organisation is not None:
        errors.add(
            ValidationFailed.on(
                "organisation", "限制消费令的单位被执行人请在被执行人中填写，不填写此项"
            )
        )
    errors.raise_if_any("限制令信息有误")
    # The journal lock (taken anyway by the audit entry) serialises this check with a colleague's
    # parallel entry of the same order, so two judges cannot issue it twice.
    lock_journal(session)
    _check_no_duplicate(
        session,
        kind=kind,
        court_id=actor.court_id,
        id_hash=subject.id_hash,
        case_number_key=case["case_number_key"],
    )
    order_case = Case(**case, created_at=clock.now())
    session.add_all([subject, order_case])
    order = RestrictionOrder(
        kind=kind,
        court_id=actor.court_id,
        listing_id=None,
        subject=subject,
        case=order_case,
        measures=mask,
        status=OrderStatus.ACTIVE,
        decision_number=number,
        reasons=reasons,
        issued_on=issued_on,
        issued_by_id=actor.user_id,
        created_at=clock.now(),
        updated_at=clock.now(),
        **organisation,
    )
    session.add(order)
    session.flush()
    projection.sync_order(session, order, clock=clock)
    audit.record(
        session, actor, "restriction_order.issued", ("restriction_order", order.id), clock=clock,
        after={**order_audit(order), "case": case_audit(order_case)}, reason=reasons,
    )  # fmt: skip
    document_kind = (
        DocumentKind.EXIT_BAN if kind is OrderKind.EXIT else DocumentKind.CONSUMPTION_ORDER
    )
    documents.issue_for_order(
        session, document_kind, order, actor=actor, clock=clock, number=number, reasons=reasons
    )
    session.commit()
    return order


# --------------------------------------------------------------------------------------------------
# Lifting


@use_case
def lift_order(
    session: Session, public_id: str, data: LiftingIn, *, actor: Actor, clock: Clock
) -> RestrictionOrder:
    """A judge lifts an order (2015 provisions, Art. 9): after full performance the court *must*;
    on effective security or the creditor's consent it *may*, stating its reasons. Exit bans are
    lifted the same way (DOMAIN.md §3). A listing's consumption order is lifted here only once its
    listing is removed by expiry and the order was left for the judge to decide; while the listing
    stands, its own acts (performance, deletion, revocation) lift it. Partners receive the removal
    in the same transaction."""
    order = get_order(session, public_id, actor=actor)  # another court's: 404 first
    _require_judge(actor)
    # Row lock (PostgreSQL): of two judges lifting at once, the second sees the first's lifting.
    session.refresh(order, with_for_update=True)
    listing = order.listing
    rules.check_liftable(
        status=order.status.value,
        lifted_on=order.lifted_on,
        listing_status=listing.status if listing is not None else None,
    )
    ground = rules.parse_lift_ground(data.ground)
    note = rules.check_lift_note(ground, data.note)
    today = clock.today()
    order.status = OrderStatus.LIFTED
    order.lifted_on = today
    order.lift_reason = ground.value
    order.lift_note = note
    order.lifted_by_id = actor.user_id
    order.updated_at = clock.now()
    session.flush()
    if listing is None:
        projection.sync_order(session, order, clock=clock, lift_reason=ground.value)
    else:
        projection.sync(session, listing, order, clock=clock, lift_reason=ground.value)
    audit.record(
        session, actor, "restriction_order.lifted", ("restriction_order", order.id), clock=clock,
        before={"status": "active"},
        after={"status": "lifted", "ground": ground.value, "lifted_on": today,
               "kind": order.kind.value, "subject": subject_audit(subject_of(order)),
               "listing": listing.public_id if listing is not None else None},
        reason=note or ground.label,
    )  # fmt: skip
    documents.issue_for_order(
        session, DocumentKind.ORDER_LIFTING, order, actor=actor, clock=clock,
        reasons=note or ground.label,
    )  # fmt: skip
    session.commit()
    return order


def history(session: Session, public_id: str, *, actor: Actor):
    """The order's audit entries, oldest first (DOMAIN.md §8)."""
    order = get_order(session, public_id, actor=actor)
    return audit.history(session, "restriction_order", order.id)


def staff_orders(session: Session, orders: list[RestrictionOrder]) -> list[StaffOrder]:
    """Orders as staff see them, with their court and the people they bind: one query each for the
    whole page."""
    from blacklist.restrictions.models import Restriction
    from blacklist.staff.models import Court

    orders = list(orders)
    if not orders:
        return []
    court_ids = {o.court_id for o in orders}
    courts = {c.id: c for c in session.scalars(select(Court).where(Court.id.in_(court_ids)))}
    rows: dict[int, list] = {o.id: [] for o in orders}
    for row in session.scalars(
        select(Restriction).where(Restriction.order_id.in_(list(rows))).order_by(Restriction.id)
    ):
        rows[row.order_id].append(row)
    return [
        StaffOrder(o, courts[o.court_id], subject_of(o), case_of(o), rows[o.id]) for o in orders
    ]

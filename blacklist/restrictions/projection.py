"""The effective-restrictions projection, kept right by every listing event in the same transaction.

``handle`` first decides what happens to the listing's consumption order (issue, lift, keep: see
``rules.linked_order_decision``), then ``sync`` makes the listing's active restriction rows equal to
what the listing and its order now demand, appending an upsert or a removal to the change log for
every row that changed. ``sync`` is a diff, so it is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.audit import services as audit
from blacklist.changelog import writer
from blacklist.changelog.models import Change, ChangeAction, ChangeType
from blacklist.core.actor import Actor
from blacklist.core.clock import Clock
from blacklist.core.names import normalize_name
from blacklist.events import ListingCorrected, ListingEvent, ListingRemoved
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus, PersonRole
from blacklist.restrictions import rules
from blacklist.restrictions.catalogue import codes_of
from blacklist.restrictions.models import (
    OrderKind,
    OrderStatus,
    Restriction,
    RestrictionOrder,
    SourceKind,
)


def handle(session: Session, event: ListingEvent, *, actor: Actor, clock: Clock) -> None:
    listing = event.listing
    order = linked_consumption_order(session, listing.id)
    decision = rules.linked_order_decision(
        status=listing.status,
        removal_kind=listing.removal_kind,
        fully_performed=listing.is_fully_performed,
        has_order=order is not None,
        order_active=order is not None and order.status is OrderStatus.ACTIVE,
    )
    if decision is rules.OrderDecision.ISSUE:
        order = _issue_order(session, listing, actor=actor, clock=clock)
    elif decision is rules.OrderDecision.LIFT:
        reason = "performed" if listing.is_fully_performed else (listing.removal_reason or "")
        _lift_order(session, order, reason, actor=actor, clock=clock)
    if isinstance(event, ListingRemoved):
        lift_reason = listing.removal_reason or listing.removal_kind
    elif isinstance(event, ListingCorrected):
        lift_reason = "corrected"
    else:
        lift_reason = "performed" if listing.is_fully_performed else "lifted"
    sync(session, listing, order, clock=clock, lift_reason=str(lift_reason))


def linked_consumption_order(session: Session, listing_id: int) -> RestrictionOrder | None:
    return session.scalar(
        select(RestrictionOrder).where(
            RestrictionOrder.listing_id == listing_id,
            RestrictionOrder.kind == OrderKind.CONSUMPTION,
        )
    )


def _issue_order(session: Session, listing: Listing, *, actor: Actor, clock: Clock):
    order = RestrictionOrder(
        kind=OrderKind.CONSUMPTION,
        court_id=listing.court_id,
        listing_id=listing.id,
        measures=rules.consumption_order_mask(),
        status=OrderStatus.ACTIVE,
        issued_on=listing.published_on or clock.today(),
        created_at=clock.now(),
    )
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor,
        "restriction_order.issued",
        ("restriction_order", order.id),
        clock=clock,
        after={"kind": order.kind.value, "listing": listing.public_id},
    )
    return order


def _lift_order(
    session: Session, order: RestrictionOrder, reason: str, *, actor: Actor, clock: Clock
) -> None:
    order.status = OrderStatus.LIFTED
    order.lifted_on = clock.today()
    order.lift_reason = reason
    audit.record(
        session,
        actor,
        "restriction_order.lifted",
        ("restriction_order", order.id),
        clock=clock,
        before={"status": "active"},
        after={"status": "lifted"},
        reason=reason,
    )


@dataclass(frozen=True)
class _Person:
    role: PersonRole
    kind: object
    name: str
    hash: str
    cipher: str
    masked: str


def _people(listing: Listing) -> list[_Person]:
    """The debtor, then (for an organisation) the people its listing binds (DOMAIN.md §3)."""
    subject = listing.subject
    people = [
        _Person(
            PersonRole.DEBTOR,
            subject.kind,
            subject.name,
            subject.id_hash,
            subject.id_cipher,
            subject.id_masked,
        )
    ]
    from blacklist.listing.rules import SubjectKind

    for p in subject.bound_persons:
        people.append(
            _Person(p.role, SubjectKind.PERSON, p.name, p.id_hash, p.id_cipher, p.id_masked)
        )
    return people


def sync(
    session: Session,
    listing: Listing,
    order: RestrictionOrder | None,
    *,
    clock: Clock,
    lift_reason: str = "lifted",
) -> None:
    """Make the listing's active restriction rows what the listing and its order demand now."""
    people = _people(listing)
    debtor = people[0]
    desired: dict[tuple, _Wanted] = {}
    if listing.status is ListingStatus.PUBLISHED:
        mask = rules.listing_measures_mask(listing.subject.kind)
        since = listing.published_on or clock.today()
        desired[(SourceKind.LISTING, None, debtor.role, debtor.hash)] = _Wanted(debtor, mask, since)
    if order is not None and order.status is OrderStatus.ACTIVE:
        for person in people:
            key = (SourceKind.CONSUMPTION_ORDER, order.id, person.role, person.hash)
            desired[key] = _Wanted(person, order.measures, order.issued_on)
    existing = session.scalars(
        select(Restriction)
        .where(Restriction.listing_id == listing.id, Restriction.is_active.is_(True))
        .order_by(Restriction.id)
    ).all()
    _reconcile(
        session, existing, desired, listing_id=listing.id, court_id=listing.court_id,
        record=lambda row: restriction_record(row, listing), clock=clock, lift_reason=lift_reason,
    )  # fmt: skip


@dataclass(frozen=True)
class _Wanted:
    """What one projection row must say: who, bound by which measures, since when."""

    person: _Person
    mask: int
    since: date


def _reconcile(
    session: Session,
    existing: Sequence[Restriction],
    desired: dict[tuple, _Wanted],
    *,
    listing_id: int | None,
    court_id: int,
    record: Callable[[Restriction], dict],
    clock: Clock,
    lift_reason: str,
) -> None:
    """The diff both ``sync`` and ``sync_order`` apply. ``desired`` is keyed by (source kind, order
    id, role, person hash): an active row no longer desired is lifted and a removal appended; a
    desired row is created (or updated) and an upsert appended whenever the record partners last
    received differs from ``record(row)``."""
    for row in existing:
        wanted = desired.pop((row.source_kind, row.order_id, row.role, row.person_hash), None)
        if wanted is None:
            row.is_active = False
            row.lifted_on = clock.today()
            row.lifted_at = clock.now()
            row.lift_reason = lift_reason
            _append(session, row, ChangeAction.REMOVE, None, clock)
            continue
        row.person_name, row.measures = wanted.person.name, wanted.mask
        row.person_name_key = normalize_name(wanted.person.name)
        payload = record(row)
        if _last_payload(session, row.key) != payload:
            _append(session, row, ChangeAction.UPSERT, payload, clock)

    for (source_kind, order_id, _role, _hash), wanted in desired.items():
        person = wanted.person
        row = Restriction(
            source_kind=source_kind,
            order_id=order_id,
            listing_id=listing_id,
            court_id=court_id,
            role=person.role,
            person_kind=person.kind,
            person_name=person.name,
            person_name_key=normalize_name(person.name),
            person_hash=person.hash,
            person_cipher=person.cipher,
            person_masked=person.masked,
            measures=wanted.mask,
            since=wanted.since,
            is_active=True,
        )
        session.add(row)
        session.flush()
        _append(session, row, ChangeAction.UPSERT, record(row), clock)


def _last_payload(session: Session, key: str) -> dict | None:
    """The record partners last received for this key (a correction of the case number or the
    court must reach them even though the person and the measures did not change)."""
    return session.scalar(
        select(Change.payload).where(Change.key == key).order_by(Change.seq.desc()).limit(1)
    )


def restriction_record(row: Restriction, listing: Listing) -> dict:
    """The feed's ``restriction`` record (API.md) of a projection row."""
    return _row_record(
        row,
        restriction_source(
            kind=row.source_kind.value,
            listing_public_id=listing.public_id,
            order_public_id=row.order.public_id if row.order is not None else None,
            court_name=listing.court.name,
            case_number=listing.case.case_number,
        ),
    )


def _row_record(row: Restriction, source: dict) -> dict:
    return build_restriction_record(
        person_kind=row.person_kind.value,
        person_name=row.person_name,
        person_cipher=row.person_cipher,
        role=row.role.value,
        measures=row.measures,
        since=row.since,
        source=source,
    )


def restriction_source(
    *,
    kind: str,
    listing_public_id: str | None,
    order_public_id: str | None,
    court_name: str,
    case_number: str | None,
) -> dict:
    """Where a restriction comes from (API.md ``source``): the listing, or the order (a listing's
    consumption order, a standalone order, an exit ban) with the listing it belongs to, if any."""
    from_order = kind != SourceKind.LISTING.value and order_public_id is not None
    return {
        "kind": kind,
        "public_id": order_public_id if from_order else listing_public_id,
        "listing_public_id": listing_public_id,
        "court": court_name,
        "case_number": case_number,
    }


def build_restriction_record(
    *,
    person_kind: str,
    person_name: str,
    person_cipher: str,
    role: str,
    measures: int,
    since: date,
    source: dict,
) -> dict:
    """The one place the ``restriction`` record is shaped: the change log stores it on every upsert
    and the partner snapshot builds it from the projection's columns, so the two always agree. The
    identifier stays encrypted (``id_cipher``); the partner feed decrypts it per partner."""
    return {
        "person": {"kind": person_kind, "name": person_name, "id_cipher": person_cipher},
        "role": role,
        "measures": codes_of(measures),
        "since": since.isoformat(),
        "source": source,
    }


def _append(
    session: Session, row: Restriction, action: ChangeAction, payload: dict | None, clock: Clock
) -> None:
    writer.append(
        session,
        type=ChangeType.RESTRICTION,
        action=action,
        key=row.key,
        measures=row.measures,
        entity=("restriction", row.id),
        payload=payload,
        clock=clock,
    )


# --------------------------------------------------------------------------------------------------
# Standalone orders: consumption orders and exit bans with no listing (DOMAIN.md §3)


def order_people(order: RestrictionOrder) -> list[_Person]:
    """Whom a standalone order binds. A consumption order: the debtor and, for an organisation, its
    legal representative, principal, directly responsible person and actual controller (2015
    provisions, Art. 3). An exit ban: the one person barred (Civil Procedure Law Art. 266), in
    their role for an organisation's debt, else as the debtor."""
    from blacklist.listing.rules import SubjectKind

    subject = order.subject
    if order.kind is OrderKind.EXIT:
        role = order.person_role or PersonRole.DEBTOR
        return [
            _Person(
                role, subject.kind, subject.name, subject.id_hash, subject.id_cipher,
                subject.id_masked,
            )
        ]  # fmt: skip
    people = [
        _Person(
            PersonRole.DEBTOR, subject.kind, subject.name, subject.id_hash, subject.id_cipher,
            subject.id_masked,
        )
    ]  # fmt: skip
    for p in subject.bound_persons:
        people.append(
            _Person(p.role, SubjectKind.PERSON, p.name, p.id_hash, p.id_cipher, p.id_masked)
        )
    return people


def order_source_kind(order: RestrictionOrder) -> SourceKind:
    return SourceKind.EXIT_BAN if order.kind is OrderKind.EXIT else SourceKind.CONSUMPTION_ORDER


def sync_order(
    session: Session, order: RestrictionOrder, *, clock: Clock, lift_reason: str = "lifted"
) -> None:
    """Make a standalone order's active restriction rows what the order demands now: one row per
    person it binds while it is active, none once it is lifted. Every change is appended to the
    change log (an upsert with the record, or a removal), as ``sync`` does for listings; a diff,
    so running it twice changes nothing."""
    if order.listing_id is not None:
        raise ValueError("a listing's consumption order is kept by sync(listing, order)")
    source_kind = order_source_kind(order)
    desired: dict[tuple, _Wanted] = {}
    if order.status is OrderStatus.ACTIVE:
        for person in order_people(order):
            key = (source_kind, order.id, person.role, person.hash)
            desired[key] = _Wanted(person, order.measures, order.issued_on)
    existing = session.scalars(
        select(Restriction)
        .where(Restriction.order_id == order.id, Restriction.is_active.is_(True))
        .order_by(Restriction.id)
    ).all()
    _reconcile(
        session, existing, desired, listing_id=None, court_id=order.court_id,
        record=lambda row: order_restriction_record(session, row, order), clock=clock,
        lift_reason=lift_reason,
    )  # fmt: skip


def order_restriction_record(session: Session, row: Restriction, order: RestrictionOrder) -> dict:
    """The feed's ``restriction`` record of a standalone order's row: the source is the order (its
    public id, its court, its case number), with no listing."""
    from blacklist.staff.models import Court

    return _row_record(
        row,
        restriction_source(
            kind=row.source_kind.value,
            listing_public_id=None,
            order_public_id=order.public_id,
            court_name=session.get(Court, order.court_id).name,
            case_number=order.case.case_number if order.case is not None else None,
        ),
    )

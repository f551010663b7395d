"""Read-only questions about restrictions in force, for the staff pages and the staff API (partner
checks, later, ask the projection their own way)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from blacklist.listing.models import Case, Listing
from blacklist.listing.rules import ListingStatus, RemovalKind
from blacklist.restrictions.models import OrderKind, OrderStatus, Restriction, RestrictionOrder
from blacklist.restrictions.projection import restriction_source
from blacklist.staff.models import Court

#: The columns ``source_of`` reads, labelled.
SOURCE_COLUMNS = (
    Restriction.source_kind.label("source_kind"),
    Listing.public_id.label("listing_public_id"),
    RestrictionOrder.public_id.label("order_public_id"),
    Court.name.label("court_name"),
    Case.case_number.label("case_number"),
)


def with_sources(*columns) -> Select:
    """``select(*columns)`` of projection rows with what names their source (listing or order,
    court, case number): outer joins, so standalone orders (no listing) are included, with the
    case number of their own case."""
    return (
        select(*columns, *SOURCE_COLUMNS)
        .select_from(Restriction)
        .join(Court, Court.id == Restriction.court_id)
        .outerjoin(Listing, Listing.id == Restriction.listing_id)
        .outerjoin(RestrictionOrder, RestrictionOrder.id == Restriction.order_id)
        # A listing's rows name the listing's case; a standalone order's rows its own case.
        .outerjoin(Case, Case.id == func.coalesce(Listing.case_id, RestrictionOrder.case_id))
    )


def source_of(row) -> dict:
    """API.md's ``source`` of a row selected with ``with_sources``."""
    return restriction_source(
        kind=str(row.source_kind),
        listing_public_id=row.listing_public_id,
        order_public_id=row.order_public_id,
        court_name=row.court_name,
        case_number=row.case_number,
    )


def active_for_listing(session: Session, listing_id: int) -> list[Restriction]:
    """The active restriction rows a listing gave rise to (its debtor's joint sanctions and the
    consumption order of everyone it binds), oldest first."""
    return list(
        session.scalars(
            select(Restriction)
            .where(Restriction.listing_id == listing_id, Restriction.is_active.is_(True))
            .order_by(Restriction.id)
        )
    )


def measures_in_force(session: Session, listing_ids: Iterable[int]) -> dict[int, int]:
    """Per listing, the union (bitmask) of the measures its active rows carry: one query for a page."""
    ids = list(listing_ids)
    masks: dict[int, int] = defaultdict(int)
    if ids:
        rows = session.execute(
            select(Restriction.listing_id, Restriction.measures).where(
                Restriction.listing_id.in_(ids), Restriction.is_active.is_(True)
            )
        )
        for listing_id, measures in rows:
            masks[listing_id] |= measures
    return masks


def orders_awaiting_decision(session: Session, court_id: int) -> list[RestrictionOrder]:
    """The court's listing-linked consumption orders still active although their listing was
    removed by the expiry of its term: expiry does not by itself lift a consumption order whose
    obligation is unperformed, the judge decides (DOMAIN.md §3). Oldest expiry first."""
    return list(
        session.scalars(
            select(RestrictionOrder)
            .join(Listing, Listing.id == RestrictionOrder.listing_id)
            .where(
                RestrictionOrder.court_id == court_id,
                RestrictionOrder.kind == OrderKind.CONSUMPTION,
                RestrictionOrder.status == OrderStatus.ACTIVE,
                Listing.status == ListingStatus.REMOVED,
                Listing.removal_kind == RemovalKind.EXPIRED,
            )
            .options(
                selectinload(RestrictionOrder.listing).selectinload(Listing.subject),
                selectinload(RestrictionOrder.listing).selectinload(Listing.case),
            )
            .order_by(Listing.removed_on, RestrictionOrder.id)
        )
    )


def rows_of_order(session: Session, order_id: int) -> list[Restriction]:
    """Every projection row an order gave rise to (active and lifted), oldest first."""
    return list(
        session.scalars(
            select(Restriction).where(Restriction.order_id == order_id).order_by(Restriction.id)
        )
    )


def order_subject_id():
    """The debtor of an order: its own (standalone) or its listing's."""
    return func.coalesce(RestrictionOrder.subject_id, Listing.subject_id)


def order_case_id():
    return func.coalesce(RestrictionOrder.case_id, Listing.case_id)

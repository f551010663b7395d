"""Read-only questions about restrictions in force, for the staff pages and the staff API (partner
checks, later, ask the projection their own way)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from blacklist.listing.models import Case, Listing
from blacklist.restrictions.models import Restriction, RestrictionOrder
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
    court, case number): outer joins, so standalone orders (no listing) are included."""
    return (
        select(*columns, *SOURCE_COLUMNS)
        .select_from(Restriction)
        .join(Court, Court.id == Restriction.court_id)
        .outerjoin(Listing, Listing.id == Restriction.listing_id)
        .outerjoin(Case, Case.id == Listing.case_id)
        .outerjoin(RestrictionOrder, RestrictionOrder.id == Restriction.order_id)
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

"""Read-only questions about restrictions in force, for the staff pages and the staff API (partner
checks, later, ask the projection their own way)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.restrictions.models import Restriction


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

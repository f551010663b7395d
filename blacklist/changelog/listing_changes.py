"""Listing-level items of the change log: a published listing's full record on publication,
correction, extension and performance; a removal when it leaves the list."""

from __future__ import annotations

from sqlalchemy.orm import Session

from blacklist.changelog import writer
from blacklist.changelog.models import ChangeAction, ChangeType
from blacklist.core.clock import Clock
from blacklist.events import ListingEvent, ListingRemoved
from blacklist.listing.records import listing_record
from blacklist.listing.rules import ListingStatus
from blacklist.restrictions.rules import listing_measures_mask


def listing_key(public_id: str) -> str:
    return f"listing:{public_id}"


def handle(session: Session, event: ListingEvent, *, clock: Clock) -> None:
    listing = event.listing
    mask = listing_measures_mask(listing.subject.kind)
    entity = ("listing", listing.id)
    key = listing_key(listing.public_id)
    if isinstance(event, ListingRemoved):
        if listing.published_on is not None:  # a listing never published was never sent
            writer.append(
                session,
                type=ChangeType.LISTING,
                action=ChangeAction.REMOVE,
                key=key,
                measures=mask,
                entity=entity,
                payload=None,
                clock=clock,
            )
    elif listing.status is ListingStatus.PUBLISHED:
        writer.append(
            session,
            type=ChangeType.LISTING,
            action=ChangeAction.UPSERT,
            key=key,
            measures=mask,
            entity=entity,
            payload=listing_record(listing),
            clock=clock,
        )

"""Listing events, handled synchronously in the same transaction (DESIGN.md §4).

Services emit an event after changing a listing; the handlers keep the restrictions projection and
the change log right. Nothing leaves the process here: partners are reached later from the change
log. Dispatch is explicit (no registry), so reading this file tells you everything that happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from blacklist.core.actor import Actor
from blacklist.core.clock import Clock

if TYPE_CHECKING:
    from blacklist.listing.models import Listing


@dataclass(frozen=True)
class ListingEvent:
    listing: Listing


@dataclass(frozen=True)
class ListingPublished(ListingEvent):
    """The listing went public (on approval, or when its grace period ended)."""


@dataclass(frozen=True)
class ListingCorrected(ListingEvent):
    """Data of an approved or published listing was corrected (Art. 9)."""


@dataclass(frozen=True)
class ListingExtended(ListingEvent):
    """The term was extended (Art. 2)."""


@dataclass(frozen=True)
class PerformanceRecorded(ListingEvent):
    """A payment was recorded; ``full`` when the obligation is now fully performed."""

    full: bool = False


@dataclass(frozen=True)
class ListingRemoved(ListingEvent):
    """Deleted, revoked or expired: off the public list and no longer a basis for sanctions."""


def emit(session: Session, event: ListingEvent, *, actor: Actor, clock: Clock) -> None:
    """Apply the event to the restrictions projection, then to the change log, then to the
    correction requests it carries out (Art. 12)."""
    from blacklist.changelog import listing_changes
    from blacklist.corrections import services as corrections
    from blacklist.restrictions import projection

    projection.handle(session, event, actor=actor, clock=clock)
    listing_changes.handle(session, event, clock=clock)
    corrections.on_listing_event(session, event, actor=actor, clock=clock)

"""Pure rules of restrictions (DOMAIN.md §3, SPC provisions on restricting high consumption, 2015)."""

from __future__ import annotations

from enum import StrEnum

from blacklist.listing.rules import ListingStatus, RemovalKind, SubjectKind
from blacklist.restrictions.catalogue import (
    CONSUMPTION_MEASURES,
    LISTING_MEASURES,
    ORGANISATION_LISTING_MEASURES,
    mask_of,
)


class OrderDecision(StrEnum):
    ISSUE = "issue"
    LIFT = "lift"
    KEEP = "keep"


def linked_order_decision(
    *,
    status: ListingStatus,
    removal_kind: RemovalKind | None,
    fully_performed: bool,
    has_order: bool,
    order_active: bool,
) -> OrderDecision:
    """What happens to the consumption order linked to a listing after a listing event.

    - Every listed debtor must be consumption-restricted: the order is issued at publication.
    - Full performance lifts it (mandatory, 2015 provisions Art. 9), whether or not the listing has
      a term and before its deletion is carried out.
    - Deletion and revocation take away its basis: lifted.
    - Expiry of the term does not by itself lift an order whose obligation is still unperformed:
      it stays for the judge to decide.
    """
    if fully_performed:
        return OrderDecision.LIFT if order_active else OrderDecision.KEEP
    if status is ListingStatus.PUBLISHED and not has_order:
        return OrderDecision.ISSUE
    if (
        status is ListingStatus.REMOVED
        and removal_kind in (RemovalKind.DELETED, RemovalKind.REVOKED)
        and order_active
    ):
        return OrderDecision.LIFT
    return OrderDecision.KEEP


def consumption_order_mask() -> int:
    """A consumption order restricts every measure of the 2015 provisions, Art. 3."""
    return mask_of(CONSUMPTION_MEASURES)


def listing_measures_mask(kind: SubjectKind) -> int:
    """Joint sanctions a published listing triggers for the debtor itself (发改财金〔2016〕141号);
    the ban on serving as a company officer binds natural persons only."""
    return mask_of(
        LISTING_MEASURES if kind is SubjectKind.PERSON else ORGANISATION_LISTING_MEASURES
    )

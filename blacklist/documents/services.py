"""Issuing documents: one register row per document, written in the caller's transaction.

(Skeleton: the real implementation replaces these no-ops; the signatures are the contract the
order and correction services call.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from blacklist.core.actor import Actor
from blacklist.core.clock import Clock
from blacklist.documents.models import Document, DocumentKind


def issue_for_listing(
    session: Session,
    kind: DocumentKind,
    listing,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
    reasons: str | None = None,
) -> Document | None:
    """Listing decision, deletion or revocation decision, deletion certificate."""
    return None


def issue_for_order(
    session: Session,
    kind: DocumentKind,
    order,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
    reasons: str | None = None,
) -> Document | None:
    """Consumption order, exit ban, or the lifting of either (``DocumentKind.ORDER_LIFTING``)."""
    return None


def issue_for_correction(
    session: Session,
    kind: DocumentKind,
    request,
    *,
    actor: Actor,
    clock: Clock,
    number: str | None = None,
) -> Document | None:
    """The correction decision (accept/reject) or the higher court's reconsideration decision."""
    return None

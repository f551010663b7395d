"""Reading the document register (DOMAIN.md §2, §6).

Staff see the documents of their own court; a correction request's documents are also seen by the
other court involved (the enforcing court and the next higher court that decides the
reconsideration, Art. 12). The public sees only deletion certificates, by their verification code
or by the listing's public id together with the debtor's own ID number.
"""

from __future__ import annotations

import hmac

from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from blacklist.core.actor import Actor
from blacklist.core.errors import ValidationFailed
from blacklist.core.identity import parse_identifier
from blacklist.db import vault_of
from blacklist.documents import rules
from blacklist.documents.models import Document, DocumentKind


def visible_condition(actor: Actor):
    """SQL condition: documents ``actor`` may see."""
    from blacklist.corrections.models import CorrectionRequest, Reconsideration

    if actor.is_system:
        return true()
    if actor.court_id is None:
        return false()
    court = actor.court_id
    related = select(CorrectionRequest.id).where(
        or_(
            CorrectionRequest.court_id == court,
            CorrectionRequest.id.in_(
                select(Reconsideration.request_id).where(Reconsideration.court_id == court)
            ),
        )
    )
    return or_(Document.court_id == court, Document.correction_id.in_(related))


def visible_document(session: Session, document_id: int, *, actor: Actor) -> Document | None:
    return session.scalar(
        select(Document)
        .options(selectinload(Document.court))
        .where(Document.id == document_id, visible_condition(actor))
    )


def documents_for(
    session: Session,
    *,
    listing_id: int | None = None,
    order_id: int | None = None,
    correction_id: int | None = None,
    actor: Actor | None = None,
) -> list[Document]:
    """The documents of a listing (its decisions, its certificate, and the documents of its
    orders and correction requests, which carry the listing), of an order, or of a correction
    request, oldest first; with ``actor``, only those the actor may see."""
    query = select(Document).options(selectinload(Document.court)).order_by(Document.id)
    if listing_id is None and order_id is None and correction_id is None:
        return []
    if listing_id is not None:
        query = query.where(Document.listing_id == listing_id)
    if order_id is not None:
        query = query.where(Document.order_id == order_id)
    if correction_id is not None:
        query = query.where(Document.correction_id == correction_id)
    if actor is not None:
        query = query.where(visible_condition(actor))
    return list(session.scalars(query))


def list_documents(
    session: Session,
    *,
    actor: Actor,
    listing_id: int | None = None,
    order_id: int | None = None,
    correction_reference: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Document], int]:
    """Documents the actor may see, newest first, filtered by listing, order or correction
    request (by its reference number)."""
    from blacklist.corrections.models import CorrectionRequest

    query = select(Document).where(visible_condition(actor))
    if listing_id is not None:
        query = query.where(Document.listing_id == listing_id)
    if order_id is not None:
        query = query.where(Document.order_id == order_id)
    if correction_reference:
        reference = "".join(correction_reference.split()).upper()
        query = query.where(
            Document.correction_id.in_(
                select(CorrectionRequest.id).where(CorrectionRequest.reference == reference)
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), 100)
    items = session.scalars(
        query.options(selectinload(Document.court))
        .order_by(Document.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def certificate_by_code(session: Session, raw_code: str | None) -> Document | None:
    """The deletion certificate with this verification code (any case, spaces or hyphens). Other
    documents' codes are not public: they are not found here."""
    code = rules.normalize_code(raw_code)
    if code is None:
        return None
    return session.scalar(
        select(Document)
        .options(selectinload(Document.court))
        .where(
            Document.verification_code == code,
            Document.kind == DocumentKind.DELETION_CERTIFICATE,
        )
    )


def certificate_for_debtor(
    session: Session, public_id: str | None, raw_identifier: str | None
) -> Document | None:
    """The latest certificate of the listing ``public_id``, if ``raw_identifier`` is the debtor's
    own ID number or credit code. Unknown id, wrong number and no certificate all give None (the
    caller shows one message, so nothing is revealed about which). A malformed number raises
    ``ValidationFailed`` (it says nothing about any listing)."""
    from blacklist.listing.models import Listing

    _kind, identifier = parse_identifier(raw_identifier or "", "id_number")
    public = "".join((public_id or "").split()).lower()
    if not public or len(public) > 32:
        raise ValidationFailed.on("public_id", "请填写名单编号")
    given = vault_of(session).hash(identifier)
    listing = session.scalar(
        select(Listing).options(selectinload(Listing.subject)).where(Listing.public_id == public)
    )
    if listing is None or not hmac.compare_digest(given, listing.subject.id_hash):
        return None
    return session.scalar(
        select(Document)
        .where(
            Document.listing_id == listing.id,
            Document.kind == DocumentKind.DELETION_CERTIFICATE,
        )
        .order_by(Document.id.desc())
        .limit(1)
    )

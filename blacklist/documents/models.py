"""The register of documents a court served (DOMAIN.md §2 Art. 5, Arts. 9–12; §3).

A row is written in the same transaction as the act it records (a listing signed, deleted or
revoked, an order issued or lifted, a correction decided), with ``content``: the facts the document
states, frozen at that moment. The PDF is rendered from that snapshot whenever it is downloaded, so
a later correction of the listing never rewrites a document already served, and re-rendering gives
the same text. Every document carries a verification code; a deletion certificate's code is what a
bank or an employer checks on the public verification page.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.db import Base, str_enum
from blacklist.staff.models import Court

_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_verification_code() -> str:
    """16 characters from an unambiguous alphabet (about 79 bits), grouped by four."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


class DocumentKind(StrEnum):
    LISTING_DECISION = "listing_decision"  # 纳入失信被执行人名单决定书
    DELETION_DECISION = "deletion_decision"  # 删除失信信息决定书
    REVOCATION_DECISION = "revocation_decision"  # 撤销失信信息决定书
    CONSUMPTION_ORDER = "consumption_order"  # 限制消费令
    EXIT_BAN = "exit_ban"  # 限制出境决定书
    ORDER_LIFTING = "order_lifting"  # 解除限制消费令 / 解除限制出境决定书
    CORRECTION_DECISION = "correction_decision"  # 纠正申请审查决定书
    RECONSIDERATION_DECISION = "reconsideration_decision"  # 复议决定书
    DELETION_CERTIFICATE = "deletion_certificate"  # 失信信息删除证明 (public, verifiable)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, 32))
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), index=True)
    #: The document number (文号) printed on it.
    number: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date]
    verification_code: Mapped[str] = mapped_column(
        String(32), unique=True, default=new_verification_code
    )
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("restriction_orders.id"), index=True)
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("correction_requests.id"), index=True
    )
    #: The facts the document states, frozen when it was issued (masked identifiers only).
    content: Mapped[dict] = mapped_column(JSON)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]

    court: Mapped[Court] = relationship()

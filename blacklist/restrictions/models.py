"""Restriction orders and the effective-restrictions projection (DESIGN.md §5).

The projection holds one row per (person, source, role) with the measures as a bitmask (bits from
``catalogue``), rather than one row per measure: at ten million listings that is ~12 million rows
instead of ~150 million, and a partner check is still one index lookup on ``person_hash``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.db import Base, str_enum
from blacklist.listing.models import Case, Listing, Subject, new_public_id
from blacklist.listing.rules import PersonRole, SubjectKind


class OrderKind(StrEnum):
    CONSUMPTION = "consumption"  # 限制消费令
    EXIT = "exit"  # 限制出境


class OrderStatus(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


class SourceKind(StrEnum):
    """Where a restriction comes from (API.md: ``source.kind``)."""

    LISTING = "listing"
    CONSUMPTION_ORDER = "consumption_order"
    EXIT_BAN = "exit_ban"


class RestrictionOrder(Base):
    """A consumption restriction order or an exit ban. Every published listing carries one
    consumption order (2015 provisions: every listed debtor must be consumption-restricted);
    standalone orders have no listing and carry their own debtor (``subject``) and case.

    An exit ban binds natural persons only (Civil Procedure Law Art. 266): for an organisation's
    debt it names the person barred (``subject``, a person) with ``person_role`` and the
    organisation (``organisation_name``/``organisation_code``) on whose behalf they are barred."""

    __tablename__ = "restriction_orders"
    __table_args__ = (Index("ix_restriction_orders_court_status", "court_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind))
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), index=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"), index=True)
    #: Standalone orders: the debtor (with the people an organisation's order binds) and the case.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: Exit bans for an organisation's debt: the barred person's role and the organisation.
    person_role: Mapped[PersonRole | None] = mapped_column(str_enum(PersonRole))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    organisation_code: Mapped[str | None] = mapped_column(String(32))
    measures: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    #: The order's document number (限制消费令/限制出境决定书文号) and the judge's reasons.
    decision_number: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[date]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    lifted_on: Mapped[date | None]
    lift_reason: Mapped[str | None] = mapped_column(String(64))
    lift_note: Mapped[str | None] = mapped_column(Text)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    listing: Mapped[Listing | None] = relationship()
    subject: Mapped[Subject | None] = relationship()
    case: Mapped[Case | None] = relationship()


class Restriction(Base):
    """The projection: a person (or organisation) bound by measures from one source, in one role.
    Kept right by every listing event in the same transaction; lifted rows stay for history."""

    __tablename__ = "restrictions"
    __table_args__ = (
        Index("ix_restrictions_person_hash_is_active", "person_hash", "is_active"),
        Index("ix_restrictions_listing_id", "listing_id"),
        Index("ix_restrictions_order_id", "order_id"),
        # The restricted-people search by name, newest first, straight from the index.
        Index(
            "ix_restrictions_person_name_key_is_active",
            "person_name_key",
            "is_active",
            "since",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("restriction_orders.id"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"))
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole))
    person_kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind))
    person_name: Mapped[str] = mapped_column(String(200))
    #: Search key of the name (``core.names.normalize_name``) for the public restricted-people page.
    person_name_key: Mapped[str] = mapped_column(String(200), default="")
    person_hash: Mapped[str] = mapped_column(String(64))
    person_cipher: Mapped[str] = mapped_column(Text)
    person_masked: Mapped[str] = mapped_column(String(32))
    measures: Mapped[int] = mapped_column(BigInteger)
    since: Mapped[date]
    is_active: Mapped[bool] = mapped_column(default=True)
    lifted_on: Mapped[date | None]
    #: The instant it was lifted: a partner's hit hours after a same-day lifting is not in force.
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(String(64))

    order: Mapped[RestrictionOrder | None] = relationship()
    listing: Mapped[Listing | None] = relationship()

    @property
    def key(self) -> str:
        """Identifies this restriction across its upserts and its removal in the change log."""
        return f"restriction:{self.id}"

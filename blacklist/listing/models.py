"""Tables of the list: subjects (the debtor and the people bound with an organisation), cases,
listings and performances (DESIGN.md §5).

Identifiers are stored three ways and never in the clear (DOMAIN.md §6, PIPL): ``id_hash`` (keyed
HMAC, the lookup index), ``id_cipher`` (AES-GCM, for partners who need the full number) and
``id_masked`` (for display). A subject belongs to one listing: a correction of one listing's data
(Art. 9) never silently changes another court's record.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.db import Base, str_enum
from blacklist.listing.rules import (
    DeletionReason,
    Ground,
    ListingStatus,
    PerformanceStatus,
    PersonRole,
    RemovalKind,
    SubjectKind,
    summarize_performance,
)
from blacklist.staff.models import Court, StaffUser


def new_public_id() -> str:
    """An opaque public id (80 random bits, base32): not the primary key, not enumerable."""
    import base64

    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


class Subject(Base):
    """The debtor of one listing: a natural person or an organisation (Art. 6 fields)."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_cipher: Mapped[str] = mapped_column(Text)
    id_masked: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[date | None]

    bound_persons: Mapped[list[BoundPerson]] = relationship(
        back_populates="subject",
        cascade="all, delete-orphan",
        order_by="BoundPerson.id",
    )

    @property
    def legal_representative(self) -> BoundPerson | None:
        return next(
            (p for p in self.bound_persons if p.role is PersonRole.LEGAL_REPRESENTATIVE), None
        )


class BoundPerson(Base):
    """A person bound by an organisation's listing (DOMAIN.md §3): legal representative, principal,
    person directly responsible, actual controller."""

    __tablename__ = "bound_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Indexed: every load of an organisation's listing reads its bound persons by subject.
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_cipher: Mapped[str] = mapped_column(Text)
    id_masked: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[date | None]

    subject: Mapped[Subject] = relationship(back_populates="bound_persons")


class Case(Base):
    """An enforcement case (执行案件) and its enforcement basis (执行依据), as one listing records it.
    Several debtors of one case each have their own listing and their own copy of the case data, so
    correcting one listing (Art. 9) never changes another's published record."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(100))
    case_number_key: Mapped[str] = mapped_column(String(100), index=True)
    filed_on: Mapped[date]
    basis_document_number: Mapped[str] = mapped_column(String(100))
    basis_issuer: Mapped[str] = mapped_column(String(200))
    obligation: Mapped[str] = mapped_column(Text)
    amount_due: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    created_at: Mapped[datetime]

    court: Mapped[Court] = relationship()


class Listing(Base):
    """One entry of the list, from draft to removal (Arts. 2, 5, 9, 10)."""

    __tablename__ = "listings"
    __table_args__ = (
        Index("ix_listings_court_status", "court_id", "status"),
        Index("ix_listings_status_publish_on", "status", "publish_on"),
        Index("ix_listings_status_deletion_due_on", "status", "deletion_due_on"),
        Index("ix_listings_status_ends_on", "status", "ends_on"),
        Index("ix_listings_status_published_on", "status", "published_on"),
        Index("ix_listings_removed_on", "removed_on"),
        # The public search by exact name: the newest published listings of a name straight from
        # the index, however common the name (issue #8: 王伟 has ~2,000 listings at 10 million).
        Index(
            "ix_listings_status_name_key_published_on", "status", "name_key", "published_on", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), unique=True)
    #: The subject's ``name_key``, copied here for the name search's index (kept equal by the
    #: services that set the subject: ``create_draft``, ``_apply_patch``).
    name_key: Mapped[str] = mapped_column(String(200), default="")
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus))
    grounds: Mapped[list[str]] = mapped_column(JSON)
    exemptions: Mapped[dict] = mapped_column(JSON)
    grace_days: Mapped[int] = mapped_column(default=0)
    #: Art. 5: the creditor applied (rather than the court acting on its own authority).
    by_creditor: Mapped[bool] = mapped_column(default=False)
    #: Internal, never published (Art. 6): used for the six-month re-listing bar of Art. 10.
    creditor_name: Mapped[str | None] = mapped_column(String(200))
    creditor_key: Mapped[str | None] = mapped_column(String(200), index=True)
    applied_on: Mapped[date | None]
    decision_number: Mapped[str | None] = mapped_column(String(100))
    decided_on: Mapped[date | None]
    publish_on: Mapped[date | None]
    published_on: Mapped[date | None]
    extension_years: Mapped[int] = mapped_column(default=0)
    ends_on: Mapped[date | None]
    deletion_due_on: Mapped[date | None]
    deletion_due_reason: Mapped[DeletionReason | None] = mapped_column(str_enum(DeletionReason))
    #: A termed listing fully performed: early deletion is proposed to the judge (Art. 2).
    early_deletion_proposed: Mapped[bool] = mapped_column(default=False)
    removal_kind: Mapped[RemovalKind | None] = mapped_column(str_enum(RemovalKind))
    removal_reason: Mapped[str | None] = mapped_column(String(64))
    removal_note: Mapped[str | None] = mapped_column(Text)
    removed_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    court: Mapped[Court] = relationship()
    subject: Mapped[Subject] = relationship()
    case: Mapped[Case] = relationship()
    performances: Mapped[list[Performance]] = relationship(
        back_populates="listing", order_by="Performance.id", cascade="all, delete-orphan"
    )
    created_by: Mapped[StaffUser | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[StaffUser | None] = relationship(foreign_keys=[approved_by_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def ground_set(self) -> frozenset[Ground]:
        return frozenset(Ground(g) for g in self.grounds)

    @property
    def has_term(self) -> bool:
        from blacklist.listing.rules import term_years

        return term_years(self.ground_set) is not None

    @property
    def performance(self):
        return summarize_performance(
            self.case.amount_due, [(p.amount, p.full) for p in self.performances]
        )

    @property
    def is_fully_performed(self) -> bool:
        return self.performance.status is PerformanceStatus.FULL


class Performance(Base):
    """A payment or other performance recorded by the court (履行)."""

    __tablename__ = "performances"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    performed_on: Mapped[date]
    full: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    recorded_at: Mapped[datetime]

    listing: Mapped[Listing] = relationship(back_populates="performances")

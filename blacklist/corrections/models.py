"""Tables of correction requests (Arts. 11–12): the request a listed person files on the public
form, its attachments, the court's review, and the reconsideration (复议) by the next higher court.

The applicant's ID number is kept only as the vault's keyed hash (``applicant_hash``): enough to
check that a later reconsideration request comes from the same person, never readable back.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.db import Base, str_enum
from blacklist.listing.models import Listing
from blacklist.staff.models import Court, StaffUser

#: Reference numbers avoid letters and digits people confuse when reading them aloud (0/O, 1/I/L).
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    """A reference number the applicant follows the request with: ``JZ`` and 16 random characters
    (about 79 bits), grouped for reading, e.g. ``JZ-7K3M-Q9TX-4RPW-2HCN``. Not enumerable."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(16))
    return "JZ-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


class CorrectionGround(StrEnum):
    """Art. 11: why the listed person says the entry is wrong."""

    SHOULD_NOT_BE_LISTED = "should_not_be_listed"  # 不应纳入失信被执行人名单
    INACCURATE_DATA = "inaccurate_data"  # 记载和公布的失信信息不准确
    SHOULD_HAVE_BEEN_DELETED = "should_have_been_deleted"  # 失信信息应予删除


class CorrectionStatus(StrEnum):
    RECEIVED = "received"  # waiting for the court's review (15 days)
    ACCEPTED = "accepted"  # well-founded: the remedy is due within 3 working days
    CARRIED_OUT = "carried_out"  # the listing was corrected, revoked or deleted
    REJECTED = "rejected"  # rejected by decision; reconsideration possible within 10 days
    UNDER_RECONSIDERATION = "under_reconsideration"  # the higher court decides within 15 days
    REJECTION_UPHELD = "rejection_upheld"  # final


class Remedy(StrEnum):
    """What an accepted request leads to (Art. 12 with Art. 9/10)."""

    CORRECT = "correct"  # 更正
    REVOKE = "revoke"  # 撤销
    DELETE = "delete"  # 删除


class ReconsiderationOutcome(StrEnum):
    UPHELD = "upheld"  # the rejection stands (驳回复议申请)
    OVERTURNED = "overturned"  # the lower court must correct/revoke/delete (撤销原决定)


class CorrectionRequest(Base):
    __tablename__ = "correction_requests"
    __table_args__ = (
        Index("ix_correction_requests_court_status", "court_id", "status"),
        Index("ix_correction_requests_status_review_due_on", "status", "review_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True, default=new_reference)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    #: The enforcing court that reviews it (the listing's court).
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"))
    ground: Mapped[CorrectionGround] = mapped_column(str_enum(CorrectionGround))
    explanation: Mapped[str] = mapped_column(Text)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_hash: Mapped[str] = mapped_column(String(64))
    #: How the court can reach the applicant to serve its decision (optional, never published).
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[CorrectionStatus] = mapped_column(str_enum(CorrectionStatus))
    submitted_at: Mapped[datetime]
    submitted_on: Mapped[date]
    #: Art. 12: the court reviews within 15 days.
    review_due_on: Mapped[date]
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    remedy: Mapped[Remedy | None] = mapped_column(str_enum(Remedy))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    #: Accepted: the remedy is carried out within 3 working days (Art. 12 with Art. 9).
    carry_out_due_on: Mapped[date | None]
    carried_out_on: Mapped[date | None]
    carried_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    carried_out_note: Mapped[str | None] = mapped_column(Text)
    #: Rejected: the day the decision reached the applicant (送达): when the applicant first opens
    #: it on the status page, or files for reconsideration. The 10 days of Art. 12 run from it.
    served_on: Mapped[date | None]
    #: Rejected and served: the last day the applicant may ask the higher court for reconsideration.
    reconsideration_until: Mapped[date | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    listing: Mapped[Listing] = relationship()
    court: Mapped[Court] = relationship()
    decided_by: Mapped[StaffUser | None] = relationship(foreign_keys=[decided_by_id])
    attachments: Mapped[list[CorrectionAttachment]] = relationship(
        back_populates="request", order_by="CorrectionAttachment.id", cascade="all, delete-orphan"
    )
    reconsideration: Mapped[Reconsideration | None] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CorrectionAttachment(Base):
    """A document the applicant attached (PDF or JPEG, type-checked by content, size-limited).
    Stored in the database with the request, so it is committed or refused together with it."""

    __tablename__ = "correction_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("correction_requests.id", ondelete="CASCADE"), index=True
    )
    #: "application" or "reconsideration": which filing it came with.
    stage: Mapped[str] = mapped_column(String(20), default="application")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]

    request: Mapped[CorrectionRequest] = relationship(back_populates="attachments")


class Reconsideration(Base):
    """Art. 12: the applicant's request to the next higher court, and its decision."""

    __tablename__ = "reconsiderations"
    __table_args__ = (Index("ix_reconsiderations_court_decided_on", "court_id", "decided_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("correction_requests.id", ondelete="CASCADE"), unique=True
    )
    #: The next higher court, which decides.
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"))
    applicant_reasons: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    submitted_on: Mapped[date]
    #: The higher court decides within 15 days.
    decision_due_on: Mapped[date]
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    outcome: Mapped[ReconsiderationOutcome | None] = mapped_column(str_enum(ReconsiderationOutcome))
    remedy: Mapped[Remedy | None] = mapped_column(str_enum(Remedy))
    decision_reasons: Mapped[str | None] = mapped_column(Text)

    request: Mapped[CorrectionRequest] = relationship(back_populates="reconsideration")
    court: Mapped[Court] = relationship()
    decided_by: Mapped[StaffUser | None] = relationship(foreign_keys=[decided_by_id])

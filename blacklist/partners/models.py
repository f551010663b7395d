"""Partners, their API keys, the push cursor, the delivery attempts log, acknowledgements and hits.

The push state lives in its own row (``push_cursors``), not on ``partners``: a push worker holds
that row locked while it posts a batch (PostgreSQL ``FOR UPDATE``), and a partner's ack or an
administrator's edit of the partner must not wait for a slow webhook.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.db import Base, str_enum
from blacklist.partners.rules import Scope

#: A 64-bit key that SQLite still auto-increments (only INTEGER PRIMARY KEY does there).
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Partner(Base):
    """A partner agency (DOMAIN.md §4). ``measures`` is a bitmask of the catalogue's measures it
    enforces; it receives a change only if the change's measures intersect it. The webhook signing
    secret must be usable to sign, so it is stored encrypted (identity vault), never in the clear."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    measures: Mapped[int] = mapped_column(BigInteger)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope, 16))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    secret_cipher: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Cumulative acknowledgement: the partner applied every relevant change up to this seq.
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    keys: Mapped[list[PartnerKey]] = relationship(
        back_populates="partner", order_by="PartnerKey.id"
    )
    cursor: Mapped[PushCursor | None] = relationship(back_populates="partner", uselist=False)


class PartnerKey(Base):
    """An API key of a partner. Only its SHA-256 is stored (256 random bits: a fast hash suffices);
    ``prefix`` (the first characters) lets people tell keys apart. Several may be active at once so a
    partner can rotate without downtime."""

    __tablename__ = "partner_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="keys")


class PushCursor(Base):
    """Where the push to one partner stands: everything relevant up to ``pushed_seq`` was accepted
    (2xx). A batch being sent is fixed before it is sent (``batch_id``, its seq range) so that a
    retry, by this worker or another after a crash, sends the same batch under the same
    ``webhook-id``. ``failures`` counts consecutive failed attempts (the back-off step)."""

    __tablename__ = "push_cursors"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    pushed_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    batch_last_seq: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    #: SQLite only: a worker's claim while it posts outside any transaction (PostgreSQL holds the
    #: row lock instead).
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    partner: Mapped[Partner] = relationship(back_populates="cursor")


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryAttempt(Base):
    """One POST of a batch to a partner's webhook (the attempts log, DOMAIN.md §8)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_partner_id_id", "partner_id", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    webhook_id: Mapped[str] = mapped_column(String(64))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int]
    attempt: Mapped[int]
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    outcome: Mapped[DeliveryOutcome] = mapped_column(str_enum(DeliveryOutcome, 16))
    error: Mapped[str | None] = mapped_column(String(500))


class PartnerAck(Base):
    """Each time a partner's cumulative acknowledgement moved forward: the proof of when each
    removal reached it (the first ack at or beyond the removal's seq)."""

    __tablename__ = "partner_acks"
    __table_args__ = (Index("ix_partner_acks_partner_id_seq", "partner_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    acked_at: Mapped[datetime]


class Hit(Base):
    """A sanction a partner applied (a refused ticket, a rejected bid): the feedback of
    trigger → response → feedback (DOMAIN.md §4). ``in_force`` says whether a restriction with the
    measure bound the person when it happened; a hit after the lifting is a partner's error that
    staff must see."""

    __tablename__ = "hits"
    __table_args__ = (
        UniqueConstraint("partner_id", "reference"),
        Index("ix_hits_measure_occurred_at", "measure", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    #: The partner's own id of the event, so a retried report is not counted twice.
    reference: Mapped[str | None] = mapped_column(String(64))
    measure: Mapped[str] = mapped_column(String(32))
    person_hash: Mapped[str] = mapped_column(String(64), index=True)
    person_masked: Mapped[str] = mapped_column(String(32))
    restriction_id: Mapped[int | None] = mapped_column(ForeignKey("restrictions.id"))
    in_force: Mapped[bool]
    occurred_at: Mapped[datetime]
    reported_at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(String(500), default="")

    partner: Mapped[Partner] = relationship()

"""The ``changes`` table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from blacklist.db import Base, str_enum


class ChangeType(StrEnum):
    LISTING = "listing"
    RESTRICTION = "restriction"


class ChangeAction(StrEnum):
    UPSERT = "upsert"
    REMOVE = "remove"


class Change(Base):
    """One item of the change log. ``seq`` is assigned under the journal lock, so it is gap-free and
    commit-ordered. ``payload`` is the full record at that moment (identifiers encrypted), scrubbed
    to NULL once a removal of the same key supersedes it. ``measures`` is the bitmask partners'
    subscriptions are matched against."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_key_seq", "key", "seq"),
        # Removals a partner has not acknowledged yet (the acks deadline, DESIGN.md §6).
        Index("ix_changes_action_seq", "action", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[ChangeType] = mapped_column(str_enum(ChangeType, 16))
    action: Mapped[ChangeAction] = mapped_column(str_enum(ChangeAction, 16))
    key: Mapped[str] = mapped_column(String(64))
    measures: Mapped[int] = mapped_column(BigInteger)
    entity_kind: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(index=True)

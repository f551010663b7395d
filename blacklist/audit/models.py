"""The audit journal (DOMAIN.md §8, 全程留痕): one row per act, append-only and hash-chained.

Each entry's ``hash`` covers its content and the previous entry's hash (``prev_hash``), so altering
or deleting a row breaks the chain where it happened; ``services.verify`` finds it. Order is ``seq``
order: writers hold the journal lock (``blacklist.db.lock_journal``) from reading the last hash
until commit, so ``seq`` order, commit order and chain order are the same.

The ORM refuses to update or delete an entry (listeners below). That stops mistakes in our own code,
not an attacker with SQL access; the hash chain is what makes tampering evident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from blacklist.db import Base

GENESIS_HASH = "0" * 64


class AppendOnlyViolation(RuntimeError):
    """Code tried to change or remove an audit entry: a programming error, never shown to users."""


class AuditEntry(Base):
    """One act: who (a named person, Art. 13), when, what, on which record, what changed and why."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_kind", "entity_id"),
        Index("ix_audit_entries_court_seq", "court_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100))
    #: The actor's court (for court-scoped views of the log); no foreign key: the log outlives rows.
    court_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_kind: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.action} {self.entity_kind}:{self.entity_id}>"


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Mapper, _connection: Any, target: AuditEntry) -> None:
    raise AppendOnlyViolation(f"audit entry {target.seq} is append-only: it cannot be updated")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Mapper, _connection: Any, target: AuditEntry) -> None:
    raise AppendOnlyViolation(f"audit entry {target.seq} is append-only: it cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """``session.execute(update(AuditEntry)…)`` / ``delete(AuditEntry)`` bypass the mapper events
    above; refuse them here. Raw SQL text is not an ORM statement and is not seen (tests use it to
    simulate tampering)."""
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEntry for mapper in state.all_mappers
    ):
        raise AppendOnlyViolation("audit entries are append-only: bulk update/delete refused")

"""Appending to the change log.

Payload convention: identifiers are never stored in the clear. Wherever a record carries an
identifier it is under the key ``id_cipher`` (the identity vault's token); the partner feed decrypts
it into ``id_number`` for partners whose measures need it (DOMAIN.md §6).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from blacklist.changelog.models import Change, ChangeAction, ChangeType
from blacklist.core.clock import Clock
from blacklist.db import lock_journal


def append(
    session: Session,
    *,
    type: ChangeType,
    action: ChangeAction,
    key: str,
    measures: int,
    entity: tuple[str, int],
    payload: dict[str, Any] | None,
    clock: Clock,
) -> Change:
    """Append one change with the next ``seq``.

    The journal lock is held until the transaction commits, so seqs are gap-free and commit order
    equals seq order even with concurrent writers on PostgreSQL: a reader that has seen seq N never
    later finds a newly committed seq below N. A removal scrubs the payloads of the same key's earlier
    changes: once a record is off the list, its personal data stays only in the list tables.
    """
    lock_journal(session)
    if action is ChangeAction.UPSERT:
        _narrow(session, key=key, measures=measures, entity=entity, type=type, clock=clock)
    last = session.scalar(select(func.max(Change.seq))) or 0
    change = Change(
        seq=last + 1,
        type=type,
        action=action,
        key=key,
        measures=measures,
        entity_kind=entity[0],
        entity_id=entity[1],
        payload=payload if action is ChangeAction.UPSERT else None,
        created_at=clock.now(),
    )
    session.add(change)
    session.flush()
    if action is ChangeAction.REMOVE:
        session.execute(
            update(Change)
            .where(Change.key == key, Change.seq < change.seq, Change.payload.is_not(None))
            .values(payload=None)
            .execution_options(synchronize_session=False)
        )
    return change


def _narrow(
    session: Session, *, key: str, measures: int, entity: tuple[str, int], type: ChangeType,
    clock: Clock,
) -> None:  # fmt: skip
    """When a record keeps its key but loses measures (a correction turns a listed person into an
    organisation: no more officer ban), partners holding only the lost measures would never hear of
    it again. They get a removal carrying the lost measures first; partners holding other measures
    too get the removal and then the new upsert."""
    previous = session.execute(
        select(Change.action, Change.measures)
        .where(Change.key == key)
        .order_by(Change.seq.desc())
        .limit(1)
    ).first()
    if previous is None or previous.action is not ChangeAction.UPSERT:
        return
    lost = previous.measures & ~measures
    if lost:
        append(
            session, type=type, action=ChangeAction.REMOVE, key=key, measures=lost,
            entity=entity, payload=None, clock=clock,
        )  # fmt: skip


def last_seq(session: Session) -> int:
    return session.scalar(select(func.max(Change.seq))) or 0

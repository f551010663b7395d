"""Writing and checking the audit journal (DOMAIN.md §8; Art. 13: every act attributable to a named
member of staff).

``record`` is called by every service that changes something, inside the service's transaction: the
entry commits or rolls back with the act it describes. ``verify`` walks the whole chain and reports
the first entry that was altered or whose predecessor was removed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.audit.models import GENESIS_HASH, AuditEntry
from blacklist.core.actor import Actor
from blacklist.core.clock import Clock
from blacklist.db import lock_journal

#: Rows read per round trip by ``verify``: memory stays flat however long the chain is.
VERIFY_BATCH = 1000

#: The fields an entry's hash covers, in no particular order (the JSON is key-sorted). ``seq`` is
#: not among them: it is assigned by the database on insert, after the hash is computed.
HASHED_FIELDS = (
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "court_id",
    "action",
    "entity_kind",
    "entity_id",
    "before",
    "after",
    "reason",
    "ip",
    "prev_hash",
)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data that survives a round trip through a JSON column unchanged:
    dates and datetimes as ISO 8601 (datetimes in UTC with microseconds), ``Decimal`` as a string
    (exact), enums by value, sets as sorted lists, tuples as lists, mapping keys as strings.
    Anything else is a programming error and raises ``TypeError``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=canonical_json)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot record {type(value).__name__} in the audit log: {value!r}")


def _key(key: Any) -> str:
    converted = jsonable(key)
    return converted if isinstance(converted, str) else canonical_json(converted)


def canonical_json(value: Any) -> str:
    """The one serialization hashes are computed over: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's ``HASHED_FIELDS``, ``prev_hash`` included,
    so each hash seals the whole chain before it."""
    content = {name: jsonable(fields[name]) for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: tuple[str, int | str] | None,
    *,
    clock: Clock,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry for an act ``actor`` just did: ``action`` like ``"listing.approved"``,
    ``entity`` as ``("listing", 42)`` (or ``None`` for acts on nothing in particular, e.g. a login
    failure), ``before``/``after`` the changed fields, ``reason`` the stated ground.

    Never pass a full ID number (or anything else the public must not see) in ``before``/``after``
    or ``reason``: the log is kept forever and read by auditors; use the masked form or the
    subject's id.

    Takes the journal lock until the transaction ends (so concurrent writers chain one after the
    other), adds and flushes the entry; it does not commit: the calling service owns the
    transaction, and the entry stands or falls with the act.
    """
    lock_journal(session)
    prev_hash = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1))
    fields: dict[str, Any] = {
        "at": clock.now().astimezone(UTC),
        "actor_kind": str(actor.kind),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "court_id": actor.court_id,
        "action": action,
        "entity_kind": entity[0] if entity else None,
        "entity_id": str(entity[1]) if entity else None,
        "before": jsonable(dict(before)) if before is not None else None,
        "after": jsonable(dict(after)) if after is not None else None,
        "reason": reason,
        "ip": actor.ip,
        "prev_hash": prev_hash or GENESIS_HASH,
    }
    entry = AuditEntry(**fields, hash=entry_hash(fields))
    session.add(entry)
    session.flush()
    return entry


def history(session: Session, entity_kind: str, entity_id: int | str) -> list[AuditEntry]:
    """Every entry about one record, oldest first: a deleted listing keeps its full history."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_kind == entity_kind, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.seq)
        )
    )


def recent(session: Session, *, court_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """The latest entries, newest first; with ``court_id``, only acts by that court's staff."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if court_id is not None:
        query = query.where(AuditEntry.court_id == court_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify``. ``message`` is one English sentence for operators.
    ``last_seq``/``last_hash`` name the head of the chain: a chain cut off at its end still
    verifies, so keep the head somewhere else (the nightly job logs it) and compare."""

    ok: bool
    checked: int
    first_broken_seq: int | None
    message: str
    last_seq: int | None = None
    last_hash: str | None = None


def verify(session: Session) -> VerifyResult:
    """Walk the chain in ``seq`` order, recompute every hash and check every link. Reports the
    first entry whose content was altered (its hash no longer matches), or whose ``prev_hash`` does
    not name the entry before it (that entry was deleted, or the link was rewritten).

    Reads plain rows in keyset-paginated batches of ``VERIFY_BATCH``, so millions of entries take
    constant memory. Gaps in ``seq`` are normal (a rolled-back insert still uses a sequence value);
    only the hash links count.
    """
    table = AuditEntry.__table__
    checked = 0
    last_seq = 0
    expected_prev = GENESIS_HASH
    while True:
        rows = session.execute(
            select(*table.c).where(table.c.seq > last_seq).order_by(table.c.seq).limit(VERIFY_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            fields = row._mapping
            seq = fields["seq"]
            problem = _problem(fields, expected_prev, previous_seq=last_seq or None)
            if problem:
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    first_broken_seq=seq,
                    message=f"audit chain BROKEN at seq {seq}: {problem}",
                    last_seq=last_seq or None,
                    last_hash=None if expected_prev == GENESIS_HASH else expected_prev,
                )
            checked += 1
            last_seq = seq
            expected_prev = fields["hash"]
    return VerifyResult(
        ok=True,
        checked=checked,
        first_broken_seq=None,
        message=f"audit chain intact: {checked} entries",
        last_seq=last_seq or None,
        last_hash=None if checked == 0 else expected_prev,
    )


def _problem(fields: Mapping[str, Any], expected_prev: str, *, previous_seq: int | None) -> str:
    if fields["prev_hash"] != expected_prev:
        if previous_seq is None:
            return "the first entry does not start the chain (earlier entries were deleted)"
        return (
            f"it does not follow entry {previous_seq} (an entry between them was deleted, "
            "or a hash was rewritten)"
        )
    if entry_hash(fields) != fields["hash"]:
        return "its content was altered (the stored hash does not match)"
    return ""

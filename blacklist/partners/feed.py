"""The pull side (API.md, DESIGN.md §6): the feed of changes relevant to a partner, and the snapshot
of everything currently in force for it. Both cut every record with ``rules.partner_record``, so a
partner's copy built from a snapshot plus the feed after its seq equals one built from the feed
alone.

Feed pages are bounded twice: by ``limit`` items, and by ``SCAN_WINDOW`` seqs of the log (seqs are
gap-free), so a partner with rare measures never makes one request scan the whole log; it simply
gets ``has_more`` and follows ``next_after``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from blacklist.changelog.models import Change, ChangeAction
from blacklist.changelog.writer import last_seq
from blacklist.core.errors import Gone, ValidationFailed
from blacklist.db import vault_of
from blacklist.listing.models import Listing, Subject
from blacklist.listing.records import listing_record
from blacklist.listing.rules import ListingStatus
from blacklist.partners import rules
from blacklist.partners.models import Partner
from blacklist.restrictions.models import Restriction
from blacklist.restrictions.projection import build_restriction_record
from blacklist.restrictions.queries import source_of, with_sources
from blacklist.restrictions.rules import listing_measures_mask

SCAN_WINDOW = 50_000


@dataclass(frozen=True)
class Subscription:
    """What a partner receives: plain values, so a worker can hold it without an ORM object."""

    partner_id: int
    code: str
    measures: int
    scope: rules.Scope

    @classmethod
    def of(cls, partner: Partner) -> Subscription:
        return cls(partner.id, partner.code, partner.measures, partner.scope)


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    next_after: int
    has_more: bool


def oldest_retained_seq(session: Session) -> int:
    """The oldest seq still in the log (0 when the log is empty)."""
    return session.scalar(select(func.min(Change.seq))) or 0


def check_cursor(session: Session, after: int, head: int) -> None:
    """A cursor must be a seq the partner could have seen, and not older than what is kept."""
    if after < 0:
        raise ValidationFailed.on("after", "after 不能为负数")
    if after > head:
        raise ValidationFailed.on("after", f"after {after} 超出最新的变更序号 {head}")
    oldest = oldest_retained_seq(session)
    if oldest and after < oldest - 1:
        raise Gone(
            f"after {after} 早于变更日志的保留范围（最早保留序号 {oldest}）：请重新获取全量快照",
            {"after": [f"最早可用的 after 为 {oldest - 1}"]},
        )


def changes_for(
    session: Session, sub: Subscription, *, after: int, upto: int, limit: int
) -> list[dict[str, Any]]:
    """The partner's feed items with ``after < seq <= upto``, in seq order, at most ``limit``.
    An upsert whose payload a later removal scrubbed is left out (the removal follows)."""
    rows = session.execute(
        select(Change.seq, Change.type, Change.action, Change.key, Change.measures, Change.payload)
        .where(
            Change.seq > after,
            Change.seq <= upto,
            Change.type.in_(sub.scope.types),
            Change.measures.op("&")(sub.measures) != 0,
            or_(Change.action == ChangeAction.REMOVE, Change.payload.is_not(None)),
        )
        .order_by(Change.seq)
        .limit(limit)
    ).all()
    decrypt = vault_of(session).decrypt
    return [
        {
            "seq": seq,
            "type": str(type_),
            "action": str(action),
            "key": key,
            "record": None
            if payload is None
            else rules.partner_record(str(type_), payload, measures, sub.measures, decrypt),
        }
        for seq, type_, action, key, measures, payload in rows
    ]


def feed_page(session: Session, sub: Subscription, *, after: int, limit: int) -> FeedPage:
    """One page of the feed after ``after`` (API.md). ``next_after`` moves past seqs that held
    nothing for this partner, so a partner never re-reads them."""
    if not 1 <= limit <= rules.MAX_FEED_LIMIT:
        raise ValidationFailed.on("limit", f"limit 应在 1 到 {rules.MAX_FEED_LIMIT} 之间")
    head = last_seq(session)
    check_cursor(session, after, head)
    upto = min(head, after + SCAN_WINDOW)
    items = changes_for(session, sub, after=after, upto=upto, limit=limit)
    next_after = items[-1]["seq"] if len(items) == limit else upto
    return FeedPage(items=items, next_after=next_after, has_more=next_after < head)


def prune(session: Session, *, before: datetime) -> int:
    """Delete changes older than ``before`` (the retention window), always keeping the newest one
    so the log's seq never restarts. Partners behind the window get 410 and take a snapshot."""
    head = last_seq(session)
    # A prefix of seqs, never a hole: a change stamped out of order (a clock stepped back) must not
    # vanish from between two kept ones, where a cursor before it would skip it without a 410.
    upto = session.scalar(select(func.max(Change.seq)).where(Change.created_at < before)) or 0
    result = session.execute(delete(Change).where(Change.seq <= upto, Change.seq < head))
    session.commit()
    return result.rowcount or 0


# --------------------------------------------------------------------------------------------------
# Snapshot

SNAPSHOT_BATCH = 2000


def snapshot_lines(session: Session, sub: Subscription) -> tuple[int, Iterator[bytes]]:
    """The seq the snapshot corresponds to, and its NDJSON lines (in chunks). ``session`` must be a
    snapshot session (``Database.snapshot_session``): the seq and every record come from one
    consistent read. The caller closes the session when the iterator is exhausted."""
    seq = last_seq(session)

    def generate() -> Iterator[bytes]:
        chunk: list[bytes] = []
        for item in _snapshot_items(session, sub):
            chunk.append(orjson.dumps(item))
            if len(chunk) >= 500:
                yield b"\n".join(chunk) + b"\n"
                chunk = []
        if chunk:
            yield b"\n".join(chunk) + b"\n"

    return seq, generate()


def _snapshot_items(session: Session, sub: Subscription) -> Iterator[dict[str, Any]]:
    decrypt = vault_of(session).decrypt
    if "restriction" in sub.scope.types:
        for payload, key, measures in _restriction_payloads(session, sub.measures):
            yield {
                "type": "restriction",
                "key": key,
                "record": rules.partner_record(
                    "restriction", payload, measures, sub.measures, decrypt
                ),
            }
    if "listing" in sub.scope.types:
        query = (
            select(Listing)
            .where(Listing.status == ListingStatus.PUBLISHED)
            .options(
                joinedload(Listing.subject).selectinload(Subject.bound_persons),
                joinedload(Listing.case),
                joinedload(Listing.court),
                selectinload(Listing.performances),
            )
            .order_by(Listing.id)
        )
        for listing in _in_batches(session, query, Listing.id, scalars=True):
            mask = listing_measures_mask(listing.subject.kind)
            if mask & sub.measures:
                yield {
                    "type": "listing",
                    "key": f"listing:{listing.public_id}",
                    "record": rules.partner_record(
                        "listing", listing_record(listing), mask, sub.measures, decrypt
                    ),
                }


def _in_batches(session: Session, query, id_column, *, scalars: bool = False) -> Iterator[Any]:
    """The rows of ``query`` (ordered by ``id_column``) fetched ``SNAPSHOT_BATCH`` at a time by
    keyset (``id > last``), all in the session's one snapshot transaction. One cursor over the whole
    query let PostgreSQL plan it as hash joins of every table: at ten million listings the first
    row came after minutes (issue #8); each batch is an index range scan with nested-loop joins,
    so the export starts at once and streams at a steady rate."""
    last = None
    while True:
        batch = query if last is None else query.where(id_column > last)
        result = session.execute(batch.limit(SNAPSHOT_BATCH))
        rows = result.unique().scalars().all() if scalars else result.all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        if len(rows) < SNAPSHOT_BATCH:
            return
        if scalars:
            session.expunge_all()  # the batch's objects are written: keep memory flat


def _restriction_payloads(session: Session, measures: int) -> Iterator[tuple[dict, str, int]]:
    """Active projection rows with any of ``measures``, as the change log's stored payloads."""
    query = (
        with_sources(
            Restriction.id,
            Restriction.person_kind,
            Restriction.person_name,
            Restriction.person_cipher,
            Restriction.role,
            Restriction.measures,
            Restriction.since,
        )
        .where(Restriction.is_active.is_(True), Restriction.measures.op("&")(measures) != 0)
        .order_by(Restriction.id)
    )
    for row in _in_batches(session, query, Restriction.id):
        payload = build_restriction_record(
            person_kind=str(row.person_kind),
            person_name=row.person_name,
            person_cipher=row.person_cipher,
            role=str(row.role),
            measures=row.measures,
            since=row.since,
            source=source_of(row),
        )
        yield payload, f"restriction:{row.id}", row.measures

"""The push worker (DESIGN.md §6): per partner one cursor; a worker claims a partner whose feed has
moved past its cursor, POSTs the next batch signed per the Standard Webhooks spec, advances the
cursor on 2xx and otherwise backs off (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h …).

Guarantees:

- **Order.** One batch per partner at a time, in seq order; the cursor only moves on a 2xx, so a
  removal never overtakes the upsert it removes.
- **Nothing lost, same id on retry.** A batch is fixed (``batch_id`` and its last seq) and committed
  before it is sent. Whoever sends it next (this worker after a failure, another after a crash)
  sends the same items under the same ``webhook-id``; receivers de-duplicate by it.
- **Never sent twice at once.** On PostgreSQL the worker holds the cursor row locked
  (``FOR UPDATE``) while it posts; other workers pass over locked rows (``SKIP LOCKED``), and a
  killed worker's lock dies with its connection. SQLite has one writer at a time and cannot hold a
  transaction open across a POST without blocking every writer, so there a worker takes a lease on
  the row (``leased_by``/``leased_until``, longer than any POST can take) and posts outside any
  transaction.
- **Short timeouts, no redirects.** A 3xx is a failure like any non-2xx (a redirect could send
  personal data somewhere nobody registered).
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from blacklist.audit import services as audit
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor
from blacklist.core.clock import Clock, SystemClock
from blacklist.db import Database, vault_of
from blacklist.partners import rules
from blacklist.partners.feed import SCAN_WINDOW, Subscription, changes_for, oldest_retained_seq
from blacklist.partners.models import DeliveryAttempt, DeliveryOutcome, Partner, PushCursor

log = logging.getLogger("blacklist.partners.push")

BATCH_SIZE = 500
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
#: SQLite lease: longer than the longest POST (connect + read timeouts, with margin).
LEASE = timedelta(seconds=60)
USER_AGENT = "blacklist-push/1"


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the status code; raise ``OSError`` (timeouts included) or
        ``http.client.HTTPException`` when no answer came."""


class HttpSender:
    """POST with the standard library: short timeouts, redirects never followed (http.client does
    not follow them), at most 64 KiB of the answer read (it is not used)."""

    def __init__(
        self, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT
    ):
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=self.connect_timeout)
        try:
            conn.connect()
            conn.sock.settimeout(self.read_timeout)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(65536)
            return response.status
        finally:
            conn.close()


@dataclass(frozen=True)
class Attempt:
    """What one call of ``deliver_next`` did (``None`` from it: nothing was due)."""

    partner: str
    #: "delivered" | "failed" | "skipped" (nothing relevant: cursor moved, no POST) | "stalled"
    #: (the cursor fell behind the retention window: the partner must take a new snapshot)
    outcome: str
    webhook_id: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    items: int = 0
    status_code: int | None = None
    error: str | None = None


def signed_headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": rules.sign(secret, webhook_id, timestamp, body),
    }


class PushWorker:
    """Delivers due batches. Several may run at once (threads or processes) on PostgreSQL."""

    def __init__(
        self,
        db: Database,
        *,
        sender: Sender | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.db = db
        self.sender = sender or HttpSender()
        self.clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch_size = batch_size
        self.holds_lock = db.dialect == "postgresql"

    # -- the loop ----------------------------------------------------------------------------------

    def run_once(self, *, max_attempts: int = 10_000) -> list[Attempt]:
        """Deliver everything that is due now, then return (``deliveries run --once``, cron).
        A partner that fails is not retried within the same run: it waits for its back-off."""
        done: list[Attempt] = []
        while len(done) < max_attempts:
            attempt = self.deliver_next()
            if attempt is None:
                break
            done.append(attempt)
        return done

    def run_forever(self, stop: threading.Event, *, idle_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set, sleeping ``idle_seconds`` when nothing is due. An
        unexpected error (the database restarting) is logged and retried after a pause."""
        log.info("push worker %s started", self.name)
        while not stop.is_set():
            try:
                attempt = self.deliver_next()
            except Exception:
                log.exception("push worker %s: unexpected error; retrying in 5 s", self.name)
                stop.wait(5)
                continue
            if attempt is None:
                stop.wait(idle_seconds)
        log.info("push worker %s stopped", self.name)

    # -- one delivery ------------------------------------------------------------------------------

    def deliver_next(self) -> Attempt | None:
        """Claim one partner that is due, send its next batch, record the outcome."""
        session = self.db.session()
        try:
            return self._deliver(session)
        finally:
            session.rollback()
            session.close()

    def _claim(self, session: Session, head: int) -> PushCursor | None:
        now = self.clock.now()
        query = (
            select(PushCursor)
            .join(Partner, Partner.id == PushCursor.partner_id)
            .where(
                Partner.is_active.is_(True),
                Partner.webhook_url.is_not(None),
                PushCursor.next_attempt_at <= now,
                or_(PushCursor.batch_id.is_not(None), PushCursor.pushed_seq < head),
            )
            .order_by(PushCursor.next_attempt_at, PushCursor.partner_id)
            .limit(1)
        )
        if self.holds_lock:
            return session.scalar(query.with_for_update(skip_locked=True, of=PushCursor))
        cursor = session.scalar(
            query.where(or_(PushCursor.leased_until.is_(None), PushCursor.leased_until < now))
        )
        if cursor is not None:
            cursor.leased_by, cursor.leased_until = self.name, now + LEASE
        return cursor

    def _deliver(self, session: Session) -> Attempt | None:
        head = last_seq(session)
        cursor = self._claim(session, head)
        if cursor is None:
            return None
        partner = cursor.partner
        sub = Subscription.of(partner)
        oldest = oldest_retained_seq(session)
        if oldest and cursor.pushed_seq < oldest - 1:
            return self._stall(session, cursor, sub, oldest)
        if cursor.batch_id is None:
            upto = min(head, cursor.pushed_seq + SCAN_WINDOW)
            items = changes_for(
                session, sub, after=cursor.pushed_seq, upto=upto, limit=self.batch_size
            )
            if not items:
                cursor.pushed_seq = upto
                self._release(cursor)
                session.commit()
                return Attempt(partner.code, "skipped", last_seq=upto)
            cursor.batch_id = "msg_" + uuid.uuid4().hex
            # A short batch holds everything relevant up to ``upto``: its range ends there, so the
            # cursor moves past the irrelevant seqs after it in the same step.
            full = len(items) == self.batch_size
            cursor.batch_last_seq = items[-1]["seq"] if full else upto
            batch_id = cursor.batch_id
            session.commit()  # the batch is fixed before it is sent
            if self.holds_lock:
                cursor = session.scalar(
                    select(PushCursor)
                    .where(PushCursor.partner_id == sub.partner_id, PushCursor.batch_id == batch_id)
                    .with_for_update(skip_locked=True)
                )
                if cursor is None:  # another worker took it over meanwhile: it sends the batch
                    return None
        else:
            items = changes_for(
                session, sub, after=cursor.pushed_seq, upto=cursor.batch_last_seq,
                limit=self.batch_size,
            )  # fmt: skip
            if not items:  # everything in it was superseded by removals still to come
                self._advance(cursor)
                self._release(cursor)
                session.commit()
                return Attempt(partner.code, "skipped", last_seq=cursor.pushed_seq)

        batch_id, url = cursor.batch_id, partner.webhook_url
        first, last = items[0]["seq"], cursor.batch_last_seq
        attempt_no = cursor.failures + 1
        secret = vault_of(session).decrypt(partner.secret_cipher)
        if not self.holds_lock:
            session.commit()  # SQLite: post outside any transaction; the lease protects the row

        body = orjson.dumps({"items": items})
        started = self.clock.now()
        t0 = time.monotonic()
        status, error = None, None
        try:
            status = self.sender.post(
                url, body, signed_headers(secret, batch_id, int(time.time()), body)
            )
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.monotonic() - t0) * 1000)

        if not self.holds_lock:
            cursor = session.get(PushCursor, sub.partner_id, populate_existing=True)
            if cursor is None or cursor.leased_by != self.name or cursor.batch_id != batch_id:
                log.warning("push to %s: lease lost during %s; outcome dropped", sub.code, batch_id)
                return Attempt(
                    sub.code, "failed", batch_id, first, last, len(items), status, "lease lost"
                )
        outcome = DeliveryOutcome.FAILED if error else DeliveryOutcome.DELIVERED
        session.add(
            DeliveryAttempt(
                partner_id=sub.partner_id, webhook_id=batch_id, first_seq=first, last_seq=last,
                items=len(items), attempt=attempt_no, worker=self.name, started_at=started,
                duration_ms=duration_ms, status_code=status, outcome=outcome, error=error,
            )
        )  # fmt: skip
        now = self.clock.now()
        if error:
            cursor.failures += 1
            cursor.next_attempt_at = now + rules.backoff(cursor.failures)
            cursor.last_error = error
            log.warning(
                "push to %s failed (attempt %d, %s); next at %s",
                sub.code, attempt_no, error, cursor.next_attempt_at.isoformat(),
            )  # fmt: skip
        else:
            self._advance(cursor)
            cursor.failures, cursor.next_attempt_at = 0, now
            cursor.last_success_at, cursor.last_error = now, None
            audit.record(
                session, Actor.system("push"), "partner.delivered", ("partner", sub.partner_id),
                clock=self.clock,
                after={"webhook_id": batch_id, "first_seq": first, "last_seq": last,
                       "items": len(items), "attempt": attempt_no},
            )  # fmt: skip
        self._release(cursor)
        session.commit()
        return Attempt(sub.code, outcome.value, batch_id, first, last, len(items), status, error)

    def _stall(
        self, session: Session, cursor: PushCursor, sub: Subscription, oldest: int
    ) -> Attempt:
        """The log was pruned past the cursor while the partner was unreachable: what it missed
        (removals among it) can no longer be sent. Pushing later changes would silently skip them,
        so push stops until the partner takes a new snapshot and acknowledges its seq (the ack moves
        the cursor: ``services.acknowledge``). Checked again after the longest back-off."""
        error = (
            f"cursor {cursor.pushed_seq} is older than the retention window (oldest seq {oldest}): "
            "the partner must take a new snapshot and acknowledge its X-Feed-Seq"
        )
        cursor.batch_id = cursor.batch_last_seq = None
        cursor.last_error = error
        cursor.next_attempt_at = self.clock.now() + rules.BACKOFF[-1]
        self._release(cursor)
        session.commit()
        log.error("push to %s stopped: %s", sub.code, error)
        return Attempt(sub.code, "stalled", error=error)

    @staticmethod
    def _advance(cursor: PushCursor) -> None:
        cursor.pushed_seq = max(cursor.pushed_seq, cursor.batch_last_seq or 0)
        cursor.batch_id = cursor.batch_last_seq = None

    @staticmethod
    def _release(cursor: PushCursor) -> None:
        cursor.leased_by = cursor.leased_until = None


def due_summary(session: Session, *, now: datetime) -> dict[str, int]:
    """For ``deliveries status``: per partner code, how many seqs its push is behind."""
    head = last_seq(session)
    rows = session.execute(
        select(Partner.code, PushCursor.pushed_seq)
        .join(PushCursor, PushCursor.partner_id == Partner.id)
        .where(Partner.webhook_url.is_not(None))
    )
    return {code: head - pushed for code, pushed in rows}

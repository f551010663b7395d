"""Push delivery: items per second the app's push worker delivers to a partner's webhook.

Setup (benchmark only, direct writes through the app's models): the ``bench_push`` partner's
``webhook_url`` is pointed at a local receiver and its push cursor is reset to a fixed start (the
oldest retained seq, so every run sends the same items), with no batch in flight, no failures and
the next attempt due now. Both are restored afterwards.

Measured: ``blacklist.partners.push.PushWorker`` (the worker ``flask deliveries run`` runs), in
this process, calling ``deliver_next`` until the receiver has acknowledged ``items`` items: per
batch it claims the cursor (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a lease on SQLite), reads
the next 500 feed items, fixes the batch (commit), signs it and POSTs it with its ``HttpSender``
(a new connection per POST, as in production), then records the attempt, audits the delivery and
advances the cursor. The receiver (``bench/webhook_receiver.py``, its own process: a threaded
``http.server``) verifies every signature with the partner's secret, parses the body and counts
the items; the run fails if any signature is refused or the count disagrees.

Baseline: the receiver's own ceiling. The very bodies and headers the worker sent (recorded by a
thin wrapper around its ``HttpSender``) POSTed again to the same receiver by a plain http.client
loop, one connection per POST as the worker does, with no database. The ratio is the share of the
receiver's ceiling the worker reaches; the rest is the worker's own cost per batch.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench.common import PYTHON, ROOT, WORK_DIR, Fixtures, Result, free_port
from bench.paths._support import database

PARTNER = "bench_push"
FULL_ITEMS = 20_000
QUICK_ITEMS = 1_000


def run(
    fixtures: Fixtures,
    *,
    runs: int = 3,
    quick: bool = False,
    items: int | None = None,
    partner: str = PARTNER,
) -> list[Result]:
    want = items or (QUICK_ITEMS if quick else FULL_ITEMS)
    runs = 1 if quick else runs
    secret = fixtures.partners[partner]["secret"]
    with Receiver(secret) as receiver:
        return [push_delivery(fixtures, receiver, runs=runs, want=want, partner=partner)]


# --------------------------------------------------------------------------------------------------
# The receiver process


class Receiver:
    """``bench.webhook_receiver`` in its own process on a free loopback port."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Receiver:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BENCH_WEBHOOK_SECRET": self.secret, "PYTHONPATH": str(ROOT)}
        self.log = open(WORK_DIR / "webhook_receiver.log", "wb")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.webhook_receiver", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.stats()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("the webhook receiver did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def stats(self) -> dict:
        with urllib.request.urlopen(self.base + "/stats", timeout=5) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        request = urllib.request.Request(self.base + "/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass


# --------------------------------------------------------------------------------------------------
# Measurement


@dataclass
class RecordingSender:
    """The worker's own ``HttpSender``, keeping what it posted for the baseline to replay."""

    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from blacklist.partners.push import HttpSender

        self.inner = HttpSender()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        status = self.inner.post(url, body, headers)
        self.sent.append((url, body, headers))
        return status


def push_delivery(
    fixtures: Fixtures, receiver: Receiver, *, runs: int, want: int, partner: str
) -> Result:
    from blacklist.partners.push import PushWorker

    db = database(fixtures)
    saved = _point_at(db, partner, receiver.url)
    try:
        start = saved["start"]
        app_runs, stats, sender, attempts = [], {}, RecordingSender(), 0
        for _ in range(runs):
            _reset_cursor(db, saved["partner_id"], start)
            receiver.reset()
            sender = RecordingSender()
            worker = PushWorker(db, sender=sender, name="bench-push")
            delivered, attempts = 0, 0
            t0 = time.perf_counter()
            while delivered < want:
                attempt = worker.deliver_next()
                if attempt is None:
                    break
                if attempt.partner != partner:
                    continue
                attempts += 1
                if attempt.outcome == "delivered":
                    delivered += attempt.items
                elif attempt.outcome in ("failed", "stalled"):
                    raise RuntimeError(f"push to {partner} {attempt.outcome}: {attempt.error}")
            seconds = time.perf_counter() - t0
            stats = receiver.stats()
            if stats["bad_signatures"] or stats["items"] != delivered:
                raise RuntimeError(f"receiver disagrees: delivered {delivered}, receiver {stats}")
            app_runs.append(delivered / seconds if seconds else 0.0)

        base_runs = []
        for _ in range(runs):
            receiver.reset()
            t0 = time.perf_counter()
            for url, body, headers in sender.sent:
                _post(url, body, headers)
            seconds = time.perf_counter() - t0
            base_stats = receiver.stats()
            if base_stats["bad_signatures"] or base_stats["items"] != stats["items"]:
                raise RuntimeError(f"baseline replay disagrees: {base_stats} vs {stats}")
            base_runs.append(base_stats["items"] / seconds if seconds else 0.0)
    finally:
        _restore(db, saved)
        db.dispose()
    return Result(
        name="push_delivery",
        metric="feed items per second the push worker delivers to a verifying local receiver",
        unit="items/s",
        runs=app_runs,
        baseline_name="the same signed bodies POSTed to the receiver by a plain http.client loop",
        baseline_runs=base_runs,
        target={"min": 10000},
        details={
            "partner": partner,
            "from_seq": start,
            "items": stats.get("items", 0),
            "batches": stats.get("requests", 0),
            "worker_calls": attempts,
            "signatures_verified": stats.get("verified", 0),
            "bad_signatures": stats.get("bad_signatures", 0),
            "unique_webhook_ids": stats.get("unique_webhook_ids", 0),
            "seq_range": [stats.get("first_seq"), stats.get("last_seq")],
            "max_items_per_batch": stats.get("max_items_per_batch", 0),
            "max_body_bytes": stats.get("max_body_bytes", 0),
            "receiver": "bench/webhook_receiver.py (ThreadingHTTPServer, verifies every batch)",
        },
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"receiver answered {response.status}")
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------
# Setup and restore (benchmark only: direct writes through the models)


def _point_at(db, code: str, url: str) -> dict:
    """Point the partner's webhook at ``url``; remember what to restore."""
    from sqlalchemy import select

    from blacklist.partners.feed import oldest_retained_seq
    from blacklist.partners.models import Partner, PushCursor

    with db.session() as session:
        partner = session.scalar(select(Partner).where(Partner.code == code))
        if partner is None:
            raise LookupError(f"no partner {code!r} in the bench database")
        cursor = session.get(PushCursor, partner.id)
        saved = {
            "partner_id": partner.id,
            "webhook_url": partner.webhook_url,
            "is_active": partner.is_active,
            "pushed_seq": cursor.pushed_seq if cursor else None,
            "start": max(0, oldest_retained_seq(session) - 1),
        }
        partner.webhook_url = url
        partner.is_active = True
        session.commit()
    return saved


def _reset_cursor(db, partner_id: int, start: int) -> None:
    from blacklist.partners.models import PushCursor

    now = datetime.now(UTC)
    with db.session() as session:
        cursor = session.get(PushCursor, partner_id)
        if cursor is None:
            cursor = PushCursor(partner_id=partner_id, next_attempt_at=now)
            session.add(cursor)
        cursor.pushed_seq = start
        cursor.batch_id = cursor.batch_last_seq = None
        cursor.failures = 0
        cursor.next_attempt_at = now
        cursor.leased_by = cursor.leased_until = None
        cursor.last_error = None
        session.commit()


def _restore(db, saved: dict) -> None:
    from blacklist.partners.models import Partner, PushCursor

    with db.session() as session:
        partner = session.get(Partner, saved["partner_id"])
        partner.webhook_url = saved["webhook_url"]
        partner.is_active = saved["is_active"]
        cursor = session.get(PushCursor, saved["partner_id"])
        if cursor is not None:
            if saved["pushed_seq"] is None:
                session.delete(cursor)
            else:
                cursor.pushed_seq = saved["pushed_seq"]
                cursor.batch_id = cursor.batch_last_seq = None
                cursor.failures = 0
                cursor.leased_by = cursor.leased_until = None
                cursor.last_error = None
        session.commit()

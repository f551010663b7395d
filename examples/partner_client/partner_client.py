#!/usr/bin/env python3
"""Reference client of the blacklist partner API (失信被执行人名单 · 联合惩戒合作单位接口).

A partner agency (an airline, China Railway, the credit reference centre…) keeps its own copy of
the records that concern it and answers "may this person fly / ride / borrow?" from that copy, in
its own systems, without calling the court system for every ticket. This file is the code a
partner's engineer starts from. It needs nothing but Python 3.11's standard library::

    python partner_client.py --base-url https://blacklist.example --key bpk_… --db copy.sqlite3 sync
    python partner_client.py … serve --port 8080 --secret whsec_…
    python partner_client.py … check 11010519900101123X --measure flight

How the copy is kept right (docs/partners.md has the whole protocol):

- **Snapshot, then the feed.** The first ``sync()`` streams ``GET /api/v1/partner/snapshot``
  (NDJSON, one record a line) into a fresh table and swaps it in atomically together with the
  cursor, the snapshot's ``X-Feed-Seq``. From then on it follows ``GET /api/v1/partner/feed``
  after the cursor. Every page is applied in one local transaction together with the new cursor,
  so a crash leaves either the whole page applied or none of it, never half.
- **410 Gone → new snapshot.** The server keeps the change log for a limited time (30 days by
  default). A cursor older than that is answered 410; ``sync()`` then takes a new snapshot. It
  does the same when the partner's measures or scope changed (``GET /status``): the feed does not
  replay old changes that now concern the partner.
- **Cumulative acks.** After each commit the client posts ``{"seq": cursor}`` to
  ``/api/v1/partner/acks``: "everything up to here is applied". Acks are like consumer offsets;
  an old or repeated ack is harmless. The courts use them to prove when each removal (a debtor who
  paid may board a train again) reached the partner.
- **Push is the accelerator, pull is the truth.** With a webhook registered, the server POSTs
  batches of the same feed items as they happen. Delivery is *at least once*: a batch whose 2xx
  answer got lost is sent again, under the same ``webhook-id``. Batches come one at a time and in
  ``seq`` order, and a failed batch is retried (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, …) before any
  later one, so a removal never overtakes its upsert. ``handle_webhook`` verifies the signature,
  drops a ``webhook-id`` it has already applied, skips items at or below the cursor (already
  applied by a pull), and applies the rest with the new cursor in one transaction. It answers 2xx
  only once that transaction is committed; anything else makes the server retry later. A batch
  that starts after a gap holding changes this copy never got (the feed tells: a copy started
  empty, or pushes resumed after the retention window) is answered 503, and the copy pulls.
- **Upsert replaces, remove deletes.** A feed item is keyed by ``key`` (``restriction:42``,
  ``listing:<public id>``); an upsert carries the whole record and replaces what the copy holds for
  that key, a remove deletes it. Items are idempotent, so applying one twice is harmless.

Pull and push may run at the same time (``serve`` also pulls every few minutes): both read the
cursor and write under SQLite's write lock (``BEGIN IMMEDIATE``), so they never apply the same seq
twice or move the cursor backwards.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

log = logging.getLogger("partner_client")

API = "/api/v1/partner"
#: The largest feed page the server gives (API.md).
FEED_LIMIT = 1000
#: Seconds to wait for the server to connect and for each read.
DEFAULT_TIMEOUT = 30.0
#: Standard Webhooks: refuse a webhook whose timestamp is more than this many seconds off (replay).
WEBHOOK_TOLERANCE = 300
#: How long a webhook id is remembered. A batch is resent only until it is answered 2xx; retries
#: are at most 10 h apart, so a month is plenty.
SEEN_WEBHOOK_SECONDS = 30 * 24 * 3600
#: A push batch holds at most 500 items of a few KiB each.
MAX_WEBHOOK_BODY = 32 * 1024 * 1024
#: Snapshot rows written per local transaction while loading.
SNAPSHOT_BATCH = 5000
USER_AGENT = "blacklist-partner-client/1"

#: ``transport(method, path_with_query, headers, body) -> (status, headers, body)``; the body
#: answered is bytes or an iterable of byte chunks (read lazily: the snapshot is streamed).
Transport = Callable[
    [str, str, dict[str, str], bytes | None],
    tuple[int, Mapping[str, str], bytes | Iterable[bytes]],
]


# --------------------------------------------------------------------------------------------------
# Errors


class PartnerApiError(Exception):
    """A non-2xx answer of the partner API. ``status`` is the HTTP status; ``message`` and
    ``errors`` come from the API's error body ``{"code", "status", "message", "errors"}``."""

    def __init__(self, status: int, body: bytes, method: str, path: str) -> None:
        self.status = status
        self.method = method
        self.path = path
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        self.message = str(data.get("message") or body[:200].decode("utf-8", "replace"))
        self.errors: dict[str, list[str]] = data.get("errors") or {}
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items())
        text = f"{method} {path} -> HTTP {status}: {self.message}"
        super().__init__(f"{text} ({details})" if details else text)


class FeedGone(PartnerApiError):
    """410: the cursor is older than the server's retention window; take a new snapshot."""


class WebhookVerificationError(Exception):
    """A webhook that must not be trusted: a header missing, a timestamp outside the tolerance,
    or no signature that matches (wrong secret, altered body)."""


class NotInitialised(Exception):
    """The local copy has never been built (no cursor): run ``sync()`` first."""


# --------------------------------------------------------------------------------------------------
# Standard Webhooks signature (https://www.standardwebhooks.com/), written from the spec


def _header_map(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(name).lower(): str(value) for name, value in items}


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after the ``whsec_`` prefix."""
    encoded = secret.strip()
    encoded = encoded[len("whsec_") :] if encoded.startswith("whsec_") else encoded
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret must be 'whsec_' followed by base64") from None


def _secret_list(secret: str | Sequence[str] | None) -> list[str]:
    if not secret:
        return []
    return [secret] if isinstance(secret, str) else [s for s in secret if s]


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, ``"{id}.{timestamp}.{body}"``)): what the server sends in
    ``webhook-signature`` (useful to test a receiver)."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    secret: str,
    now: float | None = None,
    tolerance: int = WEBHOOK_TOLERANCE,
) -> None:
    """Check a webhook per the Standard Webhooks spec; return ``None`` or raise
    ``WebhookVerificationError`` saying why.

    - ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature`` are required
      (header names in any case).
    - The timestamp must be within ``tolerance`` seconds of ``now`` (default: the current time),
      either way: an old, captured request cannot be replayed later.
    - ``webhook-signature`` is a space-separated list of ``<version>,<base64>``; one ``v1`` entry
      must equal the HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the secret (several
      entries appear while a secret is rotated). Other versions are ignored. Comparison is constant
      time.

    ``body`` must be the raw bytes as received: re-serialised JSON would not match.
    """
    values = _header_map(headers)
    webhook_id = values.get("webhook-id", "").strip()
    raw_timestamp = values.get("webhook-timestamp", "").strip()
    signatures = values.get("webhook-signature", "").strip()
    missing = [
        name
        for name, value in (
            ("webhook-id", webhook_id),
            ("webhook-timestamp", raw_timestamp),
            ("webhook-signature", signatures),
        )
        if not value
    ]
    if missing:
        raise WebhookVerificationError("missing header(s): " + ", ".join(missing))
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a unix time in seconds") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old (replayed or delayed?)")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook-timestamp is in the future (clock skew?)")
    content = f"{webhook_id}.{timestamp}.".encode() + body
    expected = hmac.new(webhook_key(secret), content, hashlib.sha256).digest()
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError("no v1 signature matches (wrong secret or altered body)")


# --------------------------------------------------------------------------------------------------
# HTTP transport (standard library)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: it would carry the API key (and then the list) somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class UrllibTransport:
    """The default transport: ``urllib`` against ``base_url``, redirects refused, a timeout on
    connecting and on every read. Answers are returned as a lazy iterator of chunks, so the
    snapshot is never held in memory whole."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base URL must be http(s)://host[:port]: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __call__(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        request = urllib.request.Request(
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers.items()), error.read()
        return response.status, dict(response.headers.items()), _chunks(response)


def _chunks(response: Any, size: int = 65536) -> Iterator[bytes]:
    try:
        while chunk := response.read(size):
            yield chunk
    finally:
        response.close()


def _read_all(body: bytes | Iterable[bytes]) -> bytes:
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return b"".join(body)


def _lines(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """Non-empty lines of an NDJSON body that arrives in chunks of any size."""
    chunks = [body] if isinstance(body, bytes | bytearray) else body
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


# --------------------------------------------------------------------------------------------------
# Local answers


def normalise_id_number(id_number: str) -> str:
    """ID numbers are compared in upper case without surrounding spaces: a resident ID number
    whose check character is written as a lowercase ``x`` is the same number (GB 11643)."""
    return (id_number or "").strip().upper()


class Answer(NamedTuple):
    """``(restricted, reasons)``. It is also true exactly when the person is restricted, so
    ``if client.is_restricted(number, "flight"):`` means what it says (a plain tuple would always
    be true)."""

    restricted: bool
    reasons: list[dict[str, Any]]

    def __bool__(self) -> bool:
        return self.restricted


@dataclass(frozen=True)
class SyncSummary:
    """What one ``sync()`` did. ``snapshot`` is the number of records loaded when a snapshot was
    taken (else ``None``); ``skipped`` counts feed items already applied (by a webhook)."""

    snapshot: int | None
    pages: int
    upserts: int
    removals: int
    skipped: int
    cursor: int
    acked: int | None


# --------------------------------------------------------------------------------------------------
# The client

_RECORDS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    key TEXT PRIMARY KEY,          -- the feed key: restriction:<id> or listing:<public id>
    type TEXT NOT NULL,            -- restriction | listing
    id_number TEXT,                -- the person's ID number (or an organisation's credit code)
    name TEXT,
    measures TEXT NOT NULL,        -- JSON list of measure codes, cut to this partner's
    record TEXT NOT NULL           -- the record as received, JSON
)"""

_SCHEMA = (
    _RECORDS_TABLE.format(name="records"),
    "CREATE INDEX IF NOT EXISTS ix_records_id_number ON records (id_number)",
    "CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS seen_webhooks ("
    " webhook_id TEXT PRIMARY KEY, received_at REAL NOT NULL)",
)


class PartnerClient:
    """A partner's local copy of its part of the list, kept in SQLite at ``db_path`` (a file: the
    copy is shared by connections of several threads, e.g. ``serve`` and ``check``).

    ``transport`` replaces HTTP, e.g. with a test client: a callable
    ``(method, path_with_query, headers, body) -> (status, headers, body)``. By default requests go
    to ``base_url`` with ``urllib`` and ``Authorization: Bearer <api_key>``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        db_path: str | os.PathLike[str],
        transport: Transport | None = None,
        *,
        webhook_secret: str | Sequence[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_limit: int = FEED_LIMIT,
        tolerance: int = WEBHOOK_TOLERANCE,
    ) -> None:
        if str(db_path) in ("", ":memory:"):
            raise ValueError("db_path must be a file: the copy is shared between connections")
        self.base_url = base_url
        self.api_key = api_key
        self.db_path = os.fspath(db_path)
        self.transport = transport or UrllibTransport(base_url, timeout)
        self.webhook_secret = webhook_secret
        self.page_limit = page_limit
        self.tolerance = tolerance
        self._sync_lock = threading.Lock()
        self._ack_lock = threading.Lock()
        self._acked = -1
        with self._write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    # -- local database ----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """One connection per use (connections are not shared between threads). WAL lets readers
        (``is_restricted``) go on while a page or a webhook is being written."""
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. ``BEGIN IMMEDIATE`` takes the write lock before the first read, so
        the cursor read inside cannot change before the transaction commits."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @classmethod
    def _read_cursor(cls, conn: sqlite3.Connection) -> int | None:
        value = cls._read_state(conn, "cursor")
        return None if value is None else int(value)

    @classmethod
    def _write_cursor(cls, conn: sqlite3.Connection, seq: int) -> None:
        cls._write_state(conn, "cursor", str(seq))

    @staticmethod
    def _read_state(conn: sqlite3.Connection, name: str) -> str | None:
        row = conn.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    @staticmethod
    def _write_state(conn: sqlite3.Connection, name: str, value: str) -> None:
        conn.execute(
            "INSERT INTO state (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    @property
    def cursor(self) -> int | None:
        """The seq up to which the copy is complete; ``None`` until the first snapshot."""
        with closing(self._connect()) as conn:
            return self._read_cursor(conn)

    def start_from(self, seq: int = 0) -> None:
        """Start an empty copy that follows the feed from ``seq`` instead of taking a snapshot.
        Only useful while the server still keeps the log from ``seq`` on (a new deployment, a
        test); otherwise the feed answers 410 and ``sync()`` takes a snapshot anyway."""
        with self._write() as conn:
            conn.execute("DELETE FROM records")
            self._write_cursor(conn, seq)

    def records(self) -> dict[str, dict[str, Any]]:
        """Every record of the copy by key (for inspection and tests; a national copy is large)."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT key, record FROM records ORDER BY key").fetchall()
        return {key: json.loads(record) for key, record in rows}

    @staticmethod
    def _row(type_: str, key: str, record: dict[str, Any]) -> tuple:
        if type_ == "restriction":
            person = record.get("person") or {}
            id_number, name = person.get("id_number"), person.get("name")
        else:
            id_number, name = record.get("id_number"), record.get("name")
        return (
            key,
            type_,
            normalise_id_number(id_number) if id_number else None,
            name,
            json.dumps(record.get("measures") or [], ensure_ascii=False),
            json.dumps(record, ensure_ascii=False, separators=(",", ":")),
        )

    def _apply_items(
        self, conn: sqlite3.Connection, items: Iterable[dict[str, Any]], cursor: int
    ) -> tuple[int, int, int, int]:
        """Apply feed items after ``cursor`` in seq order; returns (upserts, removals, skipped,
        last seq seen)."""
        upserts = removals = skipped = 0
        last = cursor
        for item in sorted(items, key=lambda i: i["seq"]):
            seq = int(item["seq"])
            last = max(last, seq)
            if seq <= cursor:
                skipped += 1  # already applied: by a pull, or by an earlier delivery
                continue
            action, key = item["action"], item["key"]
            if action == "upsert":
                conn.execute(
                    "INSERT OR REPLACE INTO records"
                    " (key, type, id_number, name, measures, record) VALUES (?, ?, ?, ?, ?, ?)",
                    self._row(item["type"], key, item["record"]),
                )
                upserts += 1
            elif action == "remove":
                conn.execute("DELETE FROM records WHERE key = ?", (key,))
                removals += 1
            else:  # the API only adds: an action this client does not know must not be skipped
                raise ValueError(f"unknown feed action {action!r} at seq {seq}")
        return upserts, removals, skipped, last

    # -- HTTP --------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, payload: Any = None
    ) -> tuple[int, Mapping[str, str], bytes | Iterable[bytes]]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json, application/x-ndjson",
            "User-Agent": USER_AGENT,
        }
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        return self.transport(method, path, headers, body)

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        status, _headers, body = self._request(method, path, payload)
        data = _read_all(body)
        if not 200 <= status < 300:
            error = FeedGone if status == 410 else PartnerApiError
            raise error(status, data, method, path)
        return json.loads(data)

    def status(self) -> dict[str, Any]:
        """``GET /status``: the subscription, the acked and pushed seqs, the log's range."""
        return self._call("GET", f"{API}/status")

    def acknowledge(self) -> int | None:
        """Post the local cursor as the cumulative ack (``POST /acks``) unless this client already
        acked it; returns the server's acked seq (``None`` when there is nothing to ack)."""
        with self._ack_lock:
            cursor = self.cursor
            if cursor is None or cursor <= self._acked:
                return None
            answer = self._call("POST", f"{API}/acks", {"seq": cursor})
            self._acked = max(self._acked, cursor)
            return int(answer["acked_seq"])

    # -- pull --------------------------------------------------------------------------------------

    def _subscription(self) -> str:
        """The partner's measures and scope (``GET /status``), as stored with the copy."""
        status = self.status()
        return json.dumps({"measures": sorted(status["measures"]), "scope": status["scope"]})

    def sync(self) -> SyncSummary:
        """Bring the copy up to date by pulling: a snapshot first if there is no cursor, if the
        partner's measures or scope changed since the copy was built (the feed does not replay
        old changes that now concern it), or if the feed answers 410; then feed pages until
        ``has_more`` is false, each page committed with its cursor and then acknowledged. Safe to
        run while webhooks arrive, and to re-run after any failure (it resumes from the committed
        cursor)."""
        with self._sync_lock:
            snapshot = None
            pages = upserts = removals = skipped = 0
            acked = None
            subscription = self._subscription()
            with closing(self._connect()) as conn:
                cursor = self._read_cursor(conn)
                built_for = self._read_state(conn, "subscription")
            if cursor is None or built_for not in (None, subscription):
                if cursor is not None:
                    log.warning("measures or scope changed (%s): new snapshot", subscription)
                snapshot, cursor = self._take_snapshot(subscription)
                acked = self.acknowledge()
            elif built_for is None:  # a copy started with start_from: adopt the subscription
                with self._write() as conn:
                    self._write_state(conn, "subscription", subscription)
            while True:
                try:
                    page = self._call("GET", f"{API}/feed?after={cursor}&limit={self.page_limit}")
                except FeedGone:
                    if snapshot is not None:
                        raise  # a fresh snapshot is already too old: something is wrong
                    log.warning("cursor %s is behind the retention window: new snapshot", cursor)
                    snapshot, cursor = self._take_snapshot(subscription)
                    acked = self.acknowledge() or acked
                    continue
                with self._write() as conn:
                    current = self._read_cursor(conn)
                    if current is None:  # the copy was reset meanwhile: start again
                        raise NotInitialised("the local copy was reset during sync")
                    counts = self._apply_items(conn, page["items"], current)
                    cursor = max(current, int(page["next_after"]))
                    self._write_cursor(conn, cursor)
                pages += 1
                upserts, removals, skipped = (
                    upserts + counts[0],
                    removals + counts[1],
                    skipped + counts[2],
                )
                acked = self.acknowledge() or acked
                if not page["has_more"]:
                    break
            return SyncSummary(snapshot, pages, upserts, removals, skipped, cursor, acked)

    def _take_snapshot(self, subscription: str) -> tuple[int, int]:
        """Stream the snapshot into a new table, then swap it in with its seq as the cursor in one
        transaction: readers see the old copy or the new one, never a half-loaded table."""
        status, headers, body = self._request("GET", f"{API}/snapshot")
        if status != 200:
            data = _read_all(body)
            raise PartnerApiError(status, data, "GET", f"{API}/snapshot")
        raw_seq = _header(headers, "X-Feed-Seq")
        if raw_seq is None:
            raise PartnerApiError(status, b"snapshot without X-Feed-Seq", "GET", f"{API}/snapshot")
        seq = int(raw_seq)
        table = "records_new_" + secrets.token_hex(6)
        count = 0
        with closing(self._connect()) as conn:
            conn.execute(_RECORDS_TABLE.format(name=table))
            try:
                batch: list[tuple] = []
                for line in _lines(body):
                    item = json.loads(line)
                    batch.append(self._row(item["type"], item["key"], item["record"]))
                    if len(batch) >= SNAPSHOT_BATCH:
                        count += self._insert_batch(conn, table, batch)
                        batch = []
                count += self._insert_batch(conn, table, batch)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("DROP TABLE records")
                    conn.execute(f"ALTER TABLE {table} RENAME TO records")
                    conn.execute("CREATE INDEX ix_records_id_number ON records (id_number)")
                    for (leftover,) in conn.execute(
                        "SELECT name FROM sqlite_master"
                        " WHERE type = 'table' AND name LIKE 'records_new_%'"
                    ).fetchall():  # an interrupted snapshot's table
                        conn.execute(f"DROP TABLE {leftover}")
                    self._write_cursor(conn, seq)
                    self._write_state(conn, "subscription", subscription)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except BaseException:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
                raise
        log.info("snapshot at seq %s: %s record(s)", seq, count)
        return count, seq

    @staticmethod
    def _insert_batch(conn: sqlite3.Connection, table: str, rows: list[tuple]) -> int:
        if not rows:
            return 0
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT OR REPLACE INTO {table} (key, type, id_number, name, measures, record)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        return len(rows)

    # -- push --------------------------------------------------------------------------------------

    def handle_webhook(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        *,
        secret: str | Sequence[str] | None = None,
        now: float | None = None,
    ) -> int:
        """Apply one push delivery; returns the HTTP status to answer with. ``secret`` (default:
        the client's ``webhook_secret``) may be several secrets, any of which may have signed:
        keep the old one next to the new one while the secret is rotated.

        - 401: the signature or timestamp does not verify (nothing applied).
        - 400: signed, but not a batch of feed items (nothing applied).
        - 200: applied and committed, or a ``webhook-id`` already applied (a retry whose first
          2xx was lost: at-least-once delivery means duplicates happen).
        - 503: not applied now; the server retries later (5 s, then 5 min…). Either the copy has
          never been built (run ``sync()``), or the batch does not follow on from the copy: it
          starts after a gap in which the feed holds changes for this partner (a copy started
          with ``start_from`` before the partner was registered), or that the log no longer
          holds (pushes resumed after the retention window: a removal in between would be
          lost). ``serve`` then pulls: ``sync()`` catches up, taking a new snapshot on 410, and
          the retry is skipped as already applied.

        Items at or below the cursor are skipped (a pull applied them already); the rest are
        applied in seq order, with the new cursor and the webhook id, in one transaction.
        """
        headers = _header_map(headers)
        candidates = _secret_list(secret) or _secret_list(self.webhook_secret)
        if not candidates:
            raise ValueError("no webhook secret: pass secret= or webhook_secret=")
        for candidate in candidates:
            try:
                verify_webhook(headers, body, candidate, now=now, tolerance=self.tolerance)
                break
            except WebhookVerificationError as error:
                refusal = error
        else:
            log.warning("webhook refused: %s", refusal)
            return 401
        webhook_id = headers["webhook-id"].strip()
        try:
            items = json.loads(body)["items"]
            _check_items(items)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("webhook %s: not a batch of feed items (%s)", webhook_id, error)
            return 400

        with closing(self._connect()) as conn:
            if self._seen(conn, webhook_id):
                return 200
            cursor = self._read_cursor(conn)
        if cursor is None:
            log.warning("webhook %s: the local copy is not built yet; run sync()", webhook_id)
            return 503
        first = min((i["seq"] for i in items), default=cursor)
        if first > cursor + 1 and not self._nothing_between(cursor, first):
            log.warning(
                "webhook %s: does not follow on from seq %s; pull first", webhook_id, cursor
            )
            return 503

        with self._write() as conn:
            if self._seen(conn, webhook_id):
                return 200
            current = self._read_cursor(conn)
            if current is None:  # the copy was reset meanwhile
                return 503
            _up, _rm, _skipped, last = self._apply_items(conn, items, current)
            self._write_cursor(conn, max(current, last))
            received = time.time()
            conn.execute(
                "INSERT INTO seen_webhooks (webhook_id, received_at) VALUES (?, ?)",
                (webhook_id, received),
            )
            conn.execute(
                "DELETE FROM seen_webhooks WHERE received_at < ?",
                (received - SEEN_WEBHOOK_SECONDS,),
            )
        return 200

    @staticmethod
    def _seen(conn: sqlite3.Connection, webhook_id: str) -> bool:
        row = conn.execute("SELECT 1 FROM seen_webhooks WHERE webhook_id = ?", (webhook_id,))
        return row.fetchone() is not None

    def _nothing_between(self, cursor: int, first: int) -> bool:
        """Whether the feed holds nothing for this partner after ``cursor`` and before ``first``.
        Gaps are normal (the server's cursor passes over seqs that concern other partners), but a
        batch can also start after changes this copy never got; one small feed read tells them
        apart. Seqs are commit-ordered, so nothing can still appear below ``first``."""
        after = cursor
        while True:
            try:
                page = self._call("GET", f"{API}/feed?after={after}&limit=1")
            except FeedGone:
                return False
            if page["items"]:
                return page["items"][0]["seq"] >= first
            if not page["has_more"] or page["next_after"] >= first - 1:
                return True
            after = page["next_after"]

    def make_server(
        self,
        host: str,
        port: int,
        secret: str | Sequence[str],
        *,
        sync_interval: float | None = None,
    ) -> WebhookServer:
        """The webhook receiver, bound but not yet serving (call ``serve_forever``)."""
        return WebhookServer((host, port), self, secret, sync_interval=sync_interval)

    def serve(
        self,
        host: str,
        port: int,
        secret: str | Sequence[str],
        *,
        sync_interval: float | None = 300.0,
    ) -> None:
        """Receive pushes on ``http://host:port/`` (any path) until interrupted. With a
        ``sync_interval`` it also pulls, at start (to catch up on anything missed while down) and
        then every ``sync_interval`` seconds: pull is the truth, push only the accelerator. Put it behind an HTTPS
        reverse proxy: the server pushes to https URLs only in production."""
        server = self.make_server(host, port, secret, sync_interval=sync_interval)
        log.info("receiving webhooks on %s:%s", *server.server_address[:2])
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown_background()
            server.server_close()

    # -- local questions ---------------------------------------------------------------------------

    def is_restricted(self, id_number: str, measure: str) -> Answer:
        """Whether ``measure`` binds the person (or organisation) with this ID number according to
        the local copy, and why: one reason per record, shaped like the checks API's reasons
        (``role``: debtor, legal_representative…; ``measures``; ``since``; ``source``: the listing
        or order, court, case number). The legal representative of a listed company is
        restricted too (DOMAIN.md §3): the copy holds a record for them."""
        number = normalise_id_number(id_number)
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT type, measures, record FROM records WHERE id_number = ? ORDER BY key",
                (number,),
            ).fetchall()
        reasons: list[dict[str, Any]] = []
        seen: set[tuple] = set()
        for type_, measures, raw in rows:
            if measure not in json.loads(measures):
                continue
            reason = _reason(type_, json.loads(raw))
            identity = (reason["role"], reason["source"]["kind"], reason["source"]["public_id"])
            if identity not in seen:  # scope "both": a listing as a record and as a restriction
                seen.add(identity)
                reasons.append(reason)
        return Answer(bool(reasons), reasons)

    def may_fly(self, id_number: str) -> bool:
        """True when no ``flight`` restriction binds the person (2015 provisions, Art. 3); call
        ``is_restricted(id_number, "flight")`` to tell them why not."""
        return not self.is_restricted(id_number, "flight").restricted


def _check_items(items: Any) -> None:
    """Feed items as API.md defines them; an action this client does not know is refused rather
    than skipped (the API only grows by adding: a new action needs a new client)."""
    if not isinstance(items, list):
        raise ValueError("items must be a list")
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("seq"), int)
            and isinstance(item.get("key"), str)
            and isinstance(item.get("type"), str)
            and item.get("action") in ("upsert", "remove")
            and (item["action"] == "remove" or isinstance(item.get("record"), dict))
        ):
            raise ValueError(f"not a feed item: {str(item)[:200]}")


def _reason(type_: str, record: dict[str, Any]) -> dict[str, Any]:
    if type_ == "restriction":
        return {
            "role": record.get("role"),
            "measures": record.get("measures") or [],
            "since": record.get("since"),
            "source": dict(record.get("source") or {}),
        }
    court = record.get("court") or {}
    return {
        "role": "debtor",
        "measures": record.get("measures") or [],
        "since": record.get("published_on"),
        "source": {
            "kind": "listing",
            "public_id": record.get("public_id"),
            "listing_public_id": record.get("public_id"),
            "court": court.get("name") if isinstance(court, dict) else court,
            "case_number": record.get("case_number"),
        },
    }


# --------------------------------------------------------------------------------------------------
# Webhook server


class WebhookServer(ThreadingHTTPServer):
    """``http.server`` receiving pushes: each POST goes to ``client.handle_webhook``; after a 2xx
    answer has been sent, the new cursor is acknowledged through the API. A 503 (copy not built,
    or a gap) starts a pull in the background, so the server's retry finds the copy caught up."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        client: PartnerClient,
        secret: str | Sequence[str],
        *,
        sync_interval: float | None = None,
    ) -> None:
        secrets_ = _secret_list(secret)
        if not secrets_:
            raise ValueError("a webhook secret is required")
        for each in secrets_:
            webhook_key(each)  # refuse a malformed secret before listening
        super().__init__(address, _WebhookHandler)
        self.client = client
        self.secret = secrets_
        self._stop = threading.Event()
        self._catching_up = threading.Lock()
        if sync_interval:
            threading.Thread(
                target=self._sync_loop, args=(sync_interval,), name="partner-sync", daemon=True
            ).start()

    def _sync_loop(self, interval: float) -> None:
        while not self._stop.is_set():
            self._sync_quietly()
            self._stop.wait(interval)

    def _sync_quietly(self) -> None:
        try:
            summary = self.client.sync()
            log.info("pulled up to seq %s (%s)", summary.cursor, summary)
        except Exception:
            log.exception("pull failed; retrying later")

    def catch_up_in_background(self) -> None:
        if not self._catching_up.acquire(blocking=False):
            return  # one pull at a time

        def run() -> None:
            try:
                self._sync_quietly()
            finally:
                self._catching_up.release()

        threading.Thread(target=run, name="partner-catch-up", daemon=True).start()

    def shutdown_background(self) -> None:
        self._stop.set()


class _WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer
    server_version = "blacklist-partner-client/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._answer(411)
            return
        if int(length) > MAX_WEBHOOK_BODY:
            self._answer(413)
            return
        body = self.rfile.read(int(length))
        try:
            status = self.server.client.handle_webhook(
                self.headers.items(), body, secret=self.server.secret
            )
        except Exception:
            log.exception("webhook not applied")
            status = 500
        self._answer(status)
        if 200 <= status < 300:
            try:
                self.server.client.acknowledge()
            except Exception:
                log.exception("ack failed; the next one carries it (acks are cumulative)")
        elif status == 503:
            self.server.catch_up_in_background()

    def _answer(self, status: int) -> None:
        payload = json.dumps({"status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# --------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Keep a local copy of the partner feed and answer questions from it."
    )
    parser.add_argument("--base-url", required=True, help="e.g. https://blacklist.example")
    parser.add_argument(
        "--key",
        default=os.environ.get("BLACKLIST_PARTNER_KEY"),
        help="API key (bpk_…); default: $BLACKLIST_PARTNER_KEY",
    )
    parser.add_argument("--db", required=True, help="SQLite file of the local copy")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sync", help="pull: snapshot if needed, then the feed; ack")
    serve = commands.add_parser("serve", help="receive pushes (and pull every few minutes)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument(
        "--secret",
        action="append",
        help="webhook signing secret (whsec_…); repeat it to accept the old and the new secret"
        " while rotating; default: $BLACKLIST_WEBHOOK_SECRET (space-separated)",
    )
    serve.add_argument(
        "--sync-interval", type=float, default=300.0, help="seconds between pulls (0: never)"
    )
    check = commands.add_parser("check", help="is this person restricted? (local copy only)")
    check.add_argument("id_number")
    check.add_argument("--measure", default="flight")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command != "check" and not args.key:
        parser.error("--key (or $BLACKLIST_PARTNER_KEY) is required")
    client = PartnerClient(args.base_url, args.key or "", args.db, timeout=args.timeout)
    try:
        if args.command == "sync":
            summary = client.sync()
            print(json.dumps(asdict(summary)))
        elif args.command == "serve":
            secret = args.secret or os.environ.get("BLACKLIST_WEBHOOK_SECRET", "").split()
            if not secret:
                parser.error("--secret (or $BLACKLIST_WEBHOOK_SECRET) is required")
            client.serve(args.host, args.port, secret, sync_interval=args.sync_interval)
        else:
            if client.cursor is None:
                print("the local copy is empty: run sync first", file=sys.stderr)
                return 2
            answer = client.is_restricted(args.id_number, args.measure)
            result = {
                "id_number": normalise_id_number(args.id_number),
                "measure": args.measure,
                "restricted": answer.restricted,
                "reasons": answer.reasons,
                "as_of_seq": client.cursor,
            }
            print(json.dumps(result, ensure_ascii=False, indent=2))
    except (PartnerApiError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

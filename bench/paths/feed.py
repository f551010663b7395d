"""The pull side of the partner API: paging through the feed, and exporting the snapshot.

``feed_pull``
    Items per second a partner client receives paging ``GET /api/v1/partner/feed`` (``limit`` 1000,
    the maximum; following ``next_after`` while ``has_more``) from a fixed point (the oldest
    retained seq) until it has ``items`` items or the log ends, through gunicorn, with the partner's
    bearer key. The client decodes every page (it must, to read ``next_after``). Every run pulls
    the same range. One sync worker serves: a partner pulls page after page, never two at once.

    Baseline: the same pages (same cursor arithmetic: ``SCAN_WINDOW`` seqs at most, ``limit``
    items) queried straight through the DB driver (psycopg / sqlite3) with the feed's own ``WHERE``
    clause, the JSON payloads decoded. No HTTP, no Flask, no ORM, no record cutting or decryption:
    the floor any feed implementation pays to read the log, so the ratio is the price of the whole
    stack on top of it.

``snapshot_export``
    Records per second of ``GET /api/v1/partner/snapshot`` (NDJSON, streamed), read to the end by
    a client that counts lines, through gunicorn with one sync worker, and that worker's resident
    memory sampled during the export (every 20 ms): RSS before, at half the records, and at the
    peak. Flat memory means the peak does not grow with the number of records: the second half of
    the export adds (almost) nothing to what the first half reached. ``details`` reports the
    first (cold) run and the peaks of every run.

    Baseline: the same rows (the projection joined to its sources, the snapshot's ``WHERE``)
    read straight from the driver in the same keyset batches of 2,000 in one REPEATABLE READ
    transaction (as the snapshot session), every ID number decrypted and every record serialized
    to the same JSON line (orjson, as the app), in the same 500-line chunks. The first line of both is compared (``details.first_line_matches``). The
    snapshot partner must have the ``restriction`` scope (``caac`` by default).
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.common import Fixtures, Result, app_env
from bench.paths._support import (
    PartnerRow,
    RssSampler,
    driver_connect,
    partner_row,
    placeholder,
    rss_kib,
)
from bench.server import Served, gunicorn, worker_pids

FEED_LIMIT = 1000
FULL_ITEMS = 100_000
QUICK_ITEMS = 2_000
#: The snapshot is read up to this many records (both sides). At ten million listings a partner's
#: whole snapshot is ~12 million records, ten minutes a run; the rate and the memory curve are
#: plain after a million (the server streams: reading part of it is reading at full speed).
SNAPSHOT_RECORDS = 1_000_000


def run(
    fixtures: Fixtures,
    *,
    runs: int = 3,
    quick: bool = False,
    partner: str = "caac",
    items: int | None = None,
) -> list[Result]:
    want = items or (QUICK_ITEMS if quick else FULL_ITEMS)
    runs = 1 if quick else runs
    with gunicorn(
        "wsgi:app", app_env(fixtures), workers=1, ready_path="/healthz", log_name="feed"
    ) as served:
        return [
            feed_pull(fixtures, served, runs=runs, partner=partner, items=want),
            snapshot_export(fixtures, served, runs=runs, partner=partner, cap=SNAPSHOT_RECORDS),
        ]


# --------------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One partner's HTTP client (http.client; it reconnects when a sync worker closes)."""

    def __init__(self, base_url: str, key: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        self.headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def get(self, path: str) -> http.client.HTTPResponse:
        self.conn.request("GET", path, headers=self.headers)
        return self.conn.getresponse()

    def get_json(self, path: str) -> dict[str, Any]:
        response = self.get(path)
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------------------------------
# Feed


def feed_pull(fixtures: Fixtures, served: Served, *, runs: int, partner: str, items: int) -> Result:
    key = fixtures.partners[partner]["key"]
    client = Client(served.url, key)
    try:
        status = client.get_json("/api/v1/partner/status")
        start = max(0, (status["oldest_retained_seq"] or 0) - 1)
        # Warm the worker (imports, first connection) outside the measurement.
        client.get_json(f"/api/v1/partner/feed?after={start}&limit=1")
        app_runs, pulled, pages = [], 0, 0
        for _ in range(runs):
            t0 = time.perf_counter()
            pulled, pages = _pull_http(client, start, items)
            app_runs.append(pulled / (time.perf_counter() - t0))
    finally:
        client.close()

    conn = driver_connect(fixtures.database_url)
    try:
        sub = partner_row(conn, partner)
        base_runs = []
        for _ in range(runs):
            t0 = time.perf_counter()
            base_items, _ = _pull_driver(conn, sub, start, items)
            base_runs.append(base_items / (time.perf_counter() - t0))
    finally:
        conn.close()
    return Result(
        name="feed_pull",
        metric="items per second, a partner paging the feed (limit 1000) over HTTP",
        unit="items/s",
        runs=app_runs,
        baseline_name="the same page queries through the DB driver, payloads decoded",
        baseline_runs=base_runs,
        target={"min": 20000},
        details={
            "partner": partner,
            "from_seq": start,
            "items": pulled,
            "pages": pages,
            "baseline_items": base_items,
            "newest_seq": status["newest_seq"],
        },
    )


def _pull_http(client: Client, start: int, want: int) -> tuple[int, int]:
    after, n, pages = start, 0, 0
    while n < want:
        page = client.get_json(f"/api/v1/partner/feed?after={after}&limit={FEED_LIMIT}")
        n += len(page["items"])
        pages += 1
        after = page["next_after"]
        if not page["has_more"]:
            break
    return n, pages


def _pull_driver(conn: Any, sub: PartnerRow, start: int, want: int) -> tuple[int, int]:
    """The feed's page query (``feed.changes_for``) with the feed's cursor arithmetic
    (``feed.feed_page``), straight through the driver."""
    from blacklist.partners.feed import SCAN_WINDOW

    p = placeholder(conn)
    sqlite = p == "?"
    types = ", ".join(f"'{t}'" for t in sub.types)
    query = (
        "SELECT seq, type, action, key, measures, payload FROM changes "
        f"WHERE seq > {p} AND seq <= {p} AND type IN ({types}) AND (measures & {p}) <> 0 "
        "AND (action = 'remove' OR payload IS NOT NULL) "
        f"ORDER BY seq LIMIT {p}"
    )
    cur = conn.cursor()
    cur.execute("SELECT max(seq) FROM changes")
    head = cur.fetchone()[0] or 0
    after, n, pages = start, 0, 0
    while n < want:
        upto = min(head, after + SCAN_WINDOW)
        cur.execute(query, (after, upto, sub.measures, FEED_LIMIT))
        rows = cur.fetchall()
        page = [
            {
                "seq": seq,
                "type": type_,
                "action": action,
                "key": key,
                "record": None
                if payload is None
                else (json.loads(payload) if sqlite else payload),  # psycopg decodes json
            }
            for seq, type_, action, key, _measures, payload in rows
        ]
        n += len(page)
        pages += 1
        after = page[-1]["seq"] if len(page) == FEED_LIMIT else upto
        if after >= head:
            break
    cur.close()
    if not sqlite:
        conn.rollback()
    return n, pages


# --------------------------------------------------------------------------------------------------
# Snapshot


def snapshot_export(
    fixtures: Fixtures, served: Served, *, runs: int, partner: str, cap: int = SNAPSHOT_RECORDS
) -> Result:
    conn = driver_connect(fixtures.database_url)
    try:
        sub = partner_row(conn, partner)
        if sub.scope != "restriction":
            raise ValueError(f"snapshot_export needs a restriction-scope partner, not {partner}")
        base_runs, total, base_first = [], 0, b""
        for _ in range(runs):
            t0 = time.perf_counter()
            total, base_first = _snapshot_driver(conn, sub, cap=cap)
            base_runs.append(total / (time.perf_counter() - t0))
    finally:
        conn.close()

    pids = worker_pids(served.pid)
    if len(pids) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {pids}")
    pid = pids[0]
    client = Client(served.url, fixtures.partners[partner]["key"])
    app_runs, memory, records, first_line = [], [], 0, b""
    try:
        for _ in range(runs):
            before = rss_kib(pid)
            with RssSampler(pid) as sampler:
                t0 = time.perf_counter()
                records, half_peak, first_line = _snapshot_http(
                    client, sampler, half=total // 2, cap=cap
                )
                seconds = time.perf_counter() - t0
            after = rss_kib(pid)
            app_runs.append(records / seconds)
            memory.append(
                {
                    "rss_before_mb": round(before["VmRSS"] / 1024, 1),
                    "rss_at_half_mb": round(half_peak / 1024, 1),
                    "peak_rss_mb": round(sampler.peak / 1024, 1),
                    "hwm_before_mb": round(before["VmHWM"] / 1024, 1),
                    "hwm_after_mb": round(after["VmHWM"] / 1024, 1),
                    "samples": sampler.samples,
                }
            )
    finally:
        client.close()
    cold = memory[0]
    delta = cold["peak_rss_mb"] - cold["rss_before_mb"]
    second_half = cold["peak_rss_mb"] - cold["rss_at_half_mb"]
    return Result(
        name="snapshot_export",
        metric="records per second of the partner snapshot (NDJSON, streamed) over HTTP",
        unit="records/s",
        runs=app_runs,
        baseline_name="the same rows from a server-side cursor, decrypted, as the same JSON lines",
        baseline_runs=base_runs,
        target={"min": 50000},
        details={
            "partner": partner,
            "records": records,
            "baseline_records": total,
            "first_line_matches": first_line == base_first,
            "worker_rss_before_mb": cold["rss_before_mb"],
            "worker_rss_at_half_mb": cold["rss_at_half_mb"],
            "worker_peak_rss_mb": cold["peak_rss_mb"],
            "worker_rss_delta_mb": round(delta, 1),
            "second_half_growth_mb": round(second_half, 1),
            "mb_per_100k_records": round(delta / records * 100_000, 2) if records else None,
            "per_run": memory,
        },
    )


def _snapshot_http(
    client: Client, sampler: RssSampler, *, half: int, cap: int
) -> tuple[int, int, bytes]:
    """Read the snapshot (at most ``cap`` records, then hang up); return the records, the worker's
    peak RSS when ``half`` records were reached (KiB), and the first line."""
    response = client.get("/api/v1/partner/snapshot")
    if response.status != 200:
        raise RuntimeError(f"snapshot: {response.status} {response.read()[:300]!r}")
    lines, half_peak, head = 0, 0, b""
    while chunk := response.read(1 << 16):
        if not head:
            head = chunk
        lines += chunk.count(b"\n")
        if not half_peak and lines >= half:
            half_peak = sampler.mark()
        if lines >= cap:
            client.close()  # hang up mid-stream: the worker closes the snapshot's session
            lines = cap
            break
    return lines, half_peak or sampler.mark(), head.split(b"\n", 1)[0]


_SNAPSHOT_SQL = """
SELECT r.id, r.person_kind, r.person_name, r.person_cipher, r.role, r.measures, r.since,
       r.source_kind, l.public_id, o.public_id, c.name, cs.case_number
FROM restrictions r
JOIN courts c ON c.id = r.court_id
LEFT JOIN listings l ON l.id = r.listing_id
LEFT JOIN restriction_orders o ON o.id = r.order_id
LEFT JOIN cases cs ON cs.id = COALESCE(l.case_id, o.case_id)
WHERE r.is_active = {true} AND (r.measures & {p}) <> 0 AND r.id > {p}
ORDER BY r.id
LIMIT {p}
"""
#: Rows per keyset batch, as the app reads them (``partners.feed.SNAPSHOT_BATCH``).
_BATCH = 2000


def _snapshot_driver(conn: Any, sub: PartnerRow, *, cap: int) -> tuple[int, bytes]:
    """The snapshot's restriction lines straight from the driver; returns (records, first line)."""
    from bench.paths._support import vault
    from blacklist.restrictions.catalogue import codes_of

    decrypt = vault().decrypt
    p = placeholder(conn)
    sqlite = p == "?"
    sql = _SNAPSHOT_SQL.format(p=p, true="1" if sqlite else "true")
    if sqlite:
        conn.execute("BEGIN")
    else:
        import psycopg

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    cur = conn.cursor()

    def rows():
        """Keyset batches in one transaction, as the app reads the snapshot (one cursor over the
        whole ordered join starts only after minutes at ten million listings)."""
        last = 0
        while True:
            cur.execute(sql, (sub.measures, last, _BATCH))
            batch = cur.fetchall()
            yield from batch
            if len(batch) < _BATCH:
                return
            last = batch[-1][0]

    codes: dict[int, list[str]] = {}
    records, sink, first = 0, 0, b""
    chunk: list[bytes] = []
    for (
        rid,
        kind,
        name,
        cipher,
        role,
        measures,
        since,
        source_kind,
        lpid,
        opid,
        court,
        case,
    ) in rows():
        cut = measures & sub.measures
        if cut not in codes:
            codes[cut] = codes_of(cut)
        from_order = source_kind != "listing" and opid is not None
        item = {
            "type": "restriction",
            "key": f"restriction:{rid}",
            "record": {
                "person": {"kind": kind, "name": name, "id_number": decrypt(cipher)},
                "role": role,
                "measures": codes[cut],
                "since": since if isinstance(since, str) else since.isoformat(),
                "source": {
                    "kind": source_kind,
                    "public_id": opid if from_order else lpid,
                    "listing_public_id": lpid,
                    "court": court,
                    "case_number": case,
                },
            },
        }
        chunk.append(orjson.dumps(item))  # as the app does: the fastest JSON there is
        records += 1
        if len(chunk) >= 500 or records >= cap:
            data = b"\n".join(chunk) + b"\n"
            first = first or data.split(b"\n", 1)[0]
            sink += len(data)
            chunk = []
        if records >= cap:
            break
    if chunk:
        data = b"\n".join(chunk) + b"\n"
        first = first or data.split(b"\n", 1)[0]
        sink += len(data)
    cur.close()
    if sqlite:
        conn.execute("ROLLBACK")
    else:
        conn.rollback()
    return records, first

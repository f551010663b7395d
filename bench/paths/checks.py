"""Partner checks (``POST /api/v1/partner/checks``, docs/partners.md): may these people be sold a
ticket? The call partners make on their own hot path (an airline's booking system asks before
issuing a ticket), so its cost per person is what the issue sets targets for.

Two results:

- ``partner_check_single``: one person per request, requests/s through gunicorn, driven by wrk.
  The baseline is ``bench.baseline_app`` (the same HMAC and the same indexed lookup on the
  projection in a bare Flask + SQLAlchemy endpoint) under gunicorn with the same workers, driven by
  the same wrk settings over the same request bodies. Runs alternate app, baseline, app, baseline…
  so that noise on the shared machine falls on both alike. Target: at least 0.7 of the baseline.
- ``partner_check_batch``: 1,000 people per request (the API's maximum, ``rules.MAX_CHECK_PEOPLE``),
  people checked per second. The baseline is the lookup alone: the same 1,000 hashes (computed
  beforehand) looked up with the database driver (``person_hash = ANY(%s) AND is_active`` with the
  measure's bit on psycopg, ``IN (…)`` on sqlite3) by as many processes as gunicorn has workers,
  in the same run. Target: 50,000 people/s.

The people asked about are half on the list (debtors, legal representatives of listed
organisations, organisations' credit codes) and half not (valid ID numbers of nobody listed), so
both the hit path (reasons with their sources) and the miss path are exercised. The partner is
``caac`` (measure ``flight``, restriction scope), authenticated as the API requires:
``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from bench import load
from bench.common import Fixtures, Result, app_env, median
from bench.load import Request, run_wrk
from bench.server import Served, gunicorn

PATH = "/api/v1/partner/checks"
PARTNER = "caac"
MEASURE = "flight"
#: gunicorn workers of both the app and the baseline app (sync workers: one request at a time each).
WORKERS = 2
#: wrk connections: two per worker, so that a worker never waits for wrk to reconnect (sync workers
#: close the connection after each response).
CONNECTIONS = 2 * WORKERS
BATCH = 1000
#: Seconds per measured run, and of the warm-up before the first.
DURATION, QUICK_DURATION, WARMUP = 10, 1, 2
#: Distinct request bodies the single check rotates over, and distinct batches.
SINGLE_BODIES = 400
BATCHES, QUICK_BATCHES = 20, 3


def run(
    fixtures: Fixtures, *, runs: int = 3, quick: bool = False, profile: bool = False
) -> list[Result]:
    """Both check benchmarks. ``quick``: one short run each (smoke test). ``profile``: one more app run
    of each under py-spy, not counted (``bench/.work/profile-*.txt``)."""
    load.require_wrk()
    if quick:
        runs = 1
    duration = QUICK_DURATION if quick else DURATION
    return [
        check_single(fixtures, runs=runs, duration=duration, warmup=not quick, profile=profile),
        check_batch(fixtures, runs=runs, duration=duration, warmup=not quick, profile=profile),
    ]


# --------------------------------------------------------------------------------------------------
# Who is asked about


def mixed_ids(fixtures: Fixtures, count: int, *, start: int = 0) -> list[str]:
    """``count`` identifiers, alternately on the list and not. The listed ones cycle through the
    sample's debtors, legal representatives and organisations (interleaved); the unlisted ones
    through the sample's unlisted ID numbers. ``start`` shifts both cycles (distinct batches)."""
    sample = fixtures.sample
    pools = [
        sample.get("listed_person_ids") or [],
        sample.get("legal_rep_ids") or [],
        accepted_identifiers(sample.get("org_codes") or []),
    ]
    listed = [x for group in _interleave(pools) for x in group]
    unlisted = sample.get("unlisted_person_ids") or []
    if not listed or not unlisted:
        raise ValueError("the fixtures hold no listed or no unlisted identifiers to check")
    ids = []
    for i in range(count):
        pool = listed if i % 2 == 0 else unlisted
        ids.append(pool[(start + i // 2) % len(pool)])
    return ids


def accepted_identifiers(values: list[str]) -> list[str]:
    """The identifiers the app's parser accepts: a guard, since one it refused would fail the run
    with 422s. (It used to refuse all-digit credit codes; fixed with issue #8.)"""
    from blacklist.core.errors import ValidationFailed
    from blacklist.core.identity import parse_identifier

    accepted = []
    for value in values:
        try:
            parse_identifier(value)
        except ValidationFailed:
            continue
        accepted.append(value)
    return accepted


def _interleave(pools: list[list[str]]) -> Iterator[list[str]]:
    longest = max(len(p) for p in pools)
    for i in range(longest):
        yield [p[i] for p in pools if i < len(p)]


def check_body(ids: list[str]) -> str:
    people = [{"id_number": x} for x in ids]
    return json.dumps({"measure": MEASURE, "people": people}, separators=(",", ":"))


def partner_headers(fixtures: Fixtures) -> dict[str, str]:
    partner = fixtures.partners.get(PARTNER)
    if not partner or not partner.get("key"):
        raise ValueError(f"the fixtures hold no API key of partner {PARTNER!r}")
    if MEASURE not in partner.get("measures", [MEASURE]):
        raise ValueError(f"partner {PARTNER!r} does not hold measure {MEASURE!r}")
    return {"Authorization": f"Bearer {partner['key']}", "Content-Type": "application/json"}


# --------------------------------------------------------------------------------------------------
# The servers


@contextmanager
def serve_app(fixtures: Fixtures, *, workers: int = WORKERS) -> Iterator[Served]:
    with gunicorn("wsgi:app", app_env(fixtures), workers=workers, log_name="checks-app") as s:
        yield s


@contextmanager
def serve_baseline(fixtures: Fixtures, *, workers: int = WORKERS) -> Iterator[Served]:
    env = app_env(fixtures)
    with gunicorn(
        "bench.baseline_app:app", env, workers=workers, log_name="checks-baseline"
    ) as served:
        yield served


# --------------------------------------------------------------------------------------------------
# One person per request


def check_single(
    fixtures: Fixtures,
    *,
    runs: int = 3,
    duration: float = DURATION,
    warmup: bool = True,
    profile: bool = False,
) -> Result:
    """Requests/s of one-person checks, app and baseline alternating (A B A B…), medians."""
    requests = [Request(PATH, check_body([x])) for x in mixed_ids(fixtures, SINGLE_BODIES, start=0)]
    headers = partner_headers(fixtures)
    app_runs: list[load.LoadResult] = []
    base_runs: list[load.LoadResult] = []
    profile_info: dict[str, Any] = {}

    def drive(url: str, name: str, seconds: float) -> load.LoadResult:
        return run_wrk(
            url, requests, method="POST", headers=headers, duration=seconds,
            connections=CONNECTIONS, name=name,
        )  # fmt: skip

    with ExitStack() as stack:
        app = stack.enter_context(serve_app(fixtures))
        base = stack.enter_context(serve_baseline(fixtures))
        if warmup:
            drive(app.url, "check-single-warmup", WARMUP)
            drive(base.url, "check-single-warmup", WARMUP)
        for _ in range(runs):
            app_runs.append(drive(app.url, "check-single-app", duration))
            base_runs.append(drive(base.url, "check-single-baseline", duration))
        if profile:
            profile_info = load.profile_run(
                app.pid, "check-single", duration,
                lambda: drive(app.url, "check-single-profile", duration),
            )  # fmt: skip

    return Result(
        name="partner_check_single",
        metric="requests/s, one person per request",
        unit="req/s",
        runs=[r.requests_per_s for r in app_runs],
        baseline_name="bare Flask + SQLAlchemy: same HMAC + indexed lookup (bench.baseline_app)",
        baseline_runs=[r.requests_per_s for r in base_runs],
        target={"min_ratio": 0.7},
        details={
            **load.latency_details(app_runs, "app"),
            **load.latency_details(base_runs, "baseline"),
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "duration_s": duration,
            "distinct_bodies": len(requests),
            "listed_share": 0.5,
            "partner": PARTNER,
            "measure": MEASURE,
            "requests_app": [r.requests for r in app_runs],
            "requests_baseline": [r.requests for r in base_runs],
            **profile_info,
        },
    )


# --------------------------------------------------------------------------------------------------
# 1,000 people per request


def check_batch(
    fixtures: Fixtures,
    *,
    runs: int = 3,
    duration: float = DURATION,
    warmup: bool = True,
    profile: bool = False,
) -> Result:
    """People/s of 1,000-person checks through the app, against the bare lookup of the same
    hashes by the driver, alternating (A B A B…), medians."""
    from blacklist.partners import rules

    if rules.MAX_CHECK_PEOPLE < BATCH:
        raise RuntimeError(f"the API takes at most {rules.MAX_CHECK_PEOPLE} people per check")
    count = BATCHES if warmup else QUICK_BATCHES
    batches = [mixed_ids(fixtures, BATCH, start=i * (BATCH // 2)) for i in range(count)]
    requests = [Request(PATH, check_body(ids)) for ids in batches]
    hashes = [_hashes(ids) for ids in batches]
    headers = partner_headers(fixtures)
    app_runs: list[load.LoadResult] = []
    base_runs: list[dict[str, float]] = []
    profile_info: dict[str, Any] = {}

    def drive(url: str, name: str, seconds: float) -> load.LoadResult:
        return run_wrk(
            url, requests, method="POST", headers=headers, duration=seconds,
            connections=CONNECTIONS, timeout=60, name=name,
        )  # fmt: skip

    def lookup(seconds: float) -> dict[str, float]:
        return driver_lookup(fixtures, hashes, processes=WORKERS, duration=seconds)

    with serve_app(fixtures) as app:
        if warmup:
            drive(app.url, "check-batch-warmup", WARMUP)
            lookup(WARMUP)
        for _ in range(runs):
            app_runs.append(drive(app.url, "check-batch-app", duration))
            base_runs.append(lookup(duration))
        if profile:
            profile_info = load.profile_run(
                app.pid, "check-batch", duration,
                lambda: drive(app.url, "check-batch-profile", duration),
            )  # fmt: skip

    return Result(
        name="partner_check_batch",
        metric="people checked per second, 1,000 per request",
        unit="people/s",
        runs=[r.requests_per_s * BATCH for r in app_runs],
        baseline_name=f"the lookup alone: person_hash = ANY(…) with the driver, {WORKERS} processes",
        baseline_runs=[b["people_per_s"] for b in base_runs],
        target={"min": 50000},
        details={
            **load.latency_details(app_runs, "app"),
            "baseline_batch_ms_p50": median([b["batch_ms_p50"] for b in base_runs]),
            "baseline_rows_per_batch": median([b["rows_per_batch"] for b in base_runs]),
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "duration_s": duration,
            "batch": BATCH,
            "distinct_batches": len(batches),
            "listed_share": 0.5,
            "partner": PARTNER,
            "measure": MEASURE,
            "requests_app": [r.requests for r in app_runs],
            **profile_info,
        },
    )


def _hashes(ids: list[str]) -> list[str]:
    """The lookup keys of ``ids`` exactly as the app computes them (its identity vault, its
    identifier parsing), so that the baseline finds the same rows."""
    from bench.paths._support import vault as identity_vault
    from blacklist.core.identity import parse_identifier

    vault = identity_vault()
    return sorted({vault.hash(parse_identifier(x)[1]) for x in ids})


def driver_lookup(
    fixtures: Fixtures,
    batches: list[list[str]],
    *,
    processes: int,
    duration: float,
    people_per_batch: int = BATCH,
) -> dict[str, float]:
    """``processes`` processes each look up batch after batch (rotating) with the bare driver for
    ``duration`` seconds; people looked up per second in all (each batch of hashes stands for
    ``people_per_batch`` people, as the request it comes from, duplicates included), and the median
    time of a batch."""
    from blacklist.restrictions.catalogue import mask_of

    bit = mask_of([MEASURE])
    outcomes = load.in_processes(
        "bench.paths.checks:lookup_worker",
        [(fixtures.database_url, batches, bit, people_per_batch, i) for i in range(processes)],
        duration=duration,
    )
    people = sum(o["people"] for o in outcomes)
    elapsed = max(o["elapsed"] for o in outcomes)
    times = sorted(t for o in outcomes for t in o["batch_ms"])
    return {
        "people_per_s": people / elapsed if elapsed else 0.0,
        "batch_ms_p50": load.percentile(times, 50),
        "rows_per_batch": sum(o["rows"] for o in outcomes) / max(1, len(times)),
    }


def lookup_worker(url: str, batches: list[list[str]], bit: int, people_per_batch: int, offset: int):
    """Runs in a baseline process: connect, then (when told) look up batches until ``until``."""
    connection, lookup = _driver_lookup(url)
    cursor = connection.cursor()

    def work(until: float) -> dict[str, Any]:
        people = rows = 0
        batch_ms: list[float] = []
        i = offset * max(1, len(batches) // 2)
        started = time.perf_counter()
        while time.time() < until:
            hashes = batches[i % len(batches)]
            i += 1
            t0 = time.perf_counter()
            rows += len(lookup(cursor, hashes, bit))
            connection.rollback()
            batch_ms.append((time.perf_counter() - t0) * 1000)
            people += people_per_batch
        elapsed = time.perf_counter() - started
        connection.close()
        return {"people": people, "rows": rows, "elapsed": elapsed, "batch_ms": batch_ms}

    return work


def _driver_lookup(url: str):
    """A bare driver connection to the fixtures' database, and the lookup on it."""
    where = "AND is_active AND (measures & {bit}) <> 0 ORDER BY id"
    select = "SELECT person_hash, role, measures, since FROM restrictions WHERE person_hash"
    if url.startswith("sqlite"):
        import sqlite3

        def lookup_sqlite(cursor, hashes: list[str], bit: int) -> list:
            marks = ",".join("?" * len(hashes))
            sql = f"{select} IN ({marks}) {where.format(bit='?')}"
            return cursor.execute(sql, [*hashes, bit]).fetchall()

        return sqlite3.connect(load.sqlite_path(url)), lookup_sqlite
    import psycopg

    sql = f"{select} = ANY(%s) {where.format(bit='%s')}"

    def lookup_pg(cursor, hashes: list[str], bit: int) -> list:
        cursor.execute(sql, (hashes, bit))
        return cursor.fetchall()

    return psycopg.connect(load.libpq_url(url)), lookup_pg


if __name__ == "__main__":
    raise SystemExit(load.path_cli(run, prog="python -m bench.paths.checks"))

"""Public search (``GET /api/v1/public/listings``, API.md public part): anyone looks someone up by
exact name or by ID number / credit code. The issue's target is a latency: p95 at most 20 ms.

Two results, ``public_search_name`` and ``public_search_id``: the p95 latency (ms) under load through
gunicorn, driven by wrk with as many connections as gunicorn has workers (every worker busy all the
time, nothing waiting in the listen backlog: the latency is the service time under full load, not
queueing). The requests rotate over the sample's names (``?name=``: names of listed debtors, many
shared by several listings) or identifiers (``?id_number=``: three in four on the list, people's ID
numbers and organisations' credit codes, one in four not).

The baseline is "the same SQL through the driver alone": each search is first made once through the
app in-process with every statement it sends captured at the cursor (SQLAlchemy's
``before_cursor_execute``: the SQL exactly as issued, with its parameters, the eager loads'
``IN (…)`` lists included); then as many processes as gunicorn has workers replay those statement
lists with the bare driver (psycopg on PostgreSQL, sqlite3 on SQLite), a transaction per search as
the app's request session has, for the same duration, and the same percentiles are computed over
each search's time. The difference is what the app adds around its SQL: HTTP, routing, parsing and
validation, the ORM, marshmallow and JSON. Runs alternate app, baseline, app, baseline…
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from bench import load
from bench.common import Fixtures, Result, app_env, median
from bench.load import Request, run_wrk
from bench.paths.checks import accepted_identifiers
from bench.server import Served, gunicorn

PATH = "/api/v1/public/listings"
WORKERS = 2
CONNECTIONS = WORKERS
DURATION, QUICK_DURATION, WARMUP = 10, 1, 2
#: Distinct searches of each kind the load rotates over.
SEARCHES, QUICK_SEARCHES = 200, 20

#: A statement as the driver received it: SQL text and its parameters (dict or tuple).
Statement = tuple[str, Any]


def run(
    fixtures: Fixtures, *, runs: int = 3, quick: bool = False, profile: bool = False
) -> list[Result]:
    """Both searches. ``quick``: one short run each (smoke test). ``profile``: one more app run of
    each under py-spy, not counted (``bench/.work/profile-*.txt``)."""
    load.require_wrk()
    if quick:
        runs = 1
    duration = QUICK_DURATION if quick else DURATION
    count = QUICK_SEARCHES if quick else SEARCHES
    kinds = {
        "public_search_name": ("exact name", name_searches(fixtures, count)),
        "public_search_id": ("ID number or credit code", id_searches(fixtures, count)),
    }
    captured = {name: capture_sql(fixtures, paths) for name, (_, paths) in kinds.items()}
    results = []
    with serve_app(fixtures) as app:
        for name, (label, paths) in kinds.items():
            result = _measure(
                fixtures, app, name, label, paths, captured[name],
                runs=runs, duration=duration, warmup=not quick, profile=profile,
            )  # fmt: skip
            results.append(result)
    return results


# --------------------------------------------------------------------------------------------------
# What is searched for


def name_searches(fixtures: Fixtures, count: int) -> list[str]:
    """Paths of ``count`` searches by exact name (distinct names of listed debtors, cycled)."""
    names = list(dict.fromkeys(fixtures.sample.get("common_names") or []))
    if not names:
        raise ValueError("the fixtures hold no names to search for")
    return [_path(name=names[i % len(names)]) for i in range(min(count, max(len(names), 1)))]


def id_searches(fixtures: Fixtures, count: int) -> list[str]:
    """Paths of ``count`` searches by identifier: three in four on the list (debtors' ID numbers and
    organisations' credit codes, alternately; a legal representative is not a debtor, so this search
    does not find one), one in four not."""
    sample = fixtures.sample
    listed = [
        x
        for pair in zip(
            sample.get("listed_person_ids") or [],
            _cycle(accepted_identifiers(sample.get("org_codes") or []), 10**9),
            strict=False,
        )
        for x in pair
    ] or (sample.get("listed_person_ids") or [])
    unlisted = sample.get("unlisted_person_ids") or []
    if not listed or not unlisted:
        raise ValueError("the fixtures hold no listed or no unlisted identifiers to search for")
    paths = []
    for i in range(count):
        number = unlisted[(i // 4) % len(unlisted)] if i % 4 == 3 else listed[i % len(listed)]
        paths.append(_path(id_number=number))
    return paths


def _cycle(values: list[str], count: int) -> Iterator[str]:
    for i in range(count if values else 0):
        yield values[i % len(values)]


def _path(**query: str) -> str:
    return f"{PATH}?{urlencode(query)}"


# --------------------------------------------------------------------------------------------------
# The SQL the app issues


def capture_sql(fixtures: Fixtures, paths: list[str]) -> list[list[Statement]]:
    """Make each search once through the app, in this process, and return, per search, every
    statement its request sent to the driver. ``AssertionError`` unless each answered 200."""
    from sqlalchemy import event

    from blacklist import create_app
    from blacklist.db import get_db

    app = create_app(
        {
            "DATABASE_URL": fixtures.database_url,
            "SCHEDULER_IN_PROCESS": False,
            # Limits high enough never to bite, rather than RATELIMIT_ENABLED = False: Flask-Limiter's
            # limiter is one object per process, and its switch would stay off for other apps.
            "PUBLIC_SEARCH_RATE_LIMIT": "1000000 per minute",
            "PUBLIC_RECORD_RATE_LIMIT": "1000000 per minute",
            "TESTING": False,
        }
    )
    engine = get_db(app).engine
    sink: list[Statement] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        if executemany:
            raise AssertionError("a public search wrote to the database")
        sink.append((statement, parameters))

    client = app.test_client()
    client.get(paths[0])  # connects (the dialect's first queries are not the search's)
    event.listen(engine, "before_cursor_execute", record)
    captured = []
    try:
        for path in paths:
            sink.clear()
            response = client.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path} answered {response.status_code}: {response.text}")
            captured.append(list(sink))
    finally:
        event.remove(engine, "before_cursor_execute", record)
        get_db(app).dispose()
    return captured


def replay_worker(url: str, searches: list[list[Statement]], offset: int):
    """Runs in a baseline process: connect, then (when told) replay search after search
    (rotating), a transaction each, until ``until``; the time of each search in ms."""
    connection = _connect(url)
    cursor = connection.cursor()

    def work(until: float) -> list[float]:
        times: list[float] = []
        i = offset * max(1, len(searches) // 2)
        while time.time() < until:
            statements = searches[i % len(searches)]
            i += 1
            t0 = time.perf_counter()
            for sql, parameters in statements:
                cursor.execute(sql, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            connection.rollback()
            times.append((time.perf_counter() - t0) * 1000)
        connection.close()
        return times

    return work


def _connect(url: str):
    """A bare driver connection set up as the app's engine sets up its own (``blacklist.db``)."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(load.sqlite_path(url), timeout=30, check_same_thread=False)
        connection.isolation_level = None  # the app issues BEGIN itself (captured with the rest)
        for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL"):
            connection.execute(f"PRAGMA {pragma}")
        return connection
    import psycopg

    return psycopg.connect(load.libpq_url(url))


def driver_replay(
    fixtures: Fixtures, searches: list[list[Statement]], *, processes: int, duration: float
) -> dict[str, float]:
    """``processes`` processes replaying for ``duration`` seconds: searches/s and percentiles."""
    outcomes = load.in_processes(
        "bench.paths.search:replay_worker",
        [(fixtures.database_url, searches, i) for i in range(processes)],
        duration=duration,
    )
    times = sorted(t for o in outcomes for t in o)
    if not times:
        raise load.LoadError("the baseline completed no search")
    return {
        "requests_per_s": len(times) / duration,
        "p50": load.percentile(times, 50),
        "p90": load.percentile(times, 90),
        "p95": load.percentile(times, 95),
        "p99": load.percentile(times, 99),
        "requests": len(times),
    }


# --------------------------------------------------------------------------------------------------
# The measurement


@contextmanager
def serve_app(fixtures: Fixtures, *, workers: int = WORKERS) -> Iterator[Served]:
    with gunicorn("wsgi:app", app_env(fixtures), workers=workers, log_name="search-app") as s:
        yield s


def _measure(
    fixtures: Fixtures,
    app: Served,
    name: str,
    label: str,
    paths: list[str],
    captured: list[list[Statement]],
    *,
    runs: int,
    duration: float,
    warmup: bool,
    profile: bool,
) -> Result:
    requests = [Request(p) for p in paths]
    app_runs: list[load.LoadResult] = []
    base_runs: list[dict[str, float]] = []
    profile_info: dict[str, Any] = {}

    def drive(run_name: str, seconds: float) -> load.LoadResult:
        return run_wrk(app.url, requests, duration=seconds, connections=CONNECTIONS, name=run_name)

    def replay(seconds: float) -> dict[str, float]:
        return driver_replay(fixtures, captured, processes=WORKERS, duration=seconds)

    if warmup:
        drive(f"{name}-warmup", WARMUP)
        replay(WARMUP)
    for _ in range(runs):
        app_runs.append(drive(f"{name}-app", duration))
        base_runs.append(replay(duration))
    if profile:
        profile_info = load.profile_run(
            app.pid, name, duration, lambda: drive(f"{name}-profile", duration)
        )

    return Result(
        name=name,
        metric=f"p95 latency of a public search by {label}, under load",
        unit="ms",
        runs=[r.p95 for r in app_runs],
        baseline_name=f"the same SQL replayed with the bare driver, {WORKERS} processes",
        baseline_runs=[b["p95"] for b in base_runs],
        higher_is_better=False,
        target={"max": 20},
        details={
            **load.latency_details(app_runs, "app"),
            "baseline_requests_per_s": median([b["requests_per_s"] for b in base_runs]),
            "baseline_p50_ms": median([b["p50"] for b in base_runs]),
            "baseline_p95_ms": median([b["p95"] for b in base_runs]),
            "baseline_p99_ms": median([b["p99"] for b in base_runs]),
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "duration_s": duration,
            "distinct_searches": len(paths),
            "statements_per_search": round(statistics.mean(len(c) for c in captured), 2),
            "example_path": paths[0],
            "example_sql": [sql for sql, _ in captured[0]],
            "requests_app": [r.requests for r in app_runs],
            "requests_baseline": [b["requests"] for b in base_runs],
            **profile_info,
        },
    )


if __name__ == "__main__":
    raise SystemExit(load.path_cli(run, prog="python -m bench.paths.search"))

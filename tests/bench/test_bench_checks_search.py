"""Smoke test of the partner-check and public-search benchmarks (bench/paths/checks.py, search.py)
at a tiny scale: a few hundred generated listings, one run of about a second per measurement. It
proves the benchmarks run end to end against real gunicorn, wrk and the database, produce
well-formed results, and that every measured request succeeded; it asserts nothing about speed.

The database is the session's throw-away bench database (``bench_fixtures``, tests/bench/
conftest.py): a SQLite file, or a PostgreSQL database beside BLACKLIST_TEST_DATABASE_URL's."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from bench import load
from bench.common import Fixtures, Result

pytestmark = [
    pytest.mark.skipif(
        not (Path(load.WRK).exists() or shutil.which("wrk")),
        reason="wrk is not installed (expected at /usr/bin/wrk): apt-get install wrk",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None,
        reason="gunicorn is not installed in this environment: pip install gunicorn",
    ),
]


@pytest.fixture
def fixtures(bench_fixtures) -> Fixtures:
    """The session's generated bench database (tests/bench/conftest.py): these paths only read."""
    return bench_fixtures


def _well_formed(result: Result, name: str, unit: str) -> dict:
    assert result.name == name
    assert result.unit == unit
    assert len(result.runs) == 1 and result.runs[0] > 0
    assert len(result.baseline_runs) == 1 and result.baseline_runs[0] > 0
    assert result.baseline_name
    assert result.ratio is not None and result.ratio > 0
    assert result.met in (True, False)
    data = result.as_dict()
    json.dumps(data)  # the runner writes results as JSON
    return data["details"]


def test_partner_checks(fixtures):
    from bench.paths import checks

    single, batch = checks.run(fixtures, runs=1, quick=True)

    details = _well_formed(single, "partner_check_single", "req/s")
    assert single.target == {"min_ratio": 0.7}
    assert single.higher_is_better
    # wrk counted completed requests, and run_wrk raises on any non-2xx or socket error.
    assert details["requests_app"][0] > 0 and details["requests_baseline"][0] > 0
    assert details["app_p50_ms"] <= details["app_p95_ms"] <= details["app_p99_ms"]

    details = _well_formed(batch, "partner_check_batch", "people/s")
    assert batch.target == {"min": 50000}
    assert details["requests_app"][0] > 0
    assert details["batch"] == 1000
    # Half of every batch is on the list: the baseline's lookup found rows.
    assert details["baseline_rows_per_batch"] > 0


def test_public_search(fixtures):
    from bench.paths import search

    results = search.run(fixtures, runs=1, quick=True)

    assert [r.name for r in results] == ["public_search_name", "public_search_id"]
    for result in results:
        details = _well_formed(result, result.name, "ms")
        assert not result.higher_is_better
        assert result.target == {"max": 20}
        assert result.runs == [details["app_p95_ms"]]
        assert details["app_p50_ms"] <= details["app_p95_ms"] <= details["app_p99_ms"]
        assert details["baseline_p50_ms"] <= details["baseline_p95_ms"]
        assert details["requests_app"][0] > 0 and details["requests_baseline"][0] > 0
        assert details["statements_per_search"] >= 2  # a count and the page, at least


def test_a_run_that_is_refused_fails_loudly(fixtures):
    """A load run whose requests are refused (here: a wrong partner key, 401) is no measurement."""
    from bench.paths import checks

    body = checks.check_body(checks.mixed_ids(fixtures, 1))
    headers = {"Authorization": "Bearer bpk_not-a-key", "Content-Type": "application/json"}
    with checks.serve_app(fixtures, workers=1) as app:
        with pytest.raises(load.LoadError, match="401"):  # caught before the run
            load.run_wrk(
                app.url, [load.Request(checks.PATH, body)], method="POST", headers=headers,
                duration=1,
            )  # fmt: skip
        with pytest.raises(load.LoadError, match=r"non-2xx.*401"):  # counted by wrk in the run
            load.run_wrk(
                app.url, [load.Request(checks.PATH, body)], method="POST", headers=headers,
                duration=1, preflight=0,
            )  # fmt: skip

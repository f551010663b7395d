"""Smoke tests of the benchmark paths feed, push, sweeps and creation at a tiny scale (quick mode,
one run): the results are well-formed and the work really happened (items pulled, records
exported, batches delivered and verified, listings deleted, drafts created). No timing is
asserted: the figures are the benchmark's business, not the test's."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import create_engine, func, select

from bench.common import Fixtures, Result


def _well_formed(result: Result, name: str) -> None:
    assert result.name == name
    assert result.unit and result.metric
    assert len(result.runs) == 1 and result.runs[0] > 0
    assert len(result.baseline_runs) == 1 and result.baseline_runs[0] > 0
    assert result.baseline_name
    assert result.ratio is not None and result.ratio > 0
    json.dumps(result.as_dict(), default=str)  # reportable as JSON


def _engine(fixtures: Fixtures):
    return create_engine(fixtures.database_url)


def test_feed_and_snapshot_pull_items_over_http(bench_fixtures):
    from bench.paths import feed

    pull, snapshot = feed.run(bench_fixtures, runs=1, quick=True)

    _well_formed(pull, "feed_pull")
    assert pull.details["items"] > 0
    assert pull.details["items"] == pull.details["baseline_items"]
    _well_formed(snapshot, "snapshot_export")
    assert snapshot.details["records"] > 0
    assert snapshot.details["records"] == snapshot.details["baseline_records"]
    assert snapshot.details["first_line_matches"]
    assert snapshot.details["worker_peak_rss_mb"] > 0
    assert snapshot.details["worker_rss_before_mb"] > 0


def test_push_delivers_signed_batches_to_the_receiver(bench_fixtures):
    from bench.paths import push
    from blacklist.partners.models import Partner

    (result,) = push.run(bench_fixtures, runs=1, quick=True)

    _well_formed(result, "push_delivery")
    details = result.details
    assert details["items"] > 0
    assert details["batches"] > 0
    assert details["signatures_verified"] == details["batches"]
    assert details["bad_signatures"] == 0
    engine = _engine(bench_fixtures)
    try:
        with engine.connect() as conn:  # the partner's webhook is restored
            url = conn.scalar(select(Partner.webhook_url).where(Partner.code == "bench_push"))
    finally:
        engine.dispose()
    assert url is None or "127.0.0.1" not in url


def test_sweeps_delete_the_due_listings(fresh_bench_fixtures):
    from bench.paths import sweeps
    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus

    results = sweeps.run(fresh_bench_fixtures, runs=1, quick=True)

    assert [r.name for r in results] == ["expiry_sweep", "performance_sweep"]
    for result in results:
        _well_formed(result, result.name)
        details = result.details
        assert details["deleted"] > 0
        assert details["failed"] == 0
        assert details["removed_after"] == details["deleted"]
        assert details["baseline_deleted"] > 0
        assert details["left_after"] == 0
    engine = _engine(fresh_bench_fixtures)
    try:
        with engine.connect() as conn:
            still_due = conn.scalar(
                select(func.count())
                .select_from(Listing)
                .where(
                    Listing.status == ListingStatus.PUBLISHED,
                    Listing.ends_on <= date.fromisoformat(fresh_bench_fixtures.as_of),
                )
            )
    finally:
        engine.dispose()
    assert still_due == 0


def test_creation_creates_drafts_through_the_api(fresh_bench_fixtures):
    from bench.paths import creation

    (result,) = creation.run(fresh_bench_fixtures, runs=1, quick=True)

    _well_formed(result, "listing_creation")
    details = result.details
    assert details["statuses"] == {"201": details["per_run"]}
    assert details["listings_added"] == details["listings_expected"]

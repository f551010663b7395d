"""The data generator at a tiny scale: what it writes is what the app would have written, and its
consistency checks catch data that is not (no timing here: timings live in bench/results.json)."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import create_engine, text

from bench import generate, run
from bench.common import Fixtures
from bench.geography import PROVINCES, courts
from blacklist.core.identity import parse_credit_code, parse_resident_id


def _scalar(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_generated_data_passes_the_consistency_checks(bench_fixtures: Fixtures):
    assert generate.check(bench_fixtures.database_url, quiet=True) == []


def test_generated_data_has_the_shape_of_the_list(bench_fixtures: Fixtures):
    url = bench_fixtures.database_url
    counts = bench_fixtures.counts
    listings = bench_fixtures.listings
    assert counts["listings"] == listings > 0
    organisations = _scalar(url, "SELECT count(*) FROM subjects WHERE kind = 'organisation'")
    assert 0.08 * listings < organisations < 0.35 * listings
    # Every organisation has its legal representative, and its consumption order binds them.
    assert counts["bound_persons"] == organisations
    assert (
        _scalar(url, "SELECT count(*) FROM bound_persons WHERE role <> 'legal_representative'") == 0
    )
    # A high court in every province, intermediate and basic courts under them.
    assert _scalar(url, "SELECT count(DISTINCT province) FROM courts") == len(PROVINCES)
    assert counts["courts"] == len(courts())
    # Every listing published with its consumption order; the sweeps have work on as_of.
    assert _scalar(url, "SELECT count(*) FROM restriction_orders WHERE listing_id IS NOT NULL") == (
        listings
    )
    as_of = bench_fixtures.as_of
    expiring = _scalar(
        url, f"SELECT count(*) FROM listings WHERE status = 'published' AND ends_on <= '{as_of}'"
    )
    performed = _scalar(
        url,
        f"SELECT count(*) FROM listings WHERE status = 'published' AND deletion_due_on <= '{as_of}'",
    )
    assert expiring == len(bench_fixtures.sample["expiring_listing_ids"]) > 0
    assert performed == len(bench_fixtures.sample["performed_listing_ids"]) > 0


def test_samples_are_valid_identifiers_listed_or_not(bench_fixtures: Fixtures):
    sample = bench_fixtures.sample
    for number in sample["listed_person_ids"] + sample["legal_rep_ids"]:
        assert parse_resident_id(number).warnings == ()
    for code in sample["org_codes"]:
        parse_credit_code(code)
    assert sample["listed_person_ids"] and sample["org_codes"] and sample["unlisted_person_ids"]
    assert not set(sample["unlisted_person_ids"]) & set(
        sample["listed_person_ids"] + sample["legal_rep_ids"]
    )
    # The partners' keys and the judge's token are there for the clients of the benchmarks.
    assert {"caac", "railway", "exit_entry", "credit_ref", "bank", "bench_push"} <= set(
        bench_fixtures.partners
    )
    assert all(p["key"] and p["secret"] for p in bench_fixtures.partners.values())
    assert bench_fixtures.staff["api_token"]


def test_names_repeat_as_in_life():
    """The name is a function of the person's HMAC; surnames follow their frequencies, so over
    many people the common surnames dominate and exact names repeat."""
    import hashlib

    names = [_name(hashlib.sha256(str(i).encode()).digest()) for i in range(20000)]
    surnames = Counter(n[0] for n in names)
    assert surnames.most_common(1)[0][0] in "王李张刘陈"
    assert Counter(names).most_common(1)[0][1] > 5


def _name(digest: bytes) -> str:
    return generate._person_name(digest)


def test_the_checks_catch_data_the_app_would_not_have_written(fresh_bench_fixtures: Fixtures):
    url = fresh_bench_fixtures.database_url
    listing_id = _scalar(url, "SELECT min(id) FROM listings WHERE status = 'published'")
    public_id = _scalar(url, f"SELECT public_id FROM listings WHERE id = {listing_id}")
    # A case number changed without the change log hearing of it, and a projection row dropped.
    _execute(url, f"UPDATE cases SET case_number = '（2020）京0105执1号' WHERE id = {listing_id}")
    _execute(
        url,
        "UPDATE restrictions SET is_active = false WHERE source_kind = 'listing' AND "
        f"listing_id = (SELECT id FROM listings WHERE public_id = '{public_id}')",
    )
    problems = generate.check(url, sample_size=fresh_bench_fixtures.listings, quiet=True)
    assert any("listing_record" in p for p in problems)
    assert any("exactly one active listing restriction" in p for p in problems)


def test_the_runner_reports_a_path_with_the_machine_and_the_checks(
    bench_fixtures: Fixtures, tmp_path, monkeypatch
):
    """``bench.run`` on existing data (``--reuse``): the report holds the machine, the scale, the
    consistency checks and each result with its baseline and ratio."""
    fixtures_path = tmp_path / "work" / f"fixtures-{bench_fixtures.listings}.json"
    fixtures_path.parent.mkdir()
    bench_fixtures.save(fixtures_path)
    monkeypatch.setattr(run, "WORK_DIR", fixtures_path.parent)
    out = tmp_path / "results.json"
    code = run.main([
        "--scale", str(bench_fixtures.listings), "--database", bench_fixtures.database_url,
        "--reuse", "--runs", "1", "--quick", "--paths", "feed", "--out", str(out),
    ])  # fmt: skip
    report = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, report["errors"]
    assert report["generation"]["reused"] is True
    assert report["consistency"]["problems"] == []
    assert report["machine"]["cores"] and report["scale"] == bench_fixtures.listings
    names = {r["name"] for r in report["results"]}
    assert {"feed_pull", "snapshot_export"} <= names
    for result in report["results"]:
        assert result["value"] > 0 and result["baseline"] > 0 and result["ratio"] > 0

"""Fixtures of the benchmark smoke tests: a small generated bench database (``bench.generate``).

The generator runs once per session into a template; every fixture below hands out a copy of it, so
a test that writes (sweeps delete, creation adds drafts, push records deliveries) never changes
what another test sees. On SQLite (the default) a database is a file in a temporary directory
(copied with SQLite's backup API). When BLACKLIST_TEST_DATABASE_URL is set (PostgreSQL), each is a
separate database created next to the test database (``CREATE DATABASE … TEMPLATE``) and dropped
afterwards: the suite's own database is never touched.

``bench_fixtures``: one copy for the session, shared by the paths that only read (and the push,
whose writes are its own cursor, attempts and audit entries). ``fresh_bench_fixtures``: a copy per
test, for the paths that delete or create listings.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bench.common import Fixtures

TEST_DATABASE_URL = os.environ.get("BLACKLIST_TEST_DATABASE_URL")
#: Enough for every path to have work (due listings, feed pages, a snapshot), small enough to be
#: generated in seconds.
BENCH_LISTINGS = 300


def _admin(statement: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL).set(database="postgres")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def _pg_name(template: Fixtures) -> str:
    from sqlalchemy.engine import make_url

    return make_url(template.database_url).database


@pytest.fixture(scope="session")
def _bench_template(tmp_path_factory) -> Iterator[Fixtures]:
    from bench.generate import generate

    directory = tmp_path_factory.mktemp("bench_template")
    name = None
    if TEST_DATABASE_URL:
        name = f"blacklist_bench_tpl_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        url = "sqlite:///" + str(directory / "bench.sqlite3")
    try:
        yield generate(
            url, listings=BENCH_LISTINGS, seed=7, fixtures_path=directory / "fixtures.json",
            quiet=True,
        )  # fmt: skip
    finally:
        if name:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy(template: Fixtures, directory: Path) -> Iterator[Fixtures]:
    name = None
    if TEST_DATABASE_URL:
        name = f"blacklist_bench_smoke_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_name(template)}"')
        url = _pg_url(name)
    else:
        path = directory / "bench.sqlite3"
        source_path = template.database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(source_path)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        url = "sqlite:///" + str(path)
    fixtures = dataclasses.replace(template, database_url=url)
    fixtures.save(directory / "fixtures.json")
    try:
        yield fixtures
    finally:
        if name:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def bench_fixtures(_bench_template, tmp_path_factory) -> Iterator[Fixtures]:
    """A generated bench database shared by the read-only paths of the session."""
    yield from _copy(_bench_template, tmp_path_factory.mktemp("bench"))


@pytest.fixture
def fresh_bench_fixtures(_bench_template, tmp_path) -> Iterator[Fixtures]:
    """A generated bench database of its own, for a path that deletes or creates listings."""
    yield from _copy(_bench_template, tmp_path)

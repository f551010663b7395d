"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL when
BLACKLIST_TEST_DATABASE_URL is set (a database the suite may wipe: it drops and recreates the
schema at the start)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import text

from blacklist.core.actor import Actor
from blacklist.core.clock import CHINA_TZ, FixedClock
from blacklist.db import Base, Database

TEST_DATABASE_URL = os.environ.get("BLACKLIST_TEST_DATABASE_URL")


def make_vault():
    from blacklist.core.identity import IdentityVault
    from config import Config

    return IdentityVault.from_config(Config.ID_HASH_KEY, Config.ID_ENCRYPTION_KEY)


def reset_schema(database: Database) -> None:
    """Drop everything and create the schema from the Alembic migrations."""
    from blacklist.migrate import upgrade_database

    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database(database.engine)


def clean_tables(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> Database:
    import blacklist.models  # noqa: F401  (every table in the metadata)

    url = TEST_DATABASE_URL or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    db = Database(url, vault=make_vault())
    reset_schema(db)
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    from blacklist.holidays.services import invalidate_calendar_cache

    invalidate_calendar_cache()
    s = database.session()
    yield s
    s.rollback()
    s.close()
    clean_tables(database)


@pytest.fixture
def clock() -> FixedClock:
    """Mon 2025-03-03 10:00 in Beijing: an ordinary working day."""
    return FixedClock(datetime(2025, 3, 3, 10, 0, tzinfo=CHINA_TZ))


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("test")

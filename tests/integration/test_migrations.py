"""The Alembic migrations build exactly the schema the models describe, and can be undone and
redone (upgrade → downgrade → upgrade) on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from blacklist.db import Base
from blacklist.migrate import current_revision, downgrade_database, upgrade_database
from tests.conftest import reset_schema

#: Indexes only the migrations create, on PostgreSQL (trigram search of organisation names).
POSTGRESQL_ONLY_INDEXES = {"ix_subjects_name_key_trgm", "ix_listings_name_key_trgm"}


def _is_postgresql_only(difference) -> bool:
    return (
        isinstance(difference, tuple)
        and difference[0] == "remove_index"
        and difference[1].name in POSTGRESQL_ONLY_INDEXES
    )


def test_the_migrated_schema_matches_the_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if not _is_postgresql_only(d)] == []


def test_migrations_go_down_to_nothing_and_up_again(database):
    try:
        downgrade_database(database.engine, "base")
        remaining = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        assert current_revision(database.engine) is None
        upgrade_database(database.engine)
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert current_revision(database.engine) is not None
    finally:
        reset_schema(database)

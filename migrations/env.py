"""Alembic environment. The engine comes from the app (``blacklist.migrate``), so migrations run
against whatever BLACKLIST_DATABASE_URL / the test database points at."""

from __future__ import annotations

from alembic import context

import blacklist.models  # noqa: F401  (every table in the metadata)
from blacklist.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from blacklist import create_app
        from blacklist.db import get_db

        engine = get_db(create_app()).engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()

"""Database plumbing: the declarative ``Base`` with a naming convention (stable constraint names for
Alembic), a UTC datetime type that behaves the same on SQLite and PostgreSQL, one ``Database`` per
app (engine + session factory), and the session of the current request.

Sessions carry what services need besides the rows, in ``session.info``: the identity vault (keyed
hashing and encryption of ID numbers) and, once loaded, the working-day calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every engine. SQLite keeps no offset, so values are stored
    as naive UTC there and made aware again on the way out; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(cls: type, length: int = 32) -> Enum:
    """A StrEnum stored as its value in a VARCHAR (no native enum type: adding a member needs no
    ALTER TYPE, and SQLite and PostgreSQL store the same thing)."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012  (SQLAlchemy reads it)


class Database:
    """One engine and one session factory. ``vault`` is the identity vault services use to hash
    and encrypt ID numbers (``blacklist.core.identity.IdentityVault``)."""

    def __init__(self, url: str, *, vault: Any = None, echo: bool = False) -> None:
        self.url = url
        self.engine = _make_engine(url, echo=echo)
        self.vault = vault
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        session = self._factory()
        session.info["vault"] = self.vault
        return session

    def snapshot_session(self) -> Session:
        """A session whose transaction reads one consistent snapshot from its first statement on,
        and takes no write lock: REPEATABLE READ on PostgreSQL; on SQLite a deferred transaction
        (WAL readers see the database as of their first read, and writers are not blocked)."""
        session = self.session()
        options = {SNAPSHOT_OPTION: True}
        if self.dialect == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        session.connection(execution_options=options)
        return session

    @contextmanager
    def batch(self) -> Iterator[Callable[[], Session]]:
        """One database transaction for a batch of use cases (a scheduler sweep): yields a factory
        of sessions that each join it through a SAVEPOINT. A service's ``commit`` releases its
        savepoint and its rollback returns to it, so each act still stands or falls alone, while
        the batch commits once: one WAL flush for the batch instead of one per act (issue #8: the
        flush was most of a deletion's time). The batch holds the journal lock from its first
        journal write to its commit, so keep batches short. If the commit itself fails, nothing of
        the batch is stored and the caller must not count its acts as done."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:

                def new_session() -> Session:
                    session = Session(
                        bind=connection,
                        join_transaction_mode="create_savepoint",
                        expire_on_commit=False,
                    )
                    session.info["vault"] = self.vault
                    return session

                yield new_session
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


#: Execution option of a snapshot session's connection (see ``Database.snapshot_session``).
SNAPSHOT_OPTION = "blacklist_snapshot"


def _make_engine(url: str, *, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )
        _configure_sqlite(engine, wal=not memory)
        return engine
    # No JIT: every query of the app is a short lookup, and PostgreSQL's JIT (on by default) spent
    # 85 ms compiling a 1,000-person partner check at ten million listings (issue #8).
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    """Foreign keys on, WAL for concurrent readers, and ``BEGIN IMMEDIATE`` so that two writers never
    both read and then both try to write (SQLite would fail one with "database is locked")."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(SNAPSHOT_OPTION)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def vault_of(session: Session) -> Any:
    """The identity vault of this session's database."""
    vault = session.info.get("vault")
    if vault is None:
        raise RuntimeError("session has no identity vault: create it with Database.session()")
    return vault


def init_app(app: Flask) -> Database:
    from blacklist.core.identity import IdentityVault

    url = app.config.get("DATABASE_URL") or _default_sqlite_url(app)
    app.config["DATABASE_URL"] = url
    vault = IdentityVault.from_config(
        app.config["ID_HASH_KEY"],
        app.config["ID_ENCRYPTION_KEY"],
        app.config.get("ID_ENCRYPTION_OLD_KEYS", ""),
    )
    database = Database(url, vault=vault, echo=app.config.get("SQL_ECHO", False))
    app.extensions["blacklist.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def _default_sqlite_url(app: Flask) -> str:
    import os

    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "blacklist.sqlite3")


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["blacklist.db"]


def get_session() -> Session:
    """The session of the current request (or app context), closed when the context ends."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


# One advisory lock key for both append-only journals (the audit chain and the change log). Taking
# the same key in both avoids lock-order deadlocks; it is transaction-scoped and re-entrant, so a
# writer holds it from its first journal write until commit. That makes commit order equal to
# journal order: a reader that has seen seq N never later finds a newly committed seq below N.
JOURNAL_LOCK_KEY = 7_436_001


def lock_journal(session: Session) -> None:
    """Serialize journal writers until this transaction ends (PostgreSQL). SQLite already admits one
    writer at a time (``BEGIN IMMEDIATE``), so nothing is needed there."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return
    # Taken once per database transaction: the lock is re-entrant, but each call is a round trip,
    # and one act appends several entries (a deletion: six). The transaction object identifies the
    # database transaction even across the savepoint sessions of ``Database.batch``.
    transaction = session.connection().get_transaction()
    if session.info.get("journal_locked_in") is transaction and transaction.is_active:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": JOURNAL_LOCK_KEY})
    session.info["journal_locked_in"] = transaction


@event.listens_for(Session, "after_transaction_end")
def _forget_journal_lock(session: Session, transaction: Any) -> None:
    """A lock taken inside a savepoint is released if the savepoint is rolled back (PostgreSQL), so
    when any nested transaction ends, ``lock_journal`` takes the lock again next time."""
    if transaction.nested:
        session.info.pop("journal_locked_in", None)

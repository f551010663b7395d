"""``lock_journal`` takes the advisory lock once per database transaction, and again after a commit
or after a savepoint that may have released it (PostgreSQL; SQLite needs no lock)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from blacklist.db import lock_journal


@pytest.fixture
def lock_calls(session):
    """The advisory-lock statements the session sends while the test runs."""
    calls: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if "pg_advisory_xact_lock" in statement:
            calls.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    yield calls
    event.remove(engine, "before_cursor_execute", seen)


def test_the_journal_lock_is_taken_once_per_transaction(session, lock_calls):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the journal lock is a PostgreSQL advisory lock")
    calls = lock_calls

    lock_journal(session)
    lock_journal(session)
    assert len(calls) == 1  # the same transaction: held already

    with session.begin_nested():
        lock_journal(session)
    assert len(calls) == 1

    savepoint = session.begin_nested()
    savepoint.rollback()  # a savepoint ended: it may have released the lock
    lock_journal(session)
    assert len(calls) == 2

    session.commit()
    lock_journal(session)  # a new transaction
    assert len(calls) == 3
    session.rollback()

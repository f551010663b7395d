"""The audit journal: every act chained to the one before, and tampering found (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, text, update

from blacklist.audit import services as audit
from blacklist.audit.cli import audit_cli
from blacklist.audit.models import GENESIS_HASH, AppendOnlyViolation, AuditEntry
from blacklist.core.actor import Actor, ActorKind, Role


@pytest.fixture
def judge() -> Actor:
    return Actor(
        kind=ActorKind.STAFF, name="王法官", user_id=7, court_id=3, role=Role.JUDGE, ip="10.0.0.8"
    )


def record_some(session, actor, clock, n: int, entity=("listing", 1)) -> list[AuditEntry]:
    return [
        audit.record(session, actor, f"listing.step{i}", entity, clock=clock, reason=f"第{i}步")
        for i in range(n)
    ]


def tamper(session, sql: str, **params) -> None:
    """Alter the journal behind the application's back, as someone with the database owner's rights
    would (on PostgreSQL that means first disabling the append-only trigger)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    session.execute(text(sql), params)
    if postgres:
        session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))


def test_the_database_refuses_to_alter_the_journal_on_postgresql(session, clock, judge):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the ORM guard")
    record_some(session, judge, clock, 1)
    session.commit()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text("UPDATE audit_entries SET reason = 'x'"))
    session.rollback()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text("DELETE FROM audit_entries"))
    session.rollback()


def test_each_entry_names_the_hash_of_the_one_before(session, clock, judge):
    first, second, third = record_some(session, judge, clock, 3)

    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert first.seq < second.seq < third.seq
    assert len({first.hash, second.hash, third.hash}) == 3


def test_an_entry_names_the_person_their_court_and_the_time(session, clock, judge):
    entry = audit.record(
        session,
        judge,
        "listing.approved",
        ("listing", 42),
        clock=clock,
        before={"status": "pending_approval"},
        after={"status": "approved"},
        reason="符合第一项情形",
    )
    session.commit()
    session.expire_all()

    stored = session.get(AuditEntry, entry.seq)
    assert (stored.actor_kind, stored.actor_id, stored.actor_name) == ("staff", 7, "王法官")
    assert (stored.court_id, stored.ip) == (3, "10.0.0.8")
    assert (stored.entity_kind, stored.entity_id) == ("listing", "42")
    assert stored.at == clock.now()
    assert stored.before == {"status": "pending_approval"}
    assert stored.after == {"status": "approved"}


def test_verify_reports_an_intact_chain(session, clock, judge, system_actor):
    assert audit.verify(session).ok
    assert audit.verify(session).checked == 0

    record_some(session, judge, clock, 3)
    audit.record(session, system_actor, "listing.published", ("listing", 1), clock=clock)
    clock.advance(days=1)
    audit.record(session, system_actor, "staff.login_failed", None, clock=clock)
    session.commit()

    result = audit.verify(session)
    assert result.ok
    assert result.checked == 5
    assert result.first_broken_seq is None
    assert result.message == "audit chain intact: 5 entries"


def test_dates_amounts_enums_and_sets_are_recorded_so_the_hash_still_matches(session, clock, judge):
    audit.record(
        session,
        judge,
        "listing.corrected",
        ("listing", 9),
        clock=clock,
        before={
            "decided_on": date(2025, 1, 27),
            "amount": Decimal("1234.50"),
            "role": Role.JUDGE,
            "grounds": {3, 1},
            "at": datetime(2025, 1, 27, 8, 30, tzinfo=UTC),
            "names": ("张三", "李四"),
            "ratio": 0.1,
        },
        after={"nested": {1: [date(2025, 2, 7)]}, "empty": None},
        reason="更正：金额、理由\n第二行",
    )
    session.commit()
    session.expire_all()

    entry = session.query(AuditEntry).one()
    assert entry.before == {
        "decided_on": "2025-01-27",
        "amount": "1234.50",
        "role": "judge",
        "grounds": [1, 3],
        "at": "2025-01-27T08:30:00.000000+00:00",
        "names": ["张三", "李四"],
        "ratio": 0.1,
    }
    assert entry.after == {"nested": {"1": ["2025-02-07"]}, "empty": None}
    assert audit.verify(session).ok


def test_anything_else_in_before_or_after_is_refused(session, clock, judge):
    with pytest.raises(TypeError):
        audit.record(session, judge, "x.y", None, clock=clock, after={"blob": b"\x00"})


def test_verify_finds_the_entry_whose_reason_was_altered(session, clock, judge):
    entries = record_some(session, judge, clock, 4)
    session.commit()

    tamper(session, "UPDATE audit_entries SET reason = :r WHERE seq = :s", r="无", s=entries[2].seq)
    session.commit()

    result = audit.verify(session)
    assert not result.ok
    assert result.first_broken_seq == entries[2].seq
    assert result.checked == 2
    assert result.message.startswith(f"audit chain BROKEN at seq {entries[2].seq}: ")
    assert "altered" in result.message


def test_verify_finds_an_entry_whose_hash_was_recomputed_after_an_edit(session, clock, judge):
    entries = record_some(session, judge, clock, 3)
    session.commit()
    forged = {name: getattr(entries[1], name) for name in audit.HASHED_FIELDS}
    forged["reason"] = "伪造"
    tamper(
        session,
        "UPDATE audit_entries SET reason = :r, hash = :h WHERE seq = :s",
        r="伪造",
        h=audit.entry_hash(forged),
        s=entries[1].seq,
    )
    session.commit()

    result = audit.verify(session)
    assert not result.ok
    assert result.first_broken_seq == entries[2].seq


def test_verify_finds_a_deleted_entry_in_the_middle(session, clock, judge):
    entries = record_some(session, judge, clock, 5)
    session.commit()

    tamper(session, "DELETE FROM audit_entries WHERE seq = :s", s=entries[2].seq)
    session.commit()

    result = audit.verify(session)
    assert not result.ok
    assert result.first_broken_seq == entries[3].seq
    assert f"does not follow entry {entries[1].seq}" in result.message


def test_verify_finds_that_the_first_entry_was_deleted(session, clock, judge):
    entries = record_some(session, judge, clock, 3)
    session.commit()

    tamper(session, "DELETE FROM audit_entries WHERE seq = :s", s=entries[0].seq)
    session.commit()

    result = audit.verify(session)
    assert not result.ok
    assert result.first_broken_seq == entries[1].seq


def test_verify_reads_in_batches_and_still_finds_a_late_alteration(
    session, clock, judge, monkeypatch
):
    monkeypatch.setattr(audit, "VERIFY_BATCH", 3)
    entries = record_some(session, judge, clock, 10)
    session.commit()
    assert audit.verify(session).checked == 10
    assert audit.verify(session).last_hash == entries[-1].hash

    tamper(session, "UPDATE audit_entries SET actor_name = '李四' WHERE seq = :s", s=entries[7].seq)
    session.commit()

    result = audit.verify(session)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, entries[7].seq, 7)


def test_an_entry_cannot_be_updated_or_deleted_through_the_orm(session, clock, judge):
    entry = audit.record(session, judge, "listing.approved", ("listing", 1), clock=clock)
    session.commit()

    entry.reason = "事后补充"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()

    session.delete(entry)
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()

    with pytest.raises(AppendOnlyViolation):
        session.execute(update(AuditEntry).values(reason="批量修改"))
    with pytest.raises(AppendOnlyViolation):
        session.execute(delete(AuditEntry))
    session.rollback()

    assert audit.verify(session).ok
    assert session.get(AuditEntry, entry.seq).reason is None


def test_history_lists_one_records_entries_oldest_first(session, clock, judge, system_actor):
    audit.record(session, judge, "listing.drafted", ("listing", 5), clock=clock)
    audit.record(session, judge, "listing.drafted", ("listing", 6), clock=clock)
    clock.advance(hours=1)
    audit.record(session, judge, "listing.submitted", ("listing", "5"), clock=clock)
    audit.record(session, system_actor, "listing.published", ("listing", 5), clock=clock)

    actions = [e.action for e in audit.history(session, "listing", 5)]

    assert actions == ["listing.drafted", "listing.submitted", "listing.published"]
    assert audit.history(session, "subject", 5) == []


def test_recent_lists_newest_first_and_can_be_limited_to_one_court(session, clock, judge):
    other = Actor(kind=ActorKind.STAFF, name="李书记员", user_id=8, court_id=4, role=Role.CLERK)
    audit.record(session, judge, "a.one", None, clock=clock)
    audit.record(session, other, "a.two", None, clock=clock)
    audit.record(session, judge, "a.three", None, clock=clock)

    assert [e.action for e in audit.recent(session)] == ["a.three", "a.two", "a.one"]
    assert [e.action for e in audit.recent(session, limit=2)] == ["a.three", "a.two"]
    assert [e.action for e in audit.recent(session, court_id=3)] == ["a.three", "a.one"]


def test_the_verify_command_exits_with_1_when_the_chain_is_broken(database, session, clock, judge):
    app = Flask(__name__)
    app.extensions["blacklist.db"] = database
    runner = app.test_cli_runner()
    entries = record_some(session, judge, clock, 3)
    session.commit()

    intact = runner.invoke(audit_cli, ["verify"])
    assert intact.exit_code == 0
    assert "audit chain intact: 3 entries" in intact.output

    tamper(session, "UPDATE audit_entries SET reason = NULL WHERE seq = :s", s=entries[1].seq)
    session.commit()

    broken = runner.invoke(audit_cli, ["verify"])
    assert broken.exit_code == 1
    assert f"audit chain BROKEN at seq {entries[1].seq}" in broken.output

"""The change log partners follow (DESIGN.md §6): one gap-free, commit-ordered sequence; payloads
that never hold an ID number in the clear and are scrubbed once a removal supersedes them."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from blacklist.changelog.listing_changes import listing_key
from blacklist.changelog.models import Change
from blacklist.core.actor import Actor
from blacklist.db import vault_of
from blacklist.listing import services
from blacklist.listing.inputs import ApplicationIn, ListingPatch, PaymentIn, PersonIn, SubjectIn
from blacklist.restrictions.catalogue import LISTING_MEASURES, codes_of, mask_of
from blacklist.restrictions.models import Restriction
from tests.factories import (
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def court(session, clock):
    return setup_court(session, clock)


def all_changes(session) -> list[Change]:
    return list(session.scalars(select(Change).order_by(Change.seq)))


def seqs(session) -> list[int]:
    return [c.seq for c in all_changes(session)]


def null_payload_seqs(session) -> set[int]:
    """Seqs whose payload is SQL NULL (not a JSON ``null``), read past the ORM."""
    return set(session.scalars(text("SELECT seq FROM changes WHERE payload IS NULL")))


def debtor(n: int) -> str:
    return resident_id("19800101", f"{n:03d}")


def case(n: int) -> str:
    return f"(2024)京0105执{n}号"


def id_ciphers(value) -> list[str]:
    """Every value stored under an ``id_cipher`` key, however deep."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id_cipher":
                found.append(item)
            else:
                found.extend(id_ciphers(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(id_ciphers(item))
    return found


def test_many_acts_append_one_gap_free_increasing_sequence(session, clock, court):
    judge, clerk, system = court["judge"], court["clerk"], Actor.system("scheduler")
    a = publish_listing(
        session, clock, court, person_draft(id_number=debtor(1), case_number=case(1))
    )
    b = publish_listing(
        session,
        clock,
        court,
        person_draft(id_number=debtor(3), case_number=case(3), grounds=("obstructs",)),
    )
    c = publish_listing(session, clock, court, organisation_draft())
    d = publish_listing(
        session,
        clock,
        court,
        person_draft(id_number=debtor(5), case_number=case(5), grace_days=30),
    )
    pay = PaymentIn(Decimal("40000.00"), clock.today())
    services.record_performance(session, a.id, pay, actor=clerk, clock=clock)
    services.edit_listing(
        session,
        a.id,
        ListingPatch(subject=SubjectIn("person", "张叁", debtor(1)), reason="姓名录入错误"),
        actor=clerk,
        clock=clock,
    )
    services.extend_listing(session, b.id, 3, "暴力抗拒执行", actor=judge, clock=clock)
    services.revoke_listing(session, c.id, "错误纳入", actor=judge, clock=clock)
    clock.set(date(2025, 4, 2))
    services.publish_after_grace(session, d.id, actor=system, clock=clock)
    full = PaymentIn(Decimal("60000.00"), clock.today())
    services.record_performance(session, a.id, full, actor=clerk, clock=clock)
    clock.set(date(2025, 4, 8))
    services.carry_out_due_deletion(session, a.id, actor=system, clock=clock)
    clock.set(b.ends_on)
    services.expire_listing(session, b.id, actor=system, clock=clock)

    changes = all_changes(session)
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert len(changes) > 20
    times = [c.created_at for c in changes]
    assert times == sorted(times)
    keys = {c.key for c in changes}
    for listing in (a, b, c, d):
        assert listing_key(listing.public_id) in keys
    last_actions = {}
    for change in changes:
        last_actions[change.key] = change.action.value
    for listing in (a, b, c):  # deleted, expired, revoked
        assert last_actions[listing_key(listing.public_id)] == "remove"
    assert last_actions[listing_key(d.public_id)] == "upsert"


def test_a_removal_scrubs_earlier_payloads_of_its_own_key_only(session, clock, court):
    a = publish_listing(
        session, clock, court, person_draft(id_number=debtor(1), case_number=case(1))
    )
    b = publish_listing(
        session, clock, court, person_draft(id_number=debtor(3), case_number=case(3))
    )
    services.record_performance(
        session,
        a.id,
        PaymentIn(Decimal("1000.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    key_a, key_b = listing_key(a.public_id), listing_key(b.public_id)
    assert null_payload_seqs(session) == set()

    services.revoke_listing(session, a.id, "错误纳入", actor=court["judge"], clock=clock)

    changes = all_changes(session)
    scrubbed = null_payload_seqs(session)
    a_restriction_keys = {
        r.key for r in session.scalars(select(Restriction).where(Restriction.listing_id == a.id))
    }
    for change in changes:
        if change.key == key_a or change.key in a_restriction_keys:
            assert change.seq in scrubbed, change.key
            assert change.payload is None
        else:
            assert change.seq not in scrubbed, change.key
            assert change.payload is not None
    upserts_of_a = [c for c in changes if c.key == key_a and c.action.value == "upsert"]
    assert len(upserts_of_a) == 2  # publication and the payment
    assert [c.action.value for c in changes if c.key == key_b] == ["upsert"]


def test_payloads_hold_encrypted_ids_and_never_a_plain_id_number(session, clock, court):
    person_id = debtor(1)
    representative = resident_id("19700505", "235")
    principal = resident_id("19750101", "111")
    person = publish_listing(
        session, clock, court, person_draft(id_number=person_id, case_number=case(1))
    )
    org = publish_listing(
        session,
        clock,
        court,
        organisation_draft(
            representative=PersonIn("李四", representative),
            bound_persons=(PersonIn("王五", principal, "principal"),),
        ),
    )
    services.record_performance(
        session,
        person.id,
        PaymentIn(Decimal("1.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )

    vault = vault_of(session)
    revealed = set()
    for change in all_changes(session):
        body = json.dumps(change.payload, ensure_ascii=False)
        for number in (person_id, representative, principal):
            assert number not in body, (change.seq, change.key)
        assert "id_number" not in body
        ciphers = id_ciphers(change.payload)
        assert ciphers, (change.seq, change.key)
        revealed.update(vault.decrypt(token) for token in ciphers)
    assert revealed == {person_id, representative, principal, org.subject.id_masked}


def test_the_creditor_and_internal_notes_never_reach_a_payload(session, clock, court):
    application = ApplicationIn(
        by_creditor=True, creditor_name="欧阳债权", applied_on=date(2025, 3, 1)
    )
    listing = publish_listing(session, clock, court, person_draft(application=application))
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("1.00"), clock.today(), note="内部备注：电话联系"),
        actor=court["clerk"],
        clock=clock,
    )
    for change in all_changes(session):
        body = json.dumps(change.payload, ensure_ascii=False)
        assert "欧阳债权" not in body and "内部备注" not in body


def test_a_listing_change_carries_the_measures_of_its_subjects_kind(session, clock, court):
    person = publish_listing(session, clock, court, person_draft(id_number=debtor(1)))
    org = publish_listing(session, clock, court, organisation_draft())

    by_key = {}
    for change in all_changes(session):
        by_key.setdefault(change.key, []).append(change)
    (person_change,) = by_key[listing_key(person.public_id)]
    (org_change,) = by_key[listing_key(org.public_id)]
    assert person_change.measures == mask_of(LISTING_MEASURES)
    assert "officer_ban" in codes_of(person_change.measures)
    assert "officer_ban" not in codes_of(org_change.measures)
    assert codes_of(org_change.measures) == [m for m in LISTING_MEASURES if m != "officer_ban"]

    services.delete_listing(session, org.id, "corrected_conduct", actor=court["judge"], clock=clock)
    removal = all_changes(session)[-1]
    assert (removal.key, removal.action.value) == (listing_key(org.public_id), "remove")
    assert "officer_ban" not in codes_of(removal.measures)
    for change in all_changes(session):
        if change.type.value == "restriction":
            row = session.get(Restriction, change.entity_id)
            assert change.key == row.key
            assert change.measures == row.measures


@pytest.mark.parametrize("how", ["revoked", "deleted", "performed"])
def test_a_listing_never_published_emits_no_change_at_all(session, clock, court, how):
    listing = publish_listing(session, clock, court, person_draft(grace_days=30))
    if how == "revoked":
        services.revoke_listing(session, listing.id, "错误纳入", actor=court["judge"], clock=clock)
    elif how == "deleted":
        services.delete_listing(
            session, listing.id, "no_assets_after_searches", actor=court["judge"], clock=clock
        )
    else:
        services.record_performance(
            session,
            listing.id,
            PaymentIn(Decimal("100000.00"), clock.today()),
            actor=court["clerk"],
            clock=clock,
        )
        clock.set(date(2025, 4, 2))
        system = Actor.system("scheduler")
        assert not services.publish_after_grace(session, listing.id, actor=system, clock=clock)
        assert services.carry_out_due_deletion(session, listing.id, actor=system, clock=clock)
    assert listing.status.value == "removed"
    assert all_changes(session) == []


# --------------------------------------------------------------------------------------------------
# Concurrent writers (PostgreSQL)

WRITERS = 8
LISTINGS_PER_WRITER = 3


@pytest.mark.postgres
def test_concurrent_writers_produce_a_gap_free_commit_ordered_sequence(
    database, session, clock, court
):
    if database.dialect != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (BLACKLIST_TEST_DATABASE_URL)")
    session.close()
    failures: list[BaseException] = []
    polls: list[frozenset[int]] = []
    writers_done = threading.Event()
    start = threading.Barrier(WRITERS + 1)

    def write(n: int) -> None:
        own = database.session()
        try:
            start.wait()
            for k in range(LISTINGS_PER_WRITER):
                number = n * LISTINGS_PER_WRITER + k + 1
                data = person_draft(
                    name=f"债务人{number}",
                    id_number=resident_id("19800101", f"{2 * number + 1:03d}"),
                    case_number=f"(2024)京0105执{1000 + number}号",
                    grounds=("refuses_with_ability",) if k % 2 else ("evades",),
                )
                publish_listing(own, clock, court, data)
        except BaseException as error:
            failures.append(error)
            own.rollback()
        finally:
            own.close()

    def read() -> None:
        own = database.session()
        try:
            start.wait()
            while True:
                finished = writers_done.is_set()
                polls.append(frozenset(own.scalars(text("SELECT seq FROM changes"))))
                own.rollback()
                if finished:
                    break
        except BaseException as error:
            failures.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=read)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    writers_done.set()
    reader.join(timeout=60)
    assert not failures, failures
    assert not any(t.is_alive() for t in [*threads, reader])

    final = polls[-1]
    assert sorted(final) == list(range(1, len(final) + 1))
    published = session.scalar(text("SELECT count(*) FROM listings WHERE status = 'published'"))
    assert published == WRITERS * LISTINGS_PER_WRITER
    # every listing's publication is in the log: a listing upsert each
    upserts = session.scalar(
        text("SELECT count(*) FROM changes WHERE type = 'listing' AND action = 'upsert'")
    )
    assert upserts == WRITERS * LISTINGS_PER_WRITER

    distinct = list(dict.fromkeys(polls))
    assert any(0 < len(p) < len(final) for p in distinct), "the reader saw no write in progress"
    for i, earlier in enumerate(distinct):
        seen_max = max(earlier, default=0)
        assert earlier == set(range(1, seen_max + 1)), f"poll {i} saw a gap"
        for later in distinct[i + 1 :]:
            below = {seq for seq in later if seq <= seen_max}
            assert below <= earlier, f"seqs {sorted(below - earlier)} appeared below {seen_max}"

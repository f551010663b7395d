"""The push worker against a real HTTP receiver on 127.0.0.1 (DESIGN.md §6; issue: signed push,
back-off, no redirects, order, at-least-once across a killed worker, workers never sending one
partner's batches concurrently)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blacklist.audit.models import AuditEntry
from blacklist.core.clock import FixedClock
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import PaymentIn
from blacklist.partners import rules
from blacklist.partners.models import DeliveryAttempt, DeliveryOutcome, PushCursor
from blacklist.partners.push import HttpSender, PushWorker
from tests.factories import (
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)
from tests.partner_factories import register_partner
from tests.webhook_receiver import start_receiver, verify_signature

RAILWAY = "hsr_any_seat,emu_first_class,soft_sleeper"


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def court(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_court(session, clock)


def _publish_people(session, clock, court, n: int, start: int = 0):
    listings = []
    for i in range(start, start + n):
        draft = person_draft(
            name=f"测试{i}", id_number=resident_id(sequence=f"{i + 1:03d}"),
            case_number=f"(2024)京0105执{1000 + i}号",
        )  # fmt: skip
        listings.append(publish_listing(session, clock, court, draft))
    session.commit()
    return listings


def _cursor(database, partner_id) -> PushCursor:
    with database.session() as s:
        return s.get(PushCursor, partner_id)


def _head(database) -> int:
    from blacklist.changelog.writer import last_seq

    with database.session() as s:
        return last_seq(s)


def _seqs(received) -> list[int]:
    return [item["seq"] for r in received for item in r.items]


def test_batches_are_signed_ordered_and_move_the_cursor(database, session, clock, court, receiver):
    partner_id, _key, secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 5)
    session.close()

    attempts = PushWorker(database, clock=clock, batch_size=2).run_once()

    assert [a.outcome for a in attempts] == ["delivered"] * 3
    assert len(receiver.received) == 3
    for request in receiver.received:
        assert verify_signature(secret, request.headers, request.body)
        assert request.headers["webhook-id"].startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        assert request.headers["content-type"].startswith("application/json")
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 3
    seqs = _seqs(receiver.received)
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == 5
    # One upsert per person, cut to the railway's measures, with the full ID number.
    items = [i for r in receiver.received for i in r.items]
    assert {i["type"] for i in items} == {"restriction"}
    assert all(
        i["record"]["measures"] == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]
        for i in items
    )
    assert {i["record"]["person"]["id_number"] for i in items} == {
        resident_id(sequence=f"{n:03d}") for n in range(1, 6)
    }
    cursor = _cursor(database, partner_id)
    assert cursor.pushed_seq == _head(database) and cursor.batch_id is None and cursor.failures == 0
    with database.session() as s:
        logged = s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [a.outcome for a in logged] == [DeliveryOutcome.DELIVERED] * 3
        assert [a.status_code for a in logged] == [200] * 3
        audited = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "partner.delivered")
        ).all()
        assert len(audited) == 3
    # Nothing more is due: a second run sends nothing.
    assert PushWorker(database, clock=clock).run_once() == []
    assert len(receiver.received) == 3


def test_a_failed_batch_waits_out_the_back_off_and_is_resent_with_the_same_id(
    database, session, clock, court, receiver
):
    partner_id, _key, secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 1)
    session.close()
    receiver.answer(500, 503)
    worker = PushWorker(database, clock=clock)

    first = worker.run_once()
    assert [a.outcome for a in first] == ["failed"]
    cursor = _cursor(database, partner_id)
    assert cursor.failures == 1 and cursor.pushed_seq == 0 and cursor.batch_id
    assert cursor.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert cursor.last_error == "HTTP 500"
    assert worker.run_once() == []  # not due yet
    clock.advance(seconds=5)
    assert [a.outcome for a in worker.run_once()] == ["failed"]
    assert _cursor(database, partner_id).next_attempt_at == clock.now() + timedelta(minutes=5)
    clock.advance(minutes=5)
    assert [a.outcome for a in worker.run_once()] == ["delivered"]

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 1
    assert all(verify_signature(secret, r.headers, r.body) for r in receiver.received)
    assert len({r.body for r in receiver.received}) == 1
    cursor = _cursor(database, partner_id)
    assert cursor.failures == 0 and cursor.batch_id is None and cursor.pushed_seq > 0
    with database.session() as s:
        outcomes = s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)).all()
        attempts = s.scalars(select(DeliveryAttempt.attempt).order_by(DeliveryAttempt.id)).all()
    assert outcomes == ["failed", "failed", "delivered"] and attempts == [1, 2, 3]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (("slow", 1.0, 200), "timeout"),
        ("drop", "RemoteDisconnected"),
        (404, "HTTP 404"),
    ],
)
def test_timeouts_and_dropped_connections_are_failures(
    database, session, clock, court, receiver, answer, error
):
    partner_id, _key, _secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 1)
    session.close()
    receiver.answer(answer)
    worker = PushWorker(database, clock=clock, sender=HttpSender(read_timeout=0.3))

    [attempt] = worker.run_once()

    assert attempt.outcome == "failed" and error.lower() in attempt.error.lower()
    cursor = _cursor(database, partner_id)
    assert cursor.pushed_seq == 0 and cursor.failures == 1
    clock.advance(seconds=5)
    assert [a.outcome for a in worker.run_once()] == ["delivered"]


def test_a_redirect_is_not_followed(database, session, clock, court, receiver):
    partner_id, _key, _secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 1)
    session.close()
    elsewhere = receiver.url.replace("/hook", "/elsewhere")
    receiver.answer(("redirect", elsewhere))

    [attempt] = PushWorker(database, clock=clock).run_once()

    assert attempt.outcome == "failed" and attempt.status_code == 302
    assert receiver.other_paths == []  # nothing was sent to the redirect target
    assert _cursor(database, partner_id).pushed_seq == 0


def test_a_refused_connection_is_a_failure(database, session, clock, court):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    partner_id, _key, _secret = register_partner(
        session, clock, webhook_url=f"http://127.0.0.1:{port}/hook"
    )
    _publish_people(session, clock, court, 1)
    session.close()

    [attempt] = PushWorker(database, clock=clock).run_once()

    assert attempt.outcome == "failed" and "refused" in attempt.error.lower()
    assert _cursor(database, partner_id).failures == 1


def test_back_off_schedule_grows_then_stays_at_ten_hours(database, session, clock, court, receiver):
    partner_id, _key, _secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 1)
    session.close()
    receiver.default = 500
    worker = PushWorker(database, clock=clock)
    waits = []
    for _ in range(8):
        assert [a.outcome for a in worker.run_once()] == ["failed"]
        cursor = _cursor(database, partner_id)
        waits.append(cursor.next_attempt_at - clock.now())
        clock.set(cursor.next_attempt_at)
    assert waits == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=10), timedelta(hours=10),
    ]  # fmt: skip
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_a_partner_down_for_a_day_receives_everything_in_order(
    database, session, clock, court, receiver
):
    """Changes keep coming while the endpoint fails for a day; once it is back, every change
    arrives, in seq order, and a removal never before the upsert it removes."""
    partner_id, _key, _secret = register_partner(session, clock, webhook_url=receiver.url)
    receiver.default = 503
    worker = PushWorker(database, clock=clock, batch_size=3)
    listings = []
    for hour in range(24):
        listings += _publish_people(session, clock, court, 1, start=hour)
        if hour % 6 == 5:  # some debtors pay in full: their restrictions are removed
            listing = listings[hour - 2]
            listing_services.record_performance(
                session, listing.id, PaymentIn(amount=None, performed_on=clock.today(), full=True),
                actor=court["judge"], clock=clock,
            )  # fmt: skip
            session.commit()
        session.close()
        worker.run_once()
        clock.advance(hours=1)
    assert not receiver.delivered
    receiver.default = 200
    clock.advance(hours=10)  # the longest back-off
    worker.run_once()

    delivered = receiver.delivered
    seqs = _seqs(delivered)
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    with database.session() as s:
        from blacklist.changelog.models import Change

        expected = [
            c.seq
            for c in s.scalars(select(Change).order_by(Change.seq))
            if c.type == "restriction" and c.measures & rules.parse_measures(RAILWAY)
            and (c.action == "remove" or c.payload is not None)
        ]  # fmt: skip
    assert seqs == expected
    items = [i for r in delivered for i in r.items]
    removed = [i["key"] for i in items if i["action"] == "remove"]
    assert len(removed) == 4
    for key in removed:
        positions = [n for n, i in enumerate(items) if i["key"] == key]
        assert items[positions[-1]]["action"] == "remove"
    assert _cursor(database, partner_id).pushed_seq == _head(database)


def test_only_active_partners_with_a_webhook_are_pushed_and_irrelevant_changes_skip(
    database, session, clock, court, receiver
):
    from blacklist.partners import services

    register_partner(session, clock)  # pull only
    exit_id, _k, _s = register_partner(
        session, clock, code="exit_entry", measures="exit", webhook_url=receiver.url
    )
    off_id, _k, _s = register_partner(
        session, clock, code="caac", measures="flight", webhook_url=receiver.url
    )
    services.update_partner(
        session, "caac", name="民航", measures="flight", scope="restriction",
        webhook_url=receiver.url, is_active=False, actor=services.Actor.system("t"), clock=clock,
    )  # fmt: skip
    _publish_people(session, clock, court, 2)
    session.close()

    attempts = PushWorker(database, clock=clock).run_once()

    assert [(a.partner, a.outcome) for a in attempts] == [("exit_entry", "skipped")]
    assert receiver.received == []
    assert _cursor(database, exit_id).pushed_seq > 0  # moved past what holds nothing for it
    assert _cursor(database, off_id).pushed_seq == 0


def test_the_railway_never_receives_listing_records_or_measures_it_does_not_hold(
    database, session, clock, court, receiver
):
    register_partner(session, clock, webhook_url=receiver.url)
    register_partner(
        session, clock, code="credit_ref", measures="credit_record", scope="listing",
        webhook_url=receiver.url.replace("/hook", "/hook"),
    )  # fmt: skip
    publish_listing(session, clock, court, organisation_draft())
    _publish_people(session, clock, court, 2)
    session.close()

    PushWorker(database, clock=clock).run_once()

    by_scope: dict[str, list] = {"restriction": [], "listing": []}
    for request in receiver.received:
        for item in request.items:
            by_scope[item["type"]].append(item)
    # Both partners share the receiver: tell them apart by what they hold.
    railway_measures = set(RAILWAY.split(","))
    for item in by_scope["restriction"]:
        assert set(item["record"]["measures"]) <= railway_measures
    assert by_scope["listing"]
    for item in by_scope["listing"]:
        assert item["record"]["measures"] == ["credit_record"]
    roles = {i["record"]["role"] for i in by_scope["restriction"]}
    assert "legal_representative" in roles


# --------------------------------------------------------------------------------------------------
# Crashes and concurrency


_WORKER_SCRIPT = """
import sys
from blacklist.db import Database
from blacklist.partners.push import PushWorker
from tests.conftest import make_vault
db = Database(sys.argv[1], vault=make_vault())
PushWorker(db, name="doomed").run_once()
"""


def test_a_worker_killed_mid_batch_loses_nothing(database, session, clock, court, receiver):
    """A worker process is killed (SIGKILL) while the receiver holds its POST: the batch is fixed,
    so the next worker sends it again with the same webhook-id, and then moves on."""
    partner_id, _key, secret = register_partner(session, clock, webhook_url=receiver.url)
    _publish_people(session, clock, court, 3)
    session.close()
    release = threading.Event()
    receiver.answer(("hold", release, 200))
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen([sys.executable, "-c", _WORKER_SCRIPT, database.url], env=env)
    try:
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.received, "the worker process never posted"
        process.kill()
        process.wait(10)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    first_id = receiver.received[0].headers["webhook-id"]
    cursor = _cursor(database, partner_id)
    assert cursor.batch_id == first_id and cursor.pushed_seq == 0

    # On SQLite the dead worker's lease must run out first (on PostgreSQL its lock died with it).
    later = FixedClock(datetime.now(UTC) + timedelta(seconds=61))
    attempts = PushWorker(database, clock=later).run_once()

    assert attempts[0].outcome == "delivered" and attempts[0].webhook_id == first_id
    assert receiver.received[-1].headers["webhook-id"] == first_id
    assert verify_signature(secret, receiver.received[-1].headers, receiver.received[-1].body)
    assert receiver.received[-1].body == receiver.received[0].body
    cursor = _cursor(database, partner_id)
    assert cursor.batch_id is None and cursor.pushed_seq >= max(_seqs(receiver.received[-1:]))


def test_concurrent_workers_never_send_one_partners_batches_at_the_same_time(
    database, session, clock, court, receiver
):
    """Four workers, two partners with slow endpoints: each partner has at most one request in
    flight at any moment, every batch is delivered once, and each partner's items arrive in seq
    order without gaps or repeats."""
    register_partner(session, clock, webhook_url=receiver.url)
    register_partner(
        session, clock, code="caac", measures="flight", webhook_url=receiver.url + "?p=caac"
    )
    _publish_people(session, clock, court, 12)
    session.close()
    receiver.default = ("slow", 0.05, 200)
    in_flight: dict[str, int] = {}
    overlap = []
    lock = threading.Lock()

    class Tracking(HttpSender):
        def post(self, url, body, headers):
            name = "caac" if "caac" in url else "railway"
            with lock:
                in_flight[name] = in_flight.get(name, 0) + 1
                if in_flight[name] > 1:
                    overlap.append(name)
            try:
                return super().post(url, body, headers)
            finally:
                with lock:
                    in_flight[name] -= 1

    workers = [
        PushWorker(database, clock=clock, sender=Tracking(), batch_size=2, name=f"w{n}")
        for n in range(4)
    ]
    errors = []

    def run(worker):
        try:
            for _ in range(30):
                worker.run_once()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert overlap == []
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 12  # 24 items per partner... 12 each, batches of 2
    for partner in ("caac", "railway"):
        seqs = [
            item["seq"]
            for r in receiver.received
            for item in r.items
            if ("caac" in r.path) == (partner == "caac")
        ]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == 12

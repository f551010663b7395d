"""The reference partner client (``examples/partner_client``) against the whole app: the Standard
Webhooks signature, a local copy that stays equal to the server's state through any sequence of
court acts (snapshot, feed, 410, wipes), live pushes into its webhook server, and the question a
partner asks of its copy ("may this person fly?").

The client speaks HTTP through the Flask test client (its ``transport``), except where the real
network is the point: the webhook server, and the command line run with ``python -S`` (no
site-packages: the client must run on a partner's machine with plain Python).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.serving import make_server

from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor
from blacklist.core.clock import CHINA_TZ
from blacklist.holidays.services import invalidate_calendar_cache
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import (
    ApprovalIn,
    DraftIn,
    ListingPatch,
    PaymentIn,
    PersonIn,
    SubjectIn,
)
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus, PersonRole, deletion_reasons_for
from blacklist.partners import feed
from blacklist.partners import services as partner_services
from blacklist.partners.models import Partner
from blacklist.partners.push import PushWorker, signed_headers
from blacklist.restrictions.catalogue import codes_of, mask_of
from blacklist.restrictions.models import Restriction
from examples.partner_client.partner_client import (
    PartnerApiError,
    PartnerClient,
    UrllibTransport,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)
from tests.conftest import clean_tables
from tests.factories import (
    NO_EXEMPTIONS,
    case_in,
    credit_code,
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    resident_id_ending_in_x,
    setup_court,
)
from tests.partner_factories import partner_headers, register_partner
from tests.webhook_receiver import start_receiver

CLIENT_SCRIPT = Path(__file__).parents[2] / "examples" / "partner_client" / "partner_client.py"
RAILWAY = "hsr_any_seat,emu_first_class,soft_sleeper"
START = datetime(2025, 3, 3, 10, 0, tzinfo=CHINA_TZ)


def flask_transport(app):
    """The client's transport through the Flask test client, streaming like the real thing."""
    test_client = app.test_client()

    def transport(method, path, headers, body):
        response = test_client.open(path, method=method, headers=headers, data=body, buffered=False)

        def chunks():
            try:
                yield from response.iter_encoded()
            finally:
                response.close()

        return response.status_code, dict(response.headers), chunks()

    return transport


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --------------------------------------------------------------------------------------------------
# The server's state, computed from the database (not through the partner API)


def restrictions_in_force(database, measures: str) -> dict[str, tuple]:
    """Every active projection row with one of ``measures``: the person's full ID number, name,
    role, the measures cut to the partner's, and since when."""
    mask = mask_of(measures.split(","))
    with database.session() as s:
        rows = s.scalars(
            select(Restriction).where(Restriction.is_active.is_(True)).order_by(Restriction.id)
        ).all()
        return {
            f"restriction:{r.id}": (
                database.vault.decrypt(r.person_cipher),
                r.person_name,
                r.role.value,
                codes_of(r.measures & mask),
                r.since.isoformat(),
            )
            for r in rows
            if r.measures & mask
        }


def restriction_copy(client: PartnerClient) -> dict[str, tuple]:
    return {
        key: (
            record["person"]["id_number"],
            record["person"]["name"],
            record["role"],
            record["measures"],
            record["since"],
        )
        for key, record in client.records().items()
    }


def published_listings(database) -> dict[str, tuple]:
    """Every published listing: the debtor's identifier, performance, end of term, extension."""
    with database.session() as s:
        listings = s.scalars(
            select(Listing).where(Listing.status == ListingStatus.PUBLISHED).order_by(Listing.id)
        ).all()
        return {
            f"listing:{item.public_id}": (
                database.vault.decrypt(item.subject.id_cipher),
                item.performance.status.value,
                item.ends_on.isoformat() if item.ends_on else None,
                item.extension_years,
            )
            for item in listings
        }


def listing_copy(client: PartnerClient) -> dict[str, tuple]:
    return {
        key: (
            record["id_number"],
            record["performance"],
            record["ends_on"],
            record["extension_years"],
        )
        for key, record in client.records().items()
    }


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


# --------------------------------------------------------------------------------------------------
# 1. The Standard Webhooks signature

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(**changes) -> dict[str, str]:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


def test_the_standard_webhooks_test_vector_verifies():
    verify_webhook(vector_headers(), VECTOR_BODY, VECTOR_SECRET, now=VECTOR_TIMESTAMP)
    assert sign_webhook(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_header_names_are_case_insensitive_and_any_listed_signature_may_match():
    headers = {k.title(): v for k, v in vector_headers().items()}
    headers["Webhook-Signature"] = (
        f"v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,xyz {VECTOR_SIGNATURE}"
    )
    verify_webhook(headers, VECTOR_BODY, VECTOR_SECRET, now=VECTOR_TIMESTAMP + 299)


@pytest.mark.parametrize(
    ("headers", "body", "secret", "now", "complaint"),
    [
        (vector_headers(), VECTOR_BODY, new_secret(), VECTOR_TIMESTAMP, "no v1 signature"),
        (vector_headers(), b'{"test": 2432232315}', VECTOR_SECRET, VECTOR_TIMESTAMP, "no v1"),
        (vector_headers(), VECTOR_BODY, VECTOR_SECRET, VECTOR_TIMESTAMP + 301, "too old"),
        (vector_headers(), VECTOR_BODY, VECTOR_SECRET, VECTOR_TIMESTAMP - 301, "future"),
        (vector_headers(**{"webhook-id": None}), VECTOR_BODY, VECTOR_SECRET, VECTOR_TIMESTAMP,
         "webhook-id"),
        (vector_headers(**{"webhook-timestamp": None}), VECTOR_BODY, VECTOR_SECRET,
         VECTOR_TIMESTAMP, "webhook-timestamp"),
        (vector_headers(**{"webhook-signature": None}), VECTOR_BODY, VECTOR_SECRET,
         VECTOR_TIMESTAMP, "webhook-signature"),
        (vector_headers(**{"webhook-id": "msg_other"}), VECTOR_BODY, VECTOR_SECRET,
         VECTOR_TIMESTAMP, "no v1"),
        (vector_headers(**{"webhook-signature": VECTOR_SIGNATURE.replace("v1,", "v2,")}),
         VECTOR_BODY, VECTOR_SECRET, VECTOR_TIMESTAMP, "no v1"),
        (vector_headers(**{"webhook-timestamp": "yesterday"}), VECTOR_BODY, VECTOR_SECRET,
         VECTOR_TIMESTAMP, "unix time"),
    ],
    ids=[
        "wrong secret", "tampered body", "stale timestamp", "future timestamp", "no id",
        "no timestamp", "no signature", "other id", "unknown version", "timestamp not a number",
    ],
)  # fmt: skip
def test_a_webhook_that_does_not_verify_is_refused_with_the_reason(
    headers, body, secret, now, complaint
):
    with pytest.raises(WebhookVerificationError, match=complaint):
        verify_webhook(headers, body, secret, now=now)


def test_what_the_server_signs_verifies():
    secret = new_secret()
    body = json.dumps({"items": []}).encode()
    headers = signed_headers(secret, "msg_" + secrets.token_hex(8), int(time.time()), body)
    verify_webhook(headers, body, secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(headers, body, new_secret())


# --------------------------------------------------------------------------------------------------
# handle_webhook on its own: signature, dedupe by webhook-id, the cursor


def offline(*_args):
    raise AssertionError("no request expected")


def delivery(secret: str, items: list[dict], webhook_id: str | None = None):
    body = json.dumps({"items": items}).encode()
    webhook_id = webhook_id or "msg_" + secrets.token_hex(8)
    return signed_headers(secret, webhook_id, int(time.time()), body), body


def upsert(seq: int, key: str, id_number: str, measures=("flight",)) -> dict:
    return {
        "seq": seq,
        "type": "restriction",
        "action": "upsert",
        "key": key,
        "record": {
            "person": {"kind": "person", "name": "张三", "id_number": id_number},
            "role": "debtor",
            "measures": list(measures),
            "since": "2025-03-03",
            "source": {"kind": "consumption_order", "public_id": "o1", "listing_public_id": "l1",
                       "court": "BJ0105人民法院", "case_number": "(2024)京0105执1号"},
        },
    }  # fmt: skip


def test_a_badly_signed_webhook_is_answered_401_and_changes_nothing(tmp_path):
    secret = new_secret()
    client = PartnerClient("http://x", "bpk_x", tmp_path / "copy.sqlite3", offline)
    client.start_from(10)
    headers, body = delivery(new_secret(), [upsert(11, "restriction:1", resident_id())])
    assert client.handle_webhook(headers, body, secret=secret) == 401
    assert client.records() == {} and client.cursor == 10


def test_a_webhook_id_already_applied_is_answered_200_and_not_applied_again(tmp_path):
    secret = new_secret()
    client = PartnerClient(
        "http://x", "bpk_x", tmp_path / "copy.sqlite3", offline, webhook_secret=secret
    )
    client.start_from(10)
    headers, body = delivery(secret, [upsert(11, "restriction:1", resident_id())], "msg_1")
    assert client.handle_webhook(headers, body) == 200
    assert client.cursor == 11 and client.is_restricted(resident_id(), "flight")

    other = resident_id("19900101", "555")
    headers, body = delivery(secret, [upsert(12, "restriction:2", other)], "msg_1")
    assert client.handle_webhook(headers, body) == 200
    assert client.cursor == 11 and not client.is_restricted(other, "flight")


def test_items_at_or_below_the_cursor_are_skipped_as_already_pulled(tmp_path):
    secret = new_secret()
    client = PartnerClient(
        "http://x", "bpk_x", tmp_path / "copy.sqlite3", offline, webhook_secret=secret
    )
    client.start_from(20)
    old, new = resident_id("19800101", "111"), resident_id("19800101", "222")
    items = [upsert(19, "restriction:1", old), upsert(21, "restriction:2", new)]
    assert client.handle_webhook(*delivery(secret, items)) == 200
    assert set(client.records()) == {"restriction:2"} and client.cursor == 21


def test_a_copy_never_built_answers_503_so_the_push_is_retried(tmp_path):
    secret = new_secret()
    client = PartnerClient(
        "http://x", "bpk_x", tmp_path / "copy.sqlite3", offline, webhook_secret=secret
    )
    assert (
        client.handle_webhook(*delivery(secret, [upsert(1, "restriction:1", resident_id())])) == 503
    )
    assert client.cursor is None and client.records() == {}


def test_a_signed_body_that_is_not_a_batch_is_answered_400(tmp_path):
    secret = new_secret()
    client = PartnerClient(
        "http://x", "bpk_x", tmp_path / "copy.sqlite3", offline, webhook_secret=secret
    )
    client.start_from(0)
    body = b'{"items": "nope"}'
    headers = signed_headers(secret, "msg_x", int(time.time()), body)
    assert client.handle_webhook(headers, body) == 400


def test_during_a_secret_rotation_either_secret_is_accepted(tmp_path):
    old, new = new_secret(), new_secret()
    client = PartnerClient(
        "http://x", "bpk_x", tmp_path / "copy.sqlite3", offline, webhook_secret=[old, new]
    )
    client.start_from(0)
    assert client.handle_webhook(*delivery(old, [upsert(1, "restriction:1", PEOPLE[0])])) == 200
    assert client.handle_webhook(*delivery(new, [upsert(2, "restriction:2", PEOPLE[1])])) == 200
    assert (
        client.handle_webhook(*delivery(new_secret(), [upsert(3, "restriction:3", PEOPLE[2])]))
        == 401
    )
    assert set(client.records()) == {"restriction:1", "restriction:2"}


class FakeServer:
    """Scripted partner API: snapshots (optionally cut off after some lines), a feed that may be
    gone, acks. Bodies come in 7-byte chunks, so lines are split across chunks."""

    def __init__(self):
        self.snapshots: list[tuple[int, list[dict], bool]] = []
        self.gone = 0  # how many feed requests to answer 410
        self.acks: list[int] = []

    def __call__(self, method, path, headers, body):
        assert headers["Authorization"] == "Bearer bpk_x"
        if path.startswith("/api/v1/partner/snapshot"):
            seq, lines, cut_off = self.snapshots.pop(0)
            data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)

            def chunks():
                for start in range(0, len(data), 7):
                    yield data[start : start + 7]
                if cut_off:
                    raise ConnectionResetError("connection reset by peer")

            return 200, {"x-feed-seq": str(seq)}, chunks()
        if path.startswith("/api/v1/partner/feed"):
            if self.gone:
                self.gone -= 1
                return 410, {}, json.dumps({"code": 410, "message": "gone", "errors": {}}).encode()
            after = int(path.split("after=")[1].split("&")[0])
            return (
                200,
                {},
                json.dumps({"items": [], "next_after": after, "has_more": False}).encode(),
            )
        if path == "/api/v1/partner/status":
            return 200, {}, json.dumps({"measures": ["flight"], "scope": "restriction"}).encode()
        if path == "/api/v1/partner/acks":
            self.acks.append(json.loads(body)["seq"])
            return 200, {}, json.dumps({"acked_seq": self.acks[-1], "acked_at": None}).encode()
        raise AssertionError(path)


def snapshot_line(n: int) -> dict:
    item = upsert(n, f"restriction:{n}", PEOPLE[n])
    return {"type": item["type"], "key": item["key"], "record": item["record"]}


def test_a_snapshot_cut_off_midway_leaves_the_previous_copy_in_place(tmp_path):
    server = FakeServer()
    server.snapshots.append((10, [snapshot_line(0), snapshot_line(1)], False))
    client = PartnerClient("http://x", "bpk_x", tmp_path / "copy.sqlite3", server)
    assert client.sync().snapshot == 2
    assert client.cursor == 10 and server.acks == [10]
    before = client.records()

    server.gone = 1
    server.snapshots.append((20, [snapshot_line(2), snapshot_line(3)], True))
    with pytest.raises(ConnectionResetError):
        client.sync()

    assert client.records() == before and client.cursor == 10
    with closing(sqlite3.connect(tmp_path / "copy.sqlite3")) as conn:
        tables = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert tables == {"records", "state", "seen_webhooks"}

    server.gone = 1
    server.snapshots.append((20, [snapshot_line(2), snapshot_line(3)], False))
    assert client.sync().snapshot == 2
    assert set(client.records()) == {"restriction:2", "restriction:3"} and client.cursor == 20


# --------------------------------------------------------------------------------------------------
# 2. Any sequence of court acts: the copies equal the server's state

PEOPLE = [resident_id("19800101", f"{n:03d}") for n in range(11, 17)]
PERSON_NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]
GROUNDS = [("refuses_with_ability",), ("evades",), ("refuses_with_ability", "obstructs")]
BOUND_ROLES = [PersonRole.PRINCIPAL, PersonRole.DIRECTLY_RESPONSIBLE, PersonRole.ACTUAL_CONTROLLER]
PARTNERS = ["railway", "credit_ref"]

publications = st.one_of(
    st.tuples(st.just("person"), st.integers(0, 5), st.sampled_from(GROUNDS), st.booleans()),
    st.tuples(
        st.just("organisation"),
        st.integers(0, 5),
        st.lists(st.tuples(st.sampled_from(BOUND_ROLES), st.integers(0, 5)), max_size=2),
        st.sampled_from(GROUNDS),
    ),
)
acts = st.one_of(
    publications,
    st.tuples(st.just("pay"), st.integers(0, 99), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 99), st.integers(0, 9)),
    st.tuples(st.just("revoke"), st.integers(0, 99)),
    st.tuples(st.just("extend"), st.integers(0, 99), st.integers(1, 3)),
    st.tuples(st.just("correct"), st.integers(0, 99), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("grace_ends")),
    st.tuples(st.just("sync"), st.sampled_from(PARTNERS)),
    st.tuples(st.just("sync"), st.sampled_from(PARTNERS)),
    st.tuples(st.just("wipe"), st.sampled_from(PARTNERS)),
)


class Court:
    """Acts of one court through the real listing services, each allowed in its state."""

    def __init__(self, session, clock, actors):
        self.session, self.clock, self.actors = session, clock, actors
        self.numbers = itertools.count(1)
        self.drafts: dict[int, DraftIn] = {}

    def listing_ids(self, *statuses, where=lambda listing: True) -> list[int]:
        rows = self.session.scalars(
            select(Listing).where(Listing.status.in_(statuses)).order_by(Listing.id)
        ).all()
        ids = [row.id for row in rows if where(row)]
        self.session.rollback()  # never keep SQLite's write lock while the app is called
        return ids

    def publish(self, draft: DraftIn) -> None:
        clerk, judge = self.actors["clerk"], self.actors["judge"]
        draft_listing = listing_services.create_draft(
            self.session, draft, actor=clerk, clock=self.clock
        )
        listing_services.submit_listing(
            self.session, draft_listing.id, actor=clerk, clock=self.clock
        )
        listing_services.approve_listing(
            self.session, draft_listing.id, ApprovalIn("(2025)京0105执恢1号决定书"), actor=judge,
            clock=self.clock,
        )  # fmt: skip
        self.drafts[draft_listing.id] = draft

    def act(self, op: tuple) -> None:
        kind, *args = op
        today = self.clock.today()
        clerk, judge = self.actors["clerk"], self.actors["judge"]
        live = (ListingStatus.APPROVED, ListingStatus.PUBLISHED)
        if kind == "person":
            who, grounds, grace = args
            n = next(self.numbers)
            self.publish(
                DraftIn(
                    subject=SubjectIn(kind="person", name=PERSON_NAMES[who], id_number=PEOPLE[who]),
                    case=case_in(f"(2024)京0105执{n}号"), grounds=grounds,
                    exemptions=NO_EXEMPTIONS, grace_days=30 if grace else 0,
                )
            )  # fmt: skip
        elif kind == "organisation":
            representative, bound, grounds = args
            n = next(self.numbers)
            people, seen = [], set()
            for role, who in bound:
                if (role, who) not in seen:
                    seen.add((role, who))
                    people.append(PersonIn(PERSON_NAMES[who], PEOPLE[who], role.value))
            self.publish(
                DraftIn(
                    subject=SubjectIn(
                        kind="organisation", name=f"北京第{n}商贸有限公司",
                        credit_code=credit_code(f"91110105MA{n:07d}"),
                        legal_representative=PersonIn(
                            PERSON_NAMES[representative], PEOPLE[representative]
                        ),
                        bound_persons=tuple(people),
                    ),
                    case=case_in(f"(2024)京0105执{n}号", Decimal("500000.00")),
                    grounds=grounds, exemptions=NO_EXEMPTIONS,
                )
            )  # fmt: skip
        elif kind == "pay":
            ids = self.listing_ids(*live)
            if ids:
                index, full = args
                payment = (
                    PaymentIn(None, today, full=True)
                    if full
                    else PaymentIn(Decimal("1000.00"), today)
                )
                listing_services.record_performance(
                    self.session, ids[index % len(ids)], payment, actor=clerk, clock=self.clock
                )
        elif kind == "delete":
            ids = self.listing_ids(*live)
            if ids:
                index, reason = args
                listing_id = ids[index % len(ids)]
                reasons = deletion_reasons_for(self.session.get(Listing, listing_id).has_term)
                self.session.rollback()
                listing_services.delete_listing(
                    self.session, listing_id, reasons[reason % len(reasons)].value,
                    note="申请执行人书面申请删除", actor=judge, clock=self.clock,
                )  # fmt: skip
        elif kind == "revoke":
            ids = self.listing_ids(*live)
            if ids:
                listing_services.revoke_listing(
                    self.session, ids[args[0] % len(ids)], "错误纳入", actor=judge, clock=self.clock
                )
        elif kind == "extend":
            ids = self.listing_ids(
                ListingStatus.PUBLISHED,
                where=lambda row: row.has_term and row.extension_years < 3 and row.ends_on > today,
            )
            if ids:
                index, years = args
                listing_id = ids[index % len(ids)]
                years = min(years, 3 - self.session.get(Listing, listing_id).extension_years)
                self.session.rollback()
                listing_services.extend_listing(
                    self.session, listing_id, years, "多次失信", actor=judge, clock=self.clock
                )
        elif kind == "correct":  # 更正: another debtor name or legal representative, another case
            ids = self.listing_ids(*live)
            if ids:
                index, who, small_debt = args
                listing_id = ids[index % len(ids)]
                draft = self.drafts[listing_id]
                subject = (
                    replace(
                        draft.subject, legal_representative=PersonIn(PERSON_NAMES[who], PEOPLE[who])
                    )
                    if draft.subject.kind == "organisation"
                    else replace(draft.subject, name=PERSON_NAMES[who])
                )
                amount = Decimal("1000.00") if small_debt else draft.case.amount_due
                case = case_in(f"(2024)京0105执{next(self.numbers)}号", amount)
                listing_services.edit_listing(
                    self.session, listing_id,
                    ListingPatch(subject=subject, case=case, reason="更正错误信息"),
                    actor=judge, clock=self.clock,
                )  # fmt: skip
                self.drafts[listing_id] = replace(draft, subject=subject, case=case)
        elif kind == "grace_ends" and self.listing_ids(
            ListingStatus.APPROVED, where=lambda row: row.publish_on > today
        ):  # the scheduler publishes listings whose grace period ended
            self.clock.advance(days=31)
            for listing_id in self.listing_ids(ListingStatus.APPROVED):
                listing_services.publish_after_grace(
                    self.session, listing_id, actor=Actor.system("scheduler"), clock=self.clock
                )
        self.session.rollback()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(publications, min_size=1, max_size=3),
    ops=st.lists(acts, min_size=3, max_size=25),
)
def test_local_copies_equal_the_server_after_any_sequence_of_acts(
    first, ops, app, database, session, clock, monkeypatch, tmp_path
):
    clean_tables(database)
    invalidate_calendar_cache()
    session.close()
    clock.set(START)
    fast_password_hashing(monkeypatch)
    court = Court(session, clock, setup_court(session, clock))
    keys = {
        "railway": register_partner(session, clock)[1],
        "credit_ref": register_partner(
            session, clock, code="credit_ref", measures="credit_record", scope="listing"
        )[1],
    }
    session.rollback()
    transport = flask_transport(app)
    folder = tmp_path / secrets.token_hex(4)
    folder.mkdir()
    files = itertools.count()

    def new_client(partner: str) -> PartnerClient:
        return PartnerClient(
            "http://test", keys[partner], folder / f"{partner}-{next(files)}.sqlite3", transport
        )

    clients = {partner: new_client(partner) for partner in PARTNERS}
    for op in [*first, *ops]:
        if op[0] == "sync":
            clients[op[1]].sync()
        elif op[0] == "wipe":  # the partner lost its copy: the next sync starts from a snapshot
            clients[op[1]] = new_client(op[1])
        else:
            court.act(op)

    for partner, client in clients.items():
        client.sync()
        from_zero = new_client(partner)
        from_zero.start_from(0)
        assert from_zero.sync().snapshot is None  # never snapshotted: the feed alone
        if partner == "railway":
            expected = restrictions_in_force(database, RAILWAY)
            assert restriction_copy(client) == expected
            assert restriction_copy(from_zero) == expected
        else:
            expected = published_listings(database)
            assert listing_copy(client) == expected
            assert listing_copy(from_zero) == expected

    # The copy answers as the server's checks do, for everyone involved.
    answers = app.test_client().post(
        "/api/v1/partner/checks",
        json={"measure": "hsr_any_seat", "people": [{"id_number": p} for p in PEOPLE]},
        headers=partner_headers(keys["railway"]),
    )
    assert answers.status_code == 200
    for result in answers.get_json()["results"]:
        local = clients["railway"].is_restricted(result["id_number"], "hsr_any_seat")
        assert local.restricted == result["restricted"]
        assert sorted(map(canonical, local.reasons)) == sorted(map(canonical, result["reasons"]))


# --------------------------------------------------------------------------------------------------
# 410 Gone → a new snapshot


def test_a_cursor_behind_the_retention_window_makes_the_client_take_a_new_snapshot(
    app, database, session, clock, court, tmp_path
):
    _id, key, _secret = register_partner(session, clock)
    first = publish_listing(session, clock, court, person_draft(id_number=PEOPLE[0]))
    client = PartnerClient("http://test", key, tmp_path / "copy.sqlite3", flask_transport(app))
    client.sync()
    listing_services.revoke_listing(
        session, first.id, "错误纳入", actor=court["judge"], clock=clock
    )
    publish_listing(session, clock, court, organisation_draft(case_number="(2024)京0105执9号"))
    clock.advance(days=31)
    assert feed.prune(session, before=clock.now() - timedelta(days=30)) > 0
    session.rollback()

    summary = client.sync()

    assert summary.snapshot is not None
    assert restriction_copy(client) == restrictions_in_force(database, RAILWAY)
    assert not client.is_restricted(PEOPLE[0], "hsr_any_seat")


def test_new_measures_for_the_partner_make_the_client_take_a_new_snapshot(
    app, database, session, clock, court, tmp_path
):
    _id, key, _secret = register_partner(session, clock, code="caac", measures="flight")
    publish_listing(session, clock, court, person_draft(id_number=PEOPLE[0]))
    session.rollback()
    client = PartnerClient("http://test", key, tmp_path / "copy.sqlite3", flask_transport(app))
    client.sync()
    assert not client.is_restricted(PEOPLE[0], "hsr_any_seat")

    partner_services.update_partner(
        session, "caac", name="中国民用航空局", measures="flight,hsr_any_seat",
        scope="restriction", webhook_url=None, is_active=True, actor=Actor.system("test"),
        clock=clock,
    )  # fmt: skip
    session.rollback()

    assert client.sync().snapshot is not None
    assert restriction_copy(client) == restrictions_in_force(database, "flight,hsr_any_seat")
    assert client.is_restricted(PEOPLE[0], "hsr_any_seat")
    assert client.sync().snapshot is None


# --------------------------------------------------------------------------------------------------
# 3. Live: pushes into the client's webhook server


class LiveReceiver:
    """The client's webhook server on 127.0.0.1 in a thread, recording what it was sent."""

    def __init__(self, client: PartnerClient, secret: str, port: int):
        self.client = client
        self.deliveries: list[tuple[str, list[dict], int]] = []
        self.down = False
        apply = client.handle_webhook

        def recording(headers, body, **kwargs):
            status = 500 if self.down else apply(headers, body, **kwargs)
            webhook_id = dict((k.lower(), v) for k, v in headers)["webhook-id"]
            self.deliveries.append((webhook_id, json.loads(body)["items"], status))
            return status

        client.handle_webhook = recording
        self.server = client.make_server("127.0.0.1", port, secret)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live(app, session, clock, tmp_path):
    """A railway partner registered with the URL of a live reference-client webhook server,
    whose copy was built by a first sync."""
    port = free_port()
    _id, key, secret = register_partner(
        session, clock, webhook_url=f"http://127.0.0.1:{port}/blacklist/webhook"
    )
    session.rollback()
    client = PartnerClient("http://test", key, tmp_path / "copy.sqlite3", flask_transport(app))
    client.sync()
    receiver = LiveReceiver(client, secret, port)
    yield receiver
    receiver.close()


def test_pushes_keep_the_copy_equal_to_the_server_and_removals_follow_their_upserts(
    live, database, session, clock, court
):
    client = live.client
    person = publish_listing(session, clock, court, person_draft(id_number=PEOPLE[0]))
    publish_listing(
        session, clock, court,
        organisation_draft(
            representative=PersonIn("李四", PEOPLE[1]),
            bound_persons=(PersonIn("王五", PEOPLE[2], "actual_controller"),),
        ),
    )  # fmt: skip
    session.rollback()
    worker = PushWorker(database, clock=clock)

    attempts = worker.run_once()

    assert [a.outcome for a in attempts if a.outcome != "skipped"] == ["delivered"]
    assert restriction_copy(client) == restrictions_in_force(database, RAILWAY)
    assert {status for _id, _items, status in live.deliveries} == {200}
    wait_for(lambda: client.status()["acked_seq"] == client.cursor)

    assert not [a for a in worker.run_once() if a.outcome == "delivered"]
    assert len(live.deliveries) == 1

    listing_services.revoke_listing(
        session, person.id, "错误纳入", actor=court["judge"], clock=clock
    )
    session.rollback()
    attempts = worker.run_once()

    assert [a.outcome for a in attempts if a.outcome != "skipped"] == ["delivered"]
    assert restriction_copy(client) == restrictions_in_force(database, RAILWAY)
    assert not client.is_restricted(PEOPLE[0], "hsr_any_seat")
    received = [item for _id, items, _status in live.deliveries for item in items]
    removals = [item for item in received if item["action"] == "remove"]
    assert removals
    for removal in removals:
        upserts = [i for i in received if i["key"] == removal["key"] and i["action"] == "upsert"]
        assert upserts and received.index(upserts[-1]) < received.index(removal)
        assert upserts[-1]["seq"] < removal["seq"]
    wait_for(lambda: client.status()["acked_seq"] == client.cursor)


def test_push_stops_behind_the_retention_window_until_the_client_rebuilds_its_copy(
    live, database, session, clock, court
):
    client = live.client
    worker = PushWorker(database, clock=clock)
    first = publish_listing(session, clock, court, person_draft(id_number=PEOPLE[0]))
    session.rollback()
    worker.run_once()
    assert client.is_restricted(PEOPLE[0], "hsr_any_seat")

    live.down = True  # the partner's endpoint fails for more than the retention window
    listing_services.revoke_listing(
        session, first.id, "错误纳入", actor=court["judge"], clock=clock
    )
    session.rollback()
    assert [a.outcome for a in worker.run_once()] == ["failed"]
    clock.advance(days=31)
    publish_listing(
        session, clock, court, person_draft(id_number=PEOPLE[1], case_number="(2024)京0105执7号")
    )
    assert feed.prune(session, before=clock.now() - timedelta(days=30)) > 0
    session.rollback()
    live.down = False

    sent = len(live.deliveries)
    [stalled] = worker.run_once()  # push stops: what was pruned can no longer be sent
    assert stalled.outcome == "stalled" and len(live.deliveries) == sent

    client.sync()  # 410 → a new snapshot, then the feed; its ack lets push resume
    assert restriction_copy(client) == restrictions_in_force(database, RAILWAY)
    assert not client.is_restricted(PEOPLE[0], "hsr_any_seat")
    assert client.is_restricted(PEOPLE[1], "hsr_any_seat")

    publish_listing(
        session, clock, court, person_draft(id_number=PEOPLE[2], case_number="(2024)京0105执8号")
    )
    session.rollback()
    assert [a.outcome for a in worker.run_once()] == ["delivered"]
    assert live.deliveries[-1][2] == 200
    assert restriction_copy(client) == restrictions_in_force(database, RAILWAY)
    assert client.is_restricted(PEOPLE[2], "hsr_any_seat")


def apply_pushed(requests) -> dict[str, tuple]:
    """A plain receiver's copy: applied as API.md says (upsert replaces, remove deletes)."""
    copy: dict[str, tuple] = {}
    for request in requests:
        for item in request.items:
            if item["action"] == "upsert":
                r = item["record"]
                person = r["person"]
                copy[item["key"]] = (
                    person["id_number"], person["name"], r["role"], r["measures"], r["since"]
                )  # fmt: skip
            else:
                copy.pop(item["key"], None)
    return copy


def test_a_plain_receiver_never_misses_a_removal_when_pushes_resume_after_the_retention_window(
    database, session, clock, court
):
    receiver, server = start_receiver()
    try:
        register_partner(session, clock, webhook_url=receiver.url)
        worker = PushWorker(database, clock=clock)
        first = publish_listing(session, clock, court, person_draft(id_number=PEOPLE[0]))
        session.rollback()
        worker.run_once()
        receiver.default = 500
        listing_services.revoke_listing(
            session, first.id, "错误纳入", actor=court["judge"], clock=clock
        )
        session.rollback()
        worker.run_once()
        clock.advance(days=31)
        publish_listing(
            session, clock, court,
            person_draft(id_number=PEOPLE[1], case_number="(2024)京0105执7号"),
        )  # fmt: skip
        feed.prune(session, before=clock.now() - timedelta(days=30))
        session.rollback()
        receiver.default = 200
        delivered_before = len(receiver.delivered)
        [stalled] = worker.run_once()

        # Push stops rather than skip what was pruned: the partner is told to take a snapshot.
        assert stalled.outcome == "stalled" and "snapshot" in stalled.error
        assert len(receiver.delivered) == delivered_before
        assert worker.run_once() == []  # and it does not spin
        copy = apply_pushed(receiver.delivered)
        assert set(copy) - set(restrictions_in_force(database, RAILWAY)) == set(copy)  # stale

        # The partner takes a new snapshot and acknowledges its seq: push resumes from there.
        snapshot_seq = last_seq(session)
        partner = session.scalar(select(Partner))
        partner_services.acknowledge(session, partner, snapshot_seq, clock=clock)
        third = publish_listing(
            session, clock, court,
            person_draft(id_number=PEOPLE[2], case_number="(2024)京0105执8号"),
        )  # fmt: skip
        session.rollback()
        assert [a.outcome for a in worker.run_once()] == ["delivered"]
        resumed = receiver.delivered[-1].items
        assert all(item["seq"] > snapshot_seq for item in resumed)
        assert {i["record"]["source"]["listing_public_id"] for i in resumed} == {third.public_id}
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------------------------------
# 4. May this person fly?


def test_the_legal_representative_of_a_listed_company_may_not_fly_until_the_listing_is_revoked(
    app, client, database, session, clock, court, tmp_path
):
    _id, key, _secret = register_partner(session, clock, code="caac", measures="flight")
    representative = resident_id_ending_in_x("19700505")
    company = publish_listing(
        session, clock, court, organisation_draft(representative=PersonIn("李四", representative))
    )
    session.rollback()
    copy = PartnerClient("http://test", key, tmp_path / "caac.sqlite3", flask_transport(app))
    copy.sync()

    typed = representative[:-1] + "x"  # as a ticket clerk might type it
    assert copy.may_fly(typed) is False
    answer = copy.is_restricted(typed, "flight")
    assert answer and [r["role"] for r in answer.reasons] == ["legal_representative"]
    server = client.post(
        "/api/v1/partner/checks",
        json={"measure": "flight", "people": [{"id_number": representative}]},
        headers=partner_headers(key),
    ).get_json()["results"][0]
    assert answer.reasons == server["reasons"]

    listing_services.revoke_listing(
        session, company.id, "错误纳入", actor=court["judge"], clock=clock
    )
    session.rollback()
    copy.sync()

    assert copy.may_fly(typed) is True
    assert copy.is_restricted(representative, "flight") == (False, [])


# --------------------------------------------------------------------------------------------------
# The command line over real HTTP, with the standard library only


@pytest.fixture
def http_app(app):
    """The app served over real HTTP on 127.0.0.1 (werkzeug, threaded)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-S", str(CLIENT_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"},
    )


def test_the_command_line_syncs_over_http_and_answers_checks_with_plain_python(
    http_app, session, clock, court, tmp_path
):
    _id, key, _secret = register_partner(session, clock)
    publish_listing(
        session, clock, court, organisation_draft(representative=PersonIn("李四", PEOPLE[1]))
    )
    session.rollback()
    db = str(tmp_path / "copy.sqlite3")
    common = ["--base-url", http_app, "--key", key, "--db", db]

    synced = run_cli(*common, "sync")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["snapshot"] == 2  # the company and its representative
    checked = run_cli(*common, "check", PEOPLE[1], "--measure", "hsr_any_seat")
    assert checked.returncode == 0, checked.stderr
    answer = json.loads(checked.stdout)
    assert answer["restricted"] is True
    assert [r["role"] for r in answer["reasons"]] == ["legal_representative"]

    refused = run_cli("--base-url", http_app, "--key", "bpk_wrong", "--db", db, "sync")
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr


def test_the_client_does_not_follow_redirects_with_its_key(tmp_path):
    seen: list[str | None] = []

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        client = PartnerClient(url, "bpk_secret", tmp_path / "copy.sqlite3", UrllibTransport(url))
        with pytest.raises(PartnerApiError) as raised:
            client.sync()
        assert raised.value.status == 302
        assert seen == ["Bearer bpk_secret"]  # asked once, never at the redirect's target
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

"""The partner JSON API end to end (API.md, partner part): every endpoint over HTTP through the whole
app, on the test database (SQLite, or PostgreSQL with BLACKLIST_TEST_DATABASE_URL), with a fixed
clock. Keys (401), measures (403), bad input (422), pruned cursors (410), what each partner may see
(its scope and its measures only; full ID numbers only here, never in the logs), the snapshot as one
consistent read, and the OpenAPI document.

Listings and partners are set up through the services; the test's ``session`` holds no transaction
while the app is called (on SQLite an open transaction would hold the write lock)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, text

from blacklist.db import Database
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import ListingPatch, PaymentIn, PersonIn
from blacklist.listing.models import Listing
from blacklist.partners import feed
from blacklist.partners import services as partner_services
from blacklist.restrictions.catalogue import mask_of
from tests.e2e.conftest import api_token, bearer, counts
from tests.factories import (
    case_in,
    credit_code,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    resident_id_ending_in_x,
)
from tests.partner_factories import SYSTEM, partner_headers, register_partner

API = "/api/v1/partner"
FEED, SNAPSHOT, CHECKS, ACKS, HITS, STATUS = (
    f"{API}/{name}" for name in ("feed", "snapshot", "checks", "acks", "hits", "status")
)
DEBTOR = resident_id("19800101", "123")
REPRESENTATIVE = resident_id("19700505", "235")
PRINCIPAL = resident_id("19750101", "111")
ORG_CODE = credit_code()
WITH_X = resident_id_ending_in_x("19650315")
STRANGER = resident_id("19900101", "555")
RAILWAY = ("soft_sleeper", "hsr_any_seat", "emu_first_class")
RESTRICTION_FIELDS = {"person", "role", "measures", "since", "source"}
PARTNER_TABLES = ("partners", "partner_keys", "push_cursors", "partner_acks", "hits")

ORGANISATION = organisation_draft(
    code=ORG_CODE,
    representative=PersonIn("李四", REPRESENTATIVE),
    bound_persons=(PersonIn("王五", PRINCIPAL, "principal"),),
)


@dataclass
class World:
    """Two listings (a person, an organisation with its legal representative and principal) and
    four partners, by code: their API keys."""

    keys: dict[str, str]
    person_listing: int
    person_public_id: str
    org_listing: int
    org_public_id: str


@pytest.fixture
def world(session, clock, court) -> World:
    person = publish_listing(session, clock, court)
    org = publish_listing(session, clock, court, ORGANISATION)
    keys = {}
    for code, measures, scope in (
        ("railway", ",".join(RAILWAY), "restriction"),
        ("caac", "flight", "restriction"),
        ("credit_ref", "credit_record", "listing"),
        ("bank", "credit,financing,flight", "both"),
    ):
        keys[code] = register_partner(session, clock, code, measures, scope)[1]
    world = World(keys, person.id, person.public_id, org.id, org.public_id)
    session.close()
    return world


def call(client, method: str, path: str, key: str | None = None, **kwargs):
    headers = partner_headers(key) if key else {}
    return client.open(path, method=method, headers=headers, **kwargs)


def feed_items(client, key: str, *, after: int = 0, limit: int = 1000) -> tuple[list, int]:
    """Every feed item after ``after`` over HTTP (following ``next_after``) and the last cursor."""
    items = []
    while True:
        response = call(client, "GET", FEED, key, query_string={"after": after, "limit": limit})
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert set(page) == {"items", "next_after", "has_more"}
        items.extend(page["items"])
        after = page["next_after"]
        if not page["has_more"]:
            return items, after


def snapshot(client, key: str) -> tuple[int, list[dict], str]:
    response = call(client, "GET", SNAPSHOT, key)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return int(response.headers["X-Feed-Seq"]), [json.loads(x) for x in body.splitlines()], body


def replay(items, state=None) -> dict:
    state = dict(state or {})
    for item in items:
        if item["action"] == "upsert":
            state[item["key"]] = (item["type"], item["record"])
        else:
            state.pop(item["key"], None)
    return state


def assert_error(response, code: int, *fields: str) -> dict:
    """API.md's error shape, with messages under ``fields``."""
    assert response.status_code == code, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == code
    assert (
        body["status"]
        == {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            410: "Gone",
            422: "Unprocessable Entity",
        }[code]
    )
    assert body["message"]
    for field in fields:
        assert body["errors"].get(field), body["errors"]
    assert response.headers["Cache-Control"] == "no-store"
    return body


def instants(body: dict) -> dict:
    """``body`` with its times parsed (the same instant may be written with another offset)."""
    times = ("occurred_at", "reported_at", "acked_at")
    return {k: datetime.fromisoformat(v) if k in times and v else v for k, v in body.items()}


def check_body(measure: str = "flight", *numbers: str) -> dict:
    return {"measure": measure, "people": [{"id_number": n} for n in numbers or (DEBTOR,)]}


def hit_body(**changes) -> dict:
    body = {
        "id_number": DEBTOR,
        "measure": "flight",
        "occurred_at": "2025-03-03T09:30:00+08:00",
        "detail": "拒绝售票",
    }
    body.update(changes)
    return body


#: (method, path, JSON body) of every partner endpoint.
ENDPOINTS = [
    ("GET", FEED, None),
    ("GET", SNAPSHOT, None),
    ("GET", STATUS, None),
    ("POST", CHECKS, check_body()),
    ("POST", ACKS, {"seq": 1}),
    ("POST", HITS, hit_body()),
]
ENDPOINT_IDS = [f"{m} {p.rsplit('/', 1)[1]}" for m, p, _ in ENDPOINTS]


# --------------------------------------------------------------------------------------------------
# 401


#: Authorization headers without a valid partner key (``KEY``: a valid key without the scheme).
NOT_A_KEY = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic cmFpbHdheTpzZWNyZXQ=",
    "Bearer bpk_unknown",
    "KEY",
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_refuses_a_missing_or_invalid_key(
    client, database, world, method, path, body
):
    before = counts(database, PARTNER_TABLES)
    for authorization in NOT_A_KEY:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization.replace("KEY", world.keys["caac"])
        response = client.open(path, method=method, json=body, headers=headers)
        error = assert_error(response, 401)
        assert error["errors"] == {}
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="blacklist"'
    assert counts(database, PARTNER_TABLES) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_staff_token_is_not_a_partner_key(client, world, method, path, body):
    token = api_token(client, "bj0105-admin")
    response = client.open(path, method=method, json=body, headers=bearer(token))
    assert_error(response, 401)


def test_a_partner_key_is_not_a_staff_token(client, world):
    response = client.get("/api/v1/listings", headers=partner_headers(world.keys["caac"]))
    assert response.status_code == 401


def test_the_key_is_checked_before_the_input(client, world):
    response = client.get(FEED, query_string={"after": -1, "limit": 0})
    assert_error(response, 401)
    response = client.post(CHECKS, json={"people": "everyone"})
    assert_error(response, 401)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_revoked_key_is_refused_while_the_partners_other_key_works(
    client, session, clock, database, world, method, path, body
):
    old = world.keys["caac"]
    new = partner_services.add_key(session, "caac", label="轮换", actor=SYSTEM, clock=clock)[1]
    old_id = session.scalar(
        text("SELECT id FROM partner_keys WHERE prefix = :p ORDER BY id").bindparams(p=old[:10])
    )
    partner_services.revoke_key(session, "caac", old_id, actor=SYSTEM, clock=clock)
    session.close()

    refused = client.open(path, method=method, json=body, headers=partner_headers(old))
    assert_error(refused, 401)
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="blacklist"'
    response = client.open(path, method=method, json=body, headers=partner_headers(new.api_key))
    assert response.status_code in (200, 201), response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_deactivated_partner_is_refused(client, session, clock, world, method, path, body):
    partner_services.update_partner(
        session,
        "caac",
        name="民航",
        measures="flight",
        scope="restriction",
        webhook_url=None,
        is_active=False,
        actor=SYSTEM,
        clock=clock,
    )
    session.close()
    response = call(client, method, path, world.keys["caac"], json=body)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="blacklist"'
    # the other partners carry on
    assert call(client, "GET", STATUS, world.keys["railway"]).status_code == 200


# --------------------------------------------------------------------------------------------------
# 403: a measure the partner does not hold


def test_a_check_of_a_measure_not_held_is_forbidden(client, world):
    response = call(client, "POST", CHECKS, world.keys["railway"], json=check_body("flight"))
    assert_error(response, 403)
    response = call(client, "POST", CHECKS, world.keys["caac"], json=check_body("credit_record"))
    assert_error(response, 403)


def test_a_hit_for_a_measure_not_held_is_forbidden_and_not_recorded(client, database, world):
    response = call(client, "POST", HITS, world.keys["railway"], json=hit_body())
    assert_error(response, 403)
    assert counts(database, ("hits",)) == {"hits": 0}


# --------------------------------------------------------------------------------------------------
# 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"after": -1}, "after"),
        ({"after": "abc"}, "after"),
        ({"after": "1.5"}, "after"),
        ({"after": 9}, "after"),  # beyond the newest seq
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_a_bad_feed_cursor_or_limit_is_refused(client, world, query, field):
    response = call(client, "GET", FEED, world.keys["railway"], query_string=query)
    assert_error(response, 422, field)


def test_the_feed_limits_are_inclusive(client, world):
    for limit in (1, 1000):
        response = call(client, "GET", FEED, world.keys["railway"], query_string={"limit": limit})
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == min(limit, 4)
    response = call(client, "GET", FEED, world.keys["railway"], query_string={"after": 8})
    assert response.get_json() == {"items": [], "next_after": 8, "has_more": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"people": [{"id_number": DEBTOR}]}, "measure"),
        ({"measure": "flight"}, "people"),
        ({"measure": "flight", "people": []}, "people"),
        ({"measure": "flight", "people": DEBTOR}, "people"),
        ({"measure": "flight", "people": [DEBTOR]}, "people.0._schema"),
        ({"measure": "flight", "people": [{"name": "张三"}]}, "people.0.id_number"),
        ({"measure": "flight", "people": [{"id_number": None}]}, "people.0.id_number"),
        ({"measure": "flight", "people": [{"id_number": 110105}]}, "people.0.id_number"),
        ({"measure": "flight", "people": [{"id_number": DEBTOR, "age": 3}]}, "people.0.age"),
        ({**check_body(), "verbose": True}, "verbose"),
        ({"measure": "flights", "people": [{"id_number": DEBTOR}]}, "measure"),
    ],
)
def test_a_malformed_check_is_refused(client, world, body, field):
    response = call(client, "POST", CHECKS, world.keys["caac"], json=body)
    assert_error(response, 422, field)


def test_a_check_body_that_is_not_json_is_refused(client, world):
    response = call(
        client, "POST", CHECKS, world.keys["caac"], data="{people", content_type="application/json"
    )
    body = assert_error(response, 400)
    assert body["errors"] == {"_schema": ["请求体不是有效的 JSON"]}


def test_a_check_of_more_than_1000_people_is_refused(client, world):
    body = check_body("flight", *([DEBTOR] * 1001))
    assert_error(call(client, "POST", CHECKS, world.keys["caac"], json=body), 422, "people")
    body = check_body("flight", *([DEBTOR] * 1000))
    response = call(client, "POST", CHECKS, world.keys["caac"], json=body)
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 1000


def test_bad_id_numbers_are_named_by_their_index(client, world):
    wrong_check = DEBTOR[:-1] + ("0" if DEBTOR[-1] != "0" else "1")
    people = [DEBTOR, STRANGER, REPRESENTATIVE, wrong_check, DEBTOR, "12345", "张三", DEBTOR]
    response = call(client, "POST", CHECKS, world.keys["caac"], json=check_body("flight", *people))
    body = assert_error(response, 422)
    assert set(body["errors"]) == {"people.3.id_number", "people.5.id_number", "people.6.id_number"}
    assert DEBTOR not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body", [{"seq": -1}, {"seq": 9}, {"seq": "5"}, {"seq": 1.5}, {"seq": True}, {}, {"seq": None}]
)
def test_a_bad_ack_is_refused_and_changes_nothing(client, database, world, body):
    before = counts(database, ("partner_acks", "audit_entries"))
    assert_error(call(client, "POST", ACKS, world.keys["railway"], json=body), 422, "seq")
    assert counts(database, ("partner_acks", "audit_entries")) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": "2025-03-03T09:30:00"}, "occurred_at"),
        ({"occurred_at": "2025-03-03T12:00:00+08:00"}, "occurred_at"),  # two hours ahead
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"id_number": STRANGER}, "id_number"),
        ({"id_number": DEBTOR[:-1]}, "id_number"),
        ({"measure": "flights"}, "measure"),
        ({"detail": "长" * 501}, "detail"),
        ({"reference": "r" * 65}, "reference"),
        ({"price": 100}, "price"),
    ],
)
def test_a_bad_hit_is_refused_and_not_recorded(client, database, world, changes, field):
    response = call(client, "POST", HITS, world.keys["caac"], json=hit_body(**changes))
    assert_error(response, 422, field)
    assert counts(database, ("hits",)) == {"hits": 0}


# --------------------------------------------------------------------------------------------------
# 410


def test_a_cursor_older_than_the_retention_window_is_gone(client, database, clock, court, world):
    clock.advance(days=40)
    with database.session() as s:
        publish_listing(
            s,
            clock,
            court,
            person_draft(name="王二", id_number=STRANGER, case_number="(2024)京0105执77号"),
        )
        assert feed.prune(s, before=clock.now() - timedelta(days=30)) == 8
    key = world.keys["railway"]
    for after in (0, 7):
        body = assert_error(call(client, "GET", FEED, key, query_string={"after": after}), 410)
        assert body["errors"] == {"after": ["最早可用的 after 为 8"]}
    items, next_after = feed_items(client, key, after=8)
    assert [i["record"]["person"]["name"] for i in items] == ["王二"]
    assert next_after == 11
    # the way back: a snapshot and the feed from its seq
    seq, lines, _body = snapshot(client, key)
    assert seq == 11 and len(lines) == 5
    assert feed_items(client, key, after=seq) == ([], 11)


# --------------------------------------------------------------------------------------------------
# What each partner receives


def history(session, clock, court, world: World) -> None:
    """After the world's publications: a payment, a correction, a full payment of another debtor,
    a revocation and a deletion."""
    clerk, judge = court["clerk"], court["judge"]
    paid = publish_listing(
        session,
        clock,
        court,
        person_draft(name="赵二", id_number=WITH_X, case_number="(2024)京0105执88号"),
    ).id
    deleted = publish_listing(
        session,
        clock,
        court,
        person_draft(name="钱三", id_number=STRANGER, case_number="(2024)京0105执99号"),
    ).id
    listing_services.record_performance(
        session,
        world.person_listing,
        PaymentIn(Decimal("100.00"), clock.today()),
        actor=clerk,
        clock=clock,
    )
    listing_services.edit_listing(
        session,
        world.person_listing,
        ListingPatch(case=case_in("(2024)京0105执4321号"), reason="案号录入错误"),
        actor=judge,
        clock=clock,
    )
    listing_services.record_performance(
        session,
        paid,
        PaymentIn(Decimal("100000.00"), clock.today(), True),
        actor=clerk,
        clock=clock,
    )
    listing_services.revoke_listing(
        session, world.org_listing, "错误纳入", actor=judge, clock=clock
    )
    listing_services.delete_listing(
        session, deleted, "no_assets_after_searches", actor=judge, clock=clock
    )
    session.close()


def test_the_railway_never_receives_a_listing_record_or_a_measure_it_does_not_hold(
    client, session, clock, court, world
):
    history(session, clock, court, world)
    key = world.keys["railway"]
    items, _ = feed_items(client, key, limit=2)
    assert items
    assert {i["action"] for i in items} == {"upsert", "remove"}
    for item in items:
        assert item["type"] == "restriction"
        assert item["key"].startswith("restriction:")
        if item["action"] == "remove":
            assert item["record"] is None
            continue
        record = item["record"]
        assert set(record) == RESTRICTION_FIELDS
        assert record["measures"] == list(RAILWAY)
        assert set(record["person"]) == {"kind", "name", "id_number"}
    _seq, lines, body = snapshot(client, key)
    assert lines
    for line in lines:
        assert set(line) == {"type", "key", "record"}
        assert line["type"] == "restriction"
        assert set(line["record"]) == RESTRICTION_FIELDS
        assert line["record"]["measures"] == list(RAILWAY)
    assert "id_cipher" not in body
    for forbidden in ("credit_record", "flight", "officer_ban", "obligation", "amount_due"):
        assert forbidden not in body
        assert forbidden not in json.dumps(items, ensure_ascii=False)
    assert {line["key"]: ("restriction", line["record"]) for line in lines} == replay(items)
    # in force: the first debtor (corrected case number), nobody of the revoked organisation, not
    # the debtor who paid, not the deleted one
    assert [
        (x["record"]["person"]["id_number"], x["record"]["source"]["case_number"]) for x in lines
    ] == [(DEBTOR, "（2024）京0105执4321号")]


@pytest.mark.parametrize("code", ["caac", "credit_ref", "bank"])
def test_the_snapshot_equals_the_feed_replayed_and_the_feed_follows_on_from_its_seq(
    client, session, clock, court, world, code
):
    key = world.keys[code]
    seq_before, lines_before, _ = snapshot(client, key)
    history(session, clock, court, world)
    items, head = feed_items(client, key)
    seq, lines, _ = snapshot(client, key)
    assert seq == head
    state = {line["key"]: (line["type"], line["record"]) for line in lines}
    assert state == replay(items)
    before = {line["key"]: (line["type"], line["record"]) for line in lines_before}
    assert replay(feed_items(client, key, after=seq_before)[0], before) == state
    partner_types = {
        "caac": {"restriction"},
        "credit_ref": {"listing"},
        "bank": {"restriction", "listing"},
    }
    assert {t for t, _r in state.values()} == partner_types[code]


def test_a_listing_partner_receives_the_full_record_with_full_id_numbers(client, world):
    items, _ = feed_items(client, world.keys["credit_ref"])
    assert [(i["type"], i["action"], i["key"]) for i in items] == [
        ("listing", "upsert", f"listing:{world.person_public_id}"),
        ("listing", "upsert", f"listing:{world.org_public_id}"),
    ]
    person, org = (i["record"] for i in items)
    assert person["id_number"] == DEBTOR and person["measures"] == ["credit_record"]
    assert (person["name"], person["obligation"], person["amount_due"]) == (
        "张三",
        "支付货款人民币100000元及利息",
        "100000.00",
    )
    assert org["id_number"] == ORG_CODE
    assert org["legal_representative"] == {"name": "李四", "id_number": REPRESENTATIVE}
    assert org["bound_persons"] == [{"role": "principal", "name": "王五", "id_number": PRINCIPAL}]
    assert "id_cipher" not in json.dumps(items)


def test_the_snapshot_is_ndjson_with_the_seq_to_follow(client, world):
    response = call(client, "GET", SNAPSHOT, world.keys["bank"])
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["X-Feed-Seq"] == "8"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert body.endswith("\n")
    lines = [json.loads(line) for line in body.splitlines()]
    kinds = [(line["type"], line["key"].split(":")[0]) for line in lines]
    # flight: the debtor, the organisation and the two people it binds; credit: the two debtors
    assert kinds.count(("restriction", "restriction")) == 4 + 2
    assert kinds.count(("listing", "listing")) == 2
    assert {line["key"] for line in lines if line["type"] == "listing"} == {
        f"listing:{world.person_public_id}",
        f"listing:{world.org_public_id}",
    }
    for line in lines:
        assert (
            mask_of(line["record"]["measures"]) & ~mask_of(["credit", "financing", "flight"]) == 0
        )


def test_an_empty_snapshot(client, session, clock, world):
    _id, key, _ = register_partner(session, clock, "exit_entry", "exit")
    session.close()
    response = call(client, "GET", SNAPSHOT, key)
    assert (response.status_code, response.get_data(), response.headers["X-Feed-Seq"]) == (
        200,
        b"",
        "8",
    )


# --------------------------------------------------------------------------------------------------
# Checks, acks, hits, status


def test_checks_answer_in_order_with_reasons_for_people_bound_by_an_organisation(client, world):
    asked = [STRANGER, REPRESENTATIVE, DEBTOR.lower(), PRINCIPAL, STRANGER, ORG_CODE]
    response = call(client, "POST", CHECKS, world.keys["caac"], json=check_body("flight", *asked))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    results = response.get_json()["results"]
    assert [(r["id_number"], r["restricted"]) for r in results] == [
        (STRANGER, False),
        (REPRESENTATIVE, True),
        (DEBTOR.lower(), True),
        (PRINCIPAL, True),
        (STRANGER, False),
        (ORG_CODE, True),
    ]
    [reason] = results[1]["reasons"]
    assert reason["role"] == "legal_representative"
    assert reason["measures"] == ["flight"]
    assert reason["source"]["kind"] == "consumption_order"
    assert reason["source"]["listing_public_id"] == world.org_public_id
    assert reason["source"]["court"] == "BJ0105人民法院"
    assert reason["source"]["case_number"] == "（2024）京0105执2001号"
    assert results[3]["reasons"][0]["role"] == "principal"
    assert results[0]["reasons"] == []


def test_a_listing_partner_checks_by_credit_code(client, world):
    body = check_body("credit_record", ORG_CODE, REPRESENTATIVE)
    results = call(client, "POST", CHECKS, world.keys["credit_ref"], json=body).get_json()[
        "results"
    ]
    assert [r["restricted"] for r in results] == [True, False]
    assert results[0]["reasons"][0]["source"] == {
        "kind": "listing",
        "public_id": world.org_public_id,
        "listing_public_id": world.org_public_id,
        "court": "BJ0105人民法院",
        "case_number": "（2024）京0105执2001号",
    }


def test_acks_over_http_are_cumulative(client, database, clock, world):
    key = world.keys["railway"]
    response = call(client, "POST", ACKS, key, json={"seq": 4})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first = response.get_json()
    assert first["acked_seq"] == 4
    assert datetime.fromisoformat(first["acked_at"]) == clock.now()
    clock.advance(minutes=5)
    for older in (2, 0, 4):
        again = call(client, "POST", ACKS, key, json={"seq": older}).get_json()
        assert again["acked_seq"] == 4
        assert datetime.fromisoformat(again["acked_at"]) == clock.now() - timedelta(minutes=5)
    assert call(client, "POST", ACKS, key, json={"seq": 8}).get_json()["acked_seq"] == 8
    assert counts(database, ("partner_acks",)) == {"partner_acks": 2}
    status = call(client, "GET", STATUS, key).get_json()
    assert (status["acked_seq"], status["newest_seq"], status["oldest_retained_seq"]) == (8, 8, 1)
    assert datetime.fromisoformat(status["acked_at"]) == clock.now()
    with database.session() as s:
        entry = s.execute(
            text("SELECT actor_kind, actor_name, ip FROM audit_entries ORDER BY seq DESC LIMIT 1")
        ).one()
    assert tuple(entry) == ("partner", "railway", "127.0.0.1")


def test_hits_over_http_are_recorded_once_per_reference(client, database, world):
    key = world.keys["caac"]
    body = hit_body(id_number=REPRESENTATIVE, reference="TKT-1")
    first = call(client, "POST", HITS, key, json=body)
    assert first.status_code == 201, first.get_json()
    assert first.headers["Cache-Control"] == "no-store"
    recorded = first.get_json()
    assert recorded["in_force"] is True
    assert recorded["measure"] == "flight"
    assert recorded["reference"] == "TKT-1"
    assert recorded["id_number_masked"] == REPRESENTATIVE[:10] + "****" + REPRESENTATIVE[14:]
    assert datetime.fromisoformat(recorded["occurred_at"]) == datetime(
        2025, 3, 3, 1, 30, tzinfo=UTC
    )
    again = call(client, "POST", HITS, key, json=body | {"detail": "重发"})
    assert again.status_code == 200
    assert instants(again.get_json()) == instants(recorded)
    assert counts(database, ("hits",)) == {"hits": 1}
    assert REPRESENTATIVE not in first.get_data(as_text=True)


def test_a_hit_after_the_lifting_is_not_in_force(client, session, clock, court, world):
    listing_services.record_performance(
        session,
        world.person_listing,
        PaymentIn(Decimal("100000.00"), clock.today(), True),
        actor=court["clerk"],
        clock=clock,
    )
    session.close()
    clock.advance(days=2)
    response = call(
        client,
        "POST",
        HITS,
        world.keys["caac"],
        json=hit_body(occurred_at="2025-03-05T09:00:00+08:00"),
    )
    assert response.status_code == 201
    assert response.get_json()["in_force"] is False


def test_the_status_shows_the_subscription(client, world):
    response = call(client, "GET", STATUS, world.keys["bank"])
    assert response.status_code == 200
    assert response.get_json() == {
        "code": "bank",
        "name": "bank 合作单位",
        "measures": ["flight", "credit", "financing"],
        "scope": "both",
        "acked_seq": 0,
        "acked_at": None,
        "pushed_seq": None,
        "newest_seq": 8,
        "oldest_retained_seq": 1,
    }


# --------------------------------------------------------------------------------------------------
# Privacy: full ID numbers go to partners only, never into the logs


def test_full_id_numbers_reach_partners_but_never_the_logs(client, caplog, world):
    caplog.set_level(logging.DEBUG)
    numbers = (DEBTOR, REPRESENTATIVE, PRINCIPAL, ORG_CODE, STRANGER, WITH_X)
    bodies = []
    for code in ("railway", "caac", "credit_ref", "bank"):
        key = world.keys[code]
        bodies.append(call(client, "GET", FEED, key).get_data(as_text=True))
        bodies.append(call(client, "GET", SNAPSHOT, key).get_data(as_text=True))
    key = world.keys["caac"]
    bodies.append(
        call(client, "POST", CHECKS, key, json=check_body("flight", *numbers)).get_data(True)
    )
    call(client, "POST", CHECKS, key, json=check_body("flight", DEBTOR, DEBTOR[:-1] + "Z"))
    call(client, "POST", CHECKS, key, json=check_body("flight", *([WITH_X] * 1001)))
    call(client, "POST", HITS, key, json=hit_body(id_number=REPRESENTATIVE))
    call(client, "POST", HITS, key, json=hit_body(id_number=STRANGER))
    call(client, "POST", HITS, world.keys["railway"], json=hit_body(id_number=PRINCIPAL))
    call(client, "POST", ACKS, key, json={"seq": 3})
    client.get(FEED, headers={"Authorization": f"Bearer {DEBTOR}"})
    client.get(FEED, query_string={"id_number": DEBTOR}, headers=partner_headers(key))

    everything = "\n".join(bodies)
    for number in (DEBTOR, REPRESENTATIVE, PRINCIPAL, ORG_CODE):
        assert number in everything
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    for number in numbers:
        assert number not in logged
        assert number.lower() not in logged
    # every call was logged, attributable to its partner
    messages = [r.getMessage() for r in caplog.records if r.name == "blacklist.partners.access"]
    for expected in (
        "partner=railway GET /api/v1/partner/feed -> 200 after=0 items=",
        "partner=caac POST /api/v1/partner/checks -> 422",
        "partner=railway POST /api/v1/partner/hits -> 403",
        "partner=- GET /api/v1/partner/feed -> 401",
        "partner=caac snapshot seq=",
    ):
        assert any(m.startswith(expected) for m in messages), expected
    # One line per call (17), and one more per snapshot when its stream ends (4).
    assert len(messages) == 17 + 4


# --------------------------------------------------------------------------------------------------
# The snapshot is one consistent read


def _stream_while_a_publication_commits(client, database, clock, court, world, monkeypatch, code):
    """Ask for the snapshot; while it is being read (after it read its seq, just before it queries
    its records, or for a partner of both scopes just before the listings, after the restriction
    records), commit a new publication from another session. Returns (X-Feed-Seq, lines, the new
    listing's public id, the isolation level the snapshot's transaction had)."""
    real = Database.snapshot_session
    opened, seen = [], {}

    def publish():
        with database.session() as other:
            listing = publish_listing(
                other,
                clock,
                court,
                person_draft(name="王二", id_number=STRANGER, case_number="(2024)京0105执77号"),
            )
            seen["public_id"] = listing.public_id

    def mid_way(state) -> bool:
        if code == "bank":  # after the restriction records, before the listings
            descriptions = getattr(state.statement, "column_descriptions", [])
            return any(d.get("entity") is Listing for d in descriptions)
        return True

    def spy(self):
        snap = real(self)
        opened.append(snap)
        queries = []

        @event.listens_for(snap, "do_orm_execute")
        def _before_each_query(state):
            queries.append(state.statement)
            if len(queries) > 1 and "public_id" not in seen and mid_way(state):
                if database.dialect == "postgresql":
                    seen["isolation"] = (
                        snap.connection().exec_driver_sql("SHOW transaction_isolation").scalar()
                    )
                publish()

        return snap

    monkeypatch.setattr(Database, "snapshot_session", spy)
    response = call(client, "GET", SNAPSHOT, world.keys[code])
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    [snap] = opened
    assert "public_id" in seen, "the publication ran while the snapshot was read"
    assert not snap.in_transaction(), "the snapshot session is closed after the stream"
    lines = [json.loads(x) for x in body.splitlines()]
    return int(response.headers["X-Feed-Seq"]), lines, seen["public_id"], seen.get("isolation")


def _assert_consistent(client, world, code, seq, lines, public_id):
    assert seq == 8
    assert lines, "the snapshot holds the records from before"
    assert STRANGER not in json.dumps(lines)
    assert f"listing:{public_id}" not in {line["key"] for line in lines}
    items, head = feed_items(client, world.keys[code], after=seq)
    assert head == 11
    assert items and all(i["seq"] > 8 for i in items)
    text_ = json.dumps(items, ensure_ascii=False)
    assert STRANGER in text_ and "王二" in text_


@pytest.mark.postgres
@pytest.mark.parametrize("code", ["railway", "credit_ref", "bank"])
def test_the_snapshot_is_one_repeatable_read_on_postgresql(
    client, database, clock, court, world, monkeypatch, code
):
    if database.dialect != "postgresql":
        pytest.skip("REPEATABLE READ snapshots need PostgreSQL (BLACKLIST_TEST_DATABASE_URL)")
    seq, lines, public_id, isolation = _stream_while_a_publication_commits(
        client, database, clock, court, world, monkeypatch, code
    )
    assert isolation == "repeatable read"
    _assert_consistent(client, world, code, seq, lines, public_id)


@pytest.mark.parametrize("code", ["railway", "credit_ref", "bank"])
def test_the_snapshot_is_one_consistent_read_on_sqlite(
    client, database, clock, court, world, monkeypatch, code
):
    if database.dialect != "sqlite":
        pytest.skip("the SQLite variant (a deferred WAL read transaction)")
    seq, lines, public_id, _ = _stream_while_a_publication_commits(
        client, database, clock, court, world, monkeypatch, code
    )
    _assert_consistent(client, world, code, seq, lines, public_id)


# --------------------------------------------------------------------------------------------------
# OpenAPI


def test_the_openapi_document_lists_the_partner_endpoints_with_the_partner_key(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["partnerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "partner API key (bpk_…)",
    }
    expected = {
        "/api/v1/partner/feed": ("get", {"200", "401", "410", "422"}),
        "/api/v1/partner/snapshot": ("get", {"200", "401"}),
        "/api/v1/partner/checks": ("post", {"200", "401", "403", "422"}),
        "/api/v1/partner/acks": ("post", {"200", "401", "422"}),
        "/api/v1/partner/hits": ("post", {"201", "401", "403", "422"}),
        "/api/v1/partner/status": ("get", {"200", "401"}),
    }
    for path, (method, statuses) in expected.items():
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"partnerKey": []}], path
        assert statuses <= set(operation["responses"]), (path, operation["responses"].keys())
    snapshot_doc = spec["paths"]["/api/v1/partner/snapshot"]["get"]["responses"]["200"]
    assert "application/x-ndjson" in snapshot_doc["content"]
    feed_params = {p["name"] for p in spec["paths"]["/api/v1/partner/feed"]["get"]["parameters"]}
    assert {"after", "limit"} <= feed_params
    # staff endpoints are not under the partner key
    assert spec["paths"]["/api/v1/listings"]["get"].get("security") != [{"partnerKey": []}]

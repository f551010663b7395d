"""Consumption orders and exit bans end to end over HTTP (DOMAIN.md §3; issue #7 items 1, 2, 5): a
judge issues and lifts through the staff API, partners see the changes by measure (feed, checks,
push to a real HTTP receiver), the public finds consumption-restricted people but never exit bans,
and bad input, wrong roles and other courts get clear errors. On SQLite, or PostgreSQL with
BLACKLIST_TEST_DATABASE_URL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blacklist.core.actor import Actor
from blacklist.listing import services as listing_services
from blacklist.partners.push import PushWorker
from blacklist.restrictions import queries
from blacklist.staff.models import Court
from tests.e2e.conftest import api_token, bearer, counts
from tests.factories import credit_code, organisation_draft, publish_listing, resident_id
from tests.partner_factories import partner_headers, register_partner
from tests.webhook_receiver import start_receiver, verify_signature

ORDERS = "/api/v1/orders"
DEBTOR = resident_id("19810202", "135")
REPRESENTATIVE = resident_id("19720303", "257")
PRINCIPAL = resident_id("19760606", "379")
ORG_CODE = credit_code("91110105MA0000777")
RAILWAY = "hsr_any_seat,emu_first_class,soft_sleeper"
ORDER_TABLES = (
    "restriction_orders",
    "restrictions",
    "changes",
    "subjects",
    "cases",
    "audit_entries",
)


def case_body(number: str = "(2024)京0105执5001号") -> dict:
    return {
        "case_number": number,
        "filed_on": "2024-03-01",
        "basis_document_number": "(2023)京0105民初5678号",
        "basis_issuer": "北京市朝阳区人民法院",
        "obligation": "支付货款人民币100000元及利息",
        "amount_due": "100000.00",
    }


def person_body(kind: str = "consumption", id_number: str = DEBTOR, **changes) -> dict:
    body = {
        "kind": kind,
        "subject": {"kind": "person", "name": "赵六", "id_number": id_number},
        "case": case_body(),
        "decision_number": "(2025)京0105执5001号之一",
        "reasons": "被执行人未按执行通知履行义务",
    }
    body.update(changes)
    return body


def organisation_body(**changes) -> dict:
    body = {
        "kind": "consumption",
        "subject": {
            "kind": "organisation",
            "name": "北京某某建材有限公司",
            "credit_code": ORG_CODE,
            "legal_representative": {"name": "钱七", "id_number": REPRESENTATIVE},
            "bound_persons": [{"role": "principal", "name": "孙八", "id_number": PRINCIPAL}],
        },
        "case": case_body("(2024)京0105执5002号"),
        "decision_number": "(2025)京0105执5002号之一",
        "reasons": "被执行单位未按执行通知履行义务",
    }
    body.update(changes)
    return body


def exit_body(**changes) -> dict:
    return person_body(
        "exit",
        REPRESENTATIVE,
        subject={"kind": "person", "name": "钱七", "id_number": REPRESENTATIVE},
        organisation={"name": "北京某某建材有限公司", "credit_code": ORG_CODE,
                      "role": "legal_representative"},
        case=case_body("(2024)京0105执5003号"),
        decision_number="(2025)京0105执5003号之二",
        **changes,
    )  # fmt: skip


@pytest.fixture
def judge(client, court):
    return bearer(api_token(client, "bj0105-judge"))


@pytest.fixture
def clerk(client, court):
    return bearer(api_token(client, "bj0105-clerk"))


@pytest.fixture
def partners(session, clock, court) -> dict[str, str]:
    keys = {
        code: register_partner(session, clock, code, measures)[1]
        for code, measures in (("railway", RAILWAY), ("caac", "flight"), ("exit_entry", "exit"))
    }
    session.close()
    return keys


def issue(client, headers, body, expect=201) -> dict:
    response = client.post(ORDERS, json=body, headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def lift(client, headers, public_id, body=None, expect=200) -> dict:
    response = client.post(
        f"{ORDERS}/{public_id}/lifting", json=body or {"ground": "performed"}, headers=headers
    )
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def feed(client, key) -> list[dict]:
    response = client.get("/api/v1/partner/feed?after=0&limit=1000", headers=partner_headers(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def check(client, key, measure, number) -> dict:
    response = client.post(
        "/api/v1/partner/checks",
        json={"measure": measure, "people": [{"id_number": number}]},
        headers=partner_headers(key),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]


def assert_error(response, code: int, field: str | None = None) -> dict:
    assert response.status_code == code, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == code
    if field:
        assert field in body["errors"], body
    return body


# --------------------------------------------------------------------------------------------------
# Consumption orders


def test_a_judge_issues_a_consumption_order_for_a_person_and_gets_it_as_staff_see_it(client, judge):
    response = client.post(ORDERS, json=person_body(), headers=judge)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    order = response.get_json()

    assert order["kind"] == "consumption" and order["status"] == "active"
    assert order["court"] == {"code": "BJ0105", "name": "BJ0105人民法院", "province": "北京"}
    assert order["listing_public_id"] is None and order["organisation"] is None
    assert order["subject"]["id_number_masked"] == DEBTOR[:10] + "****" + DEBTOR[14:]
    assert order["case"]["case_number"] == "（2024）京0105执5001号"
    assert len(order["measures"]) == 12 and "flight" in order["measures"]
    assert (order["decision_number"], order["issued_on"]) == (
        "(2025)京0105执5001号之一",
        "2025-03-03",
    )
    assert order["reasons"] == "被执行人未按执行通知履行义务"
    assert order["lifted_on"] is None and order["lift_ground"] is None
    [person] = order["restricted_people"]
    assert person["role"] == "debtor" and person["active"] is True
    assert person["id_number_masked"] == DEBTOR[:10] + "****" + DEBTOR[14:]
    assert DEBTOR not in response.get_data(as_text=True)
    again = client.get(f"{ORDERS}/{order['public_id']}", headers=judge)
    assert again.status_code == 200 and again.get_json() == order


def test_an_organisations_legal_representative_may_not_fly_and_is_told_why(client, judge, partners):
    order = issue(client, judge, organisation_body())
    assert sorted(p["role"] for p in order["restricted_people"]) == [
        "debtor", "legal_representative", "principal",
    ]  # fmt: skip

    result = check(client, partners["caac"], "flight", REPRESENTATIVE)

    assert result["restricted"] is True
    [reason] = result["reasons"]
    assert reason["role"] == "legal_representative" and reason["measures"] == ["flight"]
    assert reason["source"]["kind"] == "consumption_order"
    assert reason["source"]["public_id"] == order["public_id"]
    assert reason["source"]["case_number"] == "（2024）京0105执5002号"


def test_the_railway_receives_the_upserts_and_after_lifting_the_removals(client, judge, partners):
    order = issue(client, judge, organisation_body())
    upserts = feed(client, partners["railway"])
    assert [i["action"] for i in upserts] == ["upsert"] * 3
    assert {i["record"]["person"]["id_number"] for i in upserts} == {
        ORG_CODE, REPRESENTATIVE, PRINCIPAL,
    }  # fmt: skip
    assert all(
        i["record"]["source"]["public_id"] == order["public_id"]
        and i["record"]["measures"] == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]
        for i in upserts
    )

    lifted = lift(client, judge, order["public_id"])

    assert lifted["status"] == "lifted" and lifted["lift_ground"] == "performed"
    assert lifted["lifted_on"] == "2025-03-03"
    assert not any(p["active"] for p in lifted["restricted_people"])
    items = feed(client, partners["railway"])
    removals = [i for i in items if i["action"] == "remove"]
    assert {i["key"] for i in removals} == {i["key"] for i in upserts}
    assert check(client, partners["caac"], "flight", REPRESENTATIVE)["restricted"] is False


def test_a_consumption_order_with_chosen_measures_reaches_only_those_partners(
    client, judge, partners
):
    issue(client, judge, person_body(measures=["flight"]))
    assert [i["record"]["measures"] for i in feed(client, partners["caac"])] == [["flight"]]
    assert feed(client, partners["railway"]) == []


def test_the_public_finds_a_standalone_orders_debtor_with_the_order_as_source(client, judge):
    order = issue(client, judge, person_body())

    response = client.get("/api/v1/public/restricted", query_string={"id_number": DEBTOR})

    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    assert (item["name"], item["role"], item["court"]) == ("赵六", "debtor", "BJ0105人民法院")
    assert item["case_number"] == "（2024）京0105执5001号"
    page = client.get("/restricted", query_string={"name": "赵六"}).get_data(as_text=True)
    assert order["public_id"] in page and "查看失信名单信息" not in page


# --------------------------------------------------------------------------------------------------
# Exit bans


def test_an_exit_ban_reaches_the_exit_entry_partner_only_and_never_the_public(
    database, client, judge, session, clock, court
):
    receiver, server = start_receiver()
    try:
        _, exit_key, secret = register_partner(
            session, clock, "exit_entry", "exit", webhook_url=receiver.url
        )
        railway = register_partner(session, clock, "railway", RAILWAY)[1]
        caac = register_partner(session, clock, "caac", "flight")[1]
        session.close()

        ban = issue(client, judge, exit_body())

        assert ban["kind"] == "exit" and ban["measures"] == ["exit"]
        assert ban["organisation"] == {
            "name": "北京某某建材有限公司", "credit_code": ORG_CODE, "role": "legal_representative",
        }  # fmt: skip
        [person] = ban["restricted_people"]
        assert (person["role"], person["measures"]) == ("legal_representative", ["exit"])
        [item] = feed(client, exit_key)
        assert item["record"]["source"]["kind"] == "exit_ban"
        assert item["record"]["source"]["public_id"] == ban["public_id"]
        assert item["record"]["person"]["id_number"] == REPRESENTATIVE
        assert feed(client, railway) == [] and feed(client, caac) == []
        assert check(client, exit_key, "exit", REPRESENTATIVE)["restricted"] is True

        PushWorker(database, clock=clock).run_once()
        [request] = receiver.delivered
        assert verify_signature(secret, request.headers, request.body)
        assert [i["key"] for i in request.items] == [item["key"]]
        assert request.items[0]["record"]["source"]["kind"] == "exit_ban"

        for args in ({"id_number": REPRESENTATIVE}, {"name": "钱七"}):
            found = client.get("/api/v1/public/restricted", query_string=args).get_json()
            assert found["items"] == []
            found = client.get("/api/v1/public/listings", query_string=args).get_json()
            assert found["items"] == []
        assert ban["public_id"] not in client.get(
            "/restricted", query_string={"name": "钱七"}
        ).get_data(as_text=True)

        lift(client, judge, ban["public_id"], {"ground": "security", "note": "已提供足额担保"})
        PushWorker(database, clock=clock).run_once()
        removal = receiver.delivered[-1].items
        assert [(i["action"], i["key"]) for i in removal] == [("remove", item["key"])]
    finally:
        server.shutdown()
        server.server_close()


def test_an_exit_ban_on_an_organisation_itself_is_refused_and_changes_nothing(
    client, judge, database
):
    before = counts(database, ORDER_TABLES)
    response = client.post(ORDERS, json=organisation_body(kind="exit"), headers=judge)
    body = assert_error(response, 422, "subject.kind")
    assert "法定代表人、主要负责人或直接责任人员" in body["errors"]["subject.kind"][0]
    assert counts(database, ORDER_TABLES) == before


def test_an_actual_controller_cannot_be_named_for_an_exit_ban(client, judge):
    body = exit_body()
    body["organisation"]["role"] = "actual_controller"
    assert_error(client.post(ORDERS, json=body, headers=judge), 422, "organisation.role")


# --------------------------------------------------------------------------------------------------
# Errors and who may do what


def test_lifting_twice_is_a_conflict(client, judge, database):
    order = issue(client, judge, person_body())
    lift(client, judge, order["public_id"])
    before = counts(database, ORDER_TABLES)
    response = client.post(
        f"{ORDERS}/{order['public_id']}/lifting", json={"ground": "performed"}, headers=judge
    )
    body = assert_error(response, 409)
    assert "已于2025-03-03解除" in body["message"]
    assert counts(database, ORDER_TABLES) == before


def test_a_discretionary_lifting_without_reasons_is_refused(client, judge):
    order = issue(client, judge, person_body())
    response = client.post(
        f"{ORDERS}/{order['public_id']}/lifting", json={"ground": "security"}, headers=judge
    )
    assert_error(response, 422, "note")
    response = client.post(
        f"{ORDERS}/{order['public_id']}/lifting", json={"ground": "pardon"}, headers=judge
    )
    assert_error(response, 422, "ground")


def test_a_second_order_for_the_same_debtor_and_case_is_a_conflict_naming_the_first(client, judge):
    first = issue(client, judge, person_body())
    body = assert_error(client.post(ORDERS, json=person_body(), headers=judge), 409)
    assert first["public_id"] in body["message"]


def test_another_courts_judge_gets_404(client, judge, other_court):
    order = issue(client, judge, person_body())
    other = bearer(api_token(client, "sh0101-judge"))
    assert_error(client.get(f"{ORDERS}/{order['public_id']}", headers=other), 404)
    response = client.post(
        f"{ORDERS}/{order['public_id']}/lifting", json={"ground": "performed"}, headers=other
    )
    assert_error(response, 404)
    assert client.get(ORDERS, headers=other).get_json()["total"] == 0


def test_a_clerk_reads_but_may_not_issue_or_lift(client, judge, clerk, database):
    order = issue(client, judge, person_body())
    before = counts(database, ORDER_TABLES)
    assert_error(client.post(ORDERS, json=person_body(case=case_body("(2024)京0105执9号")),
                             headers=clerk), 403)  # fmt: skip
    response = client.post(
        f"{ORDERS}/{order['public_id']}/lifting", json={"ground": "performed"}, headers=clerk
    )
    assert_error(response, 403)
    assert counts(database, ORDER_TABLES) == before
    assert client.get(f"{ORDERS}/{order['public_id']}", headers=clerk).status_code == 200


def test_without_a_token_the_api_answers_401(client, court):
    assert_error(client.get(ORDERS), 401)
    assert_error(client.post(ORDERS, json=person_body()), 401)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "travel_ban"}, "kind"),
        ({"issued_on": "2025-03-04"}, "issued_on"),
        ({"measures": []}, "measures"),
        ({"measures": ["officer_ban"]}, "measures.0"),
        ({"decision_number": ""}, "decision_number"),
        ({"reasons": None}, "reasons"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_gets_422_on_the_field(client, judge, changes, field):
    assert_error(client.post(ORDERS, json=person_body(**changes), headers=judge), 422, field)


def test_the_list_filters_by_kind_status_and_name(client, judge, session, clock, court):
    publish_listing(session, clock, court)
    session.close()
    order = issue(client, judge, person_body())
    ban = issue(client, judge, exit_body())
    lift(client, judge, ban["public_id"])

    page = client.get(ORDERS, headers=judge).get_json()
    assert page["total"] == 3
    linked = [o for o in page["items"] if o["listing_public_id"]]
    assert len(linked) == 1 and linked[0]["kind"] == "consumption"
    by_kind = client.get(ORDERS, query_string={"kind": "exit"}, headers=judge).get_json()
    assert [o["public_id"] for o in by_kind["items"]] == [ban["public_id"]]
    active = client.get(
        ORDERS, query_string={"status": "active", "q": "赵六"}, headers=judge
    ).get_json()
    assert [o["public_id"] for o in active["items"]] == [order["public_id"]]
    assert_error(client.get(ORDERS, query_string={"status": "gone"}, headers=judge), 422)


# --------------------------------------------------------------------------------------------------
# A listing's order left for the judge after expiry


def test_an_expired_listings_order_awaits_the_judge_and_is_lifted_over_the_api(
    client, session, clock, court, partners
):
    listing = publish_listing(session, clock, court, organisation_draft())
    clock.set(listing.ends_on)
    listing_services.expire_listing(session, listing.id, actor=Actor.system(), clock=clock)
    court_id = session.scalar(select(Court.id).where(Court.code == "BJ0105"))
    [awaiting] = queries.orders_awaiting_decision(session, court_id)
    public_id, listing_public_id = awaiting.public_id, listing.public_id
    session.close()
    railway_before = {
        i["key"] for i in feed(client, partners["railway"]) if i["action"] == "upsert"
    }

    judge = bearer(api_token(client, "bj0105-judge"))  # two years on: a fresh token
    shown = client.get(f"{ORDERS}/{public_id}", headers=judge).get_json()
    assert shown["listing_public_id"] == listing_public_id and shown["status"] == "active"

    lifted = lift(
        client, judge, public_id, {"ground": "creditor_consent", "note": "申请执行人同意"}
    )

    assert lifted["status"] == "lifted" and lifted["lift_note"] == "申请执行人同意"
    removed = {i["key"] for i in feed(client, partners["railway"]) if i["action"] == "remove"}
    assert removed == railway_before
    with database_session(client) as s:
        assert queries.orders_awaiting_decision(s, court_id) == []


def test_a_published_listings_order_cannot_be_lifted_over_the_api(
    client, judge, session, clock, court
):
    from blacklist.restrictions.projection import linked_consumption_order

    listing = publish_listing(session, clock, court)
    public_id = linked_consumption_order(session, listing.id).public_id
    session.close()
    response = client.post(
        f"{ORDERS}/{public_id}/lifting", json={"ground": "performed"}, headers=judge
    )
    assert_error(response, 409)


def database_session(client):
    from blacklist.db import get_db

    return get_db(client.application).session()


def test_the_openapi_document_describes_the_order_calls(client):
    spec = client.get("/api/openapi.json").get_json()
    post = spec["paths"]["/api/v1/orders"]["post"]
    assert set(post["responses"]) >= {"201", "401", "403", "409", "422"}
    assert post["security"] == [{"bearerAuth": []}]
    lifting = spec["paths"]["/api/v1/orders/{public_id}/lifting"]["post"]
    assert set(lifting["responses"]) >= {"200", "401", "403", "404", "409", "422"}

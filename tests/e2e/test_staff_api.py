"""The staff JSON API of listings end to end (API.md, staff part): HTTP through the whole app, on the
test database (SQLite, or PostgreSQL with BLACKLIST_TEST_DATABASE_URL), with a fixed clock.

Listings are set up through the services where a test is about one call, and driven through the API
where the journey is the point."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from blacklist.listing import services
from blacklist.listing.inputs import PersonIn
from blacklist.staff import services as staff
from tests.e2e.conftest import api_token, bearer, counts
from tests.factories import (
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    table_contents,
)

API = "/api/v1/listings"
DEBTOR_ID = resident_id("19800101", "123")
CREDITOR = "北京甲乙丙贸易有限公司"


def draft_body(id_number: str = DEBTOR_ID, **changes) -> dict:
    """The draft of API.md's example (with a valid check digit), ``changes`` replacing parts."""
    body = {
        "subject": {
            "kind": "person",
            "name": "张三",
            "id_number": id_number,
            "legal_representative": None,
            "bound_persons": [],
        },
        "case": {
            "case_number": "(2024)京0105执1234号",
            "filed_on": "2024-03-01",
            "basis_document_number": "(2023)京0105民初5678号",
            "basis_issuer": "北京市朝阳区人民法院",
            "obligation": "支付货款人民币100000元及利息",
            "amount_due": "100000.00",
        },
        "grounds": ["refuses_with_ability"],
        "exemptions": {
            "has_security": False,
            "seized_assets_sufficient": False,
            "later_in_order": False,
        },
        "grace_days": 0,
    }
    body.update(changes)
    return body


@dataclass
class Caller:
    """A member of staff calling the API with their own token. Keeps every response body, so a
    test can check afterwards what left the system."""

    client: FlaskClient
    token: str
    bodies: list[str] = field(default_factory=list)

    def __call__(self, method: str, path: str = "", json=None, expect: int | None = None):
        response = self.client.open(
            API + path, method=method, json=json, headers=bearer(self.token)
        )
        self.bodies.append(response.get_data(as_text=True))
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response


@pytest.fixture
def clerk(client, court) -> Caller:
    return Caller(client, api_token(client, "bj0105-clerk"))


@pytest.fixture
def judge(client, court) -> Caller:
    return Caller(client, api_token(client, "bj0105-judge"))


def snapshot(database) -> dict:
    with database.session() as s:
        return table_contents(s)


# --------------------------------------------------------------------------------------------------
# Happy paths


def test_a_clerk_drafts_the_listing_of_api_md_and_gets_it_back_as_staff_see_it(clerk):
    created = clerk("POST", json=draft_body(), expect=201).get_json()

    assert created["status"] == "draft"
    assert created["public_id"] and isinstance(created["id"], int)
    assert created["court"] == {"code": "BJ0105", "name": "BJ0105人民法院", "province": "北京"}
    assert created["subject"] == {
        "kind": "person",
        "name": "张三",
        "id_number_masked": DEBTOR_ID[:10] + "****" + DEBTOR_ID[14:],
        "credit_code": None,
        "sex": "male",
        "legal_representative": None,
        "bound_persons": [],
    }
    assert created["case"] == {
        "case_number": "（2024）京0105执1234号",
        "filed_on": "2024-03-01",
        "basis_document_number": "(2023)京0105民初5678号",
        "basis_issuer": "北京市朝阳区人民法院",
        "obligation": "支付货款人民币100000元及利息",
        "amount_due": "100000.00",
    }
    assert created["grounds"] == ["refuses_with_ability"]
    assert created["performance"] == {
        "status": "none",
        "performed_amount": "0.00",
        "unperformed_amount": "100000.00",
    }
    assert created["decision_number"] is None and created["published_on"] is None
    assert created["removal"] is None and created["restrictions"] == []
    assert clerk("GET", f"/{created['id']}", expect=200).get_json() == created


def test_an_organisation_is_drafted_with_its_legal_representative_and_bound_people_masked(clerk):
    from tests.factories import credit_code

    representative, principal = resident_id("19700505", "235"), resident_id("19750709", "246")
    body = draft_body(
        subject={
            "kind": "organisation",
            "name": "北京某某商贸有限公司",
            "credit_code": credit_code(),
            "legal_representative": {"name": "李四", "id_number": representative},
            "bound_persons": [{"role": "principal", "name": "王五", "id_number": principal}],
        },
        grounds=["evades"],
        exemptions={},
        application={"by_creditor": True, "creditor_name": CREDITOR, "applied_on": "2025-02-20"},
    )
    subject = clerk("POST", json=body, expect=201).get_json()["subject"]

    assert subject["kind"] == "organisation"
    assert subject["credit_code"] == credit_code() and subject["id_number_masked"] is None
    assert subject["legal_representative"]["name"] == "李四"
    assert subject["legal_representative"]["id_number_masked"] == "1101051970****2358"
    assert [(p["role"], p["name"]) for p in subject["bound_persons"]] == [("principal", "王五")]
    body_text = "".join(clerk.bodies)
    assert representative not in body_text and principal not in body_text
    assert CREDITOR not in body_text


def test_the_listing_journey_through_the_api_is_recorded_in_order_in_its_history(clerk, judge):
    listing = clerk("POST", json=draft_body(grounds=["evades"], exemptions={}), expect=201)
    path = f"/{listing.get_json()['id']}"

    assert clerk("POST", path + "/submit", expect=200).get_json()["status"] == "pending_approval"
    rejected = judge("POST", path + "/reject", json={"reason": "执行依据文号有误"}, expect=200)
    assert rejected.get_json()["status"] == "draft"
    case = {**draft_body()["case"], "amount_due": 80000}
    edited = clerk("PATCH", path, json={"case": case}, expect=200).get_json()
    assert edited["case"]["amount_due"] == "80000.00"
    clerk("POST", path + "/submit", expect=200)
    decision = {"decision_number": "(2025)京0105执恢1号", "decided_on": "2025-03-01"}
    published = judge("POST", path + "/approve", json=decision, expect=200).get_json()
    assert published["status"] == "published"
    assert published["decided_on"] == "2025-03-01" and published["published_on"] == "2025-03-03"
    assert published["ends_on"] == "2027-03-01"
    assert {"flight", "hsr_any_seat", "credit_record", "officer_ban"} <= set(
        published["restrictions"]
    )

    extended = judge("POST", path + "/extension", json={"years": 1, "reason": "多次实施失信行为"})
    assert extended.status_code == 200, extended.get_json()
    assert extended.get_json()["extension_years"] == 1
    assert extended.get_json()["ends_on"] == "2028-03-01"

    payment = {"amount": "30000.00", "performed_on": "2025-03-02", "full": False}
    partial = clerk("POST", path + "/performances", json=payment, expect=201).get_json()
    assert partial["performance"] == {
        "status": "partial",
        "performed_amount": "30000.00",
        "unperformed_amount": "50000.00",
    }
    payment = {"amount": 50000, "performed_on": "2025-03-03", "full": True, "note": "银行转账"}
    paid = clerk("POST", path + "/performances", json=payment, expect=201).get_json()
    assert paid["performance"]["status"] == "full"
    assert paid["early_deletion_proposed"] is True
    assert "flight" not in paid["restrictions"]  # full performance lifts the consumption order

    deleted = judge("POST", path + "/deletion", json={"reason": "performed"}, expect=200)
    assert deleted.get_json()["status"] == "removed"
    assert deleted.get_json()["removal"] == {
        "kind": "deleted",
        "reason": "performed",
        "on": "2025-03-03",
    }
    assert deleted.get_json()["restrictions"] == []

    history = judge("GET", path + "/history", expect=200).get_json()["items"]
    assert [entry["action"] for entry in history] == [
        "listing.drafted",
        "listing.submitted",
        "listing.rejected",
        "listing.edited",
        "listing.submitted",
        "listing.approved",
        "listing.published",
        "listing.extended",
        "listing.performance_recorded",
        "listing.performance_recorded",
        "listing.deleted",
    ]
    seqs = [entry["seq"] for entry in history]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [entry["actor"] for entry in history[:3]] == [
        "bj0105-clerk",
        "bj0105-clerk",
        "bj0105-judge",
    ]
    assert history[2]["reason"] == "执行依据文号有误"
    assert history[0]["at"] == "2025-03-03T02:00:00+00:00"
    assert history[5]["before"] == {"status": "pending_approval"}
    assert DEBTOR_ID not in "".join(clerk.bodies + judge.bodies)


def test_a_listing_signed_with_a_grace_period_waits_unpublished(clerk, judge):
    listing_id = clerk("POST", json=draft_body(grace_days=30), expect=201).get_json()["id"]
    clerk("POST", f"/{listing_id}/submit", expect=200)
    decision = {"decision_number": "(2025)京0105执恢2号"}
    signed = judge("POST", f"/{listing_id}/approve", json=decision, expect=200).get_json()

    assert signed["status"] == "approved"
    assert signed["publish_on"] == "2025-04-02" and signed["published_on"] is None
    assert signed["ends_on"] is None  # ground 1 alone: no term
    assert signed["restrictions"] == []


def test_a_published_listing_is_corrected_only_with_a_reason_then_revoked(
    session, clock, court, clerk, judge, database
):
    listing_id = publish_listing(session, clock, court).id
    path = f"/{listing_id}"
    subject = {**draft_body()["subject"], "name": "張三"}

    before = snapshot(database)
    refused = clerk("PATCH", path, json={"subject": subject}, expect=422).get_json()
    assert list(refused["errors"]) == ["reason"]
    assert snapshot(database) == before

    corrected = clerk("PATCH", path, json={"subject": subject, "reason": "姓名录入错误"})
    assert corrected.status_code == 200, corrected.get_json()
    assert corrected.get_json()["subject"]["name"] == "張三"
    assert corrected.get_json()["status"] == "published"

    revoked = judge("POST", path + "/revocation", json={"reason": "不符合纳入条件"}, expect=200)
    assert revoked.get_json()["removal"] == {
        "kind": "revoked",
        "reason": "不符合纳入条件",
        "on": "2025-03-03",
    }
    actions = [e["action"] for e in judge("GET", path + "/history").get_json()["items"]]
    assert actions[-2:] == ["listing.corrected", "listing.revoked"]


def test_full_payment_of_a_listing_without_a_term_makes_its_deletion_due(
    session, clock, court, clerk
):
    listing_id = publish_listing(session, clock, court).id
    payment = {"amount": "100000", "performed_on": "2025-03-03", "full": False}
    paid = clerk("POST", f"/{listing_id}/performances", json=payment, expect=201).get_json()

    assert paid["performance"]["status"] == "full"
    assert paid["performance"]["unperformed_amount"] == "0.00"
    assert paid["deletion_due_on"] == "2025-03-06"  # three working days (Art. 10)
    assert paid["early_deletion_proposed"] is False


def test_the_courts_listings_are_listed_newest_first_page_by_page_and_filtered(
    session, clock, court, other_court, clerk
):
    for n, name in enumerate(["张三", "李四", "王五"]):
        services.create_draft(
            session,
            person_draft(
                name=name,
                id_number=resident_id("19800101", f"{n + 1:03d}"),
                case_number=f"(2024)京0105执{n + 1}号",
            ),
            actor=court["clerk"],
            clock=clock,
        )
    published_id = publish_listing(
        session, clock, court, person_draft(id_number=resident_id("19900101", "555"))
    ).id
    services.create_draft(session, person_draft(), actor=other_court["clerk"], clock=clock)

    first = clerk("GET", "?per_page=2", expect=200).get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 4)
    assert [item["subject"]["name"] for item in first["items"]] == ["张三", "王五"]
    second = clerk("GET", "?per_page=2&page=2", expect=200).get_json()
    assert [item["subject"]["name"] for item in second["items"]] == ["李四", "张三"]

    published = clerk("GET", "?status=published", expect=200).get_json()
    assert [item["id"] for item in published["items"]] == [published_id]
    assert "flight" in published["items"][0]["restrictions"]
    by_name = clerk("GET", "?q=李四", expect=200).get_json()
    assert [item["subject"]["name"] for item in by_name["items"]] == ["李四"]
    by_id_number = clerk("GET", "?" + "q=" + resident_id("19800101", "003")).get_json()
    assert [item["subject"]["name"] for item in by_id_number["items"]] == ["王五"]
    assert clerk("GET", "?status=removed").get_json() == {
        "items": [],
        "page": 1,
        "per_page": 20,
        "total": 0,
    }


def test_a_full_id_number_is_shown_only_when_deliberately_opened_and_that_is_audited(
    session, clock, court, clerk, judge
):
    representative = resident_id("19700505", "235")
    draft = organisation_draft(representative=PersonIn(name="李四", id_number=representative))
    listing = publish_listing(session, clock, court, draft)
    person_id = listing.subject.legal_representative.id
    path = f"/{listing.id}"

    shown = [
        clerk("GET", path, expect=200),
        clerk("GET", "", expect=200),
        judge("GET", path + "/history", expect=200),
    ]
    assert all(representative not in r.get_data(as_text=True) for r in shown)

    opened = clerk("POST", path + "/id-number", json={"person_id": person_id}, expect=200)
    assert opened.get_json() == {"id_number": representative}
    assert opened.headers["Cache-Control"] == "no-store"
    debtor = judge("POST", path + "/id-number", json={}, expect=200).get_json()
    assert debtor["id_number"] == draft.subject.credit_code

    history = judge("GET", path + "/history", expect=200).get_json()["items"]
    reveals = [(e["actor"], e["after"]) for e in history if e["action"] == "listing.id_revealed"]
    assert reveals == [
        ("bj0105-clerk", {"person": f"legal_representative:{person_id}"}),
        ("bj0105-judge", {"person": "debtor"}),
    ]
    assert representative not in "".join(judge.bodies)
    assert [body for body in clerk.bodies if representative in body] == [
        opened.get_data(as_text=True)
    ]
    unknown = clerk("POST", path + "/id-number", json={"person_id": person_id + 99})
    assert unknown.status_code == 404


def test_drafting_the_same_debtor_in_the_same_case_twice_is_a_conflict(clerk, database):
    clerk("POST", json=draft_body(), expect=201)
    again = clerk("POST", json=draft_body(), expect=409).get_json()

    assert again["code"] == 409 and "不能重复纳入" in again["message"]
    assert counts(database, ("listings",)) == {"listings": 1}


def test_a_listing_that_does_not_exist_is_not_found(clerk):
    response = clerk("GET", "/999999", expect=404)
    assert response.get_json()["status"] == "Not Found"


# --------------------------------------------------------------------------------------------------
# Invalid input: 422 with the fields named, nothing stored


def _without(body: dict, part: str, key: str) -> dict:
    return {**body, part: {k: v for k, v in body[part].items() if k != key}}


BAD_DRAFTS = {
    "a wrong check digit": (
        draft_body(id_number=DEBTOR_ID[:-1] + ("1" if DEBTOR_ID[-1] != "1" else "2")),
        "subject.id_number",
        None,
    ),
    "no subject name": (_without(draft_body(), "subject", "name"), "subject.name", "此项为必填"),
    "a null subject name": (
        {**draft_body(), "subject": {**draft_body()["subject"], "name": None}},
        "subject.name",
        "不能为空",
    ),
    "an unknown field": ({**draft_body(), "nickname": "三儿"}, "nickname", "未知字段"),
    "an unknown nested field": (
        {**draft_body(), "subject": {**draft_body()["subject"], "phone": "13800000000"}},
        "subject.phone",
        "未知字段",
    ),
    "an amount that is not a number": (
        {**draft_body(), "case": {**draft_body()["case"], "amount_due": "abc"}},
        "case.amount_due",
        "格式不正确",
    ),
    "an impossible date": (
        {**draft_body(), "case": {**draft_body()["case"], "filed_on": "2024-02-30"}},
        "case.filed_on",
        "格式不正确",
    ),
    "a kind that does not exist": (
        {**draft_body(), "subject": {**draft_body()["subject"], "kind": "robot"}},
        "subject.kind",
        "取值不在允许范围内",
    ),
    "grounds that are not a list": (
        draft_body(grounds="refuses_with_ability"),
        "grounds",
        "格式不正确",
    ),
    "a ground that is not text": (draft_body(grounds=[1]), "grounds.0", "格式不正确"),
    "a ground that does not exist": (draft_body(grounds=["lazy"]), "grounds.0", "取值不在"),
    "no grounds": (draft_body(grounds=[]), "grounds", "请至少选择一项失信情形"),
    "grace days as text": (draft_body(grace_days="30"), "grace_days", "格式不正确"),
    "no case": ({k: v for k, v in draft_body().items() if k != "case"}, "case", "此项为必填"),
}


@pytest.mark.parametrize("body, field, message", BAD_DRAFTS.values(), ids=BAD_DRAFTS.keys())
def test_a_bad_draft_is_refused_naming_the_field_and_nothing_is_stored(
    clerk, database, body, field, message
):
    before = counts(database)
    response = clerk("POST", json=body, expect=422)

    error = response.get_json()
    assert error["code"] == 422 and error["status"] == "Unprocessable Entity" and error["message"]
    assert field in error["errors"], error["errors"]
    if message:
        assert any(message in m for m in error["errors"][field]), error["errors"]
    assert counts(database) == before


def test_a_body_that_is_not_an_object_is_refused(clerk, database):
    before = counts(database)
    response = clerk("POST", json=["not", "an", "object"], expect=422)
    assert response.get_json()["errors"] == {"_schema": ["格式不正确"]}
    assert counts(database) == before


@pytest.mark.parametrize(
    "query, field",
    [("per_page=1000", "per_page"), ("page=0", "page"), ("page=x", "page"), ("status=x", "status")],
)
def test_a_bad_page_or_filter_is_refused(clerk, query, field):
    response = clerk("GET", "?" + query, expect=422)
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize(
    "payment, field",
    [
        ({"amount": "abc", "performed_on": "2025-03-01"}, "amount"),
        ({"amount": "NaN", "performed_on": "2025-03-01"}, "amount"),
        ({"amount": "-5", "performed_on": "2025-03-01"}, "amount"),
        ({"amount": "10.005", "performed_on": "2025-03-01"}, "amount"),
        ({"amount": "10"}, "performed_on"),
        ({"amount": "10", "performed_on": "2025-03-04"}, "performed_on"),
        ({"amount": "10", "performed_on": "2025-03-01", "full": "maybe"}, "full"),
    ],
)
def test_a_bad_payment_is_refused_and_nothing_is_recorded(
    session, clock, court, clerk, database, payment, field
):
    listing_id = publish_listing(session, clock, court).id
    before = snapshot(database)

    response = clerk("POST", f"/{listing_id}/performances", json=payment, expect=422)
    assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(database) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/approve", {}, "decision_number"),
        ("/approve", {"decision_number": "x", "decided_on": "tomorrow"}, "decided_on"),
        ("/reject", {"reason": ""}, "reason"),
        ("/reject", {"reason": "补充材料", "extra": 1}, "extra"),
    ],
)
def test_a_bad_signature_or_rejection_is_refused(
    session, clock, court, judge, database, path, body, field
):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    before = snapshot(database)

    response = judge("POST", f"/{listing.id}{path}", json=body, expect=422)
    assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(database) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/extension", {"years": 4, "reason": "多次失信"}, "years"),
        ("/extension", {"years": "1", "reason": "多次失信"}, "years"),
        ("/extension", {"years": 1}, "reason"),
        ("/deletion", {"reason": "bored"}, "reason"),
        ("/revocation", {}, "reason"),
    ],
)
def test_a_bad_extension_deletion_or_revocation_is_refused(
    session, clock, court, judge, database, path, body, field
):
    listing_id = publish_listing(session, clock, court, person_draft(grounds=("evades",))).id
    before = snapshot(database)

    response = judge("POST", f"/{listing_id}{path}", json=body, expect=422)
    assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(database) == before


def test_an_empty_edit_is_refused(session, clock, court, clerk):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    response = clerk("PATCH", f"/{listing.id}", json={"reason": "无"}, expect=422)
    assert list(response.get_json()["errors"]) == ["_schema"]


# --------------------------------------------------------------------------------------------------
# Credentials: 401


def _no_token(client, court, clock, session) -> dict:
    return {}


def _garbage_token(client, court, clock, session) -> dict:
    return {"Authorization": "Bearer blst_not-a-token-at-all"}


def _not_bearer(client, court, clock, session) -> dict:
    return {"Authorization": "Basic Ympa"}


def _expired_token(client, court, clock, session) -> dict:
    token = api_token(client, "bj0105-clerk")
    clock.advance(hours=client.application.config["API_TOKEN_HOURS"], minutes=1)
    return bearer(token)


def _revoked_token(client, court, clock, session) -> dict:
    token = api_token(client, "bj0105-clerk")
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    return bearer(token)


def _token_of_a_deactivated_user(client, court, clock, session) -> dict:
    token = api_token(client, "bj0105-clerk")
    staff.set_staff_active(
        session, court["clerk"].user_id, False, actor=court["admin"], clock=clock
    )
    return bearer(token)


@pytest.mark.parametrize(
    "credentials",
    [
        _no_token,
        _garbage_token,
        _not_bearer,
        _expired_token,
        _revoked_token,
        _token_of_a_deactivated_user,
    ],
    ids=lambda f: f.__name__.strip("_").replace("_", " "),
)
def test_a_call_without_valid_credentials_is_unauthorised_and_changes_nothing(
    client, court, clock, session, database, credentials
):
    listing_id = publish_listing(session, clock, court).id
    headers = credentials(client, court, clock, session)
    before = snapshot(database)

    calls = [
        ("GET", API, None),
        ("GET", f"{API}/{listing_id}", None),
        ("GET", f"{API}/{listing_id}/history", None),
        ("POST", f"{API}/{listing_id}/id-number", {}),
        ("POST", f"{API}/{listing_id}/revocation", {"reason": "不符合纳入条件"}),
        ("POST", API, {"subject": None}),  # a bad body too: 401 comes before 422
    ]
    for method, path, body in calls:
        response = client.open(path, method=method, headers=headers, json=body)
        assert response.status_code == 401, (path, response.get_json())
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        error = response.get_json()
        assert error["code"] == 401 and error["status"] == "Unauthorized" and error["message"]
    assert snapshot(database) == before


# --------------------------------------------------------------------------------------------------
# Who may do what: role × act × court


def _draft(session, clock, court):
    return services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)


def _pending(session, clock, court):
    listing = _draft(session, clock, court)
    return services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)


def _published(session, clock, court):
    return publish_listing(session, clock, court)


def _published_with_a_term(session, clock, court):
    return publish_listing(session, clock, court, person_draft(grounds=("evades",)))


@dataclass(frozen=True)
class Act:
    setup: object  # (session, clock, court) -> Listing, or None for a new draft
    method: str
    path: str
    body: dict | None
    roles: tuple[str, ...]
    success: int = 200


ACTS = {
    "create": Act(None, "POST", "", draft_body(), ("clerk", "judge"), 201),
    "edit": Act(_draft, "PATCH", "", {"grace_days": 30}, ("clerk", "judge")),
    "submit": Act(_draft, "POST", "/submit", None, ("clerk", "judge")),
    "approve": Act(
        _pending, "POST", "/approve", {"decision_number": "(2025)京0105执恢3号"}, ("judge",)
    ),
    "reject": Act(_pending, "POST", "/reject", {"reason": "材料不全"}, ("judge",)),
    "performance": Act(
        _published,
        "POST",
        "/performances",
        {"amount": "100.00", "performed_on": "2025-03-03"},
        ("clerk", "judge"),
        201,
    ),
    "deletion": Act(
        _published, "POST", "/deletion", {"reason": "no_assets_after_searches"}, ("judge",)
    ),
    "revocation": Act(_published, "POST", "/revocation", {"reason": "不符合纳入条件"}, ("judge",)),
    "extension": Act(
        _published_with_a_term, "POST", "/extension", {"years": 1, "reason": "多次失信"}, ("judge",)
    ),
    "reveal id": Act(_draft, "POST", "/id-number", {}, ("clerk", "judge")),
}
ROLES = ("clerk", "judge", "admin", "auditor")


def _matrix():
    for act, spec in ACTS.items():
        for role in ROLES:
            for whose in ("own", "other"):
                if spec.setup is None and whose == "other":
                    continue  # a draft is always made in the caller's own court
                yield pytest.param(act, role, whose, id=f"{act}-{role}-{whose} court")


@pytest.mark.parametrize("act, role, whose", list(_matrix()))
def test_each_act_is_allowed_only_to_its_roles_and_only_in_the_callers_court(
    request, client, session, clock, court, database, act, role, whose
):
    spec = ACTS[act]
    listing = spec.setup(session, clock, court) if spec.setup else None
    caller_court = court if whose == "own" else request.getfixturevalue("other_court")
    code = "bj0105" if whose == "own" else "sh0101"
    caller = Caller(client, api_token(client, f"{code}-{role}"))
    path = f"/{listing.id}{spec.path}" if listing else spec.path
    assert caller_court[role].role == role
    before = snapshot(database)

    response = caller(spec.method, path, json=spec.body)

    if whose == "other":
        assert response.status_code == 404, response.get_json()
    elif role not in spec.roles:
        assert response.status_code == 403, response.get_json()
    else:
        assert response.status_code == spec.success, response.get_json()
        assert snapshot(database) != before
        return
    assert response.get_json()["errors"] == {}
    assert snapshot(database) == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_the_court_reads_its_listings_and_their_history(
    session, clock, court, client, role
):
    listing_id = _published(session, clock, court).id
    caller = Caller(client, api_token(client, f"bj0105-{role}"))

    assert caller("GET", "", expect=200).get_json()["total"] == 1
    assert caller("GET", f"/{listing_id}", expect=200).get_json()["status"] == "published"
    assert len(caller("GET", f"/{listing_id}/history", expect=200).get_json()["items"]) == 4


def test_another_courts_listings_are_invisible(session, clock, court, other_court, client):
    listing_id = _published(session, clock, other_court).id
    caller = Caller(client, api_token(client, "bj0105-judge"))

    assert caller("GET", "", expect=200).get_json()["total"] == 0
    assert caller("GET", f"/{listing_id}", expect=404).get_json()["errors"] == {}
    caller("GET", f"/{listing_id}/history", expect=404)


# --------------------------------------------------------------------------------------------------
# The OpenAPI document


def test_the_openapi_document_lists_every_staff_call_with_its_schemas_and_bearer_security(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        API: {"get", "post"},
        API + "/{listing_id}": {"get", "patch"},
        API + "/{listing_id}/history": {"get"},
        API + "/{listing_id}/submit": {"post"},
        API + "/{listing_id}/approve": {"post"},
        API + "/{listing_id}/reject": {"post"},
        API + "/{listing_id}/performances": {"post"},
        API + "/{listing_id}/deletion": {"post"},
        API + "/{listing_id}/revocation": {"post"},
        API + "/{listing_id}/extension": {"post"},
        API + "/{listing_id}/id-number": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        operations = {m: op for m, op in paths[path].items() if m != "parameters"}
        assert set(operations) == methods, path
        for method, operation in operations.items():
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert len(success) == 1, (path, method)
            content = operation["responses"][success[0]]["content"]["application/json"]
            assert "$ref" in content["schema"], (path, method)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    schemas = spec["components"]["schemas"]
    create = paths[API]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StaffListing"
    }
    draft = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(schemas[draft]["required"]) == {"subject", "case", "grounds"}
    assert schemas["Subject"]["properties"]["kind"]["enum"] == ["person", "organisation"]
    assert {"id_number_masked", "credit_code"} <= set(schemas["StaffSubject"]["properties"])
    assert "creditor_name" not in str(schemas["StaffListing"])
    query = {p["name"] for p in paths[API]["get"]["parameters"]}
    assert query == {"status", "q", "page", "per_page"}
    assert set(schemas["ApiError"]["required"]) == {"code", "status", "message", "errors"}


def test_money_and_dates_have_the_formats_api_md_promises(session, clock, court, clerk):
    draft = person_draft(amount_due=Decimal("1234.5"))
    listing_id = publish_listing(session, clock, court, draft, decided_on=date(2025, 3, 1)).id
    listing = clerk("GET", f"/{listing_id}", expect=200).get_json()

    assert listing["case"]["amount_due"] == "1234.50"
    assert listing["performance"]["performed_amount"] == "0.00"
    assert listing["decided_on"] == "2025-03-01"

"""The staff JSON API of correction requests end to end (Arts. 11–12, API.md style): listing by
scope, one request with its attachments, downloads, decisions of the enforcing court and of the next
higher court, errors in API.md's shape, and the OpenAPI document. On SQLite, and on PostgreSQL with
BLACKLIST_TEST_DATABASE_URL."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from blacklist.corrections import services
from blacklist.corrections.inputs import ReconsiderationIn
from tests.correction_factories import (
    DEBTOR_ID,
    JPEG,
    PDF,
    file_request,
    published,
    reject,
    setup_courts,
)
from tests.e2e.conftest import api_token, bearer, counts
from tests.factories import fast_password_hashing

API = "/api/v1/corrections"
TABLES = ("correction_requests", "reconsiderations", "audit_entries", "listings")


@pytest.fixture
def courts(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_courts(session, clock)


@pytest.fixture
def request_(session, clock, courts):
    """A request with two attachments, as plain values: the test's session holds no transaction
    while the app runs (on SQLite it would hold the write lock)."""
    from blacklist.corrections.inputs import AttachmentIn

    listing = published(session, clock, courts)
    filed = file_request(
        session, clock, listing,
        attachments=(AttachmentIn("担保书.pdf", PDF), AttachmentIn("收据.jpg", JPEG)),
    )  # fmt: skip
    values = SimpleNamespace(
        reference=filed.reference,
        public_id=listing.public_id,
        listing_id=listing.id,
        attachment_ids=[a.id for a in filed.attachments],
    )
    session.commit()
    return values


def call(client, method, path, username, json=None, expect=None, tokens=None):
    token = (tokens or {}).get(username) or api_token(client, username)
    response = client.open(API + path, method=method, json=json, headers=bearer(token))
    if expect is not None:
        assert response.status_code == expect, response.get_json()
    return response


def test_the_enforcing_court_lists_and_reads_a_request_with_its_attachments(
    client, request_, clock
):
    body = call(client, "GET", "", "bj0105-clerk", expect=200).get_json()
    assert body["total"] == 1 and body["page"] == 1
    [item] = body["items"]
    assert item["reference"] == request_.reference
    assert (item["status"], item["status_label"]) == ("received", "已受理，待审查")
    assert item["review_due_on"] == "2025-03-18"
    assert item["listing"]["public_id"] == request_.public_id
    assert item["listing"]["id_number_masked"] == DEBTOR_ID[:10] + "****" + DEBTOR_ID[14:]
    one = call(client, "GET", f"/{request_.reference}", "bj0105-clerk", expect=200).get_json()
    assert [(a["filename"], a["content_type"]) for a in one["attachments"]] == [
        ("担保书.pdf", "application/pdf"),
        ("收据.jpg", "image/jpeg"),
    ]
    url = one["attachments"][1]["url"]
    assert url == f"{API}/{request_.reference}/attachments/{request_.attachment_ids[1]}"
    token = api_token(client, "bj0105-judge")
    download = client.get(url, headers=bearer(token))
    assert download.status_code == 200 and download.data == JPEG
    assert download.mimetype == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert DEBTOR_ID not in str(one) and DEBTOR_ID not in str(body)


def test_a_judge_rejects_and_the_higher_court_overturns_over_the_api(
    client, database, session, clock, courts, request_
):
    path = f"/{request_.reference}"
    rejected = call(
        client, "POST", f"{path}/decision", "bj0105-judge",
        json={"decision": "reject", "reasons": "担保不足"}, expect=200,
    ).get_json()  # fmt: skip
    # The 10 days run from service: when the applicant opens the decision (Art. 12).
    assert (rejected["status"], rejected["reconsideration_until"]) == ("rejected", None)
    services.serve_rejection(
        session, request_.reference, actor=services.public_actor(None), clock=clock
    )
    session.commit()
    served = call(client, "GET", path, "bj0105-judge", expect=200).get_json()
    assert (served["served_on"], served["reconsideration_until"]) == ("2025-03-03", "2025-03-13")
    session.expire_all()
    services.request_reconsideration(
        session, request_.reference, ReconsiderationIn(DEBTOR_ID, "不服"),
        actor=services.public_actor(), clock=clock,
    )  # fmt: skip
    session.commit()
    scoped = call(client, "GET", "?scope=reconsideration", "bj01-judge", expect=200).get_json()
    assert [i["reference"] for i in scoped["items"]] == [request_.reference]
    assert call(client, "GET", "", "bj01-judge", expect=200).get_json()["total"] == 0
    call(
        client, "POST", f"{path}/reconsideration/decision", "bj0105-judge",
        json={"outcome": "upheld", "reasons": "维持"}, expect=403,
    )  # fmt: skip
    clock.set(date(2025, 3, 14))
    decided = call(
        client, "POST", f"{path}/reconsideration/decision", "bj01-judge",
        json={"outcome": "overturned", "remedy": "delete", "reasons": "应予删除"}, expect=200,
    ).get_json()  # fmt: skip
    assert (decided["status"], decided["remedy"]) == ("accepted", "delete")
    assert decided["carry_out_due_on"] == "2025-03-19"
    assert decided["reconsideration"]["outcome"] == "overturned"
    assert decided["reconsideration"]["court"]["name"] == "北京市第一中级人民法院"

    listing_id = request_.listing_id
    token = api_token(client, "bj0105-judge")
    response = client.post(
        f"/api/v1/listings/{listing_id}/deletion",
        json={"reason": "performed", "note": None},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.get_json()
    body = call(client, "GET", path, "bj0105-clerk", expect=200).get_json()
    assert (body["status"], body["carried_out_on"]) == ("carried_out", "2025-03-14")


def test_errors_have_the_api_shape_and_change_nothing(client, database, request_):
    path = f"/{request_.reference}"
    tokens = {u: api_token(client, u) for u in ("bj0105-clerk", "bj0105-judge", "sh0101-judge",
                                                 "sh0101-clerk", "bj01-judge")}  # fmt: skip
    before = counts(database, TABLES)
    body = call(
        client, "POST", f"{path}/decision", "bj0105-clerk",
        json={"decision": "reject", "reasons": "不成立"}, expect=403, tokens=tokens,
    ).get_json()  # fmt: skip
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == 403
    call(
        client, "POST", f"{path}/decision", "sh0101-judge",
        json={"decision": "reject", "reasons": "不成立"}, expect=404, tokens=tokens,
    )  # fmt: skip
    body = call(
        client, "POST", f"{path}/decision", "bj0105-judge",
        json={"decision": "accept", "reasons": "成立"}, expect=422, tokens=tokens,
    ).get_json()  # fmt: skip
    assert "remedy" in body["errors"]
    body = call(
        client, "POST", f"{path}/decision", "bj0105-judge",
        json={"decision": "maybe", "reasons": "x", "extra": 1}, expect=422, tokens=tokens,
    ).get_json()  # fmt: skip
    assert {"decision", "extra"} <= set(body["errors"])
    call(client, "GET", "?status=lost", "bj0105-judge", expect=422, tokens=tokens)
    call(client, "GET", "/JZ-2222-2222-2222-2222", "bj0105-judge", expect=404, tokens=tokens)
    call(client, "GET", path, "sh0101-clerk", expect=404, tokens=tokens)
    call(
        client, "GET", f"{path}/attachments/{request_.attachment_ids[0]}", "bj01-judge",
        expect=404, tokens=tokens,
    )  # fmt: skip
    assert client.get(API + path).status_code == 401
    assert counts(database, TABLES) == before


def test_deciding_twice_is_a_conflict(client, session, clock, courts, request_):
    reject(session, clock, courts, SimpleNamespace(reference=request_.reference))
    session.commit()
    call(
        client, "POST", f"/{request_.reference}/decision", "bj0105-judge",
        json={"decision": "accept", "remedy": "revoke", "reasons": "成立"}, expect=409,
    )  # fmt: skip


def test_the_calls_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        API,
        API + "/{reference}",
        API + "/{reference}/attachments/{attachment_id}",
        API + "/{reference}/decision",
        API + "/{reference}/reconsideration/decision",
    ):
        assert path in paths, path
    decision = paths[API + "/{reference}/decision"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(decision["responses"])


def test_a_correction_remedy_is_confirmed_by_the_judge_after_the_listing_is_corrected(
    client, database, courts, request_
):
    path = f"/{request_.reference}"
    call(
        client, "POST", f"{path}/decision", "bj0105-judge",
        json={"decision": "accept", "remedy": "correct", "reasons": "执行依据文号有误"}, expect=200,
    )  # fmt: skip
    unchanged = ("correction_requests", "listings", "changes")
    before = counts(database, unchanged)
    refused = call(client, "POST", f"{path}/completion", "bj0105-judge", json={}, expect=409)
    assert "尚未更正" in refused.get_json()["message"]
    assert counts(database, unchanged) == before

    token = api_token(client, "bj0105-judge")
    listing = client.get(f"/api/v1/listings/{request_.listing_id}", headers=bearer(token))
    case = listing.get_json()["case"]
    patched = client.patch(
        f"/api/v1/listings/{request_.listing_id}",
        json={"case": {**case, "basis_document_number": "(2023)京0105民初5679号"},
              "reason": "依纠正申请更正执行依据文号"},
        headers=bearer(token),
    )  # fmt: skip
    assert patched.status_code == 200, patched.get_json()
    assert call(client, "GET", path, "bj0105-judge", expect=200).get_json()["status"] == "accepted"

    call(client, "POST", f"{path}/completion", "bj0105-clerk", json={}, expect=403)
    done = call(
        client, "POST", f"{path}/completion", "bj0105-judge", json={"note": "已更正"}, expect=200
    ).get_json()
    assert done["status"] == "carried_out"

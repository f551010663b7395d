"""The public JSON API end to end (API.md, public part): anonymous searches, records, the
restricted-people search and statistics, through the whole app on the test database, with a fixed
clock. What may leave the system (masked ID numbers only, never the creditor), the error shape,
the rate limits (shared with the public pages, in memory and in Redis), caching and the OpenAPI
document.

Listings are set up through the services; the test's ``session`` is committed before the app is
called (on SQLite an open transaction would hold the write lock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from blacklist import create_app
from blacklist.db import get_db
from blacklist.listing import services
from blacklist.listing.inputs import ApplicationIn, PaymentIn, PersonIn
from blacklist.publication.queries import clear_statistics_cache
from tests.e2e.conftest import counts
from tests.factories import (
    credit_code,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
)

API = "/api/v1/public"
ZHANG = resident_id("19800101", "123")
LI = resident_id("19700505", "235")
WANG = resident_id("19750101", "111")
COMPANY_CODE = credit_code("91110105MA0000001")
COMPANY = "北京某某商贸有限公司"
CREDITOR = "北京甲乙丙贸易有限公司"
REDIS_URI = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[2]

ITEM_FIELDS = {
    "public_id",
    "kind",
    "name",
    "sex",
    "age",
    "id_number_masked",
    "credit_code",
    "legal_representative",
    "court",
    "province",
    "case_number",
    "filed_on",
    "basis_document_number",
    "basis_issuer",
    "obligation",
    "performance",
    "performed_amount",
    "unperformed_amount",
    "conduct",
    "published_on",
}


def masked(number: str) -> str:
    return number[:10] + "****" + number[14:]


@pytest.fixture(autouse=True)
def _fresh_statistics():
    clear_statistics_cache()
    yield
    clear_statistics_cache()


@pytest.fixture
def person(session, clock, court):
    """张三, listed on a creditor's application (the creditor must never be shown)."""
    draft = person_draft(
        application=ApplicationIn(True, CREDITOR, date(2025, 2, 28)),
    )
    listing = publish_listing(session, clock, court, draft)
    session.commit()
    return listing


@pytest.fixture
def company(session, clock, court):
    """北京某某商贸有限公司 with its legal representative 李四 and principal 王五."""
    draft = organisation_draft(
        code=COMPANY_CODE,
        representative=PersonIn("李四", LI),
        bound_persons=(PersonIn("王五", WANG, "principal"),),
    )
    listing = publish_listing(session, clock, court, draft)
    session.commit()
    return listing


@pytest.fixture
def make_app(database, session, clock):
    """Another app on the test database, with config overrides (rate limits, Redis)."""
    apps = []

    def make(**config):
        app = create_app({"DATABASE_URL": database.url, "TESTING": True, "CLOCK": clock, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        get_db(app).dispose()


def get(client, path: str, expect: int | None = 200, **kwargs):
    response = client.get(API + path, **kwargs)
    if expect is not None:
        assert response.status_code == expect, response.get_data(as_text=True)
    return response


def assert_error(response, code: int, fields: set[str] | None = None) -> dict:
    """API.md's error shape, in JSON, with the fields named."""
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == code and body["message"]
    if fields is not None:
        assert set(body["errors"]) == fields, body
    return body


# --------------------------------------------------------------------------------------------------
# Happy paths


def test_a_name_search_gives_the_published_listing_with_exactly_the_art_6_fields(
    client, person, clock
):
    body = get(client, "/listings?name=张三").get_json()

    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 1)
    (item,) = body["items"]
    assert set(item) == ITEM_FIELDS
    assert item == {
        "public_id": person.public_id,
        "kind": "person",
        "name": "张三",
        "sex": "male",
        "age": 45,
        "id_number_masked": masked(ZHANG),
        "credit_code": None,
        "legal_representative": None,
        "court": "BJ0105人民法院",
        "province": "北京",
        "case_number": "（2024）京0105执1234号",
        "filed_on": "2024-03-01",
        "basis_document_number": "(2023)京0105民初5678号",
        "basis_issuer": "北京市朝阳区人民法院",
        "obligation": "支付货款人民币100000元及利息",
        "performance": "none",
        "performed_amount": "0.00",
        "unperformed_amount": "100000.00",
        "conduct": ["有履行能力而拒不履行生效法律文书确定义务"],
        "published_on": clock.today().isoformat(),
    }


def test_an_organisation_is_found_by_its_credit_code_with_its_representatives_name_only(
    client, company
):
    (item,) = get(client, f"/listings?id_number={COMPANY_CODE.lower()}").get_json()["items"]

    assert item["public_id"] == company.public_id
    assert (item["kind"], item["name"], item["credit_code"]) == (
        "organisation",
        COMPANY,
        COMPANY_CODE,
    )
    assert (item["id_number_masked"], item["sex"], item["age"]) == (None, None, None)
    assert item["legal_representative"] == "李四"
    assert get(client, "/listings?name=某某商贸").get_json()["items"] == [item]


def test_searches_page_and_filter_by_province(client, person, company):
    assert get(client, "/listings?name=张三&province=上海").get_json()["total"] == 0
    body = get(client, "/listings?name=张三&province=北京&page=1&per_page=50").get_json()
    assert (body["total"], body["per_page"], len(body["items"])) == (1, 50, 1)
    assert get(client, "/listings?name=张三&page=2").get_json() == {
        "items": [],
        "page": 2,
        "per_page": 20,
        "total": 1,
    }


def test_a_record_is_the_item_the_search_gives(client, person, company):
    for listing, query in ((person, "name=张三"), (company, f"id_number={COMPANY_CODE}")):
        (found,) = get(client, f"/listings?{query}").get_json()["items"]
        assert get(client, f"/listings/{listing.public_id}").get_json() == found


def test_a_record_is_not_found_once_removed_never_published_or_unknown(
    client, session, clock, court, person
):
    draft = services.create_draft(
        session, person_draft(case_number="(2024)京0105执9号"), actor=court["clerk"], clock=clock
    )
    session.commit()
    assert get(client, f"/listings/{person.public_id}").status_code == 200

    services.delete_listing(session, person.id, "performed", actor=court["judge"], clock=clock)
    session.commit()

    for public_id in (person.public_id, draft.public_id, "unknown", "x" * 200):
        assert_error(get(client, f"/listings/{public_id}", expect=None), 404, set())
    assert get(client, "/listings?name=张三").get_json()["total"] == 0
    assert get(client, f"/listings?id_number={ZHANG}").get_json()["items"] == []


def test_restricted_people_are_the_debtor_and_the_people_bound_with_an_organisation(
    client, clock, person, company
):
    (representative,) = get(client, "/restricted?name=李四").get_json()["items"]
    assert representative == {
        "name": "李四",
        "kind": "person",
        "role": "legal_representative",
        "role_label": "法定代表人",
        "id_number_masked": masked(LI),
        "debtor_name": COMPANY,
        "court": "BJ0105人民法院",
        "province": "北京",
        "case_number": "（2024）京0105执2001号",
        "since": clock.today().isoformat(),
        "measures": representative["measures"],
        "listing_public_id": company.public_id,
        "order_public_id": None,
    }
    assert "乘坐飞机" in representative["measures"]
    assert "限制授信" not in representative["measures"]

    by_number = get(client, f"/restricted?id_number={WANG}").get_json()
    assert [(p["name"], p["role"]) for p in by_number["items"]] == [("王五", "principal")]
    assert by_number["total"] == 1
    debtor = get(client, "/restricted?name=张三").get_json()["items"]
    assert [(p["name"], p["role"], p["id_number_masked"]) for p in debtor] == [
        ("张三", "debtor", masked(ZHANG))
    ]
    organisation = get(client, f"/restricted?id_number={COMPANY_CODE}").get_json()["items"]
    assert [(p["kind"], p["id_number_masked"]) for p in organisation] == [
        ("organisation", COMPANY_CODE)
    ]


def test_a_person_who_paid_in_full_is_no_longer_restricted(client, session, clock, court, person):
    services.record_performance(
        session,
        person.id,
        PaymentIn(Decimal("100000.00"), clock.today(), full=True),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()

    assert get(client, "/restricted?name=张三").get_json()["items"] == []


def test_statistics_give_totals_provinces_and_months(
    client, session, clock, court, person, company
):
    services.revoke_listing(session, person.id, "错列", actor=court["judge"], clock=clock)
    session.commit()

    body = get(client, "/stats").get_json()

    assert body["as_of"] == "2025-03-03"
    assert body["totals"] == {
        "published": 1,
        "persons": 0,
        "organisations": 1,
        "restricted_people": 3,
    }
    assert body["by_province"] == [{"province": "北京", "count": 1}]
    assert len(body["new_by_month"]) == 12
    assert body["new_by_month"][-1] == {"month": "2025-03", "count": 2}
    assert body["new_by_month"][0] == {"month": "2024-04", "count": 0}
    assert body["removed_by_month"][-1] == {"month": "2025-03", "reasons": {"撤销": 1}, "total": 1}
    assert body["removed_by_month"][0] == {"month": "2024-04", "reasons": {}, "total": 0}


# --------------------------------------------------------------------------------------------------
# Refusals


SEARCH_REFUSALS = [
    ("", {"name"}),
    ("?name=", {"name"}),
    ("?name=张", {"name"}),
    ("?id_number=123", {"id_number"}),
    ("?id_number=11010519800101123", {"id_number"}),
    ("?name=张三&province=火星", {"province"}),
    ("?name=张三&per_page=51", {"per_page"}),
    ("?name=张三&per_page=0", {"per_page"}),
    ("?name=张三&page=26", {"page"}),
    ("?name=张三&page=abc", {"page"}),
    ("?name=张三&page=-3", {"page"}),
    ("?name=张&page=0&per_page=x&province=火星", {"name", "page", "per_page", "province"}),
    ("?name=" + "张" * 101, {"name"}),
    ("?id_number=" + "1" * 33, {"id_number"}),
]


@pytest.mark.parametrize("path", ["/listings", "/restricted"])
@pytest.mark.parametrize(("query", "fields"), SEARCH_REFUSALS)
def test_a_search_the_public_may_not_run_is_refused_naming_the_fields(client, path, query, fields):
    body = assert_error(get(client, path + query, expect=None), 422, fields)

    assert body["status"] == "Unprocessable Entity"
    assert all(m and not m.isascii() for messages in body["errors"].values() for m in messages)


INJECTIONS = [
    "' OR '1'='1",
    "张三' OR '1'='1' --",
    '张三"; DROP TABLE listings; --',
    "1; DELETE FROM subjects",
    "%' UNION SELECT id_cipher FROM subjects --",
    "' OR 1=1 LIMIT 1 OFFSET 0 --",
]


@pytest.mark.parametrize("path", ["/listings", "/restricted"])
@pytest.mark.parametrize("field", ["name", "id_number", "province", "page", "per_page"])
@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_in_any_field_is_refused_or_finds_nothing(
    client, database, person, company, path, field, payload
):
    before = counts(database)
    query = {"name": "张三", field: payload} if field != "name" else {"name": payload}

    response = get(client, path, expect=None, query_string=query)

    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        assert response.get_json()["total"] == 0
        assert response.get_json()["items"] == []
    assert counts(database) == before


def test_a_name_with_markup_comes_back_as_plain_json_text(client, session, clock, court):
    name = "<script>alert(1)</script>张三"
    publish_listing(session, clock, court, person_draft(name=name))
    session.commit()

    response = get(client, "/listings", query_string={"name": name})

    assert response.mimetype == "application/json"
    assert response.get_json()["items"][0]["name"] == name
    assert "<html" not in response.get_data(as_text=True).lower()
    refused = get(client, "/listings", expect=None, query_string={"name": "<b>", "page": "<i>"})
    assert refused.mimetype == "application/json" and refused.status_code == 422


def test_no_full_id_number_creditor_or_internal_field_ever_leaves(
    client, session, clock, court, person, company
):
    legacy = resident_id("19650315", "246")
    old = publish_listing(
        session,
        clock,
        court,
        person_draft(
            name="赵六", id_number=legacy[:6] + legacy[8:17], case_number="(2024)京0105执77号"
        ),
    )
    session.commit()
    paths = [
        "/listings?name=张三",
        f"/listings?id_number={ZHANG}",
        "/listings?name=某某商贸",
        f"/listings?id_number={legacy}",
        f"/listings/{person.public_id}",
        f"/listings/{company.public_id}",
        f"/listings/{old.public_id}",
        "/restricted?name=李四",
        "/restricted?name=王五",
        f"/restricted?id_number={ZHANG}",
        "/restricted?name=赵六",
        "/stats",
    ]
    bodies = [get(client, path).get_data(as_text=True) for path in paths]
    text = "\n".join(bodies)

    assert masked(ZHANG) in text and masked(LI) in text and masked(WANG) in text
    assert masked(legacy) in text
    for secret in (ZHANG, LI, WANG, legacy, legacy[:6] + legacy[8:17], CREDITOR):
        assert secret not in text
    for birth in ("19800101", "1980-01-01", "19700505", "1970-05-05", "19650315"):
        assert birth not in text
    for internal in (
        "creditor",
        "id_cipher",
        "id_hash",
        "birth_date",
        "decision_number",
        "version",
        "updated_at",
        '"id"',
    ):
        assert internal not in text, internal


# --------------------------------------------------------------------------------------------------
# Rate limits


def assert_rate_limited(response) -> None:
    body = assert_error(response, 429, set())
    assert body["status"] == "Too Many Requests"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_searches_past_the_limit_are_refused_with_retry_after(make_app, person):
    client = make_app(PUBLIC_SEARCH_RATE_LIMIT="3 per minute").test_client()

    for _ in range(3):
        assert get(client, "/listings?name=张三").status_code == 200

    assert_rate_limited(get(client, "/listings?name=张三", expect=None))
    assert_rate_limited(get(client, "/restricted?name=张三", expect=None))
    assert get(client, f"/listings/{person.public_id}").status_code == 200
    assert get(client, "/stats").status_code == 200


def test_both_searches_and_refused_queries_share_one_allowance(make_app):
    """Every request counts, a refused one too (even one the query schema refuses before the
    search is parsed): the limit is checked before anything else."""
    client = make_app(PUBLIC_SEARCH_RATE_LIMIT="3 per minute").test_client()

    assert get(client, "/listings?name=张三").status_code == 200
    assert get(client, "/restricted?name=张三").status_code == 200
    assert get(client, "/listings?name=" + "张" * 101, expect=422)

    assert_rate_limited(get(client, "/restricted?name=张三", expect=None))


def test_records_and_statistics_share_their_own_limit(make_app, person):
    client = make_app(PUBLIC_RECORD_RATE_LIMIT="2 per minute").test_client()

    assert get(client, f"/listings/{person.public_id}").status_code == 200
    assert get(client, "/stats").status_code == 200

    assert_rate_limited(get(client, f"/listings/{person.public_id}", expect=None))
    assert_rate_limited(get(client, "/stats", expect=None))
    assert get(client, "/listings?name=张三").status_code == 200


def test_another_client_has_its_own_allowance(make_app):
    client = make_app(PUBLIC_SEARCH_RATE_LIMIT="1 per minute").test_client()

    assert get(client, "/listings?name=张三").status_code == 200
    assert_rate_limited(get(client, "/listings?name=张三", expect=None))
    other = {"REMOTE_ADDR": "10.0.0.7"}
    assert get(client, "/listings?name=张三", environ_base=other).status_code == 200


def test_the_search_pages_and_the_api_share_one_allowance(make_app):
    app = make_app(PUBLIC_SEARCH_RATE_LIMIT="3 per minute")
    if not any(rule.rule == "/search" for rule in app.url_map.iter_rules()):
        pytest.skip("the public search page (/search) is not there yet")
    client = app.test_client()

    assert client.get("/search?name=张三").status_code == 200
    assert client.get("/search?name=张三").status_code == 200
    assert get(client, "/listings?name=张三").status_code == 200

    assert_rate_limited(get(client, "/listings?name=张三", expect=None))
    assert client.get("/search?name=张三").status_code == 429


def redis_db():
    """Redis database 15, emptied; skips the test when Redis is not reachable."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URI}: {error}")
    connection.flushdb()
    return connection


@pytest.fixture
def redis_storage():
    connection = redis_db()
    yield REDIS_URI
    connection.flushdb()
    connection.close()


_OTHER_PROCESS = """
import json, sys
from blacklist import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "TESTING": True,
                  "RATELIMIT_STORAGE_URI": sys.argv[2], "PUBLIC_SEARCH_RATE_LIMIT": "3 per minute"})
response = app.test_client().get("/api/v1/public/listings?name=张三")
print(json.dumps({"status": response.status_code, "retry_after": response.headers.get("Retry-After"),
                  "body": response.get_json()}, ensure_ascii=False))
"""


def search_from_another_process(database_url: str, storage: str) -> dict:
    """One search by a second web process (its own app, its own limiter) from the same client."""
    env = {**os.environ, "BLACKLIST_CONFIG": "testing", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, database_url, storage],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_limits_kept_in_redis_refuse_the_same_way(make_app, redis_storage):
    client = make_app(
        PUBLIC_SEARCH_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=redis_storage
    ).test_client()

    for _ in range(3):
        assert get(client, "/listings?name=张三").status_code == 200

    assert_rate_limited(get(client, "/listings?name=张三", expect=None))
    assert redis_db_keys(redis_storage), "the counters are in Redis"


def redis_db_keys(uri: str) -> list[bytes]:
    import redis

    with redis.Redis.from_url(uri) as connection:
        return connection.keys("*")


def test_two_web_processes_on_one_redis_share_a_clients_allowance(
    make_app, database, redis_storage
):
    client = make_app(
        PUBLIC_SEARCH_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=redis_storage
    ).test_client()
    for _ in range(3):
        assert get(client, "/listings?name=张三").status_code == 200

    other = search_from_another_process(database.url, redis_storage)
    in_memory = search_from_another_process(database.url, "memory://")

    assert other["status"] == 429, other
    assert other["body"]["code"] == 429 and 0 < int(other["retry_after"]) <= 60
    assert in_memory["status"] == 200, "a process with its own memory does not know the count"


# --------------------------------------------------------------------------------------------------
# Caching


def test_a_record_is_revalidated_with_its_etag(client, session, clock, court, person):
    first = get(client, f"/listings/{person.public_id}")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"] in ("public, no-cache", "no-cache, public")

    unchanged = get(
        client, f"/listings/{person.public_id}", expect=304, headers={"If-None-Match": etag}
    )
    assert unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag
    assert "no-cache" in unchanged.headers["Cache-Control"]
    other_etag = get(client, f"/listings/{person.public_id}", headers={"If-None-Match": '"nope"'})
    assert other_etag.get_json() == first.get_json()

    services.record_performance(
        session,
        person.id,
        PaymentIn(Decimal("100.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    changed = get(client, f"/listings/{person.public_id}", headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["performed_amount"] == "100.00"


def test_searches_and_errors_are_never_stored_and_statistics_kept_a_minute(client, person):
    assert get(client, "/listings?name=张三").headers["Cache-Control"] == "no-store"
    assert get(client, "/restricted?name=张三").headers["Cache-Control"] == "no-store"
    assert get(client, "/listings?name=张", expect=422).headers["Cache-Control"] == "no-store"
    assert get(client, "/listings/unknown", expect=404).headers["Cache-Control"] == "no-store"
    assert get(client, "/stats").headers["Cache-Control"] == "public, no-cache"


# --------------------------------------------------------------------------------------------------
# The OpenAPI document


def test_the_openapi_document_lists_the_public_calls_without_security(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        API + "/listings": {"200", "422", "429"},
        API + "/listings/{public_id}": {"200", "304", "404", "429"},
        API + "/restricted": {"200", "422", "429"},
        API + "/stats": {"200", "429"},
    }
    for path, codes in expected.items():
        assert set(paths[path]) - {"parameters"} == {"get"}, path
        operation = paths[path]["get"]
        assert operation.get("security", []) == [], path
        assert codes <= set(operation["responses"]), path
        for code in codes - {"200", "304"}:
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}, (path, code)
    for search in ("/listings", "/restricted"):
        parameters = {p["name"]: p for p in paths[API + search]["get"]["parameters"]}
        assert set(parameters) == {"name", "id_number", "province", "page", "per_page"}
        assert parameters["per_page"]["schema"]["maximum"] == 50
        assert parameters["page"]["schema"]["type"] == "integer"

    schemas = spec["components"]["schemas"]
    assert set(schemas["PublicListing"]["properties"]) == ITEM_FIELDS
    assert set(schemas["RestrictedPerson"]["properties"]) == {
        "name",
        "kind",
        "role",
        "role_label",
        "id_number_masked",
        "debtor_name",
        "court",
        "province",
        "case_number",
        "since",
        "measures",
        "listing_public_id",
        "order_public_id",
    }
    assert set(schemas["Statistics"]["properties"]) == {
        "as_of",
        "totals",
        "by_province",
        "new_by_month",
        "removed_by_month",
        "hit_measures",
        "hits_by_month",
        "partners",
    }
    assert client.get("/api/docs").status_code == 200

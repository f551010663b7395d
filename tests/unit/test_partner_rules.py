"""Pure rules of partner integration (DOMAIN.md §4, DESIGN.md §6, API.md partner part): registering a
partner, which records it receives and what it sees of them, the push back-off and the Standard
Webhooks signature."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from blacklist.core.errors import ValidationFailed
from blacklist.partners import rules
from blacklist.partners.rules import Scope
from blacklist.restrictions.catalogue import (
    CONSUMPTION_MEASURES,
    LISTING_MEASURES,
    MEASURES,
    ORGANISATION_LISTING_MEASURES,
    codes_of,
    mask_of,
)
from tests.conftest import make_vault
from tests.factories import credit_code, resident_id

RAILWAY = ("hsr_any_seat", "emu_first_class", "soft_sleeper")


def registration(**changes):
    fields = {
        "code": "railway",
        "name": "中国国家铁路集团有限公司",
        "measures": "hsr_any_seat,emu_first_class,soft_sleeper",
        "scope": "restriction",
        "webhook_url": "https://partner.example.cn/hooks/blacklist",
        "require_https": False,
    }
    fields.update(changes)
    return rules.parse_registration(**fields)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.errors


# --------------------------------------------------------------------------------------------------
# Registration


def test_a_valid_registration_is_parsed_into_code_name_mask_scope_and_url():
    code, name, mask, scope, url = registration(
        code="  railway ",
        name="  中国国家铁路集团  有限公司 ",
        measures=" hsr_any_seat , emu_first_class,, soft_sleeper ",
    )
    assert code == "railway"
    assert name == "中国国家铁路集团 有限公司"
    assert mask == mask_of(RAILWAY)
    assert codes_of(mask) == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]
    assert scope is Scope.RESTRICTION
    assert url == "https://partner.example.cn/hooks/blacklist"


def test_measures_may_be_given_as_a_list():
    _code, _name, mask, scope, url = registration(
        measures=["credit_record"], scope="listing", webhook_url=None
    )
    assert mask == mask_of(["credit_record"])
    assert scope is Scope.LISTING
    assert url is None


def test_every_wrong_field_of_a_registration_is_reported_at_once():
    with pytest.raises(ValidationFailed) as excinfo:
        registration(
            code="Railway!",
            name="   ",
            measures="flight,teleport",
            scope="everything",
            webhook_url="ftp://partner.example.cn/",
        )
    errors = errors_of(excinfo)
    assert set(errors) == {"code", "name", "measures", "scope", "webhook_url"}
    assert "teleport" in errors["measures"][0]
    assert "flight" not in errors["measures"][0].split("（")[0]
    assert excinfo.value.message == "合作单位信息有误"


def test_the_scope_fit_is_checked_only_when_measures_and_scope_are_both_valid():
    with pytest.raises(ValidationFailed) as excinfo:
        registration(code="x", measures="flight", scope="listing")
    assert set(errors_of(excinfo)) == {"code", "scope"}
    # an unknown scope: one message about the scope, not a second about the fit
    with pytest.raises(ValidationFailed) as excinfo:
        registration(measures="flight", scope="all")
    assert list(errors_of(excinfo)) == ["scope"]
    assert len(errors_of(excinfo)["scope"]) == 1


@pytest.mark.parametrize(
    "raw", ["", "  ", "a", "1caac", "_caac", "Caac", "caac-air", "航信", "c" * 33]
)
def test_a_partner_code_is_2_to_32_lowercase_letters_digits_or_underscores(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_code(raw)
    assert list(errors_of(excinfo)) == ["code"]


@pytest.mark.parametrize("raw", ["ca", "caac", "exit_entry", "bank2", "c" * 32])
def test_valid_partner_codes(raw):
    assert rules.parse_code(raw) == raw


def test_a_name_is_required_and_at_most_100_characters():
    assert rules.parse_name("中" * 100) == "中" * 100
    for raw in ("", "   ", None, "中" * 101):
        with pytest.raises(ValidationFailed) as excinfo:
            rules.parse_name(raw)
        assert list(errors_of(excinfo)) == ["name"]


@pytest.mark.parametrize("raw", ["", " , ,", [], ["", "  "]])
def test_at_least_one_measure_is_needed(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_measures(raw)
    assert list(errors_of(excinfo)) == ["measures"]


def test_unknown_measures_are_named_and_the_valid_ones_listed():
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_measures(["flight", "Flight", "spaceflight"])
    message = errors_of(excinfo)["measures"][0]
    assert "Flight、spaceflight" in message
    for measure in MEASURES:
        assert measure.code in message


def test_every_catalogue_measure_can_be_subscribed():
    assert rules.parse_measures([m.code for m in MEASURES]) == mask_of(m.code for m in MEASURES)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("restriction", Scope.RESTRICTION), ("listing", Scope.LISTING), ("both", Scope.BOTH)],
)
def test_scopes(raw, expected):
    assert rules.parse_scope(raw) is expected


@pytest.mark.parametrize("raw", ["", "Restriction", "listings", "all"])
def test_unknown_scopes_are_refused(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_scope(raw)
    assert list(errors_of(excinfo)) == ["scope"]


def test_scope_types():
    assert Scope.RESTRICTION.types == ("restriction",)
    assert Scope.LISTING.types == ("listing",)
    assert Scope.BOTH.types == ("restriction", "listing")


@pytest.mark.parametrize("measure", (*CONSUMPTION_MEASURES, "exit"))
def test_listing_records_without_a_listing_measure_are_refused(measure):
    mask = mask_of([measure])
    with pytest.raises(ValidationFailed) as excinfo:
        rules.check_scope_fits_measures(Scope.LISTING, mask)
    assert list(errors_of(excinfo)) == ["scope"]
    # the same measures are fine with restriction records, or both kinds
    rules.check_scope_fits_measures(Scope.RESTRICTION, mask)
    rules.check_scope_fits_measures(Scope.BOTH, mask)


@pytest.mark.parametrize("measure", LISTING_MEASURES)
def test_listing_records_fit_every_listing_measure(measure):
    rules.check_scope_fits_measures(Scope.LISTING, mask_of([measure]))
    rules.check_scope_fits_measures(Scope.LISTING, mask_of([measure, "flight"]))


# --------------------------------------------------------------------------------------------------
# Webhook URL


@pytest.mark.parametrize(
    "raw",
    [
        "https://partner.example.cn/hooks",
        "https://partner.example.cn:8443/hooks?v=1",
        "http://127.0.0.1:8000/hook",
        "https://[2001:db8::1]/hook",
    ],
)
def test_absolute_http_and_https_urls_are_accepted(raw):
    assert rules.parse_webhook_url(raw, require_https=False) == raw


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_url_means_no_push(raw):
    assert rules.parse_webhook_url(raw, require_https=True) is None


def test_surrounding_whitespace_is_dropped():
    assert rules.parse_webhook_url("  https://p.example.cn/h \n", require_https=True) == (
        "https://p.example.cn/h"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "partner.example.cn/hooks",
        "/hooks",
        "ftp://partner.example.cn/hooks",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https:///hooks",
    ],
)
def test_a_url_must_be_absolute_http_or_https(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_webhook_url(raw, require_https=False)
    assert list(errors_of(excinfo)) == ["webhook_url"]


@pytest.mark.parametrize(
    "raw",
    [
        "https://user:secret@partner.example.cn/hooks",
        "https://user@partner.example.cn/hooks",
        "https://:secret@partner.example.cn/hooks",
    ],
)
def test_credentials_in_the_url_are_refused(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_webhook_url(raw, require_https=False)
    assert "用户名或密码" in errors_of(excinfo)["webhook_url"][0]


def test_https_only_mode_refuses_plain_http():
    url = "http://partner.example.cn/hooks"
    assert rules.parse_webhook_url(url, require_https=False) == url
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_webhook_url(url, require_https=True)
    assert "https" in errors_of(excinfo)["webhook_url"][0]
    assert rules.parse_webhook_url("https://p.example.cn/", require_https=True)


@pytest.mark.parametrize(
    "raw",
    ["https://partner.example.cn/a b", "https://partner.example.cn/a\tb", "https://p.cn/a\u3000b"],
)
def test_whitespace_inside_the_url_is_refused(raw):
    with pytest.raises(ValidationFailed):
        rules.parse_webhook_url(raw, require_https=False)


def test_a_url_longer_than_500_characters_is_refused():
    base = "https://partner.example.cn/"
    assert rules.parse_webhook_url(base + "a" * (500 - len(base)), require_https=True)
    with pytest.raises(ValidationFailed) as excinfo:
        rules.parse_webhook_url(base + "a" * (501 - len(base)), require_https=True)
    assert "500" in errors_of(excinfo)["webhook_url"][0]


@pytest.mark.parametrize(
    "raw", ["https://partner.example.cn:99999/hooks", "https://partner.example.cn:https/hooks"]
)
def test_a_url_with_an_impossible_port_is_refused(raw):
    with pytest.raises(ValidationFailed):
        rules.parse_webhook_url(raw, require_https=False)


# --------------------------------------------------------------------------------------------------
# Relevance


@pytest.mark.parametrize(
    ("change_type", "change_measures", "scope", "partner_measures", "expected"),
    [
        ("restriction", ("flight", "hsr_any_seat"), Scope.RESTRICTION, RAILWAY, True),
        ("restriction", ("credit_record", "bidding"), Scope.RESTRICTION, RAILWAY, False),
        ("listing", LISTING_MEASURES, Scope.RESTRICTION, ("credit_record",), False),
        ("listing", LISTING_MEASURES, Scope.LISTING, ("credit_record",), True),
        ("listing", ORGANISATION_LISTING_MEASURES, Scope.LISTING, ("officer_ban",), False),
        ("restriction", CONSUMPTION_MEASURES, Scope.LISTING, ("credit_record", "flight"), False),
        ("restriction", CONSUMPTION_MEASURES, Scope.BOTH, ("credit_record", "flight"), True),
        ("listing", LISTING_MEASURES, Scope.BOTH, ("credit_record", "flight"), True),
    ],
)
def test_a_change_is_relevant_when_its_type_is_in_scope_and_its_measures_intersect(
    change_type, change_measures, scope, partner_measures, expected
):
    assert (
        rules.relevant(
            change_type, mask_of(change_measures), scope=scope, measures=mask_of(partner_measures)
        )
        is expected
    )


# --------------------------------------------------------------------------------------------------
# What a partner sees of a record

VAULT = make_vault()
DEBTOR = resident_id("19800101", "123")
REPRESENTATIVE = resident_id("19700505", "235")
PRINCIPAL = resident_id("19750101", "111")
ORG = credit_code()


def restriction_payload(measures=CONSUMPTION_MEASURES, *, cipher=None) -> dict:
    return {
        "person": {
            "kind": "person",
            "name": "李四",
            "id_cipher": cipher or VAULT.encrypt(REPRESENTATIVE),
        },
        "role": "legal_representative",
        "measures": list(measures),
        "since": "2025-03-03",
        "source": {
            "kind": "consumption_order",
            "public_id": "ORDER1",
            "listing_public_id": "LIST1",
            "court": "BJ0105人民法院",
            "case_number": "(2024)京0105执2001号",
        },
    }


def listing_payload() -> dict:
    return {
        "public_id": "LIST1",
        "kind": "organisation",
        "name": "北京某某商贸有限公司",
        "id_cipher": VAULT.encrypt(ORG),
        "sex": None,
        "birth_date": None,
        "legal_representative": {"name": "李四", "id_cipher": VAULT.encrypt(REPRESENTATIVE)},
        "bound_persons": [
            {"role": "principal", "name": "王五", "id_cipher": VAULT.encrypt(PRINCIPAL)}
        ],
        "court": {"code": "BJ0105", "name": "BJ0105人民法院", "province": "北京"},
        "case_number": "(2024)京0105执2001号",
        "performance": "none",
        "grounds": ["evades"],
    }


def test_a_restriction_record_shows_the_full_id_number_and_only_the_partners_measures():
    payload = restriction_payload()
    stored = copy.deepcopy(payload)
    record = rules.partner_record(
        "restriction", payload, mask_of(CONSUMPTION_MEASURES), mask_of(RAILWAY), VAULT.decrypt
    )
    assert record == {
        "person": {"kind": "person", "name": "李四", "id_number": REPRESENTATIVE},
        "role": "legal_representative",
        "measures": ["soft_sleeper", "hsr_any_seat", "emu_first_class"],
        "since": "2025-03-03",
        "source": stored["source"],
    }
    assert payload == stored  # the stored payload is not modified
    assert "id_cipher" not in json.dumps(record)


def test_a_restriction_record_is_cut_by_its_payload_measures_not_by_the_partners_alone():
    payload = restriction_payload(measures=("flight",))
    record = rules.partner_record(
        "restriction", payload, mask_of(["flight"]), mask_of(["flight", *RAILWAY]), VAULT.decrypt
    )
    assert record["measures"] == ["flight"]


def test_a_listing_record_decrypts_every_identifier_and_cuts_the_measures():
    payload = listing_payload()
    stored = copy.deepcopy(payload)
    mask = mask_of(ORGANISATION_LISTING_MEASURES)
    record = rules.partner_record(
        "listing", payload, mask, mask_of(["credit_record", "officer_ban", "flight"]), VAULT.decrypt
    )
    assert record["id_number"] == ORG
    assert record["legal_representative"] == {"name": "李四", "id_number": REPRESENTATIVE}
    assert record["bound_persons"] == [
        {"role": "principal", "name": "王五", "id_number": PRINCIPAL}
    ]
    assert record["measures"] == ["credit_record"]
    assert "id_cipher" not in json.dumps(record, ensure_ascii=False)
    # every other field as stored
    for field in ("public_id", "kind", "name", "court", "case_number", "performance", "grounds"):
        assert record[field] == stored[field]
    assert payload == stored


def test_a_person_listing_record_has_no_legal_representative():
    payload = listing_payload() | {
        "kind": "person",
        "id_cipher": VAULT.encrypt(DEBTOR),
        "legal_representative": None,
        "bound_persons": [],
    }
    record = rules.partner_record(
        "listing", payload, mask_of(LISTING_MEASURES), mask_of(LISTING_MEASURES), VAULT.decrypt
    )
    assert record["id_number"] == DEBTOR
    assert record["legal_representative"] is None
    assert record["bound_persons"] == []
    assert record["measures"] == list(LISTING_MEASURES)


# --------------------------------------------------------------------------------------------------
# Push back-off and signatures


@pytest.mark.parametrize(
    ("failures", "wait"),
    [
        (0, timedelta(seconds=5)),
        (1, timedelta(seconds=5)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=5)),
        (6, timedelta(hours=10)),
        (7, timedelta(hours=10)),
        (1000, timedelta(hours=10)),
    ],
)
def test_the_back_off_follows_the_standard_webhooks_schedule_and_never_gives_up(failures, wait):
    assert rules.backoff(failures) == wait


def test_the_signature_matches_the_standard_webhooks_test_vector():
    signature = rules.sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_signature_covers_the_id_the_timestamp_and_every_byte_of_the_body():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    reference = rules.sign(secret, "msg_1", 1700000000, '{"a":"张三"}'.encode())
    expected = hmac.new(
        b"k" * 32, b"msg_1.1700000000." + '{"a":"张三"}'.encode(), hashlib.sha256
    ).digest()
    assert reference == "v1," + base64.b64encode(expected).decode()
    assert rules.sign(secret, "msg_2", 1700000000, '{"a":"张三"}'.encode()) != reference
    assert rules.sign(secret, "msg_1", 1700000001, '{"a":"张三"}'.encode()) != reference
    assert rules.sign(secret, "msg_1", 1700000000, '{"a":"张四"}'.encode()) != reference
    other = "whsec_" + base64.b64encode(b"j" * 32).decode()
    assert rules.sign(other, "msg_1", 1700000000, '{"a":"张三"}'.encode()) != reference


def test_a_secret_without_the_whsec_prefix_is_its_base64_key():
    body = base64.b64encode(b"s" * 32).decode()
    assert rules.secret_bytes(body) == b"s" * 32
    assert rules.secret_bytes("whsec_" + body) == b"s" * 32
    assert rules.sign(body, "m", 1, b"{}") == rules.sign("whsec_" + body, "m", 1, b"{}")

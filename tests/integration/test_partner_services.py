"""Partner services on the database (DOMAIN.md §4-§6, DESIGN.md §6, API.md partner part): the
registry (keys shown once and stored hashed, rotation, revocation, deactivation), acknowledgements,
hits, the feed, the snapshot and checks. Every act is audited and a refused act changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from blacklist.audit.models import AuditEntry
from blacklist.changelog.models import Change, ChangeAction
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor, Role
from blacklist.core.errors import (
    Conflict,
    Gone,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import ListingPatch, PaymentIn, PersonIn, SubjectIn
from blacklist.listing.models import Listing
from blacklist.partners import checks, feed, services
from blacklist.partners.feed import Subscription
from blacklist.partners.models import Hit, Partner, PartnerAck, PartnerKey, PushCursor
from blacklist.partners.rules import Scope
from blacklist.restrictions.catalogue import (
    CONSUMPTION_MEASURES,
    LISTING_MEASURES,
    codes_of,
    mask_of,
)
from blacklist.restrictions.models import Restriction, SourceKind
from blacklist.staff import services as staff
from tests.factories import (
    case_in,
    credit_code,
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    resident_id_ending_in_x,
    setup_court,
    stored_texts,
    table_contents,
)
from tests.partner_factories import SYSTEM, register_partner

PARTNER_TABLES = (
    "partners",
    "partner_keys",
    "push_cursors",
    "partner_acks",
    "hits",
    "audit_entries",
    "changes",
)

#: (measures, scope) of the partners of DOMAIN.md §4.
PARTNERS = {
    "railway": ("hsr_any_seat,emu_first_class,soft_sleeper", "restriction"),
    "caac": ("flight", "restriction"),
    "exit_entry": ("exit", "restriction"),
    "credit_ref": ("credit_record", "listing"),
    "procurement": ("procurement,bidding", "listing"),
    "market_reg": ("officer_ban", "listing"),
    "bank": ("credit,financing,flight", "both"),
}

DEBTOR = resident_id("19800101", "123")
REPRESENTATIVE = resident_id("19700505", "235")
PRINCIPAL = resident_id("19750101", "111")
RESPONSIBLE = resident_id("19760101", "113")
CONTROLLER = resident_id("19770101", "115")
NEW_REPRESENTATIVE = resident_id("19690303", "157")
ORG_CODE = credit_code()
BOUND = (
    PersonIn("王五", PRINCIPAL, "principal"),
    PersonIn("赵六", RESPONSIBLE, "directly_responsible"),
    PersonIn("孙七", CONTROLLER, "actual_controller"),
)
ORGANISATION = organisation_draft(
    code=ORG_CODE, representative=PersonIn("李四", REPRESENTATIVE), bound_persons=BOUND
)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def court(session, clock):
    return setup_court(session, clock)


def person(n: int, **changes):
    """A person's draft with its own ID number and case number."""
    fields = {
        "name": f"债务人{n}",
        "id_number": resident_id("19810101", f"{2 * n + 1:03d}"),
        "case_number": f"(2024)京0105执{1000 + n}号",
    }
    fields.update(changes)
    return person_draft(**fields)


def register_all(session, clock, codes=tuple(PARTNERS)) -> dict[str, str]:
    """Register partners of ``PARTNERS``; their API keys by code."""
    keys = {}
    for code in codes:
        measures, scope = PARTNERS[code]
        _id, key, _secret = register_partner(session, clock, code, measures, scope)
        keys[code] = key
    return keys


def sub_of(session, code: str) -> Subscription:
    return Subscription.of(services.get_partner(session, code))


def audit_actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


@contextmanager
def refused(session, error: type[Exception], field: str | None = None):
    """The call in the block raises ``error`` (naming ``field``) and changes nothing at all."""
    before = table_contents(session, PARTNER_TABLES)
    with pytest.raises(error) as caught:
        yield caught
    session.rollback()
    assert caught.value.message
    if field is not None:
        assert field in caught.value.errors, caught.value.errors
    assert table_contents(session, PARTNER_TABLES) == before


def follow(session, sub: Subscription, *, after: int = 0, limit: int = 1000):
    """Every feed item after ``after``, following ``next_after`` while ``has_more``; and the pages."""
    items, pages = [], []
    while True:
        page = feed.feed_page(session, sub, after=after, limit=limit)
        pages.append((after, page))
        items.extend(page.items)
        assert page.next_after >= after
        after = page.next_after
        if not page.has_more:
            return items, pages


def replay(items, state: dict | None = None) -> dict[str, tuple[str, dict]]:
    """The partner's copy built from feed items: key -> (type, record)."""
    state = dict(state or {})
    for item in items:
        if item["action"] == "upsert":
            state[item["key"]] = (item["type"], item["record"])
        else:
            assert item["record"] is None
            state.pop(item["key"], None)
    return state


def snapshot_of(database, sub: Subscription) -> tuple[int, dict[str, tuple[str, dict]], list]:
    """(seq, key -> (type, record), lines) of a snapshot read in a snapshot session."""
    snap = database.snapshot_session()
    try:
        seq, chunks = feed.snapshot_lines(snap, sub)
        body = b"".join(chunks).decode("utf-8")
    finally:
        snap.close()
    lines = [json.loads(line) for line in body.splitlines()]
    assert body == "" or body.endswith("\n")
    state = {line["key"]: (line["type"], line["record"]) for line in lines}
    assert len(state) == len(lines), "a key appears twice in the snapshot"
    return seq, state, lines


def pay(session, clock, court, listing_id: int, amount: str, *, full: bool = False):
    return listing_services.record_performance(
        session,
        listing_id,
        PaymentIn(Decimal(amount), clock.today(), full),
        actor=court["clerk"],
        clock=clock,
    )


def busy_history(session, clock, court) -> dict[str, int]:
    """Publications, corrections, payments, an extension, a deletion, a revocation, a listing in
    its grace period and an expiry: every kind of change the partners follow. Listing ids by name."""
    judge, system = court["judge"], Actor.system("scheduler")
    ids = {}
    ids["plain"] = publish_listing(session, clock, court, person(1)).id
    ids["termed"] = publish_listing(session, clock, court, person(2, grounds=("evades",))).id
    ids["org"] = publish_listing(session, clock, court, ORGANISATION).id
    ids["paid"] = publish_listing(session, clock, court, person(3)).id
    ids["revoked"] = publish_listing(session, clock, court, person(4)).id
    ids["deleted"] = publish_listing(session, clock, court, person(5)).id
    ids["grace"] = publish_listing(session, clock, court, person(6, grace_days=30)).id
    ids["expiring"] = publish_listing(session, clock, court, person(7, grounds=("obstructs",))).id
    listing_services.extend_listing(session, ids["termed"], 1, "多次失信", actor=judge, clock=clock)
    pay(session, clock, court, ids["paid"], "30000.00")
    pay(session, clock, court, ids["paid"], "70000.00", full=True)
    listing_services.edit_listing(
        session,
        ids["plain"],
        ListingPatch(case=case_in("(2024)京0105执1999号"), reason="执行案号录入错误"),
        actor=judge,
        clock=clock,
    )
    listing_services.edit_listing(
        session,
        ids["org"],
        ListingPatch(
            subject=SubjectIn(
                "organisation",
                "北京某某商贸有限公司",
                credit_code=ORG_CODE,
                legal_representative=PersonIn("周八", NEW_REPRESENTATIVE),
                bound_persons=BOUND,
            ),
            reason="法定代表人录入错误",
        ),
        actor=judge,
        clock=clock,
    )
    listing_services.revoke_listing(session, ids["revoked"], "错误纳入", actor=judge, clock=clock)
    listing_services.delete_listing(
        session, ids["deleted"], "no_assets_after_searches", actor=judge, clock=clock
    )
    clock.set(date(2027, 3, 10))
    assert listing_services.expire_listing(session, ids["expiring"], actor=system, clock=clock)
    return ids


# --------------------------------------------------------------------------------------------------
# Registry: keys and secrets


def test_a_new_partner_gets_its_key_and_secret_once_and_only_their_hash_and_cipher_are_stored(
    session, clock
):
    partner, credentials = services.create_partner(
        session,
        code="caac",
        name="中国民用航空局",
        measures="flight",
        scope="restriction",
        webhook_url="https://travelsky.example.cn/hooks",
        actor=SYSTEM,
        clock=clock,
    )
    key, secret = credentials.api_key, credentials.signing_secret
    assert key.startswith("bpk_") and len(key) >= 40
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32

    row = session.get(PartnerKey, credentials.key_id)
    assert row.partner_id == partner.id
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:10] and row.revoked_at is None
    assert services.signing_secret(session, partner) == secret
    assert services.resolve_key(session, key) is partner

    secrets = {key, key.removeprefix("bpk_"), secret, secret.removeprefix("whsec_")}
    leaks = [
        (table, column)
        for table, column, value in stored_texts(session, PARTNER_TABLES)
        for secret_text in secrets
        if secret_text in value
    ]
    assert leaks == []

    # a new partner starts from the newest change (it takes a snapshot first)
    assert session.get(PushCursor, partner.id).pushed_seq == last_seq(session)
    assert (partner.measures, partner.scope, partner.acked_seq) == (
        mask_of(["flight"]),
        Scope.RESTRICTION,
        0,
    )
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["partner.created", "partner.key_added"]
    assert {(e.entity_kind, e.entity_id) for e in entries} == {("partner", str(partner.id))}
    assert entries[0].after["measures"] == ["flight"]
    assert entries[1].after == {"key_id": row.id, "prefix": row.prefix, "label": "初始密钥"}


def test_two_partners_never_share_a_key_or_a_secret(session, clock):
    first = services.create_partner(
        session,
        code="caac",
        name="民航",
        measures="flight",
        scope="restriction",
        actor=SYSTEM,
        clock=clock,
    )[1]
    second = services.create_partner(
        session,
        code="railway",
        name="铁路",
        measures="soft_sleeper",
        scope="restriction",
        actor=SYSTEM,
        clock=clock,
    )[1]
    assert first.api_key != second.api_key
    assert first.signing_secret != second.signing_secret
    assert services.resolve_key(session, second.api_key).code == "railway"


def test_a_duplicate_partner_code_is_a_conflict_and_changes_nothing(session, clock):
    register_partner(session, clock, "caac", "flight")
    with refused(session, Conflict, "code"):
        services.create_partner(
            session,
            code="caac",
            name="另一个民航",
            measures="flight",
            scope="restriction",
            actor=SYSTEM,
            clock=clock,
        )


def test_invalid_registration_is_refused_with_every_field_and_changes_nothing(session, clock):
    with refused(session, ValidationFailed) as caught:
        services.create_partner(
            session,
            code="CAAC",
            name="",
            measures="flight,warp",
            scope="listing",
            webhook_url="https://u:p@example.cn/",
            actor=SYSTEM,
            clock=clock,
        )
    assert set(caught.value.errors) == {"code", "name", "measures", "webhook_url"}


def test_https_only_mode_refuses_a_plain_http_webhook(session, clock):
    with refused(session, ValidationFailed, "webhook_url"):
        services.create_partner(
            session,
            code="caac",
            name="民航",
            measures="flight",
            scope="restriction",
            webhook_url="http://travelsky.example.cn/hooks",
            require_https=True,
            actor=SYSTEM,
            clock=clock,
        )


def test_an_administrator_of_a_top_level_court_may_manage_partners(session, clock, court):
    partner, credentials = services.create_partner(
        session,
        code="caac",
        name="民航",
        measures="flight",
        scope="restriction",
        actor=court["admin"],
        clock=clock,
    )
    assert services.resolve_key(session, credentials.api_key) is partner
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "partner.created")).one()
    assert (entry.actor_kind, entry.actor_id) == ("staff", court["admin"].user_id)


@pytest.fixture
def non_managers(session, clock, court) -> dict[str, Actor]:
    """Partner ``caac`` registered, and people who may not manage it: the top court's clerk and
    judge, the administrator of a lower court, and a partner itself."""
    partner_id, _key, _secret = register_partner(session, clock, "caac", "flight")
    staff.create_court(
        session,
        code="BJ0106",
        name="北京市海淀区人民法院",
        province="北京",
        parent_code="BJ0105",
        actor=SYSTEM,
        clock=clock,
    )
    admin = staff.create_staff_user(
        session,
        court_code="BJ0106",
        role=Role.ADMIN,
        username="bj0106-admin",
        password="correct horse battery",
        actor=SYSTEM,
        clock=clock,
    )
    return {
        "lower court admin": admin.as_actor(),
        "clerk": court["clerk"],
        "judge": court["judge"],
        "partner": services.partner_actor(session.get(Partner, partner_id), "10.0.0.1"),
    }


MANAGING_ACTS = {
    "create": lambda s, c, a: services.create_partner(
        s, code="bank", name="银行", measures="credit", scope="listing", actor=a, clock=c
    ),
    "update": lambda s, c, a: services.update_partner(
        s,
        "caac",
        name="改名",
        measures="flight",
        scope="restriction",
        webhook_url=None,
        is_active=False,
        actor=a,
        clock=c,
    ),
    "add key": lambda s, c, a: services.add_key(s, "caac", label="新", actor=a, clock=c),
    "revoke key": lambda s, c, a: services.revoke_key(
        s, "caac", s.scalar(select(PartnerKey.id)), actor=a, clock=c
    ),
    "rotate secret": lambda s, c, a: services.rotate_secret(s, "caac", actor=a, clock=c),
    "retry push": lambda s, c, a: services.retry_push_now(s, "caac", actor=a, clock=c),
}


@pytest.mark.parametrize("act", MANAGING_ACTS)
@pytest.mark.parametrize("who", ["lower court admin", "clerk", "judge", "partner"])
def test_only_the_system_and_top_level_court_administrators_manage_partners(
    session, clock, non_managers, act, who
):
    with refused(session, NotAllowed):
        MANAGING_ACTS[act](session, clock, non_managers[who])


def test_updating_a_partner_changes_and_audits_only_what_changed(session, clock):
    register_partner(session, clock, "bank", "credit", "listing")
    partner = services.update_partner(
        session,
        "bank",
        name="某银行",
        measures=["credit", "financing", "flight"],
        scope="both",
        webhook_url="https://bank.example.cn/hook",
        is_active=True,
        actor=SYSTEM,
        clock=clock,
    )
    assert (partner.name, codes_of(partner.measures), partner.scope, partner.webhook_url) == (
        "某银行",
        ["flight", "credit", "financing"],
        Scope.BOTH,
        "https://bank.example.cn/hook",
    )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "partner.updated")).one()
    assert entry.before == {
        "name": "bank 合作单位",
        "measures": ["credit"],
        "scope": "listing",
        "webhook_url": None,
    }
    assert entry.after == {
        "name": "某银行",
        "measures": ["flight", "credit", "financing"],
        "scope": "both",
        "webhook_url": "https://bank.example.cn/hook",
    }
    # the same values again: nothing to record
    services.update_partner(
        session,
        "bank",
        name="某银行",
        measures="credit,financing,flight",
        scope="both",
        webhook_url="https://bank.example.cn/hook",
        is_active=True,
        actor=SYSTEM,
        clock=clock,
    )
    assert audit_actions(session).count("partner.updated") == 1


def test_an_invalid_update_changes_nothing(session, clock):
    register_partner(session, clock, "caac", "flight")
    with refused(session, ValidationFailed) as caught:
        services.update_partner(
            session,
            "caac",
            name="",
            measures="credit_record,nothing",
            scope="restriction",
            webhook_url="mailto:ops@example.cn",
            is_active=False,
            actor=SYSTEM,
            clock=clock,
        )
    assert set(caught.value.errors) == {"name", "measures", "webhook_url"}
    with refused(session, ValidationFailed, "scope"):
        services.update_partner(
            session,
            "caac",
            name="民航",
            measures="flight",
            scope="listing",
            webhook_url=None,
            is_active=True,
            actor=SYSTEM,
            clock=clock,
        )
    with refused(session, NotFound):
        services.update_partner(
            session,
            "nobody",
            name="x",
            measures="flight",
            scope="restriction",
            webhook_url=None,
            is_active=True,
            actor=SYSTEM,
            clock=clock,
        )


def test_several_keys_work_at_once_and_revoking_one_leaves_the_others(session, clock):
    partner_id, first, _ = register_partner(session, clock, "caac", "flight")
    _partner, second = services.add_key(
        session, "caac", label=" 2025 轮换 ", actor=SYSTEM, clock=clock
    )
    _partner, third = services.add_key(session, "caac", actor=SYSTEM, clock=clock)
    keys = [first, second.api_key, third.api_key]
    assert len(set(keys)) == 3
    for key in keys:
        assert services.resolve_key(session, key).id == partner_id
    assert session.get(PartnerKey, second.key_id).label == "2025 轮换"

    revoked = services.revoke_key(session, "caac", second.key_id, actor=SYSTEM, clock=clock)
    assert revoked.revoked_at == clock.now()
    with pytest.raises(NotAuthenticated):
        services.resolve_key(session, second.api_key)
    assert services.resolve_key(session, first).id == partner_id
    assert services.resolve_key(session, third.api_key).id == partner_id
    assert audit_actions(session) == [
        "partner.created",
        "partner.key_added",
        "partner.key_added",
        "partner.key_added",
        "partner.key_revoked",
    ]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.before == {"key_id": second.key_id, "prefix": second.api_key[:10]}

    with refused(session, Conflict):
        services.revoke_key(session, "caac", second.key_id, actor=SYSTEM, clock=clock)
    with refused(session, ValidationFailed, "label"):
        services.add_key(session, "caac", label="长" * 101, actor=SYSTEM, clock=clock)


def test_a_key_of_another_partner_cannot_be_revoked_through_this_one(session, clock):
    register_partner(session, clock, "caac", "flight")
    _id, railway_key, _ = register_partner(session, clock)
    railway_key_id = session.scalar(
        select(PartnerKey.id).where(
            PartnerKey.key_hash == hashlib.sha256(railway_key.encode()).hexdigest()
        )
    )
    with refused(session, NotFound):
        services.revoke_key(session, "caac", railway_key_id, actor=SYSTEM, clock=clock)
    with refused(session, NotFound):
        services.revoke_key(session, "caac", 424242, actor=SYSTEM, clock=clock)
    assert services.resolve_key(session, railway_key).code == "railway"


@pytest.mark.parametrize(
    "key", ["", "   ", "bpk_", "bpk_unknown", "Bearer bpk_x", "not-a-partner-key", "whsec_abc"]
)
def test_unknown_keys_are_not_authenticated(session, clock, key):
    register_partner(session, clock)
    with pytest.raises(NotAuthenticated):
        services.resolve_key(session, key)


def test_a_key_with_a_character_changed_is_not_authenticated(session, clock):
    _id, key, _ = register_partner(session, clock)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(NotAuthenticated):
        services.resolve_key(session, tampered)


def test_a_deactivated_partners_keys_stop_working_until_it_is_reactivated(session, clock):
    _id, first, _ = register_partner(session, clock, "caac", "flight")
    second = services.add_key(session, "caac", actor=SYSTEM, clock=clock)[1].api_key
    update = dict(name="民航", measures="flight", scope="restriction", webhook_url=None)
    services.update_partner(session, "caac", **update, is_active=False, actor=SYSTEM, clock=clock)
    for key in (first, second):
        with pytest.raises(NotAuthenticated):
            services.resolve_key(session, key)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "partner.updated")).one()
    assert entry.before["is_active"] is True and entry.after["is_active"] is False

    services.update_partner(session, "caac", **update, is_active=True, actor=SYSTEM, clock=clock)
    assert services.resolve_key(session, first).code == "caac"


def test_rotating_the_signing_secret_returns_the_new_one_once_and_audits_it(session, clock):
    partner_id, _key, old = register_partner(session, clock, "caac", "flight")
    credentials = services.rotate_secret(session, "caac", actor=SYSTEM, clock=clock)
    new = credentials.signing_secret
    assert credentials.api_key is None
    assert new.startswith("whsec_") and new != old
    partner = session.get(Partner, partner_id)
    assert services.signing_secret(session, partner) == new
    assert not [
        (table, column)
        for table, column, value in stored_texts(session, PARTNER_TABLES)
        if new.removeprefix("whsec_") in value or old.removeprefix("whsec_") in value
    ]
    assert audit_actions(session)[-1] == "partner.secret_rotated"


def test_retrying_the_push_now_clears_the_wait_and_is_audited(session, clock):
    partner_id, _key, _secret = register_partner(
        session, clock, "caac", "flight", webhook_url="https://t.example.cn/h"
    )
    cursor = session.get(PushCursor, partner_id)
    cursor.next_attempt_at = clock.now() + timedelta(hours=5)
    session.commit()
    clock.advance(minutes=1)
    services.retry_push_now(session, "caac", actor=SYSTEM, clock=clock)
    assert session.get(PushCursor, partner_id).next_attempt_at == clock.now()
    assert audit_actions(session)[-1] == "partner.push_retry"


# --------------------------------------------------------------------------------------------------
# Acknowledgements


def test_acks_are_cumulative_and_an_older_ack_changes_nothing(session, clock, court):
    publish_listing(session, clock, court)
    publish_listing(session, clock, court, person(1))
    partner_id, _key, _secret = register_partner(session, clock)
    partner = session.get(Partner, partner_id)
    head = last_seq(session)
    assert head == 6

    clock.advance(minutes=1)
    services.acknowledge(session, partner, 3, ip="10.0.0.9", clock=clock)
    assert (partner.acked_seq, partner.acked_at) == (3, clock.now())
    first_ack_at = clock.now()

    clock.advance(minutes=1)
    before = table_contents(session, PARTNER_TABLES)
    for older in (0, 2, 3):
        assert services.acknowledge(session, partner, older, clock=clock).acked_seq == 3
    assert table_contents(session, PARTNER_TABLES) == before
    assert partner.acked_at == first_ack_at

    services.acknowledge(session, partner, head, ip="10.0.0.9", clock=clock)
    assert session.get(Partner, partner_id).acked_seq == head
    acks = session.scalars(select(PartnerAck).order_by(PartnerAck.id)).all()
    assert [(a.partner_id, a.seq, a.acked_at) for a in acks] == [
        (partner_id, 3, first_ack_at),
        (partner_id, head, clock.now()),
    ]
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "partner.acknowledged")
        .order_by(AuditEntry.seq)
    ).all()
    assert [(e.before, e.after) for e in entries] == [
        ({"acked_seq": 0}, {"acked_seq": 3}),
        ({"acked_seq": 3}, {"acked_seq": head}),
    ]
    assert {(e.actor_kind, e.actor_name, e.actor_id, e.ip) for e in entries} == {
        ("partner", "railway", partner_id, "10.0.0.9")
    }


def test_an_ack_moves_the_push_cursor_past_what_was_pulled(session, clock, court):
    partner_id, _key, _secret = register_partner(
        session, clock, webhook_url="https://railway.example.cn/hook"
    )
    publish_listing(session, clock, court)
    partner = session.get(Partner, partner_id)
    assert session.get(PushCursor, partner_id).pushed_seq == 0
    services.acknowledge(session, partner, 3, clock=clock)
    assert session.get(PushCursor, partner_id).pushed_seq == 3


@pytest.mark.parametrize("seq", [-1, 7, 10**12, True, "3", 2.0, None])
def test_an_ack_that_is_negative_not_an_integer_or_beyond_the_newest_seq_is_refused(
    session, clock, court, seq
):
    publish_listing(session, clock, court)
    publish_listing(session, clock, court, person(1))
    partner_id, _key, _secret = register_partner(session, clock)
    partner = session.get(Partner, partner_id)
    assert last_seq(session) == 6
    with refused(session, ValidationFailed, "seq"):
        services.acknowledge(session, partner, seq, clock=clock)
    assert session.get(Partner, partner_id).acked_seq == 0


def test_an_ack_of_the_newest_seq_is_accepted_even_if_nothing_in_it_was_for_the_partner(
    session, clock, court
):
    partner_id, _key, _secret = register_partner(session, clock, "exit_entry", "exit")
    publish_listing(session, clock, court)
    partner = session.get(Partner, partner_id)
    page = feed.feed_page(session, Subscription.of(partner), after=0, limit=100)
    assert page.items == [] and page.next_after == last_seq(session) == 3
    services.acknowledge(session, partner, page.next_after, clock=clock)
    assert partner.acked_seq == 3


@pytest.mark.postgres
def test_two_acks_in_flight_never_move_the_acknowledgement_back(database, session, clock, court):
    if database.dialect != "postgresql":
        pytest.skip("two requests at once need PostgreSQL (SQLite runs them one after the other)")
    publish_listing(session, clock, court)
    publish_listing(session, clock, court, person(1))
    partner_id, _key, _secret = register_partner(session, clock)
    session.close()
    first, second = database.session(), database.session()
    try:
        # both requests resolved the key (loaded the partner) before either acknowledged
        early, late = first.get(Partner, partner_id), second.get(Partner, partner_id)
        services.acknowledge(first, early, 6, clock=clock)
        services.acknowledge(second, late, 3, clock=clock)
    finally:
        first.close()
        second.close()
    with database.session() as reader:
        assert reader.get(Partner, partner_id).acked_seq == 6
        assert [a.seq for a in reader.scalars(select(PartnerAck).order_by(PartnerAck.id))] == [6]


# --------------------------------------------------------------------------------------------------
# Hits


def hit(session, partner, id_number, measure="flight", *, clock, at=None, **extra):
    return services.report_hit(
        session,
        partner,
        id_number=id_number,
        measure=measure,
        occurred_at=at or clock.now(),
        clock=clock,
        **extra,
    )


@pytest.fixture
def caac(session, clock) -> Partner:
    partner_id, _key, _secret = register_partner(session, clock, "caac", "flight")
    return session.get(Partner, partner_id)


def test_a_hit_on_a_restricted_person_is_recorded_as_in_force(session, clock, court, caac):
    publish_listing(session, clock, court)
    clock.advance(hours=2)
    recorded, created = hit(
        session,
        caac,
        DEBTOR,
        clock=clock,
        at=clock.now() - timedelta(minutes=10),
        detail="  拒绝售票 CA1234 ",
        reference="TKT-1",
    )
    assert created
    row = session.get(Hit, recorded.id)
    consumption = session.scalars(
        select(Restriction).where(Restriction.source_kind == SourceKind.CONSUMPTION_ORDER)
    ).one()
    assert (row.partner_id, row.measure, row.in_force, row.restriction_id) == (
        caac.id,
        "flight",
        True,
        consumption.id,
    )
    assert row.person_masked == DEBTOR[:10] + "****" + DEBTOR[14:]
    assert (row.detail, row.reference, row.reported_at) == ("拒绝售票 CA1234", "TKT-1", clock.now())
    assert not [t for t in stored_texts(session, ("hits",)) if DEBTOR in t[2]]


def test_a_hit_on_a_legal_representative_of_a_listed_organisation_is_in_force(
    session, clock, court, caac
):
    publish_listing(session, clock, court, ORGANISATION)
    recorded, _created = hit(session, caac, REPRESENTATIVE, clock=clock)
    assert recorded.in_force
    assert session.get(Restriction, recorded.restriction_id).role.value == "legal_representative"


def test_a_hit_after_the_lifting_is_recorded_as_not_in_force(session, clock, court, caac):
    listing = publish_listing(session, clock, court)
    pay(session, clock, court, listing.id, "100000.00", full=True)
    clock.advance(days=1)
    late, _ = hit(session, caac, DEBTOR, clock=clock, reference="late")
    assert late.in_force is False
    assert late.restriction_id is not None
    # a hit from before the lifting, reported afterwards, was in force
    early, _ = hit(
        session,
        caac,
        DEBTOR,
        clock=clock,
        at=clock.now() - timedelta(days=1, hours=2),
        reference="early",
    )
    assert early.in_force is True


def test_a_hit_hours_after_the_lifting_on_the_same_day_is_not_in_force(session, clock, court, caac):
    listing = publish_listing(session, clock, court)
    clock.advance(hours=1)  # 11:00: paid in full, the consumption order is lifted
    pay(session, clock, court, listing.id, "100000.00", full=True)
    clock.advance(hours=4)
    recorded, _ = hit(session, caac, DEBTOR, clock=clock, at=clock.now() - timedelta(hours=1))
    assert recorded.in_force is False


def test_a_hit_on_a_person_never_restricted_is_refused(session, clock, court, caac):
    publish_listing(session, clock, court)
    with refused(session, ValidationFailed, "id_number"):
        hit(session, caac, resident_id("19900101", "555"), clock=clock)
    with refused(session, ValidationFailed, "id_number"):
        hit(session, caac, DEBTOR[:-1] + ("0" if DEBTOR[-1] != "0" else "1"), clock=clock)


def test_a_hit_for_a_measure_the_partner_does_not_hold_is_forbidden(session, clock, court, caac):
    publish_listing(session, clock, court)
    with refused(session, NotAllowed):
        hit(session, caac, DEBTOR, "hsr_any_seat", clock=clock)


def test_a_hit_for_an_unknown_measure_is_invalid_input(session, clock, court, caac):
    publish_listing(session, clock, court)
    with refused(session, ValidationFailed, "measure"):
        hit(session, caac, DEBTOR, "flights", clock=clock)


def test_a_hit_reported_twice_with_the_same_reference_is_counted_once(session, clock, court, caac):
    publish_listing(session, clock, court)
    first, created = hit(session, caac, DEBTOR, clock=clock, reference="TKT-9")
    clock.advance(minutes=3)
    again, created_again = hit(session, caac, DEBTOR, clock=clock, reference=" TKT-9 ")
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    other, created_other = hit(session, caac, DEBTOR, clock=clock, reference="TKT-10")
    assert created_other and other.id != first.id
    without_reference = [hit(session, caac, DEBTOR, clock=clock)[0] for _ in range(2)]
    assert without_reference[0].id != without_reference[1].id
    assert session.query(Hit).count() == 4


@pytest.mark.postgres
def test_a_retried_hit_racing_the_first_report_returns_the_first_one(
    database, session, clock, court
):
    if database.dialect != "postgresql":
        pytest.skip("simultaneous reports need PostgreSQL (SQLite runs them one after the other)")
    publish_listing(session, clock, court)
    partner_id, _key, _secret = register_partner(session, clock, "caac", "flight")
    session.close()
    both_looked = threading.Barrier(2, timeout=3)
    outcomes: list[object] = []

    def hold_first_flush(own, _context, _instances):
        if own.info.pop("hold", False):
            with suppress(threading.BrokenBarrierError):
                both_looked.wait()

    def report() -> None:
        own = database.session()
        own.info["hold"] = True
        event.listen(own, "before_flush", hold_first_flush)
        try:
            partner = own.get(Partner, partner_id)
            hit_row, _created = services.report_hit(
                own,
                partner,
                id_number=DEBTOR,
                measure="flight",
                occurred_at=clock.now(),
                reference="TKT-RETRY",
                clock=clock,
            )
            outcomes.append(hit_row.id)
        except Exception as error:
            outcomes.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=report) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    with database.session() as reader:
        assert reader.query(Hit).count() == 1


def test_the_same_reference_from_two_partners_is_two_hits(session, clock, court, caac):
    publish_listing(session, clock, court)
    bank_id, _key, _ = register_partner(session, clock, "bank", "flight,credit", "both")
    bank = session.get(Partner, bank_id)
    a, _ = hit(session, caac, DEBTOR, clock=clock, reference="R1")
    b, created = hit(session, bank, DEBTOR, clock=clock, reference="R1")
    assert created and a.id != b.id


def test_a_hit_in_the_future_or_without_a_time_zone_is_refused(session, clock, court, caac):
    publish_listing(session, clock, court)
    with refused(session, ValidationFailed, "occurred_at"):
        hit(session, caac, DEBTOR, clock=clock, at=clock.now() + timedelta(hours=1))
    with refused(session, ValidationFailed, "occurred_at"):
        hit(session, caac, DEBTOR, clock=clock, at=datetime(2025, 3, 3, 9, 0))
    # a partner's clock a little ahead of ours is tolerated
    recorded, _ = hit(session, caac, DEBTOR, clock=clock, at=clock.now() + timedelta(minutes=4))
    assert recorded.in_force


def test_a_hit_with_too_long_a_detail_or_reference_is_refused(session, clock, court, caac):
    publish_listing(session, clock, court)
    with refused(session, ValidationFailed, "detail"):
        hit(session, caac, DEBTOR, clock=clock, detail="长" * 501)
    with refused(session, ValidationFailed, "reference"):
        hit(session, caac, DEBTOR, clock=clock, reference="r" * 65)


# --------------------------------------------------------------------------------------------------
# Feed


def test_each_partner_receives_only_its_scope_and_its_measures(session, clock, court):
    register_all(session, clock)
    person_listing = publish_listing(session, clock, court)
    org_listing = publish_listing(session, clock, court, ORGANISATION)
    person_pid, org_pid = person_listing.public_id, org_listing.public_id
    consumption = set(CONSUMPTION_MEASURES)

    railway, _ = follow(session, sub_of(session, "railway"))
    # the debtor, the organisation and the four people its listing binds
    assert len(railway) == 6
    for item in railway:
        assert (item["type"], item["action"]) == ("restriction", "upsert")
        assert item["record"]["measures"] == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]
        assert item["record"]["source"]["kind"] == "consumption_order"
        assert set(item["record"]) == {"person", "role", "measures", "since", "source"}
    assert sorted(i["record"]["person"]["id_number"] for i in railway) == sorted(
        [DEBTOR, ORG_CODE, REPRESENTATIVE, PRINCIPAL, RESPONSIBLE, CONTROLLER]
    )
    assert {i["record"]["role"] for i in railway} == {
        "debtor",
        "legal_representative",
        "principal",
        "directly_responsible",
        "actual_controller",
    }

    caac, _ = follow(session, sub_of(session, "caac"))
    assert [i["key"] for i in caac] == [i["key"] for i in railway]
    assert {tuple(i["record"]["measures"]) for i in caac} == {("flight",)}

    credit_ref, _ = follow(session, sub_of(session, "credit_ref"))
    assert [(i["type"], i["key"]) for i in credit_ref] == [
        ("listing", f"listing:{person_pid}"),
        ("listing", f"listing:{org_pid}"),
    ]
    person_record, org_record = (i["record"] for i in credit_ref)
    assert person_record["measures"] == ["credit_record"]
    assert person_record["id_number"] == DEBTOR
    assert org_record["id_number"] == ORG_CODE
    assert org_record["legal_representative"] == {"name": "李四", "id_number": REPRESENTATIVE}
    assert [p["id_number"] for p in org_record["bound_persons"]] == [
        PRINCIPAL,
        RESPONSIBLE,
        CONTROLLER,
    ]

    # the ban on serving as a company officer binds persons only
    market_reg, _ = follow(session, sub_of(session, "market_reg"))
    assert [(i["key"], i["record"]["measures"]) for i in market_reg] == [
        (f"listing:{person_pid}", ["officer_ban"])
    ]

    bank, _ = follow(session, sub_of(session, "bank"))
    bank_types = [(i["type"], tuple(i["record"]["measures"])) for i in bank]
    assert bank_types.count(("restriction", ("flight",))) == 6
    # restriction records of the listings themselves carry credit and financing
    assert bank_types.count(("restriction", ("credit", "financing"))) == 2
    assert bank_types.count(("listing", ("credit", "financing"))) == 2
    assert len(bank) == 10

    exit_entry, _ = follow(session, sub_of(session, "exit_entry"))
    assert exit_entry == []

    for code in PARTNERS:
        items, _ = follow(session, sub_of(session, code))
        text = json.dumps(items, ensure_ascii=False)
        assert "id_cipher" not in text
        sub = sub_of(session, code)
        for item in items:
            assert item["type"] in sub.scope.types
            measures = item["record"]["measures"]
            assert measures and mask_of(measures) & ~sub.measures == 0
            assert set(measures) <= consumption | set(LISTING_MEASURES)


def test_items_are_in_seq_order_with_stable_keys(session, clock, court):
    register_all(session, clock, ("bank",))
    listing = publish_listing(session, clock, court)
    pay(session, clock, court, listing.id, "1000.00")
    items, _ = follow(session, sub_of(session, "bank"))
    seqs = [i["seq"] for i in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    restriction_ids = {
        r.id
        for r in session.scalars(select(Restriction).where(Restriction.listing_id == listing.id))
    }
    assert {i["key"] for i in items} == {f"restriction:{r}" for r in restriction_ids} | {
        f"listing:{listing.public_id}"
    }
    listing_items = [i for i in items if i["type"] == "listing"]
    assert [i["record"]["performance"] for i in listing_items] == ["none", "partial"]
    assert listing_items[-1]["record"]["performed_amount"] == "1000.00"


def test_after_a_removal_the_superseded_upserts_are_left_out(session, clock, court):
    register_all(session, clock, ("railway", "credit_ref"))
    listing = publish_listing(session, clock, court)
    published_at = last_seq(session)
    railway_before, _ = follow(session, sub_of(session, "railway"))
    assert [i["action"] for i in railway_before] == ["upsert"]
    key = railway_before[0]["key"]

    listing_services.delete_listing(
        session, listing.id, "no_assets_after_searches", actor=court["judge"], clock=clock
    )
    for after in (0, published_at):
        railway, _ = follow(session, sub_of(session, "railway"), after=after)
        assert [(i["action"], i["key"], i["record"]) for i in railway] == [("remove", key, None)]
        credit_ref, _ = follow(session, sub_of(session, "credit_ref"), after=after)
        assert [(i["action"], i["key"]) for i in credit_ref] == [
            ("remove", f"listing:{listing.public_id}")
        ]
    # the upserts are still in the log, scrubbed
    scrubbed = session.scalars(
        select(Change).where(Change.action == ChangeAction.UPSERT).order_by(Change.seq)
    ).all()
    assert [c.payload for c in scrubbed] == [None, None, None]


def test_next_after_moves_past_changes_that_hold_nothing_for_the_partner(session, clock, court):
    register_all(session, clock, ("railway",))
    listing = publish_listing(session, clock, court)
    first = feed.feed_page(session, sub_of(session, "railway"), after=0, limit=100)
    assert (len(first.items), first.next_after, first.has_more) == (1, 3, False)
    pay(session, clock, court, listing.id, "500.00")  # a listing upsert only
    assert last_seq(session) == 4
    page = feed.feed_page(session, sub_of(session, "railway"), after=first.next_after, limit=100)
    assert (page.items, page.next_after, page.has_more) == ([], 4, False)
    at_head = feed.feed_page(session, sub_of(session, "railway"), after=4, limit=100)
    assert (at_head.items, at_head.next_after, at_head.has_more) == ([], 4, False)


def test_a_page_stops_at_the_limit_and_the_next_page_goes_on_from_its_last_item(
    session, clock, court
):
    register_all(session, clock, ("bank",))
    busy_history(session, clock, court)
    everything, _ = follow(session, sub_of(session, "bank"))
    assert len(everything) > 10
    paged, pages = follow(session, sub_of(session, "bank"), limit=3)
    assert paged == everything
    for after, page in pages[:-1]:
        assert len(page.items) == 3 and page.has_more
        assert page.next_after == page.items[-1]["seq"]
        assert all(item["seq"] > after for item in page.items)
    assert pages[-1][1].has_more is False
    assert pages[-1][1].next_after == last_seq(session)


def test_the_scan_window_bounds_a_page_and_following_next_after_finds_everything(
    session, clock, court, monkeypatch
):
    register_all(session, clock, ("railway", "credit_ref"))
    busy_history(session, clock, court)
    head = last_seq(session)
    expected = {
        code: follow(session, sub_of(session, code))[0] for code in ("railway", "credit_ref")
    }
    monkeypatch.setattr(feed, "SCAN_WINDOW", 4)
    for code, everything in expected.items():
        items, pages = follow(session, sub_of(session, code), limit=1000)
        assert items == everything
        assert len(pages) == -(-head // 4)
        for after, page in pages:
            assert all(after < item["seq"] <= after + 4 for item in page.items)
            assert page.next_after == min(after + 4, head)
            assert page.has_more is (page.next_after < head)
    # an empty page that still has more: the window held nothing for the partner
    assert any(not page.items and page.has_more for _after, page in pages)


def test_a_cursor_must_be_between_zero_and_the_newest_seq(session, clock, court):
    register_all(session, clock, ("railway",))
    publish_listing(session, clock, court)
    sub = sub_of(session, "railway")
    with pytest.raises(ValidationFailed) as caught:
        feed.feed_page(session, sub, after=-1, limit=10)
    assert "after" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        feed.feed_page(session, sub, after=4, limit=10)
    assert "after" in caught.value.errors
    for limit in (0, -5, 1001):
        with pytest.raises(ValidationFailed) as caught:
            feed.feed_page(session, sub, after=0, limit=limit)
        assert "limit" in caught.value.errors
    assert len(feed.feed_page(session, sub, after=0, limit=1000).items) == 1
    assert feed.feed_page(session, sub, after=3, limit=1).items == []


def test_a_cursor_older_than_the_retention_window_is_gone(database, session, clock, court):
    register_all(session, clock, ("railway",))
    publish_listing(session, clock, court)  # seqs 1-3
    clock.advance(days=40)
    publish_listing(session, clock, court, person(1))  # seqs 4-6
    assert feed.prune(session, before=clock.now() - timedelta(days=30)) == 3
    assert feed.oldest_retained_seq(session) == 4
    sub = sub_of(session, "railway")
    for after in (0, 1, 2):
        with pytest.raises(Gone) as caught:
            feed.check_cursor(session, after, 6)
        assert caught.value.errors == {"after": ["最早可用的 after 为 3"]}
        with pytest.raises(Gone):
            feed.feed_page(session, sub, after=after, limit=100)
    feed.check_cursor(session, 3, 6)
    items = feed.feed_page(session, sub, after=3, limit=100).items
    assert [i["record"]["person"]["name"] for i in items] == ["债务人1"]
    # a snapshot gives a cursor inside the window
    seq, state, _lines = snapshot_of(database, sub)
    assert seq == 6 and len(state) == 2
    assert feed.feed_page(session, sub, after=seq, limit=100).items == []


def test_pruning_always_keeps_the_newest_change(session, clock, court):
    register_all(session, clock, ("railway",))
    publish_listing(session, clock, court)
    clock.advance(days=100)
    assert feed.prune(session, before=clock.now() + timedelta(days=1)) == 2
    assert session.scalars(select(Change.seq)).all() == [3]
    assert last_seq(session) == 3
    with pytest.raises(Gone):
        feed.check_cursor(session, 1, 3)
    feed.check_cursor(session, 2, 3)
    # the next change continues the sequence
    publish_listing(session, clock, court, person(1))
    assert last_seq(session) == 6


def test_pruning_never_leaves_a_hole_that_a_cursor_would_skip(session, clock, court):
    register_all(session, clock, ("railway",))
    clock.advance(days=40)
    publish_listing(session, clock, court)  # seqs 1-3, stamped later
    clock.advance(days=-40)
    publish_listing(session, clock, court, person(1))  # seqs 4-6, stamped earlier
    clock.advance(days=40)
    publish_listing(session, clock, court, person(2))  # seqs 7-9
    feed.prune(session, before=clock.now() - timedelta(days=30))
    sub = sub_of(session, "railway")
    try:
        items, _ = follow(session, sub, after=0)
    except Gone:
        return  # the partner is told to take a snapshot: nothing is missed
    names = [i["record"]["person"]["name"] for i in items]
    assert names == ["张三", "债务人1", "债务人2"]


# --------------------------------------------------------------------------------------------------
# Snapshot


@pytest.mark.parametrize("code", list(PARTNERS))
def test_the_snapshot_equals_the_copy_built_by_replaying_the_feed(
    database, session, clock, court, code
):
    register_all(session, clock, (code,))
    busy_history(session, clock, court)
    sub = sub_of(session, code)
    items, _ = follow(session, sub)
    replayed = replay(items)
    session.rollback()
    seq, snapshot, lines = snapshot_of(database, sub)
    assert seq == last_seq(session)
    assert snapshot == replayed
    if code != "exit_entry":
        assert snapshot, "the history leaves something in force for every partner"
    for line in lines:
        assert set(line) == {"type", "key", "record"}
        assert line["type"] in sub.scope.types
        assert line["record"]["measures"]
        assert mask_of(line["record"]["measures"]) & ~sub.measures == 0


def test_the_snapshot_holds_what_is_in_force_after_the_history(database, session, clock, court):
    register_all(session, clock, ("railway", "credit_ref"))
    ids = busy_history(session, clock, court)
    listings = {name: session.get(Listing, listing_id) for name, listing_id in ids.items()}
    session.rollback()

    _seq, railway, _ = snapshot_of(database, sub_of(session, "railway"))
    session.rollback()
    active = session.scalars(
        select(Restriction).where(
            Restriction.is_active.is_(True),
            Restriction.source_kind == SourceKind.CONSUMPTION_ORDER,
        )
    ).all()
    assert set(railway) == {f"restriction:{r.id}" for r in active}
    by_person = {record["person"]["id_number"]: record for _type, record in railway.values()}
    # the new legal representative replaced the old one; the expired listing's order stays
    assert NEW_REPRESENTATIVE in by_person and REPRESENTATIVE not in by_person
    expiring = resident_id("19810101", f"{2 * 7 + 1:03d}")
    assert by_person[expiring]["source"]["listing_public_id"] == listings["expiring"].public_id
    for gone in (3, 4, 5, 6):  # paid, revoked, deleted, still in its grace period
        assert resident_id("19810101", f"{2 * gone + 1:03d}") not in by_person
    corrected = by_person[resident_id("19810101", "003")]
    assert corrected["source"]["case_number"] == "（2024）京0105执1999号"

    _seq, credit_ref, _ = snapshot_of(database, sub_of(session, "credit_ref"))
    expected = {"plain", "termed", "org", "paid"}
    assert set(credit_ref) == {f"listing:{listings[n].public_id}" for n in expected}
    paid = credit_ref[f"listing:{listings['paid'].public_id}"][1]
    assert (paid["performance"], paid["performed_amount"]) == ("full", "100000.00")
    termed = credit_ref[f"listing:{listings['termed'].public_id}"][1]
    assert termed["extension_years"] == 1 and termed["ends_on"] == "2028-03-03"


@pytest.mark.parametrize("code", ["railway", "credit_ref", "bank"])
def test_a_snapshot_then_the_feed_after_its_seq_gives_the_same_copy_as_the_feed_alone(
    database, session, clock, court, code
):
    register_all(session, clock, (code,))
    first = publish_listing(session, clock, court, person(1)).id
    org = publish_listing(session, clock, court, ORGANISATION).id
    session.rollback()
    seq, copy, _ = snapshot_of(database, sub_of(session, code))
    judge = court["judge"]
    listing_services.revoke_listing(session, first, "错误纳入", actor=judge, clock=clock)
    pay(session, clock, court, org, "500000.00", full=True)
    publish_listing(session, clock, court, person(2))
    sub = sub_of(session, code)
    later, _ = follow(session, sub, after=seq)
    assert later
    assert replay(later, copy) == replay(follow(session, sub)[0])
    session.rollback()
    assert replay(later, copy) == snapshot_of(database, sub)[1]


def test_a_correction_that_takes_a_listing_out_of_a_partners_measures_removes_it_there(
    database, session, clock, court
):
    register_all(session, clock, ("market_reg",))
    listing = publish_listing(session, clock, court, person(1))
    listing_services.edit_listing(
        session,
        listing.id,
        ListingPatch(
            subject=SubjectIn(
                "organisation",
                "北京某某商贸有限公司",
                credit_code=ORG_CODE,
                legal_representative=PersonIn("李四", REPRESENTATIVE),
            ),
            reason="被执行人应为公司，误录为其法定代表人",
        ),
        actor=court["judge"],
        clock=clock,
    )
    sub = sub_of(session, "market_reg")
    replayed = replay(follow(session, sub)[0])
    session.rollback()
    _seq, snapshot, _lines = snapshot_of(database, sub)
    assert snapshot == {}
    assert replayed == snapshot


def test_an_empty_snapshot_has_the_newest_seq(database, session, clock, court):
    register_all(session, clock, ("exit_entry",))
    publish_listing(session, clock, court)
    session.rollback()
    seq, state, lines = snapshot_of(database, sub_of(session, "exit_entry"))
    assert (seq, state, lines) == (3, {}, [])


def commit_when_the_snapshot_reads_records(snap, write, *, entity=None):
    """Run ``write`` (a commit in another session) just before the snapshot session runs its
    first query for records (or its first query of ``entity``): mid-way through the snapshot."""
    calls = {"n": 0, "done": False}

    @event.listens_for(snap, "do_orm_execute")
    def _hook(state):
        calls["n"] += 1
        if calls["done"] or calls["n"] == 1:  # the first query is the snapshot's seq
            return
        if entity is not None and not any(
            d.get("entity") is entity for d in state.statement.column_descriptions
        ):
            return
        calls["done"] = True
        write()

    return calls


def _publish_in_another_session(database, clock, court, n):
    def write():
        other = database.session()
        try:
            publish_listing(other, clock, court, person(n))
        finally:
            other.close()

    return write


@pytest.mark.parametrize(
    ("code", "entity"), [("railway", None), ("credit_ref", None), ("bank", Listing)]
)
def test_the_snapshot_is_one_consistent_read(database, session, clock, court, code, entity):
    """A publication committed while the snapshot is being read is neither in its records nor in
    its seq, and the feed after the seq brings it (SQLite: a deferred WAL read transaction;
    PostgreSQL: REPEATABLE READ)."""
    register_all(session, clock, (code,))
    publish_listing(session, clock, court, person(1))
    sub = sub_of(session, code)
    session.rollback()
    snap = database.snapshot_session()
    try:
        calls = commit_when_the_snapshot_reads_records(
            snap, _publish_in_another_session(database, clock, court, 2), entity=entity
        )
        seq, chunks = feed.snapshot_lines(snap, sub)
        body = b"".join(chunks).decode()
    finally:
        snap.close()
    assert calls["done"], "the concurrent publication ran"
    assert last_seq(session) == seq + 3
    assert "债务人2" not in body and "债务人1" in body
    lines = [json.loads(line) for line in body.splitlines()]
    copy = {line["key"]: (line["type"], line["record"]) for line in lines}
    later, _ = follow(session, sub, after=seq)
    names = {(i["record"].get("name") or i["record"]["person"]["name"]) for i in later}
    assert names == {"债务人2"}
    assert replay(later, copy) == replay(follow(session, sub)[0])


# --------------------------------------------------------------------------------------------------
# Checks


def check(session, code, measure, *numbers):
    return checks.check_people(
        session, sub_of(session, code), measure, [{"id_number": n} for n in numbers]
    )


def test_people_bound_by_an_organisations_listing_are_restricted_with_their_role_and_source(
    session, clock, court
):
    register_all(session, clock, ("caac", "railway"))
    listing = publish_listing(session, clock, court, ORGANISATION)
    order_pid = (
        session.scalars(
            select(Restriction).where(Restriction.source_kind == SourceKind.CONSUMPTION_ORDER)
        )
        .first()
        .order.public_id
    )
    results = check(session, "caac", "flight", REPRESENTATIVE, PRINCIPAL, RESPONSIBLE, CONTROLLER)
    assert [r["id_number"] for r in results] == [
        REPRESENTATIVE,
        PRINCIPAL,
        RESPONSIBLE,
        CONTROLLER,
    ]
    roles = ["legal_representative", "principal", "directly_responsible", "actual_controller"]
    for result, role in zip(results, roles, strict=True):
        assert result["restricted"] is True
        assert result["reasons"] == [
            {
                "role": role,
                "measures": ["flight"],
                "since": "2025-03-03",
                "source": {
                    "kind": "consumption_order",
                    "public_id": order_pid,
                    "listing_public_id": listing.public_id,
                    "court": "BJ0105人民法院",
                    "case_number": "（2024）京0105执2001号",
                },
            }
        ]
    railway = check(session, "railway", "hsr_any_seat", REPRESENTATIVE)
    assert railway[0]["reasons"][0]["measures"] == [
        "soft_sleeper",
        "hsr_any_seat",
        "emu_first_class",
    ]


def test_an_organisation_is_checked_by_its_credit_code(session, clock, court):
    register_all(session, clock, ("procurement",))
    listing = publish_listing(session, clock, court, ORGANISATION)
    [result] = check(session, "procurement", "bidding", ORG_CODE.lower())
    assert result["restricted"] is True
    [reason] = result["reasons"]
    assert (reason["role"], reason["measures"]) == ("debtor", ["procurement", "bidding"])
    assert reason["source"]["kind"] == "listing"
    assert reason["source"]["public_id"] == listing.public_id


def test_a_debtor_who_paid_in_full_may_fly_again(session, clock, court):
    register_all(session, clock, ("caac", "credit_ref"))
    listing = publish_listing(session, clock, court)
    assert check(session, "caac", "flight", DEBTOR)[0]["restricted"] is True
    pay(session, clock, court, listing.id, "100000.00", full=True)
    assert check(session, "caac", "flight", DEBTOR) == [
        {"id_number": DEBTOR, "restricted": False, "reasons": []}
    ]
    # still listed until the deletion is carried out
    assert check(session, "credit_ref", "credit_record", DEBTOR)[0]["restricted"] is True
    clock.set(listing.deletion_due_on)
    assert listing_services.carry_out_due_deletion(
        session, listing.id, actor=Actor.system(), clock=clock
    )
    assert check(session, "credit_ref", "credit_record", DEBTOR)[0]["restricted"] is False


def test_a_revoked_listing_restricts_no_one_and_an_expired_one_keeps_its_order(
    session, clock, court
):
    register_all(session, clock, ("caac",))
    revoked = publish_listing(session, clock, court, ORGANISATION)
    expiring = publish_listing(session, clock, court, person(1, grounds=("obstructs",)))
    listing_services.revoke_listing(
        session, revoked.id, "错误纳入", actor=court["judge"], clock=clock
    )
    clock.set(expiring.ends_on)
    assert listing_services.expire_listing(session, expiring.id, actor=Actor.system(), clock=clock)
    results = check(
        session, "caac", "flight", REPRESENTATIVE, ORG_CODE, resident_id("19810101", "003")
    )
    assert [r["restricted"] for r in results] == [False, False, True]


def test_a_batch_keeps_its_order_and_answers_duplicates_each_time(session, clock, court):
    register_all(session, clock, ("caac",))
    publish_listing(session, clock, court)
    publish_listing(session, clock, court, ORGANISATION)
    stranger = resident_id("19900101", "555")
    asked = [stranger, DEBTOR, REPRESENTATIVE, stranger, DEBTOR, ORG_CODE]
    results = check(session, "caac", "flight", *asked)
    assert [r["id_number"] for r in results] == asked
    assert [r["restricted"] for r in results] == [False, True, True, False, True, True]
    assert results[1] == results[4]
    assert results[0]["reasons"] == []


def test_a_batch_of_1000_is_answered_in_order(session, clock, court):
    register_all(session, clock, ("caac",))
    publish_listing(session, clock, court)
    numbers = [resident_id("19900101", f"{n:03d}") for n in range(1, 1000)]
    asked = [*numbers[:500], DEBTOR, *numbers[500:]]
    results = check(session, "caac", "flight", *asked)
    assert len(results) == 1000
    assert [r["id_number"] for r in results] == asked
    assert [i for i, r in enumerate(results) if r["restricted"]] == [500]


def test_legacy_15_digit_numbers_and_a_lowercase_x_are_normalised(session, clock, court):
    register_all(session, clock, ("caac",))
    with_x = resident_id_ending_in_x("19650315")
    publish_listing(session, clock, court, person(1, id_number=with_x))
    publish_listing(session, clock, court, person(2, id_number=resident_id("19620708", "457")))
    legacy = resident_id("19620708", "457")[:6] + "620708457"
    assert len(legacy) == 15
    results = check(
        session, "caac", "flight", with_x.lower(), legacy, f" {with_x[:6]} {with_x[6:]}"
    )
    assert [r["restricted"] for r in results] == [True, True, True]
    assert results[0]["id_number"] == with_x.lower()


def test_a_malformed_batch_names_every_wrong_entry_at_once(session, clock, court):
    register_all(session, clock, ("caac",))
    publish_listing(session, clock, court)
    people = [
        {"id_number": DEBTOR},
        {"id_number": DEBTOR[:-1] + ("0" if DEBTOR[-1] != "0" else "1")},  # wrong check digit
        {"id_number": DEBTOR},
        {"id_number": "12345"},
        {"id_number": ""},
        {},
    ]
    with pytest.raises(ValidationFailed) as caught:
        checks.check_people(session, sub_of(session, "caac"), "flight", people)
    assert set(caught.value.errors) == {
        "people.1.id_number",
        "people.3.id_number",
        "people.4.id_number",
        "people.5.id_number",
    }
    assert not any(DEBTOR in m for ms in caught.value.errors.values() for m in ms)


def test_a_batch_must_hold_1_to_1000_people(session, clock):
    register_all(session, clock, ("caac",))
    sub = sub_of(session, "caac")
    for people in ([], [{"id_number": DEBTOR}] * 1001):
        with pytest.raises(ValidationFailed) as caught:
            checks.check_people(session, sub, "flight", people)
        assert "people" in caught.value.errors


def test_a_check_of_a_measure_not_held_is_forbidden_and_an_unknown_one_invalid(session, clock):
    register_all(session, clock, ("railway",))
    sub = sub_of(session, "railway")
    with pytest.raises(NotAllowed):
        checks.check_people(session, sub, "flight", [{"id_number": DEBTOR}])
    with pytest.raises(ValidationFailed) as caught:
        checks.check_people(session, sub, "hsr", [{"id_number": DEBTOR}])
    assert "measure" in caught.value.errors


def test_a_checks_reasons_are_cut_to_the_partners_measures(session, clock, court):
    register_all(session, clock, ("bank",))
    publish_listing(session, clock, court)
    [credit] = check(session, "bank", "credit", DEBTOR)
    assert [(r["source"]["kind"], r["measures"]) for r in credit["reasons"]] == [
        ("listing", ["credit", "financing"])
    ]
    [flight] = check(session, "bank", "flight", DEBTOR)
    assert [(r["source"]["kind"], r["measures"]) for r in flight["reasons"]] == [
        ("consumption_order", ["flight"])
    ]


def test_every_restriction_of_a_person_is_a_reason(session, clock, court):
    """The legal representative of two listed organisations, listed in person too."""
    register_all(session, clock, ("caac",))
    publish_listing(session, clock, court, person(1, id_number=REPRESENTATIVE))
    publish_listing(session, clock, court, ORGANISATION)
    second_org = organisation_draft(
        name="北京另一家有限公司",
        code=credit_code("91110105MA0000002"),
        representative=PersonIn("李四", REPRESENTATIVE),
        case_number="(2024)京0105执2002号",
    )
    publish_listing(session, clock, court, second_org)
    [result] = check(session, "caac", "flight", REPRESENTATIVE)
    assert sorted((r["role"], r["source"]["case_number"]) for r in result["reasons"]) == [
        ("debtor", "（2024）京0105执1001号"),
        ("legal_representative", "（2024）京0105执2001号"),
        ("legal_representative", "（2024）京0105执2002号"),
    ]

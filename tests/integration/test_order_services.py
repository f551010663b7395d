"""Standalone consumption orders and exit bans through their services (DOMAIN.md §3): who may issue
and lift them, what they bind, what partners receive through the change log, what the audit log
keeps, and that refused input changes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from blacklist.audit.models import AuditEntry
from blacklist.changelog.models import Change, ChangeAction
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor
from blacklist.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import PersonIn
from blacklist.listing.rules import PersonRole
from blacklist.partners import checks, feed
from blacklist.partners.models import Partner
from blacklist.restrictions import projection, queries, services
from blacklist.restrictions.catalogue import CONSUMPTION_MEASURES, codes_of
from blacklist.restrictions.inputs import OrganisationIn
from blacklist.restrictions.models import OrderKind, OrderStatus, Restriction, SourceKind
from tests.factories import (
    fast_password_hashing,
    organisation_draft,
    publish_listing,
    setup_court,
    stored_texts,
    table_contents,
)
from tests.order_factories import (
    CONTROLLER_ID,
    DEBTOR_ID,
    ORG_CODE,
    REPRESENTATIVE_ID,
    exit_ban_for_representative,
    lifting,
    organisation_order,
    person_order,
)
from tests.partner_factories import register_partner


@pytest.fixture
def court(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_court(session, clock)


@pytest.fixture
def other(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_court(session, clock, "SH0101", province="上海")


def rows(session, order, *, active=True):
    return [
        r
        for r in session.scalars(
            select(Restriction).where(Restriction.order_id == order.id).order_by(Restriction.id)
        )
        if r.is_active is active
    ]


def changes_since(session, seq):
    return session.scalars(select(Change).where(Change.seq > seq).order_by(Change.seq)).all()


# --------------------------------------------------------------------------------------------------
# Issuing


def test_a_judge_issues_a_consumption_order_for_a_person_with_every_measure(session, clock, court):
    before = last_seq(session)
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)

    assert order.kind is OrderKind.CONSUMPTION and order.status is OrderStatus.ACTIVE
    assert order.listing_id is None and order.issued_on == clock.today()
    assert codes_of(order.measures) == list(CONSUMPTION_MEASURES)
    assert order.decision_number == "(2025)京0105执5001号之一"
    [row] = rows(session, order)
    assert (row.source_kind, row.role, row.person_name, row.court_id) == (
        SourceKind.CONSUMPTION_ORDER, PersonRole.DEBTOR, "赵六", order.court_id,
    )  # fmt: skip
    [change] = changes_since(session, before)
    assert change.action is ChangeAction.UPSERT and change.key == row.key
    assert change.payload["source"] == {
        "kind": "consumption_order",
        "public_id": order.public_id,
        "listing_public_id": None,
        "court": "BJ0105人民法院",
        "case_number": "（2024）京0105执5001号",
    }


def test_an_organisations_order_binds_the_organisation_and_each_of_its_people(
    session, clock, court
):
    data = organisation_order(bound_persons=(PersonIn("孙八", CONTROLLER_ID, "actual_controller"),))
    order = services.issue_order(session, data, actor=court["judge"], clock=clock)

    assert sorted((r.role.value, r.person_name, r.person_kind.value) for r in rows(session, order)) == [
        ("actual_controller", "孙八", "person"),
        ("debtor", "北京某某建材有限公司", "organisation"),
        ("legal_representative", "钱七", "person"),
    ]  # fmt: skip


def test_an_exit_ban_binds_only_the_person_in_their_role_with_the_exit_measure(
    session, clock, court
):
    order = services.issue_order(
        session, exit_ban_for_representative(), actor=court["judge"], clock=clock
    )

    assert order.kind is OrderKind.EXIT and codes_of(order.measures) == ["exit"]
    assert (order.person_role, order.organisation_name, order.organisation_code) == (
        PersonRole.LEGAL_REPRESENTATIVE, "北京某某建材有限公司", ORG_CODE,
    )  # fmt: skip
    [row] = rows(session, order)
    assert (row.source_kind, row.role, codes_of(row.measures)) == (
        SourceKind.EXIT_BAN, PersonRole.LEGAL_REPRESENTATIVE, ["exit"],
    )  # fmt: skip


def test_an_exit_ban_on_a_person_without_an_organisation_binds_them_as_the_debtor(
    session, clock, court
):
    order = services.issue_order(
        session, person_order(kind="exit"), actor=court["judge"], clock=clock
    )
    assert [r.role for r in rows(session, order)] == [PersonRole.DEBTOR]


def test_a_consumption_order_may_name_some_measures_only(session, clock, court):
    data = person_order(measures=("flight", "hsr_any_seat"))
    order = services.issue_order(session, data, actor=court["judge"], clock=clock)
    assert codes_of(rows(session, order)[0].measures) == ["flight", "hsr_any_seat"]


def test_issuing_is_audited_with_masked_identifiers_only(session, clock, court):
    order = services.issue_order(session, organisation_order(), actor=court["judge"], clock=clock)
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "restriction_order.issued")
    )
    assert entry.entity_id == str(order.id) and entry.actor_id == court["judge"].user_id
    assert entry.after["subject"]["people"][0]["id"] == (
        REPRESENTATIVE_ID[:10] + "****" + REPRESENTATIVE_ID[14:]
    )
    texts = [t for _, _, t in stored_texts(session, ("audit_entries", "restriction_orders"))]
    assert not any(REPRESENTATIVE_ID in t for t in texts)


def test_a_minor_may_be_consumption_restricted(session, clock, court):
    """Art. 4 forbids *listing* a minor; the 2015 provisions do not bar restricting one."""
    from tests.factories import resident_id

    minor = resident_id("20100101", "111")
    order = services.issue_order(
        session, person_order(id_number=minor), actor=court["judge"], clock=clock
    )
    assert rows(session, order)


# --------------------------------------------------------------------------------------------------
# Refusals: each changes nothing


def refused(session, call, error_type):
    before = table_contents(session)
    with pytest.raises(error_type) as caught:
        call()
    assert table_contents(session) == before
    return caught.value


def test_an_exit_ban_on_an_organisation_itself_is_refused(session, clock, court):
    error = refused(
        session,
        lambda: services.issue_order(
            session,
            replace(organisation_order(), kind="exit"),
            actor=court["judge"],
            clock=clock,
        ),
        ValidationFailed,
    )
    assert "subject.kind" in error.errors
    assert "法定代表人、主要负责人或直接责任人员" in error.errors["subject.kind"][0]


def test_an_exit_ban_with_a_credit_code_as_the_persons_number_is_refused(session, clock, court):
    error = refused(
        session,
        lambda: services.issue_order(
            session,
            person_order(kind="exit", id_number=ORG_CODE),
            actor=court["judge"],
            clock=clock,
        ),
        ValidationFailed,
    )
    assert list(error.errors) == ["subject.kind"]


def test_an_actual_controller_is_not_a_role_for_an_exit_ban(session, clock, court):
    data = exit_ban_for_representative(
        organisation=OrganisationIn("北京某某建材有限公司", ORG_CODE, "actual_controller")
    )
    error = refused(
        session,
        lambda: services.issue_order(session, data, actor=court["judge"], clock=clock),
        ValidationFailed,
    )
    assert "organisation.role" in error.errors


def test_a_clerk_may_not_issue_an_order(session, clock, court):
    refused(
        session,
        lambda: services.issue_order(session, person_order(), actor=court["clerk"], clock=clock),
        NotAllowed,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issued_on": date(2025, 3, 4)}, "issued_on"),
        ({"issued_on": date(2024, 2, 1)}, "issued_on"),
        ({"measures": ()}, "measures"),
        ({"measures": ("flight", "exit")}, "measures"),
        ({"decision_number": " "}, "decision_number"),
        ({"reasons": ""}, "reasons"),
        (
            {"id_number": DEBTOR_ID[:-1] + ("0" if DEBTOR_ID[-1] != "0" else "1")},
            "subject.id_number",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(session, clock, court, changes, field):
    error = refused(
        session,
        lambda: services.issue_order(
            session, person_order(**changes), actor=court["judge"], clock=clock
        ),
        ValidationFailed,
    )
    assert field in error.errors


def test_a_second_active_order_for_the_same_debtor_and_case_names_the_first(session, clock, court):
    first = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    error = refused(
        session,
        lambda: services.issue_order(session, person_order(), actor=court["judge"], clock=clock),
        Conflict,
    )
    assert first.public_id in error.message
    # An exit ban for the same person and case is another kind of order.
    services.issue_order(session, person_order(kind="exit"), actor=court["judge"], clock=clock)
    # Once the first is lifted, a new one may be issued.
    services.lift_order(session, first.public_id, lifting(), actor=court["judge"], clock=clock)
    services.issue_order(session, person_order(), actor=court["judge"], clock=clock)


# --------------------------------------------------------------------------------------------------
# Lifting


def test_lifting_after_performance_removes_every_row_and_tells_partners(session, clock, court):
    order = services.issue_order(session, organisation_order(), actor=court["judge"], clock=clock)
    keys = {r.key for r in rows(session, order)}
    before = last_seq(session)
    clock.advance(days=1)

    services.lift_order(session, order.public_id, lifting(), actor=court["judge"], clock=clock)

    assert order.status is OrderStatus.LIFTED and order.lift_reason == "performed"
    assert order.lifted_on == clock.today() and order.lifted_by_id == court["judge"].user_id
    assert rows(session, order) == []
    lifted = rows(session, order, active=False)
    assert {(r.lift_reason, r.lifted_on) for r in lifted} == {("performed", clock.today())}
    removals = changes_since(session, before)
    assert {c.key for c in removals} == keys
    assert {c.action for c in removals} == {ChangeAction.REMOVE}
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "restriction_order.lifted")
    )
    assert entry.after["ground"] == "performed"


def test_a_discretionary_lifting_needs_the_judges_reasons(session, clock, court):
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    error = refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting("security"), actor=court["judge"], clock=clock
        ),
        ValidationFailed,
    )
    assert "note" in error.errors
    services.lift_order(
        session, order.public_id, lifting("creditor_consent", "申请执行人书面同意解除"),
        actor=court["judge"], clock=clock,
    )  # fmt: skip
    assert order.lift_note == "申请执行人书面同意解除"


def test_an_unknown_ground_is_refused(session, clock, court):
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting("expired"), actor=court["judge"], clock=clock
        ),
        ValidationFailed,
    )


def test_lifting_twice_is_a_conflict_naming_the_date(session, clock, court):
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    services.lift_order(session, order.public_id, lifting(), actor=court["judge"], clock=clock)
    error = refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting(), actor=court["judge"], clock=clock
        ),
        Conflict,
    )
    assert "2025-03-03" in error.message


def test_another_courts_judge_neither_sees_nor_lifts_the_order(session, clock, court, other):
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    with pytest.raises(NotFound):
        services.get_order(session, order.public_id, actor=other["judge"])
    refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting(), actor=other["judge"], clock=clock
        ),
        NotFound,
    )


def test_a_clerk_may_not_lift(session, clock, court):
    order = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting(), actor=court["clerk"], clock=clock
        ),
        NotAllowed,
    )


def test_a_published_listings_order_is_not_lifted_here(session, clock, court):
    listing = publish_listing(session, clock, court)
    order = projection.linked_consumption_order(session, listing.id)
    error = refused(
        session,
        lambda: services.lift_order(
            session, order.public_id, lifting(), actor=court["judge"], clock=clock
        ),
        Conflict,
    )
    assert "名单" in error.message


def test_an_expired_listings_order_awaits_the_judge_who_lifts_it(session, clock, court):
    listing = publish_listing(session, clock, court, organisation_draft())  # two-year term
    order = projection.linked_consumption_order(session, listing.id)
    court_id = listing.court_id
    assert queries.orders_awaiting_decision(session, court_id) == []
    clock.set(listing.ends_on)
    assert listing_services.expire_listing(session, listing.id, actor=Actor.system(), clock=clock)

    assert [o.public_id for o in queries.orders_awaiting_decision(session, court_id)] == [
        order.public_id
    ]
    active = rows(session, order)
    assert len(active) == 2  # the company and its legal representative
    before = last_seq(session)

    services.lift_order(
        session, order.public_id, lifting("security", "被执行人提供房产担保"),
        actor=court["judge"], clock=clock,
    )  # fmt: skip

    assert rows(session, order) == []
    assert {c.key for c in changes_since(session, before)} == {r.key for r in active}
    assert queries.orders_awaiting_decision(session, court_id) == []


def test_sync_order_twice_changes_nothing(session, clock, court):
    order = services.issue_order(session, organisation_order(), actor=court["judge"], clock=clock)
    before = last_seq(session)
    projection.sync_order(session, order, clock=clock)
    assert last_seq(session) == before


def test_sync_order_refuses_a_listings_order(session, clock, court):
    listing = publish_listing(session, clock, court)
    with pytest.raises(ValueError):
        projection.sync_order(
            session, projection.linked_consumption_order(session, listing.id), clock=clock
        )


# --------------------------------------------------------------------------------------------------
# Reading and partners


def test_the_courts_orders_are_listed_with_the_listings_ones_and_filtered(
    session, clock, court, other
):
    listing = publish_listing(session, clock, court)
    standalone = services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    ban = services.issue_order(
        session, exit_ban_for_representative(), actor=court["judge"], clock=clock
    )
    services.issue_order(
        session, person_order(case_number="(2024)沪0101执1号"), actor=other["judge"], clock=clock
    )

    items, total = services.list_orders(session, actor=court["clerk"])
    assert total == 3
    assert {o.listing_id for o in items} == {None, listing.id}
    items, _ = services.list_orders(session, actor=court["clerk"], kind="exit")
    assert [o.public_id for o in items] == [ban.public_id]
    items, _ = services.list_orders(session, actor=court["clerk"], q="赵六")
    assert [o.public_id for o in items] == [standalone.public_id]
    items, _ = services.list_orders(session, actor=court["clerk"], q=REPRESENTATIVE_ID)
    assert [o.public_id for o in items] == [ban.public_id]
    items, _ = services.list_orders(session, actor=court["clerk"], q="执5001号")
    assert [o.public_id for o in items] == [standalone.public_id]
    with pytest.raises(ValidationFailed):
        services.list_orders(session, actor=court["clerk"], status="gone")


def test_partner_checks_and_the_snapshot_name_the_order_and_its_case(
    database, session, clock, court
):
    register_partner(session, clock, code="caac", measures="flight")
    register_partner(session, clock, code="exit_entry", measures="exit")
    order = services.issue_order(session, organisation_order(), actor=court["judge"], clock=clock)
    ban = services.issue_order(
        session, exit_ban_for_representative(), actor=court["judge"], clock=clock
    )
    caac, exit_entry = (
        feed.Subscription.of(p) for p in session.scalars(select(Partner).order_by(Partner.id))
    )

    [result] = checks.check_people(session, caac, "flight", [{"id_number": REPRESENTATIVE_ID}])
    [reason] = result["reasons"]
    assert reason["role"] == "legal_representative"
    assert reason["source"]["public_id"] == order.public_id
    assert reason["source"]["case_number"] == "（2024）京0105执5002号"
    [result] = checks.check_people(session, exit_entry, "exit", [{"id_number": REPRESENTATIVE_ID}])
    assert [r["source"]["kind"] for r in result["reasons"]] == ["exit_ban"]
    session.close()
    with database.snapshot_session() as snap:
        _seq, lines = feed.snapshot_lines(snap, exit_entry)
        records = [json.loads(line) for line in b"".join(lines).decode().splitlines()]
    assert [r["record"]["source"]["public_id"] for r in records] == [ban.public_id]
    assert records[0]["record"]["source"]["case_number"] == "（2024）京0105执5003号"

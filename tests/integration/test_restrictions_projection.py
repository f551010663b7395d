"""The effective-restrictions projection (DOMAIN.md §3, DESIGN.md §5): who may not fly, ride or
spend because of a published listing, kept right by every listing event, and idempotent."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from blacklist.changelog.models import Change
from blacklist.core.actor import Actor
from blacklist.db import vault_of
from blacklist.listing import services
from blacklist.listing.inputs import ListingPatch, PaymentIn, PersonIn
from blacklist.listing.rules import PersonRole
from blacklist.restrictions import projection
from blacklist.restrictions.catalogue import (
    CONSUMPTION_MEASURES,
    LISTING_MEASURES,
    codes_of,
    mask_of,
)
from blacklist.restrictions.models import (
    OrderKind,
    OrderStatus,
    Restriction,
    RestrictionOrder,
    SourceKind,
)
from tests.factories import (
    case_in,
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    row_counts,
    setup_court,
)

REPRESENTATIVE = resident_id("19700505", "235")
PRINCIPAL = resident_id("19750101", "111")
RESPONSIBLE = resident_id("19760101", "113")
CONTROLLER = resident_id("19770101", "115")

ORGANISATION = organisation_draft(
    representative=PersonIn("李四", REPRESENTATIVE),
    bound_persons=(
        PersonIn("王五", PRINCIPAL, "principal"),
        PersonIn("赵六", RESPONSIBLE, "directly_responsible"),
        PersonIn("孙七", CONTROLLER, "actual_controller"),
    ),
)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def court(session, clock):
    return setup_court(session, clock)


def rows_of(session, listing, *, active: bool | None = True) -> list[Restriction]:
    query = select(Restriction).where(Restriction.listing_id == listing.id)
    if active is not None:
        query = query.where(Restriction.is_active.is_(active))
    return list(session.scalars(query.order_by(Restriction.id)))


def summary(rows) -> list[tuple[str, str, str]]:
    return sorted((r.source_kind.value, r.role.value, r.person_name) for r in rows)


def order_of(session, listing) -> RestrictionOrder | None:
    return projection.linked_consumption_order(session, listing.id)


def last_seq(session) -> int:
    return max(session.scalars(select(Change.seq)).all(), default=0)


def sync_twice_changes_nothing(session, clock, listing) -> None:
    before_seq, before_counts = last_seq(session), row_counts(session)
    state = [
        (r.id, r.is_active, r.measures, r.person_name)
        for r in rows_of(session, listing, active=None)
    ]
    for _ in range(2):
        projection.sync(session, listing, order_of(session, listing), clock=clock)
        session.flush()
    assert last_seq(session) == before_seq
    assert row_counts(session) == before_counts
    after = [
        (r.id, r.is_active, r.measures, r.person_name)
        for r in rows_of(session, listing, active=None)
    ]
    assert after == state
    session.rollback()


PERSON_LISTING_MASK = mask_of(LISTING_MEASURES)
ORGANISATION_LISTING_MASK = mask_of(m for m in LISTING_MEASURES if m != "officer_ban")
CONSUMPTION_MASK = mask_of(CONSUMPTION_MEASURES)


def test_publication_restricts_a_person_by_the_listing_and_a_consumption_order(
    session, clock, court
):
    listing = publish_listing(session, clock, court)
    rows = rows_of(session, listing)

    assert summary(rows) == [("consumption_order", "debtor", "张三"), ("listing", "debtor", "张三")]
    by_source = {r.source_kind: r for r in rows}
    assert by_source[SourceKind.LISTING].measures == PERSON_LISTING_MASK
    assert "officer_ban" in codes_of(by_source[SourceKind.LISTING].measures)
    assert by_source[SourceKind.CONSUMPTION_ORDER].measures == CONSUMPTION_MASK
    assert codes_of(CONSUMPTION_MASK) == [
        "flight",
        "soft_sleeper",
        "ship_class2",
        "hsr_any_seat",
        "emu_first_class",
        "star_hotel",
        "real_estate",
        "luxury_office",
        "vehicle",
        "travel",
        "private_school",
        "insurance",
    ]
    order = order_of(session, listing)
    assert (order.kind, order.status, order.issued_on) == (
        OrderKind.CONSUMPTION,
        OrderStatus.ACTIVE,
        clock.today(),
    )
    assert by_source[SourceKind.CONSUMPTION_ORDER].order_id == order.id
    assert {r.since for r in rows} == {clock.today()}
    assert {r.person_hash for r in rows} == {vault_of(session).hash(resident_id())}
    assert {r.person_masked for r in rows} == {listing.subject.id_masked}


def test_publication_of_an_organisation_binds_every_person_it_names(session, clock, court):
    listing = publish_listing(session, clock, court, ORGANISATION)
    rows = rows_of(session, listing)

    assert summary(rows) == [
        ("consumption_order", "actual_controller", "孙七"),
        ("consumption_order", "debtor", "北京某某商贸有限公司"),
        ("consumption_order", "directly_responsible", "赵六"),
        ("consumption_order", "legal_representative", "李四"),
        ("consumption_order", "principal", "王五"),
        ("listing", "debtor", "北京某某商贸有限公司"),
    ]
    vault = vault_of(session)
    people = {r.role: r for r in rows if r.source_kind is SourceKind.CONSUMPTION_ORDER}
    for role, number in (
        (PersonRole.LEGAL_REPRESENTATIVE, REPRESENTATIVE),
        (PersonRole.PRINCIPAL, PRINCIPAL),
        (PersonRole.DIRECTLY_RESPONSIBLE, RESPONSIBLE),
        (PersonRole.ACTUAL_CONTROLLER, CONTROLLER),
    ):
        assert people[role].person_hash == vault.hash(number)
        assert vault.decrypt(people[role].person_cipher) == number
        assert people[role].person_kind.value == "person"
        assert people[role].measures == CONSUMPTION_MASK
    debtor_listing_row = next(r for r in rows if r.source_kind is SourceKind.LISTING)
    assert debtor_listing_row.measures == ORGANISATION_LISTING_MASK
    assert "officer_ban" not in codes_of(debtor_listing_row.measures)
    assert debtor_listing_row.person_kind.value == "organisation"


def test_each_new_restriction_reaches_the_change_log_with_its_record(session, clock, court):
    listing = publish_listing(session, clock, court, ORGANISATION)
    rows = rows_of(session, listing)
    changes = {
        c.key: c for c in session.scalars(select(Change).where(Change.type == "restriction"))
    }

    assert set(changes) == {r.key for r in rows}
    order = order_of(session, listing)
    vault = vault_of(session)
    for row in rows:
        change = changes[row.key]
        assert (change.action.value, change.measures) == ("upsert", row.measures)
        record = change.payload
        assert record["role"] == row.role.value
        assert record["measures"] == codes_of(row.measures)
        assert record["since"] == clock.today().isoformat()
        assert record["person"]["name"] == row.person_name
        assert vault.decrypt(record["person"]["id_cipher"]) == vault.decrypt(row.person_cipher)
        assert record["source"]["kind"] == row.source_kind.value
        expected_source = listing.public_id if row.order_id is None else order.public_id
        assert record["source"]["public_id"] == expected_source
        assert record["source"]["court"] == listing.court.name
        assert record["source"]["case_number"] == "（2024）京0105执2001号"


def test_a_listing_in_its_grace_period_restricts_nobody_until_published(session, clock, court):
    listing = publish_listing(session, clock, court, person_draft(grace_days=60))
    assert rows_of(session, listing, active=None) == []
    assert order_of(session, listing) is None

    clock.set(date(2025, 5, 2))
    services.publish_after_grace(session, listing.id, actor=Actor.system(), clock=clock)
    assert summary(rows_of(session, listing)) == [
        ("consumption_order", "debtor", "张三"),
        ("listing", "debtor", "张三"),
    ]
    assert {r.since for r in rows_of(session, listing)} == {date(2025, 5, 2)}


@pytest.mark.parametrize("how", ["revoked", "deleted"])
def test_revocation_or_deletion_lifts_every_restriction_and_the_order(session, clock, court, how):
    listing = publish_listing(session, clock, court, ORGANISATION)
    before = rows_of(session, listing)
    since = last_seq(session)

    if how == "revoked":
        services.revoke_listing(session, listing.id, "错误纳入", actor=court["judge"], clock=clock)
        reason = "revoked"
    else:
        services.delete_listing(
            session, listing.id, "corrected_conduct", actor=court["judge"], clock=clock
        )
        reason = "corrected_conduct"

    assert rows_of(session, listing) == []
    lifted = rows_of(session, listing, active=False)
    assert [r.id for r in lifted] == [r.id for r in before]
    assert {(r.lifted_on, r.lift_reason) for r in lifted} == {(clock.today(), reason)}
    order = order_of(session, listing)
    assert (order.status, order.lifted_on, order.lift_reason) == (
        OrderStatus.LIFTED,
        clock.today(),
        reason,
    )
    removals = session.scalars(
        select(Change).where(Change.seq > since, Change.type == "restriction")
    ).all()
    assert sorted(c.key for c in removals) == sorted(r.key for r in before)
    assert {c.action.value for c in removals} == {"remove"}
    sync_twice_changes_nothing(session, clock, listing)


def test_full_performance_lifts_the_order_for_every_bound_person_but_not_the_listing(
    session, clock, court
):
    listing = publish_listing(session, clock, court, ORGANISATION)
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("500000.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    assert summary(rows_of(session, listing)) == [("listing", "debtor", "北京某某商贸有限公司")]
    assert {r.lift_reason for r in rows_of(session, listing, active=False)} == {"performed"}
    assert order_of(session, listing).status is OrderStatus.LIFTED
    sync_twice_changes_nothing(session, clock, listing)


def test_expiry_lifts_the_listing_row_and_leaves_the_consumption_order_to_the_judge(
    session, clock, court
):
    listing = publish_listing(session, clock, court, ORGANISATION)  # ground: evades, two years
    clock.set(listing.ends_on)
    assert services.expire_listing(session, listing.id, actor=Actor.system(), clock=clock)

    assert [r.source_kind for r in rows_of(session, listing, active=False)] == [SourceKind.LISTING]
    assert {r.source_kind for r in rows_of(session, listing)} == {SourceKind.CONSUMPTION_ORDER}
    assert len(rows_of(session, listing)) == 5
    assert order_of(session, listing).status is OrderStatus.ACTIVE
    sync_twice_changes_nothing(session, clock, listing)


def test_sync_is_idempotent_on_a_published_listing(session, clock, court):
    listing = publish_listing(session, clock, court, ORGANISATION)
    sync_twice_changes_nothing(session, clock, listing)
    listing = publish_listing(session, clock, court, person_draft(case_number="(2024)京0105执3号"))
    sync_twice_changes_nothing(session, clock, listing)


def test_sync_repairs_a_projection_that_lost_a_row(session, clock, court):
    listing = publish_listing(session, clock, court)
    lost = next(r for r in rows_of(session, listing) if r.source_kind is SourceKind.LISTING)
    lost.is_active = False
    session.flush()
    since = last_seq(session)

    projection.sync(session, listing, order_of(session, listing), clock=clock)

    repaired = [r for r in rows_of(session, listing) if r.source_kind is SourceKind.LISTING]
    assert len(repaired) == 1 and repaired[0].id != lost.id
    new = session.scalars(select(Change).where(Change.seq > since)).all()
    assert [(c.action.value, c.key) for c in new] == [("upsert", repaired[0].key)]
    session.rollback()


def test_a_correction_of_the_grounds_re_sends_the_listing_but_no_restriction(session, clock, court):
    listing = publish_listing(session, clock, court, ORGANISATION)
    before = [(r.id, r.measures, r.person_name) for r in rows_of(session, listing)]
    since = last_seq(session)

    services.edit_listing(
        session,
        listing.id,
        ListingPatch(grounds=("evades", "obstructs"), reason="补充失信情形"),
        actor=court["judge"],
        clock=clock,
    )

    new = session.scalars(select(Change).where(Change.seq > since)).all()
    assert [(c.type.value, c.action.value) for c in new] == [("listing", "upsert")]
    assert new[0].payload["grounds"] == ["evades", "obstructs"]
    assert [(r.id, r.measures, r.person_name) for r in rows_of(session, listing)] == before


def test_correcting_the_debtors_name_re_sends_their_restrictions_under_the_same_keys(
    session, clock, court
):
    from blacklist.listing.inputs import SubjectIn

    listing = publish_listing(session, clock, court)
    rows = rows_of(session, listing)
    since = last_seq(session)

    services.edit_listing(
        session,
        listing.id,
        ListingPatch(subject=SubjectIn("person", "张叁", resident_id()), reason="姓名录入错误"),
        actor=court["clerk"],
        clock=clock,
    )

    assert [r.id for r in rows_of(session, listing)] == [r.id for r in rows]
    assert {r.person_name for r in rows_of(session, listing)} == {"张叁"}
    new = session.scalars(
        select(Change).where(Change.seq > since, Change.type == "restriction")
    ).all()
    assert sorted((c.action.value, c.key) for c in new) == sorted(("upsert", r.key) for r in rows)
    assert {c.payload["person"]["name"] for c in new} == {"张叁"}
    sync_twice_changes_nothing(session, clock, listing)


def test_a_corrected_case_number_reaches_partners_holding_restriction_records(
    session, clock, court
):
    listing = publish_listing(session, clock, court)
    rows = rows_of(session, listing)
    since = last_seq(session)
    right = dataclasses.replace(case_in("(2024)京0105执1234号"), case_number="(2024)京0105执1243号")

    services.edit_listing(
        session,
        listing.id,
        ListingPatch(case=right, reason="执行案号录入错误"),
        actor=court["judge"],
        clock=clock,
    )

    new = session.scalars(select(Change).where(Change.seq > since)).all()
    latest = {c.key: c for c in new}
    listing_key = f"listing:{listing.public_id}"
    assert latest[listing_key].payload["case_number"] == "（2024）京0105执1243号"
    for row in rows:
        assert row.key in latest, f"no new record for {row.source_kind.value} restriction"
        assert latest[row.key].payload["source"]["case_number"] == "（2024）京0105执1243号"

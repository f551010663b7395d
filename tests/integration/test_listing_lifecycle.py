"""The listing lifecycle through the services: draft, submit, approve, perform, delete, revoke,
extend, correct, expire (DOMAIN.md §2), with the restrictions projection and the change log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from blacklist.changelog.models import Change
from blacklist.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from blacklist.listing import services
from blacklist.listing.inputs import ApprovalIn, PaymentIn
from blacklist.listing.rules import ListingStatus
from blacklist.restrictions.models import Restriction
from tests.factories import organisation_draft, person_draft, setup_court


@pytest.fixture
def court(session, clock):
    return setup_court(session, clock)


def publish(session, clock, court, draft=None):
    listing = services.create_draft(
        session, draft or person_draft(), actor=court["clerk"], clock=clock
    )
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    return services.approve_listing(
        session,
        listing.id,
        ApprovalIn("(2025)京0105执恢1号决定书"),
        actor=court["judge"],
        clock=clock,
    )


def test_a_signed_listing_without_grace_period_is_published_with_its_restrictions(
    session, clock, court
):
    listing = publish(session, clock, court)
    assert listing.status is ListingStatus.PUBLISHED
    assert listing.published_on == clock.today()
    assert listing.ends_on is None  # ground 1 alone: no term
    rows = session.scalars(select(Restriction).where(Restriction.is_active)).all()
    assert sorted(r.source_kind.value for r in rows) == ["consumption_order", "listing"]
    changes = session.scalars(select(Change).order_by(Change.seq)).all()
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert {c.type.value for c in changes} == {"listing", "restriction"}


def test_full_payment_lifts_restrictions_and_schedules_deletion(session, clock, court):
    listing = publish(session, clock, court)
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("100000.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    assert listing.deletion_due_on == date(2025, 3, 6)
    active = session.scalars(select(Restriction).where(Restriction.is_active)).all()
    assert [r.source_kind.value for r in active] == ["listing"]


def test_organisation_listing_binds_its_legal_representative(session, clock, court):
    listing = publish(session, clock, court, organisation_draft())
    roles = sorted(
        (r.role.value, r.source_kind.value)
        for r in session.scalars(select(Restriction).where(Restriction.is_active))
    )
    assert roles == [
        ("debtor", "consumption_order"),
        ("debtor", "listing"),
        ("legal_representative", "consumption_order"),
    ]
    services.revoke_listing(session, listing.id, "错误纳入", actor=court["judge"], clock=clock)
    assert not session.scalars(select(Restriction).where(Restriction.is_active)).all()


def test_a_clerk_cannot_approve(session, clock, court):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    with pytest.raises(NotAllowed):
        services.approve_listing(
            session, listing.id, ApprovalIn("x号"), actor=court["clerk"], clock=clock
        )


def test_another_courts_listing_is_not_found(session, clock, court):
    other = setup_court(session, clock, "SH0101", province="上海")
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    with pytest.raises(NotFound):
        services.submit_listing(session, listing.id, actor=other["clerk"], clock=clock)


def test_a_minor_is_refused(session, clock, court):
    from tests.factories import resident_id

    with pytest.raises(ValidationFailed) as error:
        services.create_draft(
            session,
            person_draft(id_number=resident_id("20100101")),
            actor=court["clerk"],
            clock=clock,
        )
    assert "subject.id_number" in error.value.errors


def test_approving_a_removed_listing_is_a_conflict(session, clock, court):
    listing = publish(session, clock, court)
    services.revoke_listing(session, listing.id, "错误纳入", actor=court["judge"], clock=clock)
    with pytest.raises(Conflict):
        services.approve_listing(
            session, listing.id, ApprovalIn("x号"), actor=court["judge"], clock=clock
        )

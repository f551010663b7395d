"""The scheduler's ``deadline_alerts`` for correction requests (Art. 12; DESIGN.md §7): reviews due
within 15 days and carrying out within three working days for the enforcing court, reconsideration
decisions within 15 days for the next higher court; raised when near, critical when overdue,
resolved when done. On the fixed clock of the fixtures, across Spring Festival 2025."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from blacklist.corrections import services
from blacklist.corrections.inputs import (
    DecisionIn,
    ReconsiderationDecisionIn,
    ReconsiderationIn,
)
from blacklist.listing import services as listings
from blacklist.scheduler.jobs import JobContext, run_job
from blacklist.scheduler.models import Alert, AlertSeverity
from tests.correction_factories import DEBTOR_ID, file_request, published, reject, setup_courts
from tests.factories import fast_password_hashing


@pytest.fixture
def courts(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_courts(session, clock)


@pytest.fixture
def run(database, session, clock):
    """Run ``deadline_alerts`` on the test clock with the test's session out of the way; returns
    the open correction alerts by key."""

    def run() -> dict[str, Alert]:
        session.commit()
        try:
            run_job("deadline_alerts", JobContext(database, clock))
        finally:
            session.expire_all()
        kinds = ("correction_review", "correction_carry_out", "reconsideration_due")
        return {
            a.key: a
            for a in session.scalars(
                select(Alert).where(Alert.kind.in_(kinds), Alert.resolved_at.is_(None))
            )
        }

    return run


def test_a_review_is_alerted_three_days_before_and_critical_once_overdue(
    session, clock, courts, run
):
    listing = published(session, clock, courts)
    request = file_request(session, clock, listing)  # Mon 3 March: review due Tue 18 March
    assert run() == {}
    clock.set(date(2025, 3, 15))
    [alert] = run().values()
    assert (alert.key, alert.kind, alert.severity) == (
        f"correction_review:{request.id}", "correction_review", AlertSeverity.WARNING,
    )  # fmt: skip
    assert (alert.court_id, alert.listing_id) == (listing.court_id, None)  # linked by kind
    assert request.reference in alert.message and "2025年03月18日" in alert.message
    assert DEBTOR_ID not in alert.message
    clock.set(date(2025, 3, 19))
    [alert] = run().values()
    assert alert.severity is AlertSeverity.CRITICAL and "已逾期" in alert.message
    reject(session, clock, courts, request)
    assert run() == {}


def test_carrying_out_across_spring_festival_is_alerted_on_the_last_working_day(
    session, clock, courts, run
):
    listing = published(session, clock, courts)
    request = file_request(session, clock, listing)
    judge = courts["enforcing"]["judge"]
    clock.set(date(2025, 1, 24))
    services.decide_request(
        session, request.reference, DecisionIn("accept", "理由成立", "revoke"),
        actor=judge, clock=clock,
    )  # fmt: skip
    assert request.carry_out_due_on == date(2025, 2, 5)
    clock.set(date(2025, 1, 26))  # a working Sunday: Mon 27 Jan and Wed 5 Feb left
    assert run() == {}
    clock.set(date(2025, 1, 27))  # the holiday follows: one working day (Wed 5 Feb) left
    [alert] = run().values()
    assert (alert.kind, alert.severity) == ("correction_carry_out", AlertSeverity.WARNING)
    clock.set(date(2025, 2, 6))
    [alert] = run().values()
    assert alert.severity is AlertSeverity.CRITICAL
    listings.revoke_listing(session, listing.id, "依纠正申请撤销", actor=judge, clock=clock)
    assert run() == {}


def test_a_reconsideration_is_alerted_to_the_higher_court(session, clock, courts, run):
    listing = published(session, clock, courts)
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    services.request_reconsideration(
        session, request.reference, ReconsiderationIn(DEBTOR_ID, "不服"),
        actor=services.public_actor(), clock=clock,
    )  # fmt: skip
    clock.set(date(2025, 3, 17))  # due Tue 18 March
    [alert] = run().values()
    assert alert.kind == "reconsideration_due"
    assert alert.court_id == courts["higher"]["judge"].court_id
    services.decide_reconsideration(
        session, request.reference, ReconsiderationDecisionIn("upheld", "维持原决定"),
        actor=courts["higher"]["judge"], clock=clock,
    )  # fmt: skip
    assert run() == {}

"""Checks and the snapshot also answer for people under a consumption order with no listing
(a standalone 限制消费令, DOMAIN.md §3), issued through the orders' own service."""

from __future__ import annotations

from sqlalchemy import select

from blacklist.partners import checks, feed
from blacklist.partners.models import Partner
from blacklist.restrictions import services as order_services
from tests.factories import fast_password_hashing, resident_id, setup_court
from tests.order_factories import person_order
from tests.partner_factories import register_partner


def test_a_person_under_a_standalone_order_is_checked_and_in_the_snapshot(
    database, session, clock, monkeypatch
):
    fast_password_hashing(monkeypatch)
    court = setup_court(session, clock)
    register_partner(session, clock, code="caac", measures="flight")
    number = resident_id(sequence="777")
    order = order_services.issue_order(
        session, person_order(id_number=number), actor=court["judge"], clock=clock
    )
    sub = feed.Subscription.of(session.scalar(select(Partner)))

    [result] = checks.check_people(session, sub, "flight", [{"id_number": number}])

    assert result["restricted"] is True
    [reason] = result["reasons"]
    assert reason["role"] == "debtor" and reason["measures"] == ["flight"]
    assert reason["source"] == {
        "kind": "consumption_order", "public_id": order.public_id, "listing_public_id": None,
        "court": "BJ0105人民法院", "case_number": "（2024）京0105执5001号",
    }  # fmt: skip
    public_id = order.public_id
    session.close()
    with database.snapshot_session() as snap:
        _seq, lines = feed.snapshot_lines(snap, sub)
        body = b"".join(lines).decode()
    assert number in body and public_id in body

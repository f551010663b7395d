"""Checks and the snapshot also answer for people under a consumption order with no listing
(a standalone 限制消费令, DOMAIN.md §3). Until the orders' own services exist (issue 7), the order
and its projection row are written here directly, as those services will write them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blacklist.partners import checks, feed
from blacklist.partners.models import Partner
from blacklist.restrictions.models import (
    OrderKind,
    OrderStatus,
    Restriction,
    RestrictionOrder,
    SourceKind,
)
from blacklist.restrictions.rules import consumption_order_mask
from blacklist.staff.models import Court
from tests.factories import fast_password_hashing, resident_id, setup_court
from tests.partner_factories import register_partner


def _standalone_order(session, clock, number: str) -> RestrictionOrder:
    vault = session.info["vault"]
    court = session.scalar(select(Court))
    order = RestrictionOrder(
        kind=OrderKind.CONSUMPTION, court_id=court.id, listing_id=None,
        measures=consumption_order_mask(), status=OrderStatus.ACTIVE,
        issued_on=date(2025, 3, 1), created_at=clock.now(),
    )  # fmt: skip
    session.add(order)
    session.flush()
    session.add(
        Restriction(
            source_kind=SourceKind.CONSUMPTION_ORDER, order_id=order.id, listing_id=None,
            court_id=court.id, role="debtor", person_kind="person", person_name="赵六",
            person_name_key="赵六", person_hash=vault.hash(number),
            person_cipher=vault.encrypt(number), person_masked="x", measures=order.measures,
            since=order.issued_on, is_active=True,
        )
    )  # fmt: skip
    session.commit()
    return order


def test_a_person_under_a_standalone_order_is_checked_and_in_the_snapshot(
    database, session, clock, monkeypatch
):
    fast_password_hashing(monkeypatch)
    setup_court(session, clock)
    register_partner(session, clock, code="caac", measures="flight")
    number = resident_id(sequence="777")
    order = _standalone_order(session, clock, number)
    sub = feed.Subscription.of(session.scalar(select(Partner)))

    [result] = checks.check_people(session, sub, "flight", [{"id_number": number}])

    assert result["restricted"] is True
    [reason] = result["reasons"]
    assert reason["role"] == "debtor" and reason["measures"] == ["flight"]
    assert reason["source"] == {
        "kind": "consumption_order", "public_id": order.public_id, "listing_public_id": None,
        "court": "BJ0105人民法院", "case_number": None,
    }  # fmt: skip
    session.close()
    with database.snapshot_session() as snap:
        _seq, lines = feed.snapshot_lines(snap, sub)
        body = b"".join(lines).decode()
    assert number in body and order.public_id in body

"""Pure rules of restrictions (DOMAIN.md §3, SPC provisions on restricting high consumption, 2015)."""

from __future__ import annotations

import itertools

import pytest

from blacklist.listing.rules import ListingStatus, RemovalKind, SubjectKind
from blacklist.restrictions.catalogue import mask_of
from blacklist.restrictions.rules import (
    OrderDecision,
    consumption_order_mask,
    linked_order_decision,
    listing_measures_mask,
)

S = ListingStatus
ISSUE, LIFT, KEEP = OrderDecision.ISSUE, OrderDecision.LIFT, OrderDecision.KEEP

#: (status, removal kind, fully performed, has order, order active) -> decision.
CASES = [
    pytest.param(S.PUBLISHED, None, False, False, False, ISSUE, id="publication-issues-the-order"),
    pytest.param(S.PUBLISHED, None, False, True, True, KEEP, id="published-with-order-keeps"),
    pytest.param(S.PUBLISHED, None, True, True, True, LIFT, id="full-performance-lifts"),
    pytest.param(S.APPROVED, None, True, True, True, LIFT, id="full-performance-in-grace-lifts"),
    pytest.param(
        S.REMOVED, RemovalKind.EXPIRED, True, True, True, LIFT, id="performed-then-expired-lifts"
    ),
    pytest.param(S.PUBLISHED, None, True, False, False, KEEP, id="performed-without-order-keeps"),
    pytest.param(S.PUBLISHED, None, True, True, False, KEEP, id="performed-already-lifted-stays"),
    pytest.param(S.REMOVED, RemovalKind.DELETED, False, True, True, LIFT, id="deletion-lifts"),
    pytest.param(S.REMOVED, RemovalKind.REVOKED, False, True, True, LIFT, id="revocation-lifts"),
    pytest.param(S.REMOVED, RemovalKind.EXPIRED, False, True, True, KEEP, id="expiry-keeps"),
    pytest.param(
        S.REMOVED, RemovalKind.DELETED, False, True, False, KEEP, id="deleted-already-lifted-stays"
    ),
    pytest.param(
        S.PUBLISHED, None, False, True, False, KEEP, id="published-order-lifted-by-judge-stays"
    ),
    pytest.param(
        S.APPROVED, None, False, False, False, KEEP, id="grace-period-without-order-keeps"
    ),
    pytest.param(S.DRAFT, None, False, False, False, KEEP, id="draft-keeps"),
    pytest.param(S.PENDING_APPROVAL, None, False, False, False, KEEP, id="pending-keeps"),
]


@pytest.mark.parametrize(
    ("status", "removal_kind", "fully_performed", "has_order", "order_active", "expected"), CASES
)
def test_the_consumption_order_linked_to_a_listing_follows_the_listing_event(
    status, removal_kind, fully_performed, has_order, order_active, expected
):
    decision = linked_order_decision(
        status=status,
        removal_kind=removal_kind,
        fully_performed=fully_performed,
        has_order=has_order,
        order_active=order_active,
    )
    assert decision is expected


def test_publishing_a_listing_issues_the_mandatory_consumption_order():
    decision = linked_order_decision(
        status=S.PUBLISHED,
        removal_kind=None,
        fully_performed=False,
        has_order=False,
        order_active=False,
    )
    assert decision is OrderDecision.ISSUE


def test_expiry_of_the_term_leaves_an_unperformed_debtors_order_to_the_judge():
    decision = linked_order_decision(
        status=S.REMOVED,
        removal_kind=RemovalKind.EXPIRED,
        fully_performed=False,
        has_order=True,
        order_active=True,
    )
    assert decision is OrderDecision.KEEP


# Every consistent combination (an active order is an order).
COMBINATIONS = [
    (status, kind, performed, has_order, active)
    for status, kind, performed, has_order, active in itertools.product(
        list(ListingStatus), [None, *RemovalKind], [False, True], [False, True], [False, True]
    )
    if has_order or not active
    if (status is S.REMOVED) == (kind is not None)
]


@pytest.mark.parametrize(
    ("status", "removal_kind", "fully_performed", "has_order", "order_active"), COMBINATIONS
)
def test_an_order_is_issued_only_at_publication_and_lifted_only_when_active(
    status, removal_kind, fully_performed, has_order, order_active
):
    decision = linked_order_decision(
        status=status,
        removal_kind=removal_kind,
        fully_performed=fully_performed,
        has_order=has_order,
        order_active=order_active,
    )
    if decision is OrderDecision.ISSUE:
        assert status is S.PUBLISHED
        assert not has_order
        assert not fully_performed
    if decision is OrderDecision.LIFT:
        assert order_active
    if fully_performed and order_active:
        assert decision is OrderDecision.LIFT
    if removal_kind in (RemovalKind.DELETED, RemovalKind.REVOKED) and order_active:
        assert decision is OrderDecision.LIFT


# ================================================================================= masks

CONSUMPTION_2015 = [
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


def test_a_consumption_order_restricts_the_twelve_measures_of_the_2015_provisions():
    assert consumption_order_mask() == mask_of(CONSUMPTION_2015)
    assert consumption_order_mask().bit_count() == 12


def test_a_consumption_order_does_not_bar_exit_or_trigger_listing_sanctions():
    mask = consumption_order_mask()
    for code in ("exit", "credit_record", "procurement", "officer_ban"):
        assert not mask & mask_of([code]), code


def test_a_listed_person_may_not_serve_as_a_company_officer():
    assert listing_measures_mask(SubjectKind.PERSON) & mask_of(["officer_ban"])


def test_the_officer_ban_is_not_applied_to_a_listed_organisation():
    assert not listing_measures_mask(SubjectKind.ORGANISATION) & mask_of(["officer_ban"])


def test_a_listing_of_a_person_or_organisation_triggers_credit_procurement_and_financing_sanctions():
    common = mask_of(["credit_record", "procurement", "bidding", "credit", "financing"])
    assert listing_measures_mask(SubjectKind.ORGANISATION) == common
    assert listing_measures_mask(SubjectKind.PERSON) == common | mask_of(["officer_ban"])


@pytest.mark.parametrize("kind", list(SubjectKind))
def test_listing_measures_are_separate_from_the_consumption_order(kind):
    assert not listing_measures_mask(kind) & consumption_order_mask()

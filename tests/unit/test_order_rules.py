"""Pure rules of standalone consumption orders and exit bans (DOMAIN.md §3; 2015 provisions
Art. 9; Civil Procedure Law Art. 266)."""

from __future__ import annotations

from datetime import date

import pytest

from blacklist.core.actor import Role
from blacklist.core.errors import Conflict, NotAllowed, ValidationFailed
from blacklist.listing.rules import ListingStatus, PersonRole
from blacklist.restrictions import rules
from blacklist.restrictions.catalogue import CONSUMPTION_MEASURES, codes_of

TODAY = date(2025, 3, 3)


def test_full_performance_must_lift_and_security_or_consent_may():
    assert rules.LiftGround.PERFORMED.is_mandatory
    assert not rules.LiftGround.SECURITY.is_mandatory
    assert not rules.LiftGround.CREDITOR_CONSENT.is_mandatory
    assert "应当解除" in rules.LiftGround.PERFORMED.basis
    assert "可以解除" in rules.LiftGround.SECURITY.basis
    assert all("第九条" in g.basis for g in rules.LiftGround)
    assert [g.label for g in rules.lift_ground_choices()] == [
        "被执行人已全部履行生效法律文书确定的义务",
        "被执行人提供确实有效的担保",
        "申请执行人同意解除",
    ]


def test_an_unknown_ground_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValidationFailed) as caught:
        rules.parse_lift_ground("expired")
    assert "申请执行人同意解除" in caught.value.errors["ground"][0]
    assert rules.parse_lift_ground("security") is rules.LiftGround.SECURITY


def test_a_discretionary_lifting_needs_reasons_and_a_mandatory_one_does_not():
    assert rules.check_lift_note(rules.LiftGround.PERFORMED, None) is None
    assert rules.check_lift_note(rules.LiftGround.PERFORMED, "  已付清 ") == "已付清"
    for ground in (rules.LiftGround.SECURITY, rules.LiftGround.CREDITOR_CONSENT):
        with pytest.raises(ValidationFailed) as caught:
            rules.check_lift_note(ground, " ")
        assert "note" in caught.value.errors
    with pytest.raises(ValidationFailed):
        rules.check_lift_note(rules.LiftGround.PERFORMED, "长" * 2001)


def test_an_order_is_lifted_once_and_the_message_names_the_day():
    with pytest.raises(Conflict) as caught:
        rules.check_liftable(status="lifted", lifted_on=TODAY, listing_status=None)
    assert "该限制令已于2025-03-03解除" in caught.value.message
    rules.check_liftable(status="active", lifted_on=None, listing_status=None)


def test_a_listings_order_is_lifted_here_only_once_the_listing_is_removed():
    for status in (ListingStatus.PUBLISHED, ListingStatus.APPROVED):
        with pytest.raises(Conflict):
            rules.check_liftable(status="active", lifted_on=None, listing_status=status)
    rules.check_liftable(status="active", lifted_on=None, listing_status=ListingStatus.REMOVED)


def test_a_consumption_order_restricts_all_measures_unless_some_are_chosen():
    assert codes_of(rules.order_measures_mask("consumption", None)) == list(CONSUMPTION_MEASURES)
    assert codes_of(rules.order_measures_mask("consumption", ["travel", "flight"])) == [
        "flight",
        "travel",
    ]
    for bad in ([], ["exit"], ["officer_ban"], ["flight", "credit"]):
        with pytest.raises(ValidationFailed) as caught:
            rules.order_measures_mask("consumption", bad)
        assert "measures" in caught.value.errors


def test_an_exit_ban_restricts_exactly_the_exit_measure():
    assert codes_of(rules.order_measures_mask("exit", None)) == ["exit"]
    assert codes_of(rules.order_measures_mask("exit", ["exit"])) == ["exit"]
    with pytest.raises(ValidationFailed):
        rules.order_measures_mask("exit", ["flight"])


def test_an_order_is_issued_today_or_earlier_and_not_before_the_case_was_filed():
    rules.check_issued_on(TODAY, TODAY, date(2024, 3, 1))
    rules.check_issued_on(date(2024, 3, 1), TODAY, date(2024, 3, 1))
    with pytest.raises(ValidationFailed, match="晚于今天"):
        rules.check_issued_on(date(2025, 3, 4), TODAY, None)
    with pytest.raises(ValidationFailed, match="早于执行案件立案日期"):
        rules.check_issued_on(date(2024, 2, 29), TODAY, date(2024, 3, 1))


def test_an_exit_ban_binds_natural_persons_only():
    rules.check_exit_ban_subject("person")
    for kind, identifier in (("organisation", None), ("person", "organisation")):
        with pytest.raises(ValidationFailed) as caught:
            rules.check_exit_ban_subject(kind, identifier)
        assert caught.value.errors == {"subject.kind": [rules.EXIT_BAN_ORGANISATION_REFUSED]}


def test_an_exit_ban_for_a_company_names_its_representative_principal_or_responsible_person():
    assert rules.check_exit_ban_role("principal") is PersonRole.PRINCIPAL
    for role in ("actual_controller", "debtor", "", None):
        with pytest.raises(ValidationFailed) as caught:
            rules.check_exit_ban_role(role)
        assert "organisation.role" in caught.value.errors


def test_only_judges_issue_and_lift():
    rules.check_may_decide(Role.JUDGE)
    rules.check_may_decide(None, system=True)
    for role in (Role.CLERK, Role.ADMIN, Role.AUDITOR, None):
        with pytest.raises(NotAllowed):
            rules.check_may_decide(role)


def test_an_unknown_filter_value_is_a_clear_error_on_its_field():
    from blacklist.core.errors import ValidationFailed, parse_choice
    from blacklist.restrictions.models import OrderKind

    assert parse_choice(OrderKind, "exit", "kind", "限制令类型") is OrderKind.EXIT
    with pytest.raises(ValidationFailed) as refused:
        parse_choice(OrderKind, "travel_ban", "kind", "限制令类型")
    assert refused.value.errors == {"kind": ["未知的限制令类型：travel_ban"]}

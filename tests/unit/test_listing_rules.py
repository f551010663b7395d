"""Pure rules of the list (DOMAIN.md §2 and §7, SPC provisions 法释〔2017〕7号): no app, no database.

Expected values are written out from DOMAIN.md, not derived from the module's own tables, so a
changed table makes a test fail.
"""

from __future__ import annotations

import calendar as _calendar
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacklist.core.actor import Role
from blacklist.core.errors import Conflict, NotAllowed, ValidationFailed
from blacklist.core.workdays import WorkdayCalendar, chinesecalendar_calendar, default_calendar
from blacklist.listing.rules import (
    BOUND_ROLES,
    DELETION_REASON_LABELS,
    EXEMPTION_LABELS,
    GROUND_LABELS,
    PERSON_ROLE_LABELS,
    REMOVAL_KIND_LABELS,
    ROLE_NAMES,
    STATUS_LABELS,
    Act,
    DeletionReason,
    Exemptions,
    Ground,
    ListingStatus,
    PerformanceStatus,
    PersonRole,
    RemovalKind,
    add_months,
    add_years,
    age_on,
    allowed_acts,
    case_number_key,
    check_act,
    check_decision_date,
    check_deletion_reason,
    check_exemptions,
    check_extension,
    check_grace_days,
    check_not_minor,
    check_payment,
    check_relisting_bar,
    correction_due_on,
    creditor_application_due_on,
    deletion_due_on,
    deletion_reasons_for,
    expiry_deletion_due_on,
    is_minor,
    listing_ends_on,
    may_role,
    parse_case_number,
    parse_grounds,
    publish_on,
    relisting_barred_until,
    summarize_performance,
    term_years,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

G1 = Ground.REFUSES_WITH_ABILITY
OTHER_GROUNDS = [
    Ground.OBSTRUCTS,
    Ground.EVADES,
    Ground.FALSE_ASSET_REPORT,
    Ground.BREACHES_CONSUMPTION_ORDER,
    Ground.BREACHES_SETTLEMENT,
]
ALL_NO = Exemptions(has_security=False, seized_assets_sufficient=False, later_in_order=False)

# Dates chinesecalendar knows (2004–2026): no Monday–Friday fallback inside this range.
KNOWN_DATES = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 20))


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return default_calendar()


@pytest.fixture(scope="module")
def spare() -> WorkdayCalendar:
    """A calendar of its own, for deadlines in years without data (it records fallbacks)."""
    return chinesecalendar_calendar()


def field_errors(excinfo: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return excinfo.value.errors


# ================================================================================== vocabulary


def test_every_ground_has_a_chinese_label():
    assert set(GROUND_LABELS) == set(Ground)
    for ground in Ground:
        assert CJK.search(ground.label), ground


def test_the_six_grounds_of_article_1_are_the_codes_of_the_domain():
    assert {g.value for g in Ground} == {
        "refuses_with_ability",
        "obstructs",
        "evades",
        "false_asset_report",
        "breaches_consumption_order",
        "breaches_settlement",
    }


def test_every_status_deletion_reason_removal_kind_and_person_role_has_a_chinese_label():
    assert set(STATUS_LABELS) == set(ListingStatus)
    assert set(DELETION_REASON_LABELS) == set(DeletionReason)
    assert set(REMOVAL_KIND_LABELS) == set(RemovalKind)
    assert set(PERSON_ROLE_LABELS) == set(PersonRole)
    labels = (
        [s.label for s in ListingStatus]
        + [r.label for r in DeletionReason]
        + list(REMOVAL_KIND_LABELS.values())
        + [p.label for p in PersonRole]
        + [p.label for p in PerformanceStatus]
    )
    assert all(CJK.search(label) for label in labels)


def test_performance_statuses_read_as_on_the_published_record():
    assert PerformanceStatus.NONE.label == "全部未履行"
    assert PerformanceStatus.PARTIAL.label == "部分未履行"
    assert PerformanceStatus.FULL.label == "全部履行"


def test_every_staff_role_has_a_chinese_name_for_error_messages():
    assert set(ROLE_NAMES) == set(Role)
    assert all(CJK.search(name) for name in ROLE_NAMES.values())


def test_bound_persons_of_an_organisation_are_principal_directly_responsible_and_controller():
    assert set(BOUND_ROLES) == {
        PersonRole.PRINCIPAL,
        PersonRole.DIRECTLY_RESPONSIBLE,
        PersonRole.ACTUAL_CONTROLLER,
    }


# ====================================================================================== grounds


@pytest.mark.parametrize("values", [[], None, ()])
def test_a_listing_without_any_ground_is_refused(values):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_grounds(values)
    assert list(field_errors(excinfo)) == ["grounds"]


def test_an_unknown_ground_is_refused_and_named_in_the_message():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_grounds(["obstructs", "owes_money"])
    assert "owes_money" in field_errors(excinfo)["grounds"][0]


def test_several_grounds_may_be_cited_together():
    assert parse_grounds(["refuses_with_ability", "evades", "obstructs"]) == {
        G1,
        Ground.EVADES,
        Ground.OBSTRUCTS,
    }


def test_a_ground_cited_twice_counts_once():
    assert parse_grounds(["evades", "evades"]) == frozenset({Ground.EVADES})


def test_all_six_grounds_are_accepted_at_once():
    assert parse_grounds([g.value for g in Ground]) == frozenset(Ground)


# ================================================================================== exemptions


@pytest.mark.parametrize("name", ["has_security", "seized_assets_sufficient", "later_in_order"])
def test_a_yes_to_any_exemption_question_blocks_a_ground_1_listing_and_names_the_field(name):
    answers = ALL_NO.as_dict() | {name: True}
    with pytest.raises(ValidationFailed) as excinfo:
        check_exemptions(frozenset({G1}), Exemptions(**answers))
    errors = field_errors(excinfo)
    assert list(errors) == [f"exemptions.{name}"]
    assert EXEMPTION_LABELS[name] in errors[f"exemptions.{name}"][0]
    assert "第三条" in errors[f"exemptions.{name}"][0]


def test_a_ground_1_listing_with_unanswered_exemption_questions_is_refused_for_each_question():
    with pytest.raises(ValidationFailed) as excinfo:
        check_exemptions(frozenset({G1}), Exemptions())
    assert set(field_errors(excinfo)) == {
        "exemptions.has_security",
        "exemptions.seized_assets_sufficient",
        "exemptions.later_in_order",
    }


def test_a_ground_1_listing_with_one_question_left_open_is_refused_on_that_question_only():
    answers = Exemptions(has_security=False, seized_assets_sufficient=False)
    with pytest.raises(ValidationFailed) as excinfo:
        check_exemptions(frozenset({G1}), answers)
    assert list(field_errors(excinfo)) == ["exemptions.later_in_order"]


def test_a_ground_1_listing_with_three_noes_is_accepted():
    check_exemptions(frozenset({G1}), ALL_NO)


@pytest.mark.parametrize("ground", OTHER_GROUNDS)
def test_a_listing_on_another_ground_needs_no_exemption_answers(ground):
    check_exemptions(frozenset({ground}), Exemptions())


def test_a_listing_for_obstruction_is_not_blocked_by_a_yes_to_an_exemption_question():
    check_exemptions(frozenset({Ground.OBSTRUCTS}), Exemptions(has_security=True))


def test_a_listing_citing_ground_1_and_obstruction_with_a_yes_is_refused():
    answers = Exemptions(has_security=False, seized_assets_sufficient=True, later_in_order=False)
    with pytest.raises(ValidationFailed) as excinfo:
        check_exemptions(frozenset({G1, Ground.OBSTRUCTS}), answers)
    assert list(field_errors(excinfo)) == ["exemptions.seized_assets_sufficient"]


# ====================================================================================== minors


def test_a_debtor_aged_17_years_and_364_days_on_the_decision_date_is_a_minor_and_refused():
    born, decided = date(2007, 6, 15), date(2025, 6, 14)
    assert (decided - date(2024, 6, 15)).days == 364
    assert age_on(born, decided) == 17
    assert is_minor(born, decided)
    with pytest.raises(ValidationFailed) as excinfo:
        check_not_minor(born, decided)
    message = field_errors(excinfo)["subject.id_number"][0]
    assert "未满18周岁" in message
    assert "2025-06-14" in message


def test_a_debtor_turning_18_on_the_decision_date_may_be_listed():
    born, decided = date(2007, 6, 15), date(2025, 6, 15)
    assert age_on(born, decided) == 18
    assert not is_minor(born, decided)
    check_not_minor(born, decided)


def test_a_debtor_born_on_29_february_is_still_a_minor_on_28_february_of_the_eighteenth_year():
    born = date(2008, 2, 29)
    assert is_minor(born, date(2026, 2, 28))
    with pytest.raises(ValidationFailed):
        check_not_minor(born, date(2026, 2, 28))


def test_a_debtor_born_on_29_february_is_of_age_on_1_march_of_the_eighteenth_year():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 3, 1)) == 18
    check_not_minor(born, date(2026, 3, 1))


def test_the_minor_error_is_reported_on_the_field_the_caller_names():
    with pytest.raises(ValidationFailed) as excinfo:
        check_not_minor(date(2015, 1, 1), date(2025, 1, 1), field="bound_persons.0.id_number")
    assert list(field_errors(excinfo)) == ["bound_persons.0.id_number"]


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    days=st.integers(0, 40000),
)
def test_age_never_decreases_and_18_is_reached_exactly_on_the_eighteenth_birthday(born, days):
    on = born + timedelta(days=days)
    assert age_on(born, on) >= 0
    assert age_on(born, on + timedelta(days=1)) >= age_on(born, on)
    assert is_minor(born, on) == (on < add_years_or_march(born, 18))


def add_years_or_march(born: date, years: int) -> date:
    """The birthday ``years`` later; for 29 February in a common year, 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


# ======================================================================================== term


def test_a_listing_on_ground_1_alone_has_no_term():
    assert term_years(frozenset({G1})) is None
    assert listing_ends_on(date(2025, 3, 10), frozenset({G1})) is None


@pytest.mark.parametrize("ground", OTHER_GROUNDS)
def test_a_listing_on_any_other_ground_runs_two_years(ground):
    assert term_years(frozenset({ground})) == 2
    assert listing_ends_on(date(2025, 3, 10), frozenset({ground})) == date(2027, 3, 10)


@pytest.mark.parametrize("ground", OTHER_GROUNDS)
def test_a_listing_citing_ground_1_and_another_ground_carries_two_years(ground):
    assert term_years(frozenset({G1, ground})) == 2
    assert listing_ends_on(date(2025, 3, 10), frozenset({G1, ground})) == date(2027, 3, 10)


def test_a_term_without_grounds_is_a_programming_error():
    with pytest.raises(ValueError):
        term_years(frozenset())


def test_a_listing_decided_on_29_february_2024_ends_on_28_february_2026():
    assert listing_ends_on(date(2024, 2, 29), frozenset({Ground.EVADES})) == date(2026, 2, 28)


def test_a_listing_decided_on_29_february_2024_extended_by_two_years_ends_on_29_february_2028():
    ends = listing_ends_on(date(2024, 2, 29), frozenset({Ground.EVADES}), extension_years=2)
    assert ends == date(2028, 2, 29)


def test_an_extension_of_three_years_makes_the_term_five_years():
    ends = listing_ends_on(date(2025, 3, 10), frozenset({Ground.OBSTRUCTS}), extension_years=3)
    assert ends == date(2030, 3, 10)


@pytest.mark.parametrize("years", [1, 2, 3])
def test_a_termed_listing_may_be_extended_by_one_to_three_years(years):
    check_extension(frozenset({Ground.OBSTRUCTS}), 0, years)


@pytest.mark.parametrize("years", [0, 4, -1])
def test_an_extension_outside_one_to_three_years_is_refused(years):
    with pytest.raises(ValidationFailed) as excinfo:
        check_extension(frozenset({Ground.OBSTRUCTS}), 0, years)
    assert "1至3年" in field_errors(excinfo)["years"][0]


def test_a_second_extension_reaching_five_years_in_total_is_accepted():
    check_extension(frozenset({Ground.OBSTRUCTS}), 1, 2)
    check_extension(frozenset({Ground.OBSTRUCTS}), 2, 1)


@pytest.mark.parametrize(
    ("current", "years", "left"),
    [(2, 2, 1), (1, 3, 2), (2, 3, 1), (3, 1, 0)],
)
def test_a_second_extension_beyond_five_years_is_refused_with_the_years_left(current, years, left):
    with pytest.raises(ValidationFailed) as excinfo:
        check_extension(frozenset({Ground.OBSTRUCTS}), current, years)
    message = field_errors(excinfo)["years"][0]
    assert "5年" in message
    assert f"最多还可延长{left}年" in message


def test_extending_a_listing_on_ground_1_alone_is_a_conflict():
    with pytest.raises(Conflict):
        check_extension(frozenset({G1}), 0, 1)


def test_a_listing_on_ground_1_and_evasion_may_be_extended():
    check_extension(frozenset({G1, Ground.EVADES}), 0, 3)


@given(current=st.integers(0, 3), years=st.integers(-5, 10))
def test_an_extension_is_accepted_exactly_when_it_is_one_to_three_years_and_five_in_total(
    current, years
):
    ok = 1 <= years <= 3 and 2 + current + years <= 5
    try:
        check_extension(frozenset({Ground.EVADES}), current, years)
    except ValidationFailed:
        assert not ok
    else:
        assert ok


# ================================================================================ grace period


@pytest.mark.parametrize("days", [0, 30, 31, 45, 60, 89, 90])
def test_no_grace_period_or_one_of_thirty_to_ninety_days_is_accepted(days):
    check_grace_days(days)


@pytest.mark.parametrize("days", [1, 29, 91, 180, -30])
def test_a_grace_period_shorter_than_a_month_or_longer_than_three_months_is_refused(days):
    with pytest.raises(ValidationFailed) as excinfo:
        check_grace_days(days)
    assert list(field_errors(excinfo)) == ["grace_days"]


def test_a_listing_without_grace_period_is_published_on_the_decision_date():
    assert publish_on(date(2025, 3, 10), 0) == date(2025, 3, 10)


def test_a_listing_with_a_thirty_day_grace_period_is_published_thirty_days_after_the_decision():
    assert publish_on(date(2025, 3, 10), 30) == date(2025, 4, 9)
    assert publish_on(date(2025, 12, 15), 90) == date(2026, 3, 15)


# =============================================================================== decision date


def test_a_decision_dated_today_after_the_filing_is_accepted():
    check_decision_date(date(2025, 3, 10), date(2025, 3, 10), date(2025, 1, 2))


def test_a_decision_dated_on_the_filing_day_is_accepted():
    check_decision_date(date(2025, 1, 2), date(2025, 3, 10), date(2025, 1, 2))


def test_a_decision_without_a_known_filing_date_is_checked_against_today_only():
    check_decision_date(date(2020, 1, 2), date(2025, 3, 10), None)


def test_a_decision_dated_in_the_future_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        check_decision_date(date(2025, 3, 11), date(2025, 3, 10), None)
    assert list(field_errors(excinfo)) == ["decided_on"]


def test_a_decision_dated_before_the_enforcement_case_was_filed_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        check_decision_date(date(2025, 1, 1), date(2025, 3, 10), date(2025, 1, 2))
    assert "立案" in field_errors(excinfo)["decided_on"][0]


# ============================================================================= deletion reasons

ARTICLE_10_REASONS = [
    "performed",
    "settlement_performed",
    "creditor_request",
    "no_assets_after_searches",
    "suspended",
    "not_enforced",
    "terminated",
]
TERMED_EARLY_REASONS = ["performed", "settlement_performed", "corrected_conduct"]


@pytest.mark.parametrize("reason", ARTICLE_10_REASONS)
def test_a_listing_without_a_term_may_be_deleted_for_each_article_10_reason(reason):
    assert check_deletion_reason(reason, has_term=False) is DeletionReason(reason)


@pytest.mark.parametrize("reason", ["corrected_conduct", "expired"])
def test_a_listing_without_a_term_may_not_be_deleted_for_corrected_conduct_or_expiry(reason):
    with pytest.raises(ValidationFailed) as excinfo:
        check_deletion_reason(reason, has_term=False)
    message = field_errors(excinfo)["reason"][0]
    assert "无固定期限" in message
    assert DeletionReason.PERFORMED.label in message


@pytest.mark.parametrize("reason", TERMED_EARLY_REASONS)
def test_a_termed_listing_may_be_deleted_early_when_the_debtor_performs_or_corrects(reason):
    assert check_deletion_reason(reason, has_term=True) is DeletionReason(reason)


@pytest.mark.parametrize(
    "reason",
    [
        "creditor_request",
        "no_assets_after_searches",
        "suspended",
        "not_enforced",
        "terminated",
        "expired",
    ],
)
def test_a_termed_listing_may_not_be_deleted_by_staff_for_other_reasons(reason):
    with pytest.raises(ValidationFailed) as excinfo:
        check_deletion_reason(reason, has_term=True)
    assert "有期限" in field_errors(excinfo)["reason"][0]


@pytest.mark.parametrize("has_term", [True, False])
def test_an_unknown_deletion_reason_is_refused(has_term):
    with pytest.raises(ValidationFailed) as excinfo:
        check_deletion_reason("paid_in_cash", has_term=has_term)
    assert "paid_in_cash" in field_errors(excinfo)["reason"][0]


def test_the_deletion_reasons_offered_depend_on_whether_the_listing_has_a_term():
    assert [r.value for r in deletion_reasons_for(False)] == ARTICLE_10_REASONS
    assert [r.value for r in deletion_reasons_for(True)] == TERMED_EARLY_REASONS


# ================================================================== deadlines in working days


def test_debt_paid_on_the_monday_before_spring_festival_2025_is_deleted_by_friday_the_seventh(cal):
    assert deletion_due_on(cal, date(2025, 1, 27)) == date(2025, 2, 7)


def test_a_trigger_on_friday_24_january_2025_counts_the_working_sunday_and_is_due_on_5_february(
    cal,
):
    assert deletion_due_on(cal, date(2025, 1, 24)) == date(2025, 2, 5)


def test_a_deletion_triggered_on_an_ordinary_monday_is_due_on_thursday(cal):
    assert deletion_due_on(cal, date(2025, 3, 10)) == date(2025, 3, 13)


def test_a_term_ending_on_30_september_2025_is_deleted_by_the_working_saturday_11_october(cal):
    # 1–8 October 2025 are off; Saturday 11 October is a make-up working day.
    assert expiry_deletion_due_on(cal, date(2025, 9, 30)) == date(2025, 10, 11)


def test_a_term_ending_on_an_ordinary_friday_is_deleted_by_the_next_wednesday(cal):
    assert expiry_deletion_due_on(cal, date(2025, 3, 7)) == date(2025, 3, 12)


def test_an_error_found_on_friday_26_september_2025_is_corrected_by_tuesday_30_september(cal):
    # Sunday 28 September 2025 is a make-up working day.
    assert correction_due_on(cal, date(2025, 9, 26)) == date(2025, 9, 30)


def test_an_error_found_on_an_ordinary_friday_is_corrected_by_wednesday(cal):
    assert correction_due_on(cal, date(2025, 3, 7)) == date(2025, 3, 12)


def test_a_creditor_application_whose_fifteen_days_end_on_national_day_is_due_on_9_october(cal):
    assert date(2025, 9, 16) + timedelta(days=15) == date(2025, 10, 1)
    assert creditor_application_due_on(cal, date(2025, 9, 16)) == date(2025, 10, 9)


def test_a_creditor_application_whose_fifteen_days_end_on_a_weekday_is_due_that_day(cal):
    assert creditor_application_due_on(cal, date(2025, 3, 3)) == date(2025, 3, 18)


def test_a_creditor_application_whose_fifteen_days_end_on_a_saturday_is_due_on_monday(cal):
    assert creditor_application_due_on(cal, date(2025, 3, 7)) == date(2025, 3, 24)


def test_a_creditor_application_whose_fifteen_days_end_on_a_working_sunday_is_due_that_sunday(cal):
    assert creditor_application_due_on(cal, date(2025, 9, 13)) == date(2025, 9, 28)


def test_a_deletion_deadline_running_into_2027_falls_back_to_monday_to_friday_without_crashing():
    fresh = chinesecalendar_calendar()
    assert not fresh.knows_year(2027)
    # Thu 31 Dec 2026 (official), Fri 1 Jan 2027 and Mon 4 Jan 2027 (Monday–Friday fallback).
    assert deletion_due_on(fresh, date(2026, 12, 30)) == date(2027, 1, 4)
    assert fresh.fallback_years == {2027}


def test_a_creditor_application_deadline_ending_on_a_saturday_in_2027_moves_to_monday():
    fresh = chinesecalendar_calendar()
    assert creditor_application_due_on(fresh, date(2026, 12, 18)) == date(2027, 1, 4)
    assert fresh.fallback_years == {2027}


@given(triggered_on=KNOWN_DATES)
def test_a_deletion_is_always_due_on_a_working_day_three_working_days_after_the_trigger(
    triggered_on,
):
    cal = default_calendar()
    due = deletion_due_on(cal, triggered_on)
    assert due > triggered_on
    assert cal.is_workday(due)
    assert cal.workdays_between(triggered_on, due) == 3
    assert cal.workdays_between(triggered_on, due - timedelta(days=1)) == 2


@given(day=KNOWN_DATES)
def test_expiry_and_correction_deadlines_are_working_days_strictly_after_the_day(day):
    cal = default_calendar()
    for due in (expiry_deletion_due_on(cal, day), correction_due_on(cal, day)):
        assert due > day
        assert cal.is_workday(due)
        assert cal.workdays_between(day, due) == 3


@given(applied_on=KNOWN_DATES)
def test_a_creditor_application_is_due_on_the_first_working_day_from_the_fifteenth_day(
    applied_on,
):
    cal = default_calendar()
    due = creditor_application_due_on(cal, applied_on)
    fifteenth = applied_on + timedelta(days=15)
    assert due >= fifteenth
    assert cal.is_workday(due)
    rest = [fifteenth + timedelta(days=i) for i in range((due - fifteenth).days)]
    assert not any(cal.is_workday(d) for d in rest)


@given(triggered_on=st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 20)))
def test_a_deletion_deadline_never_crashes_whatever_the_year(spare, triggered_on):
    due = deletion_due_on(spare, triggered_on)
    assert due > triggered_on
    assert spare.is_workday(due)
    assert spare.workdays_between(triggered_on, due) == 3


# ===================================================================== creditor re-listing bar


def test_a_deletion_at_the_creditors_request_on_31_august_2025_bars_relisting_through_28_february():
    assert relisting_barred_until(date(2025, 8, 31)) == date(2026, 2, 28)


def test_the_creditors_application_the_day_before_the_bar_ends_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        check_relisting_bar([date(2025, 8, 31)], date(2026, 2, 27))
    message = field_errors(excinfo)["application.by_creditor"][0]
    assert "2025-08-31" in message
    assert "2026-02-28" in message


def test_the_creditors_application_on_the_last_day_of_the_bar_is_refused():
    """Civil Code Art. 202: with no corresponding day in February, the month's last day is the
    period's last day, so 28 February is still inside the bar."""
    with pytest.raises(ValidationFailed):
        check_relisting_bar([date(2025, 8, 31)], date(2026, 2, 28))


def test_the_creditors_application_the_day_after_the_bar_ends_is_allowed():
    check_relisting_bar([date(2025, 8, 31)], date(2026, 3, 1))


def test_the_creditors_application_the_day_after_the_deletion_is_refused():
    with pytest.raises(ValidationFailed):
        check_relisting_bar([date(2025, 8, 31)], date(2025, 9, 1))


def test_a_creditor_who_never_asked_for_a_deletion_may_apply():
    check_relisting_bar([], date(2025, 9, 1))


def test_with_several_deletions_the_most_recent_one_still_bars_the_application():
    deletions = [date(2024, 1, 10), date(2025, 8, 31)]
    with pytest.raises(ValidationFailed):
        check_relisting_bar(deletions, date(2025, 12, 1))
    check_relisting_bar(deletions, date(2026, 3, 1))


def test_with_several_old_deletions_the_application_is_allowed():
    check_relisting_bar([date(2023, 5, 1), date(2024, 1, 10)], date(2025, 12, 1))


def test_with_two_barring_deletions_the_refusal_names_the_date_the_later_bar_ends():
    with pytest.raises(ValidationFailed) as excinfo:
        check_relisting_bar([date(2025, 7, 1), date(2025, 8, 31)], date(2025, 12, 1))
    assert "2026-02-28" in field_errors(excinfo)["application.by_creditor"][0]


# ======================================================================= add_months / add_years


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2025, 7, 15), 0, date(2025, 7, 15)),
        (date(2025, 7, 31), 12, date(2026, 7, 31)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    months=st.integers(-1200, 1200),
)
def test_add_months_never_raises_and_clamps_to_the_last_day_of_the_month(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    last = _calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 2, date(2026, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
        (date(2025, 2, 28), 1, date(2026, 2, 28)),
        (date(2025, 3, 10), 2, date(2027, 3, 10)),
    ],
)
def test_add_years_keeps_the_day_and_turns_29_february_into_28_february(day, years, expected):
    assert add_years(day, years) == expected


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    years=st.integers(-100, 100),
)
def test_add_years_never_raises_and_moves_only_29_february(day, years):
    result = add_years(day, years)
    assert result.year == day.year + years
    assert result.month == day.month
    if (day.month, day.day) == (2, 29) and not _calendar.isleap(result.year):
        assert result.day == 28
    else:
        assert result.day == day.day


# ========================================================================= allowed transitions

CLERK_ACTS = {Act.EDIT, Act.CORRECT, Act.SUBMIT, Act.RECORD_PERFORMANCE}
#: Who may do what (DOMAIN.md §1, Art. 5, Art. 13): a judge signs, deletes, revokes and extends;
#: a clerk drafts, submits, corrects and records payments; administrators and auditors do neither.
ROLE_ACTS: dict[Role | None, set[Act]] = {
    Role.CLERK: CLERK_ACTS,
    Role.JUDGE: set(Act),
    Role.ADMIN: set(),
    Role.AUDITOR: set(),
    None: set(),
}
S = ListingStatus
#: From which status each act may be taken.
ACT_STATUSES: dict[Act, set[ListingStatus]] = {
    Act.EDIT: {S.DRAFT},
    Act.SUBMIT: {S.DRAFT},
    Act.APPROVE: {S.PENDING_APPROVAL},
    Act.REJECT: {S.PENDING_APPROVAL},
    Act.CORRECT: {S.APPROVED, S.PUBLISHED},
    Act.RECORD_PERFORMANCE: {S.APPROVED, S.PUBLISHED},
    Act.DELETE: {S.APPROVED, S.PUBLISHED},
    Act.REVOKE: {S.APPROVED, S.PUBLISHED},
    Act.EXTEND: {S.PUBLISHED},
}
ROLES: list[Role | None] = [*Role, None]
TABLE = [(act, status, role) for act in Act for status in ListingStatus for role in ROLES]


def test_the_transition_table_covers_every_act():
    assert set(ACT_STATUSES) == set(Act)


@pytest.mark.parametrize(("act", "status", "role"), TABLE)
def test_check_act_refuses_the_wrong_role_then_the_wrong_status_and_passes_otherwise(
    act, status, role
):
    if act not in ROLE_ACTS[role]:
        with pytest.raises(NotAllowed) as excinfo:
            check_act(act, status, role)
        assert "执行法官" in excinfo.value.message
    elif status not in ACT_STATUSES[act]:
        with pytest.raises(Conflict) as excinfo:
            check_act(act, status, role)
        assert status.label in excinfo.value.message
    else:
        check_act(act, status, role)
    assert may_role(act, role) == (act in ROLE_ACTS[role])


@pytest.mark.parametrize(("act", "status", "role"), TABLE)
def test_the_system_actor_passes_the_role_check_but_not_the_status_check(act, status, role):
    if status in ACT_STATUSES[act]:
        check_act(act, status, role, system=True)
    else:
        with pytest.raises(Conflict):
            check_act(act, status, role, system=True)


def test_approving_a_removed_listing_is_a_conflict():
    with pytest.raises(Conflict) as excinfo:
        check_act(Act.APPROVE, ListingStatus.REMOVED, Role.JUDGE)
    assert "已移除" in excinfo.value.message
    assert "签发" in excinfo.value.message


def test_recording_a_payment_on_a_draft_is_a_conflict():
    with pytest.raises(Conflict) as excinfo:
        check_act(Act.RECORD_PERFORMANCE, ListingStatus.DRAFT, Role.CLERK)
    assert "草稿" in excinfo.value.message


def test_a_clerk_may_not_sign_a_listing_decision():
    with pytest.raises(NotAllowed) as excinfo:
        check_act(Act.APPROVE, ListingStatus.PENDING_APPROVAL, Role.CLERK)
    assert excinfo.value.status == 403
    assert "签发" in excinfo.value.message


@pytest.mark.parametrize("status", list(ListingStatus))
@pytest.mark.parametrize("role", ROLES)
def test_allowed_acts_are_the_acts_check_act_lets_through(status, role):
    expected = [a for a in Act if a in ROLE_ACTS[role] and status in ACT_STATUSES[a]]
    assert allowed_acts(status, role, has_term=True) == expected
    assert allowed_acts(status, role, has_term=False) == [a for a in expected if a != Act.EXTEND]


def test_a_judge_sees_extend_on_a_published_termed_listing_but_not_on_an_untermed_one():
    assert Act.EXTEND in allowed_acts(ListingStatus.PUBLISHED, Role.JUDGE, has_term=True)
    assert Act.EXTEND not in allowed_acts(ListingStatus.PUBLISHED, Role.JUDGE, has_term=False)
    assert Act.DELETE in allowed_acts(ListingStatus.PUBLISHED, Role.JUDGE, has_term=False)


# ===================================================================== performance summary

D = Decimal


def test_a_listing_without_payments_is_wholly_unperformed():
    summary = summarize_performance(D("1000"), [])
    assert summary.status is PerformanceStatus.NONE
    assert summary.performed_amount == D("0.00")
    assert summary.unperformed_amount == D("1000.00")


def test_a_payment_short_of_the_amount_due_is_partial_performance():
    summary = summarize_performance(D("1000.00"), [(D("300"), False)])
    assert summary.status is PerformanceStatus.PARTIAL
    assert summary.performed_amount == D("300.00")
    assert summary.unperformed_amount == D("700.00")


def test_payments_covering_the_amount_due_are_full_performance():
    summary = summarize_performance(D("1000.00"), [(D("600"), False), (D("400"), False)])
    assert summary.status is PerformanceStatus.FULL
    assert summary.performed_amount == D("1000.00")
    assert summary.unperformed_amount == D("0.00")


def test_an_overpayment_leaves_nothing_unperformed_never_a_negative_amount():
    summary = summarize_performance(D("1000.00"), [(D("1200"), False)])
    assert summary.status is PerformanceStatus.FULL
    assert summary.unperformed_amount == D("0.00")


def test_a_court_declaration_of_full_performance_is_full_whatever_was_paid():
    summary = summarize_performance(D("1000.00"), [(D("200"), True)])
    assert summary.status is PerformanceStatus.FULL
    assert summary.performed_amount == D("200.00")
    assert summary.unperformed_amount == D("0.00")


def test_a_non_monetary_obligation_declared_performed_is_full_with_no_unperformed_amount():
    summary = summarize_performance(None, [(None, True)])
    assert summary.status is PerformanceStatus.FULL
    assert summary.performed_amount == D("0.00")
    assert summary.unperformed_amount is None


def test_without_an_amount_due_payments_are_partial_and_no_unperformed_amount_is_computed():
    assert summarize_performance(None, []).status is PerformanceStatus.NONE
    summary = summarize_performance(None, [(D("50"), False)])
    assert summary.status is PerformanceStatus.PARTIAL
    assert summary.unperformed_amount is None


def test_the_performed_amount_is_quantised_to_cents():
    summary = summarize_performance(D("10"), [(D("0.1"), False), (D("0.2"), False)])
    assert summary.performed_amount == D("0.30")
    assert summary.performed_amount.as_tuple().exponent == -2
    assert summary.unperformed_amount.as_tuple().exponent == -2


def test_the_unperformed_amount_is_quantised_to_cents_too():
    summary = summarize_performance(D("100"), [(D("33.333"), False)])
    assert summary.performed_amount == D("33.33")
    assert summary.unperformed_amount == D("66.67")


CENTS = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)


@given(amount_due=CENTS, amounts=st.lists(CENTS, max_size=6))
def test_performed_and_unperformed_parts_add_up_and_unperformed_is_never_negative(
    amount_due, amounts
):
    summary = summarize_performance(amount_due, [(a, False) for a in amounts])
    paid = sum(amounts, D("0"))
    assert summary.unperformed_amount >= 0
    assert summary.performed_amount == paid
    if paid >= amount_due:
        assert summary.status is PerformanceStatus.FULL
        assert summary.unperformed_amount == 0
    else:
        assert summary.status is (PerformanceStatus.PARTIAL if amounts else PerformanceStatus.NONE)
        assert summary.performed_amount + summary.unperformed_amount == amount_due


# ==================================================================================== payments


def test_a_payment_of_a_positive_amount_made_today_is_accepted():
    check_payment(D("0.01"), date(2025, 3, 10), date(2025, 3, 10), False)


@pytest.mark.parametrize("amount", [D("0"), D("-1"), D("-0.01")])
def test_a_payment_of_zero_or_less_is_refused(amount):
    with pytest.raises(ValidationFailed) as excinfo:
        check_payment(amount, date(2025, 3, 10), date(2025, 3, 10), False)
    assert list(field_errors(excinfo)) == ["amount"]


def test_a_payment_dated_in_the_future_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        check_payment(D("100"), date(2025, 3, 11), date(2025, 3, 10), False)
    assert list(field_errors(excinfo)) == ["performed_on"]


def test_a_payment_without_amount_is_refused_unless_it_declares_full_performance():
    with pytest.raises(ValidationFailed) as excinfo:
        check_payment(None, date(2025, 3, 10), date(2025, 3, 10), False)
    assert list(field_errors(excinfo)) == ["amount"]
    check_payment(None, date(2025, 3, 10), date(2025, 3, 10), True)


def test_a_declaration_of_full_performance_with_a_negative_amount_is_still_refused():
    with pytest.raises(ValidationFailed):
        check_payment(D("-5"), date(2025, 3, 10), date(2025, 3, 10), True)


# ================================================================================ case numbers

SAME_CASE = [
    "(2024)京0105执1234号",
    "（2024）京0105执1234号",
    "〔2024〕京0105执1234号",
    "【2024】京0105执1234号",
    "( 2024 ) 京0105 执 1234 号",
    " （２０２４）京０１０５执１２３４号 ",
]


@pytest.mark.parametrize("raw", SAME_CASE)
def test_the_same_enforcement_case_number_typed_in_any_bracket_or_width_gives_one_key(raw):
    display, key = parse_case_number(raw)
    assert key == "(2024)京0105执1234号"
    assert display == "（2024）京0105执1234号"
    assert case_number_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("（2024）京0105执恢12号", "(2024)京0105执恢12号"),
        ("〔2024〕京0105执保7号", "(2024)京0105执保7号"),
        ("(2024)京0105执1234号之一", "(2024)京0105执1234号之一"),
        ("(2012)海执字第01234号", "(2012)海执字第01234号"),
    ],
)
def test_resumed_preservation_sub_and_pre_2016_enforcement_case_numbers_are_accepted(raw, key):
    display, parsed_key = parse_case_number(raw)
    assert parsed_key == key
    assert display == "（" + key[1:5] + "）" + key[6:]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("（2024）京0105执恢12号", "(2024) 京0105执恢12号"),
        ("〔2024〕京0105执保7号", "（2024）京0105执保7号"),
        ("(2024)京0105执1234号之一", "〔2024〕京0105执1234号 之一"),
    ],
)
def test_variants_of_the_same_resumed_preservation_or_sub_case_give_the_same_key(one, other):
    assert parse_case_number(one)[1] == parse_case_number(other)[1]


@pytest.mark.parametrize(
    "raw",
    [
        "(2023)京0105民初5678号",
        "(2024)京0105执1234",
        "京0105执1234号",
        "()京0105执1234号",
        "(24)京0105执1234号",
        "",
        None,
    ],
)
def test_a_civil_case_number_or_one_without_year_or_without_hao_is_refused(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_case_number(raw)
    assert list(field_errors(excinfo)) == ["case.case_number"]


def test_a_bad_case_number_is_reported_on_the_field_the_caller_names():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_case_number("(2023)京0105民初5678号", field="cases.1.case_number")
    assert list(field_errors(excinfo)) == ["cases.1.case_number"]


def test_a_case_number_in_full_width_square_brackets_is_accepted():
    assert parse_case_number("［2024］京0105执1234号")[1] == "(2024)京0105执1234号"

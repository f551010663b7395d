"""Rules of correction requests (DOMAIN.md §2 Arts. 11–12, §7 working days): the four deadlines
checked against Spring Festival 2025, the reconsideration window, remedies, attachments."""

from __future__ import annotations

from datetime import date

import pytest

from blacklist.core.errors import Conflict, ValidationFailed
from blacklist.core.workdays import WorkdayCalendar, default_calendar
from blacklist.corrections import rules
from blacklist.corrections.models import CorrectionStatus, Remedy, new_reference
from blacklist.listing.rules import RemovalKind

CAL = default_calendar()


# --------------------------------------------------------------------------------------------------
# Deadlines across Spring Festival 2025 (off Tue 28 Jan – Tue 4 Feb; Sun 26 Jan and Sat 8 Feb worked)


def test_a_request_accepted_on_24_january_is_carried_out_by_wednesday_5_february():
    # Jan 26 (a working Sunday) and Jan 27 count; the holiday does not.
    assert rules.carry_out_due_on(CAL, date(2025, 1, 24)) == date(2025, 2, 5)


def test_a_request_accepted_on_27_january_is_carried_out_by_friday_7_february():
    assert rules.carry_out_due_on(CAL, date(2025, 1, 27)) == date(2025, 2, 7)


def test_a_review_period_ending_in_the_holiday_ends_on_the_first_working_day_after_it():
    # 14 Jan + 15 days = Wed 29 Jan, a holiday: the review is due Wed 5 Feb.
    assert rules.review_due_on(CAL, date(2025, 1, 14)) == date(2025, 2, 5)


def test_a_review_period_ending_on_an_ordinary_working_day_is_fifteen_days():
    assert rules.review_due_on(CAL, date(2025, 3, 3)) == date(2025, 3, 18)


def test_a_reconsideration_window_ending_on_the_working_sunday_ends_that_sunday():
    # Decided Thu 16 Jan: the tenth day is Sun 26 Jan, a make-up working day.
    assert rules.reconsideration_until(CAL, date(2025, 1, 16)) == date(2025, 1, 26)


def test_a_reconsideration_window_ending_in_the_holiday_runs_to_5_february():
    assert rules.reconsideration_until(CAL, date(2025, 1, 20)) == date(2025, 2, 5)


def test_a_reconsideration_window_ending_on_a_saturday_runs_to_monday():
    # Decided Wed 5 Mar: the tenth day is Sat 15 Mar.
    assert rules.reconsideration_until(CAL, date(2025, 3, 5)) == date(2025, 3, 17)


def test_the_higher_court_decides_by_the_working_saturday_8_february():
    # Asked Fri 24 Jan: the fifteenth day is Sat 8 Feb, a make-up working day.
    assert rules.reconsideration_due_on(CAL, date(2025, 1, 24)) == date(2025, 2, 8)


def test_without_an_official_calendar_deadlines_fall_back_to_monday_to_friday():
    calendar = WorkdayCalendar({})
    assert rules.carry_out_due_on(calendar, date(2031, 1, 3)) == date(2031, 1, 8)
    assert calendar.fallback_years == {2031}


# --------------------------------------------------------------------------------------------------
# The reconsideration window


def test_reconsideration_is_possible_on_the_last_day_of_the_window():
    rules.check_reconsideration_window(date(2025, 3, 13), date(2025, 3, 13))


def test_reconsideration_on_day_eleven_is_refused_with_the_deadline():
    with pytest.raises(ValidationFailed) as refused:
        rules.check_reconsideration_window(date(2025, 3, 13), date(2025, 3, 14))
    assert refused.value.errors == {"reconsideration": ["复议申请期限已于2025年3月13日届满"]}


# --------------------------------------------------------------------------------------------------
# Remedies and states


@pytest.mark.parametrize(
    ("remedy", "kind", "corrected", "expected"),
    [
        (Remedy.REVOKE, RemovalKind.REVOKED, False, True),
        (Remedy.REVOKE, RemovalKind.DELETED, False, False),
        (Remedy.DELETE, RemovalKind.DELETED, False, True),
        (Remedy.DELETE, RemovalKind.EXPIRED, False, True),
        (Remedy.DELETE, RemovalKind.REVOKED, False, False),
        (Remedy.CORRECT, None, True, True),
        (Remedy.CORRECT, RemovalKind.DELETED, False, False),
        (Remedy.REVOKE, None, True, False),
        (None, RemovalKind.REVOKED, False, False),
    ],
)
def test_which_act_on_the_listing_carries_out_which_remedy(remedy, kind, corrected, expected):
    assert rules.satisfies(remedy, kind, corrected) is expected


def test_a_remedy_must_be_one_of_the_three():
    assert rules.parse_remedy("delete") is Remedy.DELETE
    with pytest.raises(ValidationFailed) as refused:
        rules.parse_remedy("forget")
    assert "remedy" in refused.value.errors
    with pytest.raises(ValidationFailed):
        rules.check_no_remedy("revoke")


def test_an_act_that_does_not_fit_the_status_is_a_conflict_naming_the_status():
    rules.check_status(CorrectionStatus.RECEIVED, CorrectionStatus.RECEIVED, act="作出决定")
    with pytest.raises(Conflict, match="已驳回"):
        rules.check_status(CorrectionStatus.REJECTED, CorrectionStatus.RECEIVED, act="作出决定")


# --------------------------------------------------------------------------------------------------
# Attachments and text


def test_the_type_is_detected_from_the_content_not_the_name():
    assert rules.detect_type(b"%PDF-1.7\n...") == rules.PDF
    assert rules.detect_type(b"\xff\xd8\xff\xdb...") == rules.JPEG
    assert rules.detect_type(b"<html>%PDF-") is None
    assert rules.detect_type(b"\x89PNG\r\n") is None


def test_html_renamed_to_pdf_is_refused():
    with pytest.raises(ValidationFailed, match="不是PDF文件或JPEG图片"):
        rules.check_attachment(b"<html><script>x</script>", "证据.pdf", max_bytes=1000)


def test_an_attachment_one_byte_over_the_limit_is_refused_and_one_at_it_is_accepted():
    data = b"%PDF-" + b"x" * 95
    assert rules.check_attachment(data, "a.pdf", max_bytes=100) == (rules.PDF, "a.pdf")
    with pytest.raises(ValidationFailed, match="超过"):
        rules.check_attachment(data + b"x", "a.pdf", max_bytes=100)


def test_an_empty_attachment_is_refused():
    with pytest.raises(ValidationFailed, match="空文件"):
        rules.check_attachment(b"", "a.pdf", max_bytes=100)


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("还款凭证.pdf", rules.PDF, "还款凭证.pdf"),
        ("../../etc/passwd", rules.PDF, "passwd.pdf"),
        ("C:\\Users\\张三\\照片.JPG", rules.JPEG, "照片.jpg"),
        ('"><script>alert(1)</script>.pdf', rules.PDF, "script.pdf"),  # a path: last part
        ('"><img src=x onerror=alert(1)>.pdf', rules.PDF, "img src=x onerror=alert(1).pdf"),
        ("invoice.exe", rules.PDF, "invoice.exe.pdf"),
        ("photo.jpeg", rules.JPEG, "photo.jpg"),
        ("", rules.PDF, "附件.pdf"),
        ("...", rules.JPEG, "附件.jpg"),
        ("a\r\nb.pdf", rules.PDF, "a__b.pdf"),
    ],
)
def test_filenames_are_made_safe_and_end_in_the_detected_type(raw, content_type, expected):
    assert rules.safe_filename(raw, content_type) == expected


def test_a_long_filename_is_cut_to_a_hundred_characters_keeping_its_extension():
    name = rules.safe_filename("证" * 300 + ".pdf", rules.PDF)
    assert len(name) == 100 and name.endswith(".pdf")


def test_free_text_keeps_line_breaks_and_drops_control_characters():
    assert rules.clean_text("  第一行\r\n第二行\x00\x1b  ", "x", "理由") == "第一行\n第二行"
    with pytest.raises(ValidationFailed, match="请填写理由"):
        rules.clean_text(" \n ", "x", "理由")
    with pytest.raises(ValidationFailed, match="2000"):
        rules.clean_text("字" * 2001, "x", "理由")
    assert rules.clean_text("<script>alert(1)</script>", "x", "理由") == (
        "<script>alert(1)</script>"
    )  # stored as typed, escaped wherever shown


def test_a_reference_is_found_however_it_is_typed():
    reference = new_reference()
    compact = reference.replace("-", "").lower()
    assert rules.normalize_reference(compact) == reference
    assert rules.normalize_reference(f"  {reference.lower()} ") == reference
    assert rules.normalize_reference("ＪＺ－" + reference[3:]) == reference


def test_reconsideration_is_open_only_while_rejected_served_and_in_time():
    from blacklist.corrections.models import CorrectionStatus

    until = date(2025, 3, 13)
    assert rules.reconsideration_open(CorrectionStatus.REJECTED, until, date(2025, 3, 13))
    assert not rules.reconsideration_open(CorrectionStatus.REJECTED, until, date(2025, 3, 14))
    assert not rules.reconsideration_open(CorrectionStatus.REJECTED, None, date(2025, 3, 4))
    assert not rules.reconsideration_open(
        CorrectionStatus.UNDER_RECONSIDERATION, until, date(2025, 3, 4)
    )

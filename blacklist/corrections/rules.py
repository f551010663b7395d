"""Pure rules of correction requests and reconsideration (DOMAIN.md §2, Arts. 11–12; §7 for the
counting of days): deadlines, labels, which removal carries out which remedy, and what an
attachment may be. No Flask, no session, no ``date.today()``.

Deadlines follow the Civil Procedure Law Art. 85: the first day is not counted; a period of plain
days (15 days, 10 days) that ends on a rest day ends on the next working day
(``WorkdayCalendar.period_end``); a period of working days counts working days only
(``WorkdayCalendar.add_workdays``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from blacklist.core.errors import Conflict, ValidationFailed
from blacklist.core.workdays import WorkdayCalendar
from blacklist.corrections.models import (
    CorrectionGround,
    CorrectionStatus,
    ReconsiderationOutcome,
    Remedy,
)
from blacklist.listing.rules import RemovalKind

#: Art. 12: the enforcing court reviews a request within 15 days of receiving it.
REVIEW_DAYS = 15
#: Art. 12 with Art. 9/10: a well-founded request is carried out within 3 working days.
CARRY_OUT_WORKDAYS = 3
#: Art. 12: the applicant may ask the next higher court for reconsideration within 10 days of
#: service of the decision.
RECONSIDERATION_REQUEST_DAYS = 10
#: Art. 12: the higher court decides within 15 days.
RECONSIDERATION_DECISION_DAYS = 15

#: Longest explanation or reasons an applicant or a judge may write.
MAX_TEXT = 2000
MAX_ATTACHMENTS = 3
#: Default size limit of one attachment (config ``CORRECTION_ATTACHMENT_MAX_BYTES``).
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
_EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg"}

GROUND_LABELS = {
    CorrectionGround.SHOULD_NOT_BE_LISTED: "不应被纳入失信被执行人名单",
    CorrectionGround.INACCURATE_DATA: "记载和公布的失信信息不准确",
    CorrectionGround.SHOULD_HAVE_BEEN_DELETED: "失信信息应予删除而未删除",
}
STATUS_LABELS = {
    CorrectionStatus.RECEIVED: "已受理，待审查",
    CorrectionStatus.ACCEPTED: "申请成立，待纠正",
    CorrectionStatus.CARRIED_OUT: "已纠正",
    CorrectionStatus.REJECTED: "已驳回",
    CorrectionStatus.UNDER_RECONSIDERATION: "复议审查中",
    CorrectionStatus.REJECTION_UPHELD: "复议驳回（终局）",
}
REMEDY_LABELS = {
    Remedy.CORRECT: "更正失信信息",
    Remedy.REVOKE: "撤销失信名单",
    Remedy.DELETE: "删除失信信息",
}
OUTCOME_LABELS = {
    ReconsiderationOutcome.UPHELD: "驳回复议申请，维持原决定",
    ReconsiderationOutcome.OVERTURNED: "撤销原决定，责令纠正",
}

#: A request is open (the applicant may not file another for the same listing) while the court or
#: the higher court still has something to do.
OPEN_STATUSES = (
    CorrectionStatus.RECEIVED,
    CorrectionStatus.ACCEPTED,
    CorrectionStatus.UNDER_RECONSIDERATION,
)

#: The one answer to a public id and an identifier that do not belong together: the same for an
#: unknown public id, a listing no longer published and a wrong number, so the form never tells
#: whether a listing exists.
MISMATCH = "名单编号与证件号码不匹配，或该名单当前未公布"


# --------------------------------------------------------------------------------------------------
# Deadlines


def cn_date(value: date) -> str:
    """``2025年2月5日``, as deadlines are told to applicants."""
    return f"{value.year}年{value.month}月{value.day}日"


def review_due_on(calendar: WorkdayCalendar, submitted_on: date) -> date:
    """Art. 12: the enforcing court reviews within 15 days of receiving the request (plain days;
    a period ending on a rest day ends on the next working day)."""
    return calendar.period_end(submitted_on, REVIEW_DAYS)


def carry_out_due_on(calendar: WorkdayCalendar, accepted_on: date) -> date:
    """Art. 12 with Art. 9/10: a well-founded request is corrected, revoked or deleted within three
    working days (the day of acceptance not counted): accepted on Fri 2025-01-24, due Wed
    2025-02-05 across Spring Festival 2025."""
    return calendar.add_workdays(accepted_on, CARRY_OUT_WORKDAYS)


def reconsideration_until(calendar: WorkdayCalendar, served_on: date) -> date:
    """Art. 12: reconsideration may be asked within 10 days of service of the rejection (served
    on the decision date), moved to the next working day if the tenth day is a rest day."""
    return calendar.period_end(served_on, RECONSIDERATION_REQUEST_DAYS)


def reconsideration_due_on(calendar: WorkdayCalendar, requested_on: date) -> date:
    """Art. 12: the next higher court decides within 15 days of the reconsideration request."""
    return calendar.period_end(requested_on, RECONSIDERATION_DECISION_DAYS)


def check_reconsideration_window(until: date | None, today: date) -> None:
    """Art. 12: after the tenth day the rejection is final; the refusal names the last day."""
    if until is None or today > until:
        text = f"复议申请期限已于{cn_date(until)}届满" if until else "复议申请期限已届满"
        raise ValidationFailed.on("reconsideration", text)


def reconsideration_open(status: CorrectionStatus, until: date | None, today: date) -> bool:
    """Whether the applicant may still ask for reconsideration (Art. 12): rejected, served, and
    not past the tenth day (the status page offers the form only then)."""
    return status is CorrectionStatus.REJECTED and until is not None and today <= until


def days_left(today: date, due_on: date) -> int:
    """Plain days to ``due_on`` (negative when overdue)."""
    return (due_on - today).days


# --------------------------------------------------------------------------------------------------
# Decisions


def parse_remedy(value: str | None, field: str = "remedy") -> Remedy:
    try:
        return Remedy(value or "")
    except ValueError:
        raise ValidationFailed.on(field, "请选择纠正方式：更正、撤销或删除") from None


def check_no_remedy(value: str | None, field: str = "remedy") -> None:
    """A rejection (or an upheld rejection) orders nothing."""
    if value:
        raise ValidationFailed.on(field, "驳回申请时不选择纠正方式")


def check_status(status: CorrectionStatus, *allowed: CorrectionStatus, act: str) -> None:
    """An act that does not fit the request's status is a conflict (409)."""
    if status not in allowed:
        raise Conflict(f"该申请当前状态为“{STATUS_LABELS[status]}”，不能{act}")


def satisfies(remedy: Remedy | None, removal_kind: RemovalKind | None, corrected: bool) -> bool:
    """Whether an act on the listing carries out the remedy (Arts. 9–10): a revocation carries out
    a revocation, a deletion (or deletion on expiry) a deletion, a correction of the data a
    correction."""
    if remedy is Remedy.REVOKE:
        return removal_kind is RemovalKind.REVOKED
    if remedy is Remedy.DELETE:
        return removal_kind in (RemovalKind.DELETED, RemovalKind.EXPIRED)
    if remedy is Remedy.CORRECT:
        return corrected
    return False


# --------------------------------------------------------------------------------------------------
# Attachments

_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;%&#\'`$]')


def detect_type(data: bytes) -> str | None:
    """The type an attachment really has, from its first bytes: PDF (``%PDF-``) or JPEG
    (``FF D8 FF``). Whatever the filename or the declared type say counts for nothing."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def safe_filename(raw: str | None, content_type: str) -> str:
    """A filename safe to store and to send back in ``Content-Disposition``: no path, no control or
    shell characters, at most 100 characters, ending in the extension of the detected type
    (``证据.pdf``); ``附件.pdf`` when nothing usable is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_IN_NAME.sub("_", name)
    name = " ".join(name.split()).strip(" ._")
    extension = _EXTENSIONS[content_type]
    stem = re.sub(r"\.(pdf|jpe?g)$", "", name, flags=re.IGNORECASE).strip(" ._")
    stem = stem[: 100 - len(extension)] or "附件"
    return stem + extension


def check_attachment(
    data: bytes, filename: str | None, *, max_bytes: int, field: str = "attachments"
) -> tuple[str, str]:
    """``(content type, safe filename)`` of an acceptable attachment; refuses an empty file, one
    over ``max_bytes`` and anything that is not really a PDF or a JPEG image."""
    shown = safe_filename(filename, PDF)[:-4] if filename else "附件"
    if not data:
        raise ValidationFailed.on(field, f"“{shown}”是空文件")
    if len(data) > max_bytes:
        limit = f"{max_bytes / 1024 / 1024:g}MB" if max_bytes >= 1024 * 1024 else f"{max_bytes}字节"
        raise ValidationFailed.on(field, f"“{shown}”超过{limit}的大小限制")
    content_type = detect_type(data)
    if content_type is None:
        raise ValidationFailed.on(field, f"“{shown}”不是PDF文件或JPEG图片，只接受这两种格式")
    return content_type, safe_filename(filename, content_type)


def clean_text(raw: str | None, field: str, label: str, *, required: bool = True) -> str | None:
    """Free text as typed (line breaks kept, control characters dropped, at most ``MAX_TEXT``
    characters). It is stored as typed and escaped wherever it is shown."""
    text = unicodedata.normalize("NFC", raw or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")
    text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    if not text:
        if required:
            raise ValidationFailed.on(field, f"请填写{label}")
        return None
    if len(text) > MAX_TEXT:
        raise ValidationFailed.on(field, f"{label}不能超过{MAX_TEXT}个字符")
    return text


def normalize_reference(raw: str | None) -> str:
    """A reference number as typed (lower case, spaces, without dashes) in its stored form
    ``JZ-XXXX-XXXX-XXXX-XXXX``; anything else comes back as typed (and is not found)."""
    text = re.sub(r"[\s\-－—]", "", unicodedata.normalize("NFKC", raw or "")).upper()
    if len(text) == 18 and text.startswith("JZ"):
        body = text[2:]
        return "JZ-" + "-".join(body[i : i + 4] for i in range(0, 16, 4))
    return text[:40]

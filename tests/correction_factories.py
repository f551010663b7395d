"""Builders for the correction tests (Arts. 11–12): a higher court with an enforcing court under it
(and an unrelated court), attachments that really are PDF or JPEG, and requests filed through the
services."""

from __future__ import annotations

from blacklist.core.actor import Actor, Role
from blacklist.corrections import services
from blacklist.corrections.inputs import AttachmentIn, CorrectionIn, DecisionIn
from blacklist.holidays import services as holidays
from blacklist.staff import services as staff
from tests.factories import publish_listing, resident_id

SYSTEM = Actor.system("test")
PASSWORD = "correct horse battery"
DEBTOR_ID = resident_id("19800101", "123")
OTHER_ID = resident_id("19810202", "135")

#: Smallest files whose content is what they claim (the type is detected from the first bytes).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML_AS_PDF = b"<html><script>alert(1)</script></html>"


def _court(session, clock, code: str, name: str, province: str, parent: str | None = None):
    staff.create_court(
        session, code=code, name=name, province=province, parent_code=parent,
        actor=SYSTEM, clock=clock,
    )  # fmt: skip
    actors = {}
    for role in (Role.CLERK, Role.JUDGE, Role.ADMIN):
        user = staff.create_staff_user(
            session, court_code=code, role=role, username=f"{code.lower()}-{role.value}",
            password=PASSWORD, actor=SYSTEM, clock=clock,
        )  # fmt: skip
        actors[role.value] = user.as_actor()
    return actors


def setup_courts(session, clock, *, seed_calendar: bool = True) -> dict[str, dict[str, Actor]]:
    """``enforcing`` (BJ0105, under ``higher``), ``higher`` (BJ01, a court with no parent: as a
    high court, nothing above it here) and ``other`` (SH0101); actors by role; the 2025 calendar."""
    courts = {
        "higher": _court(session, clock, "BJ01", "北京市第一中级人民法院", "北京"),
        "enforcing": _court(session, clock, "BJ0105", "北京市朝阳区人民法院", "北京", "BJ01"),
        "other": _court(session, clock, "SH0101", "上海市黄浦区人民法院", "上海"),
    }
    if seed_calendar:
        holidays.seed_from_chinesecalendar(session, actor=SYSTEM, clock=clock, years=[2025])
    session.commit()
    return courts


def correction_in(listing, id_number: str = DEBTOR_ID, **changes) -> CorrectionIn:
    values = {
        "public_id": listing.public_id,
        "id_number": id_number,
        "applicant_name": "张三",
        "ground": "inaccurate_data",
        "explanation": "已于2025年2月全部履行，名单应予删除。",
        "contact": "13800000000",
        "attachments": (AttachmentIn("还款凭证.pdf", PDF),),
    }
    values.update(changes)
    return CorrectionIn(**values)


def file_request(session, clock, listing, **changes):
    return services.submit_request(
        session, correction_in(listing, **changes), actor=services.public_actor("203.0.113.9"),
        clock=clock,
    )  # fmt: skip


def published(session, clock, courts, **draft):
    from tests.factories import person_draft

    return publish_listing(
        session, clock, courts["enforcing"], person_draft(id_number=DEBTOR_ID, **draft)
    )


def reject(session, clock, courts, request, reasons: str = "经审查，申请理由不成立"):
    return services.decide_request(
        session, request.reference, DecisionIn("reject", reasons),
        actor=courts["enforcing"]["judge"], clock=clock,
    )  # fmt: skip

"""Issue #7's public pages and the judge's review in a real browser (Debian's chromium driven by
Playwright): a listed person files a correction request with a PDF attached, follows it by its
reference number, a judge rejects it on the staff page, and the applicant sees the reasoned
decision and the reconsideration deadline; a deletion certificate is then checked by its code on
the public verification page. Screenshots are saved under ``test-artifacts/``."""

from __future__ import annotations

import re

from sqlalchemy import select

from blacklist.documents.models import Document, DocumentKind
from blacklist.holidays.services import seed_from_chinesecalendar
from blacklist.listing import services as listings
from blacklist.listing.inputs import PaymentIn
from tests.e2e.browser import ARTIFACTS, needs_chromium
from tests.factories import person_draft, publish_listing, resident_id

pytestmark = needs_chromium

DEBTOR = resident_id("19800303", "135")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")


def test_a_listed_person_files_and_follows_a_correction_request(
    live_server, browser, session, clock, tmp_path
):
    base, court = live_server
    seed_from_chinesecalendar(session, actor=court["admin"], clock=clock)
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR))
    session.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    evidence = tmp_path / "还款凭证.pdf"
    evidence.write_bytes(PDF)

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page.goto(f"{base}/corrections/new")
    page.fill("#public_id", listing.public_id)
    page.fill("#id_number", DEBTOR)
    page.fill("#applicant_name", "张三")
    page.check("input[name=ground][value=inaccurate_data]")
    page.fill("#explanation", "履行情况记载有误，<script>alert(1)</script>附还款凭证。")
    page.set_input_files("#attachments", str(evidence))
    page.screenshot(path=str(ARTIFACTS / "correction-1-public-form.png"), full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#reference")
    reference = re.search(r"JZ(?:-[0-9A-Z]{4}){4}", page.inner_text("main")).group(0)
    assert "2025年3月18日" in page.inner_text("main")  # review deadline: 15 days from Mon 3 March
    page.screenshot(path=str(ARTIFACTS / "correction-2-reference.png"), full_page=True)

    staff = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    dialogs: list[str] = []
    staff.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(staff, base, "bj0105-judge")
    staff.click("nav >> text=纠正申请")
    staff.click(f"text={reference}")
    assert "<script>alert(1)</script>" in staff.inner_text("main")  # shown as text, not run
    assert "还款凭证.pdf" in staff.inner_text("main")
    staff.check("input[name=decision][value=reject]")
    staff.fill("textarea[name=reasons]", "经核对，履行情况记载准确。")
    staff.screenshot(path=str(ARTIFACTS / "correction-3-judge-review.png"), full_page=True)
    staff.click("#decision button[type=submit]")
    staff.wait_for_selector("text=经核对，履行情况记载准确。")
    assert dialogs == []

    page.goto(f"{base}/corrections/status")
    page.fill("input[name=reference]", reference.lower().replace("-", " "))
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=经核对，履行情况记载准确。")
    body = page.inner_text("main")
    assert "已驳回" in body and "2025年3月13日" in body and DEBTOR not in page.content()
    page.screenshot(path=str(ARTIFACTS / "correction-4-status-rejected.png"), full_page=True)


def test_a_bank_checks_a_deletion_certificate_by_its_code(live_server, browser, session, clock):
    base, court = live_server
    seed_from_chinesecalendar(session, actor=court["admin"], clock=clock)
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR))
    listings.record_performance(
        session, listing.id, PaymentIn(None, clock.today(), True), actor=court["clerk"], clock=clock
    )
    listings.delete_listing(session, listing.id, "performed", actor=court["judge"], clock=clock)
    session.commit()
    code = session.scalar(
        select(Document.verification_code).where(
            Document.listing_id == listing.id, Document.kind == DocumentKind.DELETION_CERTIFICATE
        )
    )
    session.rollback()  # end the read: the server writes (audit) while this test waits
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/certificates/verify")
    page.fill("input[name=code]", code.lower())
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=张三")
    body = page.inner_text("main")
    assert "(2024)京0105执1234号" in body or "（2024）京0105执1234号" in body
    assert DEBTOR not in page.content() and DEBTOR[:10] + "****" + DEBTOR[14:] in body
    page.screenshot(path=str(ARTIFACTS / "certificate-verified.png"), full_page=True)

    page.fill("input[name=code]", "ABCD-EFGH-JKMN-PQRS")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=未找到")

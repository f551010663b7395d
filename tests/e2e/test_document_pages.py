"""Documents on the staff pages and the public certificate pages, through HTTP as a browser uses
them (issue #7 item 4; DOMAIN.md §2 Art. 10, §6)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from blacklist.audit.models import AuditEntry
from blacklist.documents.models import Document, DocumentKind
from blacklist.listing import services
from blacklist.listing.inputs import PaymentIn
from tests.e2e.conftest import csrf_token, login
from tests.factories import person_draft, publish_listing, resident_id

DEBTOR_ID = resident_id("19800101", "123")
MASKED = DEBTOR_ID[:10] + "****" + DEBTOR_ID[14:]


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


@pytest.fixture
def deleted(session, clock, court, system_actor):
    """Full performance recorded, then the scheduler deletes on the third working day."""
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR_ID))
    services.record_performance(
        session, listing.id, PaymentIn(amount=None, performed_on=clock.today(), full=True),
        actor=court["clerk"], clock=clock,
    )  # fmt: skip
    clock.advance(days=3)
    assert services.carry_out_due_deletion(session, listing.id, actor=system_actor, clock=clock)
    docs = {
        d.kind: d
        for d in session.scalars(select(Document).where(Document.listing_id == listing.id))
    }
    session.commit()
    return listing, docs


# --------------------------------------------------------------------------------------------------
# Staff


def test_the_listing_page_lists_its_documents_with_download_links(app, court, deleted, tmp_path):
    listing, docs = deleted
    client = signed_in(app, "bj0105-clerk")

    page = client.get(f"/staff/listings/{listing.id}").get_data(as_text=True)

    assert "法律文书" in page
    for kind in (DocumentKind.LISTING_DECISION, DocumentKind.DELETION_DECISION,
                 DocumentKind.DELETION_CERTIFICATE):  # fmt: skip
        assert f"/staff/documents/{docs[kind].id}.pdf" in page
        assert docs[kind].number in page
    response = client.get(f"/staff/documents/{docs[DocumentKind.DELETION_DECISION].id}.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils are not installed")
    path = tmp_path / "deletion.pdf"
    path.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(path), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p*.png"))
    text = "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                  text=True, check=True).stdout.split())  # fmt: skip
    assert "删除失信信息决定书" in text and "（2024）京0105执1234号之二" in text


def test_another_courts_staff_get_404_for_a_download(app, court, other_court, deleted):
    _, docs = deleted
    client = signed_in(app, "sh0101-judge")
    response = client.get(f"/staff/documents/{docs[DocumentKind.LISTING_DECISION].id}.pdf")
    assert response.status_code == 404
    assert b"%PDF" not in response.data


def test_a_download_needs_a_signed_in_member_of_staff(client, deleted):
    _, docs = deleted
    response = client.get(f"/staff/documents/{docs[DocumentKind.LISTING_DECISION].id}.pdf")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_a_judge_signing_on_the_page_issues_the_decision_shown_on_the_listing(
    app, session, clock, court
):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    session.commit()
    client = signed_in(app, "bj0105-judge")
    token = csrf_token(client, f"/staff/listings/{listing.id}")

    response = client.post(
        f"/staff/listings/{listing.id}/approve",
        data={"csrf_token": token, "decision_number": "(2025)京0105执恢9号",
              "decided_on": "2025-03-03", "confirm": "1"},
        follow_redirects=True,
    )  # fmt: skip

    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "纳入失信被执行人名单决定书" in page and "(2025)京0105执恢9号" in page


# --------------------------------------------------------------------------------------------------
# Public verification


def _verify(client, code: str):
    token = csrf_token(client, "/certificates/verify")
    return client.post("/certificates/verify", data={"csrf_token": token, "code": code})


def test_a_certificate_verifies_by_code_in_lower_case_without_hyphens_showing_only_the_mask(
    client, deleted
):
    _, docs = deleted
    certificate = docs[DocumentKind.DELETION_CERTIFICATE]

    for code in (
        certificate.verification_code,
        certificate.verification_code.lower().replace("-", ""),
    ):
        response = _verify(client, code)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "该证明真实有效" in page
        assert certificate.number in page
        assert "BJ0105人民法院" in page and "张三" in page
        assert "（2024）京0105执1234号" in page
        assert MASKED in page and DEBTOR_ID not in page
        assert "2025年3月6日" in page
        assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_code_and_a_listing_decisions_code_are_not_found(client, deleted):
    _, docs = deleted
    for code in ("2222-3333-4444-5555", docs[DocumentKind.LISTING_DECISION].verification_code):
        response = _verify(client, code)
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "未找到该验证码对应的证明" in page
        assert "张三" not in page


def test_the_verify_form_refuses_a_post_without_its_csrf_token(client, deleted):
    _, docs = deleted
    code = docs[DocumentKind.DELETION_CERTIFICATE].verification_code
    response = client.post("/certificates/verify", data={"code": code})
    assert response.status_code == 400
    assert "张三" not in response.get_data(as_text=True)


def test_markup_in_the_code_is_echoed_escaped(client):
    response = _verify(client, "<script>alert(1)</script>")
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


# --------------------------------------------------------------------------------------------------
# Public download by the debtor


def _download(client, public_id: str, id_number: str):
    token = csrf_token(client, "/certificates/download")
    return client.post(
        "/certificates/download",
        data={"csrf_token": token, "public_id": public_id, "id_number": id_number},
    )


def test_the_debtor_downloads_the_certificate_with_public_id_and_own_id_number(
    client, deleted, database
):
    listing, docs = deleted
    response = _download(client, listing.public_id, DEBTOR_ID.lower())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    with database.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "document.downloaded"))
    assert entry.actor_kind == "public"
    assert entry.entity_id == str(docs[DocumentKind.DELETION_CERTIFICATE].id)


def test_a_wrong_number_an_unknown_id_and_a_listing_without_certificate_look_the_same(
    client, session, clock, court, deleted
):
    listing, _ = deleted
    published = publish_listing(
        session, clock, court,
        person_draft(name="李雷", id_number=resident_id("19820202", "333"),
                     case_number="(2024)京0105执99号"),
    )  # fmt: skip
    session.commit()
    pages = []
    for public_id, number in (
        (listing.public_id, resident_id("19820202", "335")),
        ("nosuchlisting", DEBTOR_ID),
        (published.public_id, resident_id("19820202", "333")),
    ):
        response = _download(client, public_id, number)
        assert response.status_code == 404
        assert b"%PDF" not in response.data
        page = response.get_data(as_text=True)
        pages.append(re.sub(r'name="csrf_token" value="[^"]+"', "", page).replace(public_id, ""))
    assert pages[0] == pages[1] == pages[2]
    assert "未找到对应的删除证明" in pages[0]


def test_a_malformed_id_number_gets_a_message_beside_the_field(client, deleted):
    listing, _ = deleted
    response = _download(client, listing.public_id, "12345")
    assert response.status_code == 422
    assert "身份证号码" in response.get_data(as_text=True)

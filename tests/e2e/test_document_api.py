"""The document endpoints end to end (issue #7 item 5): the staff API lists documents, gives their
metadata and their PDF within the court scoping, and the public API checks a deletion
certificate by its code (API.md style)."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from blacklist.audit.models import AuditEntry
from blacklist.documents.models import Document, DocumentKind
from blacklist.listing import services
from tests.e2e.conftest import api_token, bearer
from tests.factories import person_draft, publish_listing, resident_id

API = "/api/v1/documents"
DEBTOR_ID = resident_id("19800101", "123")
DECISION = "(2025)京0105执恢1号决定书"


@pytest.fixture
def deleted(session, clock, court):
    """A listing signed and then deleted by the judge: decision, deletion, certificate."""
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR_ID))
    services.delete_listing(session, listing.id, "terminated", actor=court["judge"], clock=clock)
    session.commit()
    docs = {
        d.kind: d
        for d in session.scalars(select(Document).where(Document.listing_id == listing.id))
    }
    session.commit()
    return listing, docs


def test_staff_list_a_listings_documents_and_read_one(client, court, deleted):
    listing, docs = deleted
    token = api_token(client, "bj0105-clerk")

    page = client.get(f"{API}?listing_id={listing.id}", headers=bearer(token))

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_json()
    assert body["total"] == 3
    assert [item["kind"] for item in body["items"]] == [
        "deletion_certificate", "deletion_decision", "listing_decision",
    ]  # fmt: skip
    decision = docs[DocumentKind.LISTING_DECISION]
    one = client.get(f"{API}/{decision.id}", headers=bearer(token)).get_json()
    assert one["number"] == DECISION
    assert one["title"] == "纳入失信被执行人名单决定书"
    assert one["court"] == {"code": "BJ0105", "name": "BJ0105人民法院", "province": "北京"}
    assert one["issued_on"] == "2025-03-03"
    assert one["pdf_url"] == f"{API}/{decision.id}/pdf"
    assert DEBTOR_ID not in page.get_data(as_text=True) + str(one)


def test_the_pdf_downloads_as_an_attachment_and_carries_the_decision_number(
    client, court, deleted, tmp_path
):
    _, docs = deleted
    decision = docs[DocumentKind.LISTING_DECISION]
    token = api_token(client, "bj0105-judge")

    response = client.get(f"{API}/{decision.id}/pdf", headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == f"纳入失信被执行人名单决定书-{DECISION}.pdf"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "d.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert DECISION in "".join(text.split())
    assert DEBTOR_ID not in text


def test_another_courts_staff_get_404_and_an_empty_list(client, court, other_court, deleted):
    listing, docs = deleted
    token = api_token(client, "sh0101-judge")
    decision = docs[DocumentKind.LISTING_DECISION]

    assert client.get(f"{API}/{decision.id}", headers=bearer(token)).status_code == 404
    response = client.get(f"{API}/{decision.id}/pdf", headers=bearer(token))
    assert response.status_code == 404
    assert response.get_json()["code"] == 404
    assert (
        client.get(f"{API}?listing_id={listing.id}", headers=bearer(token)).get_json()["total"] == 0
    )


def test_without_a_token_the_api_answers_401(client, deleted):
    _, docs = deleted
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/{docs[DocumentKind.LISTING_DECISION].id}/pdf").status_code == 401


def test_bad_query_parameters_are_422(client, court):
    token = api_token(client, "bj0105-clerk")
    response = client.get(f"{API}?listing_id=abc&per_page=1000", headers=bearer(token))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"listing_id", "per_page"}


def test_a_staff_download_is_audited(client, court, deleted, database):
    _, docs = deleted
    token = api_token(client, "bj0105-clerk")
    client.get(f"{API}/{docs[DocumentKind.DELETION_DECISION].id}/pdf", headers=bearer(token))

    with database.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "document.downloaded"))
    assert entry.actor_name == court["clerk"].name
    assert entry.entity_id == str(docs[DocumentKind.DELETION_DECISION].id)


def test_the_public_checks_a_certificate_by_code_in_any_form(client, deleted):
    _, docs = deleted
    certificate = docs[DocumentKind.DELETION_CERTIFICATE]
    code = certificate.verification_code

    for form in (code, code.lower().replace("-", "")):
        response = client.get(f"/api/v1/public/certificates/{form}")
        assert response.status_code == 200
        body = response.get_json()
        assert body["number"] == certificate.number
        assert body["court"] == "BJ0105人民法院"
        assert body["name"] == "张三"
        assert body["id_number_masked"] == DEBTOR_ID[:10] + "****" + DEBTOR_ID[14:]
        assert body["removal"]["kind"] == "deleted"
        assert body["removal"]["on"] == "2025-03-03"
        assert DEBTOR_ID not in response.get_data(as_text=True)


def test_other_documents_codes_and_wrong_codes_are_not_found_publicly(client, deleted):
    _, docs = deleted
    for code in (
        docs[DocumentKind.LISTING_DECISION].verification_code,
        docs[DocumentKind.DELETION_DECISION].verification_code,
        "2222-3333-4444-5555",
        "nonsense",
    ):
        response = client.get(f"/api/v1/public/certificates/{code}")
        assert response.status_code == 404
        assert response.get_json()["message"] == "未找到该验证码对应的证明"


def test_the_openapi_document_describes_the_document_endpoints(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert "/api/v1/documents" in paths
    assert "/api/v1/documents/{document_id}" in paths
    pdf = paths["/api/v1/documents/{document_id}/pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert "/api/v1/public/certificates/{code}" in paths

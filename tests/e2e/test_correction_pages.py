"""Correction requests through the pages, as a browser uses them (Arts. 11–12): the public form
(multipart, with its CSRF token), the status page, reconsideration, and the staff pages of the
enforcing court and of the next higher court. On SQLite, and on PostgreSQL with
BLACKLIST_TEST_DATABASE_URL."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from blacklist.corrections.models import CorrectionRequest, CorrectionStatus
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus
from tests.correction_factories import (
    DEBTOR_ID,
    HTML_AS_PDF,
    JPEG,
    OTHER_ID,
    PDF,
    file_request,
    published,
    reject,
    setup_courts,
)
from tests.e2e.conftest import counts, csrf_token, login
from tests.factories import fast_password_hashing

TABLES = ("correction_requests", "correction_attachments", "reconsiderations", "audit_entries")
_CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def courts(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_courts(session, clock)


@pytest.fixture
def listing(session, clock, courts):
    listing = published(session, clock, courts)
    session.commit()
    return listing


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def form_data(listing, **changes) -> dict:
    data = {
        "public_id": listing.public_id,
        "id_number": DEBTOR_ID,
        "applicant_name": "张三",
        "contact": "13800000000",
        "ground": "should_not_be_listed",
        "explanation": "本人已提供充分有效担保，依法不应被纳入失信名单。",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def files(*items: tuple[bytes, str, str]) -> list:
    return [(io.BytesIO(data), name, declared) for data, name, declared in items]


def submit(client, data: dict, attachments: list | None = None):
    """Post the public form with its CSRF token, as multipart (files or not)."""
    token = csrf_token(client, "/corrections/new")
    body = {**data, "csrf_token": token}
    if attachments is not None:
        body["attachments"] = attachments
    return client.post("/corrections/new", data=body, content_type="multipart/form-data")


def reference_of(html: str) -> str:
    match = re.search(r"JZ(?:-[2-9A-Z]{4}){4}", html)
    assert match, html
    return match.group(0)


def status_page(client, reference: str):
    token = csrf_token(client, "/corrections/status")
    return client.post("/corrections/status", data={"reference": reference, "csrf_token": token})


def ask_reconsideration(client, reference: str, id_number: str = DEBTOR_ID, attachments=None):
    token = csrf_token(client, "/corrections/status")
    body = {
        "reference": reference,
        "id_number": id_number,
        "reasons": "原决定未审查担保材料",
        "csrf_token": token,
    }
    if attachments is not None:
        body["attachments"] = attachments
    return client.post(
        "/corrections/status/reconsideration", data=body, content_type="multipart/form-data"
    )


def staff_post(client, path: str, data: dict, token_from: str):
    token = csrf_token(client, token_from)
    return client.post(path, data={**data, "csrf_token": token})


def stored_request(database, reference: str) -> CorrectionRequest:
    from sqlalchemy.orm import selectinload

    with database.session() as s:
        return s.scalar(
            select(CorrectionRequest)
            .where(CorrectionRequest.reference == reference)
            .options(
                selectinload(CorrectionRequest.attachments),
                selectinload(CorrectionRequest.reconsideration),
            )
        )


def text(response) -> str:
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------------------------------
# The whole journey


def test_request_rejection_reconsideration_overturned_revocation_carried_out(
    app, client, database, clock, courts, listing
):
    # The listed person files with a PDF and a JPEG (named and declared wrongly on purpose).
    response = submit(
        client,
        form_data(listing),
        files((PDF, "担保书.pdf", "application/pdf"), (JPEG, "收据.png", "image/png")),
    )
    assert response.status_code == 201, text(response)
    html = text(response)
    reference = reference_of(html)
    assert "2025年3月18日" in html  # the review deadline, 15 days after Mon 3 March
    stored = stored_request(database, reference)
    assert [(a.filename, a.content_type) for a in stored.attachments] == [
        ("担保书.pdf", "application/pdf"),
        ("收据.png.jpg", "image/jpeg"),  # the detected type's extension is what counts
    ]
    assert [a.data for a in stored.attachments] == [PDF, JPEG]

    # The status page shows it received, without the ID number.
    html = text(status_page(client, reference))
    assert "已受理，待审查" in html and DEBTOR_ID not in html

    # The enforcing court's judge sees it in the list and rejects it.
    judge = signed_in(app, "bj0105-judge")
    assert reference in text(judge.get("/staff/corrections/"))
    show = f"/staff/corrections/{reference}"
    page = text(judge.get(show))
    assert f"/staff/listings/{listing.id}" in page and "担保书.pdf" in page
    response = staff_post(
        judge, f"{show}/decision", {"decision": "reject", "reasons": "担保不足以清偿"}, show
    )
    assert response.status_code == 302
    html = text(status_page(client, reference))
    assert "已驳回" in html and "担保不足以清偿" in html
    assert "2025年3月13日" in html  # the reconsideration window

    # The applicant asks the next higher court, with another attachment.
    clock.set(date(2025, 3, 10))
    response = ask_reconsideration(
        client, reference, attachments=files((PDF, "补充.pdf", "application/pdf"))
    )
    assert response.status_code == 201, text(response)
    assert "北京市第一中级人民法院" in text(response) and "复议审查中" in text(response)

    # The higher court's judge sees it under reconsiderations, without a link to the listing.
    higher = signed_in(app, "bj01-judge")
    review_tab = text(higher.get("/staff/corrections/?tab=review"))
    assert reference not in review_tab[review_tab.index('id="requests"') :]
    reconsideration_tab = text(higher.get("/staff/corrections/?tab=reconsideration"))
    assert reference in reconsideration_tab[reconsideration_tab.index('id="requests"') :]
    page = text(higher.get(show))
    assert f"/staff/listings/{listing.id}" not in page and "补充.pdf" in page
    attachment_id = stored_request(database, reference).attachments[0].id
    download = higher.get(f"{show}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.mimetype == "application/pdf"
    with database.session() as s:  # the listing stays in force during reconsideration
        assert s.get(Listing, listing.id).status is ListingStatus.PUBLISHED

    clock.set(date(2025, 3, 14))  # Friday
    response = staff_post(
        higher,
        f"{show}/reconsideration",
        {"outcome": "overturned", "remedy": "revoke", "reasons": "担保充分，原决定错误"},
        show,
    )
    assert response.status_code == 302
    stored = stored_request(database, reference)
    assert stored.status is CorrectionStatus.ACCEPTED
    assert stored.carry_out_due_on == date(2025, 3, 19)

    # The enforcing court's judge revokes the listing on its own page: the request is carried out.
    listing_page = f"/staff/listings/{listing.id}"
    response = staff_post(
        judge,
        f"{listing_page}/revocation",
        {"reason": "依复议决定撤销", "confirm": "1"},
        listing_page,
    )
    assert response.status_code == 302, text(response)
    assert stored_request(database, reference).status is CorrectionStatus.CARRIED_OUT
    html = text(status_page(client, reference))
    assert "已纠正" in html and "撤销失信名单" in html
    timeline = text(judge.get(show))
    for label in ("提交纠正申请", "决定驳回申请", "申请复议", "作出复议决定", "纠正已落实"):
        assert label in timeline
    # Both decisions were served as documents: the court's and the higher court's.
    documents = timeline[timeline.index('id="documents"') : timeline.index('id="timeline"')]
    assert "北京市第一中级人民法院" in documents
    assert len(re.findall(r'href="/staff/documents/\d+\.pdf"', documents)) == 2


def test_accepted_with_deletion_and_carried_out_by_the_deletion(
    app, client, database, clock, courts, listing
):
    response = submit(client, form_data(listing, ground="should_have_been_deleted"), [])
    reference = reference_of(text(response))
    judge = signed_in(app, "bj0105-judge")
    show = f"/staff/corrections/{reference}"
    clock.set(date(2025, 1, 27))  # Monday before Spring Festival 2025
    response = staff_post(
        judge,
        f"{show}/decision",
        {"decision": "accept", "remedy": "delete", "reasons": "已全部履行"},
        show,
    )
    assert response.status_code == 302
    assert stored_request(database, reference).carry_out_due_on == date(2025, 2, 7)
    page = text(judge.get(show))
    assert "2025-02-07" in page and "删除失信信息" in page
    listing_page = f"/staff/listings/{listing.id}"
    response = staff_post(
        judge,
        f"{listing_page}/deletion",
        {"reason": "performed", "note": "", "confirm": "1"},
        listing_page,
    )
    assert response.status_code == 302, text(response)
    assert stored_request(database, reference).status is CorrectionStatus.CARRIED_OUT


# --------------------------------------------------------------------------------------------------
# Refusals


def test_a_mismatch_looks_the_same_for_an_unknown_id_a_wrong_number_and_a_removed_listing(
    app, client, database, session, clock, courts, listing
):
    from blacklist.listing import services as listings
    from tests.factories import person_draft, publish_listing

    removed = publish_listing(
        session, clock, courts["enforcing"],
        person_draft(id_number=OTHER_ID, case_number="(2024)京0105执77号"),
    )  # fmt: skip
    listings.revoke_listing(
        session, removed.id, "纳入错误", actor=courts["enforcing"]["judge"], clock=clock
    )
    session.commit()
    before = counts(database, TABLES)
    cases = {
        "unknown": form_data(listing, public_id="q" * 16),
        "wrong number": form_data(listing, id_number=OTHER_ID),
        "removed": form_data(listing, public_id=removed.public_id, id_number=OTHER_ID),
    }
    pages = {}
    for case, data in cases.items():
        response = submit(client, data, files((PDF, "a.pdf", "application/pdf")))
        assert response.status_code == 422, case
        html = text(response)
        assert "名单编号与证件号码不匹配，或该名单当前未公布" in html
        html = _CSRF_VALUE.sub("", html).replace(data["public_id"], "PUBLIC_ID")
        pages[case] = html
    assert pages["unknown"] == pages["wrong number"] == pages["removed"]
    assert counts(database, TABLES) == before


def test_oversized_and_fake_pdf_attachments_are_refused_with_nothing_stored(
    app, client, database, courts, listing
):
    app.config["CORRECTION_ATTACHMENT_MAX_BYTES"] = 1024
    before = counts(database, TABLES)
    big = b"%PDF-1.4\n" + b"0" * 1024
    response = submit(client, form_data(listing), files((big, "big.pdf", "application/pdf")))
    assert response.status_code == 422
    assert "超过1024字节的大小限制" in text(response)
    response = submit(
        client, form_data(listing), files((HTML_AS_PDF, "证据.pdf", "application/pdf"))
    )
    assert response.status_code == 422
    assert "不是PDF文件或JPEG图片" in text(response)
    assert "<script>alert(1)" not in text(response)
    assert counts(database, TABLES) == before


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(app, client, database, listing):
    app.config["CORRECTION_ATTACHMENT_MAX_BYTES"] = 1024
    huge = b"%PDF-" + b"0" * (5 * 1024 * 1024)
    before = counts(database, TABLES)
    body = {
        **form_data(listing),
        "csrf_token": csrf_token(client, "/corrections/new"),
        "attachments": files((huge, "huge.pdf", "application/pdf")),
    }
    # The test client spools a body this large to a temporary file: close it ourselves.
    builder = EnvironBuilder(
        path="/corrections/new", method="POST", data=body, content_type="multipart/form-data"
    )
    environ = builder.get_environ()
    try:
        response = client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
    assert response.status_code == 413
    assert counts(database, TABLES) == before


def test_a_form_without_its_csrf_token_is_refused(client, database, listing):
    response = client.post(
        "/corrections/new", data=form_data(listing), content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert counts(database, TABLES)["correction_requests"] == 0


def test_a_script_in_the_explanation_is_shown_escaped_to_staff(
    app, client, database, courts, listing
):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = submit(client, form_data(listing, explanation=script, applicant_name="<b>张三</b>"))
    reference = reference_of(text(response))
    page = text(signed_in(app, "bj0105-clerk").get(f"/staff/corrections/{reference}"))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>张三" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;张三&lt;/b&gt;" in page


def test_a_resubmission_is_refused_without_revealing_the_first_reference(client, listing):
    first = reference_of(text(submit(client, form_data(listing))))
    response = submit(client, form_data(listing))
    assert response.status_code == 409
    assert "正在处理" in text(response) and first not in text(response)


def test_reconsideration_on_day_eleven_is_refused_with_the_deadline(
    client, database, session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)  # Mon 3 March: window until Thu 13 March
    session.commit()
    html = text(status_page(client, request.reference))
    assert 'id="reconsideration-form"' in html and "2025年3月13日" in html
    clock.set(date(2025, 3, 14))
    html = text(status_page(client, request.reference))
    assert "复议申请期限已于2025年3月13日届满" in html
    assert 'action="/corrections/status/reconsideration"' not in html  # the form is gone...
    before = counts(database, TABLES)
    response = ask_reconsideration(client, request.reference)  # ...and a post is refused too
    assert response.status_code == 422
    assert "复议申请期限已于2025年3月13日届满" in text(response)
    assert counts(database, TABLES) == before


def test_reconsideration_with_another_persons_number_is_refused(
    client, database, session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    session.commit()
    response = ask_reconsideration(client, request.reference, id_number=OTHER_ID)
    assert response.status_code == 422
    assert "证件号码与原申请人不一致" in text(response)
    assert stored_request(database, request.reference).reconsideration is None


def test_an_unknown_reference_is_not_found(client):
    response = status_page(client, "JZ-2222-3333-4444-5555")
    assert response.status_code == 404
    assert "未找到该查询编号" in text(response)


# --------------------------------------------------------------------------------------------------
# Staff access


def test_another_courts_staff_get_404_everywhere(app, session, clock, courts, listing):
    request = file_request(session, clock, listing)
    session.commit()
    attachment_id = request.attachments[0].id
    show = f"/staff/corrections/{request.reference}"
    other = signed_in(app, "sh0101-judge")
    assert request.reference not in text(other.get("/staff/corrections/"))
    assert other.get(show).status_code == 404
    assert other.get(f"{show}/attachments/{attachment_id}").status_code == 404
    token = csrf_token(other, "/staff/corrections/")
    response = other.post(
        f"{show}/decision", data={"decision": "reject", "reasons": "不成立", "csrf_token": token}
    )
    assert response.status_code == 404
    higher = signed_in(app, "bj01-judge")  # before any reconsideration: not its business
    assert higher.get(show).status_code == 404


def test_a_clerk_reads_but_cannot_decide(app, database, session, clock, courts, listing):
    request = file_request(session, clock, listing)
    session.commit()
    show = f"/staff/corrections/{request.reference}"
    clerk = signed_in(app, "bj0105-clerk")
    page = text(clerk.get(show))
    assert "具体理由" in page and 'id="act-decision"' not in page
    response = staff_post(
        clerk, f"{show}/decision", {"decision": "reject", "reasons": "不成立"}, show
    )
    assert response.status_code == 403
    assert stored_request(database, request.reference).status is CorrectionStatus.RECEIVED


def test_a_decision_without_reasons_is_shown_again_with_the_error(
    app, database, session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    session.commit()
    show = f"/staff/corrections/{request.reference}"
    judge = signed_in(app, "bj0105-judge")
    response = staff_post(judge, f"{show}/decision", {"decision": "accept", "reasons": ""}, show)
    assert response.status_code == 422
    html = text(response)
    assert "请填写决定理由" in html and "请选择纠正方式" in html
    assert stored_request(database, request.reference).status is CorrectionStatus.RECEIVED


def test_the_dashboard_panel_lists_the_courts_deadlines(app, session, clock, courts, listing):
    request = file_request(session, clock, listing)
    session.commit()
    page = text(signed_in(app, "bj0105-clerk").get("/staff/corrections/"))
    panel = page[page.index('id="correction-deadlines"') :]
    assert request.reference in panel and "审查纠正申请" in panel and "2025-03-18" in panel


def test_the_public_form_is_rate_limited_per_client(app, client, listing):
    app.config["CORRECTION_RATE_LIMIT"] = "2 per minute"
    wrong = form_data(listing, id_number=OTHER_ID)
    assert submit(client, wrong).status_code == 422
    assert status_page(client, "JZ-2222-3333-4444-5555").status_code == 404
    response = submit(client, wrong)
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert client.get("/corrections/new").status_code == 200  # reading the form is not limited


def test_an_overdue_review_is_a_dashboard_alert_linking_to_the_requests(
    app, database, session, clock, courts, listing
):
    from blacklist.scheduler.jobs import JobContext, run_job

    request = file_request(session, clock, listing)  # review due Tue 18 March
    session.commit()
    clock.set(date(2025, 3, 19))
    run_job("deadline_alerts", JobContext(database, clock))
    page = text(signed_in(app, "bj0105-judge").get("/staff/"))
    alerts = page[page.index('id="system-alerts"') :]
    assert request.reference in alerts and "已逾期" in alerts
    assert 'href="/staff/corrections/?tab=review"' in alerts
    assert "/staff/listings/" not in alerts[: alerts.index("</section>")]

"""Decision documents and deletion certificates (issue #7 item 4) against the database: written in
the same transaction as the act, numbered, frozen, rendered to a PDF that opens and carries its
text (DOMAIN.md §2 Arts. 5, 9–12; §3; §6)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blacklist.audit.models import AuditEntry
from blacklist.core.actor import Actor
from blacklist.core.errors import NotFound, ValidationFailed
from blacklist.core.identity import mask_id_number
from blacklist.corrections.models import (
    CorrectionGround,
    CorrectionRequest,
    CorrectionStatus,
    Reconsideration,
    ReconsiderationOutcome,
    Remedy,
)
from blacklist.documents import queries, render, services
from blacklist.documents.models import Document, DocumentKind
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import ListingPatch, PaymentIn, PersonIn, SubjectIn
from blacklist.listing.models import Case, Listing
from blacklist.listing.rules import PersonRole
from blacklist.restrictions.catalogue import CONSUMPTION_MEASURES, mask_of
from blacklist.restrictions.models import OrderKind, OrderStatus, RestrictionOrder
from blacklist.staff import services as staff
from blacklist.staff.models import Court
from tests.factories import (
    case_in,
    fast_password_hashing,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)

DEBTOR_ID = resident_id("19800101", "123")
DECISION = "(2025)京0105执恢1号决定书"


@pytest.fixture
def court(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    actors = setup_court(session, clock)
    session.commit()
    return actors


def _docs(session, listing_id, kind=None):
    query = select(Document).where(Document.listing_id == listing_id).order_by(Document.id)
    if kind is not None:
        query = query.where(Document.kind == kind)
    return list(session.scalars(query))


def _pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def _squeeze(text: str) -> str:
    """pdftotext breaks lines where the PDF wraps them: compare without whitespace."""
    return "".join(text.split())


# --------------------------------------------------------------------------------------------------
# The listing decision


def test_approving_a_listing_writes_the_listing_decision_with_the_judges_number(
    session, clock, court
):
    listing = publish_listing(
        session, clock, court, person_draft(id_number=DEBTOR_ID), decision_number=DECISION
    )

    (decision,) = _docs(session, listing.id)
    assert decision.kind is DocumentKind.LISTING_DECISION
    assert decision.number == DECISION
    assert decision.issued_on == date(2025, 3, 3)
    assert decision.court_id == listing.court_id
    content = decision.content
    assert content["title"] == "纳入失信被执行人名单决定书"
    assert content["court"]["name"] == "BJ0105人民法院"
    assert content["issued_on_text"] == "二〇二五年三月三日"
    assert content["debtor"]["name"] == "张三"
    assert content["debtor"]["id_masked"] == mask_id_number(DEBTOR_ID)
    assert content["case"]["case_number"] == "（2024）京0105执1234号"
    assert content["case"]["amount_due"] == "100000.00"
    assert content["judge"] == court["judge"].name
    assert content["grounds"] == [
        {"code": "refuses_with_ability", "label": "有履行能力而拒不履行生效法律文书确定义务"}
    ]
    assert content["legal_basis"].endswith("第一条第一项、第二条、第五条")
    body = "".join(content["paragraphs"])
    assert "不设固定期限" in body and "乘坐飞机" in body
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "document.issued"))
    assert [(e.entity_id, e.after["number"]) for e in entries] == [(str(decision.id), DECISION)]


def test_a_termed_listing_decision_states_two_years_and_the_end_date(session, clock, court):
    listing = publish_listing(session, clock, court, person_draft(grounds=("evades",)))

    (decision,) = _docs(session, listing.id)
    assert decision.content["term"] == {"years": 2, "ends_on": "2027-03-03"}
    assert "失信期限二年，自2025年3月3日起至2027年3月3日止" in "".join(
        decision.content["paragraphs"]
    )
    assert "第一条第三项、第二条、第五条" in decision.content["legal_basis"]


def test_the_content_is_json_safe_and_never_holds_the_full_id_number(session, clock, court):
    rep_id = resident_id("19700505", "235")
    listing = publish_listing(
        session, clock, court,
        organisation_draft(representative=PersonIn(name="李四", id_number=rep_id)),
    )  # fmt: skip

    (decision,) = _docs(session, listing.id)
    text = json.dumps(decision.content, ensure_ascii=False)
    assert json.loads(text) == decision.content
    assert rep_id not in text
    assert decision.content["debtor"]["bound_persons"] == [
        {
            "role": "legal_representative",
            "role_label": "法定代表人",
            "name": "李四",
            "id_masked": mask_id_number(rep_id),
        }
    ]


def test_the_pdf_opens_and_carries_number_court_and_debtor_with_the_font_embedded(
    session, clock, court, tmp_path
):
    for tool in ("pdftoppm", "pdffonts", "pdftotext"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} (poppler-utils) is not installed")
    listing = publish_listing(
        session, clock, court, person_draft(name="阿依古丽·买买提", id_number=DEBTOR_ID)
    )
    (decision,) = _docs(session, listing.id)

    pdf = services.pdf_of(decision)

    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "decision.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))
    text = _squeeze(_pdf_text(pdf, tmp_path))
    assert _squeeze(DECISION) in text
    assert "BJ0105人民法院" in text
    assert "阿依古丽·买买提" in text
    assert DEBTOR_ID not in text
    assert mask_id_number(DEBTOR_ID) in text
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout
    font_lines = [line for line in fonts.splitlines() if "NotoSerifCJK" in line]
    assert font_lines and all(" yes yes yes " in f" {line} " for line in font_lines)


def test_a_name_outside_the_basic_plane_is_rendered_and_extractable(
    session, clock, court, tmp_path
):
    listing = publish_listing(session, clock, court, person_draft(name="𠮷野家"))
    (decision,) = _docs(session, listing.id)

    text = _squeeze(_pdf_text(services.pdf_of(decision), tmp_path))

    assert "𠮷野家" in text


def test_rendering_the_same_document_twice_gives_identical_bytes(session, clock, court):
    listing = publish_listing(session, clock, court)
    (decision,) = _docs(session, listing.id)

    first = services.pdf_of(decision)
    render.clear_cache()  # render again for real, not from the cache
    second = services.pdf_of(session.get(Document, decision.id))

    assert first == second


def test_a_later_correction_does_not_rewrite_the_served_decision(session, clock, court, tmp_path):
    listing = publish_listing(session, clock, court, person_draft(name="张三"))
    listing_services.edit_listing(
        session, listing.id,
        ListingPatch(
            subject=SubjectIn(kind="person", name="张叁", id_number=resident_id()),
            reason="姓名录入错误，依第九条更正",
        ),
        actor=court["clerk"], clock=clock,
    )  # fmt: skip

    (decision,) = _docs(session, listing.id)
    assert decision.content["debtor"]["name"] == "张三"
    text = _squeeze(_pdf_text(services.pdf_of(decision), tmp_path))
    assert "张三" in text and "张叁" not in text


# --------------------------------------------------------------------------------------------------
# Deletion, expiry, revocation: decision + certificate


def test_deletion_after_full_performance_writes_a_deletion_decision_and_a_certificate(
    session, clock, court, system_actor
):
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR_ID))
    listing_services.record_performance(
        session, listing.id, PaymentIn(amount=Decimal("100000.00"), performed_on=clock.today(),
                                       full=True),
        actor=court["clerk"], clock=clock,
    )  # fmt: skip
    clock.advance(days=3)  # Thu 2025-03-06: the third working day
    assert listing_services.carry_out_due_deletion(
        session, listing.id, actor=system_actor, clock=clock
    )

    kinds = [d.kind for d in _docs(session, listing.id)]
    assert kinds == [
        DocumentKind.LISTING_DECISION,
        DocumentKind.DELETION_DECISION,
        DocumentKind.DELETION_CERTIFICATE,
    ]
    _, deletion, certificate = _docs(session, listing.id)
    assert deletion.number == "（2024）京0105执1234号之二"
    assert deletion.issued_on == date(2025, 3, 6)
    assert deletion.content["judge"] is None  # the scheduler acted, no judge signed
    assert deletion.content["removal"]["reason"] == "performed"
    assert "第十条" in deletion.content["legal_basis"]
    assert "删除被执行人张三的失信信息。" in deletion.content["paragraphs"]
    assert certificate.number == "（2024）京0105执1234号之二（证明）"
    assert certificate.content["title"] == "失信信息删除证明"
    assert certificate.content["decision_number"] == deletion.number
    assert certificate.content["verification_path"] == "/certificates/verify"
    assert certificate.content["debtor"]["id_masked"] == mask_id_number(DEBTOR_ID)
    assert DEBTOR_ID not in json.dumps(certificate.content, ensure_ascii=False)


def test_a_judges_deletion_is_signed_by_the_judge(session, clock, court):
    listing = publish_listing(session, clock, court)
    listing_services.delete_listing(
        session, listing.id, "terminated", actor=court["judge"], clock=clock
    )

    deletion = _docs(session, listing.id, DocumentKind.DELETION_DECISION)[0]
    assert deletion.content["judge"] == court["judge"].name
    assert deletion.content["removal"]["reason_label"] == "人民法院依法裁定终结执行"


def test_expiry_writes_a_deletion_decision_and_a_certificate(session, clock, court, system_actor):
    listing = publish_listing(session, clock, court, person_draft(grounds=("evades",)))
    clock.set(date(2027, 3, 3))
    assert listing_services.expire_listing(session, listing.id, actor=system_actor, clock=clock)

    deletion = _docs(session, listing.id, DocumentKind.DELETION_DECISION)[0]
    certificate = _docs(session, listing.id, DocumentKind.DELETION_CERTIFICATE)[0]
    assert deletion.content["removal"]["reason_label"] == "失信期限届满"
    assert deletion.content["legal_basis"].endswith("第二条、第十条")
    assert certificate.content["removal"]["on"] == "2027-03-03"


def test_revocation_writes_a_revocation_decision_and_a_certificate_of_revocation(
    session, clock, court
):
    listing = publish_listing(session, clock, court)
    listing_services.revoke_listing(
        session,
        listing.id,
        "被执行人已提供充分有效担保，不应纳入",
        actor=court["judge"],
        clock=clock,
    )

    _, revocation, certificate = _docs(session, listing.id)
    assert revocation.kind is DocumentKind.REVOCATION_DECISION
    assert revocation.content["title"] == "撤销失信信息决定书"
    assert revocation.content["legal_basis"].endswith("第九条")
    assert "经查，被执行人已提供充分有效担保，不应纳入。" in revocation.content["paragraphs"]
    assert certificate.kind is DocumentKind.DELETION_CERTIFICATE
    assert certificate.content["title"] == "失信信息撤销证明"
    assert certificate.content["reasons"] is None
    assert certificate.number == revocation.number + "（证明）"


def test_a_refused_deletion_writes_no_document(session, clock, court):
    listing = publish_listing(session, clock, court)
    with pytest.raises(ValidationFailed):
        listing_services.delete_listing(
            session, listing.id, "creditor_request", actor=court["judge"], clock=clock
        )

    assert [d.kind for d in _docs(session, listing.id)] == [DocumentKind.LISTING_DECISION]


# --------------------------------------------------------------------------------------------------
# Orders (hand-built rows: the order services are being written in parallel)


def _standalone_order(session, clock, court, *, kind, subject_in, measures, **extra):
    subject = listing_services.build_subject(session, subject_in, on=clock.today())
    case_data = listing_services.case_fields(
        case_in("(2024)京0105执777号"), court_id=court["judge"].court_id, today=clock.today()
    )
    order = RestrictionOrder(
        kind=kind,
        court_id=court["judge"].court_id,
        subject=subject,
        case=Case(**case_data, created_at=clock.now()),
        measures=mask_of(measures),
        status=OrderStatus.ACTIVE,
        issued_on=clock.today(),
        issued_by_id=court["judge"].user_id,
        created_at=clock.now(),
        **extra,
    )
    session.add(order)
    session.flush()
    return order


def test_a_standalone_consumption_order_of_an_organisation_binds_its_legal_representative(
    session, clock, court, tmp_path
):
    rep_id = resident_id("19700505", "235")
    order = _standalone_order(
        session, clock, court, kind=OrderKind.CONSUMPTION,
        subject_in=SubjectIn(kind="organisation", name="北京某某商贸有限公司",
                             credit_code=organisation_draft().subject.credit_code,
                             legal_representative=PersonIn(name="李四", id_number=rep_id)),
        measures=CONSUMPTION_MEASURES, decision_number="(2025)京0105执限12号",
        reasons="被执行人未按执行通知书指定的期间履行给付义务",
    )  # fmt: skip

    document = services.issue_for_order(
        session, DocumentKind.CONSUMPTION_ORDER, order, actor=court["judge"], clock=clock
    )

    assert document.number == "(2025)京0105执限12号"
    assert document.order_id == order.id and document.listing_id is None
    assert document.content["title"] == "限制消费令"
    assert "第一条、第三条" in document.content["legal_basis"]
    body = "".join(document.content["paragraphs"])
    assert "限制北京某某商贸有限公司及其法定代表人李四实施下列" in body
    assert "（一）乘坐飞机" in body
    assert rep_id not in json.dumps(document.content, ensure_ascii=False)
    text = _squeeze(_pdf_text(services.pdf_of(document), tmp_path))
    assert "限制消费令" in text and "(2025)京0105执限12号" in text


def test_an_exit_ban_names_the_organisation_of_the_barred_person_and_is_lifted_by_decision(
    session, clock, court
):
    order = _standalone_order(
        session, clock, court, kind=OrderKind.EXIT,
        subject_in=SubjectIn(kind="person", name="王五", id_number=resident_id("19750101", "111")),
        measures=("exit",), person_role=PersonRole.LEGAL_REPRESENTATIVE,
        organisation_name="北京某某商贸有限公司", organisation_code="91110105MA00000010",
    )  # fmt: skip

    ban = services.issue_for_order(
        session, DocumentKind.EXIT_BAN, order, actor=court["judge"], clock=clock
    )
    order.status, order.lifted_on = OrderStatus.LIFTED, date(2025, 3, 4)
    order.lift_reason, order.lift_note = "security", "被执行人提供银行保函"
    lifting = services.issue_for_order(
        session, DocumentKind.ORDER_LIFTING, order, actor=court["judge"], clock=clock
    )

    assert ban.number == "（2024）京0105执777号之一"
    assert ban.content["title"] == "限制出境决定书"
    assert "第二百六十六条" in ban.content["legal_basis"]
    assert "限制王五（被执行人北京某某商贸有限公司" in "".join(ban.content["paragraphs"])
    assert lifting.number == "（2024）京0105执777号之二"
    assert lifting.content["title"] == "解除限制出境决定书"
    assert lifting.issued_on == date(2025, 3, 4)
    body = "".join(lifting.content["paragraphs"])
    assert "现因被执行人提供了确实有效的担保（被执行人提供银行保函）" in body
    assert "解除对王五" in body


def test_a_listing_linked_consumption_order_is_listed_with_the_listing(session, clock, court):
    listing = publish_listing(session, clock, court)
    order = RestrictionOrder(
        kind=OrderKind.CONSUMPTION, court_id=listing.court_id, listing_id=listing.id,
        measures=mask_of(CONSUMPTION_MEASURES), status=OrderStatus.ACTIVE,
        issued_on=clock.today(), created_at=clock.now(),
    )  # fmt: skip
    session.add(order)
    session.flush()

    document = services.issue_for_order(
        session, DocumentKind.CONSUMPTION_ORDER, order, actor=court["judge"], clock=clock
    )

    assert document.number == "（2024）京0105执1234号之二"
    assert document in queries.documents_for(session, listing_id=listing.id)
    assert queries.documents_for(session, order_id=order.id) == [document]


# --------------------------------------------------------------------------------------------------
# Correction decisions and reconsideration (hand-built rows)


@pytest.fixture
def higher_court(session, clock, court):
    staff.create_court(
        session, code="BJ01", name="北京市第一中级人民法院", province="北京",
        actor=Actor.system("test"), clock=clock,
    )  # fmt: skip
    lower = session.scalar(select(Court).where(Court.code == "BJ0105"))
    upper = session.scalar(select(Court).where(Court.code == "BJ01"))
    lower.parent_id = upper.id
    judge = staff.create_staff_user(
        session, court_code="BJ01", role=court["judge"].role, username="bj01-judge",
        password="correct horse battery", actor=Actor.system("test"), clock=clock,
    )  # fmt: skip
    session.commit()
    return upper, judge.as_actor()


def _request(session, clock, listing, **fields):
    values = {
        "listing_id": listing.id,
        "court_id": listing.court_id,
        "ground": CorrectionGround.SHOULD_NOT_BE_LISTED,
        "explanation": "已提供担保",
        "applicant_name": "张三",
        "applicant_hash": "0" * 64,
        "status": CorrectionStatus.REJECTED,
        "submitted_at": clock.now(),
        "submitted_on": clock.today(),
        "review_due_on": clock.today() + timedelta(days=15),
        "decided_on": clock.today(),
        "decision_reasons": "被执行人未提供充分有效担保",
        "updated_at": clock.now(),
    }
    request = CorrectionRequest(**{**values, **fields})
    session.add(request)
    session.flush()
    return request


def test_a_rejected_correction_request_is_decided_with_the_reconsideration_notice(
    session, clock, court
):
    listing = publish_listing(session, clock, court)
    request = _request(session, clock, listing)

    document = services.issue_for_correction(
        session, DocumentKind.CORRECTION_DECISION, request, actor=court["judge"], clock=clock
    )

    assert document.kind is DocumentKind.CORRECTION_DECISION
    assert document.correction_id == request.id and document.listing_id == listing.id
    assert document.number == "（2024）京0105执1234号之二"
    assert document.content["accepted"] is False
    assert document.content["legal_basis"].endswith("第十二条")
    paragraphs = document.content["paragraphs"]
    assert "驳回申请人的纠正申请。" in paragraphs
    assert paragraphs[-1] == (
        "如不服本决定，可以自收到决定书之日起十日内向上一级人民法院申请复议。"
    )


def test_an_accepted_correction_request_states_the_remedy(session, clock, court):
    listing = publish_listing(session, clock, court)
    request = _request(
        session, clock, listing, status=CorrectionStatus.ACCEPTED, remedy=Remedy.REVOKE
    )

    document = services.issue_for_correction(
        session, DocumentKind.CORRECTION_DECISION, request, actor=court["judge"], clock=clock,
        number="(2025)京0105执异3号",
    )  # fmt: skip

    assert document.number == "(2025)京0105执异3号"
    assert "第十一条、第十二条" in document.content["legal_basis"]
    body = "".join(document.content["paragraphs"])
    assert "予以撤销" in body and "十日内" not in body


def test_the_higher_court_decides_the_reconsideration_and_both_courts_see_it(
    session, clock, court, higher_court
):
    upper, upper_judge = higher_court
    listing = publish_listing(session, clock, court)
    request = _request(session, clock, listing, status=CorrectionStatus.REJECTION_UPHELD)
    first = services.issue_for_correction(
        session, DocumentKind.CORRECTION_DECISION, request, actor=court["judge"], clock=clock
    )
    request.reconsideration = Reconsideration(
        court_id=upper.id, applicant_reasons="不服", submitted_at=clock.now(),
        submitted_on=clock.today(), decision_due_on=clock.today() + timedelta(days=15),
        decided_on=clock.today(), outcome=ReconsiderationOutcome.UPHELD,
        decision_reasons="原决定认定事实清楚",
    )  # fmt: skip
    session.flush()

    decision = services.issue_for_correction(
        session, DocumentKind.RECONSIDERATION_DECISION, request, actor=upper_judge, clock=clock
    )

    assert decision.court_id == upper.id
    assert decision.content["court"]["name"] == "北京市第一中级人民法院"
    assert decision.content["correction_number"] == first.number
    assert "驳回复议申请，维持原决定。" in decision.content["paragraphs"]
    session.commit()
    # The enforcing court sees the higher court's decision, and the higher court the first one.
    assert services.get_document(session, decision.id, actor=court["clerk"]) == decision
    assert services.get_document(session, first.id, actor=upper_judge) == first
    # The higher court does not see the enforcing court's other documents.
    listing_decision = _docs(session, listing.id, DocumentKind.LISTING_DECISION)[0]
    with pytest.raises(NotFound):
        services.get_document(session, listing_decision.id, actor=upper_judge)


# --------------------------------------------------------------------------------------------------
# Reading: court scoping, public certificate lookups


def test_another_courts_staff_cannot_see_a_document(session, clock, court):
    other = setup_court(session, clock, "SH0101", province="上海")
    listing = publish_listing(session, clock, court)
    (decision,) = _docs(session, listing.id)

    with pytest.raises(NotFound):
        services.get_document(session, decision.id, actor=other["judge"])
    with pytest.raises(NotFound):
        services.download(session, decision.id, actor=other["judge"], clock=clock)
    assert queries.documents_for(session, listing_id=listing.id, actor=other["judge"]) == []
    assert queries.list_documents(session, actor=other["clerk"])[1] == 0


def test_a_download_is_audited(session, clock, court):
    listing = publish_listing(session, clock, court)
    (decision,) = _docs(session, listing.id)

    pdf, filename = services.download(session, decision.id, actor=court["clerk"], clock=clock)

    assert pdf.startswith(b"%PDF-")
    assert filename == f"纳入失信被执行人名单决定书-{DECISION}.pdf"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "document.downloaded"))
    assert entry.actor_id == court["clerk"].user_id and entry.entity_id == str(decision.id)


def _deleted(session, clock, court, draft=None) -> Listing:
    listing = publish_listing(session, clock, court, draft or person_draft(id_number=DEBTOR_ID))
    listing_services.delete_listing(
        session, listing.id, "terminated", actor=court["judge"], clock=clock
    )
    return listing


def test_a_certificate_is_found_by_its_code_in_any_case_with_or_without_hyphens(
    session, clock, court
):
    listing = _deleted(session, clock, court)
    certificate = _docs(session, listing.id, DocumentKind.DELETION_CERTIFICATE)[0]
    code = certificate.verification_code

    assert queries.certificate_by_code(session, code) == certificate
    assert queries.certificate_by_code(session, code.lower().replace("-", "")) == certificate
    assert queries.certificate_by_code(session, " " + code.lower().replace("-", " ")) == certificate
    assert queries.certificate_by_code(session, "2222-2222-2222-2222") is None
    assert queries.certificate_by_code(session, "not a code") is None


def test_a_listing_decisions_code_is_not_publicly_verifiable(session, clock, court):
    listing = _deleted(session, clock, court)
    decision = _docs(session, listing.id, DocumentKind.LISTING_DECISION)[0]

    assert queries.certificate_by_code(session, decision.verification_code) is None


def test_the_debtor_finds_the_certificate_with_the_public_id_and_own_id_number(
    session, clock, court
):
    listing = _deleted(session, clock, court)
    certificate = _docs(session, listing.id, DocumentKind.DELETION_CERTIFICATE)[0]

    assert queries.certificate_for_debtor(session, listing.public_id, DEBTOR_ID) == certificate
    assert (
        queries.certificate_for_debtor(session, listing.public_id.upper(), DEBTOR_ID.lower())
        == certificate
    )
    assert (
        queries.certificate_for_debtor(session, listing.public_id, resident_id(sequence="125"))
        is None
    )
    assert queries.certificate_for_debtor(session, "unknownpublicid", DEBTOR_ID) is None
    with pytest.raises(ValidationFailed):
        queries.certificate_for_debtor(session, listing.public_id, "12345")


def test_a_published_listing_has_no_certificate_to_download(session, clock, court):
    listing = publish_listing(session, clock, court, person_draft(id_number=DEBTOR_ID))

    assert queries.certificate_for_debtor(session, listing.public_id, DEBTOR_ID) is None


def test_numbers_count_the_documents_of_the_case_at_the_court(session, clock, court):
    first = publish_listing(session, clock, court, person_draft(id_number=DEBTOR_ID))
    second = publish_listing(
        session, clock, court, person_draft(name="李雷", id_number=resident_id("19820202", "333")),
        decision_number="(2025)京0105执恢2号决定书",
    )  # fmt: skip
    listing_services.delete_listing(
        session, first.id, "terminated", actor=court["judge"], clock=clock
    )
    listing_services.delete_listing(
        session, second.id, "terminated", actor=court["judge"], clock=clock
    )

    numbers = [d.number for d in _docs(session, first.id) + _docs(session, second.id)]
    # Two decisions of the case, then the deletions 之三 and 之四 (certificates not counted).
    assert numbers == [
        "(2025)京0105执恢1号决定书",
        "（2024）京0105执1234号之三",
        "（2024）京0105执1234号之三（证明）",
        "(2025)京0105执恢2号决定书",
        "（2024）京0105执1234号之四",
        "（2024）京0105执1234号之四（证明）",
    ]


def test_the_configured_font_path_is_used(session, clock, court, tmp_path):
    listing = publish_listing(session, clock, court)
    (decision,) = _docs(session, listing.id)
    missing = tmp_path / "no-such-font.otf"

    with pytest.raises(FileNotFoundError):
        render.render_pdf(
            decision.content,
            verification_code=decision.verification_code,
            created_at=decision.created_at,
            font_path=missing,
        )


def test_render_cost_is_paid_once_per_document(session, clock, court, monkeypatch):
    """Repeated downloads are served from the per-process cache (identical bytes)."""
    listing = publish_listing(session, clock, court)
    (decision,) = _docs(session, listing.id)
    render.clear_cache()
    calls = []
    original = render._render

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(render, "_render", counting)
    first = services.pdf_of(decision)
    second = services.pdf_of(decision)
    assert first == second and len(calls) == 1

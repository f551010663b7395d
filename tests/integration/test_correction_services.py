"""Correction requests and reconsideration through the services on the test database (Arts.
11–12): filing, the identical refusal of mismatches, one open request at a time, decisions and their
deadlines, reconsideration by the next higher court, carrying out through the listing's own acts,
the audit trail without full ID numbers, and nothing changed by a refused act."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from blacklist.audit.models import AuditEntry
from blacklist.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from blacklist.corrections import rules, services
from blacklist.corrections.inputs import (
    AttachmentIn,
    DecisionIn,
    ReconsiderationDecisionIn,
    ReconsiderationIn,
)
from blacklist.corrections.models import (
    CorrectionAttachment,
    CorrectionRequest,
    CorrectionStatus,
    Remedy,
)
from blacklist.corrections.queries import deadlines_for_court
from blacklist.listing import services as listings
from blacklist.listing.inputs import CaseIn, ListingPatch
from blacklist.listing.rules import ListingStatus
from tests.correction_factories import (
    DEBTOR_ID,
    HTML_AS_PDF,
    JPEG,
    OTHER_ID,
    PDF,
    correction_in,
    file_request,
    published,
    reject,
    setup_courts,
)
from tests.factories import fast_password_hashing, table_contents

APPLICANT = services.public_actor("127.0.0.1")

CORRECTION_TABLES = ("correction_requests", "correction_attachments", "reconsiderations")


@pytest.fixture
def courts(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_courts(session, clock)


@pytest.fixture
def listing(session, clock, courts):
    return published(session, clock, courts)


def everything(session):
    return table_contents(session, (*CORRECTION_TABLES, "audit_entries", "listings"))


# --------------------------------------------------------------------------------------------------
# Filing


def test_a_listed_person_files_a_request_reviewed_within_fifteen_days(session, clock, listing):
    request = file_request(session, clock, listing, attachments=(
        AttachmentIn("还款凭证.pdf", PDF), AttachmentIn("../收据.JPG", JPEG),
    ))  # fmt: skip
    assert request.status is CorrectionStatus.RECEIVED
    assert request.reference.startswith("JZ-") and len(request.reference) == 22
    assert request.court_id == listing.court_id
    assert request.submitted_on == date(2025, 3, 3)
    assert request.review_due_on == date(2025, 3, 18)
    assert [(a.filename, a.content_type, a.stage) for a in request.attachments] == [
        ("还款凭证.pdf", "application/pdf", "application"),
        ("收据.jpg", "image/jpeg", "application"),
    ]
    assert request.applicant_hash == session.info["vault"].hash(DEBTOR_ID)
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "correction.submitted")
    ).all()
    assert (entry.actor_kind, entry.actor_name, entry.ip) == ("public", "申请人", "203.0.113.9")
    assert entry.after["reference"] == request.reference


def test_an_organisation_debtor_files_with_its_credit_code(session, clock, courts):
    from tests.factories import credit_code, organisation_draft, publish_listing

    code = credit_code()
    listing = publish_listing(session, clock, courts["enforcing"], organisation_draft(code=code))
    request = file_request(session, clock, listing, id_number=code.lower())
    assert request.status is CorrectionStatus.RECEIVED


@pytest.mark.parametrize("case", ["unknown id", "wrong number", "removed", "grace period"])
def test_a_mismatch_is_refused_the_same_way_whatever_its_cause(session, clock, courts, case):
    listing = published(session, clock, courts)
    changes = {}
    if case == "unknown id":
        changes["public_id"] = "a" * 16
    elif case == "wrong number":
        changes["id_number"] = OTHER_ID
    elif case == "removed":
        listings.revoke_listing(
            session, listing.id, "纳入错误", actor=courts["enforcing"]["judge"], clock=clock
        )
    else:
        from tests.factories import person_draft, publish_listing

        listing = publish_listing(
            session, clock, courts["enforcing"],
            person_draft(id_number=OTHER_ID, case_number="(2024)京0105执9号", grace_days=30),
        )  # fmt: skip
        assert listing.status is ListingStatus.APPROVED
        changes["id_number"] = OTHER_ID
    before = everything(session)
    with pytest.raises(ValidationFailed) as refused:
        file_request(session, clock, listing, **changes)
    assert (refused.value.status, refused.value.message) == (422, rules.MISMATCH)
    assert refused.value.errors == {"public_id": [rules.MISMATCH]}
    assert everything(session) == before


def test_bad_input_is_reported_field_by_field_and_nothing_is_stored(session, clock, listing):
    before = everything(session)
    with pytest.raises(ValidationFailed) as refused:
        file_request(
            session, clock, listing, id_number="110105198001011239", applicant_name=" ",
            ground="bored", explanation="  ", contact="x" * 201,
            attachments=(AttachmentIn("a.pdf", HTML_AS_PDF),),
        )  # fmt: skip
    assert set(refused.value.errors) == {
        "id_number", "applicant_name", "ground", "explanation", "contact", "attachments",
    }  # fmt: skip
    assert everything(session) == before


def test_more_than_three_attachments_or_an_oversized_one_is_refused(session, clock, listing):
    four = tuple(AttachmentIn(f"{n}.pdf", PDF) for n in range(4))
    with pytest.raises(ValidationFailed, match="申请信息有误") as refused:
        file_request(session, clock, listing, attachments=four)
    assert refused.value.errors["attachments"] == ["最多上传3个附件"]
    with pytest.raises(ValidationFailed) as refused:
        services.submit_request(
            session, correction_in(listing), actor=services.public_actor(), clock=clock,
            max_bytes=len(PDF) - 1,
        )  # fmt: skip
    assert "超过" in refused.value.errors["attachments"][0]
    assert session.scalar(select(func.count()).select_from(CorrectionAttachment)) == 0


def test_a_resubmission_is_refused_but_a_different_request_is_taken(
    session, clock, courts, listing
):
    first = file_request(session, clock, listing)
    with pytest.raises(Conflict, match="正在处理") as refused:
        file_request(session, clock, listing)
    # The reference is the key to the request: never handed to whoever knows the identifier.
    assert first.reference not in str(refused.value)
    # Someone else knowing the identifier cannot block the debtor's own, different request.
    other = file_request(session, clock, listing, explanation="案号记载错误，应为执1235号。")
    assert other.reference != first.reference
    reject(session, clock, courts, first)
    second = file_request(session, clock, listing)  # a rejected request is closed
    assert second.reference != first.reference


# --------------------------------------------------------------------------------------------------
# The enforcing court decides


def test_a_judge_accepts_and_the_revocation_carries_the_request_out(
    session, clock, courts, listing
):
    request = file_request(session, clock, listing, ground="should_not_be_listed")
    judge = courts["enforcing"]["judge"]
    clock.set(date(2025, 1, 24))  # across Spring Festival 2025
    services.decide_request(
        session, request.reference, DecisionIn("accept", "不符合纳入条件", "revoke"),
        actor=judge, clock=clock,
    )  # fmt: skip
    assert (request.status, request.remedy) == (CorrectionStatus.ACCEPTED, Remedy.REVOKE)
    assert request.carry_out_due_on == date(2025, 2, 5)
    assert listing.status is ListingStatus.PUBLISHED  # nothing changes on the listing by itself

    clock.set(date(2025, 2, 5))
    listings.revoke_listing(session, listing.id, "依纠正申请撤销", actor=judge, clock=clock)
    session.refresh(request)
    assert request.status is CorrectionStatus.CARRIED_OUT
    assert (request.carried_out_on, request.carried_out_by_id) == (date(2025, 2, 5), judge.user_id)
    actions = [e.action for e in services.history(session, request.reference, actor=judge)]
    assert actions == ["correction.submitted", "correction.accepted", "correction.carried_out"]


def test_a_listing_removed_another_way_closes_an_accepted_request(session, clock, courts, listing):
    """Accepted for correction, then revoked (or deleted): nothing is left to correct, so the
    request is closed with a note instead of staying overdue for ever."""
    judge = courts["enforcing"]["judge"]
    request = file_request(session, clock, listing, ground="inaccurate_data")
    services.decide_request(
        session, request.reference, DecisionIn("accept", "案号记载有误", "correct"),
        actor=judge, clock=clock,
    )  # fmt: skip
    listings.revoke_listing(session, listing.id, "不应纳入", actor=judge, clock=clock)
    session.refresh(request)
    assert request.status is CorrectionStatus.CARRIED_OUT
    assert "名单已撤销" in request.carried_out_note
    assert deadlines_for_court(session, request.court_id, clock.today()) == []


def test_a_second_decision_after_a_concurrent_first_is_a_conflict(
    session, database, clock, courts, listing
):
    """Two judges decide at once: the second, holding a stale copy, is told it was decided."""
    judge = courts["enforcing"]["judge"]
    request = file_request(session, clock, listing)
    stale = database.session()
    services.get_request(stale, request.reference, actor=judge)  # loaded before the first decides
    stale.commit()  # ends its read (SQLite) but keeps its copy (expire_on_commit=False)
    services.decide_request(
        session, request.reference, DecisionIn("reject", "申请理由不成立"), actor=judge, clock=clock
    )
    with pytest.raises(Conflict):
        services.decide_request(
            stale, request.reference, DecisionIn("accept", "理由成立", "revoke"),
            actor=judge, clock=clock,
        )  # fmt: skip
    stale.close()
    session.refresh(request)
    assert request.status is CorrectionStatus.REJECTED


def test_a_deletion_carries_out_a_delete_remedy_and_not_a_revoke_remedy(
    session, clock, courts, listing
):
    judge = courts["enforcing"]["judge"]
    request = file_request(session, clock, listing, ground="should_have_been_deleted")
    services.decide_request(
        session, request.reference, DecisionIn("accept", "已履行完毕", "delete"),
        actor=judge, clock=clock,
    )  # fmt: skip
    listings.delete_listing(session, listing.id, "performed", actor=judge, clock=clock)
    session.refresh(request)
    assert request.status is CorrectionStatus.CARRIED_OUT
    assert request.carried_out_note == "名单已删除"


def test_a_correction_of_the_data_carries_out_a_correct_remedy(session, clock, courts, listing):
    judge = courts["enforcing"]["judge"]
    request = file_request(session, clock, listing)
    services.decide_request(
        session, request.reference, DecisionIn("accept", "执行依据文号有误", "correct"),
        actor=judge, clock=clock,
    )  # fmt: skip
    case = listing.case
    patch = ListingPatch(
        case=CaseIn(
            case.case_number, case.filed_on, "(2023)京0105民初5679号", case.basis_issuer,
            case.obligation, case.amount_due,
        ),
        reason="依纠正申请更正执行依据文号",
    )  # fmt: skip
    with pytest.raises(Conflict, match="尚未更正"):  # nothing corrected yet
        services.confirm_correction(session, request.reference, None, actor=judge, clock=clock)
    listings.edit_listing(session, listing.id, patch, actor=judge, clock=clock)
    session.refresh(request)
    # An edit alone does not close the request (it may be unrelated): the judge confirms.
    assert request.status is CorrectionStatus.ACCEPTED
    with pytest.raises(NotAllowed):
        services.confirm_correction(
            session, request.reference, None, actor=courts["enforcing"]["clerk"], clock=clock
        )
    services.confirm_correction(
        session, request.reference, "已更正执行依据文号", actor=judge, clock=clock
    )
    assert request.status is CorrectionStatus.CARRIED_OUT
    assert request.carried_out_note == "已更正执行依据文号"
    with pytest.raises(Conflict):  # twice
        services.confirm_correction(session, request.reference, None, actor=judge, clock=clock)


def test_accepting_for_a_listing_already_revoked_carries_out_at_once(
    session, clock, courts, listing
):
    judge = courts["enforcing"]["judge"]
    request = file_request(session, clock, listing)
    listings.revoke_listing(session, listing.id, "另案发现纳入错误", actor=judge, clock=clock)
    with pytest.raises(ValidationFailed, match="不能再删除失信信息"):
        services.decide_request(
            session, request.reference, DecisionIn("accept", "理由成立", "delete"),
            actor=judge, clock=clock,
        )  # fmt: skip
    services.decide_request(
        session, request.reference, DecisionIn("accept", "理由成立", "revoke"),
        actor=judge, clock=clock,
    )  # fmt: skip
    assert request.status is CorrectionStatus.CARRIED_OUT
    assert request.carried_out_on == clock.today()


def test_a_rejection_opens_ten_days_for_reconsideration_from_service(
    session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    clock.set(date(2025, 1, 20))
    reject(session, clock, courts, request)
    assert request.status is CorrectionStatus.REJECTED
    assert (request.served_on, request.reconsideration_until) == (None, None)
    services.serve_rejection(session, request.reference, actor=APPLICANT, clock=clock)
    assert request.served_on == date(2025, 1, 20)
    assert request.reconsideration_until == date(2025, 2, 5)  # day 10 is in Spring Festival
    clock.set(date(2025, 1, 22))
    services.serve_rejection(session, request.reference, actor=APPLICANT, clock=clock)
    assert request.served_on == date(2025, 1, 20)  # served once


def test_an_applicant_who_opens_the_decision_late_keeps_ten_days(session, clock, courts, listing):
    """Art. 12 counts from service: a rejection first seen twelve days after it was made still
    leaves ten days from that day, and a filing serves it if nobody looked before."""
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)  # Mon 3 March
    clock.set(date(2025, 3, 15))
    services.serve_rejection(session, request.reference, actor=APPLICANT, clock=clock)
    assert request.reconsideration_until == date(2025, 3, 25)
    clock.set(date(2025, 3, 25))
    _reconsider(session, clock, request)
    assert request.status is CorrectionStatus.UNDER_RECONSIDERATION


def test_a_filing_serves_an_unseen_rejection(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    clock.set(date(2025, 3, 20))
    _reconsider(session, clock, request)
    assert (request.served_on, request.status) == (
        date(2025, 3, 20),
        CorrectionStatus.UNDER_RECONSIDERATION,
    )


def test_only_the_enforcing_courts_judge_decides(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    decision = DecisionIn("reject", "理由不成立")
    before = everything(session)
    with pytest.raises(NotAllowed):
        services.decide_request(
            session, request.reference, decision, actor=courts["enforcing"]["clerk"], clock=clock
        )
    with pytest.raises(NotFound):
        services.decide_request(
            session, request.reference, decision, actor=courts["other"]["judge"], clock=clock
        )
    with pytest.raises(NotFound):  # the higher court sees it only once reconsideration is asked
        services.decide_request(
            session, request.reference, decision, actor=courts["higher"]["judge"], clock=clock
        )
    assert everything(session) == before


def test_a_decision_needs_reasons_and_a_remedy_when_accepting(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    judge = courts["enforcing"]["judge"]
    with pytest.raises(ValidationFailed) as refused:
        services.decide_request(
            session, request.reference, DecisionIn("accept", " "), actor=judge, clock=clock
        )
    assert set(refused.value.errors) == {"reasons", "remedy"}
    with pytest.raises(ValidationFailed) as refused:
        services.decide_request(
            session, request.reference, DecisionIn("reject", "不成立", "delete"),
            actor=judge, clock=clock,
        )  # fmt: skip
    assert set(refused.value.errors) == {"remedy"}
    reject(session, clock, courts, request)
    with pytest.raises(Conflict):
        reject(session, clock, courts, request)


# --------------------------------------------------------------------------------------------------
# Reconsideration by the next higher court


def test_the_higher_courts_decision_is_numbered_in_its_own_series(session, clock, courts, listing):
    """The reconsideration decision is the higher court's document: its own number (given by the
    judge, or the next in its yearly 执复 series), never one after the lower court's case."""
    from blacklist.documents.models import Document, DocumentKind

    higher = courts["higher"]["judge"]
    second = published(session, clock, courts, case_number="(2024)京0105执9999号")
    numbers = []
    for target, given in ((listing, None), (second, "（2025）京01执复88号")):
        request = file_request(session, clock, target)
        reject(session, clock, courts, request)
        _reconsider(session, clock, request)
        services.decide_reconsideration(
            session, request.reference,
            ReconsiderationDecisionIn("upheld", "原决定正确", decision_number=given),
            actor=higher, clock=clock,
        )  # fmt: skip
        numbers.append(
            session.scalar(
                select(Document.number).where(
                    Document.correction_id == request.id,
                    Document.kind == DocumentKind.RECONSIDERATION_DECISION,
                )
            )
        )
    assert numbers == ["（2025）北京市第一中级人民法院执复1号", "（2025）京01执复88号"]


def _reconsider(session, clock, request, id_number=DEBTOR_ID, **changes):
    values = {"reasons": "原决定认定事实错误", "attachments": (AttachmentIn("补充.pdf", PDF),)}
    values.update(changes)
    return services.request_reconsideration(
        session, request.reference, ReconsiderationIn(id_number=id_number, **values),
        actor=services.public_actor(), clock=clock,
    )  # fmt: skip


def test_the_higher_court_overturns_and_the_enforcing_court_carries_out(
    session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    clock.set(date(2025, 3, 13))  # the tenth day
    _reconsider(session, clock, request)
    recon = request.reconsideration
    assert request.status is CorrectionStatus.UNDER_RECONSIDERATION
    assert recon.court_id == courts["higher"]["judge"].court_id
    assert recon.decision_due_on == date(2025, 3, 28)
    assert [a.stage for a in request.attachments] == ["application", "reconsideration"]
    assert listing.status is ListingStatus.PUBLISHED  # stays in force meanwhile

    higher = courts["higher"]["judge"]
    assert services.get_request(session, request.reference, actor=higher) is request
    with pytest.raises(NotAllowed):  # the enforcing court cannot decide its own reconsideration
        services.decide_reconsideration(
            session, request.reference, ReconsiderationDecisionIn("upheld", "维持"),
            actor=courts["enforcing"]["judge"], clock=clock,
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        services.decide_reconsideration(
            session, request.reference, ReconsiderationDecisionIn("upheld", "维持"),
            actor=courts["higher"]["clerk"], clock=clock,
        )  # fmt: skip
    clock.set(date(2025, 3, 14))  # Friday
    services.decide_reconsideration(
        session, request.reference,
        ReconsiderationDecisionIn("overturned", "原决定错误", "revoke"), actor=higher, clock=clock,
    )  # fmt: skip
    assert (request.status, request.remedy) == (CorrectionStatus.ACCEPTED, Remedy.REVOKE)
    assert request.carry_out_due_on == date(2025, 3, 19)  # three working days after Friday
    listings.revoke_listing(
        session, listing.id, "依复议决定撤销", actor=courts["enforcing"]["judge"], clock=clock
    )
    session.refresh(request)
    assert request.status is CorrectionStatus.CARRIED_OUT


def test_an_upheld_rejection_is_final(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    _reconsider(session, clock, request)
    services.decide_reconsideration(
        session, request.reference, ReconsiderationDecisionIn("upheld", "理由不成立"),
        actor=courts["higher"]["judge"], clock=clock,
    )  # fmt: skip
    assert request.status is CorrectionStatus.REJECTION_UPHELD
    with pytest.raises(Conflict):
        _reconsider(session, clock, request)


def test_reconsideration_on_day_eleven_is_refused_with_the_deadline(
    session, clock, courts, listing
):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    services.serve_rejection(session, request.reference, actor=APPLICANT, clock=clock)
    clock.set(date(2025, 3, 14))
    before = everything(session)
    with pytest.raises(ValidationFailed) as refused:
        _reconsider(session, clock, request)
    assert refused.value.errors == {"reconsideration": ["复议申请期限已于2025年3月13日届满"]}
    assert everything(session) == before


def test_reconsideration_needs_the_applicants_own_number(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    with pytest.raises(ValidationFailed) as refused:
        _reconsider(session, clock, request, id_number=OTHER_ID)
    assert set(refused.value.errors) == {"id_number"}


def test_a_high_courts_rejection_cannot_go_higher_in_this_system(session, clock, courts):
    from tests.factories import person_draft, publish_listing

    listing = publish_listing(
        session, clock, courts["higher"],
        person_draft(id_number=DEBTOR_ID, case_number="(2024)京01执1号"),
    )  # fmt: skip
    request = file_request(session, clock, listing)
    services.decide_request(
        session, request.reference, DecisionIn("reject", "不成立"),
        actor=courts["higher"]["judge"], clock=clock,
    )  # fmt: skip
    with pytest.raises(ValidationFailed, match="最高人民法院"):
        _reconsider(session, clock, request)
    assert request.reconsideration is None


# --------------------------------------------------------------------------------------------------
# Lists, deadlines, privacy


def test_each_court_lists_what_it_must_do(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    enforcing, higher, other = (courts[k]["clerk"] for k in ("enforcing", "higher", "other"))
    assert services.list_requests(session, actor=enforcing) == ([request], 1)
    assert services.list_requests(session, actor=higher, scope="reconsideration") == ([], 0)
    assert services.list_requests(session, actor=other) == ([], 0)
    [due] = deadlines_for_court(session, enforcing.court_id, clock.today())
    assert (due.kind, due.reference, due.due_on, due.days_left) == (
        "review", request.reference, date(2025, 3, 18), 15,
    )  # fmt: skip
    reject(session, clock, courts, request)
    _reconsider(session, clock, request)
    assert deadlines_for_court(session, enforcing.court_id, clock.today()) == []
    [due] = deadlines_for_court(session, higher.court_id, clock.today())
    assert (due.kind, due.due_on) == ("reconsideration", date(2025, 3, 18))
    assert services.list_requests(session, actor=higher, scope="reconsideration") == ([request], 1)
    with pytest.raises(ValidationFailed):
        services.list_requests(session, actor=enforcing, status="lost")


def test_attachments_are_visible_to_the_courts_concerned_only(session, clock, courts, listing):
    request = file_request(session, clock, listing)
    attachment_id = request.attachments[0].id
    enforcing = courts["enforcing"]["clerk"]
    got = services.get_attachment(session, request.reference, attachment_id, actor=enforcing)
    assert got.data == PDF
    for actor in (courts["other"]["judge"], courts["higher"]["judge"]):
        with pytest.raises(NotFound):
            services.get_attachment(session, request.reference, attachment_id, actor=actor)
    with pytest.raises(NotFound):
        services.get_attachment(session, request.reference, attachment_id + 99, actor=enforcing)


def test_no_full_id_number_is_stored_or_audited(session, clock, courts, listing):
    from tests.factories import stored_texts

    request = file_request(session, clock, listing)
    reject(session, clock, courts, request)
    _reconsider(session, clock, request)
    texts = [
        value
        for _table, _column, value in stored_texts(session, (*CORRECTION_TABLES, "audit_entries"))
    ]
    assert texts
    for value in texts:
        assert DEBTOR_ID not in str(value)
    audit = json.dumps(
        [[e.before, e.after, e.reason] for e in session.scalars(select(AuditEntry))],
        ensure_ascii=False,
    )
    assert DEBTOR_ID not in audit and DEBTOR_ID[:14] not in audit


def test_a_request_is_found_by_its_reference_however_typed(session, clock, listing):
    request = file_request(session, clock, listing)
    typed = request.reference.replace("-", " ").lower()
    assert services.find_by_reference(session, typed) is request
    with pytest.raises(NotFound):
        services.find_by_reference(session, "JZ-2222-2222-2222-2222")
    assert session.scalar(select(func.count()).select_from(CorrectionRequest)) == 1

"""The staff pages of the listing lifecycle through HTTP, as a browser uses them: forms posted with
their CSRF token and the values a browser sends, redirects followed, errors read beside the fields
(DOMAIN.md §2, API.md staff part)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from blacklist.audit.models import AuditEntry
from blacklist.listing import services
from blacklist.listing.inputs import PaymentIn
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus, PersonRole, RemovalKind
from tests.e2e.conftest import counts, csrf_token, login
from tests.factories import credit_code, person_draft, publish_listing, resident_id

PERSON_ID = resident_id("19800101", "123")
REPRESENTATIVE_ID = resident_id("19700505", "235")
CONTROLLER_ID = resident_id("19750808", "456")
CASE = "(2024)京0105执1234号"


# --------------------------------------------------------------------------------------------------
# Helpers


def signed_in(app, court, role: str):
    """A new browser (test client) signed in as ``court``'s account with ``role``."""
    client = app.test_client()
    login(client, court[role].name)  # setup_court names accounts <court>-<role>
    return client


def listing_form(**overrides) -> dict:
    """The new-listing form as a browser posts it for a natural person: every text input (empty
    ones too), every select, the checked radios and checkboxes only."""
    data = {
        "subject.kind": "person",
        "subject.name": "张三",
        "subject.id_number": PERSON_ID,
        "subject.credit_code": "",
        "subject.legal_representative.name": "",
        "subject.legal_representative.id_number": "",
        "case.case_number": CASE,
        "case.filed_on": "2024-03-01",
        "case.basis_document_number": "(2023)京0105民初5678号",
        "case.basis_issuer": "北京市朝阳区人民法院",
        "case.obligation": "支付货款人民币100000元及利息",
        "case.amount_due": "100000.00",
        "grounds": ["refuses_with_ability"],
        "exemptions.has_security": "no",
        "exemptions.seized_assets_sufficient": "no",
        "exemptions.later_in_order": "no",
        "grace_days": "0",
        "application.creditor_name": "",
        "application.applied_on": "",
        "action": "save",
    }
    for index in range(5):
        data[f"subject.bound_persons.{index}.role"] = "principal"
        data[f"subject.bound_persons.{index}.name"] = ""
        data[f"subject.bound_persons.{index}.id_number"] = ""
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def organisation_form(**overrides) -> dict:
    """An organisation with its legal representative and an actual controller typed in the third
    row of the bound persons (the first two left empty)."""
    return listing_form(
        **{
            "subject.kind": "organisation",
            "subject.name": "北京某某商贸有限公司",
            "subject.credit_code": credit_code(),
            "subject.legal_representative.name": "李四",
            "subject.legal_representative.id_number": REPRESENTATIVE_ID,
            "subject.bound_persons.2.role": "actual_controller",
            "subject.bound_persons.2.name": "王五",
            "subject.bound_persons.2.id_number": CONTROLLER_ID,
            "grounds": ["evades"],
            "exemptions.has_security": None,
            "exemptions.seized_assets_sufficient": None,
            "exemptions.later_in_order": None,
            **overrides,
        }
    )


def post_form(client, path: str, data: dict, *, token_from: str | None = None):
    """Post ``data`` with the CSRF token of the page the form is on."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token})


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/staff/listings/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def section(html: str, section_id: str) -> str:
    """The HTML of one ``<section id=...>`` of a page."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def stored(database, listing_id: int) -> Listing:
    from sqlalchemy.orm import selectinload

    from blacklist.listing.models import Subject

    with database.session() as s:
        return s.get(
            Listing,
            listing_id,
            options=[
                selectinload(Listing.subject).selectinload(Subject.bound_persons),
                selectinload(Listing.case),
                selectinload(Listing.performances),
            ],
        )


def act(client, listing_id: int, name: str, data: dict):
    return post_form(
        client,
        f"/staff/listings/{listing_id}/{name}",
        data,
        token_from=f"/staff/listings/{listing_id}",
    )


@pytest.fixture
def published(session, clock, court):
    """A published listing of 张三 (ground 1, no term) by court BJ0105."""
    listing = publish_listing(session, clock, court, person_draft(id_number=PERSON_ID))
    session.commit()
    return listing.id


@pytest.fixture
def termed(session, clock, court):
    """A published listing with a two-year term (ground 3, Art. 2)."""
    draft = person_draft(
        name="赵六",
        id_number=resident_id("19851010", "777"),
        case_number="(2024)京0105执3001号",
        grounds=("evades",),
    )
    listing = publish_listing(session, clock, court, draft)
    session.commit()
    return listing.id


# --------------------------------------------------------------------------------------------------
# Who may see which page


STAFF_PAGES = ("/staff/", "/staff/listings", "/staff/listings/new")


def test_the_pages_stylesheet_and_script_are_served(client):
    for path in ("/static/staff.css", "/static/listing.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_every_page_sends_a_signed_out_visitor_to_the_login_page(client, published):
    for path in (*STAFF_PAGES, f"/staff/listings/{published}", f"/staff/listings/{published}/edit"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.parametrize("role", ["clerk", "judge", "admin", "auditor"])
def test_the_dashboard_search_and_listing_page_render_for_every_role_of_the_court(
    app, court, published, role
):
    client = signed_in(app, court, role)
    assert "工作台" in page(client, "/staff/")
    assert "张三" in page(client, "/staff/listings")
    assert "（2024）京0105执1234号" in page(client, f"/staff/listings/{published}")
    new = client.get("/staff/listings/new")
    assert new.status_code == (200 if role in ("clerk", "judge") else 403)


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_an_administrator_or_an_auditor_may_not_create_a_listing(app, court, database, role):
    client = signed_in(app, court, role)
    before = counts(database)
    response = post_form(client, "/staff/listings/new", listing_form(), token_from="/staff/")
    assert response.status_code == 403
    assert "您的角色不能访问此页面" in response.get_data(as_text=True)
    assert counts(database) == before


def test_a_clerk_may_not_sign_a_decision(app, court, session, clock):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    client = signed_in(app, court, "clerk")
    response = act(client, listing.id, "approve", {"decision_number": "X1", "confirm": "1"})
    assert response.status_code == 403


def test_another_courts_listing_is_not_found(app, court, other_court, session, clock, database):
    theirs = publish_listing(session, clock, other_court, person_draft(id_number=PERSON_ID))
    session.commit()
    client = signed_in(app, court, "judge")
    for path in (f"/staff/listings/{theirs.id}", f"/staff/listings/{theirs.id}/edit"):
        assert client.get(path).status_code == 404
    response = post_form(client, f"/staff/listings/{theirs.id}/id-number", {}, token_from="/staff/")
    assert response.status_code == 404
    assert PERSON_ID not in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/staff/listings/{theirs.id}/revocation",
        {"reason": "不应纳入", "confirm": "1"},
        token_from="/staff/",
    )
    assert response.status_code == 404
    assert stored(database, theirs.id).status is ListingStatus.PUBLISHED


# --------------------------------------------------------------------------------------------------
# The listing form


def test_a_clerk_creates_a_person_listing_through_the_form(app, court, database):
    client = signed_in(app, court, "clerk")
    listing_id = created_id(post_form(client, "/staff/listings/new", listing_form()))

    html = page(client, f"/staff/listings/{listing_id}")
    assert "草稿已保存" in html
    assert PERSON_ID[:10] + "****" + PERSON_ID[14:] in html and PERSON_ID not in html
    listing = stored(database, listing_id)
    assert listing.status is ListingStatus.DRAFT
    assert listing.subject.name == "张三" and listing.subject.sex == "male"
    assert listing.case.case_number == "（2024）京0105执1234号"
    assert listing.case.amount_due == Decimal("100000.00")
    assert listing.exemptions == {
        "has_security": False,
        "seized_assets_sufficient": False,
        "later_in_order": False,
    }


def test_a_clerk_creates_an_organisation_listing_with_its_legal_representative_and_a_bound_person(
    app, court, database
):
    client = signed_in(app, court, "clerk")
    listing_id = created_id(post_form(client, "/staff/listings/new", organisation_form()))

    listing = stored(database, listing_id)
    assert listing.subject.kind.value == "organisation"
    people = {(p.role, p.name) for p in listing.subject.bound_persons}
    assert people == {
        (PersonRole.LEGAL_REPRESENTATIVE, "李四"),
        (PersonRole.ACTUAL_CONTROLLER, "王五"),
    }
    html = page(client, f"/staff/listings/{listing_id}")
    assert "北京某某商贸有限公司" in html and "实际控制人" in html and "李四" in html
    assert REPRESENTATIVE_ID not in html and CONTROLLER_ID not in html


def test_save_and_submit_creates_the_draft_and_submits_it_for_approval(app, court, database):
    client = signed_in(app, court, "clerk")
    listing_id = created_id(post_form(client, "/staff/listings/new", listing_form(action="submit")))
    assert stored(database, listing_id).status is ListingStatus.PENDING_APPROVAL
    assert "草稿已保存，已提交审批" in page(client, f"/staff/listings/{listing_id}")


def test_errors_are_shown_beside_their_fields_with_the_values_kept_and_nothing_stored(
    app, court, database
):
    client = signed_in(app, court, "clerk")
    wrong_check = PERSON_ID[:-1] + ("0" if PERSON_ID[-1] != "0" else "1")
    before = counts(database)
    response = post_form(
        client,
        "/staff/listings/new",
        listing_form(
            **{
                "subject.id_number": wrong_check,
                "case.case_number": "",
                "exemptions.has_security": None,
            }
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="subject.id_number-error">[^<]*校验位错误', html)
    assert re.search(r'id="case.case_number-error">执行案号格式应如', html)
    assert 'id="exemptions.has_security-error"' in html
    assert 'value="张三"' in html and f'value="{wrong_check}"' in html
    assert "支付货款人民币100000元及利息</textarea>" in html
    assert counts(database) == before


def test_a_bound_persons_error_names_the_row_the_clerk_sees_and_the_id_numbers_are_read_back(
    app, court, database
):
    client = signed_in(app, court, "clerk")
    before = counts(database)
    response = post_form(
        client,
        "/staff/listings/new",
        organisation_form(**{"subject.bound_persons.2.id_number": "11010519750808"}),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The only filled row is shown first, with its error beside it.
    assert (
        'id="subject.bound_persons.0.name" name="subject.bound_persons.0.name" type="text" value="王五"'
        in html
    )
    assert 'id="subject.bound_persons.0.id_number-error"' in html
    # What the legal representative's number tells, computed by the server on the clock's day.
    assert "出生日期 1970-05-05 · 54周岁 · 男" in html
    assert counts(database) == before


def test_a_form_posted_without_its_csrf_token_is_refused_and_nothing_is_stored(
    app, court, database, published
):
    client = signed_in(app, court, "judge")
    before = counts(database)
    response = client.post(
        "/staff/listings/new", data=listing_form(**{"case.case_number": "(2024)京0105执7号"})
    )
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    response = client.post(
        f"/staff/listings/{published}/revocation", data={"reason": "不应纳入", "confirm": "1"}
    )
    assert response.status_code == 400
    assert counts(database) == before


def test_submitting_the_same_form_twice_stores_one_listing(app, court, database):
    client = signed_in(app, court, "clerk")
    token = csrf_token(client, "/staff/listings/new")
    data = {**listing_form(), "csrf_token": token}
    first = client.post("/staff/listings/new", data=data)
    second = client.post("/staff/listings/new", data=data)
    created_id(first)
    assert second.status_code == 302
    assert second.headers["Location"].startswith("/staff/listings?q=")
    html = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "不能重复纳入" in html
    assert counts(database)["listings"] == 1


# --------------------------------------------------------------------------------------------------
# Acts on the listing page


def test_a_judge_signs_the_decision_only_with_the_confirmation_box_ticked(
    app, court, session, clock, database
):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    client = signed_in(app, court, "judge")
    decision = {"decision_number": "(2025)京0105执恢1号决定书", "decided_on": "2025-03-03"}

    refused = act(client, listing.id, "approve", decision)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "请勾选“我已核对，确认执行”" in html
    assert 'value="(2025)京0105执恢1号决定书"' in html
    assert stored(database, listing.id).status is ListingStatus.PENDING_APPROVAL

    signed = act(client, listing.id, "approve", {**decision, "confirm": "1"})
    assert signed.status_code == 302
    html = page(client, f"/staff/listings/{listing.id}")
    assert "决定书已签发" in html and "已发布" in html and "签发决定书" in html
    assert stored(database, listing.id).decided_on == date(2025, 3, 3)


def test_an_act_that_no_longer_fits_the_listing_is_told_as_a_message_on_it(
    app, court, database, published
):
    client = signed_in(app, court, "judge")
    stale = act(client, published, "approve", {"decision_number": "X2", "confirm": "1"})
    assert stale.status_code == 302
    assert stale.headers["Location"] == f"/staff/listings/{published}"
    assert "不能签发" in page(client, stale.headers["Location"])
    assert stored(database, published).decision_number != "X2"


def test_a_judge_sends_a_draft_back_with_reasons(app, court, session, clock, database):
    listing = services.create_draft(session, person_draft(), actor=court["clerk"], clock=clock)
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    client = signed_in(app, court, "judge")
    assert act(client, listing.id, "reject", {"reason": ""}).status_code == 422
    assert act(client, listing.id, "reject", {"reason": "案号有误"}).status_code == 302
    assert stored(database, listing.id).status is ListingStatus.DRAFT
    assert "案号有误" in page(client, f"/staff/listings/{listing.id}")


def test_a_clerk_records_a_full_payment_and_the_deletion_falls_due(app, court, database, published):
    client = signed_in(app, court, "clerk")
    bad = act(client, published, "performances", {"amount": "十万", "performed_on": "2025-03-03"})
    assert bad.status_code == 422
    assert re.search(r'id="payment-amount-error">金额应为数字', bad.get_data(as_text=True))

    response = act(
        client,
        published,
        "performances",
        {"amount": "100,000.00", "performed_on": "2025-03-03", "full": "1", "note": "当庭付清"},
    )
    assert response.status_code == 302
    listing = stored(database, published)
    assert [p.amount for p in listing.performances] == [Decimal("100000.00")]
    assert listing.deletion_due_on == date(2025, 3, 6)
    html = page(client, f"/staff/listings/{published}")
    assert "履行情况已登记" in html and "全部履行" in html and "当庭付清" in html
    assert "2025-03-06（剩余3个工作日）" in html


def test_a_judge_deletes_a_listing_with_an_article_10_reason_once_confirmed(
    app, court, database, published
):
    client = signed_in(app, court, "judge")
    data = {"reason": "performed", "note": "已全部履行"}
    assert act(client, published, "deletion", data).status_code == 422
    assert stored(database, published).status is ListingStatus.PUBLISHED

    assert act(client, published, "deletion", {**data, "confirm": "1"}).status_code == 302
    listing = stored(database, published)
    assert listing.status is ListingStatus.REMOVED
    assert listing.removal_kind is RemovalKind.DELETED and listing.removal_reason == "performed"
    html = page(client, f"/staff/listings/{published}")
    assert "名单已删除" in html and "已移除" in html
    assert "已履行生效法律文书确定的义务或人民法院已执行完毕" in html


def test_a_judge_revokes_a_wrong_listing(app, court, database, published):
    client = signed_in(app, court, "judge")
    response = act(
        client, published, "revocation", {"reason": "不应纳入：已提供担保", "confirm": "1"}
    )
    assert response.status_code == 302
    assert stored(database, published).removal_kind is RemovalKind.REVOKED
    html = page(client, f"/staff/listings/{published}")
    assert "名单已撤销" in html and "不应纳入：已提供担保" in html


def test_a_judge_extends_a_termed_listing(app, court, database, termed):
    client = signed_in(app, court, "judge")
    data = {"years": "2", "reason": "多次实施失信行为"}
    assert act(client, termed, "extension", data).status_code == 422
    assert act(client, termed, "extension", {**data, "confirm": "1"}).status_code == 302
    listing = stored(database, termed)
    assert listing.extension_years == 2 and listing.ends_on == date(2029, 3, 3)
    html = page(client, f"/staff/listings/{termed}")
    assert "失信期限已延长" in html and "至 2029-03-03" in html and "多次实施失信行为" in html


def test_a_clerk_corrects_a_published_listing_with_a_reason(app, court, database, published):
    client = signed_in(app, court, "clerk")
    html = page(client, f"/staff/listings/{published}/edit")
    assert 'value="（2024）京0105执1234号"' in html and PERSON_ID not in html

    form = listing_form(**{"case.obligation": "支付货款人民币90000元", "reason": ""})
    refused = post_form(client, f"/staff/listings/{published}/edit", form)
    assert refused.status_code == 422
    assert re.search(r'id="reason-error">请填写更正理由', refused.get_data(as_text=True))

    form["reason"] = "执行依据载明的金额有误"
    assert post_form(client, f"/staff/listings/{published}/edit", form).status_code == 302
    assert stored(database, published).case.obligation == "支付货款人民币90000元"
    html = page(client, f"/staff/listings/{published}")
    assert "更正已保存" in html and "执行依据载明的金额有误" in html


def test_the_debtor_is_changed_only_when_the_clerk_ticks_the_box(app, court, database):
    client = signed_in(app, court, "clerk")
    listing_id = created_id(post_form(client, "/staff/listings/new", listing_form()))
    path = f"/staff/listings/{listing_id}/edit"

    untouched = listing_form(**{"subject.name": "张三丰", "subject.id_number": ""})
    assert post_form(client, path, untouched).status_code == 302
    assert stored(database, listing_id).subject.name == "张三"

    changed = listing_form(**{"subject.change": "1", "subject.name": "张三丰"})
    assert post_form(client, path, changed).status_code == 302
    assert stored(database, listing_id).subject.name == "张三丰"


# --------------------------------------------------------------------------------------------------
# The dashboard and the search


def test_the_dashboard_shows_drafts_pending_listings_and_deletions_due_with_the_overdue_one_highlighted(
    app, court, session, clock
):
    clerk = court["clerk"]
    services.create_draft(
        session,
        person_draft(name="草稿甲", case_number="(2024)京0105执11号"),
        actor=clerk,
        clock=clock,
    )
    pending = services.create_draft(
        session,
        person_draft(
            name="待批乙",
            id_number=resident_id("19810101", "111"),
            case_number="(2024)京0105执12号",
        ),
        actor=clerk,
        clock=clock,
    )
    services.submit_listing(session, pending.id, actor=clerk, clock=clock)
    # Paid in full on a Thursday a week ago (due Tue 25 Feb: overdue), last Thursday (due
    # tomorrow: soon) and today (due in three working days).
    for name, birth, paid_on in (
        ("逾期丙", "19820101", date(2025, 2, 20)),
        ("临近丁", "19830101", date(2025, 2, 27)),
        ("宽裕戊", "19840101", date(2025, 3, 3)),
    ):
        draft = person_draft(
            name=name,
            id_number=resident_id(birth, "131"),
            case_number=f"(2024)京0105执{birth[2:4]}号",
        )
        listing = publish_listing(session, clock, court, draft)
        services.record_performance(
            session, listing.id, PaymentIn(None, paid_on, full=True), actor=clerk, clock=clock
        )
    session.commit()

    html = page(signed_in(app, court, "judge"), "/staff/")
    assert "草稿甲" in section(html, "drafts")
    assert "待批乙" in section(html, "pending")
    deletions = section(html, "deletions")
    rows = re.findall(r'<tr class="([^"]*)">(.*?)</tr>', deletions, re.S)
    by_name = {re.search(r">([^<]+)</a>", row).group(1): (css, row) for css, row in rows}
    assert by_name["逾期丙"][0] == "overdue" and "已逾期4个工作日" in by_name["逾期丙"][1]
    assert by_name["临近丁"][0] == "soon" and "剩余1个工作日" in by_name["临近丁"][1]
    assert by_name["宽裕戊"][0] == "" and "剩余3个工作日" in by_name["宽裕戊"][1]
    assert list(by_name) == ["逾期丙", "临近丁", "宽裕戊"]  # the most urgent first
    assert "签发决定书" in section(html, "recent")


def test_the_search_finds_by_name_and_case_number_and_pages_by_twenty(app, court, session, clock):
    for n in range(22):
        draft = person_draft(
            name=f"债务人{n:02d}",
            id_number=resident_id("19800101", f"{n + 100:03d}"),
            case_number=f"(2024)京0105执{n + 100}号",
        )
        services.create_draft(session, draft, actor=court["clerk"], clock=clock)
    session.commit()
    client = signed_in(app, court, "auditor")

    first = page(client, "/staff/listings")
    assert first.count('<td class="who">') == 20 and "共 22 条" in first
    second = page(client, "/staff/listings?page=2")
    assert second.count('<td class="who">') == 2 and "债务人00" in second
    assert page(client, "/staff/listings?q=债务人07").count('<td class="who">') == 1
    assert "债务人13" in page(client, "/staff/listings?q=（2024）京0105执113号")
    assert "共 0 条" in page(client, "/staff/listings?status=published")
    assert "未知的状态" in page(client, "/staff/listings?status=nonsense")


# --------------------------------------------------------------------------------------------------
# ID numbers and escaping


def test_revealing_an_id_number_shows_it_in_that_response_only_and_is_audited(
    app, court, database, published
):
    client = signed_in(app, court, "judge")
    response = post_form(
        client,
        f"/staff/listings/{published}/id-number",
        {},
        token_from=f"/staff/listings/{published}",
    )
    assert response.status_code == 200
    assert PERSON_ID in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"

    session_cookie = client.get_cookie("session")
    contents = app.session_interface.get_signing_serializer(app).loads(session_cookie.value)
    assert PERSON_ID not in json.dumps(contents, ensure_ascii=False)
    html = page(client, f"/staff/listings/{published}")
    assert PERSON_ID not in html
    assert "查看完整身份证号" in html  # the audit entry, in the history
    with database.session() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "listing.id_revealed")
        ).all()
    assert [(e.entity_id, e.after) for e in entries] == [(str(published), {"person": "debtor"})]


def test_revealing_a_bound_persons_id_number(app, court, database):
    client = signed_in(app, court, "clerk")
    listing_id = created_id(post_form(client, "/staff/listings/new", organisation_form()))
    controller = next(
        p for p in stored(database, listing_id).subject.bound_persons if p.name == "王五"
    )
    response = post_form(
        client,
        f"/staff/listings/{listing_id}/id-number",
        {"person_id": str(controller.id)},
        token_from=f"/staff/listings/{listing_id}",
    )
    html = response.get_data(as_text=True)
    assert CONTROLLER_ID in html and REPRESENTATIVE_ID not in html


def test_a_full_id_number_appears_on_no_other_page(app, court, session, clock, database, published):
    client = signed_in(app, court, "clerk")
    organisation = created_id(post_form(client, "/staff/listings/new", organisation_form()))
    services.record_performance(
        session,
        published,
        PaymentIn(Decimal("10.00"), date(2025, 3, 3)),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    judge = signed_in(app, court, "judge")
    paths = [
        "/staff/",
        "/staff/listings",
        "/staff/listings?q=张三",
        f"/staff/listings/{published}",
        f"/staff/listings/{published}/edit",
        f"/staff/listings/{organisation}",
        f"/staff/listings/{organisation}/edit",
    ]
    for browser in (client, judge):
        for path in paths:
            html = page(browser, path)
            for number in (PERSON_ID, REPRESENTATIVE_ID, CONTROLLER_ID):
                assert number not in html, (path, number)
    with database.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "listing.id_revealed")
            )
            == 0
        )


def test_a_name_with_markup_is_shown_escaped(app, court):
    client = signed_in(app, court, "clerk")
    name = "<script>alert(1)</script>"
    listing_id = created_id(
        post_form(client, "/staff/listings/new", listing_form(**{"subject.name": name}))
    )
    for path in (f"/staff/listings/{listing_id}", "/staff/", "/staff/listings"):
        html = page(client, path)
        assert name not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path

"""The key staff journey in a real browser (Debian's chromium driven by Playwright): a clerk signs
in, adds an organisation listing with its legal representative and submits it; a judge signs it;
the dashboard and the listing page show it published. Screenshots are saved under
``test-artifacts/`` for people to look at."""

from __future__ import annotations

from tests.e2e.browser import ARTIFACTS, needs_chromium
from tests.factories import credit_code, resident_id

pytestmark = needs_chromium


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")


def test_a_clerk_adds_an_organisation_listing_and_a_judge_signs_it(live_server, browser):
    base, _courts = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    representative_id = resident_id("19700505", "235")
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")

    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of irreversible acts

    sign_in(page, base, "bj0105-clerk")
    listing_url = new_organisation_listing(page, base, representative_id)
    page.screenshot(path=str(ARTIFACTS / "1-clerk-listing-submitted.png"), full_page=True)
    page.click("text=退出")

    sign_in(page, base, "bj0105-judge")
    approve(page, listing_url)
    page.screenshot(path=str(ARTIFACTS / "2-judge-listing-published.png"), full_page=True)
    assert "已发布" in page.inner_text("main")
    assert representative_id not in page.content()  # masked everywhere

    page.goto(f"{base}/staff/")
    page.screenshot(path=str(ARTIFACTS / "3-dashboard.png"), full_page=True)
    published_row = page.locator("tr", has_text="北京某某商贸有限公司").filter(has_text="发布")
    assert published_row.count() >= 1


def new_organisation_listing(page, base: str, representative_id: str) -> str:
    """The clerk fills the new-listing form as a person would and submits it for approval."""
    page.goto(f"{base}/staff/listings/new")
    page.check('input[name="subject.kind"][value=organisation]')
    page.fill('[name="subject.name"]', "北京某某商贸有限公司")
    page.fill('[name="subject.credit_code"]', credit_code())
    page.fill('[name="subject.legal_representative.name"]', "李四")
    page.fill('[name="subject.legal_representative.id_number"]', representative_id)
    page.fill('[name="case.case_number"]', "(2024)京0105执2001号")
    page.fill('[name="case.filed_on"]', "2024-03-01")
    page.fill('[name="case.basis_document_number"]', "(2023)京0105民初5678号")
    page.fill('[name="case.basis_issuer"]', "北京市朝阳区人民法院")
    page.fill('[name="case.obligation"]', "支付货款人民币500000元及利息")
    page.fill('[name="case.amount_due"]', "500000.00")
    page.check("input[name=grounds][value=evades]")
    page.screenshot(path=str(ARTIFACTS / "0-clerk-new-listing-form.png"), full_page=True)
    page.click("button[name=action][value=submit]")
    page.wait_for_selector("text=已提交审批")
    assert "/staff/listings/" in page.url
    return page.url


def approve(page, listing_url: str) -> None:
    """The judge signs the decision, ticking the confirmation box."""
    page.goto(listing_url)
    page.fill("#approve-decision_number", "(2025)京0105执2001号之一")
    page.check("#act-approve input[name=confirm]")
    page.click("#act-approve button[type=submit]")
    page.wait_for_selector("text=决定书已签发")


def test_the_public_searches_opens_a_record_and_reads_the_statistics(
    live_server, browser, database, clock
):
    from blacklist.listing import services
    from blacklist.listing.inputs import ApprovalIn
    from tests.factories import person_draft

    base, courts = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    id_number = resident_id("19800101", "123")
    with database.session() as setup:
        draft = services.create_draft(
            setup,
            person_draft(name="張偉", id_number=id_number),
            actor=courts["clerk"],
            clock=clock,
        )
        services.submit_listing(setup, draft.id, actor=courts["clerk"], clock=clock)
        services.approve_listing(
            setup, draft.id, ApprovalIn("(2025)京0105执1号之一"), actor=courts["judge"], clock=clock
        )
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")

    page.goto(f"{base}/")
    page.fill("#name", "张伟")  # simplified finds the traditional record
    page.click("#search-submit")
    page.wait_for_selector("table#results")
    page.screenshot(path=str(ARTIFACTS / "4-public-results.png"), full_page=True)
    assert id_number not in page.content()
    assert id_number[:10] + "****" + id_number[14:] in page.inner_text("table#results")

    page.click("a.record-link")
    page.wait_for_selector("#record-title")
    assert "張偉" in page.inner_text("#record-title")
    page.screenshot(path=str(ARTIFACTS / "5-public-record.png"), full_page=True)

    page.goto(f"{base}/stats")
    page.wait_for_selector("svg#chart-province")
    assert page.inner_text("#total-published").strip() == "1"
    page.screenshot(path=str(ARTIFACTS / "6-public-statistics.png"), full_page=True)

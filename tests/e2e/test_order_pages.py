"""The staff pages of consumption orders and exit bans through HTTP, as a browser uses them: forms
posted with their CSRF token, redirects followed, errors read on the page (DOMAIN.md §3)."""

from __future__ import annotations

import re

from sqlalchemy import select

from blacklist.core.actor import Actor
from blacklist.listing import services as listing_services
from blacklist.restrictions import services as order_services
from blacklist.restrictions.models import OrderStatus, RestrictionOrder
from tests.e2e.conftest import counts, csrf_token, login
from tests.factories import credit_code, organisation_draft, publish_listing, resident_id
from tests.order_factories import person_order

DEBTOR = resident_id("19810202", "135")
REPRESENTATIVE = resident_id("19720303", "257")
TABLES = ("restriction_orders", "restrictions", "changes", "audit_entries")


def signed_in(app, court, role: str):
    client = app.test_client()
    login(client, court[role].name)
    return client


def post_form(client, path: str, data: dict, *, token_from: str | None = None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token})


def order_form(kind: str = "consumption", **overrides) -> dict:
    data = {
        "subject.kind": "person",
        "subject.name": "赵六",
        "subject.id_number": DEBTOR,
        "subject.credit_code": "",
        "subject.legal_representative.name": "",
        "subject.legal_representative.id_number": "",
        "case.case_number": "(2024)京0105执5001号",
        "case.filed_on": "2024-03-01",
        "case.basis_document_number": "(2023)京0105民初5678号",
        "case.basis_issuer": "北京市朝阳区人民法院",
        "case.obligation": "支付货款人民币100000元及利息",
        "case.amount_due": "100000.00",
        "measures": ["flight", "hsr_any_seat"],
        "decision_number": "(2025)京0105执5001号之一",
        "issued_on": "",
        "reasons": "被执行人未按执行通知履行义务",
    }
    if kind == "exit":
        del data["measures"]
        data.update({"organisation.name": "", "organisation.credit_code": "",
                     "organisation.role": "legal_representative"})  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def public_id_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/staff/orders/([a-z0-9]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_judge_issues_a_consumption_order_in_the_browser_and_sees_it(app, court, database):
    judge = signed_in(app, court, "judge")
    assert "发出限制消费令" in text(judge.get("/staff/orders/"))
    form = text(judge.get("/staff/orders/new/consumption"))
    assert "乘坐飞机" in form and 'name="csrf_token"' in form

    public_id = public_id_of(
        post_form(judge, "/staff/orders/new/consumption", order_form(),
                  token_from="/staff/orders/new/consumption")
    )  # fmt: skip
    page = judge.get(f"/staff/orders/{public_id}", follow_redirects=True)

    html = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "限制消费令已发出" in html
    assert "乘坐飞机" in html and "乘坐G字头动车组列车全部座位" in html and "旅游、度假" not in html
    assert DEBTOR[:10] + "****" + DEBTOR[14:] in html and DEBTOR not in html
    assert "解除事由" in html
    assert public_id in text(judge.get("/staff/orders/?kind=consumption&status=active"))

    # The order itself is served as a document, downloadable from its page.
    documents = html[html.index('id="documents"') :]
    assert "限制消费令" in documents and "(2025)京0105执5001号之一" in documents
    link = re.search(r'href="(/staff/documents/\d+\.pdf)"', documents)
    assert link, documents
    pdf = judge.get(link.group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")


def test_an_exit_ban_on_an_organisation_is_refused_on_the_form(app, court, database):
    judge = signed_in(app, court, "judge")
    before = counts(database, TABLES)
    response = post_form(
        judge,
        "/staff/orders/new/exit",
        order_form("exit", **{"subject.kind": "organisation", "subject.id_number": credit_code()}),
    )
    assert response.status_code == 422
    assert "限制出境只能针对自然人" in text(response)
    assert counts(database, TABLES) == before


def test_a_judge_decides_an_exit_ban_for_a_companys_legal_representative(app, court, database):
    judge = signed_in(app, court, "judge")
    form = order_form(
        "exit",
        **{"subject.name": "钱七", "subject.id_number": REPRESENTATIVE,
           "organisation.name": "北京某某建材有限公司", "organisation.credit_code": credit_code()},
    )  # fmt: skip
    public_id = public_id_of(post_form(judge, "/staff/orders/new/exit", form))
    html = text(judge.get(f"/staff/orders/{public_id}"))
    assert "限制出境" in html and "北京某某建材有限公司" in html and "法定代表人" in html


def test_a_clerk_reads_but_may_neither_issue_nor_lift(app, court, session, clock):
    order = order_services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    public_id = order.public_id
    session.close()
    clerk = signed_in(app, court, "clerk")

    listing = text(clerk.get("/staff/orders/"))
    assert public_id in listing and "发出限制消费令</a>" not in listing
    shown = text(clerk.get(f"/staff/orders/{public_id}"))
    assert "赵六" in shown and 'id="act-lift"' not in shown
    assert clerk.get("/staff/orders/new/consumption").status_code == 403
    token = csrf_token(clerk, f"/staff/orders/{public_id}")
    response = clerk.post(
        f"/staff/orders/{public_id}/lifting",
        data={"ground": "performed", "confirm": "1", "csrf_token": token},
    )
    assert response.status_code == 403


def test_lifting_in_the_browser_and_lifting_again_is_told_as_a_conflict(
    app, court, session, clock, database
):
    order = order_services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    public_id = order.public_id
    session.close()
    judge = signed_in(app, court, "judge")
    path = f"/staff/orders/{public_id}"

    unconfirmed = post_form(judge, f"{path}/lifting", {"ground": "security"}, token_from=path)
    assert unconfirmed.status_code == 422 and "确认执行" in text(unconfirmed)
    no_reasons = post_form(
        judge, f"{path}/lifting", {"ground": "security", "confirm": "1"}, token_from=path
    )
    assert no_reasons.status_code == 422 and "请写明解除理由" in text(no_reasons)

    done = post_form(
        judge, f"{path}/lifting", {"ground": "performed", "confirm": "1"}, token_from=path
    )
    assert done.status_code == 302
    html = text(judge.get(path))
    assert "限制令已解除" in html and "被执行人已全部履行生效法律文书确定的义务" in html
    with database.session() as s:
        assert s.scalar(select(RestrictionOrder.status)) is OrderStatus.LIFTED

    # A second tab still showing the form posts again.
    token = csrf_token(judge, "/staff/orders/")
    again = judge.post(
        f"{path}/lifting",
        data={"ground": "performed", "confirm": "1", "csrf_token": token},
        follow_redirects=True,
    )
    assert "该限制令已于2025-03-03解除" in text(again)


def test_another_courts_judge_gets_404(app, court, other_court, session, clock):
    order = order_services.issue_order(session, person_order(), actor=court["judge"], clock=clock)
    public_id = order.public_id
    session.close()
    other = signed_in(app, other_court, "judge")
    assert other.get(f"/staff/orders/{public_id}").status_code == 404
    assert public_id not in text(other.get("/staff/orders/"))


def test_a_form_without_its_csrf_token_is_refused(app, court, database):
    judge = signed_in(app, court, "judge")
    before = counts(database, TABLES)
    response = judge.post("/staff/orders/new/consumption", data=order_form())
    assert response.status_code == 400
    assert counts(database, TABLES) == before


def test_the_awaiting_panel_lists_an_expired_listings_order_for_the_judge(
    app, court, session, clock
):
    listing = publish_listing(session, clock, court, organisation_draft())
    clock.set(listing.ends_on)
    listing_services.expire_listing(session, listing.id, actor=Actor.system(), clock=clock)
    order = session.scalar(
        select(RestrictionOrder).where(RestrictionOrder.listing_id == listing.id)
    )
    public_id = order.public_id
    session.close()
    judge = signed_in(app, court, "judge")

    html = text(judge.get("/staff/orders/"))
    assert "期满后待决定的限制消费令" in html
    assert f'href="/staff/orders/{public_id}"' in html
    path = f"/staff/orders/{public_id}"
    assert 'id="act-lift"' in text(judge.get(path))
    done = post_form(
        judge, f"{path}/lifting",
        {"ground": "creditor_consent", "note": "申请执行人同意", "confirm": "1"}, token_from=path,
    )  # fmt: skip
    assert done.status_code == 302
    assert "期满后待决定的限制消费令" not in text(judge.get("/staff/orders/"))


def test_the_awaiting_panel_partial_renders_alone(app, court, session, clock):
    """The dashboard includes ``orders/_awaiting_panel.html`` with ``awaiting_orders``."""
    from flask import render_template

    with app.test_request_context():
        empty = render_template("orders/_awaiting_panel.html", awaiting_orders=[])
    assert "暂无待决定的限制消费令" in empty

"""The partner pages through HTTP (DOMAIN.md §4, DESIGN.md §6): the administrator's registry
(partners, API keys shown once and revocable, the signing secret, "push now"), the staff feedback
page and the dashboard panel (removals a partner has not acknowledged in time, hits on people no
longer restricted), and partners' hits in the public statistics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blacklist.audit.models import AuditEntry
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor, Role
from blacklist.listing import services as listing_services
from blacklist.partners import services as partner_services
from blacklist.partners.models import Partner, PartnerKey
from blacklist.publication import queries as publication_queries
from blacklist.staff import services as staff
from tests.e2e.conftest import PASSWORD, csrf_token, login
from tests.factories import person_draft, publish_listing, resident_id
from tests.partner_factories import partner_headers, register_partner

RAILWAY = ["hsr_any_seat", "emu_first_class", "soft_sleeper"]
SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh_statistics():
    publication_queries.clear_statistics_cache()
    yield
    publication_queries.clear_statistics_cache()


@pytest.fixture
def admin(client, court) -> FlaskClient:
    """The client, signed in as the administrator of BJ0105 (a court with no higher court)."""
    login(client, "bj0105-admin")
    return client


def html(response) -> str:
    return response.get_data(as_text=True)


def field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert match, f"no error shown beside {field}"
    return match.group(1)


def shown(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]+)<', page)
    assert match, f"no #{element_id} on the page"
    return match.group(1).strip()


def new_partner_form(token: str, **overrides) -> dict:
    form = {
        "code": "railway",
        "name": "中国国家铁路集团有限公司",
        "measures": RAILWAY,
        "scope": "restriction",
        "webhook_url": "",
        "csrf_token": token,
    }
    form.update(overrides)
    return form


def registry(database) -> dict:
    """What a refused act must leave as it was: partners, keys, the audit journal."""
    with database.session() as s:
        return {
            "partners": sorted(
                s.execute(
                    select(
                        Partner.code,
                        Partner.name,
                        Partner.measures,
                        Partner.scope,
                        Partner.webhook_url,
                        Partner.is_active,
                        Partner.secret_cipher,
                    )
                )
            ),
            "keys": sorted(s.execute(select(PartnerKey.key_hash, PartnerKey.revoked_at))),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


def status_of(client: FlaskClient, key: str):
    return client.get("/api/v1/partner/status", headers=partner_headers(key))


def create_through_the_page(admin: FlaskClient, **overrides) -> tuple[str, str, str]:
    """(response text, API key, signing secret)."""
    token = csrf_token(admin, "/staff/admin/partners/")
    response = admin.post("/staff/admin/partners/", data=new_partner_form(token, **overrides))
    assert response.status_code == 200, html(response)
    page = html(response)
    return page, shown(page, "api-key"), shown(page, "signing-secret")


# --------------------------------------------------------------------------------------------------
# The registry


def test_an_administrator_registers_a_partner_whose_key_is_shown_once_and_works(
    admin, client, database
):
    response_page, key, secret = create_through_the_page(admin)

    assert key.startswith("bpk_") and secret.startswith("whsec_")
    assert "只显示这一次" in response_page
    status = status_of(client, key)
    assert status.status_code == 200
    assert status.get_json()["code"] == "railway"
    assert status.get_json()["measures"] == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]
    # Never again: neither the list, nor the partner's page, nor the database in the clear.
    for path in ("/staff/admin/partners/", "/staff/admin/partners/railway"):
        page = html(admin.get(path))
        assert "中国国家铁路集团有限公司" in page
        assert key not in page and secret not in page
        assert key[:10] in html(admin.get("/staff/admin/partners/railway"))  # the prefix only
    with database.session() as s:
        stored = " ".join(str(v) for row in s.execute(select(PartnerKey)).all() for v in row)
        assert key not in stored
        assert s.scalar(select(Partner.secret_cipher)) != secret
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.seq))]
        assert "partner.created" in actions and "partner.key_added" in actions


def test_every_valid_code_has_its_own_page_even_new(admin):
    _page, key, _secret = create_through_the_page(admin, code="new", name="新合作单位")

    page = admin.get("/staff/admin/partners/new")

    assert page.status_code == 200
    assert "新合作单位" in html(page) and 'id="keys"' in html(page)
    assert key[:10] in html(page) and key not in html(page)


def test_the_page_showing_a_key_is_never_stored_by_a_browser_or_proxy(admin):
    token = csrf_token(admin, "/staff/admin/partners/")
    response = admin.post("/staff/admin/partners/", data=new_partner_form(token))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert admin.get("/staff/admin/partners/railway").headers["Cache-Control"] == "no-store"


def test_the_form_offers_every_measure_of_the_catalogue_with_its_chinese_label(admin):
    page = html(admin.get("/staff/admin/partners/"))

    assert 'value="flight"' in page and "乘坐飞机" in page
    assert 'value="exit"' in page and "限制出境" in page
    assert 'value="officer_ban"' in page and "不得担任公司董事、监事、高级管理人员" in page
    assert 'name="csrf_token"' in page


@pytest.fixture
def lower_court(session, clock, court) -> None:
    """BJ0105A, under BJ0105, with an administrator ``bj0105a-admin``."""
    staff.create_court(
        session, code="BJ0105A", name="下级人民法院", province="北京", parent_code="BJ0105",
        actor=SYSTEM, clock=clock,
    )  # fmt: skip
    staff.create_staff_user(
        session, court_code="BJ0105A", role=Role.ADMIN, username="bj0105a-admin",
        password=PASSWORD, actor=SYSTEM, clock=clock,
    )  # fmt: skip
    session.commit()


@pytest.mark.parametrize("username", ["bj0105a-admin", "bj0105-clerk", "bj0105-judge"])
def test_only_an_administrator_of_a_top_court_may_manage_partners(
    client, session, clock, lower_court, database, username
):
    register_partner(session, clock, "railway", ",".join(RAILWAY))
    login(client, username)
    token = csrf_token(client, "/staff/")
    before = registry(database)

    for path in ("/staff/admin/partners/", "/staff/admin/partners/railway",
                 "/staff/admin/partners/railway/secret",
                 "/staff/admin/partners/railway/keys/1/revoke"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    for path in ("/staff/admin/partners/", "/staff/admin/partners/railway",
                 "/staff/admin/partners/railway/keys", "/staff/admin/partners/railway/secret",
                 "/staff/admin/partners/railway/keys/1/revoke",
                 "/staff/admin/partners/railway/retry"):  # fmt: skip
        response = client.post(path, data=new_partner_form(token, code="caac"))
        assert response.status_code == 403, path
    assert registry(database) == before
    # The feedback page is for every member of staff; the menu offers the registry to no one here.
    page = client.get("/staff/partners/")
    assert page.status_code == 200
    assert "/staff/admin/partners/" not in html(page)


def test_the_registry_is_in_the_menu_of_a_top_court_administrator_only(admin):
    page = html(admin.get("/staff/"))
    assert 'href="/staff/admin/partners/"' in page
    assert 'href="/staff/partners/"' in page


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(
    admin, session, clock, database
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    with database.session() as s:
        key_id = s.scalar(select(PartnerKey.id))
    before = registry(database)

    refused = [
        admin.post("/staff/admin/partners/", data=new_partner_form("", code="caac")),
        admin.post("/staff/admin/partners/railway", data=new_partner_form("", name="改名")),
        admin.post("/staff/admin/partners/railway/keys", data={"label": "x"}),
        admin.post(f"/staff/admin/partners/railway/keys/{key_id}/revoke"),
        admin.post("/staff/admin/partners/railway/secret"),
    ]

    assert [r.status_code for r in refused] == [400] * 5
    assert "安全令牌" in html(refused[0])
    assert registry(database) == before
    assert status_of(admin, key).status_code == 200


def test_wrong_input_is_shown_beside_its_fields_kept_and_nothing_is_registered(admin, database):
    before = registry(database)
    token = csrf_token(admin, "/staff/admin/partners/")

    response = admin.post(
        "/staff/admin/partners/",
        data=new_partner_form(
            token, code="9 Bad", name="测试铁路单位", measures=[], webhook_url="ftp://x.example"
        ),
    )

    assert response.status_code == 422
    page = html(response)
    assert "小写字母" in field_error(page, "code")
    assert field_error(page, "measures") == "请至少选择一项惩戒措施"
    assert "https://" in field_error(page, "webhook_url")
    assert 'value="测试铁路单位"' in page and 'value="9 Bad"' in page  # input kept
    assert 'value="ftp://x.example"' in page
    assert registry(database) == before


def test_a_listing_scope_without_listing_measures_and_a_taken_code_are_refused(
    admin, session, clock, database
):
    register_partner(session, clock, "railway", ",".join(RAILWAY))
    before = registry(database)
    token = csrf_token(admin, "/staff/admin/partners/")

    taken = admin.post("/staff/admin/partners/", data=new_partner_form(token))
    wrong_scope = admin.post(
        "/staff/admin/partners/",
        data=new_partner_form(token, code="caac", measures=["flight"], scope="listing"),
    )

    assert taken.status_code == 409
    assert "已存在" in field_error(html(taken), "code")
    assert wrong_scope.status_code == 422
    assert "限制措施记录" in field_error(html(wrong_scope), "scope")
    assert re.search(r'value="flight" checked', html(wrong_scope))  # the ticked box stays ticked
    assert registry(database) == before


def test_a_malformed_webhook_host_is_explained_beside_the_field(admin, database):
    before = registry(database)
    token = csrf_token(admin, "/staff/admin/partners/")

    response = admin.post(
        "/staff/admin/partners/", data=new_partner_form(token, webhook_url="http://[oops/hook")
    )

    assert response.status_code == 422
    assert field_error(html(response), "webhook_url")
    assert registry(database) == before


def test_production_requires_an_https_webhook(app, admin, database):
    app.config["WEBHOOK_REQUIRE_HTTPS"] = True
    token = csrf_token(admin, "/staff/admin/partners/")

    refused = admin.post(
        "/staff/admin/partners/",
        data=new_partner_form(token, webhook_url="http://partner.example/hook"),
    )
    accepted = admin.post(
        "/staff/admin/partners/",
        data=new_partner_form(token, webhook_url="https://partner.example/hook"),
    )

    assert refused.status_code == 422
    assert "https" in field_error(html(refused), "webhook_url")
    assert accepted.status_code == 200
    with database.session() as s:
        assert s.scalar(select(Partner.webhook_url)) == "https://partner.example/hook"


def test_an_administrator_edits_the_settings_and_a_wrong_edit_changes_nothing(
    admin, session, clock, database
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    token = csrf_token(admin, "/staff/admin/partners/railway")

    saved = admin.post(
        "/staff/admin/partners/railway",
        data={"name": "国铁集团", "measures": ["hsr_any_seat", "flight"], "scope": "restriction",
              "webhook_url": "http://127.0.0.1:9/hook", "is_active": "1", "csrf_token": token},
    )  # fmt: skip
    assert saved.status_code == 302
    page = html(admin.get(saved.headers["Location"]))
    assert "已保存" in page and "国铁集团" in page
    assert re.search(r'value="flight" checked', page)
    assert not re.search(r'value="soft_sleeper" checked', page)
    assert "立即重试推送" in page  # it has a webhook now
    before = registry(database)

    refused = admin.post(
        "/staff/admin/partners/railway",
        data={"name": "", "measures": ["flight"], "scope": "listing", "webhook_url": "",
              "is_active": "1", "csrf_token": token},
    )  # fmt: skip

    assert refused.status_code == 422
    assert field_error(html(refused), "name") == "请填写合作单位名称"
    assert "限制措施记录" in field_error(html(refused), "scope")
    assert registry(database) == before

    deactivated = admin.post(
        "/staff/admin/partners/railway",
        data={"name": "国铁集团", "measures": ["flight"], "scope": "restriction",
              "webhook_url": "", "csrf_token": token},
    )  # fmt: skip
    assert deactivated.status_code == 302
    assert status_of(admin, key).status_code == 401  # a deactivated partner is cut off


def test_keys_rotate_without_downtime_and_a_revoked_key_is_refused(admin, session, clock, database):
    _id, old_key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    token = csrf_token(admin, "/staff/admin/partners/railway")

    added = admin.post(
        "/staff/admin/partners/railway/keys", data={"label": "生产环境 2026", "csrf_token": token}
    )
    assert added.status_code == 200
    assert added.headers["Cache-Control"] == "no-store"
    new_key = shown(html(added), "api-key")
    assert "signing-secret" not in html(added)
    assert status_of(admin, old_key).status_code == status_of(admin, new_key).status_code == 200

    with database.session() as s:
        old_id = s.scalar(select(PartnerKey.id).where(PartnerKey.label == "初始密钥"))
    confirm = admin.get(f"/staff/admin/partners/railway/keys/{old_id}/revoke")
    assert confirm.status_code == 200 and "确认撤销" in html(confirm)
    revoked = admin.post(
        f"/staff/admin/partners/railway/keys/{old_id}/revoke", data={"csrf_token": token}
    )

    assert revoked.status_code == 302
    assert "已撤销密钥" in html(admin.get(revoked.headers["Location"]))
    assert status_of(admin, old_key).status_code == 401
    assert status_of(admin, new_key).status_code == 200
    again = admin.post(
        f"/staff/admin/partners/railway/keys/{old_id}/revoke", data={"csrf_token": token}
    )
    assert "该密钥已经撤销" in html(admin.get(again.headers["Location"]))
    assert admin.get("/staff/admin/partners/railway/keys/999/revoke").status_code == 404
    assert admin.get("/staff/admin/partners/nosuch").status_code == 404


def test_a_too_long_key_label_is_shown_beside_the_field_and_no_key_is_added(
    admin, session, clock, database
):
    register_partner(session, clock, "railway", ",".join(RAILWAY))
    before = registry(database)
    token = csrf_token(admin, "/staff/admin/partners/railway")

    response = admin.post(
        "/staff/admin/partners/railway/keys", data={"label": "长" * 101, "csrf_token": token}
    )

    assert response.status_code == 422
    assert field_error(html(response), "label") == "备注不能超过100个字符"
    assert registry(database) == before


def test_the_signing_secret_is_replaced_after_confirmation_and_shown_once(
    admin, session, clock, database
):
    partner_id, _key, old_secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    token = csrf_token(admin, "/staff/admin/partners/railway")

    assert "确认更换" in html(admin.get("/staff/admin/partners/railway/secret"))
    response = admin.post("/staff/admin/partners/railway/secret", data={"csrf_token": token})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new_secret = shown(html(response), "signing-secret")
    assert new_secret != old_secret and "api-key" not in html(response)
    with database.session() as s:
        assert partner_services.signing_secret(s, s.get(Partner, partner_id)) == new_secret
    assert new_secret not in html(admin.get("/staff/admin/partners/railway"))


def test_push_is_retried_at_once_on_request(admin, session, clock, database):
    register_partner(
        session, clock, "railway", ",".join(RAILWAY), webhook_url="http://127.0.0.1:9/hook"
    )
    register_partner(session, clock, "caac", "flight")
    token = csrf_token(admin, "/staff/admin/partners/railway")

    retried = admin.post("/staff/admin/partners/railway/retry", data={"csrf_token": token})
    assert "已安排立即" in html(admin.get(retried.headers["Location"]))
    pull_only = admin.post("/staff/admin/partners/caac/retry", data={"csrf_token": token})
    assert "没有设置推送地址" in html(admin.get(pull_only.headers["Location"]))
    with database.session() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action))]
    assert actions.count("partner.push_retry") == 1


# --------------------------------------------------------------------------------------------------
# Acknowledgements: the feedback page and the dashboard panel


def _person(n: int, court_code: str = "京0105"):
    return person_draft(
        name=f"测试{n}",
        id_number=resident_id(sequence=f"{n:03d}"),
        case_number=f"(2024){court_code}执{1000 + n}号",
    )


def _publish_and_revoke(session, clock, court, n: int, court_code: str = "京0105"):
    listing = publish_listing(session, clock, court, _person(n, court_code))
    listing_services.revoke_listing(
        session, listing.id, "不应纳入名单", actor=court["judge"], clock=clock
    )
    session.commit()
    return listing


def test_an_overdue_removal_is_shown_until_the_partner_acknowledges_it(
    client, session, clock, court, database
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    listing = _publish_and_revoke(session, clock, court, 1)
    full_id = resident_id(sequence="001")
    masked = full_id[:10] + "****" + full_id[14:]
    login(client, "bj0105-clerk")

    clock.advance(minutes=59)
    assert "测试1" not in html(client.get("/staff/partners/"))
    assert 'id="partner-acks"' not in html(client.get("/staff/"))

    clock.advance(minutes=2)
    page = html(client.get("/staff/partners/"))
    assert 'id="overdue-railway"' in page
    assert "全国1条，其中本院1条" in page
    assert f'href="/staff/listings/{listing.id}">测试1</a>' in page
    assert masked in page and full_id not in page
    assert "1小时1分" in page  # how long it has waited
    assert "须在1小时内得到每个相关合作单位的确认" in page
    dashboard = html(client.get("/staff/"))
    assert 'id="partner-acks"' in dashboard and "railway 合作单位" in dashboard
    assert 'href="/staff/partners/"' in dashboard

    with database.session() as s:
        head = last_seq(s)
    ack = client.post("/api/v1/partner/acks", json={"seq": head}, headers=partner_headers(key))
    assert ack.status_code == 200

    page = html(client.get("/staff/partners/"))
    assert 'id="overdue-railway"' not in page and "测试1" not in page
    assert "所有合作单位均已按时确认移出" in page
    assert 'id="partner-acks"' not in html(client.get("/staff/"))


def test_another_courts_overdue_removals_are_counted_but_not_shown(
    client, session, clock, court, other_court
):
    register_partner(session, clock, "railway", ",".join(RAILWAY))
    _publish_and_revoke(session, clock, court, 1)
    theirs = _publish_and_revoke(session, clock, other_court, 2, "沪0101")
    clock.advance(minutes=61)
    other_id = resident_id(sequence="002")
    login(client, "bj0105-judge")

    page = html(client.get("/staff/partners/"))

    assert "全国2条，其中本院1条" in page
    assert "测试1" in page
    assert "测试2" not in page
    assert other_id[:10] + "****" + other_id[14:] not in page
    assert f"/staff/listings/{theirs.id}" not in page
    assert "沪0101" not in page
    assert client.get(f"/staff/listings/{theirs.id}").status_code == 404


def test_a_hit_on_someone_no_longer_restricted_is_shown_to_that_court(
    app, session, clock, court, other_court
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    ours = _publish_and_revoke(session, clock, court, 1)
    _publish_and_revoke(session, clock, other_court, 2, "沪0101")
    clock.advance(days=1)
    partner = app.test_client()
    for n in (1, 2):
        response = partner.post(
            "/api/v1/partner/hits",
            json={"id_number": resident_id(sequence=f"{n:03d}"), "measure": "hsr_any_seat",
                  "occurred_at": clock.now().isoformat(), "detail": "拒绝购票"},
            headers=partner_headers(key),
        )  # fmt: skip
        assert response.status_code == 201 and response.get_json()["in_force"] is False

    ours_page = app.test_client()
    login(ours_page, "bj0105-clerk")
    page = html(ours_page.get("/staff/partners/"))
    section = page.split('id="wrong-hits"')[1].split("</section>")[0]
    assert f'href="/staff/listings/{ours.id}">测试1</a>' in section
    assert "拒绝购票" in section and "乘坐G字头动车组列车全部座位" in section
    assert "测试2" not in section
    monthly = page.split('id="table-hits"')[1].split("</table>")[0]
    assert re.search(r"<th scope=\"row\">2025-03</th><td class=\"num\">2</td>", monthly)
    assert 'class="state-bad">2<' in monthly  # both were on people no longer restricted


def test_the_feedback_page_lists_every_partners_ack_and_push(client, session, clock, court):
    register_partner(
        session, clock, "railway", ",".join(RAILWAY), webhook_url="http://127.0.0.1:9/hook"
    )
    register_partner(session, clock, "credit_ref", "credit_record", "listing")
    login(client, "bj0105-auditor")

    response = client.get("/staff/partners/")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    assert 'id="status-railway"' in page and 'id="status-credit_ref"' in page
    assert "已推送至 0" in page and "仅拉取" in page
    assert "尚未确认" in page


def test_a_signed_out_visitor_is_sent_to_sign_in(client, court):
    for path in ("/staff/partners/", "/staff/admin/partners/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/staff/login?next=")


# --------------------------------------------------------------------------------------------------
# Hits in the public statistics


def test_the_public_statistics_count_hits_per_measure_and_month_without_personal_data(
    app, client, session, clock, court, monkeypatch
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    listing = publish_listing(session, clock, court, _person(1))
    session.commit()
    person = resident_id(sequence="001")

    def report(reference: str, measure: str = "hsr_any_seat"):
        response = client.post(
            "/api/v1/partner/hits",
            json={"id_number": person, "measure": measure, "reference": reference,
                  "occurred_at": (clock.now() - timedelta(hours=1)).isoformat()},
            headers=partner_headers(key),
        )  # fmt: skip
        assert response.status_code == 201

    report("T1")
    report("T2", "soft_sleeper")
    stats = client.get("/api/v1/public/stats").get_json()

    assert stats["hit_measures"] == [
        {"code": "soft_sleeper", "label": "乘坐列车软卧"},
        {"code": "hsr_any_seat", "label": "乘坐G字头动车组列车全部座位"},
    ]
    assert len(stats["hits_by_month"]) == 12
    assert stats["hits_by_month"][-1] == {
        "month": "2025-03",
        "measures": {"soft_sleeper": 1, "hsr_any_seat": 1},
        "total": 2,
    }
    page = client.get("/stats")
    text = html(page)
    assert 'id="table-hits"' in text and 'id="chart-hits"' in text
    assert "乘坐列车软卧" in text
    assert person not in text and person[:10] + "****" not in text
    assert listing.subject.name not in text

    # A new hit does not move the change log: it shows once the hit counts are a minute old.
    seconds = [0.0]
    monkeypatch.setattr(publication_queries, "_seconds", lambda: seconds[0])
    publication_queries.clear_statistics_cache()
    assert client.get("/api/v1/public/stats").get_json()["hits_by_month"][-1]["total"] == 2
    report("T3")
    seconds[0] = 30.0
    assert client.get("/api/v1/public/stats").get_json()["hits_by_month"][-1]["total"] == 2
    seconds[0] = 61.0
    assert client.get("/api/v1/public/stats").get_json()["hits_by_month"][-1]["total"] == 3


def test_the_public_statistics_show_each_partners_acknowledgements_without_personal_data(
    app, client, session, clock, court, monkeypatch
):
    _id, key, _secret = register_partner(session, clock, "railway", ",".join(RAILWAY))
    register_partner(session, clock, "credit_ref", "credit_record", "listing")
    listing = publish_listing(session, clock, court, _person(1))
    listing_services.revoke_listing(
        session, listing.id, "不符合纳入条件", actor=court["judge"], clock=clock
    )
    session.commit()
    clock.advance(minutes=61)  # the railway has not acknowledged the removal within the hour
    seconds = [0.0]
    monkeypatch.setattr(publication_queries, "_seconds", lambda: seconds[0])
    publication_queries.clear_statistics_cache()

    stats = client.get("/api/v1/public/stats").get_json()
    by_code = {p["code"]: p for p in stats["partners"]}
    assert by_code["railway"]["overdue_removals"] == 1
    assert by_code["railway"]["acked_seq"] == 0 and by_code["railway"]["acked_at"] is None
    assert by_code["credit_ref"]["overdue_removals"] == 1  # the listing record's removal
    page = html(client.get("/stats"))
    assert 'id="table-partners"' in page and "尚未确认" in page
    assert listing.subject.name not in page and resident_id(sequence="001") not in page

    # The railway acknowledges everything: within a minute the statistics say so.
    head = client.get("/api/v1/partner/status", headers=partner_headers(key)).get_json()
    acked = client.post(
        "/api/v1/partner/acks", json={"seq": head["newest_seq"]}, headers=partner_headers(key)
    )
    assert acked.status_code == 200
    seconds[0] = 61.0
    by_code = {p["code"]: p for p in client.get("/api/v1/public/stats").get_json()["partners"]}
    assert by_code["railway"]["overdue_removals"] == 0
    assert by_code["railway"]["acked_seq"] == head["newest_seq"]
    assert by_code["credit_ref"]["overdue_removals"] == 1

"""The administrator's pages through HTTP: the working-day calendar (DOMAIN.md §7) and the court's
staff accounts (§1), and the web session they sit behind (idle timeout, the ``next`` of the login
page, logout)."""

from __future__ import annotations

import re
import secrets
from datetime import date

import pytest
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from blacklist.audit import services as audit
from blacklist.audit.models import AuditEntry
from blacklist.core.actor import Actor
from blacklist.holidays.models import DaySource, Holiday
from blacklist.holidays.services import NOTE_MAX, seed_from_chinesecalendar
from blacklist.staff.models import StaffUser
from tests.e2e.conftest import PASSWORD, api_token, bearer, csrf_token, login

NO_DATA = "该年度尚无官方节假日数据，期限按周一至周五计算，请在国务院办公厅通知发布后录入"
NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def calendar_2025(session, clock):
    """The 2025 calendar as the package has it (Spring Festival off 28 Jan – 4 Feb, Sun 26 Jan
    and Sat 8 Feb worked)."""
    seed_from_chinesecalendar(session, actor=Actor.system("test"), clock=clock, years=[2025])
    session.commit()


@pytest.fixture
def admin(client, court) -> FlaskClient:
    """The client, signed in as BJ0105's administrator."""
    login(client, "bj0105-admin")
    return client


def other_client(app, username: str | None = None, password: str = PASSWORD) -> FlaskClient:
    """A second browser, signed in as ``username`` if given."""
    client = app.test_client()
    if username:
        login(client, username, password)
    return client


def session_csrf_token(app, client: FlaskClient) -> str:
    """A valid CSRF token for ``client``'s session, made the way Flask-WTF makes the one a page
    renders (for a signed-in person whose pages have no form yet)."""
    with client.session_transaction() as cookie:
        raw = cookie.setdefault("csrf_token", secrets.token_hex(20))
    with app.test_request_context():
        flask_session["csrf_token"] = raw
        return generate_csrf()


def html(response) -> str:
    return response.get_data(as_text=True)


def day_cell(page: str, on: str) -> tuple[set[str], bool]:
    """The CSS classes of a date's cell in the month grids, and whether it is shown as worked."""
    match = re.search(rf'<td class="([^"]*)"\s+data-date="{on}" data-workday="(true|false)"', page)
    assert match, f"no cell for {on}"
    return set(match.group(1).split()), match.group(2) == "true"


def third_working_day_after(client: FlaskClient, on: str) -> str:
    """What the page's quick check answers for "three working days after ``on``"."""
    page = html(client.get(f"/staff/calendar/?year={on[:4]}&check={on}"))
    match = re.search(r"3个工作日后：\s*<strong>(\d{4}-\d{2}-\d{2})", page)
    assert match, "no result of the quick check"
    return match.group(1)


def field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert match, f"no error shown beside {field}"
    return match.group(1)


def snapshot(database) -> dict:
    """What a refused act must leave unchanged: the calendar, the accounts, the audit journal."""
    with database.session() as s:
        return {
            "holidays": sorted(
                s.execute(select(Holiday.on, Holiday.is_workday, Holiday.note, Holiday.source))
            ),
            "staff": sorted(
                s.execute(
                    select(
                        StaffUser.username,
                        StaffUser.is_active,
                        StaffUser.password_hash,
                        StaffUser.session_version,
                    )
                )
            ),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


def audit_actions(database) -> list[str]:
    with database.session() as s:
        return [entry.action for entry in reversed(audit.recent(s, limit=1000))]


def user_row(database, username: str) -> StaffUser:
    with database.session() as s:
        return s.scalar(select(StaffUser).where(StaffUser.username == username))


# --------------------------------------------------------------------------------------------------
# Who may see the pages


def test_an_administrator_sees_the_calendar_and_the_courts_accounts(
    admin, other_court, calendar_2025
):
    calendar = admin.get("/staff/calendar/?year=2025")
    accounts = admin.get("/staff/accounts/")

    assert calendar.status_code == accounts.status_code == 200
    assert "工作日历 · 2025年" in html(calendar) and "春节调休上班" in html(calendar)
    assert NO_DATA not in html(calendar)
    page = html(accounts)
    for name in ("bj0105-clerk", "bj0105-judge", "bj0105-admin", "bj0105-auditor"):
        assert name in page
    assert "sh0101" not in page


@pytest.mark.parametrize("role", ["clerk", "judge", "auditor"])
def test_staff_other_than_the_administrator_are_refused_both_pages(
    app, client, court, role, database
):
    login(client, f"bj0105-{role}")
    token = session_csrf_token(app, client)
    before = snapshot(database)

    assert client.get("/staff/calendar/").status_code == 403
    assert client.get("/staff/accounts/").status_code == 403
    day = {"on": "2025-02-05", "is_workday": "0", "csrf_token": token}
    assert client.post("/staff/calendar/days", data=day).status_code == 403
    account = {"username": "sneaky", "role": "admin", "password": PASSWORD,
               "password_confirm": PASSWORD, "csrf_token": token}  # fmt: skip
    assert client.post("/staff/accounts/", data=account).status_code == 403
    assert snapshot(database) == before


@pytest.mark.parametrize("path", ["/staff/calendar/?year=2025", "/staff/accounts/"])
def test_a_signed_out_visitor_is_sent_to_the_login_page(client, court, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


# --------------------------------------------------------------------------------------------------
# The calendar


def test_a_year_without_official_data_says_deadlines_count_monday_to_friday(admin):
    page = html(admin.get("/staff/calendar/?year=2027"))

    assert NO_DATA in page
    assert day_cell(page, "2027-10-01") == ({"workday"}, True)
    assert day_cell(page, "2027-10-02") == ({"weekend"}, False)


def test_the_calendar_marks_holidays_and_make_up_working_days_with_their_source(
    admin, calendar_2025
):
    page = html(admin.get("/staff/calendar/?year=2025"))

    assert day_cell(page, "2025-01-28") == ({"holiday"}, False)
    assert day_cell(page, "2025-01-26") == ({"makeup"}, True)
    assert day_cell(page, "2025-03-04") == ({"workday"}, True)
    assert re.search(
        r"2025-01-26</td>\s*<td>周日</td>.*?春节调休上班</td>\s*<td>软件包", page, re.S
    )


def test_making_a_working_day_a_rest_day_changes_the_calendar_and_a_deadline(
    admin, calendar_2025, database
):
    assert third_working_day_after(admin, "2025-01-27") == "2025-02-07"
    token = csrf_token(admin, "/staff/calendar/")

    response = admin.post(
        "/staff/calendar/days",
        data={"on": "2025-02-05", "is_workday": "0", "note": "临时停工", "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/calendar/?year=2025"
    page = html(admin.get(response.headers["Location"]))
    assert "已将 2025-02-05（周三）设为休息日" in page
    assert day_cell(page, "2025-02-05") == ({"holiday", "admin"}, False)
    assert re.search(r"2025-02-05</td>.*?临时停工</td>\s*<td>管理员", page, re.S)
    # Feb 6 and 7 count, Sat Feb 8 is a make-up working day.
    assert third_working_day_after(admin, "2025-01-27") == "2025-02-08"
    assert audit_actions(database)[-1] == "calendar.day_set"


def test_clearing_an_administrators_entry_restores_the_deadline(admin, calendar_2025, database):
    token = csrf_token(admin, "/staff/calendar/")
    admin.post(
        "/staff/calendar/days", data={"on": "2025-02-05", "is_workday": "0", "csrf_token": token}
    )
    assert third_working_day_after(admin, "2025-01-27") == "2025-02-08"

    response = admin.post(
        "/staff/calendar/days/clear", data={"on": "2025-02-05", "csrf_token": token}
    )

    assert response.status_code == 302
    page = html(admin.get(response.headers["Location"]))
    assert "已清除 2025-02-05（周三）的特别安排" in page
    assert day_cell(page, "2025-02-05") == ({"workday"}, True)
    assert third_working_day_after(admin, "2025-01-27") == "2025-02-07"
    assert audit_actions(database)[-1] == "calendar.day_cleared"


def test_entering_a_day_of_a_new_year_makes_the_year_known(admin, calendar_2025):
    token = csrf_token(admin, "/staff/calendar/")
    admin.post(
        "/staff/calendar/days",
        data={"on": "2027-02-06", "is_workday": "0", "note": "春节", "csrf_token": token},
    )

    page = html(admin.get("/staff/calendar/?year=2027"))
    assert NO_DATA not in page
    assert "已有官方数据的年份：2025、2027。" in page
    assert day_cell(page, "2027-02-06") == ({"weekend", "admin"}, False)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"on": "2025-02-30", "is_workday": "0"}, "on", "YYYY-MM-DD"),
        ({"on": "5 Feb 2025", "is_workday": "0"}, "on", "YYYY-MM-DD"),
        ({"on": "2025-02-05", "is_workday": ""}, "is_workday", "请选择工作日或休息日"),
        ({"on": "2025-02-05", "is_workday": "0", "note": "节" * (NOTE_MAX + 1)}, "note", "200"),
    ],
)
def test_a_wrong_day_entry_is_shown_beside_its_field_and_changes_nothing(
    admin, calendar_2025, database, form, field, message
):
    token = csrf_token(admin, "/staff/calendar/")
    before = snapshot(database)

    response = admin.post("/staff/calendar/days", data={**form, "csrf_token": token})

    assert response.status_code == 422
    assert message in field_error(html(response), field)
    assert f'value="{form["on"]}"' in html(response)  # the entry is kept for correcting
    assert snapshot(database) == before
    assert third_working_day_after(admin, "2025-01-27") == "2025-02-07"


def test_a_day_entry_without_the_csrf_token_is_refused(admin, calendar_2025, database):
    before = snapshot(database)

    response = admin.post("/staff/calendar/days", data={"on": "2025-02-05", "is_workday": "0"})
    cleared = admin.post("/staff/calendar/days/clear", data={"on": "2025-01-28"})

    assert response.status_code == cleared.status_code == 400
    assert "安全令牌" in html(response)
    assert snapshot(database) == before


def test_the_quick_check_explains_a_wrong_date_and_a_year_without_data(admin, calendar_2025):
    wrong = html(admin.get("/staff/calendar/?year=2025&check=2025-13-01"))
    assert "YYYY-MM-DD" in field_error(wrong, "check")

    fallback = html(admin.get("/staff/calendar/?year=2027&check=2027-12-30"))
    assert re.search(r"3个工作日后：\s*<strong>2028-01-04", fallback)
    assert "2027、2028年尚无官方节假日数据" in fallback


def test_a_year_out_of_range_is_explained_and_this_year_shown(admin):
    page = html(admin.get("/staff/calendar/?year=abc"))
    assert "年份应为" in field_error(page, "year")
    assert "工作日历 · 2025年" in page


# --------------------------------------------------------------------------------------------------
# Staff accounts


def new_account(client: FlaskClient, **fields):
    token = csrf_token(client, "/staff/accounts/")
    data = {"username": "bj0105-clerk2", "display_name": "吴书记员", "role": "clerk",
            "password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": token}  # fmt: skip
    data.update(fields)
    return client.post("/staff/accounts/", data=data)


def test_an_administrator_creates_an_account_that_can_sign_in(app, admin, database, court):
    response = new_account(admin, role="judge")

    assert response.status_code == 302
    page = html(admin.get("/staff/accounts/"))
    assert "已创建账号 bj0105-clerk2（执行法官）" in page
    assert re.search(r"bj0105-clerk2</td>\s*<td>吴书记员</td>\s*<td>执行法官</td>\s*<td>在用", page)
    user = user_row(database, "bj0105-clerk2")
    assert user.court_id == court["admin"].court_id
    with database.session() as s:
        entry = audit.recent(s, limit=1)[0]
    assert (entry.action, entry.actor_id) == ("staff.created", court["admin"].user_id)
    assert other_client(app, "bj0105-clerk2").get("/staff/").status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "errors"),
    [
        ({"password_confirm": "something else"}, 422, {"password_confirm": "两次输入的密码不一致"}),
        (
            {"username": "吴", "password": "short", "password_confirm": "short"},
            422,
            {"username": "用户名应为", "password": "密码至少10位"},
        ),
        ({"role": "president"}, 422, {"role": "角色应为"}),
        ({"username": "bj0105-judge"}, 409, {"username": "已被使用"}),
    ],
)
def test_a_wrong_account_is_explained_beside_its_fields_and_not_created(
    admin, database, fields, status, errors
):
    before = snapshot(database)

    response = new_account(admin, **fields)

    assert response.status_code == status
    for field, message in errors.items():
        assert message in field_error(html(response), field)
    assert "吴书记员" in html(response)  # what was typed is kept (but never the password)
    assert PASSWORD not in html(response)
    assert snapshot(database) == before


def test_deactivation_signs_the_person_out_and_stops_their_api_token(app, admin, database):
    clerk = other_client(app, "bj0105-clerk")
    token = api_token(app.test_client(), "bj0105-clerk")
    assert clerk.get("/staff/").status_code == 200
    assert app.test_client().get("/api/v1/listings", headers=bearer(token)).status_code == 200
    clerk_id = user_row(database, "bj0105-clerk").id

    confirm = admin.get(f"/staff/accounts/{clerk_id}/deactivate")
    assert confirm.status_code == 200 and "确认停用" in html(confirm)
    response = admin.post(
        f"/staff/accounts/{clerk_id}/active",
        data={
            "active": "0",
            "csrf_token": csrf_token(admin, f"/staff/accounts/{clerk_id}/deactivate"),
        },
    )

    assert response.status_code == 302
    assert "已停用账号 bj0105-clerk" in html(admin.get("/staff/accounts/"))
    assert clerk.get("/staff/").headers["Location"].startswith("/staff/login")
    assert app.test_client().get("/api/v1/listings", headers=bearer(token)).status_code == 401
    assert not user_row(database, "bj0105-clerk").is_active
    assert "staff.deactivated" in audit_actions(database)


def test_a_reactivated_account_can_sign_in_again(app, admin, database):
    clerk_id = user_row(database, "bj0105-clerk").id
    token = csrf_token(admin, "/staff/accounts/")
    admin.post(f"/staff/accounts/{clerk_id}/active", data={"active": "0", "csrf_token": token})

    response = admin.post(
        f"/staff/accounts/{clerk_id}/active", data={"active": "1", "csrf_token": token}
    )

    assert response.status_code == 302
    assert "已启用账号 bj0105-clerk" in html(admin.get("/staff/accounts/"))
    assert other_client(app, "bj0105-clerk").get("/staff/").status_code == 200


def test_an_administrator_cannot_deactivate_their_own_account(admin, database):
    admin_id = user_row(database, "bj0105-admin").id
    token = csrf_token(admin, "/staff/accounts/")

    response = admin.post(
        f"/staff/accounts/{admin_id}/active", data={"active": "0", "csrf_token": token}
    )

    assert "不能停用自己的账号" in html(admin.get(response.headers["Location"]))
    assert user_row(database, "bj0105-admin").is_active


def test_a_new_password_ends_the_old_session_and_replaces_the_old_password(app, admin, database):
    clerk = other_client(app, "bj0105-clerk")
    clerk_id = user_row(database, "bj0105-clerk").id
    path = f"/staff/accounts/{clerk_id}/password"
    token = csrf_token(admin, path)

    mismatch = admin.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": "x", "csrf_token": token}
    )
    short = admin.post(
        path, data={"password": "short", "password_confirm": "short", "csrf_token": token}
    )
    assert mismatch.status_code == short.status_code == 422
    assert "两次输入的密码不一致" in field_error(html(mismatch), "password_confirm")
    assert "密码至少10位" in field_error(html(short), "password")
    assert clerk.get("/staff/").status_code == 200

    response = admin.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    assert clerk.get("/staff/").status_code == 302
    refused = clerk.post(
        "/staff/login",
        data={"username": "bj0105-clerk", "password": PASSWORD, "csrf_token": csrf_token(clerk)},
    )
    assert refused.status_code == 401
    other_client(app, "bj0105-clerk", NEW_PASSWORD)
    assert audit_actions(database).count("staff.password_set") == 1


def test_an_administrator_of_another_court_cannot_touch_this_courts_accounts(
    app, court, other_court, database
):
    intruder = other_client(app, "sh0101-admin")
    clerk_id = user_row(database, "bj0105-clerk").id
    token = csrf_token(intruder, "/staff/accounts/")
    before = snapshot(database)

    assert intruder.get(f"/staff/accounts/{clerk_id}/deactivate").status_code == 404
    assert intruder.get(f"/staff/accounts/{clerk_id}/password").status_code == 404
    deactivate = {"active": "0", "csrf_token": token}
    assert intruder.post(f"/staff/accounts/{clerk_id}/active", data=deactivate).status_code == 404
    password = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "csrf_token": token}
    assert intruder.post(f"/staff/accounts/{clerk_id}/password", data=password).status_code == 404
    assert snapshot(database) == before
    assert other_client(app, "bj0105-clerk").get("/staff/").status_code == 200


# --------------------------------------------------------------------------------------------------
# The web session (staff/auth.py)


@pytest.mark.parametrize(("idle_seconds", "signed_in"), [(29 * 60, True), (30 * 60 + 1, False)])
def test_a_session_ends_after_thirty_idle_minutes(admin, idle_seconds, signed_in):
    with admin.session_transaction() as cookie:
        cookie["seen"] -= idle_seconds

    response = admin.get("/staff/calendar/")

    assert (response.status_code == 200) is signed_in
    if not signed_in:
        assert response.headers["Location"].startswith("/staff/login")
        assert admin.get("/staff/accounts/").status_code == 302  # and it stays ended


def test_a_session_ends_after_twelve_hours_however_busy(admin):
    with admin.session_transaction() as cookie:
        cookie["since"] -= 12 * 3600 + 1

    assert admin.get("/staff/calendar/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/", "/staff/"),
        ("//evil.example/", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
        ("/staff/calendar/?year=2026", "/staff/calendar/?year=2026"),
    ],
)
def test_after_signing_in_only_a_local_next_is_followed(client, court, next_url, lands_on):
    response = client.post(
        "/staff/login",
        data={"username": "bj0105-admin", "password": PASSWORD, "next": next_url,
              "csrf_token": csrf_token(client)},
    )  # fmt: skip

    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_a_next_with_a_backslash_does_not_leave_the_site(client, court):
    response = client.post(
        "/staff/login",
        data={"username": "bj0105-admin", "password": PASSWORD, "next": "/\\evil.example",
              "csrf_token": csrf_token(client)},
    )  # fmt: skip

    assert response.headers["Location"] == "/staff/"


def test_logout_needs_a_post_with_the_csrf_token_and_is_audited(admin, database, court):
    assert admin.get("/staff/logout").status_code == 405
    assert admin.post("/staff/logout").status_code == 400
    assert admin.get("/staff/calendar/").status_code == 200

    response = admin.post(
        "/staff/logout", data={"csrf_token": csrf_token(admin, "/staff/calendar/")}
    )

    assert response.headers["Location"] == "/staff/login"
    assert admin.get("/staff/calendar/").status_code == 302
    with database.session() as s:
        entry = audit.recent(s, limit=1)[0]
    assert (entry.action, entry.actor_id) == ("staff.logout", court["admin"].user_id)


def test_an_administrators_entry_is_stored_as_theirs(admin, database):
    token = csrf_token(admin, "/staff/calendar/")
    admin.post(
        "/staff/calendar/days",
        data={
            "on": "2025-10-11",
            "is_workday": "1",
            "note": " 国庆节调休上班 ",
            "csrf_token": token,
        },
    )

    with database.session() as s:
        row = s.get(Holiday, date(2025, 10, 11))
    assert (row.is_workday, row.note, row.source) == (True, "国庆节调休上班", DaySource.ADMIN.value)

"""Courts, staff accounts, signing in and API tokens (DOMAIN.md §1, §8): who may set up what, the
lockout after five failed sign-ins, tokens that expire and are revoked, and an administrator who
manages only the accounts of their own court."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blacklist.audit import services as audit
from blacklist.core.actor import Actor, Role
from blacklist.core.errors import (
    Conflict,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from blacklist.staff import services as staff
from blacklist.staff.models import ApiToken, Court, StaffUser
from tests.factories import fast_password_hashing, setup_court

PASSWORD = "correct horse battery"
TOKEN_LIFETIME = timedelta(hours=12)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def court(session, clock):
    """BJ0105 with a clerk, a judge and an administrator."""
    return setup_court(session, clock)


def user_named(session, username: str) -> StaffUser:
    return session.scalar(select(StaffUser).where(StaffUser.username == username))


def actions(session) -> list[str]:
    """Every audited action, oldest first."""
    return [entry.action for entry in reversed(audit.recent(session, limit=1000))]


def last_entry(session):
    return audit.recent(session, limit=1)[0]


def sign_in(session, clock, username="bj0105-clerk", password=PASSWORD) -> StaffUser:
    return staff.authenticate(session, username, password, ip="10.0.0.7", clock=clock)


# --------------------------------------------------------------------------------------------------
# Courts


def test_the_system_registers_a_court_and_the_act_is_audited(session, clock, system_actor):
    court = staff.create_court(
        session, code="BJ01", name=" 北京市第一中级人民法院 ", province="北京", actor=system_actor,
        clock=clock,
    )  # fmt: skip

    assert session.get(Court, court.id).name == "北京市第一中级人民法院"
    entry = last_entry(session)
    assert entry.action == "court.created"
    assert entry.actor_kind == "system"
    assert entry.after == {
        "code": "BJ01",
        "name": "北京市第一中级人民法院",
        "province": "北京",
        "parent": None,
    }


def test_a_court_may_name_its_higher_court(session, clock, system_actor):
    staff.create_court(
        session, code="BJ01", name="一中院", province="北京", actor=system_actor, clock=clock
    )
    lower = staff.create_court(
        session, code="BJ0105", name="朝阳法院", province="北京", parent_code="BJ01",
        actor=system_actor, clock=clock,
    )  # fmt: skip

    assert lower.parent.code == "BJ01"


def test_court_staff_may_not_register_a_court(session, clock, court):
    with pytest.raises(NotAllowed):
        staff.create_court(
            session, code="SH01", name="上海一中院", province="上海", actor=court["admin"],
            clock=clock,
        )  # fmt: skip
    assert session.scalar(select(Court).where(Court.code == "SH01")) is None


def test_every_wrong_field_of_a_court_is_reported_at_once(session, clock, system_actor):
    with pytest.raises(ValidationFailed) as caught:
        staff.create_court(
            session, code="京 01", name="  ", province="江东", actor=system_actor, clock=clock
        )

    assert set(caught.value.errors) == {"code", "name", "province"}
    assert session.scalars(select(Court)).all() == []
    assert actions(session) == []


def test_a_court_code_is_used_once_and_the_higher_court_must_exist(session, clock, court):
    system = Actor.system("test")
    with pytest.raises(Conflict) as duplicate:
        staff.create_court(
            session, code="BJ0105", name="重复", province="北京", actor=system, clock=clock
        )
    with pytest.raises(ValidationFailed) as orphan:
        staff.create_court(
            session, code="BJ0106", name="海淀法院", province="北京", parent_code="NOPE",
            actor=system, clock=clock,
        )  # fmt: skip

    assert "code" in duplicate.value.errors
    assert "parent" in orphan.value.errors


# --------------------------------------------------------------------------------------------------
# Staff accounts


def test_an_administrator_creates_an_account_for_their_own_court(session, clock, court):
    user = staff.create_staff_user(
        session, court_code="BJ0105", role="auditor", username="bj-audit", password=PASSWORD,
        display_name=" 孙审计 ", actor=court["admin"], clock=clock,
    )  # fmt: skip

    assert (user.role, user.display_name, user.court.code) == (Role.AUDITOR, "孙审计", "BJ0105")
    assert PASSWORD not in user.password_hash and staff.check_password(user, PASSWORD)
    entry = last_entry(session)
    assert (entry.action, entry.actor_id, entry.entity_id) == (
        "staff.created",
        court["admin"].user_id,
        str(user.id),
    )
    assert entry.after == {"username": "bj-audit", "role": "auditor", "court": "BJ0105"}


def test_an_administrator_of_another_court_or_a_clerk_may_not_create_accounts(
    session, clock, court
):
    other = setup_court(session, clock, "SH0101", province="上海")
    for actor in (other["admin"], court["clerk"], court["judge"]):
        with pytest.raises(NotAllowed):
            staff.create_staff_user(
                session, court_code="BJ0105", role="clerk", username="intruder",
                password=PASSWORD, actor=actor, clock=clock,
            )  # fmt: skip
    assert user_named(session, "intruder") is None


def test_every_wrong_field_of_an_account_is_reported_at_once(session, clock, court):
    before = actions(session)
    with pytest.raises(ValidationFailed) as caught:
        staff.create_staff_user(
            session, court_code="BJ0105", role="president", username="李", password="short",
            actor=court["admin"], clock=clock,
        )  # fmt: skip

    assert set(caught.value.errors) == {"role", "username", "password"}
    assert "10" in caught.value.errors["password"][0]
    assert actions(session) == before


def test_a_username_is_used_once_across_all_courts(session, clock, court):
    other = setup_court(session, clock, "SH0101", province="上海")
    with pytest.raises(Conflict) as caught:
        staff.create_staff_user(
            session, court_code="SH0101", role="clerk", username="bj0105-clerk",
            password=PASSWORD, actor=other["admin"], clock=clock,
        )  # fmt: skip
    assert "username" in caught.value.errors


def test_an_account_for_an_unknown_court_is_refused(session, clock, system_actor):
    with pytest.raises(ValidationFailed) as caught:
        staff.create_staff_user(
            session, court_code="NOPE", role="clerk", username="nobody", password=PASSWORD,
            actor=system_actor, clock=clock,
        )  # fmt: skip
    assert "court" in caught.value.errors


def test_a_display_name_longer_than_the_column_is_refused_with_a_field_error(session, clock, court):
    with pytest.raises(ValidationFailed) as caught:
        staff.create_staff_user(
            session, court_code="BJ0105", role="clerk", username="long-name", password=PASSWORD,
            display_name="长" * 101, actor=court["admin"], clock=clock,
        )  # fmt: skip
    assert "display_name" in caught.value.errors


# --------------------------------------------------------------------------------------------------
# Signing in


def test_signing_in_with_the_right_password_is_audited_and_remembered(session, clock, court):
    user = sign_in(session, clock)

    assert user.username == "bj0105-clerk"
    assert user.last_login_at == clock.now()
    entry = last_entry(session)
    assert (entry.action, entry.actor_id, entry.ip) == ("staff.login", user.id, "10.0.0.7")


def test_a_wrong_password_is_refused_counted_and_audited(session, clock, court):
    with pytest.raises(NotAuthenticated) as caught:
        sign_in(session, clock, password="wrong password")

    assert caught.value.message == staff.BAD_CREDENTIALS
    assert user_named(session, "bj0105-clerk").failed_logins == 1
    entry = last_entry(session)
    assert (entry.action, entry.entity_id) == (
        "staff.login_failed",
        str(court["clerk"].user_id),
    )


def test_an_unknown_username_gets_the_same_message_as_a_wrong_password(session, clock, court):
    with pytest.raises(NotAuthenticated) as unknown:
        sign_in(session, clock, username="no-such-user")
    with pytest.raises(NotAuthenticated) as wrong:
        sign_in(session, clock, password="wrong password")

    assert unknown.value.message == wrong.value.message == staff.BAD_CREDENTIALS
    entry = audit.recent(session, limit=2)[1]
    assert (entry.action, entry.actor_kind, entry.after) == (
        "staff.login_failed",
        "public",
        {"username": "no-such-user"},
    )


def test_a_deactivated_account_cannot_sign_in_and_is_not_told_why(session, clock, court):
    staff.set_staff_active(
        session, court["clerk"].user_id, False, actor=court["admin"], clock=clock
    )
    with pytest.raises(NotAuthenticated) as caught:
        sign_in(session, clock)
    assert caught.value.message == staff.BAD_CREDENTIALS


def test_five_failures_in_a_row_lock_the_account_for_fifteen_minutes(session, clock, court):
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(NotAuthenticated):
            sign_in(session, clock, password="wrong password")

    user = user_named(session, "bj0105-clerk")
    assert user.locked_until == clock.now() + timedelta(minutes=15)
    assert actions(session)[-5:] == ["staff.login_failed"] * 4 + ["staff.locked"]


def test_a_locked_account_refuses_even_the_right_password_until_the_lock_ends(
    session, clock, court
):
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(NotAuthenticated):
            sign_in(session, clock, password="wrong password")

    clock.advance(minutes=14, seconds=59)
    with pytest.raises(NotAuthenticated) as caught:
        sign_in(session, clock)
    assert "锁定" in caught.value.message
    assert last_entry(session).action == "staff.login_refused_locked"

    clock.advance(seconds=1)
    user = sign_in(session, clock)
    assert user.locked_until is None and user.failed_logins == 0
    assert last_entry(session).action == "staff.login"


def test_a_successful_sign_in_resets_the_failure_count(session, clock, court):
    for _ in range(staff.MAX_FAILED_LOGINS - 1):
        with pytest.raises(NotAuthenticated):
            sign_in(session, clock, password="wrong password")
    sign_in(session, clock)
    with pytest.raises(NotAuthenticated):
        sign_in(session, clock, password="wrong password")

    user = user_named(session, "bj0105-clerk")
    assert user.failed_logins == 1 and user.locked_until is None


def test_the_lock_message_names_the_minutes_actually_left(session, clock, court):
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(NotAuthenticated):
            sign_in(session, clock, password="wrong password")
    with pytest.raises(NotAuthenticated) as caught:
        sign_in(session, clock)
    assert "15分钟" in caught.value.message


# --------------------------------------------------------------------------------------------------
# API tokens


def issue(session, clock, username="bj0105-clerk") -> tuple[str, ApiToken]:
    user = user_named(session, username)
    return staff.issue_api_token(session, user, lifetime=TOKEN_LIFETIME, ip=None, clock=clock)


def test_an_issued_token_resolves_to_its_user_and_only_its_hash_is_stored(session, clock, court):
    token, row = issue(session, clock)

    user, resolved = staff.resolve_api_token(session, token, clock=clock)
    assert (user.username, resolved.id) == ("bj0105-clerk", row.id)
    assert token.startswith(staff.TOKEN_PREFIX)
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.expires_at == clock.now() + TOKEN_LIFETIME
    assert last_entry(session).action == "staff.token_issued"


def test_a_token_stops_working_when_it_expires(session, clock, court):
    token, _ = issue(session, clock)

    clock.advance(hours=11, minutes=59)
    staff.resolve_api_token(session, token, clock=clock)
    clock.advance(minutes=1)
    with pytest.raises(NotAuthenticated, match="过期"):
        staff.resolve_api_token(session, token, clock=clock)


def test_a_revoked_token_stops_working_and_the_revocation_is_audited(session, clock, court):
    token, row = issue(session, clock)

    staff.revoke_api_token(session, row, actor=court["clerk"], clock=clock)
    with pytest.raises(NotAuthenticated, match="撤销"):
        staff.resolve_api_token(session, token, clock=clock)
    assert last_entry(session).action == "staff.token_revoked"


@pytest.mark.parametrize("token", ["", "not-a-token", staff.TOKEN_PREFIX + "made-up"])
def test_an_unknown_token_is_refused(session, clock, court, token):
    with pytest.raises(NotAuthenticated):
        staff.resolve_api_token(session, token, clock=clock)


# --------------------------------------------------------------------------------------------------
# An administrator manages the court's accounts


def test_deactivation_revokes_tokens_and_ends_web_sessions(session, clock, court):
    token, _ = issue(session, clock)
    version = user_named(session, "bj0105-clerk").session_version

    user = staff.set_staff_active(
        session, court["clerk"].user_id, False, actor=court["admin"], clock=clock
    )

    assert not user.is_active
    assert user.session_version == version + 1
    with pytest.raises(NotAuthenticated):
        staff.resolve_api_token(session, token, clock=clock)
    assert session.scalars(select(ApiToken.revoked_at)).all() == [clock.now()]
    entry = last_entry(session)
    assert (entry.action, entry.before, entry.after) == (
        "staff.deactivated",
        {"is_active": True},
        {"is_active": False},
    )


def test_a_reactivated_account_signs_in_again_but_its_old_tokens_stay_revoked(
    session, clock, court
):
    token, _ = issue(session, clock)
    clerk_id = court["clerk"].user_id
    staff.set_staff_active(session, clerk_id, False, actor=court["admin"], clock=clock)
    staff.set_staff_active(session, clerk_id, True, actor=court["admin"], clock=clock)

    assert sign_in(session, clock).is_active
    with pytest.raises(NotAuthenticated):
        staff.resolve_api_token(session, token, clock=clock)
    assert "staff.activated" in actions(session)


def test_an_administrator_cannot_deactivate_their_own_account(session, clock, court):
    with pytest.raises(Conflict):
        staff.set_staff_active(
            session, court["admin"].user_id, False, actor=court["admin"], clock=clock
        )
    assert user_named(session, "bj0105-admin").is_active


def test_a_new_password_lifts_the_lock_and_ends_old_sessions(session, clock, court):
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(NotAuthenticated):
            sign_in(session, clock, password="wrong password")
    version = user_named(session, "bj0105-clerk").session_version

    user = staff.set_staff_password(
        session, court["clerk"].user_id, "a brand new secret", actor=court["admin"], clock=clock
    )

    assert user.locked_until is None and user.failed_logins == 0
    assert user.session_version == version + 1
    assert last_entry(session).action == "staff.password_set"
    with pytest.raises(NotAuthenticated):
        sign_in(session, clock)
    assert sign_in(session, clock, password="a brand new secret").id == user.id


def test_a_new_password_that_is_too_short_is_refused(session, clock, court):
    with pytest.raises(ValidationFailed) as caught:
        staff.set_staff_password(
            session, court["clerk"].user_id, "short", actor=court["admin"], clock=clock
        )
    assert "password" in caught.value.errors
    assert sign_in(session, clock).username == "bj0105-clerk"


def test_a_new_password_also_revokes_the_accounts_api_tokens(session, clock, court):
    token, _ = issue(session, clock)
    staff.set_staff_password(
        session, court["clerk"].user_id, "a brand new secret", actor=court["admin"], clock=clock
    )
    with pytest.raises(NotAuthenticated):
        staff.resolve_api_token(session, token, clock=clock)


def test_an_administrator_cannot_manage_another_courts_account(session, clock, court):
    other = setup_court(session, clock, "SH0101", province="上海")
    clerk_id = court["clerk"].user_id
    before = actions(session)

    with pytest.raises(NotFound):
        staff.set_staff_active(session, clerk_id, False, actor=other["admin"], clock=clock)
    with pytest.raises(NotFound):
        staff.set_staff_password(
            session, clerk_id, "take over now!", actor=other["admin"], clock=clock
        )
    with pytest.raises(NotFound):
        staff.set_staff_active(session, 999_999, False, actor=court["admin"], clock=clock)

    assert user_named(session, "bj0105-clerk").is_active
    assert sign_in(session, clock).id == clerk_id
    assert actions(session)[: len(before)] == before
    assert "staff.deactivated" not in actions(session)
    assert "staff.password_set" not in actions(session)


def test_an_administrator_lists_only_their_own_courts_accounts(session, clock, court):
    setup_court(session, clock, "SH0101", province="上海")

    users = staff.list_staff(session, actor=court["admin"])

    assert [u.username for u in users] == ["bj0105-clerk", "bj0105-judge", "bj0105-admin"]


@pytest.mark.parametrize("role", ["clerk", "judge"])
def test_court_staff_other_than_the_administrator_cannot_manage_accounts(
    session, clock, court, role
):
    with pytest.raises(NotAllowed):
        staff.list_staff(session, actor=court[role])
    with pytest.raises(NotAllowed):
        staff.set_staff_active(
            session, court["clerk"].user_id, False, actor=court[role], clock=clock
        )
    with pytest.raises(NotAllowed):
        staff.set_staff_password(
            session, court["judge"].user_id, "another secret!", actor=court[role], clock=clock
        )

"""Setting up courts and staff accounts, and the court scoping every other feature relies on."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from blacklist.audit import services as audit
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import Clock
from blacklist.core.errors import (
    Conflict,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from blacklist.staff.models import ApiToken, Court, StaffUser

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川",
    "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)  # fmt: skip

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 10


def create_court(
    session: Session,
    *,
    code: str,
    name: str,
    province: str,
    parent_code: str | None = None,
    actor: Actor,
    clock: Clock,
) -> Court:
    """Register a court. Only the system (operators' CLI, seeding) sets up courts."""
    if not actor.is_system:
        raise NotAllowed("只有系统运维人员可以新增法院")
    code, name, province = code.strip(), name.strip(), province.strip()
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code):
        errors["code"] = ["法院代码应为1至20位字母、数字、下划线或连字符"]
    if not name:
        errors["name"] = ["请填写法院名称"]
    if province not in PROVINCES:
        errors["province"] = [f"省份应为以下之一：{'、'.join(PROVINCES)}"]
    if errors:
        raise ValidationFailed("法院信息有误", errors)
    if session.scalar(select(Court.id).where(Court.code == code)):
        raise Conflict.on("code", f"法院代码 {code} 已存在")
    parent = None
    if parent_code:
        parent = session.scalar(select(Court).where(Court.code == parent_code))
        if parent is None:
            raise ValidationFailed.on("parent", f"上级法院 {parent_code} 不存在")
    court = Court(code=code, name=name, province=province, parent=parent, created_at=clock.now())
    session.add(court)
    session.flush()
    audit.record(
        session,
        actor,
        "court.created",
        ("court", court.id),
        clock=clock,
        after={"code": code, "name": name, "province": province, "parent": parent_code},
    )
    session.commit()
    return court


def create_staff_user(
    session: Session,
    *,
    court_code: str,
    role: Role | str,
    username: str,
    password: str,
    display_name: str | None = None,
    actor: Actor,
    clock: Clock,
) -> StaffUser:
    """Create a staff account. The system, or an administrator of the same court, may do it."""
    court = session.scalar(select(Court).where(Court.code == court_code))
    if court is None:
        raise ValidationFailed.on("court", f"法院 {court_code} 不存在")
    if not (actor.is_system or (actor.has_role(Role.ADMIN) and actor.court_id == court.id)):
        raise NotAllowed("只有本院管理员可以新增工作人员账号")
    errors: dict[str, list[str]] = {}
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = ["角色应为 clerk、judge、admin 或 auditor"]
    if not _USERNAME.match(username or ""):
        errors["username"] = ["用户名应为3至64位字母、数字、点、下划线或连字符"]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"密码至少{MIN_PASSWORD_LENGTH}位"]
    if display_name is not None and len(display_name.strip()) > 100:
        errors["display_name"] = ["姓名不能超过100个字符"]
    if errors:
        raise ValidationFailed("账号信息有误", errors)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict.on("username", f"用户名 {username} 已被使用")
    user = StaffUser(
        court=court,
        username=username,
        display_name=(display_name or username).strip(),
        role=role,
        password_hash=generate_password_hash(password),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "staff.created",
        ("staff_user", user.id),
        clock=clock,
        after={"username": username, "role": role.value, "court": court.code},
    )
    session.commit()
    return user


def check_password(user: StaffUser, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def get_court(session: Session, code: str) -> Court:
    court = session.scalar(select(Court).where(Court.code == code))
    if court is None:
        raise NotFound(f"法院 {code} 不存在")
    return court


# --------------------------------------------------------------------------------------------------
# Signing in (DOMAIN.md §8: every staff login is recorded)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
#: Said for every failed sign-in, whatever the cause, so nobody can probe which usernames exist.
BAD_CREDENTIALS = "用户名或密码错误"


def authenticate(
    session: Session, username: str, password: str, *, ip: str | None, clock: Clock
) -> StaffUser:
    """Check a username and password. Five failures in a row lock the account for 15 minutes; every
    attempt is audited. A failure is committed before it is raised (the count must survive)."""
    now = clock.now()
    user = session.scalar(select(StaffUser).where(StaffUser.username == (username or "").strip()))
    if user is None or not user.is_active:
        # Spend the time a real check would, so timing does not reveal unknown usernames.
        check_password_hash(_DUMMY_HASH, password or "")
        _audit_login(session, None, "staff.login_failed", ip, clock, username=username)
        session.commit()
        raise NotAuthenticated(BAD_CREDENTIALS)
    if user.locked_until and user.locked_until > now:
        _audit_login(session, user, "staff.login_refused_locked", ip, clock)
        session.commit()
        minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
        raise NotAuthenticated(f"连续登录失败次数过多，账号已锁定，请{minutes}分钟后再试")
    if not check_password(user, password or ""):
        user.failed_logins += 1
        action = "staff.login_failed"
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            action = "staff.locked"
        _audit_login(session, user, action, ip, clock)
        session.commit()
        raise NotAuthenticated(BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    _audit_login(session, user, "staff.login", ip, clock)
    session.commit()
    return user


_DUMMY_HASH = generate_password_hash("timing-equaliser")


def _audit_login(session, user, action, ip, clock, *, username: str | None = None) -> None:
    from blacklist.core.actor import ActorKind

    if user is not None:
        actor = user.as_actor(ip=ip)
        entity = ("staff_user", user.id)
    else:
        actor = Actor(kind=ActorKind.PUBLIC, name="anonymous", ip=ip)
        entity = None
    after = {"username": (username or "")[:64]} if user is None else None
    audit.record(session, actor, action, entity, clock=clock, after=after)


def record_logout(session: Session, user: StaffUser, *, ip: str | None, clock: Clock) -> None:
    audit.record(
        session, user.as_actor(ip=ip), "staff.logout", ("staff_user", user.id), clock=clock
    )
    session.commit()


# --------------------------------------------------------------------------------------------------
# API tokens


TOKEN_PREFIX = "blst_"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(
    session: Session, user: StaffUser, *, lifetime: timedelta, ip: str | None, clock: Clock
) -> tuple[str, ApiToken]:
    """A new bearer token for the staff API. The token itself is returned once, never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_at=clock.now(),
        expires_at=clock.now() + lifetime,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, user.as_actor(ip=ip), "staff.token_issued", ("api_token", row.id), clock=clock,
        after={"expires_at": row.expires_at},
    )  # fmt: skip
    session.commit()
    return token, row


def resolve_api_token(session: Session, token: str, *, clock: Clock) -> tuple[StaffUser, ApiToken]:
    """The active staff user behind a bearer token; ``NotAuthenticated`` if it is unknown, expired,
    revoked, or its user was deactivated."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("缺少有效的访问令牌")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = clock.now()
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("访问令牌无效或已撤销")
    if row.expires_at <= now:
        raise NotAuthenticated("访问令牌已过期，请重新获取")
    if not row.user.is_active:
        raise NotAuthenticated("账号已停用")
    return row.user, row


def revoke_api_token(session: Session, row: ApiToken, *, actor: Actor, clock: Clock) -> None:
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record(session, actor, "staff.token_revoked", ("api_token", row.id), clock=clock)
    session.commit()


# --------------------------------------------------------------------------------------------------
# Administrators manage their court's accounts


def _own_court_user(session: Session, user_id: int, actor: Actor) -> StaffUser:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed("只有本院管理员可以管理工作人员账号")
    user = session.get(StaffUser, user_id)
    if user is None or user.court_id != actor.court_id:
        raise NotFound("未找到该工作人员")
    return user


def list_staff(session: Session, *, actor: Actor) -> list[StaffUser]:
    """The accounts of the administrator's court."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed("只有本院管理员可以管理工作人员账号")
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.court_id == actor.court_id).order_by(StaffUser.id)
        )
    )


def set_staff_active(
    session: Session, user_id: int, active: bool, *, actor: Actor, clock: Clock
) -> StaffUser:
    """Deactivate (or reactivate) an account: its web sessions and API tokens stop working."""
    user = _own_court_user(session, user_id, actor)
    if user.id == actor.user_id and not active:
        raise Conflict("不能停用自己的账号")
    before = user.is_active
    user.is_active = active
    if not active:
        user.session_version += 1
        _revoke_all_tokens(session, user, clock)
    audit.record(
        session, actor, "staff.activated" if active else "staff.deactivated",
        ("staff_user", user.id), clock=clock, before={"is_active": before}, after={"is_active": active},
    )  # fmt: skip
    session.commit()
    return user


def _revoke_all_tokens(session: Session, user: StaffUser, clock: Clock) -> None:
    """End every API token of the account (deactivation, password reset after a compromise)."""
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = clock.now()


def set_staff_password(
    session: Session, user_id: int, password: str, *, actor: Actor, clock: Clock
) -> StaffUser:
    """An administrator sets a new password (e.g. after a lockout); old sessions end."""
    user = _own_court_user(session, user_id, actor)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"密码至少{MIN_PASSWORD_LENGTH}位")
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    _revoke_all_tokens(session, user, clock)
    audit.record(session, actor, "staff.password_set", ("staff_user", user.id), clock=clock)
    session.commit()
    return user

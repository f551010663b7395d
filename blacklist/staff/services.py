"""Setting up courts and staff accounts, and the court scoping every other feature relies on."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from blacklist.audit import services as audit
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import Clock
from blacklist.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from blacklist.staff.models import Court, StaffUser

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

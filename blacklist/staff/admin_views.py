"""Administrator pages of the court's staff accounts (DOMAIN.md §1: a court administrator manages
the accounts of the court): the list, a new account, deactivation and reactivation, a new
password. Every act goes through ``staff.services``, which scopes it to the administrator's court
(another court's account is "not found") and audits it (§8).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from blacklist.core.actor import ROLE_LABELS, Role
from blacklist.core.clock import CHINA_TZ
from blacklist.core.errors import Conflict, DomainError, NotFound
from blacklist.db import get_session
from blacklist.staff import services
from blacklist.staff.auth import clock, current_actor, staff_page
from blacklist.staff.models import StaffUser

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/accounts", template_folder="templates")

PASSWORD_MISMATCH = "两次输入的密码不一致"


def beijing_time(value: datetime | None) -> str:
    """A stored UTC instant as Beijing wall time, to the minute."""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def _court_user(user_id: int) -> StaffUser:
    """An account of the administrator's own court (the service's scoping), else 404."""
    for user in services.list_staff(get_session(), actor=current_actor()):
        if user.id == user_id:
            return user
    raise NotFound("未找到该工作人员")


def _render_accounts(status: int = 200, *, form: dict | None = None, errors: dict | None = None):
    users = services.list_staff(get_session(), actor=current_actor())
    now = clock().now()
    return (
        render_template(
            "staff_admin/accounts.html",
            users=users,
            me=g.staff_user,
            now=now,
            roles=list(Role),
            role_labels=ROLE_LABELS,
            form=form or {"role": Role.CLERK.value},
            errors=errors or {},
            beijing_time=beijing_time,
            min_password=services.MIN_PASSWORD_LENGTH,
        ),
        status,
    )


@bp.get("/")
@staff_page(Role.ADMIN)
def accounts():
    """The court's accounts and the form for a new one."""
    return _render_accounts()


@bp.post("/")
@staff_page(Role.ADMIN)
def create():
    """A new account of the administrator's court."""
    form = {key: request.form.get(key, "") for key in ("username", "display_name", "role")}
    password = request.form.get("password", "")
    if password != request.form.get("password_confirm", ""):
        return _render_accounts(422, form=form, errors={"password_confirm": [PASSWORD_MISMATCH]})
    session = get_session()
    try:
        user = services.create_staff_user(
            session,
            court_code=g.staff_user.court.code,
            role=form["role"],
            username=form["username"].strip(),
            password=password,
            display_name=form["display_name"],
            actor=current_actor(),
            clock=clock(),
        )
    except DomainError as error:
        session.rollback()
        return _render_accounts(
            error.status, form=form, errors=error.errors or {"_": [error.message]}
        )
    flash(f"已创建账号 {user.username}（{user.role.label}）")
    return redirect(url_for("staff_admin.accounts"))


@bp.get("/<int:user_id>/deactivate")
@staff_page(Role.ADMIN)
def confirm_deactivate(user_id: int):
    """Ask before deactivating: the person is signed out and their API tokens are revoked."""
    user = _court_user(user_id)
    return render_template("staff_admin/deactivate.html", user=user)


@bp.post("/<int:user_id>/active")
@staff_page(Role.ADMIN)
def set_active(user_id: int):
    """Deactivate (``active=0``) or reactivate (``active=1``) an account."""
    active = request.form.get("active")
    if active not in ("0", "1"):
        flash("请选择停用或启用", "error")
        return redirect(url_for("staff_admin.accounts"))
    session = get_session()
    try:
        user = services.set_staff_active(
            session, user_id, active == "1", actor=current_actor(), clock=clock()
        )
    except Conflict as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("staff_admin.accounts"))
    if user.is_active:
        flash(f"已启用账号 {user.username}")
    else:
        flash(f"已停用账号 {user.username}：其登录会话和访问令牌均已失效")
    return redirect(url_for("staff_admin.accounts"))


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
@staff_page(Role.ADMIN)
def password(user_id: int):
    """Set a new password (e.g. after a lockout): the lock is lifted and old sessions end."""
    user = _court_user(user_id)
    if request.method == "GET":
        return render_template("staff_admin/password.html", user=user, errors={})
    new_password = request.form.get("password", "")
    if new_password != request.form.get("password_confirm", ""):
        errors = {"password_confirm": [PASSWORD_MISMATCH]}
        return render_template("staff_admin/password.html", user=user, errors=errors), 422
    session = get_session()
    try:
        services.set_staff_password(
            session, user_id, new_password, actor=current_actor(), clock=clock()
        )
    except DomainError as error:
        session.rollback()
        errors = error.errors or {"password": [error.message]}
        return render_template("staff_admin/password.html", user=user, errors=errors), error.status
    flash(f"已为 {user.username} 设置新密码，请当面或通过安全渠道告知本人")
    return redirect(url_for("staff_admin.accounts"))

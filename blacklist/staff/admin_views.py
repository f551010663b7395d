"""Administrator pages of the court's staff accounts (placeholder: being written)."""

from __future__ import annotations

from flask import Blueprint

from blacklist.core.actor import Role
from blacklist.staff.auth import staff_page

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/accounts", template_folder="templates")


@bp.get("/")
@staff_page(Role.ADMIN)
def accounts():
    return "账号管理"

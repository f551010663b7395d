"""Administrator page of the working-day calendar (placeholder: being written)."""

from __future__ import annotations

from flask import Blueprint

from blacklist.core.actor import Role
from blacklist.staff.auth import staff_page

bp = Blueprint("holidays", __name__, url_prefix="/staff/calendar", template_folder="templates")


@bp.get("/")
@staff_page(Role.ADMIN)
def calendar():
    return "工作日历"

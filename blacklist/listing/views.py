"""Staff pages of the listing lifecycle (placeholder: being written)."""

from __future__ import annotations

from flask import Blueprint

from blacklist.staff.auth import staff_page

bp = Blueprint("listing", __name__, url_prefix="/staff", template_folder="templates")


@bp.get("/")
@staff_page()
def dashboard():
    return "工作台"


@bp.get("/listings/new")
@staff_page()
def new():
    return "新增名单"


@bp.get("/listings")
@staff_page()
def search():
    return "名单查询"

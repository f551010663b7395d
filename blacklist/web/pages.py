"""The placeholder home page until the public search pages land (issue #4)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.get("/healthz")
def healthz():
    """Liveness probe for load balancers: the process answers and the database is reachable."""
    from sqlalchemy import text

    from blacklist.db import get_session

    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}

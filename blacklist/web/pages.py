"""The "web" blueprint: the shared static files and templates (the public layout, error pages) and
the health check. The public pages themselves live in ``publication.views``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.get("/healthz")
def healthz():
    """Liveness probe for load balancers: the process answers and the database is reachable."""
    from sqlalchemy import text

    from blacklist.db import get_session

    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}

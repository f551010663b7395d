"""Public JSON API (placeholder: being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("public", __name__, url_prefix="/api/v1/public", description="公开查询")

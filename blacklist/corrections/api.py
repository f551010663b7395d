"""Staff JSON API of correction requests and reconsideration (Arts. 11–12)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint(
    "corrections_api",
    __name__,
    url_prefix="/api/v1/corrections",
    description="纠正申请与复议（员工接口）",
)

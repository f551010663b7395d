"""Staff JSON API of standalone consumption orders and exit bans (DOMAIN.md §3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint(
    "orders_api",
    __name__,
    url_prefix="/api/v1/orders",
    description="限制消费令与限制出境（员工接口）",
)

"""Staff pages of standalone consumption orders and exit bans (DOMAIN.md §3)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/staff/orders", template_folder="templates")

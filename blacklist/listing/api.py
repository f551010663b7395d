"""Staff JSON API of the listing lifecycle (API.md; placeholder: being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("listings", __name__, url_prefix="/api/v1/listings", description="名单（员工接口）")

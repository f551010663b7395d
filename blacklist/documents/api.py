"""Staff JSON API of served documents (list, PDF download) and the public certificate check."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint(
    "documents_api", __name__, url_prefix="/api/v1/documents", description="法律文书（员工接口）"
)

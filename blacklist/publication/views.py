"""Public pages (placeholder: being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("publication", __name__, template_folder="templates")

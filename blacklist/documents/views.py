"""Document downloads for staff, and the public page that checks a deletion certificate's code."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("documents", __name__, template_folder="templates")

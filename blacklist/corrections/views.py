"""Pages of correction requests: the public form and status page (no account), and the staff
review and reconsideration pages (Arts. 11–12)."""

from __future__ import annotations

from flask import Blueprint

#: Public: file a request, follow it by its reference number, ask for reconsideration.
public_bp = Blueprint(
    "corrections_public", __name__, url_prefix="/corrections", template_folder="templates"
)
#: Staff: review (the enforcing court) and reconsideration (the next higher court).
bp = Blueprint(
    "corrections", __name__, url_prefix="/staff/corrections", template_folder="templates"
)

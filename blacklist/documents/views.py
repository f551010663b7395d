"""Document downloads for staff, and the public pages that check a deletion certificate's code and
let the debtor download their certificate (DOMAIN.md §2 Arts. 9–10, §6).

- ``GET /staff/documents/<id>.pdf``: staff of the document's court (for correction documents also
  the other court involved); anyone else gets 404. Every download is audited.
- ``GET/POST /certificates/verify``: anyone enters a verification code and sees the certificate's
  facts (masked identifiers only). Only deletion certificates are verifiable: another document's
  code is "not found", like a wrong one.
- ``GET/POST /certificates/download``: the debtor enters the listing's public id and their own ID
  number (or credit code) and gets the certificate's PDF. An unknown id, a wrong number and a
  listing without a certificate all give the same message, so the form reveals nothing.

The public pages are rate-limited with the public search allowance (``web/ratelimit.py``) and
their forms carry CSRF tokens (the app's global CSRFProtect).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, make_response, render_template, request

from blacklist.core.errors import ValidationFailed
from blacklist.db import get_session
from blacklist.documents import queries, rules, services
from blacklist.staff import auth
from blacklist.staff.auth import staff_page
from blacklist.web.ratelimit import public_search_limit

bp = Blueprint("documents", __name__, template_folder="templates")

NOT_FOUND_MESSAGE = (
    "未找到对应的删除证明：请核对名单编号和证件号码。失信信息尚未删除或撤销的，没有删除证明。"
)


@bp.context_processor
def _helpers() -> dict:
    return {"cn_date": rules.plain_date}


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A PDF as an attachment, never cached (it names a person)."""
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    ascii_name = "document.pdf"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/staff/documents/<int:document_id>.pdf")
@staff_page()
def download(document_id: int):
    pdf, filename = services.download(
        get_session(), document_id, actor=auth.current_actor(), clock=auth.clock()
    )
    return pdf_response(pdf, filename)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.route("/certificates/verify", methods=["GET", "POST"])
@public_search_limit
def verify():
    """Check a certificate by its verification code (a GET shows the form; ``?code=`` is also
    accepted, so a link printed on a certificate works)."""
    raw = request.form.get("code") if request.method == "POST" else request.args.get("code")
    code = (raw or "").strip()[:40]
    certificate, checked, error, status = None, False, None, 200
    if code:
        checked = True
        certificate = queries.certificate_by_code(get_session(), code)
        if certificate is None:
            status = 404
    elif request.method == "POST":
        error, status = "请输入验证码", 422
    return _no_store(
        make_response(
            render_template(
                "documents/verify.html",
                code=code,
                certificate=certificate,
                checked=checked,
                error=error,
            ),
            status,
        )
    )


@bp.route("/certificates/download", methods=["GET", "POST"])
@public_search_limit
def public_download():
    """The debtor downloads their own certificate (public id + ID number / credit code)."""
    values = {"public_id": (request.form.get("public_id") or "").strip()[:40]}
    if request.method == "GET":
        return _render_download(values)
    session = get_session()
    try:
        certificate = queries.certificate_for_debtor(
            session, request.form.get("public_id"), request.form.get("id_number")
        )
    except ValidationFailed as error:
        return _render_download(values, errors=error.errors, status=422)
    if certificate is None:
        return _render_download(values, message=NOT_FOUND_MESSAGE, status=404)
    pdf, filename = services.download(
        session,
        certificate.id,
        actor=services.public_actor(auth.client_ip()),
        clock=auth.clock(),
    )
    return pdf_response(pdf, filename)


def _render_download(values, *, errors=None, message=None, status=200):
    return _no_store(
        make_response(
            render_template(
                "documents/download.html", values=values, errors=errors or {}, message=message
            ),
            status,
        )
    )

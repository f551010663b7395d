"""Staff JSON API of served documents (list, metadata, PDF download) and the public certificate
check (API.md style).

Staff calls need a bearer token and see only what the court scoping allows (their court's
documents; for a correction request also the other court involved): anything else is 404. Every
PDF download is audited. The public call answers for deletion certificates only, by their
verification code, and is rate-limited like the public search.
"""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from blacklist.core.errors import NotFound
from blacklist.db import get_session
from blacklist.documents import queries, services
from blacklist.documents.schemas import (
    DocumentPageSchema,
    DocumentQuerySchema,
    DocumentSchema,
    PublicCertificateSchema,
)
from blacklist.documents.views import pdf_response
from blacklist.staff import auth
from blacklist.web.api import BEARER, error_responses
from blacklist.web.ratelimit import public_search_limit

blp = Blueprint(
    "documents_api", __name__, url_prefix="/api/v1/documents", description="法律文书（员工接口）"
)
public_blp = Blueprint(
    "public_certificates",
    __name__,
    url_prefix="/api/v1/public/certificates",
    description="删除证明查验（匿名访问，按客户端限制频率）",
)

_ERRORS = {
    401: "缺少访问令牌，或令牌无效、已过期、已撤销",
    404: "未找到该文书（或不属于本院）",
    422: "查询条件有误（errors 按字段列出）",
}
_PUBLIC_ERRORS = {
    404: "未找到该验证码对应的证明",
    429: "查询过于频繁：请在 Retry-After 头所示的秒数后再试",
}
errors = error_responses(blp, _ERRORS)
public_errors = error_responses(public_blp, _PUBLIC_ERRORS)
NO_AUTH: list = []


@blp.after_request
def _not_cached(response: Response) -> Response:
    """Documents name people (PIPL): no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@public_blp.after_request
def _public_not_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("")
class Documents(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DocumentPageSchema)
    @errors(401, 422)
    @auth.staff_api()
    @blp.arguments(DocumentQuerySchema, location="query", as_kwargs=True)
    def get(self, page: int, per_page: int, **filters):
        """Documents the caller may see, newest first: of a listing (``listing_id``: its
        decisions, certificate, and the documents of its orders and correction requests), of an
        order (``order_id``) or of a correction request (``correction_reference``)."""
        items, total = queries.list_documents(
            get_session(), actor=auth.api_actor(), page=page, per_page=per_page, **filters
        )
        return {"items": items, "page": page, "per_page": per_page, "total": total}


@blp.route("/<int:document_id>")
class DocumentById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DocumentSchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, document_id: int):
        """One document's metadata and the facts it states."""
        return services.get_document(get_session(), document_id, actor=auth.api_actor())


@blp.route("/<int:document_id>/pdf")
class DocumentPdf(MethodView):
    @blp.doc(
        security=BEARER,
        responses={
            "200": {
                "description": "文书 PDF（附件下载；每次下载记入日志）",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    @errors(401, 404)
    @auth.staff_api()
    def get(self, document_id: int):
        """The document as PDF, rendered from the facts frozen when it was issued."""
        pdf, filename = services.download(
            get_session(), document_id, actor=auth.api_actor(), clock=auth.clock()
        )
        return pdf_response(pdf, filename)


@public_blp.route("/<string:code>")
class PublicCertificate(MethodView):
    @public_search_limit
    @public_blp.doc(security=NO_AUTH)
    @public_blp.response(200, PublicCertificateSchema)
    @public_errors(404, 429)
    def get(self, code: str):
        """Check a deletion certificate by its verification code (any case, with or without
        hyphens). Other documents' codes are not public: 404, like a wrong code."""
        certificate = queries.certificate_by_code(get_session(), code)
        if certificate is None:
            raise NotFound("未找到该验证码对应的证明")
        return certificate

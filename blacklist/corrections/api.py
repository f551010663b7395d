"""Staff JSON API of correction requests and reconsideration (Arts. 11–12, API.md style).

Every call needs a staff bearer token. The enforcing court's staff see its requests
(``scope=review``); the next higher court's staff see the requests sent to it for reconsideration
(``scope=reconsideration``); any other court gets 404. Deciding is for judges (403 otherwise): the
enforcing court decides a request, the higher court a reconsideration. Requests are named by their
reference number, as the applicant knows them.
"""

from __future__ import annotations

import io

from flask import Response, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from blacklist.corrections import services
from blacklist.corrections.models import CorrectionAttachment
from blacklist.corrections.schemas import (
    CompletionSchema,
    CorrectionPageSchema,
    CorrectionQuerySchema,
    CorrectionSchema,
    DecisionSchema,
    ReconsiderationDecisionSchema,
)
from blacklist.db import get_session
from blacklist.staff import auth
from blacklist.web.api import BEARER, error_responses
from blacklist.web.privacy import never_cached

blp = Blueprint(
    "corrections_api",
    __name__,
    url_prefix="/api/v1/corrections",
    description="纠正申请与复议（员工接口）",
)

_ERRORS = {
    401: "缺少访问令牌，或令牌无效、已过期、已撤销",
    403: "您的角色或法院不能执行此操作（只有执行法官可以决定；复议由上一级法院决定）",
    404: "未找到该纠正申请（或不属于本院、未向本院申请复议）",
    409: "申请当前状态不允许此操作，或已被他人处理",
    422: "提交的信息有误（errors 按字段列出）",
}

errors = error_responses(blp, _ERRORS)


never_cached(blp)


def attachment_response(attachment: CorrectionAttachment) -> Response:
    """An attachment as a download, never rendered by the browser: ``attachment`` disposition,
    the type detected on upload, ``nosniff``, and not cached."""
    response = send_file(
        io.BytesIO(attachment.data),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.route("")
class Corrections(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CorrectionPageSchema)
    @errors(401, 403, 422)
    @auth.staff_api()
    @blp.arguments(CorrectionQuerySchema, location="query", as_kwargs=True)
    def get(self, scope: str, page: int, per_page: int, status: str | None = None):
        """The court's correction requests, newest first (any staff role): ``scope=review`` those
        it reviews as enforcing court, ``scope=reconsideration`` those sent to it as the next higher
        court. ``status`` filters."""
        items, total = services.list_requests(
            get_session(),
            actor=auth.api_actor(),
            scope=scope,
            status=status,
            page=page,
            per_page=per_page,
        )
        return {"items": items, "page": page, "per_page": per_page, "total": total}


@blp.route("/<reference>")
class CorrectionByReference(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CorrectionSchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, reference: str):
        """One request with its decision, reconsideration and attachments (metadata and links)."""
        return services.get_request(get_session(), reference, actor=auth.api_actor())


@blp.route("/<reference>/attachments/<int:attachment_id>")
class CorrectionAttachmentFile(MethodView):
    @blp.doc(
        security=BEARER,
        responses={
            "200": {
                "description": "附件文件（PDF 或 JPEG，按内容检测的类型），以下载方式返回",
                "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        },
    )
    @errors(401, 404)
    @auth.staff_api()
    def get(self, reference: str, attachment_id: int):
        """Download one attachment (staff of the enforcing court; of the higher court once the
        request is before it for reconsideration)."""
        attachment = services.get_attachment(
            get_session(), reference, attachment_id, actor=auth.api_actor()
        )
        return attachment_response(attachment)


@blp.route("/<reference>/decision")
class CorrectionDecision(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CorrectionSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(DecisionSchema)
    def post(self, decision, reference: str):
        """The enforcing court's decision (judge, Art. 12, within 15 days): ``accept`` with a
        ``remedy`` (carried out within three working days through the listing's own calls:
        PATCH for a correction, ``/revocation``, ``/deletion``), or ``reject`` with reasons
        (reconsideration possible within ten days)."""
        return services.decide_request(
            get_session(), reference, decision, actor=auth.api_actor(), clock=auth.clock()
        )


@blp.route("/<reference>/completion")
class CorrectionCompletion(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CorrectionSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(CompletionSchema)
    def post(self, data, reference: str):
        """The enforcing court's judge confirms that an accepted ``correct`` remedy was carried
        out (Art. 9: within three working days), after correcting the listing with PATCH.
        Revocation and deletion remedies are carried out by those acts themselves."""
        return services.confirm_correction(
            get_session(), reference, data.get("note"), actor=auth.api_actor(), clock=auth.clock()
        )


@blp.route("/<reference>/reconsideration/decision")
class ReconsiderationDecision(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CorrectionSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ReconsiderationDecisionSchema)
    def post(self, decision, reference: str):
        """The next higher court's decision on reconsideration (judge, Art. 12, within 15 days):
        ``upheld`` (final) or ``overturned`` with the ``remedy`` the enforcing court must carry
        out within three working days."""
        return services.decide_reconsideration(
            get_session(), reference, decision, actor=auth.api_actor(), clock=auth.clock()
        )

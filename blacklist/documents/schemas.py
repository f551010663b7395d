"""What the document endpoints take and give (API.md style, one schema per audience).

Staff see a document's metadata and the facts it states (``content``: masked identifiers only);
the public sees a deletion certificate's facts only, and only by its verification code.
"""

from __future__ import annotations

from marshmallow import fields

from blacklist.documents.models import DocumentKind
from blacklist.documents.rules import KIND_LABELS
from blacklist.listing.schemas import CourtSchema
from blacklist.web.schemas import Schema, length, value_range

MAX_PER_PAGE = 100


class DocumentQuerySchema(Schema):
    """``GET /api/v1/documents``: the documents of a listing, an order or a correction request."""

    listing_id = fields.Integer(metadata={"description": "名单 id"})
    order_id = fields.Integer(metadata={"description": "限制令 id"})
    correction_reference = fields.String(
        validate=length(max=40), metadata={"description": "纠正申请编号，如 JZ-7K3M-Q9TX-4RPW-2HCN"}
    )
    page = fields.Integer(load_default=1, validate=value_range(min=1))
    per_page = fields.Integer(load_default=20, validate=value_range(1, MAX_PER_PAGE))


class DocumentSchema(Schema):
    """A served document as staff see it."""

    id = fields.Integer()
    kind = fields.Enum(DocumentKind, by_value=True)
    kind_label = fields.Function(lambda d: KIND_LABELS[d.kind])
    title = fields.Function(
        lambda d: d.content.get("title"), metadata={"example": "删除失信信息决定书"}
    )
    number = fields.String(metadata={"example": "（2024）京0105执1234号之二"})
    issued_on = fields.Date()
    court = fields.Nested(CourtSchema)
    listing_id = fields.Integer(allow_none=True)
    order_id = fields.Integer(allow_none=True)
    correction_id = fields.Integer(allow_none=True)
    verification_code = fields.String(metadata={"example": "7K3M-Q9TX-4RPW-2HCN"})
    created_at = fields.DateTime()
    content = fields.Dict(
        metadata={"description": "文书载明的事实（签发时冻结；身份证号码均为隐藏形式）"}
    )
    pdf_url = fields.Function(lambda d: f"/api/v1/documents/{d.id}/pdf")


class DocumentPageSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class PublicCertificateSchema(Schema):
    """A deletion certificate as anyone checking its code sees it (DOMAIN.md §6: masked)."""

    verification_code = fields.String()
    title = fields.Function(lambda d: d.content["title"])
    number = fields.String()
    court = fields.Function(lambda d: d.content["court"]["name"])
    issued_on = fields.Date()
    name = fields.Function(lambda d: d.content["debtor"]["name"])
    kind = fields.Function(lambda d: d.content["debtor"]["kind"], metadata={"example": "person"})
    id_number_masked = fields.Function(
        lambda d: (
            d.content["debtor"]["id_masked"] if d.content["debtor"]["kind"] == "person" else None
        )
    )
    credit_code = fields.Function(
        lambda d: (
            d.content["debtor"]["id_masked"] if d.content["debtor"]["kind"] != "person" else None
        )
    )
    case_number = fields.Function(lambda d: d.content["case"]["case_number"])
    removal = fields.Function(
        lambda d: {
            "kind": d.content["removal"]["kind"],
            "reason": d.content["removal"]["reason_label"],
            "on": d.content["removal"]["on"],
        },
        metadata={"example": {"kind": "deleted", "reason": "已履行…", "on": "2025-03-06"}},
    )

"""What the staff API of correction requests takes and gives (Arts. 11–12), in the style of API.md.

Requests load into the plain values of ``inputs.py`` (the services check the rules). A request as
staff see it: the applicant's name and contact, never an ID number (none is stored); the listing
by its public id, masked identifier and case number; attachments as metadata with a download link.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load

from blacklist.corrections import rules
from blacklist.corrections.inputs import DecisionIn, ReconsiderationDecisionIn
from blacklist.corrections.models import CorrectionStatus, ReconsiderationOutcome, Remedy
from blacklist.web.schemas import Schema, length, one_of, value_range

API_PREFIX = "/api/v1/corrections"
MAX_PER_PAGE = 100


# --------------------------------------------------------------------------------------------------
# Requests


class CorrectionQuerySchema(Schema):
    status = fields.String(validate=one_of(s.value for s in CorrectionStatus))
    scope = fields.String(
        load_default="review",
        validate=one_of(("review", "reconsideration")),
        metadata={
            "description": "review：本院作为执行法院审查的申请；reconsideration：本院作为上一级法院复议的申请"
        },
    )
    page = fields.Integer(load_default=1, validate=value_range(min=1))
    per_page = fields.Integer(load_default=20, validate=value_range(1, MAX_PER_PAGE))


class CompletionSchema(Schema):
    """The judge's confirmation that the listing was corrected as the accepted request asked."""

    note = fields.String(
        load_default=None, allow_none=True, validate=length(max=rules.MAX_TEXT),
        metadata={"description": "落实情况说明（选填）"},
    )  # fmt: skip


class DecisionSchema(Schema):
    """The enforcing court's decision (judge): accept with a remedy, or reject; reasons always."""

    decision = fields.String(required=True, validate=one_of(("accept", "reject")))
    remedy = fields.String(
        load_default=None, allow_none=True, validate=one_of(r.value for r in Remedy),
        metadata={"description": "申请成立时必填：correct（更正）、revoke（撤销）、delete（删除）"},
    )  # fmt: skip
    reasons = fields.String(required=True, validate=length(max=rules.MAX_TEXT))

    @post_load
    def _make(self, data: dict, **_: Any) -> DecisionIn:
        return DecisionIn(decision=data["decision"], reasons=data["reasons"], remedy=data["remedy"])


class ReconsiderationDecisionSchema(Schema):
    """The higher court's decision (judge): uphold the rejection, or overturn it with a remedy."""

    outcome = fields.String(required=True, validate=one_of(o.value for o in ReconsiderationOutcome))
    remedy = fields.String(
        load_default=None, allow_none=True, validate=one_of(r.value for r in Remedy),
        metadata={"description": "撤销原决定时必填：correct、revoke、delete"},
    )  # fmt: skip
    reasons = fields.String(required=True, validate=length(max=rules.MAX_TEXT))
    decision_number = fields.String(
        load_default=None, allow_none=True, validate=length(max=100),
        metadata={"description": "复议决定书文号（上一级法院执复案号）；不填时按本院复议决定序号生成"},
    )  # fmt: skip

    @post_load
    def _make(self, data: dict, **_: Any) -> ReconsiderationDecisionIn:
        return ReconsiderationDecisionIn(
            outcome=data["outcome"], reasons=data["reasons"], remedy=data["remedy"],
            decision_number=(data["decision_number"] or "").strip() or None,
        )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Responses


class CourtRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class AttachmentSchema(Schema):
    id = fields.Integer()
    stage = fields.String(
        metadata={"description": "application（申请时）或 reconsideration（复议时）"}
    )
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.AwareDateTime()
    url = fields.Method("_url")

    def _url(self, attachment) -> str:
        return f"{API_PREFIX}/{attachment.request.reference}/attachments/{attachment.id}"


class CorrectionListingSchema(Schema):
    """The listing the request is about, as it identifies itself publicly."""

    public_id = fields.String()
    status = fields.String(attribute="status.value")
    debtor = fields.String(attribute="subject.name")
    id_number_masked = fields.String(attribute="subject.id_masked")
    case_number = fields.String(attribute="case.case_number")


class ReconsiderationSchema(Schema):
    court = fields.Nested(CourtRefSchema)
    submitted_on = fields.Date()
    decision_due_on = fields.Date()
    applicant_reasons = fields.String()
    decided_on = fields.Date()
    outcome = fields.Function(lambda r: r.outcome.value if r.outcome else None)
    remedy = fields.Function(lambda r: r.remedy.value if r.remedy else None)
    decision_reasons = fields.String()


class CorrectionSchema(Schema):
    reference = fields.String(metadata={"example": "JZ-7K3M-Q9TX-4RPW-2HCN"})
    status = fields.Function(lambda r: r.status.value)
    status_label = fields.Function(lambda r: rules.STATUS_LABELS[r.status])
    court = fields.Nested(CourtRefSchema)
    listing = fields.Nested(CorrectionListingSchema)
    ground = fields.Function(lambda r: r.ground.value)
    ground_label = fields.Function(lambda r: rules.GROUND_LABELS[r.ground])
    explanation = fields.String()
    applicant_name = fields.String()
    contact = fields.String()
    submitted_at = fields.AwareDateTime()
    submitted_on = fields.Date()
    review_due_on = fields.Date()
    decided_on = fields.Date()
    remedy = fields.Function(lambda r: r.remedy.value if r.remedy else None)
    decision_reasons = fields.String()
    carry_out_due_on = fields.Date()
    carried_out_on = fields.Date()
    carried_out_note = fields.String()
    served_on = fields.Date(
        metadata={"description": "驳回决定送达申请人之日（申请人首次查看之日）"}
    )
    reconsideration_until = fields.Date(
        metadata={"description": "复议申请期限（送达之日起10日）；尚未送达时为空"}
    )
    reconsideration = fields.Nested(ReconsiderationSchema, allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))


class CorrectionPageSchema(Schema):
    items = fields.List(fields.Nested(CorrectionSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()

"""Schemas of the partner API (API.md, partner part)."""

from __future__ import annotations

from marshmallow import fields

from blacklist.partners import rules
from blacklist.web.schemas import Schema, length, one_of, value_range

_SCOPES = [s.value for s in rules.Scope]


class FeedQuerySchema(Schema):
    after = fields.Integer(
        load_default=0,
        validate=value_range(min=0),
        metadata={"description": "上次读到的 seq（next_after）；首次为快照的 X-Feed-Seq"},
    )
    limit = fields.Integer(
        load_default=100, validate=value_range(1, rules.MAX_FEED_LIMIT), metadata={"example": 500}
    )


class FeedItemSchema(Schema):
    seq = fields.Integer(required=True)
    type = fields.String(required=True, validate=one_of(["restriction", "listing"]))
    action = fields.String(required=True, validate=one_of(["upsert", "remove"]))
    key = fields.String(required=True, metadata={"example": "restriction:42"})
    record = fields.Dict(
        allow_none=True,
        metadata={"description": "upsert 时为完整记录（按本单位措施裁剪）；remove 时为 null"},
    )


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(FeedItemSchema), required=True)
    next_after = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)


class CheckPersonSchema(Schema):
    id_number = fields.String(required=True, validate=length(max=32))
    name = fields.String(load_default=None, allow_none=True, validate=length(max=200))


class CheckRequestSchema(Schema):
    measure = fields.String(required=True, metadata={"example": "flight"})
    people = fields.List(
        fields.Nested(CheckPersonSchema),
        required=True,
        validate=length(min=1, max=rules.MAX_CHECK_PEOPLE),
    )


class CheckSourceSchema(Schema):
    kind = fields.String(required=True)
    public_id = fields.String(required=True)
    listing_public_id = fields.String(allow_none=True)
    court = fields.String(required=True)
    case_number = fields.String(allow_none=True)


class CheckReasonSchema(Schema):
    role = fields.String(required=True)
    measures = fields.List(fields.String(), required=True)
    since = fields.String(required=True)
    source = fields.Nested(CheckSourceSchema, required=True)


class CheckResultSchema(Schema):
    id_number = fields.String(required=True)
    restricted = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(CheckReasonSchema), required=True)


class CheckResponseSchema(Schema):
    results = fields.List(fields.Nested(CheckResultSchema), required=True)


class AckSchema(Schema):
    seq = fields.Integer(required=True, strict=True, validate=value_range(min=0))


class AckResultSchema(Schema):
    acked_seq = fields.Integer(required=True)
    acked_at = fields.AwareDateTime(allow_none=True)


class HitSchema(Schema):
    id_number = fields.String(required=True, validate=length(max=32))
    measure = fields.String(required=True)
    occurred_at = fields.AwareDateTime(
        required=True, metadata={"example": "2025-03-03T10:00:00+08:00"}
    )
    detail = fields.String(load_default="", validate=length(max=500))
    reference = fields.String(
        load_default=None,
        allow_none=True,
        validate=length(max=64),
        metadata={"description": "本单位的事件编号：重复报告同一编号不会重复计数"},
    )


class HitResultSchema(Schema):
    id = fields.Integer(required=True)
    measure = fields.String(required=True)
    id_number_masked = fields.String(attribute="person_masked", required=True)
    occurred_at = fields.AwareDateTime(required=True)
    reported_at = fields.AwareDateTime(required=True)
    in_force = fields.Boolean(
        required=True, metadata={"description": "发生时该人员是否仍受此项措施约束"}
    )
    reference = fields.String(allow_none=True)


class PartnerStatusSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    measures = fields.List(fields.String(), required=True)
    scope = fields.String(required=True, validate=one_of(_SCOPES))
    acked_seq = fields.Integer(required=True)
    acked_at = fields.AwareDateTime(allow_none=True)
    pushed_seq = fields.Integer(allow_none=True)
    newest_seq = fields.Integer(required=True)
    oldest_retained_seq = fields.Integer(required=True)

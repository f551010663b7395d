"""What the staff order calls take and give (API.md style, one schema per audience, STYLE.md).

Requests reuse the listing's subject and case schemas (the same debtor and case shape) and load into
``inputs.py``; the services check the rules. Responses show an order as staff see it: identifiers
masked, the people it binds with their roles and whether each restriction is still in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import fields, post_load

from blacklist.listing.schemas import (
    DOCUMENT_NUMBER_MAX,
    MAX_PER_PAGE,
    NAME_MAX,
    NUMBER_MAX,
    CaseSchema,
    CourtSchema,
    StaffCaseSchema,
    StaffSubjectSchema,
    SubjectSchema,
)
from blacklist.listing.services import MAX_TEXT
from blacklist.restrictions import rules
from blacklist.restrictions.catalogue import CONSUMPTION_MEASURES, EXIT_MEASURES, codes_of
from blacklist.restrictions.inputs import LiftingIn, OrderIn, OrganisationIn
from blacklist.restrictions.models import OrderKind, OrderStatus, Restriction, RestrictionOrder
from blacklist.web.schemas import Schema, length, one_of, value_range


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=length(max=max_length), **kwargs)


# --------------------------------------------------------------------------------------------------
# Requests


class OrderOrganisationSchema(Schema):
    """Exit ban for an organisation's debt: the organisation, and the barred person's role in it
    (Civil Procedure Law Art. 266: legal representative, principal, directly responsible person)."""

    name = _text(NAME_MAX, required=True)
    credit_code = _text(NUMBER_MAX, required=True, metadata={"description": "统一社会信用代码"})
    role = fields.String(required=True, validate=one_of(r.value for r in rules.EXIT_BAN_ROLES))

    @post_load
    def _make(self, data: dict, **_: Any) -> OrganisationIn:
        return OrganisationIn(**data)


class OrderInSchema(Schema):
    """``POST /api/v1/orders``: a standalone consumption order or an exit ban. An exit ban's
    ``subject`` must be a natural person; ``measures`` applies to consumption orders (default: all
    of the 2015 provisions' Art. 3)."""

    kind = fields.String(required=True, validate=one_of(k.value for k in OrderKind))
    subject = fields.Nested(SubjectSchema, required=True)
    organisation = fields.Nested(
        OrderOrganisationSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "仅限制出境：被限制人员所在单位及其身份"},
    )
    case = fields.Nested(CaseSchema, required=True)
    measures = fields.List(
        fields.String(validate=one_of((*CONSUMPTION_MEASURES, *EXIT_MEASURES))),
        load_default=None,
        allow_none=True,
        metadata={"description": "限制消费措施代码（默认全部）", "example": ["flight"]},
    )
    decision_number = _text(
        DOCUMENT_NUMBER_MAX,
        required=True,
        metadata={"description": "限制消费令/限制出境决定书文号"},
    )
    issued_on = fields.Date(load_default=None, allow_none=True)
    reasons = _text(MAX_TEXT, required=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> OrderIn:
        measures = tuple(data["measures"]) if data["measures"] is not None else None
        return OrderIn(**{**data, "measures": measures})


class LiftingSchema(Schema):
    """``POST /api/v1/orders/{public_id}/lifting`` (2015 provisions, Art. 9): ``performed``
    (mandatory lifting), ``security`` or ``creditor_consent`` (discretionary: ``note`` required)."""

    ground = fields.String(required=True, validate=one_of(g.value for g in rules.LiftGround))
    note = _text(MAX_TEXT, load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> LiftingIn:
        return LiftingIn(**data)


class OrderQuerySchema(Schema):
    kind = fields.String(validate=one_of(k.value for k in OrderKind))
    status = fields.String(validate=one_of(s.value for s in OrderStatus))
    q = _text(200)
    page = fields.Integer(load_default=1, validate=value_range(min=1))
    per_page = fields.Integer(load_default=20, validate=value_range(1, MAX_PER_PAGE))


# --------------------------------------------------------------------------------------------------
# Responses


@dataclass(frozen=True)
class StaffOrder:
    """An order as staff see it: the row, its court, its debtor and case (its own, or its
    listing's), and the projection rows it gave rise to."""

    order: RestrictionOrder
    court: Any
    subject: Any
    case: Any
    rows: list[Restriction]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.order, name)

    @property
    def listing_public_id(self) -> str | None:
        return self.order.listing.public_id if self.order.listing is not None else None

    @property
    def measures(self) -> list[str]:
        return codes_of(self.order.measures)

    @property
    def lift_ground(self) -> str | None:
        return self.order.lift_reason

    @property
    def organisation(self) -> dict | None:
        if not self.order.organisation_name:
            return None
        return {
            "name": self.order.organisation_name,
            "credit_code": self.order.organisation_code,
            "role": self.order.person_role.value if self.order.person_role else None,
        }

    @property
    def restricted_people(self) -> list[dict]:
        return [
            {
                "name": r.person_name,
                "kind": r.person_kind.value,
                "id_number_masked": r.person_masked,
                "role": r.role.value,
                "measures": codes_of(r.measures),
                "since": r.since,
                "active": r.is_active,
                "lifted_on": r.lifted_on,
            }
            for r in self.rows
        ]


class OrderOrganisationOutSchema(Schema):
    name = fields.String()
    credit_code = fields.String()
    role = fields.String()


class OrderPersonSchema(Schema):
    """A person (or organisation) the order binds, identifier masked."""

    name = fields.String()
    kind = fields.String()
    id_number_masked = fields.String(
        metadata={"description": "身份证号码（隐去出生月日）或信用代码"}
    )
    role = fields.String(metadata={"example": "legal_representative"})
    measures = fields.List(fields.String())
    since = fields.Date()
    active = fields.Boolean()
    lifted_on = fields.Date(allow_none=True)


class StaffOrderSchema(Schema):
    """The order as staff see it. ID numbers are masked."""

    public_id = fields.String()
    kind = fields.Enum(OrderKind, by_value=True)
    status = fields.Enum(OrderStatus, by_value=True)
    court = fields.Nested(CourtSchema)
    listing_public_id = fields.String(
        allow_none=True, metadata={"description": "随失信名单发出的限制消费令：名单编号"}
    )
    subject = fields.Nested(StaffSubjectSchema)
    organisation = fields.Nested(OrderOrganisationOutSchema, allow_none=True)
    case = fields.Nested(StaffCaseSchema)
    measures = fields.List(fields.String(), metadata={"example": ["flight"]})
    decision_number = fields.String(allow_none=True)
    issued_on = fields.Date()
    reasons = fields.String(allow_none=True)
    lifted_on = fields.Date(allow_none=True)
    lift_ground = fields.String(allow_none=True)
    lift_note = fields.String(allow_none=True)
    restricted_people = fields.List(fields.Nested(OrderPersonSchema))


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(StaffOrderSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()

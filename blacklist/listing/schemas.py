"""What the staff calls of API.md take and give, as marshmallow schemas (one per audience, STYLE.md).

Request schemas check shape, types and lengths, then load into the plain values of ``inputs.py``;
the services check the rules (check digits, case numbers, minors, grounds), so the API, the pages
and the CLI refuse the same things with the same messages. Response schemas show a listing as staff
see it: identifiers masked (a full ID number only through the audited reveal call), never the
creditor (Art. 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields, post_dump, post_load, validates_schema

from blacklist.listing import inputs
from blacklist.listing.models import Listing
from blacklist.listing.rules import (
    BOUND_ROLES,
    DeletionReason,
    Exemptions,
    Ground,
    ListingStatus,
    PerformanceStatus,
    PersonRole,
    RemovalKind,
    SubjectKind,
)
from blacklist.listing.services import MAX_TEXT
from blacklist.web.schemas import Schema, length, one_of, value_range

NAME_MAX = 200
NUMBER_MAX = 32  # an ID number or credit code as typed (spaces, full-width characters)
DOCUMENT_NUMBER_MAX = 100
MAX_PER_PAGE = 100


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=length(max=max_length), **kwargs)


def _money(**kwargs: Any) -> fields.Decimal:
    """Money in: a decimal string or a number; more than two decimals is refused by the service
    (never rounded silently). NaN and infinities are refused here."""
    return fields.Decimal(as_string=True, metadata={"example": "100000.00"}, **kwargs)


# --------------------------------------------------------------------------------------------------
# Requests


class PersonSchema(Schema):
    """The legal representative (or principal) of an organisation."""

    name = _text(NAME_MAX, required=True)
    id_number = _text(NUMBER_MAX, required=True, metadata={"description": "居民身份证号码"})

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.PersonIn:
        return inputs.PersonIn(name=data["name"], id_number=data["id_number"])


class BoundPersonSchema(Schema):
    """Another person an organisation's listing binds (DOMAIN.md §3)."""

    role = fields.String(required=True, validate=one_of(r.value for r in BOUND_ROLES))
    name = _text(NAME_MAX, required=True)
    id_number = _text(NUMBER_MAX, required=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.PersonIn:
        return inputs.PersonIn(name=data["name"], id_number=data["id_number"], role=data["role"])


class SubjectSchema(Schema):
    """The debtor: a person (``id_number``) or an organisation (``credit_code``, a legal
    representative, and optionally the other people its listing binds)."""

    kind = fields.String(required=True, validate=one_of(k.value for k in SubjectKind))
    name = _text(NAME_MAX, required=True)
    id_number = _text(NUMBER_MAX, load_default=None, allow_none=True)
    credit_code = _text(NUMBER_MAX, load_default=None, allow_none=True)
    legal_representative = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    bound_persons = fields.List(
        fields.Nested(BoundPersonSchema), load_default=list, validate=length(max=50)
    )

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.SubjectIn:
        return inputs.SubjectIn(**{**data, "bound_persons": tuple(data["bound_persons"])})


class CaseSchema(Schema):
    """The enforcement case and its basis (Art. 6)."""

    case_number = _text(
        DOCUMENT_NUMBER_MAX, required=True, metadata={"example": "(2024)京0105执1234号"}
    )
    filed_on = fields.Date(required=True)
    basis_document_number = _text(DOCUMENT_NUMBER_MAX, required=True)
    basis_issuer = _text(NAME_MAX, required=True)
    obligation = _text(MAX_TEXT, required=True)
    amount_due = _money(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.CaseIn:
        return inputs.CaseIn(**data)


class ExemptionsSchema(Schema):
    """Art. 3: the three questions for a ground-1 listing (null: not answered)."""

    has_security = fields.Boolean(load_default=None, allow_none=True)
    seized_assets_sufficient = fields.Boolean(load_default=None, allow_none=True)
    later_in_order = fields.Boolean(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> Exemptions:
        return Exemptions(**data)


class ApplicationSchema(Schema):
    """Art. 5: whether the creditor applied, who, and when (internal: never shown again)."""

    by_creditor = fields.Boolean(required=True)
    creditor_name = _text(NAME_MAX, load_default=None, allow_none=True)
    applied_on = fields.Date(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.ApplicationIn:
        return inputs.ApplicationIn(**data)


def _grounds(**kwargs: Any) -> fields.List:
    """Art. 1: the grounds cited, by code (at least one: the service says so in words)."""
    return fields.List(
        fields.String(validate=one_of(g.value for g in Ground)),
        metadata={"example": ["refuses_with_ability"]},
        **kwargs,
    )


class DraftSchema(Schema):
    """``POST /api/v1/listings``: a new draft."""

    subject = fields.Nested(SubjectSchema, required=True)
    case = fields.Nested(CaseSchema, required=True)
    grounds = _grounds(required=True)
    exemptions = fields.Nested(ExemptionsSchema, load_default=Exemptions)
    grace_days = fields.Integer(strict=True, load_default=0)
    application = fields.Nested(ApplicationSchema, load_default=inputs.ApplicationIn)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.DraftIn:
        return inputs.DraftIn(**{**data, "grounds": tuple(data["grounds"])})


class ListingPatchSchema(Schema):
    """``PATCH /api/v1/listings/{id}``: each part given replaces that part whole. On an approved or
    published listing this is a correction (更正, Art. 9) and ``reason`` is required."""

    subject = fields.Nested(SubjectSchema)
    case = fields.Nested(CaseSchema)
    grounds = _grounds()
    exemptions = fields.Nested(ExemptionsSchema)
    grace_days = fields.Integer(strict=True)
    application = fields.Nested(ApplicationSchema)
    reason = _text(MAX_TEXT, allow_none=True, metadata={"description": "更正理由（更正时必填）"})

    @validates_schema
    def _something_to_change(self, data: dict, **_: Any) -> None:
        if not set(data) - {"reason"}:
            raise ValidationError("请至少提供一项要修改的内容")

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.ListingPatch:
        if "grounds" in data:
            data = {**data, "grounds": tuple(data["grounds"])}
        return inputs.ListingPatch(**data)


class ApprovalSchema(Schema):
    """The decision (决定书) the judge signs (Art. 5); ``decided_on`` defaults to today."""

    decision_number = _text(DOCUMENT_NUMBER_MAX, required=True)
    decided_on = fields.Date(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.ApprovalIn:
        return inputs.ApprovalIn(**data)


class ReasonSchema(Schema):
    """A stated reason: rejecting a draft back to the clerk, revoking a listing (Art. 9)."""

    reason = _text(MAX_TEXT, required=True)


class PaymentSchema(Schema):
    """A payment or other performance (履行). ``amount`` may be left out only when ``full``
    declares a non-monetary obligation performed."""

    amount = _money(load_default=None, allow_none=True)
    performed_on = fields.Date(required=True)
    full = fields.Boolean(load_default=False)
    note = _text(MAX_TEXT, load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict, **_: Any) -> inputs.PaymentIn:
        return inputs.PaymentIn(**data)


class DeletionSchema(Schema):
    """Deletion (删除): one of the Art. 10 reasons (or early deletion of a termed listing, Art. 2)."""

    reason = fields.String(
        required=True,
        validate=length(max=64),
        metadata={"enum": [r.value for r in DeletionReason if r is not DeletionReason.EXPIRED]},
    )
    note = _text(MAX_TEXT, load_default=None, allow_none=True)


class ExtensionSchema(Schema):
    """Art. 2: extend the term by 1–3 years (the service checks the five-year total)."""

    years = fields.Integer(strict=True, required=True, metadata={"example": 1})
    reason = _text(MAX_TEXT, required=True)


class RevealSchema(Schema):
    """Open a full ID number (audited): the debtor's, or a bound person's by ``person_id``."""

    person_id = fields.Integer(strict=True, load_default=None, allow_none=True)


class ListingQuerySchema(Schema):
    """``GET /api/v1/listings``: filter by status, and by a name, an exact ID number / credit code
    or a case number in ``q``."""

    status = fields.String(validate=one_of(s.value for s in ListingStatus))
    q = _text(200)
    page = fields.Integer(load_default=1, validate=value_range(min=1))
    per_page = fields.Integer(load_default=20, validate=value_range(1, MAX_PER_PAGE))


# --------------------------------------------------------------------------------------------------
# Responses


@dataclass(frozen=True)
class StaffListing:
    """A listing as staff see it: the row, and the measures in force because of it (kept by the
    restrictions projection, not on the row)."""

    listing: Listing
    restrictions: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.listing, name)

    @property
    def removal(self) -> dict | None:
        listing = self.listing
        if listing.removal_kind is None:
            return None
        # A revocation's reason is the text the judge wrote; deletions carry an Art. 10 code.
        if listing.removal_kind is RemovalKind.REVOKED:
            reason = listing.removal_note
        else:
            reason = listing.removal_reason
        return {"kind": listing.removal_kind, "reason": reason, "on": listing.removed_on}


class CourtSchema(Schema):
    code = fields.String()
    name = fields.String()
    province = fields.String()


class StaffPersonSchema(Schema):
    """A person bound with an organisation, ID number masked."""

    id = fields.Integer()
    role = fields.Enum(PersonRole, by_value=True)
    name = fields.String()
    id_number_masked = fields.String(attribute="id_masked")


class StaffSubjectSchema(Schema):
    """The debtor as staff see it. No birth date: the mask hides exactly the birth month and day,
    so the two together would give the full number away; ``sex`` comes from the number too."""

    kind = fields.Enum(SubjectKind, by_value=True)
    name = fields.String()
    id_number_masked = fields.Function(
        lambda s: s.id_masked if s.kind is SubjectKind.PERSON else None,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "自然人：身份证号码（隐去出生月日）",
        },
    )
    credit_code = fields.Function(
        lambda s: s.id_masked if s.kind is SubjectKind.ORGANISATION else None,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "法人或其他组织：统一社会信用代码",
        },
    )
    sex = fields.String(allow_none=True, metadata={"description": "自然人：male 或 female"})
    legal_representative = fields.Nested(StaffPersonSchema, allow_none=True)
    bound_persons = fields.List(
        fields.Nested(StaffPersonSchema),
        metadata={"description": "主要负责人、直接责任人员、实际控制人（法定代表人见上）"},
    )

    @post_dump
    def _without_the_legal_representative(self, data: dict, **_: Any) -> dict:
        """The legal representative is a bound person too, but has a field of its own."""
        role = PersonRole.LEGAL_REPRESENTATIVE.value
        data["bound_persons"] = [p for p in data["bound_persons"] if p["role"] != role]
        return data


class StaffCaseSchema(Schema):
    case_number = fields.String()
    filed_on = fields.Date()
    basis_document_number = fields.String()
    basis_issuer = fields.String()
    obligation = fields.String()
    amount_due = fields.Decimal(as_string=True, places=2, allow_none=True)


class PerformanceSchema(Schema):
    status = fields.Enum(PerformanceStatus, by_value=True)
    performed_amount = fields.Decimal(as_string=True, places=2)
    unperformed_amount = fields.Decimal(as_string=True, places=2, allow_none=True)


class RemovalSchema(Schema):
    kind = fields.Enum(RemovalKind, by_value=True)
    reason = fields.String(allow_none=True)
    on = fields.Date()


class StaffListingSchema(Schema):
    """The listing as staff see it (API.md). ID numbers are masked; the creditor is never shown."""

    id = fields.Integer()
    public_id = fields.String()
    status = fields.Enum(ListingStatus, by_value=True)
    court = fields.Nested(CourtSchema)
    subject = fields.Nested(StaffSubjectSchema)
    case = fields.Nested(StaffCaseSchema)
    grounds = fields.List(fields.String())
    exemptions = fields.Nested(ExemptionsSchema)
    grace_days = fields.Integer()
    decision_number = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    publish_on = fields.Date(allow_none=True)
    published_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True, metadata={"description": "null：无固定期限"})
    extension_years = fields.Integer()
    performance = fields.Nested(PerformanceSchema)
    deletion_due_on = fields.Date(allow_none=True)
    early_deletion_proposed = fields.Boolean()
    removal = fields.Nested(RemovalSchema, allow_none=True)
    restrictions = fields.List(
        fields.String(), metadata={"description": "在执行的惩戒措施代码", "example": ["flight"]}
    )


class ListingPageSchema(Schema):
    items = fields.List(fields.Nested(StaffListingSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class AuditEntrySchema(Schema):
    """One act on the listing (DOMAIN.md §8): who, when, what changed and why."""

    seq = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(attribute="actor_name")
    action = fields.String(metadata={"example": "listing.approved"})
    reason = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))


class IdNumberSchema(Schema):
    id_number = fields.String(metadata={"description": "完整身份证号码（此次查看已记入日志）"})

"""The staff pages' forms: browser fields parsed into the values of ``inputs.py``, and listings
turned back into field values to prefill the correction form.

Field names are dotted and equal to the keys of the services' ``ValidationFailed.errors``
(``subject.id_number``, ``case.filed_on``, ``subject.bound_persons.0.id_number``), so an error is
shown beside the field it names. Parsing only turns text into dates, numbers and booleans; every
rule of the list is checked by the services. What cannot be parsed (a date that is not a date) is
reported here under the same field names, and the service is not called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from werkzeug.datastructures import MultiDict

from blacklist.core.errors import ValidationFailed
from blacklist.core.identity import parse_resident_id
from blacklist.listing.inputs import (
    ApplicationIn,
    ApprovalIn,
    CaseIn,
    DraftIn,
    ListingPatch,
    PaymentIn,
    PersonIn,
    SubjectIn,
)
from blacklist.listing.models import Listing
from blacklist.listing.rules import (
    BOUND_ROLES,
    Exemptions,
    Ground,
    PersonRole,
    SubjectKind,
)

T = TypeVar("T")

#: Rows of the "bound persons" block the form offers (principal, directly responsible person,
#: actual controller: DOMAIN.md §3).
BOUND_ROWS = 5
GRACE_CHOICES = (0, 30, 60, 90)
EXTENSION_CHOICES = (1, 2, 3)
EXEMPTION_FIELDS = ("has_security", "seized_assets_sufficient", "later_in_order")
CASE_FIELDS = (
    "case_number",
    "filed_on",
    "basis_document_number",
    "basis_issuer",
    "obligation",
    "amount_due",
)

Values = dict[str, object]
Errors = dict[str, list[str]]


@dataclass
class Parsed(Generic[T]):
    """A parsed form: the input for the service (None when the form could not be parsed), the
    entered values to show again, and the parsing errors by field."""

    value: T | None
    values: Values
    errors: Errors = field(default_factory=dict)


class _Reader:
    """Reads one submitted form, keeping what was typed and what could not be parsed."""

    def __init__(self, form: MultiDict) -> None:
        self.form = form
        self.values: Values = {}
        self.errors: Errors = {}

    def text(self, name: str) -> str:
        value = (self.form.get(name) or "").strip()
        self.values[name] = value
        return value

    def flag(self, name: str) -> bool:
        value = self.form.get(name) in ("1", "on", "yes", "true")
        self.values[name] = value
        return value

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def date(self, name: str) -> date | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(name, "日期格式应为“年-月-日”，如 2025-03-01")
            return None

    def amount(self, name: str) -> Decimal | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = Decimal(raw.replace(",", "").replace("，", "").replace("元", "").strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.fail(name, "金额应为数字，如 100000.00")
            return None
        return value

    def choice(self, name: str, choices: tuple[int, ...], message: str) -> int | None:
        raw = self.text(name)
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value not in choices:
            self.fail(name, message)
            return None
        return value

    def yes_no(self, name: str) -> bool | None:
        raw = self.text(name)
        return {"yes": True, "no": False}.get(raw)

    def parsed(self, value: T | None) -> Parsed[T]:
        return Parsed(None if self.errors else value, self.values, self.errors)


# --------------------------------------------------------------------------------------------------
# The listing form (new draft, edit of a draft, correction)


def _person(reader: _Reader, prefix: str, role: str) -> PersonIn | None:
    name = reader.text(f"{prefix}.name")
    number = reader.text(f"{prefix}.id_number")
    if not name and not number:
        return None
    return PersonIn(name=name, id_number=number, role=role)


def _subject(reader: _Reader) -> SubjectIn:
    kind = reader.text("subject.kind") or SubjectKind.PERSON.value
    name = reader.text("subject.name")
    id_number = reader.text("subject.id_number")
    credit_code = reader.text("subject.credit_code")
    representative = _person(
        reader, "subject.legal_representative", PersonRole.LEGAL_REPRESENTATIVE.value
    )
    # Empty rows are left out and the others renumbered in the values shown again, so the
    # service's error keys (subject.bound_persons.<n>) name the row the clerk sees.
    people: list[PersonIn] = []
    rows = []
    for index in range(BOUND_ROWS):
        prefix = f"subject.bound_persons.{index}"
        role = (reader.form.get(f"{prefix}.role") or "").strip()
        name_ = (reader.form.get(f"{prefix}.name") or "").strip()
        number = (reader.form.get(f"{prefix}.id_number") or "").strip()
        if name_ or number:
            rows.append((role, name_, number))
    for index, (role, name_, number) in enumerate(rows):
        prefix = f"subject.bound_persons.{index}"
        reader.values.update(
            {f"{prefix}.role": role, f"{prefix}.name": name_, f"{prefix}.id_number": number}
        )
        people.append(PersonIn(name=name_, id_number=number, role=role))
    if kind == SubjectKind.ORGANISATION.value:
        return SubjectIn(
            kind=kind,
            name=name,
            credit_code=credit_code,
            legal_representative=representative,
            bound_persons=tuple(people),
        )
    return SubjectIn(kind=kind, name=name, id_number=id_number)


def _case(reader: _Reader) -> CaseIn:
    return CaseIn(
        case_number=reader.text("case.case_number"),
        filed_on=reader.date("case.filed_on"),  # None: the service asks for it
        basis_document_number=reader.text("case.basis_document_number"),
        basis_issuer=reader.text("case.basis_issuer"),
        obligation=reader.text("case.obligation"),
        amount_due=reader.amount("case.amount_due"),
    )


def _grounds(reader: _Reader) -> tuple[str, ...]:
    grounds = tuple(g.strip() for g in reader.form.getlist("grounds") if g.strip())
    reader.values["grounds"] = list(grounds)
    return grounds


def _exemptions(reader: _Reader, grounds: tuple[str, ...]) -> Exemptions:
    """Art. 3: the three questions matter for ground 1 only; other listings store no answers."""
    answers = {name: reader.yes_no(f"exemptions.{name}") for name in EXEMPTION_FIELDS}
    if Ground.REFUSES_WITH_ABILITY.value not in grounds:
        return Exemptions()
    return Exemptions(**answers)


def _application(reader: _Reader) -> ApplicationIn:
    by_creditor = reader.flag("application.by_creditor")
    name = reader.text("application.creditor_name")
    if not by_creditor:
        reader.text("application.applied_on")
        return ApplicationIn()
    applied_on = reader.date("application.applied_on")
    return ApplicationIn(by_creditor=True, creditor_name=name, applied_on=applied_on)


def parse_draft(form: MultiDict) -> Parsed[DraftIn]:
    """The new-listing form as a ``DraftIn``."""
    reader = _Reader(form)
    subject = _subject(reader)
    case = _case(reader)
    grounds = _grounds(reader)
    exemptions = _exemptions(reader, grounds)
    grace = reader.choice("grace_days", GRACE_CHOICES, "宽限期应为不给予、30日、60日或90日")
    application = _application(reader)
    return reader.parsed(
        DraftIn(
            subject=subject,
            case=case,
            grounds=grounds,
            exemptions=exemptions,
            grace_days=grace or 0,
            application=application,
        )
    )


def parse_patch(form: MultiDict, *, is_draft: bool) -> Parsed[ListingPatch]:
    """The edit form as a ``ListingPatch``. The debtor's data is replaced only when the clerk
    ticks ``subject.change`` (its ID numbers are shown masked and must be typed again in full); the
    grace period can change on a draft only (it is fixed once the decision is signed)."""
    reader = _Reader(form)
    change_subject = reader.flag("subject.change")
    subject = _subject(reader)
    case = _case(reader)
    grounds = _grounds(reader)
    exemptions = _exemptions(reader, grounds)
    grace = None
    if is_draft:
        grace = reader.choice("grace_days", GRACE_CHOICES, "宽限期应为不给予、30日、60日或90日")
    application = _application(reader)
    reason = reader.text("reason")
    return reader.parsed(
        ListingPatch(
            subject=subject if change_subject else None,
            case=case,
            grounds=grounds,
            exemptions=exemptions,
            grace_days=grace,
            application=application,
            reason=reason or None,
        )
    )


def blank_values() -> Values:
    return {"subject.kind": SubjectKind.PERSON.value, "grace_days": "0", "grounds": []}


def listing_values(listing: Listing) -> Values:
    """The listing as form values, to prefill the edit form. ID numbers are not filled in: staff
    see them masked only (DOMAIN.md §6); a credit code is public and is filled in."""
    subject, case = listing.subject, listing.case
    values: Values = {
        "subject.kind": subject.kind.value,
        "subject.name": subject.name,
        "subject.credit_code": subject.id_masked
        if subject.kind is SubjectKind.ORGANISATION
        else "",
        "case.case_number": case.case_number,
        "case.filed_on": case.filed_on.isoformat() if case.filed_on else "",
        "case.basis_document_number": case.basis_document_number,
        "case.basis_issuer": case.basis_issuer,
        "case.obligation": case.obligation,
        "case.amount_due": f"{case.amount_due:.2f}" if case.amount_due is not None else "",
        "grounds": list(listing.grounds),
        "grace_days": str(listing.grace_days),
        "application.by_creditor": listing.by_creditor,
        "application.creditor_name": listing.creditor_name or "",
        "application.applied_on": listing.applied_on.isoformat() if listing.applied_on else "",
    }
    for name in EXEMPTION_FIELDS:
        answer = (listing.exemptions or {}).get(name)
        values[f"exemptions.{name}"] = "" if answer is None else ("yes" if answer else "no")
    representative = subject.legal_representative
    if representative is not None:
        values["subject.legal_representative.name"] = representative.name
    others = [p for p in subject.bound_persons if p.role in BOUND_ROLES]
    for index, person in enumerate(others[:BOUND_ROWS]):
        values[f"subject.bound_persons.{index}.role"] = person.role.value
        values[f"subject.bound_persons.{index}.name"] = person.name
    return values


# --------------------------------------------------------------------------------------------------
# The acts of the listing page


def parse_approval(form: MultiDict) -> Parsed[ApprovalIn]:
    reader = _Reader(form)
    number = reader.text("decision_number")
    decided_on = reader.date("decided_on")
    return reader.parsed(ApprovalIn(decision_number=number, decided_on=decided_on))


def parse_payment(form: MultiDict) -> Parsed[PaymentIn]:
    reader = _Reader(form)
    amount = reader.amount("amount")
    performed_on = reader.date("performed_on")
    full = reader.flag("full")
    note = reader.text("note")
    return reader.parsed(
        PaymentIn(amount=amount, performed_on=performed_on, full=full, note=note or None)
    )


def parse_reason(form: MultiDict, *names: str) -> Parsed[dict[str, str]]:
    """Forms of plain text fields (a reason, a note)."""
    reader = _Reader(form)
    return reader.parsed({name: reader.text(name) for name in names})


def parse_deletion(form: MultiDict) -> Parsed[dict[str, str]]:
    reader = _Reader(form)
    reason = reader.text("reason")
    note = reader.text("note")
    if not reason:
        reader.fail("reason", "请选择删除事由")
    return reader.parsed({"reason": reason, "note": note})


def parse_extension(form: MultiDict) -> Parsed[tuple[int, str]]:
    reader = _Reader(form)
    years = reader.choice("years", EXTENSION_CHOICES, "延长期限应为1至3年")
    reason = reader.text("reason")
    return reader.parsed((years or 0, reason))


def confirmed(form: MultiDict) -> bool:
    """Irreversible acts carry the ticked box "我已核对，确认执行" (the page asks with a dialog as
    well; the box is what works without JavaScript)."""
    return form.get("confirm") in ("1", "on", "yes")


# --------------------------------------------------------------------------------------------------
# What an ID number tells (shown back to the clerk)


@dataclass(frozen=True)
class IdSummary:
    text: str
    ok: bool


def describe_resident_id(raw: str, today: date) -> IdSummary | None:
    """Birth date, age and sex read from a typed resident ID number (DOMAIN.md §5), or why it is
    not a valid number: shown beside the field after a submit, as listing.js does while typing."""
    if not (raw or "").strip():
        return None
    try:
        rid = parse_resident_id(raw)
    except ValidationFailed as error:
        return IdSummary(error.message, False)
    parts = [
        f"出生日期 {rid.birth_date.isoformat()}",
        f"{rid.age_on(today)}周岁",
        rid.sex.label,
    ]
    if rid.legacy:
        parts.append("15位旧号码，已按18位核对")
    text = " · ".join(parts)
    if rid.warnings:
        text += "（" + "；".join(rid.warnings) + "）"
    return IdSummary(text, True)


#: The resident-ID fields of the listing form.
ID_FIELDS = (
    "subject.id_number",
    "subject.legal_representative.id_number",
    *(f"subject.bound_persons.{i}.id_number" for i in range(BOUND_ROWS)),
)

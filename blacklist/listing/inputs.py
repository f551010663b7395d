"""What the staff calls of API.md carry, as plain values. The marshmallow schemas (``schemas.py``)
load JSON into these; the services take them. Identifiers arrive raw and are validated by the
services (so the same checks serve the API, the pages, the CLI and the seed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from blacklist.listing.rules import Exemptions


@dataclass(frozen=True)
class PersonIn:
    """A person bound with an organisation: legal representative, principal..."""

    name: str
    id_number: str
    role: str = "legal_representative"


@dataclass(frozen=True)
class SubjectIn:
    kind: str
    name: str
    id_number: str | None = None
    credit_code: str | None = None
    legal_representative: PersonIn | None = None
    bound_persons: tuple[PersonIn, ...] = ()


@dataclass(frozen=True)
class CaseIn:
    case_number: str
    filed_on: date
    basis_document_number: str
    basis_issuer: str
    obligation: str
    amount_due: Decimal | None = None


@dataclass(frozen=True)
class ApplicationIn:
    """Art. 5: who asked for the listing. The creditor is internal data, never published."""

    by_creditor: bool = False
    creditor_name: str | None = None
    applied_on: date | None = None


@dataclass(frozen=True)
class DraftIn:
    subject: SubjectIn
    case: CaseIn
    grounds: tuple[str, ...]
    exemptions: Exemptions = field(default_factory=Exemptions)
    grace_days: int = 0
    application: ApplicationIn = field(default_factory=ApplicationIn)


@dataclass(frozen=True)
class ListingPatch:
    """An edit of a draft, or a correction (更正) of an approved or published listing with a
    reason. Each part given replaces that part whole; parts left ``None`` stay as they are."""

    subject: SubjectIn | None = None
    case: CaseIn | None = None
    grounds: tuple[str, ...] | None = None
    exemptions: Exemptions | None = None
    grace_days: int | None = None
    application: ApplicationIn | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ApprovalIn:
    """Art. 5: the decision (决定书) signed for the court president."""

    decision_number: str
    decided_on: date | None = None


@dataclass(frozen=True)
class PaymentIn:
    amount: Decimal | None
    performed_on: date
    full: bool = False
    note: str | None = None

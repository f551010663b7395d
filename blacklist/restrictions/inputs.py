"""What the order calls carry, as plain values (like ``listing.inputs``): the API schemas and the
page forms load into these; the services check the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from blacklist.listing.inputs import CaseIn, SubjectIn


@dataclass(frozen=True)
class OrganisationIn:
    """Exit ban for an organisation's debt: the organisation and the barred person's role in it."""

    name: str
    credit_code: str
    role: str


@dataclass(frozen=True)
class OrderIn:
    """A standalone consumption order (``kind="consumption"``) or an exit ban (``"exit"``)."""

    kind: str
    subject: SubjectIn
    case: CaseIn
    decision_number: str
    reasons: str
    issued_on: date | None = None
    measures: tuple[str, ...] | None = None
    organisation: OrganisationIn | None = None


@dataclass(frozen=True)
class LiftingIn:
    ground: str
    note: str | None = None

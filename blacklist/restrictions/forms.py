"""The order pages' forms, parsed into ``inputs.py`` values. The debtor and case blocks use the
listing form's field names and parsers (``subject.*``, ``case.*``), so the services' error keys name
the same fields here; every rule is checked by the services."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from blacklist.listing.forms import Parsed, _case, _Reader, _subject, confirmed
from blacklist.listing.inputs import SubjectIn
from blacklist.restrictions.catalogue import CONSUMPTION_MEASURES
from blacklist.restrictions.inputs import LiftingIn, OrderIn, OrganisationIn

__all__ = ["Parsed", "blank_values", "confirmed", "parse_lifting", "parse_order"]


def blank_values(kind: str) -> dict:
    """A new form: a natural person, today's date left to the service, every measure ticked."""
    return {
        "subject.kind": "person",
        "measures": list(CONSUMPTION_MEASURES) if kind == "consumption" else [],
    }


def parse_order(form: MultiDict, kind: str) -> Parsed[OrderIn]:
    """The "发出限制消费令" or "决定限制出境" form as an ``OrderIn``."""
    reader = _Reader(form)
    if kind == "exit":
        # The subject kind is posted as typed, so an organisation is refused by the service with
        # its own message (Civil Procedure Law Art. 266) rather than silently turned into a person.
        subject_kind = reader.text("subject.kind") or "person"
        subject = SubjectIn(
            kind=subject_kind,
            name=reader.text("subject.name"),
            id_number=reader.text("subject.id_number"),
        )
        org_name = reader.text("organisation.name")
        org_code = reader.text("organisation.credit_code")
        org_role = reader.text("organisation.role")
        organisation = (
            OrganisationIn(org_name, org_code, org_role) if (org_name or org_code) else None
        )
        measures = None
    else:
        subject = _subject(reader)
        organisation = None
        measures = tuple(m.strip() for m in form.getlist("measures") if m.strip())
        reader.values["measures"] = list(measures)
    case = _case(reader)
    issued_on = reader.date("issued_on")
    return reader.parsed(
        OrderIn(
            kind=kind,
            subject=subject,
            case=case,
            decision_number=reader.text("decision_number"),
            reasons=reader.text("reasons"),
            issued_on=issued_on,
            measures=measures,
            organisation=organisation,
        )
    )


def parse_lifting(form: MultiDict) -> Parsed[LiftingIn]:
    reader = _Reader(form)
    return reader.parsed(LiftingIn(ground=reader.text("ground"), note=reader.text("note") or None))

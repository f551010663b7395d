"""Builders for standalone consumption orders and exit bans (issued through the real service)."""

from __future__ import annotations

from datetime import date

from blacklist.listing.inputs import PersonIn, SubjectIn
from blacklist.restrictions.inputs import LiftingIn, OrderIn, OrganisationIn
from tests.factories import case_in, credit_code, resident_id

DEBTOR_ID = resident_id("19810202", "135")
REPRESENTATIVE_ID = resident_id("19720303", "257")
CONTROLLER_ID = resident_id("19760606", "379")
ORG_CODE = credit_code("91110105MA0000777")


def person_order(
    *,
    kind: str = "consumption",
    name: str = "赵六",
    id_number: str = DEBTOR_ID,
    case_number: str = "(2024)京0105执5001号",
    decision_number: str = "(2025)京0105执5001号之一",
    issued_on: date | None = None,
    measures: tuple[str, ...] | None = None,
    organisation: OrganisationIn | None = None,
    reasons: str = "被执行人未按执行通知履行义务",
) -> OrderIn:
    return OrderIn(
        kind=kind,
        subject=SubjectIn(kind="person", name=name, id_number=id_number),
        case=case_in(case_number),
        decision_number=decision_number,
        reasons=reasons,
        issued_on=issued_on,
        measures=measures,
        organisation=organisation,
    )


def organisation_order(
    *,
    name: str = "北京某某建材有限公司",
    code: str = ORG_CODE,
    representative: PersonIn | None = None,
    bound_persons: tuple[PersonIn, ...] = (),
    case_number: str = "(2024)京0105执5002号",
    decision_number: str = "(2025)京0105执5002号之一",
) -> OrderIn:
    return OrderIn(
        kind="consumption",
        subject=SubjectIn(
            kind="organisation",
            name=name,
            credit_code=code,
            legal_representative=representative or PersonIn("钱七", REPRESENTATIVE_ID),
            bound_persons=bound_persons,
        ),
        case=case_in(case_number),
        decision_number=decision_number,
        reasons="被执行单位未按执行通知履行义务",
    )


def exit_ban_for_representative(**kwargs) -> OrderIn:
    """An exit ban on an organisation's legal representative, for the organisation's debt."""
    defaults = {
        "name": "钱七",
        "id_number": REPRESENTATIVE_ID,
        "organisation": OrganisationIn("北京某某建材有限公司", ORG_CODE, "legal_representative"),
        "case_number": "(2024)京0105执5003号",
        "decision_number": "(2025)京0105执5003号之二",
    }
    return person_order(kind="exit", **{**defaults, **kwargs})


def lifting(ground: str = "performed", note: str | None = None) -> LiftingIn:
    return LiftingIn(ground, note)

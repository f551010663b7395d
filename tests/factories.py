"""Builders for test data: valid ID numbers and credit codes, courts, staff, drafts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from blacklist.core.actor import Actor, Role
from blacklist.core.identity import uscc_check_char
from blacklist.listing.inputs import CaseIn, DraftIn, PersonIn, SubjectIn
from blacklist.listing.rules import Exemptions
from blacklist.staff import services as staff


def resident_id(birth: str = "19800101", sequence: str = "123", address: str = "110105") -> str:
    """A valid 18-digit resident ID number (sequence odd: male, even: female)."""
    from stdnum.cn import ric

    body = address + birth + sequence
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def credit_code(body: str = "91110105MA0000001") -> str:
    return body + uscc_check_char(body)


NO_EXEMPTIONS = Exemptions(has_security=False, seized_assets_sufficient=False, later_in_order=False)


def person_draft(
    *,
    name: str = "张三",
    id_number: str | None = None,
    case_number: str = "(2024)京0105执1234号",
    grounds: tuple[str, ...] = ("refuses_with_ability",),
    exemptions: Exemptions = NO_EXEMPTIONS,
    amount_due: Decimal | None = Decimal("100000.00"),
    grace_days: int = 0,
    **kwargs,
) -> DraftIn:
    return DraftIn(
        subject=SubjectIn(kind="person", name=name, id_number=id_number or resident_id()),
        case=case_in(case_number, amount_due),
        grounds=grounds,
        exemptions=exemptions,
        grace_days=grace_days,
        **kwargs,
    )


def organisation_draft(
    *,
    name: str = "北京某某商贸有限公司",
    code: str | None = None,
    representative: PersonIn | None = None,
    bound_persons: tuple[PersonIn, ...] = (),
    case_number: str = "(2024)京0105执2001号",
    grounds: tuple[str, ...] = ("evades",),
    **kwargs,
) -> DraftIn:
    return DraftIn(
        subject=SubjectIn(
            kind="organisation",
            name=name,
            credit_code=code or credit_code(),
            legal_representative=representative
            or PersonIn(name="李四", id_number=resident_id("19700505", "235")),
            bound_persons=bound_persons,
        ),
        case=case_in(case_number, Decimal("500000.00")),
        grounds=grounds,
        exemptions=Exemptions(),
        **kwargs,
    )


def case_in(case_number: str, amount_due: Decimal | None = Decimal("100000.00")) -> CaseIn:
    return CaseIn(
        case_number=case_number,
        filed_on=date(2024, 3, 1),
        basis_document_number="(2023)京0105民初5678号",
        basis_issuer="北京市朝阳区人民法院",
        obligation="支付货款人民币100000元及利息",
        amount_due=amount_due,
    )


def setup_court(
    session, clock, code: str = "BJ0105", *, province: str = "北京"
) -> dict[str, Actor]:
    """A court with a clerk, a judge and an admin; returns their actors by role."""
    system = Actor.system("test")
    staff.create_court(
        session, code=code, name=f"{code}人民法院", province=province, actor=system, clock=clock
    )
    actors = {}
    for role in (Role.CLERK, Role.JUDGE, Role.ADMIN):
        user = staff.create_staff_user(
            session,
            court_code=code,
            role=role,
            username=f"{code.lower()}-{role.value}",
            password="correct horse battery",
            actor=system,
            clock=clock,
        )
        actors[role.value] = user.as_actor()
    return actors


# --------------------------------------------------------------------------------------------------
# Helpers for the listing-service, restrictions-projection and change-log tests

#: The tables a refused act must leave exactly as they were.
WATCHED_TABLES = (
    "listings",
    "subjects",
    "bound_persons",
    "cases",
    "performances",
    "restriction_orders",
    "restrictions",
    "changes",
    "audit_entries",
)


def fast_password_hashing(monkeypatch) -> None:
    """Staff accounts made by ``setup_court`` with a cheap password hash: these tests never log in,
    and the real hash costs a tenth of a second per account."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        staff,
        "generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


def resident_id_ending_in_x(birth: str = "19850315", address: str = "110105") -> str:
    """A valid resident ID number whose check character is X."""
    for n in range(1, 1000):
        number = resident_id(birth, f"{n:03d}", address)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence number gives the check character X")


def publish_listing(
    session,
    clock,
    court: dict[str, Actor],
    draft: DraftIn | None = None,
    *,
    decided_on: date | None = None,
    decision_number: str = "(2025)京0105执恢1号决定书",
):
    """Draft (clerk), submit (clerk) and sign (judge) a listing; published unless it has a grace
    period."""
    from blacklist.listing import services
    from blacklist.listing.inputs import ApprovalIn

    listing = services.create_draft(
        session, draft or person_draft(), actor=court["clerk"], clock=clock
    )
    services.submit_listing(session, listing.id, actor=court["clerk"], clock=clock)
    return services.approve_listing(
        session,
        listing.id,
        ApprovalIn(decision_number, decided_on),
        actor=court["judge"],
        clock=clock,
    )


def row_counts(session, tables: tuple[str, ...] = WATCHED_TABLES) -> dict[str, int]:
    from sqlalchemy import text

    return {name: session.scalar(text(f"SELECT count(*) FROM {name}")) for name in tables}


def table_contents(session, tables: tuple[str, ...] = WATCHED_TABLES) -> dict[str, list]:
    """Every row of the tables (sorted), to show that a refused act changed nothing at all."""
    from sqlalchemy import text

    return {
        name: sorted(
            (tuple(row) for row in session.execute(text(f"SELECT * FROM {name}"))), key=repr
        )
        for name in tables
    }


def stored_texts(session, tables: tuple[str, ...]):
    """(table, column, text) for every non-null value of the tables, JSON rendered as text: for
    scanning the database for data that must never be stored in the clear."""
    import json

    from sqlalchemy import text

    for name in tables:
        result = session.execute(text(f"SELECT * FROM {name}"))
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                if isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                yield name, column, str(value)

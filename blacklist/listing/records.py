"""The full published record of a listing, as the change log stores it for partners whose scope is
``listing`` (credit reference centre, banks, procurement: DOMAIN.md §4). Identifiers stay encrypted
under ``id_cipher``; the feed decrypts them per partner. Never included: the creditor, internal
notes, addresses (Art. 6)."""

from __future__ import annotations

from decimal import Decimal

from blacklist.listing.models import Listing
from blacklist.listing.rules import Ground, PersonRole, SubjectKind


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def listing_record(listing: Listing) -> dict:
    subject, case, court = listing.subject, listing.case, listing.court
    performance = listing.performance
    grounds = [Ground(g) for g in listing.grounds]
    record = {
        "public_id": listing.public_id,
        "kind": subject.kind.value,
        "name": subject.name,
        "id_cipher": subject.id_cipher,
        "sex": subject.sex,
        "birth_date": _iso(subject.birth_date),
        "legal_representative": None,
        "bound_persons": [],
        "court": {"code": court.code, "name": court.name, "province": court.province},
        "case_number": case.case_number,
        "filed_on": _iso(case.filed_on),
        "basis_document_number": case.basis_document_number,
        "basis_issuer": case.basis_issuer,
        "obligation": case.obligation,
        "amount_due": _money(case.amount_due),
        "performance": performance.status.value,
        "performed_amount": _money(performance.performed_amount),
        "unperformed_amount": _money(performance.unperformed_amount),
        "grounds": [g.value for g in grounds],
        "conduct": [g.label for g in grounds],
        "decision_number": listing.decision_number,
        "decided_on": _iso(listing.decided_on),
        "published_on": _iso(listing.published_on),
        "ends_on": _iso(listing.ends_on),
        "extension_years": listing.extension_years,
    }
    if subject.kind is SubjectKind.ORGANISATION:
        for person in subject.bound_persons:
            entry = {"role": person.role.value, "name": person.name, "id_cipher": person.id_cipher}
            if person.role is PersonRole.LEGAL_REPRESENTATIVE:
                record["legal_representative"] = {
                    "name": person.name,
                    "id_cipher": person.id_cipher,
                }
            else:
                record["bound_persons"].append(entry)
    return record

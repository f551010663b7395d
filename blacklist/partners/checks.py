"""Partner checks (API.md, DESIGN.md §6): may these people be sold a ticket, admitted to a bid…?

One indexed lookup on the projection's ``person_hash`` for the whole batch. The projection already
holds everyone a restriction binds: a listed debtor, the legal representative, principal, directly
responsible person and actual controller of a listed organisation (DOMAIN.md §3), and the people
of standalone consumption orders and exit bans. A reason names the role, the measures and the
source (listing or order, court, case number), so the partner can tell the person why.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from blacklist.core.errors import ErrorCollector, NotAllowed, ValidationFailed
from blacklist.db import vault_of
from blacklist.partners import rules
from blacklist.partners.feed import Subscription
from blacklist.partners.services import parse_person_id
from blacklist.restrictions.catalogue import BY_CODE, codes_of, mask_of
from blacklist.restrictions.models import Restriction
from blacklist.restrictions.queries import source_of, with_sources


def check_people(
    session: Session, sub: Subscription, measure: str, people: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For each person, in the order asked: restricted by ``measure`` or not, and why. A measure
    the partner does not hold is refused (403); a malformed batch changes nothing and says which
    entries are wrong (422)."""
    if measure not in BY_CODE:
        raise ValidationFailed.on("measure", f"未知的措施：{measure}")
    bit = mask_of([measure])
    if not sub.measures & bit:
        raise NotAllowed(f"本单位未承担措施 {measure}，不能查询")
    if not people:
        raise ValidationFailed.on("people", "请至少提供一人")
    if len(people) > rules.MAX_CHECK_PEOPLE:
        raise ValidationFailed.on("people", f"每次最多查询{rules.MAX_CHECK_PEOPLE}人")
    errors = ErrorCollector()
    vault = vault_of(session)
    hashes: list[str | None] = []
    for index, person in enumerate(people):
        parsed = errors.check(
            parse_person_id, str(person.get("id_number") or ""), f"people.{index}.id_number"
        )
        hashes.append(vault.hash(parsed[1]) if parsed else None)
    errors.raise_if_any("查询名单有误")

    reasons: dict[str, list[dict[str, Any]]] = defaultdict(list)
    unique = sorted({h for h in hashes if h})
    for start in range(0, len(unique), 500):
        rows = session.execute(
            with_sources(Restriction.person_hash, Restriction.role, Restriction.measures,
                         Restriction.since)
            .where(
                Restriction.person_hash.in_(unique[start : start + 500]),
                Restriction.is_active.is_(True),
                Restriction.measures.op("&")(bit) != 0,
            )
            .order_by(Restriction.id)
        )  # fmt: skip
        for row in rows:
            reasons[row.person_hash].append(
                {
                    "role": str(row.role),
                    "measures": codes_of(row.measures & sub.measures),
                    "since": row.since.isoformat(),
                    "source": source_of(row),
                }
            )
    results = []
    for person, person_hash in zip(people, hashes, strict=True):
        found = reasons.get(person_hash or "", [])
        results.append(
            {"id_number": person.get("id_number"), "restricted": bool(found), "reasons": found}
        )
    return results

"""Public reads of the list (DOMAIN.md §6, Art. 6). Only *published* listings appear; a removal
takes effect at once because every read goes to the list tables. ID numbers leave as masked
strings only; organisations' credit codes are public.

Search needs a name (2+ characters) or an exact ID number / credit code (never "everything"), and
pages are capped so the list cannot be walked through by paging. How each search is served:

- exact ID number or credit code → ``subjects.id_hash`` (btree, ``ix_subjects_id_hash``) then
  ``listings.subject_id`` (unique btree);
- a person's name → equality on ``subjects.name_key`` (btree, ``ix_subjects_name_key``);
- part of an organisation's name (3+ characters) → ``name_key LIKE '%…%'``, served on PostgreSQL by
  the trigram GIN index ``ix_subjects_name_key_trgm``; SQLite scans (the embedded default is small);
- the province filter joins ``courts`` (by primary key) after the subject lookup;
- restricted people → ``restrictions(person_hash, is_active)`` or
  ``restrictions(person_name_key, is_active)``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from blacklist.core.errors import ErrorCollector, ValidationFailed
from blacklist.core.identity import (
    parse_identifier,
)
from blacklist.core.names import normalize_name
from blacklist.db import vault_of
from blacklist.listing.models import Listing, Subject
from blacklist.listing.rules import (
    Ground,
    ListingStatus,
    PersonRole,
    RemovalKind,
    SubjectKind,
    age_on,
)
from blacklist.partners.queries import HitCounts, hit_counts
from blacklist.restrictions import catalogue
from blacklist.restrictions.models import Restriction, RestrictionOrder, SourceKind
from blacklist.staff.models import Court
from blacklist.staff.services import PROVINCES

MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20
#: No query may page further than this many results: refine the query instead.
MAX_RESULTS = 500
MIN_NAME_CHARS = 2
MIN_PARTIAL_NAME_CHARS = 3
#: No stored name is longer (``core.names.clean_name``): a longer query is a typing error.
MAX_NAME_CHARS = 100


# --------------------------------------------------------------------------------------------------
# The query


@dataclass(frozen=True)
class PublicQuery:
    """A validated public search: a name key or an identifier hash, optionally a province."""

    name_key: str | None = None
    id_hash: str | None = None
    province: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def parse_query(
    session: Session,
    *,
    name: str | None,
    id_number: str | None,
    province: str | None = None,
    page: int | str | None = 1,
    per_page: int | str | None = DEFAULT_PER_PAGE,
) -> PublicQuery:
    """Check what the public typed (DOMAIN.md §6): a name of 2+ characters or an exact ID number /
    credit code is required; the page size is capped at 50 and no query pages past 500 results.
    Errors name the field, in Chinese; nothing is searched for a bad query."""
    errors = ErrorCollector()
    name_key = normalize_name(name or "") or None
    raw_id = "".join((id_number or "").split())
    id_hash = None
    if raw_id:
        id_hash = errors.check(_identifier_hash, session, raw_id)
    if len((name or "").strip()) > MAX_NAME_CHARS:
        errors.add(ValidationFailed.on("name", f"姓名或名称不能超过{MAX_NAME_CHARS}个字"))
        name_key = None
    elif name_key is not None and len(name_key) < MIN_NAME_CHARS:
        errors.add(ValidationFailed.on("name", f"请输入至少{MIN_NAME_CHARS}个字的姓名或名称"))
    if name_key is None and not raw_id and len((name or "").strip()) <= MAX_NAME_CHARS:
        errors.add(
            ValidationFailed.on(
                "name", "请输入被执行人姓名/名称，或完整的身份证号码/统一社会信用代码"
            )
        )
    province = (province or "").strip() or None
    if province is not None and province not in PROVINCES:
        errors.add(ValidationFailed.on("province", "请选择正确的省份"))
    page_number = _positive_int(errors, page, "page", 1)
    size = _positive_int(errors, per_page, "per_page", DEFAULT_PER_PAGE)
    if size is not None and size > MAX_PER_PAGE:
        errors.add(ValidationFailed.on("per_page", f"每页最多{MAX_PER_PAGE}条"))
    if page_number and size and (page_number - 1) * size >= MAX_RESULTS:
        errors.add(
            ValidationFailed.on(
                "page", f"最多显示前{MAX_RESULTS}条结果，请缩小查询范围（如选择省份）"
            )
        )
    errors.raise_if_any("查询条件有误")
    return PublicQuery(name_key, id_hash, province, page_number, size)


def _positive_int(errors: ErrorCollector, value, field_name: str, default: int) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(ValidationFailed.on(field_name, "应为正整数"))
        return None
    if number < 1:
        errors.add(ValidationFailed.on(field_name, "应为正整数"))
        return None
    return number


def _identifier_hash(session: Session, raw: str) -> str:
    """An exact resident ID number (lower- or upper-case X, 15 or 18 digits) or a credit code."""
    return vault_of(session).hash(parse_identifier(raw, "id_number")[1])


# --------------------------------------------------------------------------------------------------
# What the public sees of a listing (Art. 6; API.md's public item)


@dataclass(frozen=True)
class PublicListing:
    public_id: str
    kind: str
    name: str
    sex: str | None
    age: int | None
    id_number_masked: str | None
    credit_code: str | None
    legal_representative: str | None
    court: str
    province: str
    case_number: str
    filed_on: date
    basis_document_number: str
    basis_issuer: str
    obligation: str
    performance: str
    performed_amount: Decimal
    unperformed_amount: Decimal | None
    conduct: list[str]
    published_on: date | None
    updated_at: object = None
    version: int = 0

    @property
    def sex_label(self) -> str:
        return {"male": "男", "female": "女"}.get(self.sex or "", "")

    @property
    def performance_label(self) -> str:
        return {"none": "全部未履行", "partial": "部分未履行", "full": "全部履行"}[self.performance]


def public_view(listing: Listing, today: date) -> PublicListing:
    subject, case, court = listing.subject, listing.case, listing.court
    person = subject.kind is SubjectKind.PERSON
    summary = listing.performance
    representative = subject.legal_representative
    return PublicListing(
        public_id=listing.public_id,
        kind=subject.kind.value,
        name=subject.name,
        sex=subject.sex if person else None,
        age=age_on(subject.birth_date, today) if person and subject.birth_date else None,
        id_number_masked=subject.id_masked if person else None,
        credit_code=None if person else subject.id_masked,
        legal_representative=representative.name if representative else None,
        court=court.name,
        province=court.province,
        case_number=case.case_number,
        filed_on=case.filed_on,
        basis_document_number=case.basis_document_number,
        basis_issuer=case.basis_issuer,
        obligation=case.obligation,
        performance=summary.status.value,
        performed_amount=summary.performed_amount,
        unperformed_amount=summary.unperformed_amount,
        conduct=[Ground(g).label for g in sorted(listing.grounds)],
        published_on=listing.published_on,
        updated_at=listing.updated_at,
        version=listing.version,
    )


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, min(-(-self.total // self.per_page), -(-MAX_RESULTS // self.per_page)))


#: The one-to-one relations joined into the page query, the collections loaded with one more query
#: each: three statements for a page instead of seven (issue #8: each round trip counted).
_LISTING_LOADS = (
    joinedload(Listing.subject, innerjoin=True).selectinload(Subject.bound_persons),
    joinedload(Listing.case, innerjoin=True),
    joinedload(Listing.court, innerjoin=True),
    selectinload(Listing.performances),
)
#: The same for a search, whose statement already joins the subject (to filter on it).
_SEARCH_LOADS = (
    contains_eager(Listing.subject).selectinload(Subject.bound_persons),
    joinedload(Listing.case, innerjoin=True),
    joinedload(Listing.court, innerjoin=True),
    selectinload(Listing.performances),
)


def _subject_condition(query: PublicQuery):
    """By ID number: the subject's hash. By name: the listing's copy of its subject's name key,
    exactly (``ix_listings_status_name_key_published_on``), or for an organisation, part of it
    (``ix_listings_name_key_trgm`` on PostgreSQL; both arms on the same column, so one bitmap scan
    serves them)."""
    if query.id_hash is not None:
        return Subject.id_hash == query.id_hash
    key = query.name_key
    exact = Listing.name_key == key
    if len(key) < MIN_PARTIAL_NAME_CHARS:
        return exact
    return or_(
        exact,
        and_(
            Listing.name_key.contains(key, autoescape=True),
            Subject.kind == SubjectKind.ORGANISATION,
        ),
    )


def search_listings(session: Session, query: PublicQuery, *, today: date) -> Page:
    """Published listings matching the query, newest publication first."""
    statement = (
        select(Listing)
        .join(Subject, Subject.id == Listing.subject_id)
        .where(Listing.status == ListingStatus.PUBLISHED, _subject_condition(query))
    )
    if query.province:
        statement = statement.join(Court, Court.id == Listing.court_id).where(
            Court.province == query.province
        )
    listings = session.scalars(
        statement.options(*_SEARCH_LOADS)
        .order_by(Listing.published_on.desc(), Listing.id.desc())
        .offset(query.offset)
        .limit(query.per_page)
    ).all()
    total = _total(session, statement, query, len(listings))
    return Page([public_view(x, today) for x in listings], total, query.page, query.per_page)


def _total(session: Session, statement, query: PublicQuery, on_page: int) -> int:
    """How many match (at most ``MAX_RESULTS``). A first page that is not full already says it, so
    most searches (an ID number, a rare name) need no count query."""
    if query.offset == 0 and on_page < query.per_page:
        return on_page
    counted = session.scalar(
        select(func.count()).select_from(statement.limit(MAX_RESULTS).subquery())
    )
    return min(counted or 0, MAX_RESULTS)


def get_published(session: Session, public_id: str, *, today: date) -> PublicListing | None:
    """One published listing by its public id; None once removed (or never published)."""
    if not public_id or len(public_id) > 32:
        return None
    listing = session.scalar(
        select(Listing)
        .where(Listing.public_id == public_id, Listing.status == ListingStatus.PUBLISHED)
        .options(*_LISTING_LOADS)
    )
    return public_view(listing, today) if listing else None


# --------------------------------------------------------------------------------------------------
# Consumption-restricted people (限制消费人员)


@dataclass(frozen=True)
class RestrictedPerson:
    """A person or organisation under a consumption restriction order, and why (DOMAIN.md §3)."""

    name: str
    kind: str
    role: str
    role_label: str
    id_masked: str
    debtor_name: str
    court: str
    province: str
    case_number: str
    since: date
    measures: list[str] = field(default_factory=list)
    listing_public_id: str | None = None
    #: The consumption order the restriction comes from, when no published listing shows it.
    order_public_id: str | None = None


def search_restricted(session: Session, query: PublicQuery) -> Page:
    """People and organisations bound by an active consumption restriction order: listed debtors,
    the legal representatives and other people of listed organisations, and the people of
    standalone consumption orders (DOMAIN.md §3), found alike. A standalone order's row names the
    order (court, case number, order id) instead of a listing. Exit bans are never shown to the
    public (only consumption-order rows are read)."""
    condition = (
        Restriction.person_hash == query.id_hash
        if query.id_hash is not None
        else Restriction.person_name_key == query.name_key
    )
    statement = select(Restriction).where(
        condition,
        Restriction.is_active.is_(True),
        Restriction.source_kind == SourceKind.CONSUMPTION_ORDER,
    )
    if query.province:
        statement = statement.join(Court, Court.id == Restriction.court_id).where(
            Court.province == query.province
        )
    rows = session.scalars(
        statement.options(
            selectinload(Restriction.listing).selectinload(Listing.subject),
            selectinload(Restriction.listing).selectinload(Listing.case),
            selectinload(Restriction.order).selectinload(RestrictionOrder.subject),
            selectinload(Restriction.order).selectinload(RestrictionOrder.case),
        )
        .order_by(Restriction.since.desc(), Restriction.id.desc())
        .offset(query.offset)
        .limit(query.per_page)
    ).all()
    total = _total(session, statement, query, len(rows))
    court_ids = {row.court_id for row in rows}
    courts = (
        {c.id: c for c in session.scalars(select(Court).where(Court.id.in_(court_ids)))}
        if court_ids
        else {}
    )
    return Page([_restricted_item(row, courts[row.court_id]) for row in rows], total,
                query.page, query.per_page)  # fmt: skip


def _restricted_item(row: Restriction, court: Court) -> RestrictedPerson:
    """One restricted person: the debtor and case come from the listing when the order belongs to
    one, else from the standalone order itself."""
    listing, order = row.listing, row.order
    subject = listing.subject if listing is not None else (order.subject if order else None)
    case = listing.case if listing is not None else (order.case if order else None)
    published = listing is not None and listing.status is ListingStatus.PUBLISHED
    return RestrictedPerson(
        name=row.person_name,
        kind=row.person_kind.value,
        role=row.role.value,
        role_label=PersonRole(row.role).label,
        id_masked=row.person_masked,
        debtor_name=subject.name if subject is not None else row.person_name,
        court=court.name,
        province=court.province,
        case_number=case.case_number if case is not None else "",
        since=row.since,
        measures=[catalogue.label(c) for c in catalogue.codes_of(row.measures)],
        listing_public_id=listing.public_id if published else None,
        order_public_id=order.public_id if order is not None and not published else None,
    )


# --------------------------------------------------------------------------------------------------
# Statistics


@dataclass(frozen=True)
class Statistics:
    today: date
    published: int
    persons: int
    organisations: int
    restricted_people: int
    by_province: list[tuple[str, int]]
    months: list[str]
    new_by_month: dict[str, int]
    removed_by_month: dict[str, dict[str, int]]  # month → reason label → count
    removal_reasons: list[str]
    #: Sanctions partners reported applying (hits), per month and measure: counts only (§4).
    hits: HitCounts
    #: Per active partner: its newest acknowledgement and its removals not acknowledged in time.
    partners: tuple[PartnerAcks, ...] = ()


@dataclass(frozen=True)
class PartnerAcks:
    """What the public sees of a partner's feedback (DOMAIN.md §4: the system proves when each
    removal was acknowledged): counts and times, never who was removed."""

    code: str
    name: str
    acked_seq: int
    acked_at: datetime | None
    overdue_removals: int
    oldest_overdue_at: datetime | None


_CACHE: dict[tuple, Statistics] = {}
#: Hits do not move the change log, so their counts are kept by age instead: recomputed when
#: older than this (a new hit shows within a minute, and the aggregate runs at most once a
#: minute per process however busy partners are).
HITS_MAX_AGE_SECONDS = 60.0
_HITS: dict[tuple, tuple[float, HitCounts]] = {}
_seconds = time.monotonic


def statistics(
    session: Session,
    *,
    today: date,
    months: int = 12,
    now: datetime | None = None,
    ack_deadline: timedelta | None = None,
) -> Statistics:
    """Current totals, published listings by province, per month the new publications and the
    removals by reason, and the hits partners reported per measure (the last ``months`` months).
    The list's figures are cached per process until the change log moves: every publication and
    removal appends to it, so a removal leaves the statistics at once, and otherwise the
    aggregates are read once, not on every request. The hits are cached for at most a minute
    (``hit_statistics``); the same object is returned while neither part changed."""
    from blacklist.changelog.writer import last_seq

    key = (str(session.get_bind().url), today, months, last_seq(session))
    hits = hit_statistics(session, today=today, months=months)
    partners = () if now is None else partner_acks(session, now=now, deadline=ack_deadline)
    cached = _CACHE.get(key)
    if cached is not None and cached.hits is hits and cached.partners is partners:
        return cached
    if cached is not None:
        result = replace(cached, hits=hits, partners=partners)
    else:
        result = _compute_statistics(session, today=today, months=months, hits=hits)
        result = replace(result, partners=partners)
    _CACHE.clear()
    _CACHE[key] = result
    return result


def hit_statistics(session: Session, *, today: date, months: int = 12) -> HitCounts:
    """Hits per measure and month (``partners.queries.hit_counts``), recomputed when older than
    ``HITS_MAX_AGE_SECONDS``: the public statistics and the staff feedback page share them."""
    key = (str(session.get_bind().url), today, months)
    now = _seconds()
    cached = _HITS.get(key)
    if cached is not None and now - cached[0] < HITS_MAX_AGE_SECONDS:
        return cached[1]
    counts = hit_counts(session, today=today, months=months)
    if len(_HITS) > 8:
        _HITS.clear()
    _HITS[key] = (now, counts)
    return counts


_ACKS: dict[tuple, tuple[float, tuple[PartnerAcks, ...]]] = {}


def partner_acks(
    session: Session, *, now: datetime, deadline: timedelta | None = None
) -> tuple[PartnerAcks, ...]:
    """Active partners' acknowledgement status (``partners.queries.ack_statuses``), recomputed when
    older than ``HITS_MAX_AGE_SECONDS`` (it costs a few queries per partner)."""
    from blacklist.partners.queries import DEFAULT_DEADLINE, ack_statuses

    deadline = deadline or DEFAULT_DEADLINE
    key = (str(session.get_bind().url), deadline)
    cached = _ACKS.get(key)
    if cached is not None and _seconds() - cached[0] < HITS_MAX_AGE_SECONDS:
        return cached[1]
    result = tuple(
        PartnerAcks(
            code=status.code,
            name=status.name,
            acked_seq=status.acked_seq,
            acked_at=status.acked_at,
            overdue_removals=status.overdue,
            oldest_overdue_at=status.overdue_since,
        )
        for status in ack_statuses(session, now=now, deadline=deadline)
        if status.is_active
    )
    if len(_ACKS) > 8:
        _ACKS.clear()
    _ACKS[key] = (_seconds(), result)
    return result


def clear_statistics_cache() -> None:
    _CACHE.clear()
    _HITS.clear()
    _ACKS.clear()


def _month_list(today: date, months: int) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def _compute_statistics(
    session: Session, *, today: date, months: int, hits: HitCounts
) -> Statistics:
    published = Listing.status == ListingStatus.PUBLISHED
    kinds = dict(
        session.execute(
            select(Subject.kind, func.count())
            .join(Listing, Listing.subject_id == Subject.id)
            .where(published)
            .group_by(Subject.kind)
        ).all()
    )
    persons = kinds.get(SubjectKind.PERSON, 0)
    organisations = kinds.get(SubjectKind.ORGANISATION, 0)
    restricted = (
        session.scalar(
            select(func.count(func.distinct(Restriction.person_hash))).where(
                Restriction.is_active.is_(True),
                Restriction.source_kind == SourceKind.CONSUMPTION_ORDER,
            )
        )
        or 0
    )
    by_province = session.execute(
        select(Court.province, func.count())
        .join(Listing, Listing.court_id == Court.id)
        .where(published)
        .group_by(Court.province)
        .order_by(func.count().desc(), Court.province)
    ).all()
    month_keys = _month_list(today, months)
    first = date(int(month_keys[0][:4]), int(month_keys[0][5:]), 1)
    new_by_month: Counter[str] = Counter()
    for day, count in session.execute(
        select(Listing.published_on, func.count())
        .where(Listing.published_on >= first, Listing.published_on <= today)
        .group_by(Listing.published_on)
    ):
        new_by_month[day.strftime("%Y-%m")] += count
    removed: dict[str, Counter[str]] = {m: Counter() for m in month_keys}
    reasons: set[str] = set()
    for day, kind, reason, count in session.execute(
        select(Listing.removed_on, Listing.removal_kind, Listing.removal_reason, func.count())
        .where(
            Listing.removed_on >= first,
            Listing.removed_on <= today,
            Listing.published_on.is_not(None),
        )
        .group_by(Listing.removed_on, Listing.removal_kind, Listing.removal_reason)
    ):
        label = _removal_label(kind, reason)
        reasons.add(label)
        removed[day.strftime("%Y-%m")][label] += count
    return Statistics(
        today=today,
        published=persons + organisations,
        persons=persons,
        organisations=organisations,
        restricted_people=restricted,
        by_province=[(p, c) for p, c in by_province],
        months=month_keys,
        new_by_month={m: new_by_month.get(m, 0) for m in month_keys},
        removed_by_month={m: dict(removed[m]) for m in month_keys},
        removal_reasons=sorted(reasons),
        hits=hits,
    )


def _removal_label(kind: RemovalKind | None, reason: str | None) -> str:
    from blacklist.listing.rules import REMOVAL_KIND_LABELS, DeletionReason

    if kind is RemovalKind.REVOKED:
        return "撤销"
    if kind is RemovalKind.EXPIRED:
        return "期满删除"
    try:
        return _SHORT_REASONS[DeletionReason(reason)]
    except (ValueError, KeyError):
        return REMOVAL_KIND_LABELS.get(kind, "删除") if kind else "删除"


def _short_reasons():
    from blacklist.listing.rules import DeletionReason as R

    return {
        R.PERFORMED: "履行完毕",
        R.SETTLEMENT_PERFORMED: "和解履行完毕",
        R.CREDITOR_REQUEST: "申请执行人申请",
        R.NO_ASSETS_AFTER_SEARCHES: "终本后无财产",
        R.SUSPENDED: "中止执行",
        R.NOT_ENFORCED: "不予执行",
        R.TERMINATED: "终结执行",
        R.CORRECTED_CONDUCT: "纠正失信行为",
        R.EXPIRED: "期满删除",
    }


_SHORT_REASONS = _short_reasons()

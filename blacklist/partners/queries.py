"""Read-only questions about partners (DOMAIN.md §4, DESIGN.md §6): where each partner's
acknowledgement and push stand, which removals a partner has not acknowledged in time, when a
removal was acknowledged, the delivery attempts, and the hits partners reported. No Flask, no
writes: the pages and the public statistics call these.

Removals must reach every partner at once (a debtor who paid must be able to board a train), so a
removal a partner has not acknowledged within the deadline (``PARTNER_ACK_DEADLINE_MINUTES``) is
*overdue*. Acks are cumulative: an ack of seq N covers every relevant change up to N. Lists of
removals that show personal data or listing links are limited to one court (``court_id``): a
change points at its entity (``restriction`` → ``restrictions.id``, ``listing`` → ``listings.id``),
and both carry the court. Counts are national and capped (``COUNT_CAP``) so that a partner that
stopped acknowledging long ago never makes a page count millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from blacklist.changelog.models import Change, ChangeAction
from blacklist.changelog.writer import last_seq
from blacklist.core.clock import CHINA_TZ
from blacklist.listing.models import Listing
from blacklist.partners.feed import SCAN_WINDOW
from blacklist.partners.models import DeliveryAttempt, Hit, Partner, PartnerAck, PushCursor
from blacklist.restrictions.catalogue import BY_CODE, MEASURES, codes_of
from blacklist.restrictions.models import Restriction

#: The default of ``PARTNER_ACK_DEADLINE_MINUTES`` (config.py).
DEFAULT_DEADLINE = timedelta(minutes=60)
#: Counts stop here ("1000+"): enough to tell a partner is badly behind.
COUNT_CAP = 1000
#: Rows a list shows at most.
LIST_LIMIT = 50

RECORD_TYPE_LABELS = {"restriction": "限制措施记录", "listing": "名单完整记录"}


def ack_deadline(minutes: int | str | None) -> timedelta:
    """The configured deadline (``PARTNER_ACK_DEADLINE_MINUTES``) as a period; the default when
    unset or not a positive number."""
    try:
        value = int(minutes) if minutes is not None else 0
    except (TypeError, ValueError):
        value = 0
    return timedelta(minutes=value) if value > 0 else DEFAULT_DEADLINE


# --------------------------------------------------------------------------------------------------
# Which changes concern a partner


def _relevant(partner: Partner) -> list:
    """The feed's relevance (``feed.changes_for``): the change's record type is in the partner's
    scope and its measures intersect the partner's."""
    return [
        Change.type.in_(partner.scope.types),
        Change.measures.op("&")(partner.measures) != 0,
    ]


def _overdue_conditions(partner: Partner, cutoff: datetime) -> list:
    """Removals relevant to the partner, past its cumulative ack, older than the cutoff. Removals
    from before the partner was registered are not its to acknowledge: a new partner starts from
    a snapshot of what is in force."""
    return [
        Change.action == ChangeAction.REMOVE,
        Change.seq > partner.acked_seq,
        Change.created_at <= cutoff,
        Change.created_at >= partner.created_at,
        *_relevant(partner),
    ]


def _court_of_change():
    """The court of a change's entity (a restriction or a listing), for outer joins below."""
    return func.coalesce(Restriction.court_id, Listing.court_id)


def _with_entities(statement):
    return statement.outerjoin(
        Restriction,
        and_(Change.entity_kind == "restriction", Restriction.id == Change.entity_id),
    ).outerjoin(Listing, and_(Change.entity_kind == "listing", Listing.id == Change.entity_id))


def _capped_count(session: Session, statement) -> int:
    """``count(*)`` of a select of seqs, reading at most ``COUNT_CAP + 1`` rows."""
    limited = statement.order_by(Change.seq).limit(COUNT_CAP + 1).subquery()
    return session.scalar(select(func.count()).select_from(limited)) or 0


# --------------------------------------------------------------------------------------------------
# Overdue removals


@dataclass(frozen=True)
class RemovalDetail:
    """Who a removal concerns, for staff of the removal's own court only."""

    name: str
    id_masked: str
    role_label: str
    case_number: str | None


@dataclass(frozen=True)
class OverdueRemoval:
    """A removal (change ``seq``) a partner has not acknowledged within the deadline."""

    partner_code: str
    partner_name: str
    seq: int
    record_type: str
    created_at: datetime
    #: How long it has waited for the ack.
    waiting: timedelta
    court_id: int | None
    listing_id: int | None
    detail: RemovalDetail | None = None

    @property
    def record_type_label(self) -> str:
        return RECORD_TYPE_LABELS.get(self.record_type, self.record_type)


@dataclass(frozen=True)
class OverdueRemovals:
    """Oldest first: at most ``limit`` items (of the court, if one was asked for) and the national
    ``count`` (capped at ``COUNT_CAP``; ``capped`` then says there are more)."""

    items: list[OverdueRemoval]
    count: int
    court_count: int | None = None

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP}+" if self.capped else str(self.count)

    @property
    def court_count_text(self) -> str:
        if self.court_count is None:
            return ""
        return f"{COUNT_CAP}+" if self.court_count > COUNT_CAP else str(self.court_count)


def overdue_removals(
    session: Session,
    partner: Partner,
    *,
    now: datetime,
    deadline: timedelta = DEFAULT_DEADLINE,
    court_id: int | None = None,
    limit: int = LIST_LIMIT,
) -> OverdueRemovals:
    """Removals relevant to ``partner`` with ``seq > acked_seq`` created at or before
    ``now - deadline``, oldest first. With ``court_id`` the items are that court's (with who they
    concern and the listing they belong to) and ``court_count`` counts them; without it the items
    carry no personal data. Served by ``ix_changes_action_seq`` (removals after the ack)."""
    cutoff = now - deadline
    conditions = _overdue_conditions(partner, cutoff)
    count = _capped_count(session, select(Change.seq).where(*conditions))
    court_count = None
    if count and court_id is not None:
        court_count = _capped_count(
            session,
            _with_entities(select(Change.seq)).where(*conditions, _court_of_change() == court_id),
        )
    if not count or limit <= 0 or court_count == 0:
        return OverdueRemovals([], count, court_count)
    statement = _with_entities(
        select(
            Change.seq,
            Change.type,
            Change.entity_kind,
            Change.entity_id,
            Change.created_at,
            _court_of_change().label("court_id"),
            func.coalesce(Restriction.listing_id, Listing.id).label("listing_id"),
        )
    ).where(*conditions)
    if court_id is not None:
        statement = statement.where(_court_of_change() == court_id)
    rows = session.execute(statement.order_by(Change.seq).limit(limit)).all()
    details = _details(session, rows) if court_id is not None else {}
    items = [
        OverdueRemoval(
            partner_code=partner.code,
            partner_name=partner.name,
            seq=row.seq,
            record_type=str(row.type),
            created_at=row.created_at,
            waiting=now - row.created_at,
            court_id=row.court_id,
            listing_id=row.listing_id,
            detail=details.get((row.entity_kind, row.entity_id)),
        )
        for row in rows
    ]
    return OverdueRemovals(items, count, court_count)


def _details(session: Session, rows: Iterable) -> dict[tuple[str, int], RemovalDetail]:
    """Who each removal concerns (the projection row, or the listing's subject): masked IDs."""
    restriction_ids = {r.entity_id for r in rows if r.entity_kind == "restriction"}
    listing_ids = {r.entity_id for r in rows if r.entity_kind == "listing"}
    details: dict[tuple[str, int], RemovalDetail] = {}
    if restriction_ids:
        for row in session.scalars(
            select(Restriction)
            .where(Restriction.id.in_(restriction_ids))
            .options(selectinload(Restriction.listing).selectinload(Listing.case))
        ):
            details[("restriction", row.id)] = RemovalDetail(
                name=row.person_name,
                id_masked=row.person_masked,
                role_label=row.role.label,
                case_number=row.listing.case.case_number if row.listing else None,
            )
    if listing_ids:
        for listing in session.scalars(
            select(Listing)
            .where(Listing.id.in_(listing_ids))
            .options(selectinload(Listing.subject), selectinload(Listing.case))
        ):
            details[("listing", listing.id)] = RemovalDetail(
                name=listing.subject.name,
                id_masked=listing.subject.id_masked,
                role_label="被执行人",
                case_number=listing.case.case_number,
            )
    return details


@dataclass(frozen=True)
class PartnerOverdue:
    """A partner with overdue removals: how many (national, and of one court), since when."""

    partner_id: int
    code: str
    name: str
    count: int
    oldest_at: datetime
    waiting: timedelta
    court_count: int | None = None

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def overdue_by_partner(
    session: Session,
    *,
    now: datetime,
    deadline: timedelta = DEFAULT_DEADLINE,
    court_id: int | None = None,
) -> list[PartnerOverdue]:
    """Active partners with removals not acknowledged in time, the longest waiting first (the
    dashboard panel). Counts only: no personal data."""
    cutoff = now - deadline
    found = []
    for partner in _active_partners(session):
        conditions = _overdue_conditions(partner, cutoff)
        oldest = session.scalar(
            select(Change.created_at).where(*conditions).order_by(Change.seq).limit(1)
        )
        if oldest is None:
            continue
        court_count = None
        if court_id is not None:
            court_count = _capped_count(
                session,
                _with_entities(select(Change.seq)).where(
                    *conditions, _court_of_change() == court_id
                ),
            )
        found.append(
            PartnerOverdue(
                partner_id=partner.id,
                code=partner.code,
                name=partner.name,
                count=_capped_count(session, select(Change.seq).where(*conditions)),
                oldest_at=oldest,
                waiting=now - oldest,
                court_count=court_count,
            )
        )
    return sorted(found, key=lambda p: (p.oldest_at, p.code))


def _active_partners(session: Session) -> list[Partner]:
    """A deactivated partner receives nothing and cannot acknowledge: it is not flagged."""
    return list(
        session.scalars(select(Partner).where(Partner.is_active.is_(True)).order_by(Partner.code))
    )


# --------------------------------------------------------------------------------------------------
# When a removal was acknowledged


def acknowledged_at(session: Session, partner_id: int, seq: int) -> datetime | None:
    """When the partner acknowledged change ``seq``: the first ack at or beyond it (acks are
    cumulative and only move forward), or None while it has not."""
    return session.scalar(
        select(PartnerAck.acked_at)
        .where(PartnerAck.partner_id == partner_id, PartnerAck.seq >= seq)
        .order_by(PartnerAck.seq, PartnerAck.id)
        .limit(1)
    )


@dataclass(frozen=True)
class RemovalReceipt:
    """Whether one partner has acknowledged one removal (the proof DOMAIN.md §4 asks for)."""

    code: str
    name: str
    acked_at: datetime | None


def removal_receipts(session: Session, seq: int) -> list[RemovalReceipt]:
    """For change ``seq``: every partner it is relevant to, and when each acknowledged it.
    Partners registered after the change are left out (it was never theirs)."""
    change = session.get(Change, seq)
    if change is None:
        return []
    receipts = []
    for partner in session.scalars(select(Partner).order_by(Partner.code)):
        if str(change.type) not in partner.scope.types or not change.measures & partner.measures:
            continue
        if partner.created_at > change.created_at:
            continue
        receipts.append(
            RemovalReceipt(partner.code, partner.name, acknowledged_at(session, partner.id, seq))
        )
    return receipts


# --------------------------------------------------------------------------------------------------
# Ack and push status per partner


@dataclass(frozen=True)
class PushStatus:
    """The push cursor of a partner with a webhook."""

    pushed_seq: int
    failures: int
    next_attempt_at: datetime
    last_error: str | None
    last_success_at: datetime | None
    in_flight: bool

    def is_waiting(self, now: datetime) -> bool:
        """Backing off after failures: the next attempt lies in the future."""
        return self.failures > 0 and self.next_attempt_at > now


@dataclass(frozen=True)
class PartnerStatus:
    id: int
    code: str
    name: str
    is_active: bool
    measures: list[str]
    scope_label: str
    has_webhook: bool
    acked_seq: int
    acked_at: datetime | None
    #: The newest seq of the change log.
    newest_seq: int
    #: Relevant changes after ``acked_seq`` (capped at ``COUNT_CAP``; ``lag_capped`` then).
    lag: int
    lag_capped: bool
    push: PushStatus | None
    overdue: int
    overdue_since: datetime | None

    @property
    def lag_text(self) -> str:
        return f"{self.lag}+" if self.lag_capped else str(self.lag)

    @property
    def overdue_text(self) -> str:
        return f"{COUNT_CAP}+" if self.overdue > COUNT_CAP else str(self.overdue)


def _lag(session: Session, partner: Partner, head: int) -> tuple[int, bool]:
    """Relevant changes the partner has not acknowledged, as the feed would give them (an upsert
    a later removal scrubbed is left out). Bounded like a feed page: at most ``COUNT_CAP`` counted
    within ``SCAN_WINDOW`` seqs."""
    if head <= partner.acked_seq:
        return 0, False
    upto = min(head, partner.acked_seq + SCAN_WINDOW)
    count = _capped_count(
        session,
        select(Change.seq).where(
            Change.seq > partner.acked_seq,
            Change.seq <= upto,
            or_(Change.action == ChangeAction.REMOVE, Change.payload.is_not(None)),
            *_relevant(partner),
        ),
    )
    if count > COUNT_CAP:
        return COUNT_CAP, True
    return count, upto < head


def ack_statuses(
    session: Session, *, now: datetime, deadline: timedelta = DEFAULT_DEADLINE
) -> list[PartnerStatus]:
    """Every partner (by code): its cumulative ack, what it has not acknowledged yet, its push
    cursor if it has a webhook, and its overdue removals (active partners only)."""
    head = last_seq(session)
    cutoff = now - deadline
    statuses = []
    partners = session.scalars(
        select(Partner).options(selectinload(Partner.cursor)).order_by(Partner.code)
    ).all()
    for partner in partners:
        lag, lag_capped = _lag(session, partner, head)
        overdue, since = 0, None
        if partner.is_active:
            conditions = _overdue_conditions(partner, cutoff)
            since = session.scalar(
                select(Change.created_at).where(*conditions).order_by(Change.seq).limit(1)
            )
            if since is not None:
                overdue = _capped_count(session, select(Change.seq).where(*conditions))
        cursor: PushCursor | None = partner.cursor
        push = None
        if partner.webhook_url and cursor is not None:
            push = PushStatus(
                pushed_seq=cursor.pushed_seq,
                failures=cursor.failures,
                next_attempt_at=cursor.next_attempt_at,
                last_error=cursor.last_error,
                last_success_at=cursor.last_success_at,
                in_flight=cursor.batch_id is not None,
            )
        statuses.append(
            PartnerStatus(
                id=partner.id,
                code=partner.code,
                name=partner.name,
                is_active=partner.is_active,
                measures=codes_of(partner.measures),
                scope_label=partner.scope.label,
                has_webhook=partner.webhook_url is not None,
                acked_seq=partner.acked_seq,
                acked_at=partner.acked_at,
                newest_seq=head,
                lag=lag,
                lag_capped=lag_capped,
                push=push,
                overdue=overdue,
                overdue_since=since,
            )
        )
    return statuses


def recent_deliveries(
    session: Session, *, partner_id: int | None = None, limit: int = 20
) -> list[DeliveryAttempt]:
    """The newest delivery attempts (of one partner, or of all), newest first."""
    statement = select(DeliveryAttempt).order_by(DeliveryAttempt.id.desc()).limit(limit)
    if partner_id is not None:
        statement = statement.where(DeliveryAttempt.partner_id == partner_id)
    return list(session.scalars(statement))


# --------------------------------------------------------------------------------------------------
# Hits (the feedback of trigger → response → feedback)


def month_keys(today: date, months: int) -> list[str]:
    """The last ``months`` months up to ``today``'s, oldest first: ``["2024-04", …, "2025-03"]``."""
    year, month = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def _month_start(key: str) -> datetime:
    """The first instant of a month in Beijing time, as UTC."""
    return datetime(int(key[:4]), int(key[5:]), 1, tzinfo=CHINA_TZ).astimezone(UTC)


def _next_month(key: str) -> str:
    year, month = int(key[:4]), int(key[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


@dataclass(frozen=True)
class HitCounts:
    """Hits per month (Beijing time, oldest first) and measure. Counts only."""

    months: list[str]
    #: Measure codes with at least one hit, in catalogue order.
    measures: list[str]
    by_month: dict[str, dict[str, int]]
    #: Hits reported for someone no longer bound by the measure (a partner's error), per month.
    not_in_force_by_month: dict[str, int] = field(default_factory=dict)

    def total(self, month: str) -> int:
        return sum(self.by_month.get(month, {}).values())

    @property
    def labels(self) -> list[str]:
        return [BY_CODE[code].label for code in self.measures]

    def by_label(self) -> dict[str, dict[str, int]]:
        """Month → measure label → count (the stacked chart's series)."""
        return {
            month: {BY_CODE[c].label: n for c, n in self.by_month.get(month, {}).items()}
            for month in self.months
        }


def hit_counts(session: Session, *, today: date, months: int = 12) -> HitCounts:
    """Hits per measure and month for the last ``months`` months (the month of ``today`` included),
    by when they happened in Beijing time. One aggregate: each hit's month is picked by a CASE over
    the months' UTC boundaries (the same SQL on SQLite and PostgreSQL; China has no daylight
    saving), then counted in an outer GROUP BY. The measure list lets PostgreSQL use
    ``ix_hits_measure_occurred_at``."""
    keys = month_keys(today, months)
    bounds = [(key, _month_start(_next_month(key))) for key in keys]
    month = case(*[(Hit.occurred_at < end, key) for key, end in bounds], else_=None)
    inner = (
        select(month.label("month"), Hit.measure.label("measure"), Hit.in_force.label("in_force"))
        .where(
            Hit.measure.in_([m.code for m in MEASURES]),
            Hit.occurred_at >= _month_start(keys[0]),
            Hit.occurred_at < bounds[-1][1],
        )
        .subquery()
    )
    rows = session.execute(
        select(inner.c.month, inner.c.measure, inner.c.in_force, func.count())
        .group_by(inner.c.month, inner.c.measure, inner.c.in_force)
    ).all()  # fmt: skip
    by_month: dict[str, dict[str, int]] = {key: {} for key in keys}
    not_in_force = dict.fromkeys(keys, 0)
    seen: set[str] = set()
    for key, measure, in_force, count in rows:
        if key not in by_month:
            continue
        by_month[key][measure] = by_month[key].get(measure, 0) + count
        seen.add(measure)
        if not in_force:
            not_in_force[key] += count
    order = [m.code for m in MEASURES if m.code in seen]
    return HitCounts(
        months=keys,
        measures=order,
        by_month={k: {c: v[c] for c in order if c in v} for k, v in by_month.items()},
        not_in_force_by_month=not_in_force,
    )


@dataclass(frozen=True)
class HitNotInForce:
    """A hit on someone the measure no longer bound, for the staff of the restriction's court."""

    id: int
    partner_code: str
    partner_name: str
    measure: str
    person_name: str
    id_masked: str
    occurred_at: datetime
    reported_at: datetime
    detail: str
    listing_id: int | None
    lifted_on: date | None

    @property
    def measure_label(self) -> str:
        return BY_CODE[self.measure].label if self.measure in BY_CODE else self.measure


def hits_not_in_force(
    session: Session, *, court_id: int, limit: int = LIST_LIMIT
) -> list[HitNotInForce]:
    """The newest hits reported for people no longer bound by the measure, about restrictions of
    ``court_id``: staff must see these (a sanction applied to someone who paid)."""
    rows = session.execute(
        select(Hit, Restriction, Partner.code, Partner.name)
        .join(Restriction, Restriction.id == Hit.restriction_id)
        .join(Partner, Partner.id == Hit.partner_id)
        .where(Hit.in_force.is_(False), Restriction.court_id == court_id)
        .order_by(Hit.occurred_at.desc(), Hit.id.desc())
        .limit(limit)
    ).all()
    return [
        HitNotInForce(
            id=hit.id,
            partner_code=code,
            partner_name=name,
            measure=hit.measure,
            person_name=restriction.person_name,
            id_masked=hit.person_masked,
            occurred_at=hit.occurred_at,
            reported_at=hit.reported_at,
            detail=hit.detail,
            listing_id=restriction.listing_id,
            lifted_on=restriction.lifted_on,
        )
        for hit, restriction, code, name in rows
    ]

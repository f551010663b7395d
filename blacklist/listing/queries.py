"""Read-only queries of the staff pages: the court's work queue on the dashboard, and what the
listing page shows beside the listing itself. Everything is limited to one court; nothing here
writes.

Deadlines are computed as the services compute them (``rules``, the court's working-day calendar):
deletions within three working days (Art. 10), a decision on a creditor's application within 15
days (Art. 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from blacklist.audit import services as audit
from blacklist.audit.models import AuditEntry
from blacklist.core.workdays import WorkdayCalendar
from blacklist.holidays.services import load_calendar
from blacklist.listing import rules
from blacklist.listing.models import Listing, Subject
from blacklist.listing.rules import ListingStatus
from blacklist.restrictions import catalogue
from blacklist.restrictions.queries import active_for_listing

#: Rows shown per dashboard section; the section says when there are more.
SECTION_LIMIT = 50
#: Terms ending within this many days are shown on the dashboard.
TERM_ENDING_DAYS = 30
#: Recent acts shown on the dashboard; sign-ins and sign-outs are left out (they are no acts on
#: the list, and would crowd the others out).
RECENT_ACTS = 20
#: Entries the "recent acts" panel leaves out: sessions, and the documents an act produced (the
#: act itself is listed) or that were downloaded.
_NOT_ACTS = frozenset({"staff.login", "staff.logout", "document.issued", "document.downloaded"})

T = TypeVar("T")


@dataclass(frozen=True)
class Due:
    """A listing with a deadline: ``left`` is counted in working days (``workdays``) or in plain
    days, negative when the deadline has passed."""

    listing: Listing
    due_on: date
    left: int
    workdays: bool = True
    soon_within: int = 1

    @property
    def urgency(self) -> str:
        """The CSS class of the row: "overdue" past the deadline, "soon" on it or just before."""
        if self.left < 0:
            return "overdue"
        if self.left <= self.soon_within:
            return "soon"
        return ""

    @property
    def left_text(self) -> str:
        unit = "个工作日" if self.workdays else "日"
        if self.left < 0:
            return f"已逾期{-self.left}{unit}"
        if self.left == 0:
            return "今日到期"
        return f"剩余{self.left}{unit}"


@dataclass(frozen=True)
class Section(Generic[T]):
    rows: list[T]
    more: bool = False


@dataclass(frozen=True)
class Dashboard:
    today: date
    drafts: Section[Listing]
    pending: Section[Listing]
    deletions_due: Section[Due]
    early_deletions: Section[Listing]
    grace_ending: Section[Due]
    creditor_applications: Section[Due]
    terms_ending: Section[Due]
    recent: list[AuditEntry]
    #: The debtor's name of each listing the recent acts are about, by listing id (as text).
    recent_names: dict[str, str]
    #: Years counted Monday–Friday because their official calendar is not entered yet (§7).
    fallback_years: list[int]


def _listings(session: Session, court_id: int, *conditions, order_by) -> Section[Listing]:
    rows = session.scalars(
        select(Listing)
        .where(Listing.court_id == court_id, *conditions)
        .options(selectinload(Listing.subject), selectinload(Listing.case))
        .order_by(*order_by)
        .limit(SECTION_LIMIT + 1)
    ).all()
    return Section(list(rows[:SECTION_LIMIT]), more=len(rows) > SECTION_LIMIT)


def _dues(section: Section[Listing], due) -> Section[Due]:
    return Section([due(listing) for listing in section.rows], section.more)


def dashboard(session: Session, *, court_id: int, today: date) -> Dashboard:
    """The court's work queue: what waits for a clerk or a judge, and by when."""
    calendar = load_calendar(session)
    live = (ListingStatus.APPROVED, ListingStatus.PUBLISHED)
    drafts = _listings(
        session,
        court_id,
        Listing.status == ListingStatus.DRAFT,
        order_by=[Listing.updated_at.desc()],
    )
    pending = _listings(
        session,
        court_id,
        Listing.status == ListingStatus.PENDING_APPROVAL,
        order_by=[Listing.updated_at],
    )
    deletions = _listings(
        session,
        court_id,
        Listing.status.in_(live),
        Listing.deletion_due_on.is_not(None),
        order_by=[Listing.deletion_due_on, Listing.id],
    )
    early = _listings(
        session,
        court_id,
        Listing.status == ListingStatus.PUBLISHED,
        Listing.early_deletion_proposed.is_(True),
        order_by=[Listing.updated_at],
    )
    grace = _listings(
        session,
        court_id,
        Listing.status == ListingStatus.APPROVED,
        Listing.publish_on.is_not(None),
        order_by=[Listing.publish_on, Listing.id],
    )
    applications = _listings(
        session,
        court_id,
        Listing.status.in_((ListingStatus.DRAFT, ListingStatus.PENDING_APPROVAL)),
        Listing.by_creditor.is_(True),
        Listing.applied_on.is_not(None),
        order_by=[Listing.applied_on, Listing.id],
    )
    terms = _listings(
        session,
        court_id,
        Listing.status == ListingStatus.PUBLISHED,
        Listing.ends_on.is_not(None),
        Listing.ends_on <= today + timedelta(days=TERM_ENDING_DAYS),
        order_by=[Listing.ends_on, Listing.id],
    )
    deletions_due = _dues(deletions, lambda item: deletion_due(calendar, item, today))
    grace_ending = _dues(
        grace,
        lambda item: Due(
            item, item.publish_on, (item.publish_on - today).days, workdays=False, soon_within=3
        ),
    )
    creditor_applications = _dues(
        applications, lambda item: creditor_application_due(calendar, item, today)
    )
    terms_ending = _dues(
        terms,
        lambda item: Due(
            item, item.ends_on, (item.ends_on - today).days, workdays=False, soon_within=7
        ),
    )
    recent = [
        entry
        for entry in audit.recent(session, court_id=court_id, limit=RECENT_ACTS * 5)
        if entry.action not in _NOT_ACTS
    ][:RECENT_ACTS]
    return Dashboard(
        today=today,
        drafts=drafts,
        pending=pending,
        deletions_due=deletions_due,
        early_deletions=early,
        grace_ending=grace_ending,
        creditor_applications=creditor_applications,
        terms_ending=terms_ending,
        recent=recent,
        recent_names=_listing_names(session, court_id, recent),
        fallback_years=sorted(calendar.fallback_years),
    )


def _listing_names(session: Session, court_id: int, entries: list[AuditEntry]) -> dict[str, str]:
    ids = {int(e.entity_id) for e in entries if e.entity_kind == "listing" and e.entity_id}
    if not ids:
        return {}
    rows = session.execute(
        select(Listing.id, Subject.name)
        .join(Subject, Subject.id == Listing.subject_id)
        .where(Listing.court_id == court_id, Listing.id.in_(ids))
    )
    return {str(listing_id): name for listing_id, name in rows}


def deletion_due(calendar: WorkdayCalendar, listing: Listing, today: date) -> Due:
    """Art. 10: a deletion falls due three working days after its trigger; what is left is
    counted in working days."""
    due_on = listing.deletion_due_on
    return Due(listing, due_on, calendar.workdays_between(today, due_on))


def creditor_application_due(calendar: WorkdayCalendar, listing: Listing, today: date) -> Due:
    """Art. 5: the court decides on a creditor's application within 15 days."""
    due_on = rules.creditor_application_due_on(calendar, listing.applied_on)
    return Due(listing, due_on, (due_on - today).days, workdays=False, soon_within=3)


# --------------------------------------------------------------------------------------------------
# The listing page


@dataclass(frozen=True)
class RestrictionRow:
    role_label: str
    name: str
    id_masked: str
    measures: list[str]
    source: str
    since: date


@dataclass(frozen=True)
class ListingFacts:
    """What the listing page shows besides the listing's own columns."""

    restrictions: list[RestrictionRow]
    deletion: Due | None
    creditor_application: Due | None
    age: int | None


_SOURCE_LABELS = {
    "listing": "失信名单联合惩戒",
    "consumption_order": "限制消费令",
    "exit_ban": "限制出境",
}


def restrictions_in_force(session: Session, listing_id: int) -> list[RestrictionRow]:
    """The measures that bind the debtor (and, for an organisation, its legal representative and
    the other people its listing binds) because of this listing, with their Chinese labels."""
    rows = active_for_listing(session, listing_id)
    return [
        RestrictionRow(
            role_label=row.role.label,
            name=row.person_name,
            id_masked=row.person_masked,
            measures=[catalogue.label(code) for code in catalogue.codes_of(row.measures)],
            source=_SOURCE_LABELS.get(row.source_kind.value, row.source_kind.value),
            since=row.since,
        )
        for row in rows
    ]


def listing_facts(session: Session, listing: Listing, today: date) -> ListingFacts:
    calendar = load_calendar(session)
    live = listing.status in (ListingStatus.APPROVED, ListingStatus.PUBLISHED)
    deletion = deletion_due(calendar, listing, today) if live and listing.deletion_due_on else None
    application = None
    if (
        listing.by_creditor
        and listing.applied_on
        and listing.status in (ListingStatus.DRAFT, ListingStatus.PENDING_APPROVAL)
    ):
        application = creditor_application_due(calendar, listing, today)
    birth = listing.subject.birth_date
    return ListingFacts(
        restrictions=restrictions_in_force(session, listing.id),
        deletion=deletion,
        creditor_application=application,
        age=rules.age_on(birth, today) if birth else None,
    )

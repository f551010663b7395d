"""The scheduler's jobs one by one (DESIGN.md §7; DOMAIN.md §2 Arts. 5, 9, 10, §4, §7, §8): each a
sweep over what is due now, idempotent, catching up after downtime, one transaction per listing,
and every run recorded (``JobRun``). Run through ``run_job`` (as the scheduler and ``run-once``
do) and through the job functions directly, on the fixed clock of the fixtures.

On SQLite every transaction takes the write lock (``BEGIN IMMEDIATE``): the test's own ``session``
must not hold one while a job runs, so jobs are started through ``run``/``call``, which commit the
test's session first and expire it afterwards (the job changed rows behind its back)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, or_, select, text

from blacklist.audit.models import AuditEntry
from blacklist.changelog import listing_changes
from blacklist.changelog.models import Change, ChangeAction
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor
from blacklist.core.clock import CHINA_TZ
from blacklist.core.errors import NotFound
from blacklist.holidays import services as calendar
from blacklist.listing import services
from blacklist.listing.inputs import ApplicationIn, ApprovalIn, PaymentIn
from blacklist.listing.models import Listing
from blacklist.listing.rules import ListingStatus, RemovalKind
from blacklist.partners import services as partner_services
from blacklist.partners.models import Partner
from blacklist.restrictions.models import OrderStatus, Restriction, RestrictionOrder, SourceKind
from blacklist.scheduler import jobs
from blacklist.scheduler.jobs import JOBS, MAX_ERRORS, JobContext, Outcome, run_job
from blacklist.scheduler.models import Alert, AlertSeverity, JobRun, RunStatus
from tests.factories import (
    WATCHED_TABLES,
    fast_password_hashing,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
    table_contents,
)
from tests.partner_factories import register_partner

SYSTEM = Actor.system("test")
#: Everything a job may change (``job_runs`` aside, which every run appends to).
TABLES = (*WATCHED_TABLES, "alerts", "partners")
SWEEPS = ("publish_after_grace", "deletions_due", "expire_terms")


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture(autouse=True)
def _holidays(session, clock):
    """The 2025 working-day calendar (Spring Festival, Qingming...), as a court keeps it."""
    calendar.seed_from_chinesecalendar(session, actor=SYSTEM, clock=clock, years=[2025])
    session.commit()


@pytest.fixture
def court(session, clock):
    actors = setup_court(session, clock)
    session.commit()
    return actors


@pytest.fixture
def run(database, session, clock):
    """``run(name, **settings)``: ``run_job`` on the test clock, the test's session out of the way."""

    def run(name: str, **settings) -> JobRun:
        session.commit()
        try:
            return run_job(name, JobContext(database, clock, settings=settings))
        finally:
            session.expire_all()

    return run


@pytest.fixture
def call(database, session, clock):
    """``call(job_function, **settings)``: the job function itself, without a run record."""

    def call(func, **settings) -> Outcome:
        session.commit()
        try:
            return func(JobContext(database, clock, settings=settings))
        finally:
            session.expire_all()

    return call


# --------------------------------------------------------------------------------------------------
# Building the list


def person(n: int, **kwargs):
    return person_draft(
        name=f"测试{n}",
        id_number=resident_id(sequence=f"{n:03d}"),
        case_number=f"(2024)京0105执{1000 + n}号",
        **kwargs,
    )


def publish(session, clock, court, n: int, *, decided_on=None, **kwargs) -> Listing:
    listing = publish_listing(session, clock, court, person(n, **kwargs), decided_on=decided_on)
    session.commit()
    return listing


def publish_termed(session, clock, court, n: int, *, ends_on: date) -> Listing:
    """A listing on ground ``evades`` (two years, Art. 2) decided two years before ``ends_on``
    (its case filed long before, so that the decision date may lie in the past)."""
    draft = person(n, grounds=("evades",))
    draft = dataclasses.replace(
        draft, case=dataclasses.replace(draft.case, filed_on=date(2020, 1, 2))
    )
    decided_on = ends_on.replace(year=ends_on.year - 2)
    listing = publish_listing(session, clock, court, draft, decided_on=decided_on)
    session.commit()
    assert listing.ends_on == ends_on
    return listing


def pay_in_full(session, clock, court, listing, on: date | None = None) -> Listing:
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("100000.00"), on or clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    return listing


def pay_part(session, clock, court, listing) -> None:
    services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("100.00"), clock.today()),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()


def status_of(session, listing_id: int) -> ListingStatus:
    return session.scalar(select(Listing.status).where(Listing.id == listing_id))


def removal_entries(session, listing_id: int) -> list[AuditEntry]:
    """The audit entries that removed the listing (deleted, revoked, expired)."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_kind == "listing",
                AuditEntry.entity_id == str(listing_id),
                AuditEntry.action.in_(("listing.deleted", "listing.revoked", "listing.expired")),
            )
            .order_by(AuditEntry.seq)
        )
    )


def actions(session, listing_id: int) -> list[str]:
    return [
        e.action
        for e in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_kind == "listing", AuditEntry.entity_id == str(listing_id))
            .order_by(AuditEntry.seq)
        )
    ]


def rows_of(session, listing_id: int) -> dict[str, list]:
    """Every row that belongs to one listing: the listing, its payments, its consumption order,
    its restriction rows, its documents, its audit entries and theirs, its change-log items and
    theirs."""

    def rows(sql: str, **params) -> list:
        return sorted((tuple(r) for r in session.execute(text(sql), params)), key=repr)

    order_ids = [
        str(i)
        for (i,) in rows("SELECT id FROM restriction_orders WHERE listing_id = :i", i=listing_id)
    ]
    restriction_ids = [
        i for (i,) in rows("SELECT id FROM restrictions WHERE listing_id = :i", i=listing_id)
    ]
    document_ids = [
        str(i) for (i,) in rows("SELECT id FROM documents WHERE listing_id = :i", i=listing_id)
    ]
    audit = select(AuditEntry.seq).where(
        or_(
            (AuditEntry.entity_kind == "listing") & (AuditEntry.entity_id == str(listing_id)),
            (AuditEntry.entity_kind == "restriction_order") & AuditEntry.entity_id.in_(order_ids),
            (AuditEntry.entity_kind == "document") & AuditEntry.entity_id.in_(document_ids),
        )
    )
    changes = select(Change.seq).where(
        or_(
            (Change.entity_kind == "listing") & (Change.entity_id == listing_id),
            (Change.entity_kind == "restriction") & Change.entity_id.in_(restriction_ids),
        )
    )
    return {
        "listing": rows("SELECT * FROM listings WHERE id = :i", i=listing_id),
        "performances": rows("SELECT * FROM performances WHERE listing_id = :i", i=listing_id),
        "orders": rows("SELECT * FROM restriction_orders WHERE listing_id = :i", i=listing_id),
        "restrictions": rows("SELECT * FROM restrictions WHERE listing_id = :i", i=listing_id),
        "documents": rows("SELECT * FROM documents WHERE listing_id = :i", i=listing_id),
        "audit": sorted(session.scalars(audit)),
        "changes": sorted(session.scalars(changes)),
    }


def open_alerts(session, kind: str | None = None) -> dict[str, Alert]:
    query = select(Alert).where(Alert.resolved_at.is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    return {a.key: a for a in session.scalars(query)}


def beijing(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


# --------------------------------------------------------------------------------------------------
# The registry


def test_the_registry_has_the_jobs_of_the_issue_with_fixed_names():
    assert set(JOBS) == {
        "publish_after_grace",
        "deletions_due",
        "expire_terms",
        "deadline_alerts",
        "verify_audit",
        "prune_feed",
    }
    assert all(job.name == name for name, job in JOBS.items())
    assert JOBS["verify_audit"].trigger[0] == "cron"  # nightly
    assert all(JOBS[name].at_start for name in SWEEPS)  # the sweeps catch up at start


def test_an_unknown_job_is_refused_and_nothing_is_recorded(database, session, clock):
    with pytest.raises(KeyError):
        run_job("no_such_job", JobContext(database, clock))
    assert session.scalar(select(func.count()).select_from(JobRun)) == 0


# --------------------------------------------------------------------------------------------------
# publish_after_grace (SPC 2019 opinion on 善意文明执行)


def test_a_listing_is_published_by_the_sweep_on_the_day_its_grace_period_ends(
    session, clock, court, run
):
    listing = publish(session, clock, court, 1, grace_days=30)
    assert (listing.status, listing.publish_on) == (ListingStatus.APPROVED, date(2025, 4, 2))

    clock.set(date(2025, 4, 1))
    job_run = run("publish_after_grace")
    assert (job_run.status, job_run.rows_touched, job_run.summary) == (
        RunStatus.OK,
        0,
        "0 listing(s) published",
    )
    assert status_of(session, listing.id) is ListingStatus.APPROVED
    assert session.scalar(select(func.count()).select_from(Restriction)) == 0

    clock.set(date(2025, 4, 2))
    job_run = run("publish_after_grace")
    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (RunStatus.OK, 1, 0)
    assert job_run.summary == "1 listing(s) published"
    listing = session.get(Listing, listing.id)
    assert (listing.status, listing.published_on) == (ListingStatus.PUBLISHED, date(2025, 4, 2))
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_kind == "listing", AuditEntry.entity_id == str(listing.id))
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert (entry.action, entry.actor_kind, entry.actor_name) == (
        "listing.published",
        "system",
        "scheduler",
    )
    active = session.scalars(
        select(Restriction.source_kind).where(
            Restriction.listing_id == listing.id, Restriction.is_active.is_(True)
        )
    ).all()
    assert sorted(k.value for k in active) == ["consumption_order", "listing"]
    assert session.scalar(
        select(func.count())
        .select_from(Change)
        .where(Change.entity_kind == "listing", Change.action == ChangeAction.UPSERT)
    )

    before = table_contents(session, TABLES)
    clock.set(date(2025, 4, 9))  # a later run finds nothing left to do
    again = run("publish_after_grace")
    assert (again.status, again.rows_touched) == (RunStatus.OK, 0)
    assert table_contents(session, TABLES) == before


def test_the_publication_sweep_function_publishes_what_is_due_and_nothing_else(
    session, clock, court, call
):
    due = publish(session, clock, court, 1, grace_days=30)  # 2 April
    later = publish(session, clock, court, 2, grace_days=60)  # 2 May
    at_once = publish(session, clock, court, 3)  # published on approval
    clock.set(date(2025, 4, 15))

    outcome = call(jobs.publish_after_grace)

    assert (outcome.touched, outcome.failed, outcome.errors) == (1, 0, [])
    assert status_of(session, due.id) is ListingStatus.PUBLISHED
    assert status_of(session, later.id) is ListingStatus.APPROVED
    assert session.get(Listing, at_once.id).published_on == date(2025, 3, 3)
    # Caught up late (the scheduler was down on 2 April): published on the day it ran.
    assert session.get(Listing, due.id).published_on == date(2025, 4, 15)


def test_a_listing_fully_performed_during_its_grace_period_is_never_published(
    session, clock, court, run
):
    performed = publish(session, clock, court, 1, grace_days=30)  # due for publication 2 April
    partly = publish(session, clock, court, 2, grace_days=30)
    clock.set(date(2025, 3, 31))
    pay_in_full(session, clock, court, performed)
    pay_part(session, clock, court, partly)
    assert performed.deletion_due_on == date(2025, 4, 3)  # three working days (Art. 10)

    clock.set(date(2025, 4, 2))
    job_run = run("publish_after_grace")

    assert job_run.rows_touched == 1
    assert status_of(session, performed.id) is ListingStatus.APPROVED
    assert status_of(session, partly.id) is ListingStatus.PUBLISHED  # a part payment is not enough
    assert "listing.published" not in actions(session, performed.id)

    clock.set(date(2025, 4, 3))
    assert run("deletions_due").rows_touched == 1
    gone = session.get(Listing, performed.id)
    assert (gone.status, gone.removal_kind, gone.removal_reason, gone.published_on) == (
        ListingStatus.REMOVED,
        RemovalKind.DELETED,
        "performed",
        None,
    )
    # Never published, so never sent to partners.
    assert not session.scalars(
        select(Change).where(Change.entity_kind == "listing", Change.entity_id == performed.id)
    ).all()
    assert run("publish_after_grace").rows_touched == 0
    assert status_of(session, performed.id) is ListingStatus.REMOVED


# --------------------------------------------------------------------------------------------------
# deletions_due (Art. 10, DOMAIN.md §7)


def test_a_debt_paid_on_27_january_is_deleted_by_the_sweep_on_7_february_and_not_before(
    session, clock, court, run
):
    """DOMAIN.md §7: Spring Festival 2025 (off 28 Jan – 4 Feb, Sun 26 Jan and Sat 8 Feb worked):
    a listing without a term paid in full on Mon 27 January is deleted on Fri 7 February."""
    clock.set(date(2025, 1, 20))
    listing = publish(session, clock, court, 1)  # ground 1 alone: no term
    assert listing.ends_on is None
    clock.set(date(2025, 1, 27))
    pay_in_full(session, clock, court, listing, date(2025, 1, 27))
    assert listing.deletion_due_on == date(2025, 2, 7)

    for day in (date(2025, 1, 28), date(2025, 2, 4), date(2025, 2, 5), date(2025, 2, 6)):
        clock.set(day)
        job_run = run("deletions_due")
        assert (job_run.status, job_run.rows_touched) == (RunStatus.OK, 0), day
        assert status_of(session, listing.id) is ListingStatus.PUBLISHED, day
    clock.set(beijing(date(2025, 2, 6), 23, 59))  # the last minute before, Beijing time
    assert run("deletions_due").rows_touched == 0
    assert status_of(session, listing.id) is ListingStatus.PUBLISHED

    clock.set(beijing(date(2025, 2, 7), 0, 1))  # 16:01 UTC on the 6th: already the 7th in Beijing
    job_run = run("deletions_due")

    assert (job_run.status, job_run.rows_touched, job_run.summary) == (
        RunStatus.OK,
        1,
        "1 listing(s) deleted",
    )
    listing = session.get(Listing, listing.id)
    assert (listing.status, listing.removal_kind, listing.removal_reason) == (
        ListingStatus.REMOVED,
        RemovalKind.DELETED,
        "performed",
    )
    assert (listing.removed_on, listing.removed_by_id) == (date(2025, 2, 7), None)
    [entry] = removal_entries(session, listing.id)
    assert (entry.action, entry.actor_kind, entry.actor_name, entry.actor_id) == (
        "listing.deleted",
        "system",
        "scheduler",
        None,
    )
    assert entry.after["reason"] == "performed"
    assert not session.scalars(
        select(Restriction).where(
            Restriction.listing_id == listing.id, Restriction.is_active.is_(True)
        )
    ).all()
    [removal] = session.scalars(
        select(Change).where(
            Change.entity_kind == "listing",
            Change.entity_id == listing.id,
            Change.action == ChangeAction.REMOVE,
        )
    ).all()
    assert removal.created_at == clock.now()

    before = table_contents(session, TABLES)
    clock.set(date(2025, 2, 10))
    assert run("deletions_due").rows_touched == 0
    assert table_contents(session, TABLES) == before


def test_a_judge_who_deletes_first_leaves_nothing_for_the_sweep(session, clock, court, run):
    clock.set(date(2025, 1, 20))
    listing = publish(session, clock, court, 1)
    clock.set(date(2025, 1, 27))
    pay_in_full(session, clock, court, listing, date(2025, 1, 27))
    clock.set(date(2025, 2, 5))
    services.delete_listing(session, listing.id, "performed", actor=court["judge"], clock=clock)
    session.commit()
    before = table_contents(session, TABLES)

    clock.set(date(2025, 2, 7))
    job_run = run("deletions_due")

    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (RunStatus.OK, 0, 0)
    assert table_contents(session, TABLES) == before
    [entry] = removal_entries(session, listing.id)
    assert (entry.actor_kind, entry.actor_id) == ("staff", court["judge"].user_id)
    listing = session.get(Listing, listing.id)
    assert (listing.removed_on, listing.removed_by_id) == (date(2025, 2, 5), court["judge"].user_id)


def test_the_deletion_sweep_leaves_termed_and_unperformed_listings_alone(
    session, clock, court, call
):
    termed = publish(session, clock, court, 1, grounds=("evades",))
    unpaid = publish(session, clock, court, 2)
    partly = publish(session, clock, court, 3)
    pay_in_full(session, clock, court, termed)  # Art. 2: the judge *may* delete early
    pay_part(session, clock, court, partly)
    assert session.get(Listing, termed.id).early_deletion_proposed is True
    before = table_contents(session, TABLES)

    clock.set(date(2025, 6, 2))
    outcome = call(jobs.deletions_due)

    assert (outcome.touched, outcome.failed) == (0, 0)
    assert table_contents(session, TABLES) == before
    for listing in (termed, unpaid, partly):
        assert status_of(session, listing.id) is ListingStatus.PUBLISHED


# --------------------------------------------------------------------------------------------------
# expire_terms (Art. 10, DOMAIN.md §3)


def test_a_termed_listing_is_deleted_as_expired_on_the_first_run_after_its_term_ends(
    session, clock, court, run
):
    termed = publish(session, clock, court, 1, grounds=("evades",))  # 2025-03-03 + 2 years
    extended = publish(session, clock, court, 2, grounds=("obstructs",))
    untermed = publish(session, clock, court, 3)
    services.extend_listing(session, extended.id, 1, "多次失信", actor=court["judge"], clock=clock)
    session.commit()
    assert (termed.ends_on, extended.ends_on) == (date(2027, 3, 3), date(2028, 3, 3))

    clock.set(date(2027, 3, 2))
    assert run("expire_terms").rows_touched == 0
    assert status_of(session, termed.id) is ListingStatus.PUBLISHED

    clock.set(date(2027, 3, 3))
    job_run = run("expire_terms")

    assert (job_run.status, job_run.rows_touched, job_run.summary) == (
        RunStatus.OK,
        1,
        "1 listing(s) expired",
    )
    listing = session.get(Listing, termed.id)
    assert (listing.status, listing.removal_kind, listing.removal_reason, listing.removed_on) == (
        ListingStatus.REMOVED,
        RemovalKind.EXPIRED,
        "expired",
        date(2027, 3, 3),
    )
    [entry] = removal_entries(session, termed.id)
    assert (entry.action, entry.actor_kind, entry.actor_name) == (
        "listing.expired",
        "system",
        "scheduler",
    )
    # DOMAIN.md §3: expiry does not lift the consumption order of an unperformed obligation.
    order = session.scalar(select(RestrictionOrder).where(RestrictionOrder.listing_id == termed.id))
    assert order.status is OrderStatus.ACTIVE
    rows = session.scalars(select(Restriction).where(Restriction.listing_id == termed.id)).all()
    assert {(r.source_kind, r.is_active) for r in rows} == {
        (SourceKind.LISTING, False),
        (SourceKind.CONSUMPTION_ORDER, True),
    }
    assert status_of(session, extended.id) is ListingStatus.PUBLISHED
    assert status_of(session, untermed.id) is ListingStatus.PUBLISHED

    before = table_contents(session, TABLES)
    clock.set(date(2027, 3, 10))
    assert run("expire_terms").rows_touched == 0
    assert table_contents(session, TABLES) == before

    clock.set(date(2035, 1, 1))  # a listing without a term never expires
    assert run("expire_terms").rows_touched == 1  # the extended one, in 2028
    assert status_of(session, extended.id) is ListingStatus.REMOVED
    assert status_of(session, untermed.id) is ListingStatus.PUBLISHED


def test_the_expiry_sweep_function_catches_up_on_a_term_that_ended_while_it_was_down(
    session, clock, court, call
):
    listing = publish_termed(session, clock, court, 1, ends_on=date(2025, 2, 28))
    assert listing.status is ListingStatus.PUBLISHED  # signed today, decided two years ago

    outcome = call(jobs.expire_terms)

    assert (outcome.touched, outcome.failed, outcome.summary) == (1, 0, "1 listing(s) expired")
    assert status_of(session, listing.id) is ListingStatus.REMOVED
    assert session.get(Listing, listing.id).removed_on == clock.today()


# --------------------------------------------------------------------------------------------------
# Every job twice: the second run changes nothing


@pytest.fixture
def busy_list(session, clock, court):
    """Something for every job to do on Thu 2025-03-06 10:00: a deletion due, a term ended, a grace
    period ended, deadlines close (alerts), an old change log (pruning)."""
    clock.set(date(2025, 1, 27))
    publish(session, clock, court, 9)  # old changes, for prune_feed
    clock.set(date(2025, 3, 3))
    paid = publish(session, clock, court, 1)
    pay_in_full(session, clock, court, paid, date(2025, 3, 3))  # due Thu 6 March
    later = publish(session, clock, court, 2)
    clock.set(date(2025, 3, 5))
    pay_in_full(session, clock, court, later, date(2025, 3, 5))  # due Mon 10 March
    publish_termed(session, clock, court, 3, ends_on=date(2025, 3, 5))
    publish(session, clock, court, 4, grace_days=30, decided_on=date(2025, 2, 4))  # 6 March
    services.create_draft(
        session,
        person(5, application=ApplicationIn(True, "王五", date(2025, 2, 10))),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    clock.set(date(2025, 3, 6))


@pytest.mark.parametrize("name", list(JOBS))
def test_running_a_job_a_second_time_changes_nothing(session, clock, busy_list, run, name):
    first = run(name)
    assert first.status in (RunStatus.OK, RunStatus.PARTIAL)
    if name in (*SWEEPS, "deadline_alerts", "prune_feed"):
        assert first.rows_touched > 0, first.summary  # the scenario gives every job work to do
    before = table_contents(session, TABLES)

    second = run(name)

    assert table_contents(session, TABLES) == before
    assert second.status is first.status
    if name == "verify_audit":
        assert second.rows_touched == first.rows_touched  # entries checked, none changed
    else:
        assert second.rows_touched == 0, second.summary


# --------------------------------------------------------------------------------------------------
# Catching up after downtime, clock jumps


def test_one_run_after_three_days_of_downtime_does_each_due_listing_exactly_once(
    session, clock, court, run
):
    # Mon 3 March: the scheduler runs, nothing is due yet.
    a = publish(session, clock, court, 1)
    pay_in_full(session, clock, court, a, date(2025, 2, 27))  # due Tue 4 March
    b = publish(session, clock, court, 2)
    pay_in_full(session, clock, court, b, date(2025, 2, 28))  # due Wed 5 March
    c = publish(session, clock, court, 3)
    pay_in_full(session, clock, court, c, date(2025, 3, 3))  # due Thu 6 March
    termed = publish_termed(session, clock, court, 4, ends_on=date(2025, 3, 5))
    graced = publish(session, clock, court, 5, grace_days=30, decided_on=date(2025, 2, 3))
    assert (a.deletion_due_on, b.deletion_due_on, c.deletion_due_on) == (
        date(2025, 3, 4),
        date(2025, 3, 5),
        date(2025, 3, 6),
    )
    assert graced.publish_on == date(2025, 3, 5)
    for name in SWEEPS:
        assert run(name).rows_touched == 0, name

    # Tue–Thu: the scheduler is down; a payment is recorded meanwhile.
    clock.set(date(2025, 3, 5))
    late = publish(session, clock, court, 6)
    pay_in_full(session, clock, court, late, date(2025, 3, 5))  # due Mon 10 March

    # Thu 6 March, 15:00: back. One run of each sweep catches up.
    clock.set(beijing(date(2025, 3, 6), 15))
    touched = {name: run(name).rows_touched for name in SWEEPS}

    assert touched == {"publish_after_grace": 1, "deletions_due": 3, "expire_terms": 1}
    for listing in (a, b, c):
        [entry] = removal_entries(session, listing.id)
        assert (entry.action, entry.actor_name) == ("listing.deleted", "scheduler")
        assert session.get(Listing, listing.id).removed_on == date(2025, 3, 6)
    [entry] = removal_entries(session, termed.id)
    assert entry.action == "listing.expired"
    assert status_of(session, graced.id) is ListingStatus.PUBLISHED
    assert status_of(session, late.id) is ListingStatus.PUBLISHED

    before = table_contents(session, TABLES)
    assert {name: run(name).rows_touched for name in SWEEPS} == dict.fromkeys(SWEEPS, 0)
    assert table_contents(session, TABLES) == before

    clock.set(date(2025, 3, 10))
    assert run("deletions_due").rows_touched == 1
    assert len(removal_entries(session, late.id)) == 1


def test_a_clock_that_jumps_back_and_forth_deletes_nothing_twice_and_nothing_early(
    session, clock, court, run
):
    a = publish(session, clock, court, 1)
    pay_in_full(session, clock, court, a, date(2025, 3, 3))  # due Thu 6 March
    b = publish(session, clock, court, 2)
    pay_in_full(session, clock, court, b, date(2025, 3, 3))
    later = publish(session, clock, court, 3)
    clock.set(date(2025, 3, 6))
    pay_in_full(session, clock, court, later, date(2025, 3, 6))  # due Tue 11 March

    assert run("deletions_due").rows_touched == 2
    after_first = table_contents(session, TABLES)

    for moment in (
        beijing(date(2025, 3, 3), 9),  # back three days (an NTP step, a restored VM snapshot)
        beijing(date(2025, 3, 6), 10),
        beijing(date(2025, 3, 7), 10),  # forward again
        beijing(date(2025, 3, 5), 23, 59),
        beijing(date(2025, 3, 10), 10),
    ):
        clock.set(moment)
        assert run("deletions_due").rows_touched == 0, moment
        assert table_contents(session, TABLES) == after_first, moment

    for listing in (a, b):
        assert len(removal_entries(session, listing.id)) == 1
    assert status_of(session, later.id) is ListingStatus.PUBLISHED
    clock.set(date(2025, 3, 11))
    assert run("deletions_due").rows_touched == 1
    assert len(removal_entries(session, later.id)) == 1


# --------------------------------------------------------------------------------------------------
# Faults: a row that fails, a crash mid-sweep


@pytest.fixture
def three_due(session, clock, court):
    """Three listings without a term, paid in full on Mon 3 March: due Thu 6 March."""
    listings = []
    for n in (1, 2, 3):
        listing = publish(session, clock, court, n)
        pay_in_full(session, clock, court, listing)
        listings.append(listing)
    clock.set(date(2025, 3, 6))
    return listings


def fail_change_log_for(monkeypatch, listing_id: int, error: BaseException) -> list[int]:
    """Make the change-log handler raise ``error`` for one listing, after the restrictions
    projection has written (restriction rows lifted, changes appended, audit entries added), i.e.
    after the service's first writes. Returns the listing ids it was called for."""
    original = listing_changes.handle
    seen: list[int] = []

    def handle(session, event, *, clock):
        seen.append(event.listing.id)
        original(session, event, clock=clock)
        session.flush()
        if event.listing.id == listing_id:
            raise error

    monkeypatch.setattr(listing_changes, "handle", handle)
    return seen


def test_a_row_that_fails_is_recorded_and_the_sweep_goes_on_with_the_others(
    session, clock, three_due, run, monkeypatch
):
    first, bad, last = three_due
    untouched = rows_of(session, bad.id)
    fail_change_log_for(monkeypatch, bad.id, RuntimeError("change log unavailable"))

    job_run = run("deletions_due")

    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (
        RunStatus.PARTIAL,
        2,
        1,
    )
    assert job_run.summary == "2 listing(s) deleted, 1 failed"
    assert job_run.errors == [
        {"row": f"listing:{bad.id}", "error": "RuntimeError: change log unavailable"}
    ]
    assert job_run.finished_at is not None
    stored = session.get(JobRun, job_run.id)
    assert (stored.status, stored.rows_failed, stored.errors) == (
        RunStatus.PARTIAL,
        1,
        job_run.errors,
    )
    assert status_of(session, first.id) is ListingStatus.REMOVED
    assert status_of(session, last.id) is ListingStatus.REMOVED
    assert rows_of(session, bad.id) == untouched  # nothing half-done

    monkeypatch.undo()
    job_run = run("deletions_due")
    assert (job_run.status, job_run.rows_touched, job_run.errors) == (RunStatus.OK, 1, None)
    assert status_of(session, bad.id) is ListingStatus.REMOVED
    for listing in three_due:
        assert len(removal_entries(session, listing.id)) == 1


def test_a_crash_inside_the_first_deletion_leaves_the_list_exactly_as_it_was(
    session, three_due, run, monkeypatch
):
    first = three_due[0]
    before = table_contents(session, TABLES)
    seen = fail_change_log_for(monkeypatch, first.id, KeyboardInterrupt())

    with pytest.raises(KeyboardInterrupt):
        run("deletions_due")

    assert seen == [first.id]  # it crashed in the middle of the first listing
    assert table_contents(session, TABLES) == before


def test_a_crash_mid_sweep_leaves_no_half_done_listing(session, three_due, run, monkeypatch):
    """A crash (the process killed) stores nothing of the batch it interrupts: the listing being
    deleted is not half done, and the one deleted before it in the same batch (one transaction,
    ``jobs.SWEEP_BATCH``) is rolled back with it; all stay due and the next run deletes each once."""
    first, crashed, _never = three_due
    untouched = {listing.id: rows_of(session, listing.id) for listing in three_due}
    head = session.scalar(select(func.max(AuditEntry.seq)))
    seen = fail_change_log_for(monkeypatch, crashed.id, KeyboardInterrupt())

    with pytest.raises(KeyboardInterrupt):
        run("deletions_due")

    assert seen == [first.id, crashed.id]
    for listing_id, rows in untouched.items():
        assert rows_of(session, listing_id) == rows
    assert status_of(session, first.id) is ListingStatus.PUBLISHED
    assert session.scalars(select(AuditEntry.seq).where(AuditEntry.seq > head)).all() == []

    monkeypatch.undo()
    assert run("deletions_due").rows_touched == 3
    for listing in three_due:
        assert len(removal_entries(session, listing.id)) == 1


def test_a_crash_between_two_listings_leaves_the_rest_for_the_next_run(
    session, three_due, run, monkeypatch
):
    """Batches already committed stay done: with batches of two, a crash on the third listing keeps
    the first two deleted and leaves the third for the next run."""
    monkeypatch.setattr(jobs, "SWEEP_BATCH", 2)
    third = three_due[2]
    untouched = rows_of(session, third.id)
    original = services.carry_out_due_deletion
    calls = []

    def crash_on_the_third(session, listing_id, **kwargs):
        calls.append(listing_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(session, listing_id, **kwargs)

    monkeypatch.setattr(services, "carry_out_due_deletion", crash_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run("deletions_due")

    assert [status_of(session, x.id) for x in three_due] == [
        ListingStatus.REMOVED,
        ListingStatus.REMOVED,
        ListingStatus.PUBLISHED,
    ]
    assert rows_of(session, third.id) == untouched
    monkeypatch.undo()
    assert run("deletions_due").rows_touched == 1
    assert [len(removal_entries(session, x.id)) for x in three_due] == [1, 1, 1]


def test_an_interrupted_run_is_recorded_as_failed(session, three_due, run, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "carry_out_due_deletion", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run("deletions_due")

    [job_run] = session.scalars(select(JobRun)).all()
    assert job_run.status is RunStatus.FAILED
    assert job_run.finished_at is not None


def test_a_job_that_raises_is_recorded_as_failed_and_does_not_raise(
    session, clock, run, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(jobs, "_due_ids", broken)

    job_run = run("expire_terms")

    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (RunStatus.FAILED, 0, 1)
    assert job_run.summary == "RuntimeError: database gone"
    assert job_run.errors == [{"row": "expire_terms", "error": "RuntimeError: database gone"}]
    assert job_run.finished_at == clock.now()


def test_the_errors_kept_are_capped_but_the_count_is_complete(session, run, monkeypatch):
    monkeypatch.setattr(jobs, "_due_ids", lambda *_args: list(range(1000, 1000 + MAX_ERRORS + 5)))

    job_run = run("deletions_due")  # none of these listings exists: each row fails (NotFound)

    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (
        RunStatus.PARTIAL,
        0,
        MAX_ERRORS + 5,
    )
    assert len(job_run.errors) == MAX_ERRORS
    assert job_run.errors[0]["row"] == "listing:1000"
    assert job_run.errors[0]["error"].startswith(NotFound.__name__)


# --------------------------------------------------------------------------------------------------
# The run record


def test_every_run_is_recorded_with_its_times_rows_and_summary(
    database, session, clock, three_due, monkeypatch
):
    original = services.carry_out_due_deletion

    def slow(session, listing_id, *, actor, clock):
        clock.advance(minutes=1)
        return original(session, listing_id, actor=actor, clock=clock)

    monkeypatch.setattr(services, "carry_out_due_deletion", slow)
    started = clock.now()
    session.commit()

    job_run = run_job("deletions_due", JobContext(database, clock, runner="host:42:abc"))

    [stored] = session.scalars(select(JobRun)).all()
    for record in (job_run, stored):
        assert (record.job, record.runner, record.status) == (
            "deletions_due",
            "host:42:abc",
            RunStatus.OK,
        )
        assert (record.started_at, record.finished_at) == (started, started + timedelta(minutes=3))
        assert (record.rows_touched, record.rows_failed, record.errors) == (3, 0, None)
        assert record.summary == "3 listing(s) deleted"


def test_runs_of_the_same_job_are_kept_one_row_each(session, clock, run):
    for _ in range(3):
        run("publish_after_grace")
        clock.advance(minutes=10)
    runs = session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [r.job for r in runs] == ["publish_after_grace"] * 3
    assert [r.started_at for r in runs] == [
        datetime(2025, 3, 3, 2, 0, tzinfo=UTC) + timedelta(minutes=10 * i) for i in range(3)
    ]
    assert {r.runner for r in runs} == {"run-once"}


# --------------------------------------------------------------------------------------------------
# deadline_alerts


def test_a_deletion_due_within_a_working_day_raises_an_alert_that_resolves_when_done(
    session, clock, court, run
):
    listing = publish(session, clock, court, 1)
    pay_in_full(session, clock, court, listing)  # Mon 3 March: due Thu 6 March

    first = run("deadline_alerts")
    assert first.summary == "0 raised, 0 updated, 0 resolved, 0 open"  # three working days left

    clock.set(date(2025, 3, 5))  # one working day left
    job_run = run("deadline_alerts")
    assert (job_run.status, job_run.rows_touched) == (RunStatus.OK, 1)
    assert job_run.summary == "1 raised, 0 updated, 0 resolved, 1 open"
    [alert] = open_alerts(session).values()
    assert (alert.key, alert.kind, alert.severity) == (
        f"deletion_due:{listing.id}",
        "deletion_due",
        AlertSeverity.WARNING,
    )
    assert (alert.court_id, alert.listing_id) == (court["judge"].court_id, listing.id)
    assert alert.due_at == beijing(date(2025, 3, 6), 0)
    assert "2025年03月06日" in alert.message and "即将到期" in alert.message
    assert alert.raised_at == clock.now()

    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 1 open"

    clock.set(date(2025, 3, 7))  # the sweep did not run: overdue
    assert run("deadline_alerts").summary == "0 raised, 1 updated, 0 resolved, 1 open"
    [alert] = open_alerts(session).values()
    assert alert.severity is AlertSeverity.CRITICAL
    assert "已逾期" in alert.message
    assert alert.raised_at == beijing(date(2025, 3, 5))  # the same alert, updated

    run("deletions_due")
    job_run = run("deadline_alerts")
    assert job_run.summary == "0 raised, 0 updated, 1 resolved, 0 open"
    alert = session.scalar(select(Alert))
    assert alert.resolved_at == clock.now()
    assert open_alerts(session) == {}
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 0 open"


def test_a_deletion_missed_on_friday_is_overdue_on_saturday(session, clock, court, run):
    listing = publish(session, clock, court, 1)
    clock.set(date(2025, 3, 4))
    pay_in_full(session, clock, court, listing)  # Tue 4 March: due Fri 7 March
    assert listing.deletion_due_on == date(2025, 3, 7)

    clock.set(date(2025, 3, 8))  # Saturday, and the sweep did not run on Friday
    run("deadline_alerts")

    [alert] = open_alerts(session, "deletion_due").values()
    assert alert.severity is AlertSeverity.CRITICAL
    assert "已逾期" in alert.message


def test_the_spring_festival_deletion_is_announced_the_working_day_before(
    session, clock, court, run
):
    clock.set(date(2025, 1, 20))
    listing = publish(session, clock, court, 1)
    clock.set(date(2025, 1, 27))
    pay_in_full(session, clock, court, listing, date(2025, 1, 27))  # due Fri 7 February

    clock.set(date(2025, 2, 4))  # the last day off: three working days left (5th, 6th, 7th)
    run("deadline_alerts")
    assert open_alerts(session) == {}
    clock.set(date(2025, 2, 6))
    run("deadline_alerts")
    assert list(open_alerts(session)) == [f"deletion_due:{listing.id}"]


def test_a_creditors_application_close_to_or_past_its_15_days_raises_an_alert(
    session, clock, court, run
):
    def application(n: int, applied_on: date | None):
        data = ApplicationIn(applied_on is not None, "王五" if applied_on else None, applied_on)
        listing = services.create_draft(
            session, person(n, application=data), actor=court["clerk"], clock=clock
        )
        session.commit()
        return listing

    overdue = application(1, date(2025, 2, 10))  # due Tue 25 February
    due_today = application(2, date(2025, 2, 14))  # 1 March is a Saturday: due Mon 3 March
    far = application(3, date(2025, 3, 1))  # due Mon 17 March (16th is a Sunday)
    own_motion = application(4, None)  # the court acts on its own authority
    services.submit_listing(session, overdue.id, actor=court["clerk"], clock=clock)
    session.commit()

    assert run("deadline_alerts").summary == "2 raised, 0 updated, 0 resolved, 2 open"
    alerts = open_alerts(session, "creditor_application")
    assert set(alerts) == {
        f"creditor_application:{overdue.id}",
        f"creditor_application:{due_today.id}",
    }
    late = alerts[f"creditor_application:{overdue.id}"]
    assert (late.severity, late.listing_id, late.due_at) == (
        AlertSeverity.CRITICAL,
        overdue.id,
        beijing(date(2025, 2, 25), 0),
    )
    assert "已逾期" in late.message
    today = alerts[f"creditor_application:{due_today.id}"]
    assert (today.severity, today.due_at) == (AlertSeverity.WARNING, beijing(date(2025, 3, 3), 0))
    assert "已逾期" not in today.message
    assert far.id not in {a.listing_id for a in alerts.values()}
    assert own_motion.id not in {a.listing_id for a in alerts.values()}
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 2 open"

    # The judge decides on the overdue application (signs it): its alert is resolved.
    services.approve_listing(
        session,
        overdue.id,
        ApprovalIn("(2025)京0105执恢9号决定书"),
        actor=court["judge"],
        clock=clock,
    )
    session.commit()
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 1 resolved, 1 open"
    assert set(open_alerts(session)) == {f"creditor_application:{due_today.id}"}


def test_a_term_ended_but_still_published_raises_a_critical_alert(session, clock, court, run, call):
    listing = publish(session, clock, court, 1, grounds=("evades",))  # ends Wed 3 March 2027

    clock.set(date(2027, 3, 3))  # the last day: the expiry sweep deletes it today
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 0 open"

    clock.set(date(2027, 3, 4))  # the sweep did not run
    outcome = call(jobs.deadline_alerts)
    assert (outcome.touched, outcome.failed) == (1, 0)
    assert outcome.summary == "1 raised, 0 updated, 0 resolved, 1 open"
    assert session.scalar(select(func.count()).select_from(JobRun)) == 1  # only the first run
    [alert] = open_alerts(session).values()
    assert (alert.key, alert.severity, alert.listing_id) == (
        f"term_ended:{listing.id}",
        AlertSeverity.CRITICAL,
        listing.id,
    )
    assert alert.due_at == beijing(date(2027, 3, 3), 0)

    assert run("expire_terms").rows_touched == 1
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 1 resolved, 0 open"


def test_a_partner_late_with_a_removal_ack_raises_a_national_alert(session, clock, court, run):
    partner_id, _key, _secret = register_partner(session, clock, "railway")
    listing = publish(session, clock, court, 1)
    services.revoke_listing(session, listing.id, "不应纳入名单", actor=court["judge"], clock=clock)
    session.commit()
    removed_at = clock.now()

    clock.advance(minutes=59)
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 0 open"
    clock.advance(minutes=2)
    assert run("deadline_alerts", PARTNER_ACK_DEADLINE_MINUTES="90").summary.startswith(
        "0 raised"
    )  # a longer deadline from the settings (environment variables are strings)

    assert run("deadline_alerts").summary == "1 raised, 0 updated, 0 resolved, 1 open"
    [alert] = open_alerts(session).values()
    assert (alert.key, alert.kind, alert.severity, alert.court_id, alert.listing_id) == (
        "partner_acks:railway",
        "partner_acks",
        AlertSeverity.CRITICAL,
        None,
        None,
    )
    assert alert.due_at == removed_at + timedelta(minutes=60)
    assert "railway" in alert.message

    partner = session.get(Partner, partner_id)
    partner_services.acknowledge(session, partner, last_seq(session), clock=clock)
    session.commit()
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 1 resolved, 0 open"


def test_a_job_whose_last_run_failed_raises_an_alert_until_it_runs_well(
    session, clock, run, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(jobs, "_due_ids", broken)
    assert run("expire_terms").status is RunStatus.FAILED
    monkeypatch.undo()

    assert run("deadline_alerts").summary == "1 raised, 0 updated, 0 resolved, 1 open"
    [alert] = open_alerts(session).values()
    assert (alert.key, alert.kind, alert.severity, alert.court_id) == (
        "job_failed:expire_terms",
        "job_failed",
        AlertSeverity.WARNING,
        None,
    )
    assert "失信期限届满删除" in alert.message and "失败" in alert.message
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 0 resolved, 1 open"

    clock.advance(minutes=10)
    assert run("expire_terms").status is RunStatus.OK
    assert run("deadline_alerts").summary == "0 raised, 0 updated, 1 resolved, 0 open"

    # It fails again later: the same alert is raised again (one row per key).
    monkeypatch.setattr(jobs, "_due_ids", broken)
    clock.advance(minutes=10)
    run("expire_terms")
    monkeypatch.undo()
    assert run("deadline_alerts").summary == "1 raised, 0 updated, 0 resolved, 1 open"
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.resolved_at, alert.raised_at) == (None, clock.now())


def test_a_job_with_failed_rows_raises_an_alert_naming_them(session, three_due, run, monkeypatch):
    fail_change_log_for(monkeypatch, three_due[1].id, RuntimeError("boom"))
    assert run("deletions_due").status is RunStatus.PARTIAL
    monkeypatch.undo()

    run("deadline_alerts")

    alert = open_alerts(session, "job_failed")["job_failed:deletions_due"]
    assert "1行出错" in alert.message


# --------------------------------------------------------------------------------------------------
# verify_audit (DOMAIN.md §8)


def tamper(session, sql: str, **params) -> None:
    """Alter the journal behind the application's back (on PostgreSQL the append-only trigger must
    be disabled first, as a database owner could), as tests/integration/test_audit.py does."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    session.execute(text(sql), params)
    if postgres:
        session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    session.commit()


def test_an_intact_audit_chain_verifies_without_an_alert(session, clock, court, run):
    publish(session, clock, court, 1)
    entries = session.scalar(select(func.count()).select_from(AuditEntry))

    job_run = run("verify_audit")

    assert (job_run.status, job_run.rows_touched, job_run.rows_failed) == (RunStatus.OK, entries, 0)
    assert job_run.summary == f"audit chain intact: {entries} entries"
    assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_an_altered_audit_entry_raises_a_critical_national_alert_until_the_chain_verifies(
    session, clock, court, run
):
    listing = publish(session, clock, court, 1)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(listing.id)).order_by(AuditEntry.seq)
    ).first()
    seq, reason = entry.seq, entry.reason
    session.commit()
    tamper(session, "UPDATE audit_entries SET reason = :r WHERE seq = :s", r="篡改", s=seq)

    job_run = run("verify_audit")

    assert (job_run.status, job_run.rows_failed) == (RunStatus.PARTIAL, 1)
    assert job_run.errors[0]["row"] == f"audit:{seq}"
    assert "BROKEN" in job_run.summary
    [alert] = open_alerts(session).values()
    assert (alert.key, alert.kind, alert.severity, alert.court_id, alert.listing_id) == (
        "audit_chain",
        "audit_chain",
        AlertSeverity.CRITICAL,
        None,
        None,
    )
    assert f"第{seq}条" in alert.message
    raised = (alert.id, alert.raised_at, alert.updated_at)

    clock.advance(hours=24)
    assert run("verify_audit").status is RunStatus.PARTIAL
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.id, alert.raised_at, alert.updated_at, alert.resolved_at) == (*raised, None)
    # The deadline job reports the failing job, and leaves the audit alert to verify_audit.
    run("deadline_alerts")
    assert set(open_alerts(session)) == {"audit_chain", "job_failed:verify_audit"}

    tamper(session, "UPDATE audit_entries SET reason = :r WHERE seq = :s", r=reason, s=seq)
    clock.advance(hours=24)
    job_run = run("verify_audit")
    assert (job_run.status, job_run.rows_failed, job_run.errors) == (RunStatus.OK, 0, None)
    alert = session.scalar(select(Alert).where(Alert.key == "audit_chain"))
    assert alert.resolved_at == clock.now()


def test_the_audit_check_function_reports_a_deleted_entry(session, clock, court, call):
    publish(session, clock, court, 1)
    seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    session.commit()
    tamper(session, "DELETE FROM audit_entries WHERE seq = :s", s=seqs[2])

    outcome = call(jobs.verify_audit)

    assert outcome.failed == 1
    assert outcome.errors[0]["row"] == f"audit:{seqs[3]}"
    assert "audit_chain" in open_alerts(session)


# --------------------------------------------------------------------------------------------------
# prune_feed


@pytest.fixture
def aged_feed(session, clock, court):
    """Changes of Mon 3 March, and a removal of Tue 25 March; the clock on Sat 5 April."""
    publish(session, clock, court, 1)
    listing = publish(session, clock, court, 2)
    early = session.scalar(select(func.max(Change.seq)))
    clock.set(date(2025, 3, 25))
    services.revoke_listing(session, listing.id, "不应纳入名单", actor=court["judge"], clock=clock)
    session.commit()
    head = last_seq(session)
    clock.set(date(2025, 4, 5))
    return early, head


def seqs(session) -> list[int]:
    return list(session.scalars(select(Change.seq).order_by(Change.seq)))


def test_changes_older_than_the_retention_are_pruned(session, aged_feed, run):
    early, head = aged_feed

    job_run = run("prune_feed", FEED_RETENTION_DAYS=30)

    assert (job_run.status, job_run.rows_touched) == (RunStatus.OK, early)
    assert job_run.summary == f"{early} change(s) older than 30 days deleted"
    assert seqs(session) == list(range(early + 1, head + 1))
    assert run("prune_feed", FEED_RETENTION_DAYS=30).rows_touched == 0


@pytest.mark.parametrize(
    ("settings", "kept"),
    [
        ({}, "recent"),  # the default: 30 days
        ({"FEED_RETENTION_DAYS": None}, "recent"),
        ({"FEED_RETENTION_DAYS": "60"}, "all"),  # from the environment: a string
        ({"FEED_RETENTION_DAYS": 60}, "all"),
        ({"FEED_RETENTION_DAYS": 5}, "head"),
    ],
)
def test_the_retention_comes_from_the_settings(session, aged_feed, call, settings, kept):
    early, head = aged_feed

    outcome = call(jobs.prune_feed, **settings)

    expected = {
        "all": list(range(1, head + 1)),
        "recent": list(range(early + 1, head + 1)),
        "head": [head],  # the newest change is always kept: seq never restarts
    }[kept]
    assert seqs(session) == expected
    assert outcome.touched == head - len(expected)

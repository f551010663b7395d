"""The scheduler's deletion sweeps: listings deleted per second by ``expire_terms`` (terms ended) and
``deletions_due`` (fully performed, deletion due), as the scheduler runs them.

Measured: ``blacklist.scheduler.jobs.run_job`` with a ``JobContext`` whose clock is a
``FixedClock`` at ``fixtures.as_of`` 10:00 Beijing, on the listings the generator made due (~0.5% of
the listings for each sweep). Each listing is deleted by the job's own service
(``services.expire_listing`` / ``services.carry_out_due_deletion``) in its own transaction, with
everything the real job does: the listing's removal, the audit entries, the consumption order's
fate, the restrictions projection, the change log's removals (payloads scrubbed), the deletion
decision and certificate, and the ``JobRun`` record.

The sweeps delete, so each listing can be deleted once: the due listings are found by the job
function itself (its ``_sweep`` is intercepted to learn the ids and the service it would call),
then split into ``2 × runs`` interleaved, disjoint slices. Run ``r`` of the app hands slice ``2r``
to ``run_job`` through a one-job registry whose job is the real ``_sweep`` over that slice; run
``r`` of the baseline deletes slice ``2r + 1``. At the end the real job runs once more unmeasured
and must find nothing left (``details.left_after``), which shows the slices were exactly the job's
work. A database can be swept once: run this path last, and regenerate to run it again.

Baseline: the same number of due listings (the other slices) deleted with the minimal SQL a
deletion needs, one transaction per listing through the same SQLAlchemy engine (Core statements,
no ORM): take the journal lock (PostgreSQL), mark the listing removed, lift its restriction rows
that the deletion ends (``RETURNING`` them), append a removal to the change log for each and for the
listing with the next seq, and scrub the earlier payloads of those keys. No audit, no documents, no
order bookkeeping, no JobRun. The ratio is the price of doing the deletion properly.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from bench.common import Fixtures, Result
from bench.paths._support import database

SWEEPS = {
    # result name: (job name, RemovalKind value, removal reason, lifts the order-sourced rows too)
    "expiry_sweep": ("expire_terms", "expired", "expired", False),
    "performance_sweep": ("deletions_due", "deleted", "performed", True),
}


def run(fixtures: Fixtures, *, runs: int = 3, quick: bool = False) -> list[Result]:
    runs = 1 if quick else runs
    db = database(fixtures)
    try:
        return [sweep(fixtures, db, name, runs=runs) for name in SWEEPS]
    finally:
        db.dispose()


def _clock(fixtures: Fixtures):
    from blacklist.core.clock import CHINA_TZ, FixedClock

    day = date.fromisoformat(fixtures.as_of)
    return FixedClock(datetime(day.year, day.month, day.day, 10, tzinfo=CHINA_TZ))


def _job_work(ctx, job_name: str) -> tuple[list[int], Any, str]:
    """The ids the job would sweep now and the service it would call for each, learnt by running
    the job function with its ``_sweep`` intercepted (nothing is changed)."""
    from blacklist.scheduler import jobs

    seen: dict[str, Any] = {}
    real = jobs._sweep

    def capture(_ctx, ids, act, done):
        seen.update(ids=list(ids), act=act, done=done)
        return jobs.Outcome()

    jobs._sweep = capture
    try:
        jobs.JOBS[job_name].func(ctx)
    finally:
        jobs._sweep = real
    return seen["ids"], seen["act"], seen["done"]


def sweep(fixtures: Fixtures, db, name: str, *, runs: int) -> Result:
    from blacklist.scheduler import jobs
    from blacklist.scheduler.jobs import Job, JobContext, run_job

    job_name, kind, reason, lift_orders = SWEEPS[name]
    clock = _clock(fixtures)
    ctx = JobContext(db, clock, runner="bench")
    ids, act, done = _job_work(ctx, job_name)
    slots = 2 * runs
    app_slices = [ids[2 * r :: slots] for r in range(runs)]
    base_slices = [ids[2 * r + 1 :: slots] for r in range(runs)]

    app_runs, touched, failed = [], 0, 0
    for ids_slice in app_slices:
        registry = {
            job_name: Job(
                job_name,
                lambda c, s=ids_slice: jobs._sweep(c, s, act, done),
                jobs.JOBS[job_name].label,
                jobs.JOBS[job_name].trigger,
            )
        }
        t0 = time.perf_counter()
        job_run = run_job(job_name, ctx, registry)
        seconds = time.perf_counter() - t0
        touched += job_run.rows_touched
        failed += job_run.rows_failed
        app_runs.append(job_run.rows_touched / seconds if seconds and ids_slice else 0.0)

    base_runs, base_deleted = [], 0
    for ids_slice in base_slices:
        t0 = time.perf_counter()
        for listing_id in ids_slice:
            _minimal_delete(db, listing_id, kind, reason, lift_orders, clock)
        seconds = time.perf_counter() - t0
        base_deleted += len(ids_slice)
        base_runs.append(len(ids_slice) / seconds if seconds and ids_slice else 0.0)

    left = run_job(job_name, ctx)  # the real job: must find nothing left to do
    removed = _count_removed(db, [i for s in app_slices for i in s])
    return Result(
        name=name,
        metric=f"listings deleted per second by the scheduler's {job_name} job",
        unit="deletions/s",
        runs=app_runs,
        baseline_name="minimal SQL per listing (status, restriction rows, change rows), "
        "one transaction each, same engine",
        baseline_runs=base_runs,
        target={"min": 500},
        details={
            "job": job_name,
            "due": len(ids),
            "deleted": touched,
            "failed": failed,
            "per_run": [len(s) for s in app_slices],
            "baseline_deleted": base_deleted,
            "removed_after": removed,
            "left_after": left.rows_touched,
            "as_of": fixtures.as_of,
        },
    )


def _minimal_delete(db, listing_id: int, kind: str, reason: str, lift_orders: bool, clock) -> None:
    from sqlalchemy import func, select, text, update

    from blacklist.changelog.models import Change
    from blacklist.listing.models import Listing, Subject
    from blacklist.restrictions.models import Restriction
    from blacklist.restrictions.rules import listing_measures_mask

    listings, restrictions, changes = Listing.__table__, Restriction.__table__, Change.__table__
    today, now = clock.today(), clock.now()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7436001)"))
        public_id, subject_kind = conn.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(
                status="removed", removal_kind=kind, removal_reason=reason, removed_on=today,
                updated_at=now, version=listings.c.version + 1,
            )
            .returning(
                listings.c.public_id,
                select(Subject.kind).where(Subject.id == listings.c.subject_id).scalar_subquery(),
            )
        ).one()  # fmt: skip
        lift = update(restrictions).where(
            restrictions.c.listing_id == listing_id, restrictions.c.is_active.is_(True)
        )
        if not lift_orders:
            lift = lift.where(restrictions.c.source_kind == "listing")
        lifted = conn.execute(
            lift.values(
                is_active=False, lifted_on=today, lifted_at=now, lift_reason=reason
            ).returning(restrictions.c.id, restrictions.c.measures)
        ).all()
        removals = [
            ("restriction", f"restriction:{rid}", m, "restriction", rid) for rid, m in lifted
        ]
        removals.append(
            ("listing", f"listing:{public_id}", listing_measures_mask(subject_kind), "listing",
             listing_id)
        )  # fmt: skip
        seq = conn.execute(select(func.max(changes.c.seq))).scalar() or 0
        for type_, key, measures, entity_kind, entity_id in removals:
            seq += 1
            conn.execute(
                changes.insert().values(
                    seq=seq, type=type_, action="remove", key=key, measures=measures,
                    entity_kind=entity_kind, entity_id=entity_id, payload=None, created_at=now,
                )
            )  # fmt: skip
            conn.execute(
                update(changes)
                .where(changes.c.key == key, changes.c.seq < seq, changes.c.payload.is_not(None))
                .values(payload=None)
            )


def _count_removed(db, ids: list[int]) -> int:
    from sqlalchemy import func, select

    from blacklist.listing.models import Listing
    from blacklist.listing.rules import ListingStatus

    if not ids:
        return 0
    with db.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(Listing)
            .where(Listing.id.in_(ids), Listing.status == ListingStatus.REMOVED)
        )

"""What staff and the statistics are told about partners (DOMAIN.md §4, DESIGN.md §6): removals a
partner has not acknowledged within the deadline (oldest first, cleared by a cumulative ack), when
a removal was acknowledged, each partner's ack and push status, and the hits partners reported
per measure and month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor
from blacklist.core.clock import CHINA_TZ
from blacklist.listing import services as listing_services
from blacklist.partners import queries, services
from blacklist.partners.models import DeliveryAttempt, DeliveryOutcome, Partner
from tests.factories import (
    fast_password_hashing,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)
from tests.partner_factories import register_partner

RAILWAY = "hsr_any_seat,emu_first_class,soft_sleeper"
HOUR = timedelta(minutes=60)


@pytest.fixture
def court(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_court(session, clock)


@pytest.fixture
def other_court(session, clock, monkeypatch):
    fast_password_hashing(monkeypatch)
    return setup_court(session, clock, "SH0101", province="上海")


def _person(n: int, court_code: str = "京0105"):
    return person_draft(
        name=f"测试{n}",
        id_number=resident_id(sequence=f"{n:03d}"),
        case_number=f"(2024){court_code}执{1000 + n}号",
    )


def _publish(session, clock, court, n: int):
    listing = publish_listing(session, clock, court, _person(n))
    session.commit()
    return listing


def _revoke(session, clock, court, listing):
    listing_services.revoke_listing(
        session, listing.id, "不应纳入名单", actor=court["judge"], clock=clock
    )
    session.commit()
    return last_seq(session)


def _partner(session, partner_id: int) -> Partner:
    session.expire_all()
    return session.get(Partner, partner_id)


def _overdue(session, clock, partner_id: int, **kwargs) -> queries.OverdueRemovals:
    return queries.overdue_removals(
        session, _partner(session, partner_id), now=clock.now(), **kwargs
    )


# --------------------------------------------------------------------------------------------------
# Overdue removals


def test_removals_not_acknowledged_within_the_hour_are_listed_oldest_first(session, clock, court):
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    first, second = _publish(session, clock, court, 1), _publish(session, clock, court, 2)
    first_seq = _revoke(session, clock, court, first)
    clock.advance(minutes=10)
    second_seq = _revoke(session, clock, court, second)
    clock.advance(minutes=61)

    overdue = _overdue(session, clock, railway)

    # Railway receives restriction records only: one consumption restriction per listing.
    assert overdue.count == 2
    assert [item.record_type for item in overdue.items] == ["restriction", "restriction"]
    assert [item.seq for item in overdue.items] == sorted(item.seq for item in overdue.items)
    assert overdue.items[0].seq <= first_seq < overdue.items[1].seq <= second_seq
    assert overdue.items[0].waiting == timedelta(minutes=71)
    assert overdue.items[1].waiting == timedelta(minutes=61)
    assert all(item.detail is None for item in overdue.items)  # no court asked: no personal data


def test_a_removal_becomes_overdue_exactly_at_the_deadline(session, clock, court):
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    _revoke(session, clock, court, _publish(session, clock, court, 1))

    clock.advance(minutes=59, seconds=59)
    assert _overdue(session, clock, railway).count == 0
    clock.advance(seconds=1)
    assert _overdue(session, clock, railway).count == 1

    # A shorter configured deadline flags earlier.
    clock.advance(minutes=-31)
    assert _overdue(session, clock, railway).count == 0
    assert _overdue(session, clock, railway, deadline=timedelta(minutes=29)).count == 1


def test_the_configured_deadline_falls_back_to_an_hour():
    assert queries.ack_deadline(15) == timedelta(minutes=15)
    assert queries.ack_deadline("90") == timedelta(minutes=90)
    assert queries.ack_deadline(None) == HOUR
    assert queries.ack_deadline(0) == HOUR
    assert queries.ack_deadline("soon") == HOUR


def test_a_cumulative_ack_clears_the_removals_it_covers_and_records_when(session, clock, court):
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    first, second = _publish(session, clock, court, 1), _publish(session, clock, court, 2)
    _revoke(session, clock, court, first)
    clock.advance(minutes=5)
    _revoke(session, clock, court, second)
    clock.advance(minutes=90)
    overdue = _overdue(session, clock, railway)
    assert overdue.count == 2
    older, newer = (item.seq for item in overdue.items)
    assert queries.acknowledged_at(session, railway, older) is None

    services.acknowledge(session, _partner(session, railway), older, clock=clock)
    acked_first = clock.now()
    remaining = _overdue(session, clock, railway)
    assert [item.seq for item in remaining.items] == [newer]

    clock.advance(minutes=3)
    services.acknowledge(session, _partner(session, railway), last_seq(session), clock=clock)
    assert _overdue(session, clock, railway).count == 0
    # The proof per removal: the first ack at or beyond its seq.
    assert queries.acknowledged_at(session, railway, older) == acked_first
    assert queries.acknowledged_at(session, railway, newer) == clock.now()
    receipts = queries.removal_receipts(session, newer)
    assert [(r.code, r.acked_at) for r in receipts] == [("railway", clock.now())]


def test_only_removals_in_the_partners_measures_and_scope_are_its_to_acknowledge(
    session, clock, court
):
    railway, _k1, _s1 = register_partner(session, clock, "railway", RAILWAY)
    credit, _k2, _s2 = register_partner(session, clock, "credit_ref", "credit_record", "listing")
    both, _k3, _s3 = register_partner(session, clock, "bank", "credit,financing", "both")
    exit_entry, _k4, _s4 = register_partner(session, clock, "exit_entry", "exit")
    _revoke(session, clock, court, _publish(session, clock, court, 1))
    clock.advance(minutes=61)

    assert [i.record_type for i in _overdue(session, clock, railway).items] == ["restriction"]
    assert [i.record_type for i in _overdue(session, clock, credit).items] == ["listing"]
    # The listing's joint-sanctions restriction and the listing record itself.
    assert sorted(i.record_type for i in _overdue(session, clock, both).items) == [
        "listing",
        "restriction",
    ]
    assert _overdue(session, clock, exit_entry).count == 0  # no exit ban: nothing to remove


def test_removals_from_before_a_partner_was_registered_are_not_its_to_acknowledge(
    session, clock, court
):
    _revoke(session, clock, court, _publish(session, clock, court, 1))
    clock.advance(minutes=1)
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    clock.advance(hours=5)

    assert _overdue(session, clock, railway).count == 0
    assert queries.removal_receipts(session, last_seq(session)) == []


def test_a_court_sees_its_own_overdue_removals_with_who_and_counts_the_rest(
    session, clock, court, other_court
):
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    ours = _publish(session, clock, court, 1)
    theirs = publish_listing(session, clock, other_court, _person(2, "沪0101"))
    session.commit()
    _revoke(session, clock, court, ours)
    _revoke(session, clock, other_court, theirs)
    clock.advance(minutes=61)
    court_id = court["clerk"].court_id

    overdue = _overdue(session, clock, railway, court_id=court_id)

    assert overdue.count == 2  # national
    assert overdue.court_count == 1
    [item] = overdue.items
    assert item.court_id == court_id
    assert item.listing_id == ours.id
    assert item.detail.name == "测试1"
    full = resident_id(sequence="001")
    assert item.detail.id_masked == full[:10] + "****" + full[14:]
    assert full not in repr(item)
    assert item.detail.case_number == "（2024）京0105执1001号"
    # The listing record (scope "listing") points at the listing itself.
    credit, _k, _s = register_partner(session, clock, "credit_ref", "credit_record", "listing")
    with_credit = _partner(session, credit)
    assert (
        queries.overdue_removals(session, with_credit, now=clock.now(), court_id=court_id).items
        == []
    )  # registered after the removals


def test_the_dashboard_summary_lists_partners_longest_waiting_first(
    session, clock, court, other_court
):
    register_partner(session, clock, "railway", RAILWAY)
    caac, _k2, _s2 = register_partner(session, clock, "caac", "flight")
    first = _publish(session, clock, court, 1)
    second = _publish(session, clock, court, 2)
    _revoke(session, clock, court, first)
    clock.advance(minutes=20)
    _revoke(session, clock, court, second)
    # caac applied the first removal; railway applied nothing.
    services.acknowledge(session, _partner(session, caac), last_seq(session) - 3, clock=clock)
    clock.advance(minutes=61)

    summary = queries.overdue_by_partner(
        session, now=clock.now(), court_id=other_court["clerk"].court_id
    )

    assert [(p.code, p.count) for p in summary] == [("railway", 2), ("caac", 1)]
    assert summary[0].waiting == timedelta(minutes=81)
    assert summary[1].waiting == timedelta(minutes=61)
    assert [p.court_count for p in summary] == [0, 0]  # none of them is the other court's

    services.acknowledge(session, _partner(session, caac), last_seq(session), clock=clock)
    assert [p.code for p in queries.overdue_by_partner(session, now=clock.now())] == ["railway"]


def test_a_deactivated_partner_is_not_flagged(session, clock, court):
    register_partner(session, clock, "railway", RAILWAY)
    _revoke(session, clock, court, _publish(session, clock, court, 1))
    services.update_partner(
        session, "railway", name="铁路", measures=RAILWAY.split(","), scope="restriction",
        webhook_url=None, is_active=False, actor=Actor.system("test"), clock=clock,
    )  # fmt: skip
    clock.advance(minutes=61)

    assert queries.overdue_by_partner(session, now=clock.now()) == []
    [status] = queries.ack_statuses(session, now=clock.now())
    assert (status.code, status.is_active, status.overdue) == ("railway", False, 0)


def test_the_ack_status_tells_how_far_each_partner_is_behind_and_how_its_push_stands(
    session, clock, court
):
    register_partner(session, clock, "railway", RAILWAY, webhook_url="http://127.0.0.1:9/hook")
    credit, _key, _secret = register_partner(
        session, clock, "credit_ref", "credit_record", "listing"
    )
    _publish(session, clock, court, 1)
    _revoke(session, clock, court, _publish(session, clock, court, 2))
    services.acknowledge(session, _partner(session, credit), last_seq(session), clock=clock)
    clock.advance(minutes=61)

    statuses = {s.code: s for s in queries.ack_statuses(session, now=clock.now())}

    head = last_seq(session)
    railway, credit_ref = statuses["railway"], statuses["credit_ref"]
    assert railway.newest_seq == credit_ref.newest_seq == head
    assert (railway.acked_seq, railway.acked_at) == (0, None)
    # Listing 1's consumption restriction; listing 2's was scrubbed by its removal, which counts.
    assert (railway.lag, railway.lag_capped) == (2, False)
    assert railway.overdue == 1
    assert railway.push is not None and railway.push.pushed_seq == 0
    assert railway.push.failures == 0 and not railway.push.in_flight
    assert (credit_ref.acked_seq, credit_ref.lag, credit_ref.overdue) == (head, 0, 0)
    assert credit_ref.push is None  # pull only


# --------------------------------------------------------------------------------------------------
# Hits


def _hit(session, clock, partner_id, id_number, at: datetime, measure="hsr_any_seat", ref=None):
    hit, _created = services.report_hit(
        session, _partner(session, partner_id), id_number=id_number, measure=measure,
        occurred_at=at, reference=ref, clock=clock,
    )  # fmt: skip
    return hit


def test_hits_are_counted_per_measure_and_beijing_month(session, clock, court):
    clock.set(datetime(2024, 12, 20, 10, tzinfo=CHINA_TZ))
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    _publish(session, clock, court, 1)
    person = resident_id(sequence="001")
    clock.set(datetime(2025, 3, 3, 10, tzinfo=CHINA_TZ))
    # 2025-02-28 16:30 UTC is 1 March 00:30 in Beijing: a March hit.
    _hit(session, clock, railway, person, datetime(2025, 2, 28, 16, 30, tzinfo=UTC))
    _hit(session, clock, railway, person, datetime(2025, 2, 28, 15, 59, tzinfo=UTC))  # Feb
    _hit(session, clock, railway, person, datetime(2025, 3, 2, 9, tzinfo=CHINA_TZ), "soft_sleeper")
    _hit(session, clock, railway, person, datetime(2025, 1, 5, 9, tzinfo=CHINA_TZ))
    # The same report again (same reference) is not counted twice.
    _hit(session, clock, railway, person, datetime(2025, 3, 1, 8, tzinfo=CHINA_TZ), ref="T1")
    _hit(session, clock, railway, person, datetime(2025, 3, 1, 8, tzinfo=CHINA_TZ), ref="T1")

    counts = queries.hit_counts(session, today=clock.today())

    assert counts.months[0] == "2024-04" and counts.months[-1] == "2025-03"
    assert counts.measures == ["soft_sleeper", "hsr_any_seat"]  # catalogue order
    assert counts.by_month["2025-03"] == {"soft_sleeper": 1, "hsr_any_seat": 2}
    assert counts.by_month["2025-02"] == {"hsr_any_seat": 1}
    assert counts.by_month["2025-01"] == {"hsr_any_seat": 1}
    assert counts.by_month["2024-12"] == {}
    assert counts.total("2025-03") == 3
    assert counts.by_label()["2025-03"] == {"乘坐列车软卧": 1, "乘坐G字头动车组列车全部座位": 2}
    assert sum(counts.not_in_force_by_month.values()) == 0
    # Older than twelve months: not counted.
    assert queries.hit_counts(session, today=clock.today(), months=2).months == [
        "2025-02",
        "2025-03",
    ]


def test_hits_on_people_no_longer_restricted_are_shown_to_their_court_only(
    session, clock, court, other_court
):
    railway, _key, _secret = register_partner(session, clock, "railway", RAILWAY)
    listing = _publish(session, clock, court, 1)
    theirs = publish_listing(session, clock, other_court, _person(2, "沪0101"))
    session.commit()
    ours_id, theirs_id = resident_id(sequence="001"), resident_id(sequence="002")
    while_restricted = clock.now() + timedelta(minutes=10)
    clock.advance(minutes=30)
    _revoke(session, clock, court, listing)
    _revoke(session, clock, other_court, theirs)
    a_day_later = clock.now() + timedelta(days=1)
    clock.advance(days=2)
    fine = _hit(session, clock, railway, ours_id, while_restricted)
    wrong = _hit(session, clock, railway, ours_id, a_day_later)
    _hit(session, clock, railway, theirs_id, a_day_later)
    assert fine.in_force and not wrong.in_force

    mine = queries.hits_not_in_force(session, court_id=court["clerk"].court_id)

    assert [h.id for h in mine] == [wrong.id]
    assert mine[0].person_name == "测试1"
    assert mine[0].listing_id == listing.id
    assert mine[0].measure_label == "乘坐G字头动车组列车全部座位"
    assert ours_id not in repr(mine[0])
    counts = queries.hit_counts(session, today=clock.today())
    assert counts.not_in_force_by_month["2025-03"] == 2
    assert counts.total("2025-03") == 3


def test_the_recent_delivery_attempts_are_newest_first(session, clock):
    railway, _k1, _s1 = register_partner(session, clock, "railway", RAILWAY)
    caac, _k2, _s2 = register_partner(session, clock, "caac", "flight")
    for n, partner_id in enumerate((railway, caac, railway)):
        session.add(
            DeliveryAttempt(
                partner_id=partner_id, webhook_id=f"msg_{n}", first_seq=1, last_seq=2, items=2,
                attempt=1, worker="test", started_at=clock.now(), duration_ms=5,
                status_code=200, outcome=DeliveryOutcome.DELIVERED,
            )
        )  # fmt: skip
    session.commit()

    assert [a.webhook_id for a in queries.recent_deliveries(session)] == ["msg_2", "msg_1", "msg_0"]
    assert [a.webhook_id for a in queries.recent_deliveries(session, partner_id=railway)] == [
        "msg_2",
        "msg_0",
    ]
    assert len(queries.recent_deliveries(session, limit=1)) == 1

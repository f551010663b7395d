"""The working-day table: seeded from chinesecalendar, corrected by an administrator, never crashing
on a year nobody entered (DOMAIN.md §7)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from blacklist.audit import services as audit
from blacklist.core.actor import Actor, ActorKind, Role
from blacklist.core.errors import NotAllowed, NotFound, ValidationFailed
from blacklist.core.workdays import chinesecalendar_years
from blacklist.holidays import services as calendar
from blacklist.holidays.cli import calendar_cli
from blacklist.holidays.models import Holiday


@pytest.fixture
def admin() -> Actor:
    return Actor(kind=ActorKind.STAFF, name="赵管理员", user_id=1, court_id=1, role=Role.ADMIN)


@pytest.fixture
def clerk() -> Actor:
    return Actor(kind=ActorKind.STAFF, name="钱书记员", user_id=2, court_id=1, role=Role.CLERK)


def actions(session) -> list[str]:
    return [e.action for e in reversed(audit.recent(session))]


def test_seeding_adds_the_2025_spring_festival_and_its_make_up_working_days(
    session, clock, system_actor
):
    added = calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock)
    session.commit()

    assert added == session.query(Holiday).count() > 500
    view = calendar.year_view(session, 2025)
    by_day = {d.on: d for d in view.days}
    for offset in range(8):  # Tue 28 January to Tue 4 February, weekend included
        day = date(2025, 1, 28) + timedelta(days=offset)
        assert calendar.load_calendar(session).is_workday(day) is False
        if day.weekday() < 5:
            assert by_day[day].is_workday is False
            assert by_day[day].note == "春节"
    assert by_day[date(2025, 1, 26)].is_workday is True
    assert by_day[date(2025, 2, 8)].is_workday is True
    assert by_day[date(2025, 1, 26)].note == "春节调休上班"
    assert by_day[date(2025, 1, 26)].source == "chinesecalendar"
    assert [d.on for d in view.days] == sorted(by_day)
    assert view.known
    assert calendar.load_calendar(session).known_years == frozenset(chinesecalendar_years())


def test_seeding_twice_adds_nothing_the_second_time(session, clock, system_actor):
    first = calendar.seed_from_chinesecalendar(
        session, actor=system_actor, clock=clock, years=[2025]
    )
    second = calendar.seed_from_chinesecalendar(
        session, actor=system_actor, clock=clock, years=[2025]
    )

    assert first > 0
    assert second == 0
    assert session.query(Holiday).count() == first
    assert actions(session) == ["calendar.seeded"]
    assert audit.recent(session)[0].after == {"added": first, "years": [2025]}


def test_seeding_a_year_the_package_does_not_know_adds_nothing(session, clock, system_actor):
    assert calendar.seed_from_chinesecalendar(
        session, actor=system_actor, clock=clock, years=[2035]
    ) == (0)
    assert actions(session) == []


def test_an_administrators_edit_survives_reseeding(session, clock, system_actor, admin):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])
    calendar.set_day(session, date(2025, 2, 4), True, note="本院值班", actor=admin, clock=clock)
    session.commit()

    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])
    session.commit()

    row = session.get(Holiday, date(2025, 2, 4))
    assert (row.is_workday, row.source, row.note, row.updated_by) == (
        True,
        "admin",
        "本院值班",
        "赵管理员",
    )
    assert calendar.load_calendar(session).is_workday(date(2025, 2, 4)) is True


def test_a_clerk_may_not_change_the_calendar(session, clock, clerk):
    with pytest.raises(NotAllowed) as refused:
        calendar.set_day(session, date(2025, 10, 11), True, note=None, actor=clerk, clock=clock)
    with pytest.raises(NotAllowed):
        calendar.clear_day(session, date(2025, 10, 11), actor=clerk, clock=clock)

    assert refused.value.status == 403
    assert "管理员" in refused.value.message
    assert session.query(Holiday).count() == 0
    assert actions(session) == []


def test_a_note_longer_than_200_characters_is_refused(session, clock, admin):
    with pytest.raises(ValidationFailed) as refused:
        calendar.set_day(
            session, date(2025, 10, 11), True, note="长" * 201, actor=admin, clock=clock
        )

    assert "note" in refused.value.errors
    assert session.query(Holiday).count() == 0


def test_a_debt_paid_before_spring_festival_is_deleted_by_the_seventh_of_february(
    session, clock, system_actor
):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])

    workdays = calendar.load_calendar(session)

    assert workdays.add_workdays(date(2025, 1, 27), 3) == date(2025, 2, 7)
    assert workdays.add_workdays(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert workdays.fallback_years == set()


def test_an_administrator_entering_2027_makes_2027_known(session, clock, system_actor, admin):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2026])
    session.commit()
    assert not calendar.year_view(session, 2027).known
    assert not calendar.load_calendar(session).knows_year(2027)

    calendar.set_day(session, date(2027, 2, 8), False, note="春节", actor=admin, clock=clock)
    calendar.set_day(
        session, date(2027, 2, 20), True, note="春节调休上班", actor=admin, clock=clock
    )
    session.commit()

    view = calendar.year_view(session, 2027)
    workdays = calendar.load_calendar(session)
    assert view.known
    assert [(d.on, d.is_workday, d.source) for d in view.days] == [
        (date(2027, 2, 8), False, "admin"),
        (date(2027, 2, 20), True, "admin"),
    ]
    assert workdays.knows_year(2027)
    assert workdays.is_workday(date(2027, 2, 8)) is False
    assert workdays.is_workday(date(2027, 2, 20)) is True
    assert workdays.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 9)
    assert workdays.fallback_years == set()


def test_a_year_without_rows_falls_back_to_monday_to_friday(session, clock, system_actor):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])

    workdays = calendar.load_calendar(session)

    assert calendar.year_view(session, 2030) == calendar.YearView(2030, False, [])
    assert workdays.add_workdays(date(2030, 2, 1), 3) == date(2030, 2, 6)  # Fri → Wed
    assert workdays.fallback_years == {2030}


def test_an_empty_table_falls_back_to_monday_to_friday_without_raising(session):
    workdays = calendar.load_calendar(session)

    assert workdays.add_workdays(date(2025, 1, 27), 3) == date(2025, 1, 30)
    assert workdays.fallback_years == {2025}


def test_clearing_a_day_returns_it_to_monday_to_friday(session, clock, system_actor, admin):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])
    assert calendar.load_calendar(session).is_workday(date(2025, 1, 28)) is False

    calendar.clear_day(session, date(2025, 1, 28), actor=admin, clock=clock)

    assert session.get(Holiday, date(2025, 1, 28)) is None
    assert calendar.load_calendar(session).is_workday(date(2025, 1, 28)) is True
    with pytest.raises(NotFound):
        calendar.clear_day(session, date(2025, 3, 4), actor=admin, clock=clock)


def test_each_change_to_the_calendar_is_audited(session, clock, system_actor, admin):
    calendar.seed_from_chinesecalendar(session, actor=system_actor, clock=clock, years=[2025])
    calendar.set_day(session, date(2025, 10, 11), False, note="调整", actor=admin, clock=clock)
    calendar.set_day(session, date(2025, 10, 11), True, note=None, actor=admin, clock=clock)
    calendar.clear_day(session, date(2025, 10, 11), actor=admin, clock=clock)
    session.commit()

    assert actions(session) == [
        "calendar.seeded",
        "calendar.day_set",
        "calendar.day_set",
        "calendar.day_cleared",
    ]
    first_set, second_set, cleared = audit.history(session, "holiday", "2025-10-11")
    assert first_set.before == {
        "on": "2025-10-11",
        "is_workday": True,
        "source": "chinesecalendar",
        "note": "国庆节调休上班",
    }
    assert first_set.after == {
        "on": "2025-10-11",
        "is_workday": False,
        "source": "admin",
        "note": "调整",
    }
    assert second_set.after["is_workday"] is True
    assert cleared.before == second_set.after
    assert cleared.after is None
    assert (cleared.actor_name, cleared.actor_id) == ("赵管理员", 1)
    assert audit.verify(session).ok


def test_a_change_committed_elsewhere_is_seen_by_the_next_session(database, session, clock, admin):
    calendar.set_day(session, date(2025, 3, 4), False, note=None, actor=admin, clock=clock)
    session.commit()
    with database.session() as first:
        assert calendar.load_calendar(first).is_workday(date(2025, 3, 4)) is False
        assert calendar.load_calendar(first) is calendar.load_calendar(first)
        first.commit()

    # Another process edits the row: this process's cache is not told.
    later = clock.now() + timedelta(minutes=5)
    session.execute(update(Holiday.__table__).values(is_workday=True, updated_at=later))
    session.commit()

    with database.session() as second:
        assert calendar.load_calendar(second).is_workday(date(2025, 3, 4)) is True


def test_the_cli_sets_and_shows_days_as_the_cli_actor(database, session):
    app = Flask(__name__)
    app.extensions["blacklist.db"] = database
    runner = app.test_cli_runner()

    unknown = runner.invoke(calendar_cli, ["show", "--year", "2031"])
    set_day = runner.invoke(
        calendar_cli, ["set", "--date", "2031-01-23", "--rest-day", "--note", "春节"]
    )
    missing_flag = runner.invoke(calendar_cli, ["set", "--date", "2031-01-24"])
    shown = runner.invoke(calendar_cli, ["show", "--year", "2031"])

    assert "fall back to Monday-Friday" in unknown.output
    assert set_day.exit_code == 0, set_day.output
    assert missing_flag.exit_code == 2
    assert "2031-01-23 Thu rest" in shown.output
    assert "春节" in shown.output
    row = session.get(Holiday, date(2031, 1, 23))
    assert (row.is_workday, row.source, row.updated_by) == (False, "admin", "cli")
    assert isinstance(row.updated_at, datetime)

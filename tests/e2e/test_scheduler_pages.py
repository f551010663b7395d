"""The scheduler's pages through HTTP (DESIGN.md §7): the alerts the real jobs raise, on the staff
dashboard (the viewer's court's and the national ones; the system's own only for administrators
and auditors), and the administrator's status page (定时任务: is a scheduler running, each job's
last and next run, the latest runs)."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text

from blacklist.changelog.writer import last_seq
from blacklist.core.clock import CHINA_TZ
from blacklist.db import Database
from blacklist.listing import services as listing_services
from blacklist.listing.inputs import PaymentIn
from blacklist.scheduler import queries
from blacklist.scheduler.jobs import JobContext, run_job
from blacklist.scheduler.models import Alert, AlertSeverity, JobRun, SchedulerState
from blacklist.scheduler.runner import FileLeaderLock, SchedulerRunner, leader_state
from tests.e2e.conftest import login
from tests.factories import person_draft, publish_listing, resident_id
from tests.partner_factories import partner_headers, register_partner

RAILWAY = "hsr_any_seat,emu_first_class,soft_sleeper"
PAGE = "/staff/admin/scheduler/"
NOT_RUNNING = "定时任务未运行"
#: Thu 2025-03-06: three working days after Mon 2025-03-03, when the debts below are paid.
DELETION_DUE = "2025年03月06日"


def html(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def panel(page: str) -> str:
    """The dashboard's 系统提醒 panel ("" when there is none)."""
    if 'id="system-alerts"' not in page:
        return ""
    return page.split('id="system-alerts"')[1].split("</section>")[0]


def section(page: str, element_id: str) -> str:
    assert f'id="{element_id}"' in page, f"no #{element_id} on the page"
    return page.split(f'id="{element_id}"')[1].split("</section>")[0]


def row(page: str, element_id: str) -> str:
    assert f'id="{element_id}"' in page, f"no #{element_id} on the page"
    return page.split(f'id="{element_id}"')[1].split("</tr>")[0]


def run(database, clock, name: str) -> JobRun:
    """Run one real job now, as the scheduler would."""
    return run_job(name, JobContext(database, clock, runner="test-runner"))


def _person(n: int, court_code: str = "京0105"):
    return person_draft(
        name=f"测试{n}",
        id_number=resident_id(sequence=f"{n:03d}"),
        case_number=f"(2024){court_code}执{1000 + n}号",
    )


def paid_in_full(session, clock, court, n: int, court_code: str = "京0105"):
    """A published listing without a term whose debt is paid today: it must be deleted within
    three working days (Art. 10)."""
    listing = publish_listing(session, clock, court, _person(n, court_code))
    listing_services.record_performance(
        session,
        listing.id,
        PaymentIn(Decimal("100000.00"), clock.today(), full=True),
        actor=court["clerk"],
        clock=clock,
    )
    session.commit()
    return listing


def tamper_with_the_journal(session) -> None:
    """Alter an audit entry behind the application's back (on PostgreSQL that means disabling the
    append-only trigger first), as ``tests/integration/test_audit.py`` does."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    session.execute(
        text(
            "UPDATE audit_entries SET reason = '篡改' WHERE seq = (SELECT min(seq) FROM audit_entries)"
        )
    )
    if postgres:
        session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    session.commit()


# --------------------------------------------------------------------------------------------------
# The dashboard's 系统提醒 panel


def test_the_dashboard_shows_the_courts_deadline_alert_and_not_another_courts(
    app, session, clock, database, court, other_court
):
    ours = paid_in_full(session, clock, court, 1)
    theirs = paid_in_full(session, clock, other_court, 2, "沪0101")
    clerk = signed_in(app, "bj0105-clerk")

    run(database, clock, "deadline_alerts")  # Monday: three working days left, no alert yet
    assert 'id="system-alerts"' not in html(clerk.get("/staff/"))
    assert "系统提醒" not in html(clerk.get("/staff/"))

    clock.set(datetime(2025, 3, 5, 9, 0, tzinfo=CHINA_TZ))  # Wednesday: one working day left
    run(database, clock, "deadline_alerts")

    ours_panel = panel(html(clerk.get("/staff/")))
    assert "系统提醒" in ours_panel
    assert f"测试1：应于{DELETION_DUE}前删除（第十条，三个工作日），即将到期" in ours_panel
    assert f'href="/staff/listings/{ours.id}">查看名单</a>' in ours_panel
    assert "2025-03-06" in ours_panel  # the deadline
    assert 'class="soon"' in ours_panel and "提醒" in ours_panel  # a warning, not critical
    assert "测试2" not in ours_panel and f"/staff/listings/{theirs.id}" not in ours_panel

    their_panel = panel(html(signed_in(app, "sh0101-judge").get("/staff/")))
    assert "测试2：应于" in their_panel and f'href="/staff/listings/{theirs.id}"' in their_panel
    assert "测试1" not in their_panel and f"/staff/listings/{ours.id}" not in their_panel


def test_a_missed_deletion_turns_critical_and_the_alert_goes_once_the_listing_is_deleted(
    app, session, clock, database, court
):
    listing = paid_in_full(session, clock, court, 1)
    clerk = signed_in(app, "bj0105-clerk")
    clock.set(datetime(2025, 3, 7, 9, 0, tzinfo=CHINA_TZ))  # Friday: the deadline has passed

    run(database, clock, "deadline_alerts")

    shown = panel(html(clerk.get("/staff/")))
    assert f"测试1：应于{DELETION_DUE}前删除（第十条，三个工作日），已逾期" in shown
    assert 'class="overdue"' in shown and "紧急" in shown

    deleted = run(database, clock, "deletions_due")
    assert (deleted.status.value, deleted.rows_touched) == ("ok", 1)
    resolved = run(database, clock, "deadline_alerts")
    assert "1 resolved" in resolved.summary

    page = html(clerk.get("/staff/"))
    assert 'id="system-alerts"' not in page and "已逾期" not in page
    with database.session() as s:
        alert = s.scalar(select(Alert).where(Alert.key == f"deletion_due:{listing.id}"))
        assert alert.resolved_at is not None


def test_critical_alerts_come_first_then_the_nearest_deadline_then_those_without_one(
    app, session, clock, database, court
):
    paid_in_full(session, clock, court, 1)  # due Thu 03-06
    clock.set(datetime(2025, 3, 4, 10, 0, tzinfo=CHINA_TZ))
    paid_in_full(session, clock, court, 2)  # paid on Tuesday: due Fri 03-07
    tamper_with_the_journal(session)
    clock.set(datetime(2025, 3, 6, 10, 0, tzinfo=CHINA_TZ))
    run(database, clock, "verify_audit")  # critical, no deadline
    run(database, clock, "deadline_alerts")  # two deletions (warnings) and the failed check

    shown = panel(html(signed_in(app, "bj0105-admin").get("/staff/")))

    order = [
        "审计日志校验失败",
        "测试1：",
        "测试2：",
        "定时任务“审计日志夜间校验”最近一次运行有1行出错",
    ]
    positions = [shown.index(text) for text in order]
    assert positions == sorted(positions)


def test_a_partners_overdue_removals_are_a_national_alert_until_acknowledged(
    app, client, session, clock, database, court, other_court
):
    _id, key, _secret = register_partner(session, clock, "railway", RAILWAY)
    listing = publish_listing(session, clock, court, _person(1))
    listing_services.revoke_listing(
        session, listing.id, "不应纳入名单", actor=court["judge"], clock=clock
    )
    session.commit()
    clock.advance(minutes=61)  # the railway has not acknowledged the removal within the hour

    run(database, clock, "deadline_alerts")

    for username in ("bj0105-clerk", "sh0101-clerk"):  # every court sees a national alert
        shown = panel(html(signed_in(app, username).get("/staff/")))
        assert "railway 合作单位（railway）有1条移出超过时限未确认" in shown
        assert "合作单位未确认移出" in shown and "（全国）" in shown
        assert 'href="/staff/partners/">查看联合惩戒反馈</a>' in shown
        assert "测试1" not in shown  # a national alert names no one

    with database.session() as s:
        head = last_seq(s)
    ack = client.post("/api/v1/partner/acks", json={"seq": head}, headers=partner_headers(key))
    assert ack.status_code == 200
    run(database, clock, "deadline_alerts")

    assert 'id="system-alerts"' not in html(signed_in(app, "sh0101-clerk").get("/staff/"))


def test_a_broken_audit_chain_is_shown_to_administrators_and_auditors_only(
    app, session, clock, database, court, other_court
):
    tamper_with_the_journal(session)

    verified = run(database, clock, "verify_audit")

    assert verified.status.value == "partial" and verified.rows_failed == 1
    for username in ("bj0105-admin", "bj0105-auditor", "sh0101-admin", "sh0101-auditor"):
        shown = panel(html(signed_in(app, username).get("/staff/")))
        assert "审计日志校验失败" in shown, username
        assert "请立即报告安全管理员" in shown and 'class="overdue"' in shown
        assert 'href="/staff/admin/scheduler/">查看定时任务</a>' in shown
    for username in ("bj0105-clerk", "bj0105-judge", "sh0101-clerk", "sh0101-judge"):
        page = html(signed_in(app, username).get("/staff/"))
        assert "审计日志" not in page, username
        assert 'id="system-alerts"' not in page, username


def test_a_failing_job_is_alerted_to_administrators_and_shown_on_the_status_page(
    app, session, clock, database, court, monkeypatch
):
    def disk_full(*_args, **_kwargs):
        raise RuntimeError("<b>磁盘已满</b>")

    monkeypatch.setattr("blacklist.partners.feed.prune", disk_full)

    failed = run(database, clock, "prune_feed")
    run(database, clock, "deadline_alerts")

    assert failed.status.value == "failed"
    admin = signed_in(app, "bj0105-admin")
    shown = panel(html(admin.get("/staff/")))
    assert "定时任务出错" in shown and "最近一次运行失败" in shown
    assert "&lt;b&gt;磁盘已满&lt;/b&gt;" in shown and "<b>磁盘已满" not in shown  # escaped
    assert 'id="system-alerts"' not in html(signed_in(app, "bj0105-clerk").get("/staff/"))

    page = html(admin.get(PAGE))
    job = row(page, "job-prune_feed")
    assert "清理过期变更日志" in job and '<span class="state-bad">失败</span>' in job
    assert "RuntimeError: &lt;b&gt;磁盘已满&lt;/b&gt;" in job  # the error, escaped
    assert "<b>磁盘已满" not in page
    assert "定时任务出错 1条" in section(page, "alerts")


# --------------------------------------------------------------------------------------------------
# The status page


def test_the_status_page_says_when_no_scheduler_runs_and_shows_the_last_runs(
    app, session, clock, database, court
):
    admin = signed_in(app, "bj0105-admin")

    page = html(admin.get(PAGE))
    assert NOT_RUNNING in section(page, "leader")
    assert "尚无调度进程运行过" in page
    assert "flask --app wsgi scheduler run" in page and "make run" in page
    assert "从未运行" in row(page, "job-deletions_due")
    assert "尚无运行记录" in section(page, "runs")

    paid_in_full(session, clock, court, 1)
    clock.set(datetime(2025, 3, 6, 10, 0, tzinfo=CHINA_TZ))
    deleted = run(database, clock, "deletions_due")
    clock.advance(minutes=5)
    checked = run(database, clock, "verify_audit")

    page = html(admin.get(PAGE))
    job = row(page, "job-deletions_due")
    assert "到期删除（履行完毕）" in job and "每10分钟" in job
    assert "2025-03-06 10:00:00" in job and "正常" in job and "处理1行" in job
    assert "1 listing(s) deleted" in job
    assert "每天02:30" in row(page, "job-verify_audit")
    assert "未安排" in job  # no scheduler has planned a next run
    runs = section(page, "runs")
    assert runs.index(f'id="run-{checked.id}"') < runs.index(f'id="run-{deleted.id}"')
    assert "审计日志夜间校验" in runs and "test-runner" in runs


def test_the_runs_are_listed_newest_first_and_limited(app, clock, database, court, monkeypatch):
    monkeypatch.setattr(queries, "RECENT_RUNS", 3)
    made = []
    for _ in range(5):
        made.append(run(database, clock, "prune_feed"))
        clock.advance(minutes=1)

    runs = section(html(signed_in(app, "bj0105-auditor").get(PAGE)), "runs")

    shown = [int(n) for n in re.findall(r'id="run-(\d+)"', runs)]
    assert shown == [r.id for r in reversed(made)][:3]
    assert "仅显示最近3次运行" in runs


def test_the_status_page_shows_the_leader_and_the_next_runs_while_a_scheduler_runs(
    app, clock, database, court, tmp_path
):
    if database.url in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("the scheduler runs in threads of its own: needs a shared database")
    runner = SchedulerRunner(
        database, lock=FileLeaderLock(tmp_path / "scheduler.lock"), clock=clock,
        name="host-a:4242", poll_seconds=0.2,
    )  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        _wait_for_every_job_to_run_once(database)
        admin = signed_in(app, "bj0105-admin")

        page = html(admin.get(PAGE))

        leader = section(page, "leader")
        assert "运行中" in leader and "host-a:4242" in leader and NOT_RUNNING not in page
        with database.session() as s:
            planned = {st.name: st.next_run_at for st in s.scalars(select(SchedulerState))}
        for name in ("deletions_due", "verify_audit", "prune_feed"):
            job = row(page, f"job-{name}")
            next_run = planned[name].astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
            assert next_run in job, name
            assert "正常" in job and "从未运行" not in job
    finally:
        stop.set()
        runner.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()

    # A scheduler that stopped cleanly removed its leader row: "not running" at once.
    page = html(signed_in(app, "bj0105-auditor").get(PAGE))
    leader = section(page, "leader")
    assert NOT_RUNNING in leader and "host-a:4242" not in leader
    assert "调度进程未运行" in row(page, "job-deletions_due")


def _wait_for_every_job_to_run_once(database, timeout: float = 20.0) -> None:
    """Every job runs as soon as a scheduler leads (the daily ones because they never ran)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.session() as s:
            finished = s.scalar(
                select(func.count(func.distinct(JobRun.job))).where(JobRun.finished_at.is_not(None))
            )
            later = s.scalar(
                select(func.count())
                .select_from(SchedulerState)
                .where(SchedulerState.next_run_at > datetime.now(UTC) + timedelta(minutes=1))
            )
        if finished == 6 and later == 6:  # every job ran and has its next run planned
            return
        time.sleep(0.05)
    raise AssertionError("the scheduler did not run every job")


# --------------------------------------------------------------------------------------------------
# Who may see the status page


@pytest.mark.parametrize(
    "username", ["bj0105-admin", "bj0105-auditor", "sh0101-admin", "sh0101-auditor"]
)
def test_administrators_and_auditors_of_any_court_see_the_status_page(
    app, court, other_court, username
):
    client = signed_in(app, username)

    response = client.get(PAGE)

    assert response.status_code == 200
    assert "<h1>定时任务</h1>" in html(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert f'<a href="{PAGE}">定时任务</a>' in html(client.get("/staff/"))  # in the nav


@pytest.mark.parametrize("username", ["bj0105-clerk", "bj0105-judge"])
def test_clerks_and_judges_may_not_see_the_status_page(app, court, username):
    client = signed_in(app, username)

    assert client.get(PAGE).status_code == 403
    assert f'href="{PAGE}"' not in html(client.get("/staff/"))


def test_the_status_page_asks_a_signed_out_visitor_to_sign_in(client, court):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=/staff/admin/scheduler/")
    assert client.get("/staff/admin/scheduler").status_code == 308  # to the page with the slash


def test_the_status_page_shows_national_alert_counts_but_only_the_courts_names(
    app, session, clock, database, court, other_court
):
    paid_in_full(session, clock, court, 1)
    paid_in_full(session, clock, other_court, 2, "沪0101")
    clock.set(datetime(2025, 3, 5, 9, 0, tzinfo=CHINA_TZ))
    run(database, clock, "deadline_alerts")

    alerts = section(html(signed_in(app, "bj0105-auditor").get(PAGE)), "alerts")

    assert "删除期限 2条" in alerts
    assert "测试1：应于" in alerts and "测试2" not in alerts


def test_open_alerts_of_a_court_exclude_national_system_alerts_for_a_clerk(
    session, clock, database, court
):
    tamper_with_the_journal(session)
    run(database, clock, "verify_audit")
    with database.session() as s:
        assert queries.open_alerts(s, court["clerk"]).rows == []
        (alert,) = queries.open_alerts(s, court["admin"]).rows
    assert (alert.kind, alert.is_national, alert.is_critical) == ("audit_chain", True, True)
    assert alert.listing_id is None


def test_an_alert_links_a_listing_only_for_the_court_that_holds_it(
    app, session, clock, database, court, other_court
):
    """No job raises a national alert about one listing today; one made by hand shows that the
    link (and so the listing's id) goes only to the listing's own court."""
    theirs = publish_listing(session, clock, other_court, _person(2, "沪0101"))
    session.add(
        Alert(
            key="test:1", kind="deletion_due", severity=AlertSeverity.WARNING,
            message="全国性的提醒", court_id=None, listing_id=theirs.id,
            raised_at=clock.now(), updated_at=clock.now(),
        )
    )  # fmt: skip
    session.commit()

    ours = panel(html(signed_in(app, "bj0105-clerk").get("/staff/")))
    their_panel = panel(html(signed_in(app, "sh0101-clerk").get("/staff/")))

    assert "全国性的提醒" in ours and f"/staff/listings/{theirs.id}" not in ours
    assert f'href="/staff/listings/{theirs.id}">查看名单</a>' in their_panel


# --------------------------------------------------------------------------------------------------
# Bugs found in the scheduler's back end (blacklist/scheduler/, owned elsewhere)


def test_the_leader_can_be_read_while_another_session_has_begun_reading(database, clock):
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL readers take no lock")
    db = Database(database.url, vault=database.vault)

    @event.listens_for(db.engine, "connect")
    def _wait_briefly(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # not the 30 s of the app

    request_session = db.session()
    try:
        request_session.execute(select(SchedulerState))  # a request that has begun reading
        state = leader_state(db, now=clock.now())
    finally:
        request_session.close()
        db.dispose()

    assert state == {"runner": None, "heartbeat_at": None, "alive": False}


def test_a_failing_jobs_alert_names_the_job_as_staff_know_it(clock, database, court, monkeypatch):
    def disk_full(*_args, **_kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr("blacklist.partners.feed.prune", disk_full)
    run(database, clock, "prune_feed")
    run(database, clock, "deadline_alerts")

    with database.session() as s:
        (alert,) = queries.open_alerts(s, court["admin"]).rows

    assert "清理过期变更日志" in alert.message
    assert "prune_feed" not in alert.message

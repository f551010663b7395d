"""The operator commands end to end (``flask --app wsgi …``), through Flask's CLI runner, against the
test database: SQLite, or PostgreSQL when BLACKLIST_TEST_DATABASE_URL is set."""

from __future__ import annotations

import gc
import warnings
from collections import Counter

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from werkzeug.security import check_password_hash

from blacklist import create_app
from blacklist.audit.models import AuditEntry
from blacklist.changelog.models import Change
from blacklist.core.clock import SystemClock
from blacklist.corrections.models import CorrectionRequest
from blacklist.db import get_db
from blacklist.demo import MIDDLE_DOT_NAME, RARE_NAME, TRADITIONAL_NAME
from blacklist.holidays.models import Holiday
from blacklist.listing.models import BoundPerson, Case, Listing, Subject
from blacklist.migrate import alembic_config, current_revision
from blacklist.restrictions.models import RestrictionOrder
from blacklist.staff.models import Court, StaffUser

DEMO_LISTINGS = 40


@pytest.fixture(autouse=True)
def _collect_garbage_of_earlier_tests():
    """Engines that earlier tests left open (apps never disposed) are collected here, with their
    ResourceWarning silenced, instead of at a random moment inside one of these tests, where
    ``filterwarnings = error`` would fail an unrelated test (seen on PostgreSQL)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def app(database, session):
    """The app on the test database. It needs ``session`` only so that the tables are emptied
    after the test (the app's own engine is closed first)."""
    app = create_app({"DATABASE_URL": database.url, "TESTING": True})
    yield app
    get_db(app).dispose()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def read(database, query):
    """One query in its own short transaction (on SQLite every transaction takes the write lock,
    so an open one would block the command under test)."""
    with database.session() as s:
        return s.execute(query).all()


def count(database, model) -> int:
    return read(database, select(func.count()).select_from(model))[0][0]


def counts(database) -> dict[str, int]:
    models = (Court, StaffUser, AuditEntry, Holiday, Listing, Change)
    return {model.__tablename__: count(database, model) for model in models}


def create_court(cli, code="BJ0105", name="北京市朝阳区人民法院", province="北京", parent=None):
    args = ["courts", "create", "--code", code, "--name", name, "--province", province]
    return cli.invoke(args=[*args, "--parent", parent] if parent else args)


def create_staff(cli, court="BJ0105", role="clerk", username="bj0105-clerk", password="a long password"):  # fmt: skip
    return cli.invoke(
        args=[
            "staff", "create", "--court", court, "--role", role,
            "--username", username, "--password", password, "--name", "王敏",
        ]
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# db upgrade


def test_db_upgrade_on_an_up_to_date_database_reports_the_revision_and_changes_nothing(
    cli, database
):
    assert create_court(cli).exit_code == 0
    head = ScriptDirectory.from_config(alembic_config(database.engine)).get_current_head()
    tables = set(inspect(database.engine).get_table_names())
    before = counts(database)

    result = cli.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"database at {head}"
    assert current_revision(database.engine) == head
    assert set(inspect(database.engine).get_table_names()) == tables
    assert counts(database) == before


# --------------------------------------------------------------------------------------------------
# courts create, staff create


def test_courts_create_and_staff_create_register_a_court_under_its_parent_and_a_working_login(
    cli, database
):
    high = create_court(cli, "BJ", "北京市高级人民法院")
    basic = create_court(cli, parent="BJ")
    clerk = create_staff(cli)

    assert high.exit_code == 0, high.output
    assert basic.output.strip() == "court BJ0105 created: 北京市朝阳区人民法院 (北京)"
    assert clerk.output.strip() == "staff user bj0105-clerk (clerk) created for court BJ0105"
    ((court, parent),) = read(
        database,
        select(Court.name, Court.parent_id).where(Court.code == "BJ0105"),
    )
    assert court == "北京市朝阳区人民法院"
    assert read(database, select(Court.code).where(Court.id == parent)) == [("BJ",)]
    ((user,),) = read(database, select(StaffUser).where(StaffUser.username == "bj0105-clerk"))
    assert user.role.value == "clerk" and user.display_name == "王敏"
    assert check_password_hash(user.password_hash, "a long password")
    actions = [a for (a,) in read(database, select(AuditEntry.action).order_by(AuditEntry.seq))]
    assert actions == ["court.created", "court.created", "staff.created"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["courts", "create", "--code", "HX0101", "--name", "火星人民法院", "--province", "火星"],
            "省份应为以下之一",
        ),
        (
            ["courts", "create", "--code", "BJ0105", "--name", "又一个法院", "--province", "北京"],
            "法院代码 BJ0105 已存在",
        ),
        (
            ["courts", "create", "--code", "BJ0108", "--name", "北京市海淀区人民法院",
             "--province", "北京", "--parent", "BJ01"],
            "上级法院 BJ01 不存在",
        ),
        (
            ["staff", "create", "--court", "BJ0105", "--role", "judge",
             "--username", "bj0105-judge", "--password", "short"],
            "密码至少10位",
        ),
        (
            ["staff", "create", "--court", "BJ0105", "--role", "clerk",
             "--username", "bj0105-clerk", "--password", "another long one"],
            "用户名 bj0105-clerk 已被使用",
        ),
        (
            ["staff", "create", "--court", "SH0101", "--role", "clerk",
             "--username", "sh0101-clerk", "--password", "a long password"],
            "法院 SH0101 不存在",
        ),
    ],
    ids=["unknown province", "duplicate court code", "unknown parent", "short password",
         "duplicate username", "unknown court"],
)  # fmt: skip
def test_bad_court_or_staff_input_is_refused_with_a_clear_error_and_changes_nothing(
    cli, database, args, message
):
    assert create_court(cli).exit_code == 0
    assert create_staff(cli).exit_code == 0
    before = counts(database)

    result = cli.invoke(args=args)

    assert result.exit_code == 1
    assert "Error:" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert counts(database) == before


# --------------------------------------------------------------------------------------------------
# seed-demo


def test_seed_demo_loads_courts_staff_and_listings_in_every_state(cli, database):
    result = cli.invoke(args=["seed-demo", "--listings", str(DEMO_LISTINGS)])
    assert result.exit_code == 0, result.output
    today = SystemClock().today()

    with database.session() as s:
        # Courts in several provinces under their higher courts; the logins printed work.
        courts = {c.code: c for c in s.scalars(select(Court))}
        assert len(courts) >= 12
        assert len({c.province for c in courts.values()}) >= 5
        assert courts["BJ0105"].parent.code == "BJ03" and courts["BJ03"].parent.code == "BJ"
        users = {u.username: u for u in s.scalars(select(StaffUser))}
        assert check_password_hash(users["bj0105-clerk"].password_hash, "demo-clerk-2025")
        assert check_password_hash(users["bj0105-judge"].password_hash, "demo-judge-2025")
        assert check_password_hash(users["bj-admin"].password_hash, "demo-admin-2025")
        assert s.scalar(select(func.count()).select_from(Holiday)) > 0

        # Listings in every state, removed in every way.
        listings = s.scalars(select(Listing)).all()
        assert len(listings) == DEMO_LISTINGS
        statuses = Counter(listing.status.value for listing in listings)
        assert set(statuses) == {"draft", "pending_approval", "approved", "published", "removed"}
        assert all(x.publish_on > today for x in listings if x.status.value == "approved")
        published = [x for x in listings if x.status.value == "published"]
        assert all(x.ends_on is None or x.ends_on > today for x in published)
        removed = [x for x in listings if x.status.value == "removed"]
        assert {x.removal_kind.value for x in removed} == {"deleted", "revoked", "expired"}
        reasons = {x.removal_reason for x in removed if x.removal_kind.value == "deleted"}
        assert len(reasons) >= 5  # Art. 10's reasons, and early deletion of a termed listing

        # The special names, organisations with the people they bind, payments of both kinds.
        names = {subject.name for subject in s.scalars(select(Subject))}
        assert {RARE_NAME, TRADITIONAL_NAME, MIDDLE_DOT_NAME} <= names
        roles = {person.role.value for person in s.scalars(select(BoundPerson))}
        assert {"legal_representative", "principal", "actual_controller"} <= roles
        assert {x.performance.status.value for x in listings} == {"none", "partial", "full"}
        case_numbers = s.execute(
            select(Case.court_id, Case.case_number_key).join(Listing, Listing.case_id == Case.id)
        ).all()
        assert len(set(case_numbers)) == len(case_numbers)

        # Standalone orders and exit bans (one lifted), correction requests at every stage.
        orders = s.scalars(select(RestrictionOrder).where(RestrictionOrder.listing_id.is_(None)))
        kinds = Counter((o.kind.value, o.status.value) for o in orders)
        assert kinds[("consumption", "active")] and kinds[("consumption", "lifted")]
        assert kinds[("exit", "active")] >= 2
        corrections = Counter(c.status.value for c in s.scalars(select(CorrectionRequest)))
        assert {"received", "rejected", "under_reconsideration"} <= set(corrections)

    # The summary and the logins are printed, marked as demo credentials.
    for status, n in statuses.items():
        assert f"{status:<20}{n:>6}" in result.output
    assert "DEMO CREDENTIALS ONLY" in result.output
    for text in ("bj0105-clerk", "demo-clerk-2025", "北京市朝阳区人民法院", "xj-admin"):
        assert text in result.output

    # The journals are whole: the audit chain verifies, the change log has no gap.
    verify = cli.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    seqs = [seq for (seq,) in read(database, select(Change.seq).order_by(Change.seq))]
    assert seqs and seqs == list(range(1, len(seqs) + 1))

    # It never runs twice.
    before = counts(database)
    again = cli.invoke(args=["seed-demo", "--listings", "5"])
    assert again.exit_code == 1
    assert "already has courts" in again.output
    assert counts(database) == before


def test_seed_demo_refuses_a_database_that_already_has_a_court(cli, database):
    assert create_court(cli).exit_code == 0
    before = counts(database)

    result = cli.invoke(args=["seed-demo"])

    assert result.exit_code == 1
    assert "refusing to seed: the database already has courts" in result.output
    assert counts(database) == before

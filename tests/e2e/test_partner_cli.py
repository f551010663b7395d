"""Partner operator commands end to end (``flask --app wsgi partners|deliveries|feed …``)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from blacklist import create_app
from blacklist.audit.models import AuditEntry
from blacklist.changelog.models import Change
from blacklist.db import get_db
from blacklist.partners.models import Hit, Partner, PartnerKey, PushCursor
from tests.factories import (
    fast_password_hashing,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)
from tests.webhook_receiver import start_receiver, verify_signature

KEY = re.compile(r"API key \(id (\d+)\): (bpk_\S+)")
SECRET = re.compile(r"signing secret:\s+(whsec_\S+)")


@pytest.fixture
def app(database, session, clock):
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "CLOCK": clock})
    yield app
    get_db(app).dispose()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _status(client, key):
    return client.get("/api/v1/partner/status", headers={"Authorization": f"Bearer {key}"})


def test_create_prints_the_key_and_secret_once_and_stores_neither(cli, app, database):
    result = cli.invoke(
        args=["partners", "create", "--code", "caac", "--name", "中国民用航空局",
              "--measures", "flight", "--scope", "restriction"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    key_id, key = KEY.search(result.output).groups()
    secret = SECRET.search(result.output).group(1)
    with database.session() as s:
        partner = s.scalar(select(Partner))
        assert partner.code == "caac" and partner.scope.value == "restriction"
        stored = [partner.secret_cipher, *(k.key_hash for k in s.scalars(select(PartnerKey)))]
        assert all(key not in text and secret not in text for text in stored)
        assert database.vault.decrypt(partner.secret_cipher) == secret
        assert s.get(PushCursor, partner.id) is not None
    client = app.test_client()
    assert _status(client, key).get_json()["code"] == "caac"

    listed = cli.invoke(args=["partners", "list"])
    assert "caac" in listed.output and key not in listed.output and secret not in listed.output

    # Rotation without downtime: a second key works beside the first; revoking the first ends it.
    added = cli.invoke(args=["partners", "keys", "add", "--partner", "caac", "--label", "2026"])
    _second_id, second = KEY.search(added.output).groups()
    assert _status(client, key).status_code == 200 and _status(client, second).status_code == 200
    revoked = cli.invoke(args=["partners", "keys", "revoke", "--partner", "caac", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert _status(client, key).status_code == 401 and _status(client, second).status_code == 200
    keys = cli.invoke(args=["partners", "keys", "list", "--partner", "caac"])
    assert "revoked" in keys.output and "2026" in keys.output and second not in keys.output
    again = cli.invoke(args=["partners", "keys", "revoke", "--partner", "caac", key_id])
    assert again.exit_code == 1 and "已经撤销" in again.output

    # Deactivating cuts the partner off; every act is in the audit log.
    assert cli.invoke(args=["partners", "update", "caac", "--inactive"]).exit_code == 0
    assert _status(client, second).status_code == 401
    with database.session() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("partner.%"))
        ).all()
    assert actions == [
        "partner.created", "partner.key_added", "partner.key_added", "partner.key_revoked",
        "partner.updated",
    ]  # fmt: skip


def test_bad_input_is_refused_with_every_problem_named_and_nothing_stored(cli, database):
    result = cli.invoke(
        args=["partners", "create", "--code", "X!", "--name", " ", "--measures", "flight,fly",
              "--scope", "restriction", "--webhook-url", "http://user:pw@example.org/hook"]
    )  # fmt: skip
    assert result.exit_code == 1
    for text in ("code:", "name:", "未知的措施：fly", "webhook_url:"):
        assert text in result.output
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Partner)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    create = ["partners", "create", "--code", "caac", "--name", "民航", "--measures", "flight",
              "--scope", "restriction"]  # fmt: skip
    assert cli.invoke(args=create).exit_code == 0
    duplicate = cli.invoke(args=create)
    assert duplicate.exit_code == 1 and "已存在" in duplicate.output


def test_production_requires_https_webhooks(database, session):
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "WEBHOOK_REQUIRE_HTTPS": True})
    try:
        result = app.test_cli_runner().invoke(
            args=["partners", "create", "--code", "caac", "--name", "民航", "--measures",
                  "flight", "--scope", "restriction", "--webhook-url", "http://example.org/h"]
        )  # fmt: skip
        assert result.exit_code == 1 and "https" in result.output
    finally:
        get_db(app).dispose()


def test_deliveries_run_once_pushes_signed_batches_and_status_reports(
    cli, database, session, clock, monkeypatch
):
    receiver, server = start_receiver()
    try:
        fast_password_hashing(monkeypatch)
        court = setup_court(session, clock)
        result = cli.invoke(
            args=["partners", "create", "--code", "railway", "--name", "国铁集团", "--measures",
                  "hsr_any_seat,emu_first_class,soft_sleeper", "--scope", "restriction",
                  "--webhook-url", receiver.url]
        )  # fmt: skip
        secret = SECRET.search(result.output).group(1)
        publish_listing(session, clock, court)
        session.commit()
        session.close()

        run = cli.invoke(args=["deliveries", "run", "--once"])
        assert run.exit_code == 0, run.output
        assert (
            "railway" in run.output and "delivered" in run.output and "1 attempt(s)" in run.output
        )
        [request] = receiver.received
        assert verify_signature(secret, request.headers, request.body)
        status = cli.invoke(args=["deliveries", "status"])
        assert "railway" in status.output and "failures=0" in status.output

        # A new secret signs the next batch.
        rotated = cli.invoke(args=["partners", "rotate-secret", "railway"])
        new_secret = SECRET.search(rotated.output).group(1)
        assert new_secret != secret
        draft = person_draft(
            name="王五", id_number=resident_id(sequence="457"), case_number="(2024)京0105执77号"
        )
        publish_listing(session, clock, court, draft)
        session.commit()
        session.close()
        assert cli.invoke(args=["deliveries", "run", "--once"]).exit_code == 0
        latest = receiver.received[-1]
        assert verify_signature(new_secret, latest.headers, latest.body)
        assert not verify_signature(secret, latest.headers, latest.body)
    finally:
        server.shutdown()
        server.server_close()


def test_retry_makes_a_backed_off_partner_due_at_once(cli, database, session, clock, monkeypatch):
    receiver, server = start_receiver()
    try:
        fast_password_hashing(monkeypatch)
        court = setup_court(session, clock)
        cli.invoke(
            args=["partners", "create", "--code", "caac", "--name", "民航", "--measures",
                  "flight", "--scope", "restriction", "--webhook-url", receiver.url]
        )  # fmt: skip
        publish_listing(session, clock, court)
        session.commit()
        session.close()
        receiver.answer(500)
        assert "failed" in cli.invoke(args=["deliveries", "run", "--once"]).output
        assert "0 attempt(s)" in cli.invoke(args=["deliveries", "run", "--once"]).output
        assert cli.invoke(args=["partners", "retry", "caac"]).exit_code == 0
        assert "delivered" in cli.invoke(args=["deliveries", "run", "--once"]).output
    finally:
        server.shutdown()
        server.server_close()


def test_feed_prune_deletes_old_changes_and_old_cursors_get_410(
    cli, app, database, session, clock, monkeypatch
):
    fast_password_hashing(monkeypatch)
    court = setup_court(session, clock)
    publish_listing(session, clock, court)
    session.commit()
    result = cli.invoke(
        args=["partners", "create", "--code", "caac", "--name", "民航", "--measures", "flight",
              "--scope", "restriction"]
    )  # fmt: skip
    key = KEY.search(result.output).group(2)
    session.close()
    with database.session() as s:
        head = s.scalar(select(func.max(Change.seq)))
    pruned = cli.invoke(args=["feed", "prune", "--days", "0"])
    assert pruned.exit_code == 0 and f"{head - 1} change(s)" in pruned.output
    client = app.test_client()
    gone = client.get("/api/v1/partner/feed?after=0", headers={"Authorization": f"Bearer {key}"})
    assert gone.status_code == 410 and gone.get_json()["code"] == 410
    fine = client.get(
        f"/api/v1/partner/feed?after={head - 1}", headers={"Authorization": f"Bearer {key}"}
    )
    assert fine.status_code == 200


def test_seed_demo_registers_the_partners_of_the_domain(cli, database):
    result = cli.invoke(args=["seed-demo", "--listings", "30"])
    assert result.exit_code == 0, result.output
    with database.session() as s:
        codes = set(s.scalars(select(Partner.code)))
        hits = s.scalar(select(func.count()).select_from(Hit))
        bank = s.scalar(select(Partner).where(Partner.code == "bank"))
        caac = s.scalar(select(Partner).where(Partner.code == "caac"))
    assert codes == {
        "caac",
        "railway",
        "exit_entry",
        "credit_ref",
        "procurement",
        "market_reg",
        "bank",
    }
    assert hits > 0 and bank.acked_seq < caac.acked_seq
    for code in codes:
        assert re.search(rf"{code}\s+\S+\s+bpk_", result.output)

"""HTTP fixtures shared by the end-to-end tests: the app on the test database with a fixed clock,
its test client, two courts with one account per role, and signing in through the API (bearer
token) or the login page (session cookie, with the CSRF token, as a browser does).

Every account's password is ``PASSWORD``; usernames are ``<court code in lower case>-<role>``,
e.g. ``bj0105-clerk``. Setting up uses the tests' own ``session``, which must not hold a
transaction open while the app is called (on SQLite each transaction holds the write lock): use
``counts(database)`` / ``database.session()`` for reads in a test.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blacklist import create_app
from blacklist.core.actor import Actor, Role
from blacklist.db import Database, get_db
from blacklist.staff import services as staff
from tests.factories import WATCHED_TABLES, fast_password_hashing, setup_court

PASSWORD = "correct horse battery"

_CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


@pytest.fixture
def app(database, session, clock) -> Flask:
    """The app on the test database, on the test's ``clock`` (move it with ``clock.advance``).
    It asks for ``session`` so that the tables are emptied after the test (its own engine is
    disposed first). CSRF protection stays on, as in production."""
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "CLOCK": clock})
    yield app
    get_db(app).dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


def _court_with_staff(session, clock, code: str, province: str) -> dict[str, Actor]:
    """A court with a clerk, a judge, an admin and an auditor (actors by role name)."""
    actors = setup_court(session, clock, code, province=province)
    auditor = staff.create_staff_user(
        session,
        court_code=code,
        role=Role.AUDITOR,
        username=f"{code.lower()}-auditor",
        password=PASSWORD,
        actor=Actor.system("test"),
        clock=clock,
    )
    actors[Role.AUDITOR.value] = auditor.as_actor()
    session.commit()
    return actors


@pytest.fixture
def court(session, clock, monkeypatch) -> dict[str, Actor]:
    """Court BJ0105 (北京): accounts ``bj0105-clerk``, ``-judge``, ``-admin``, ``-auditor``."""
    fast_password_hashing(monkeypatch)
    return _court_with_staff(session, clock, "BJ0105", "北京")


@pytest.fixture
def other_court(session, clock, monkeypatch) -> dict[str, Actor]:
    """Court SH0101 (上海): accounts ``sh0101-clerk``, ``-judge``, ``-admin``, ``-auditor``."""
    fast_password_hashing(monkeypatch)
    return _court_with_staff(session, clock, "SH0101", "上海")


def api_token(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """A bearer token for ``username`` from ``POST /api/v1/auth/token``."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_token(client: FlaskClient, path: str = "/staff/login") -> str:
    """The CSRF token of the form on ``path`` (from its hidden ``csrf_token`` input)."""
    response = client.get(path)
    match = _CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no csrf_token input on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD):
    """Sign in on the login page as a browser does (GET the form, post it with its CSRF token);
    the client keeps the session cookie. Returns the response to the POST (a redirect)."""
    token = csrf_token(client)
    response = client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def live_server(database, session, clock, monkeypatch):
    """The app served on a free local port from a thread, on the test database (for the browser
    tests): ``(base URL, the court's actors by role)``."""
    import threading

    from werkzeug.serving import make_server

    if database.url in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("the browser test needs a file or server database shared across threads")
    fast_password_hashing(monkeypatch)
    courts = setup_court(session, clock)
    session.commit()
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "CLOCK": clock})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", courts
    finally:
        server.shutdown()
        thread.join(timeout=10)
        get_db(app).dispose()


@pytest.fixture
def browser():
    """Debian's chromium through Playwright (its own browser download is never used)."""
    import os
    import shutil

    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def counts(database: Database, tables: tuple[str, ...] = WATCHED_TABLES) -> dict[str, int]:
    """Row counts, read in a short transaction of their own (never blocking the app)."""
    with database.session() as s:
        return {name: s.scalar(text(f"SELECT count(*) FROM {name}")) for name in tables}

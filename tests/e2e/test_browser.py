"""The key staff journey in a real browser (Debian's chromium driven by Playwright): a clerk signs
in, adds an organisation listing with its legal representative and submits it; a judge signs it;
the dashboard and the listing page show it published. Screenshots are saved under
``test-artifacts/`` for people to look at."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from blacklist import create_app
from blacklist.db import get_db
from tests.factories import fast_password_hashing, resident_id, setup_court

CHROMIUM = os.environ.get("BLACKLIST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
    reason=f"chromium not found at {CHROMIUM}: run `make browser` (as root with apt-get) "
    "or set BLACKLIST_CHROMIUM",
)


@pytest.fixture
def live_server(database, session, clock, monkeypatch):
    """The app served on a free local port from a thread, on the test database."""
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
    from playwright.sync_api import sync_playwright

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


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")


def test_a_clerk_adds_an_organisation_listing_and_a_judge_signs_it(live_server, browser):
    base, _courts = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    representative_id = resident_id("19700505", "235")
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")

    sign_in(page, base, "bj0105-clerk")
    assert _new_organisation_listing is not None
    listing_url = _new_organisation_listing(page, base, representative_id)
    page.screenshot(path=str(ARTIFACTS / "1-clerk-listing-submitted.png"), full_page=True)
    page.click("text=退出")

    sign_in(page, base, "bj0105-judge")
    _approve(page, listing_url)
    page.screenshot(path=str(ARTIFACTS / "2-judge-listing-published.png"), full_page=True)
    assert "已发布" in page.inner_text("main")
    assert representative_id not in page.content()  # masked everywhere

    page.goto(f"{base}/staff/")
    page.screenshot(path=str(ARTIFACTS / "3-dashboard.png"), full_page=True)
    assert "北京某某商贸有限公司" in page.inner_text("main")


_new_organisation_listing = None
_approve = None

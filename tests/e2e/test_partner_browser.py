"""The partner registry in a real browser (Debian's chromium driven by Playwright): an
administrator of a top court registers a partner, copies the API key shown once, and the key works
against the partner API; the partner's page never shows it again. Screenshots are saved under
``test-artifacts/``. Served like ``test_browser.py``: the app on a free local port from a thread."""

from __future__ import annotations

import json
import urllib.request

from tests.e2e.browser import ARTIFACTS, needs_chromium

pytestmark = needs_chromium


def partner_status(base: str, key: str) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/partner/status", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_an_administrator_registers_a_partner_and_copies_its_key_once(live_server, browser):
    base, _courts = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")

    page.goto(f"{base}/staff/login")
    page.fill("#username", "bj0105-admin")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")

    page.click("nav >> text=合作单位")
    page.click("main >> text=登记合作单位")
    page.fill("#code", "railway")
    page.fill("#name", "中国国家铁路集团有限公司")
    for measure in ("hsr_any_seat", "emu_first_class", "soft_sleeper"):
        page.check(f"input[name=measures][value={measure}]")
    page.check("input[name=scope][value=restriction]")
    page.screenshot(path=str(ARTIFACTS / "partner-1-new-form.png"), full_page=True)
    page.click("#new-partner button[type=submit]")

    page.wait_for_selector("#api-key")
    key = page.inner_text("#api-key").strip()
    secret = page.inner_text("#signing-secret").strip()
    assert key.startswith("bpk_") and secret.startswith("whsec_")
    assert "只显示这一次" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "partner-2-key-shown-once.png"), full_page=True)

    status = partner_status(base, key)
    assert status["code"] == "railway"
    assert status["measures"] == ["soft_sleeper", "hsr_any_seat", "emu_first_class"]

    page.click("text=我已妥善保存")
    page.wait_for_selector("#keys")
    assert key not in page.content() and secret not in page.content()
    assert key[:10] in page.inner_text("#keys")  # the prefix tells keys apart
    page.screenshot(path=str(ARTIFACTS / "partner-3-partner-page.png"), full_page=True)

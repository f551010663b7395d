"""The application as a whole: configuration, the home page, health, error shapes, static files."""

from __future__ import annotations

import pytest

from blacklist import create_app
from blacklist.db import get_db


@pytest.fixture
def app(database):
    app = create_app({"DATABASE_URL": database.url, "TESTING": True})
    yield app
    get_db(app).dispose()


def test_the_home_page_is_in_chinese(app):
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "失信被执行人名单" in response.get_data(as_text=True)


def test_health_check_reaches_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_an_unknown_api_path_answers_with_the_api_error_shape(app):
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == 404 and body["status"] == "Not Found"
    assert body["message"] and body["errors"] == {}


def test_an_unknown_page_answers_with_a_chinese_error_page(app):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


def test_production_refuses_to_start_with_development_secrets(monkeypatch):
    monkeypatch.setenv("BLACKLIST_DATABASE_URL", "sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_its_own_secrets(monkeypatch):
    import base64
    import os

    monkeypatch.setenv("BLACKLIST_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("BLACKLIST_SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("BLACKLIST_ID_HASH_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("BLACKLIST_ID_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    app = create_app("production")
    assert app.config["DATABASE_URL"] == "sqlite://"
    get_db(app).dispose()


def test_environment_variables_override_the_configuration(monkeypatch, database):
    monkeypatch.setenv("BLACKLIST_FEED_RETENTION_DAYS", "45")
    app = create_app({"DATABASE_URL": database.url})
    assert app.config["FEED_RETENTION_DAYS"] == 45
    get_db(app).dispose()


def test_the_staff_stylesheet_is_served(app):
    with app.test_client() as client:
        response = client.get("/static/staff.css")
        assert response.status_code == 200
        assert "text/css" in response.content_type
        assert ".topbar" in response.get_data(as_text=True)
        response.close()

"""blacklist: the published list of dishonest judgment debtors (失信被执行人名单) and the joint
sanctions driven by it. ``create_app`` is the only entry point; nothing runs at import time."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask


def create_app(config: str | type | dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is a name from ``config.CONFIGS`` ("development", "testing",
    "production"), a config class, or a dict of overrides on top of ``BLACKLIST_CONFIG`` (default
    "development"). ``BLACKLIST_*`` environment variables override everything but explicit dicts."""
    from config import CONFIGS, ProductionConfig

    # Static files are served by the "web" blueprint (blacklist/web/static) at /static.
    app = Flask(
        __name__, static_folder=None, instance_path=os.environ.get("BLACKLIST_INSTANCE_PATH")
    )
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides, config = config, None
    if config is None:
        config = os.environ.get("BLACKLIST_CONFIG", "development")
    config_class = CONFIGS[config] if isinstance(config, str) else config
    app.config.from_object(config_class)
    app.config.from_prefixed_env("BLACKLIST")
    app.config.update(overrides)
    if config_class is ProductionConfig:
        ProductionConfig.check(app.config)
    app.json.ensure_ascii = False

    logging.getLogger("blacklist").setLevel(logging.INFO)

    from blacklist import db

    db.init_app(app)

    from flask_wtf.csrf import CSRFProtect

    from blacklist.web import api, errors, pages, ratelimit

    if app.config.get("PROXY_FIX_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    csrf = CSRFProtect(app)
    ratelimit.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    app.register_blueprint(pages.bp)
    _register_features(app, api.api, csrf)

    from blacklist import cli

    cli.init_app(app)
    return app


def _register_features(app: Flask, api: Any, csrf: Any) -> None:
    """Pages are Flask blueprints behind CSRF protection; API blueprints (flask-smorest) use
    bearer tokens, not cookies, so CSRF does not apply to them."""
    from blacklist.corrections import api as correction_api
    from blacklist.corrections import views as correction_views
    from blacklist.documents import api as document_api
    from blacklist.documents import views as document_views
    from blacklist.holidays import views as holiday_views
    from blacklist.listing import api as listing_api
    from blacklist.listing import views as listing_views
    from blacklist.partners import admin_views as partner_admin_views
    from blacklist.partners import api as partner_api
    from blacklist.partners import views as partner_views
    from blacklist.publication import api as public_api
    from blacklist.publication import views as public_views
    from blacklist.restrictions import api as order_api
    from blacklist.restrictions import views as order_views
    from blacklist.scheduler import views as scheduler_views
    from blacklist.staff import admin_views as staff_admin_views
    from blacklist.staff import api as staff_api
    from blacklist.staff import views as staff_views

    for blueprint in (
        public_views.bp,
        staff_views.bp,
        staff_admin_views.bp,
        listing_views.bp,
        holiday_views.bp,
        partner_views.bp,
        partner_admin_views.bp,
        scheduler_views.bp,
        order_views.bp,
        correction_views.public_bp,
        correction_views.bp,
        document_views.bp,
    ):
        app.register_blueprint(blueprint)
    for blueprint in (
        staff_api.blp,
        listing_api.blp,
        public_api.blp,
        partner_api.blp,
        order_api.blp,
        correction_api.blp,
        document_api.blp,
        document_api.public_blp,
    ):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)

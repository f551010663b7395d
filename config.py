"""Configuration classes. ``create_app`` loads one, then every ``BLACKLIST_*`` environment variable
(``app.config.from_prefixed_env("BLACKLIST")``), so ``BLACKLIST_DATABASE_URL=...`` overrides
``DATABASE_URL``. The README lists every variable."""

from __future__ import annotations

import os

DEV_SECRET = "dev-secret-key-not-for-production"
# Development-only keys: 32 bytes each, base64. Production refuses to start with them.
DEV_ID_HASH_KEY = "ZGV2LWlkLWhhc2gta2V5LW5vdC1mb3ItcHJvZHVjdGk="
DEV_ID_ENCRYPTION_KEY = "ZGV2LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc="


class Config:
    """Safe defaults shared by every environment."""

    SECRET_KEY = DEV_SECRET
    #: SQLAlchemy URL of the primary database (SQLite file under instance/ when unset).
    DATABASE_URL: str | None = None
    #: Optional read replica for public search (falls back to DATABASE_URL).
    READ_DATABASE_URL: str | None = None
    #: Log every SQL statement.
    SQL_ECHO = False
    #: HMAC key for the ID-number lookup hash (base64, >= 32 bytes). Changing it orphans every hash.
    ID_HASH_KEY = DEV_ID_HASH_KEY
    #: AES-256-GCM key for ID numbers at rest (base64, 32 bytes).
    ID_ENCRYPTION_KEY = DEV_ID_ENCRYPTION_KEY
    #: Older encryption keys still accepted for decryption, comma-separated "id:base64key" pairs.
    ID_ENCRYPTION_OLD_KEYS = ""
    #: Staff web sessions end after this many idle minutes, and after this many hours in all.
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    #: Lifetime of a staff API bearer token.
    API_TOKEN_HOURS = 12
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    #: CSRF tokens of staff forms stay valid as long as a session can.
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    #: Run the scheduler and the push worker as background threads of the web process.
    SCHEDULER_IN_PROCESS = False
    #: Days the change log keeps items before partners must take a new snapshot.
    FEED_RETENTION_DAYS = 30
    #: Partners' webhook URLs must use https (production); http is allowed for local testing.
    WEBHOOK_REQUIRE_HTTPS = False
    #: Removals a partner has not acknowledged within this many minutes are flagged.
    PARTNER_ACK_DEADLINE_MINUTES = 60
    #: Redis or memory storage for rate limits (used by the public pages).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: Always set: Flask-Limiter's ``init_app`` otherwise inherits the switch from the last app built
    #: in the same process (its limiter is one object), so one app built with limits off would turn
    #: them off for every app after it.
    RATELIMIT_ENABLED = True
    #: Per client (IP address): public searches (pages and API together), and record/statistics pages.
    PUBLIC_SEARCH_RATE_LIMIT = "30 per minute;600 per day"
    PUBLIC_RECORD_RATE_LIMIT = "120 per minute"
    #: Correction and reconsideration filings per client (public form, Arts. 11–12).
    CORRECTION_RATE_LIMIT = "20 per hour;100 per day"
    #: The largest attachment (PDF or JPEG) of a correction request, in bytes.
    CORRECTION_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    #: The CJK font embedded in PDF documents; None: Noto Serif CJK SC from the mplfonts package.
    DOCUMENT_FONT_PATH: str | None = None
    #: Number of proxies in front of the app whose X-Forwarded-For / -Proto to trust (0: none).
    PROXY_FIX_HOPS = 0
    #: flask-smorest / OpenAPI.
    API_TITLE = "blacklist API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
    TESTING = False


class DevelopmentConfig(Config):
    """``make run``: SQLite under instance/, demo data."""

    DEBUG = False
    SCHEDULER_IN_PROCESS = True
    #: The demo's history goes back three years: keep all of it followable.
    FEED_RETENTION_DAYS = 3650


class TestingConfig(Config):
    """Tests: a throw-away database chosen by BLACKLIST_TEST_DATABASE_URL (SQLite by default)."""

    TESTING = True
    DATABASE_URL = os.environ.get("BLACKLIST_TEST_DATABASE_URL") or "sqlite://"


class ProductionConfig(Config):
    """Production refuses to start with development secrets or without a database URL."""

    SESSION_COOKIE_SECURE = True
    WEBHOOK_REQUIRE_HTTPS = True

    @staticmethod
    def check(config: dict) -> None:
        problems = []
        if config.get("SECRET_KEY") in (None, "", DEV_SECRET):
            problems.append("BLACKLIST_SECRET_KEY must be set")
        if not config.get("DATABASE_URL"):
            problems.append("BLACKLIST_DATABASE_URL must be set")
        if config.get("ID_HASH_KEY") in (None, "", DEV_ID_HASH_KEY):
            problems.append("BLACKLIST_ID_HASH_KEY must be set")
        if config.get("ID_ENCRYPTION_KEY") in (None, "", DEV_ID_ENCRYPTION_KEY):
            problems.append("BLACKLIST_ID_ENCRYPTION_KEY must be set")
        if problems:
            raise RuntimeError("refusing to start: " + "; ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

"""Per-client rate limits for the public pages and the public API (Flask-Limiter), so the list can
be looked up but not scraped wholesale (DOMAIN.md §6). Counters live in memory by default and in
Redis when ``RATELIMIT_STORAGE_URI=redis://…`` (several web processes share them).

Limits are shared by the pages and the API of the same kind (scope ``public-search``,
``public-record``), so switching from the page to the API does not double a client's allowance.
A client is its IP address; behind a load balancer set ``PROXY_FIX_HOPS`` so the address is the
client's, not the balancer's.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, key_prefix="blacklist")


def search_limit() -> str:
    return current_app.config["PUBLIC_SEARCH_RATE_LIMIT"]


def record_limit() -> str:
    return current_app.config["PUBLIC_RECORD_RATE_LIMIT"]


#: Decorators for public views: ``@public_search_limit`` on search pages and endpoints,
#: ``@public_record_limit`` on record pages and statistics.
public_search_limit = limiter.shared_limit(search_limit, scope="public-search")
public_record_limit = limiter.shared_limit(record_limit, scope="public-record")


def init_app(app: Flask) -> None:
    limiter.init_app(app)

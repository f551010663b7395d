"""Public JSON API (API.md, public part): anonymous, rate-limited reads of the published list.

Every call reads through ``publication.queries``, like the public pages, so the API shows nothing
the pages do not (DOMAIN.md §6): currently published listings only, ID numbers masked, never the
creditor. Searches are checked by ``queries.parse_query`` (its ``ValidationFailed`` becomes API.md's
422 in ``web/errors.py``).

Rate limits are shared with the pages of the same kind (``web/ratelimit.py``): a client has one
search allowance for ``/search`` and ``/api/v1/public/listings`` together. The limit decorator is
the outermost one, so every request counts, a refused one too, before anything else is done.

Caching: a record answers with an ``ETag`` of its body and ``Cache-Control: public, no-cache`` (a
cache may keep it but must ask again: a removal takes effect at once), and 304 to a matching
``If-None-Match``; statistics may be kept for a minute (they are computed at most once a minute
anyway); searches and errors are never stored (``no-store``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from blacklist.db import get_session
from blacklist.partners.views import ack_deadline
from blacklist.publication import queries
from blacklist.publication.schemas import (
    PublicListingPageSchema,
    PublicListingSchema,
    PublicSearchArgs,
    RestrictedPageSchema,
    StatisticsSchema,
)
from blacklist.staff import auth
from blacklist.web.api import error_responses
from blacklist.web.ratelimit import public_record_limit, public_search_limit

blp = Blueprint(
    "public",
    __name__,
    url_prefix="/api/v1/public",
    description="公开查询（匿名访问，按客户端限制频率）",
)

#: Anonymous: no credentials (stated explicitly so that a global default can never apply).
NO_AUTH: list = []

_ERRORS = {
    404: "未找到该记录：编号不存在、尚未公布或已移出名单",
    422: "查询条件有误（errors 按字段列出）",
    429: "查询过于频繁：请在 Retry-After 头所示的秒数后再试",
}


errors = error_responses(blp, _ERRORS)


def revalidated(view: Callable) -> Callable:
    """A record may be cached but must be revalidated (a removal takes effect at once): ``ETag``
    of the body (so it changes with anything shown, the age included) and 304 to a matching
    ``If-None-Match`` (werkzeug's conditional response; the body is dropped)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = view(*args, **kwargs)
        response.add_etag()
        response.cache_control.public = True
        response.cache_control.no_cache = True
        return response.make_conditional(request)

    return wrapper


@blp.after_request
def _cache_policy(response: Response) -> Response:
    """Searches and errors: no browser or proxy may keep a copy (a removal takes effect at once,
    and a search names people). Records and statistics set their own policy."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _today() -> date:
    return auth.clock().today()


def _parse(args: dict[str, str]) -> queries.PublicQuery:
    """The search the query string asks for, checked as the public pages check it."""
    return queries.parse_query(
        get_session(),
        name=args.get("name"),
        id_number=args.get("id_number"),
        province=args.get("province"),
        page=args.get("page"),
        per_page=args.get("per_page"),
    )


@blp.route("/listings")
class PublicListings(MethodView):
    @public_search_limit
    @blp.doc(security=NO_AUTH)
    @blp.response(200, PublicListingPageSchema)
    @errors(422, 429)
    @blp.arguments(PublicSearchArgs, location="query", as_kwargs=True)
    def get(self, **args: str):
        """Search the published list by a name (2+ characters; a person's full name, or 3+
        characters of an organisation's name) or an exact ID number / credit code, optionally in
        one province. Newest publications first; no query pages past 500 results."""
        return queries.search_listings(get_session(), _parse(args), today=_today())


@blp.route("/listings/<string:public_id>")
class PublicListingById(MethodView):
    @public_record_limit
    @blp.doc(security=NO_AUTH)
    @revalidated
    @blp.response(200, PublicListingSchema)
    @blp.alt_response(304, description="未变化（If-None-Match 与 ETag 相同）")
    @errors(404, 429)
    def get(self, public_id: str):
        """One published listing by its public id; 404 once it has been removed (or if it was
        never published)."""
        listing = queries.get_published(get_session(), public_id, today=_today())
        if listing is None:
            abort(404, message=_ERRORS[404])
        return listing


@blp.route("/restricted")
class RestrictedPeople(MethodView):
    @public_search_limit
    @blp.doc(security=NO_AUTH)
    @blp.response(200, RestrictedPageSchema)
    @errors(422, 429)
    @blp.arguments(PublicSearchArgs, location="query", as_kwargs=True)
    def get(self, **args: str):
        """Search the people and organisations under a consumption restriction order (限制消费人员):
        listed debtors, and the legal representatives and other people bound with a listed
        organisation. A person's full name or an exact ID number / credit code is required."""
        return queries.search_restricted(get_session(), _parse(args))


@blp.route("/stats")
class PublicStatistics(MethodView):
    @public_record_limit
    @blp.doc(security=NO_AUTH)
    @blp.response(200, StatisticsSchema)
    @errors(429)
    def get(self):
        """Current totals, published listings by province, and for each of the last twelve months
        the new listings, the removals by reason, and the sanctions partners reported applying
        (hits) by measure; per partner, its newest acknowledgement and the removals it has not
        acknowledged in time."""
        stats = queries.statistics(
            get_session(), today=_today(), now=auth.clock().now(), ack_deadline=ack_deadline()
        )
        return stats, {"Cache-Control": "public, no-cache"}

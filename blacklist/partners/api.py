"""Partner JSON API (API.md, partner part): ``Authorization: Bearer <partner key>``.

A partner sees only its measures and its scope's records, with full ID numbers (DOMAIN.md §6: they
leave the system only to authenticated partners whose measures need them). Nothing here is cached
by browsers or proxies, and every call is logged (partner, call, counts; never an ID number) so each
access stays attributable (PIPL).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, g, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from blacklist.changelog.writer import last_seq
from blacklist.core.errors import NotAuthenticated
from blacklist.db import get_db, get_session
from blacklist.partners import checks, feed, services
from blacklist.partners.feed import Subscription
from blacklist.partners.models import Partner, PushCursor
from blacklist.partners.schemas import (
    AckResultSchema,
    AckSchema,
    CheckRequestSchema,
    CheckResponseSchema,
    FeedPageSchema,
    FeedQuerySchema,
    HitResultSchema,
    HitSchema,
    PartnerStatusSchema,
)
from blacklist.restrictions.catalogue import codes_of
from blacklist.staff import auth
from blacklist.web.api import error_responses, fast_json

log = logging.getLogger("blacklist.partners.access")

blp = Blueprint(
    "partner",
    __name__,
    url_prefix="/api/v1/partner",
    description="合作单位接口（联合惩戒）：增量、快照、核查、确认、惩戒反馈",
)

PARTNER_KEY = [{"partnerKey": []}]

_ERRORS = {
    401: "缺少合作单位密钥，或密钥无效、已撤销",
    403: "本单位未承担该项措施",
    410: "游标早于变更日志的保留范围：请重新获取全量快照",
    422: "提交的信息有误（errors 按字段列出）",
}


errors = error_responses(blp, _ERRORS)


def current_partner() -> Partner:
    if g.get("partner") is not None:
        return g.partner
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("缺少合作单位密钥：请在 Authorization 头中提供 Bearer 密钥")
    g.partner = services.resolve_key(get_session(), key.strip())
    g.partner_code = g.partner.code
    return g.partner


def partner_api(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        current_partner()
        return view(*args, **kwargs)

    return wrapper


@blp.after_request
def _not_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    log.info(
        "partner=%s %s %s -> %s %s",
        g.get("partner_code", "-"),
        request.method,
        request.path,
        response.status_code,
        g.get("access_note", ""),
    )
    return response


@blp.route("/feed")
class Feed(MethodView):
    @blp.doc(security=PARTNER_KEY)
    @blp.response(200, FeedPageSchema)
    @errors(401, 410, 422)
    @partner_api
    @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
    def get(self, after: int, limit: int):
        """Changes relevant to this partner after ``after``, in seq order: ``upsert`` with the
        record cut to the partner's measures and scope, ``remove`` with ``record: null``. Follow
        ``next_after`` while ``has_more``. ``410`` when ``after`` is older than the retention
        window: take a new snapshot."""
        page = feed.feed_page(
            get_session(), Subscription.of(current_partner()), after=after, limit=limit
        )
        g.access_note = f"after={after} items={len(page.items)} next_after={page.next_after}"
        return fast_json(
            {"items": page.items, "next_after": page.next_after, "has_more": page.has_more}
        )


@blp.route("/snapshot")
class Snapshot(MethodView):
    @blp.doc(
        security=PARTNER_KEY,
        responses={
            "200": {
                "description": 'NDJSON：每行一个 {"type", "key", "record"}；'
                "响应头 X-Feed-Seq 为此后跟随增量的起点",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
    )
    @errors(401)
    @partner_api
    def get(self):
        """Everything currently in force for this partner, streamed from one consistent read, with
        the seq (``X-Feed-Seq``) to follow the feed from."""
        sub = Subscription.of(current_partner())
        # End the request session's transaction now: on SQLite it would hold the write lock for as
        # long as the snapshot streams.
        get_session().rollback()
        session = get_db().snapshot_session()
        try:
            seq, lines = feed.snapshot_lines(session, sub)
        except BaseException:
            session.close()
            raise

        def stream():
            sent = 0
            try:
                for chunk in lines:
                    sent += chunk.count(b"\n")
                    yield chunk
            finally:
                session.close()
                log.info("partner=%s snapshot seq=%s records=%s", sub.code, seq, sent)

        return Response(
            stream_with_context(stream()),
            mimetype="application/x-ndjson",
            headers={"X-Feed-Seq": str(seq), "Cache-Control": "no-store"},
        )


@blp.route("/checks")
class Checks(MethodView):
    @blp.doc(security=PARTNER_KEY)
    @blp.response(200, CheckResponseSchema)
    @errors(401, 403, 422)
    @partner_api
    @blp.arguments(CheckRequestSchema)
    def post(self, body):
        """Whether a measure binds each of up to 1000 people, and why (role, measures, source), in
        the order asked. A person bound by an organisation's listing (its legal representative…)
        is restricted too."""
        results = checks.check_people(
            get_session(), Subscription.of(current_partner()), body["measure"], body["people"]
        )
        restricted = sum(1 for r in results if r["restricted"])
        g.access_note = f"measure={body['measure']} people={len(results)} restricted={restricted}"
        return fast_json({"results": results})


@blp.route("/acks")
class Acks(MethodView):
    @blp.doc(security=PARTNER_KEY)
    @blp.response(200, AckResultSchema)
    @errors(401, 422)
    @partner_api
    @blp.arguments(AckSchema)
    def post(self, body):
        """Everything relevant up to ``seq`` has been applied (cumulative). An ack below the current
        one changes nothing; beyond the newest seq is refused."""
        partner = services.acknowledge(
            get_session(), current_partner(), body["seq"], ip=auth.client_ip(), clock=auth.clock()
        )
        return {"acked_seq": partner.acked_seq, "acked_at": partner.acked_at}


@blp.route("/hits")
class Hits(MethodView):
    @blp.doc(security=PARTNER_KEY)
    @blp.response(201, HitResultSchema)
    @blp.alt_response(
        200, schema=HitResultSchema, description="同一 reference 已报告过：返回原记录"
    )
    @errors(401, 403, 422)
    @partner_api
    @blp.arguments(HitSchema)
    def post(self, body):
        """Report a sanction applied (a refused ticket, a rejected bid). ``in_force`` in the answer
        says whether the person was still restricted then: a hit after the lifting is an error the
        courts will look into."""
        hit, created = services.report_hit(
            get_session(), current_partner(), clock=auth.clock(), **body
        )
        return hit, 201 if created else 200


@blp.route("/status")
class Status(MethodView):
    @blp.doc(security=PARTNER_KEY)
    @blp.response(200, PartnerStatusSchema)
    @errors(401)
    @partner_api
    def get(self):
        """This partner's subscription, its acknowledged and pushed seqs, and the log's range."""
        session = get_session()
        partner = current_partner()
        cursor = session.get(PushCursor, partner.id)
        return {
            "code": partner.code,
            "name": partner.name,
            "measures": codes_of(partner.measures),
            "scope": partner.scope.value,
            "acked_seq": partner.acked_seq,
            "acked_at": partner.acked_at,
            "pushed_seq": cursor.pushed_seq if cursor and partner.webhook_url else None,
            "newest_seq": last_seq(session),
            "oldest_retained_seq": feed.oldest_retained_seq(session),
        }

"""Staff JSON API of consumption orders and exit bans (DOMAIN.md §3, API.md style).

Every call needs a staff bearer token and is limited to the caller's court: another court's order
answers 404, like one that does not exist. Judges issue and lift; any staff member of the court
reads. Who may do what is decided by the services, so the API and the pages cannot disagree.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from blacklist.db import get_session
from blacklist.listing.schemas import HistorySchema
from blacklist.restrictions import services
from blacklist.restrictions.models import RestrictionOrder
from blacklist.restrictions.schemas import (
    LiftingSchema,
    OrderInSchema,
    OrderPageSchema,
    OrderQuerySchema,
    StaffOrderSchema,
)
from blacklist.staff import auth
from blacklist.web.api import BEARER, error_responses
from blacklist.web.privacy import never_cached

blp = Blueprint(
    "orders_api",
    __name__,
    url_prefix="/api/v1/orders",
    description="限制消费令与限制出境（员工接口）",
)

_ERRORS = {
    401: "缺少访问令牌，或令牌无效、已过期、已撤销",
    403: "只有执行法官可以发出或解除限制令",
    404: "未找到该限制令（或不属于本院）",
    409: "限制令当前状态不允许此操作（已解除、重复发出，或随名单发出且名单仍有效）",
    422: "提交的信息有误（errors 按字段列出）",
}

errors = error_responses(blp, _ERRORS)


never_cached(blp)


def _one(order: RestrictionOrder):
    return services.staff_orders(get_session(), [order])[0]


@blp.route("")
class Orders(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, OrderPageSchema)
    @errors(401, 422)
    @auth.staff_api()
    @blp.arguments(OrderQuerySchema, location="query", as_kwargs=True)
    def get(self, page: int, per_page: int, kind=None, status=None, q=None):
        """The court's orders, newest first (any staff role): standalone consumption orders, exit
        bans, and listings' consumption orders (with ``listing_public_id``). ``q``: a name, an exact
        ID number or credit code, or a case number."""
        session = get_session()
        items, total = services.list_orders(
            session, actor=auth.api_actor(), kind=kind, status=status, q=q, page=page,
            per_page=per_page,
        )  # fmt: skip
        return {
            "items": services.staff_orders(session, items),
            "page": page,
            "per_page": per_page,
            "total": total,
        }

    @blp.doc(security=BEARER)
    @blp.response(201, StaffOrderSchema)
    @errors(401, 403, 409, 422)
    @auth.staff_api()
    @blp.arguments(OrderInSchema)
    def post(self, data):
        """Issue a consumption order or an exit ban (judge). An organisation's consumption order
        binds its legal representative and the other people named; an exit ban binds one natural
        person only (Civil Procedure Law Art. 266)."""
        order = services.issue_order(
            get_session(), data, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(order)


@blp.route("/<string:public_id>")
class OrderById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffOrderSchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, public_id: str):
        """One order of the court (any staff role)."""
        return _one(services.get_order(get_session(), public_id, actor=auth.api_actor()))


@blp.route("/<string:public_id>/history")
class OrderHistory(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, HistorySchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, public_id: str):
        """The order's audit entries, oldest first (DOMAIN.md §8)."""
        return {"items": services.history(get_session(), public_id, actor=auth.api_actor())}


@blp.route("/<string:public_id>/lifting")
class OrderLifting(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffOrderSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(LiftingSchema)
    def post(self, data, public_id: str):
        """Lift an order (judge, 2015 provisions Art. 9): ``performed`` must be granted;
        ``security`` and ``creditor_consent`` may be, with the reasons in ``note``. A listing's
        consumption order is lifted here only after its listing expired."""
        order = services.lift_order(
            get_session(), public_id, data, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(order)

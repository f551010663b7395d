"""Staff JSON API of the listing lifecycle (API.md, staff part).

Every call needs a staff bearer token and is limited to the caller's court: another court's
listing answers 404, like one that does not exist. Who may do what is decided by the services
(``rules.check_act``), not here, so the API, the pages and the CLI cannot disagree. A view parses
the request with a schema, calls one service and dumps the result with a schema.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from blacklist.db import get_session
from blacklist.listing import services
from blacklist.listing.models import Listing
from blacklist.listing.schemas import (
    ApprovalSchema,
    DeletionSchema,
    DraftSchema,
    ExtensionSchema,
    HistorySchema,
    IdNumberSchema,
    ListingPageSchema,
    ListingPatchSchema,
    ListingQuerySchema,
    PaymentSchema,
    ReasonSchema,
    RevealSchema,
    StaffListing,
    StaffListingSchema,
)
from blacklist.restrictions.catalogue import codes_of
from blacklist.restrictions.queries import measures_in_force
from blacklist.staff import auth
from blacklist.web.api import BEARER, error_responses
from blacklist.web.privacy import never_cached

blp = Blueprint("listings", __name__, url_prefix="/api/v1/listings", description="名单（员工接口）")

_ERRORS = {
    401: "缺少访问令牌，或令牌无效、已过期、已撤销",
    403: "您的角色不能执行此操作",
    404: "未找到该名单（或不属于本院）",
    409: "名单当前状态不允许此操作，或已被他人修改",
    422: "提交的信息有误（errors 按字段列出）",
}


errors = error_responses(blp, _ERRORS)


never_cached(blp)


def staff_view(session: Session, listings: Iterable[Listing]) -> list[StaffListing]:
    """Listings as staff see them, with the measures in force because of each: the union of its
    active restriction rows (the debtor's joint sanctions and the consumption order of everyone the
    listing binds), read in one query for the whole page."""
    listings = list(listings)
    masks = measures_in_force(session, (listing.id for listing in listings))
    return [StaffListing(listing, codes_of(masks[listing.id])) for listing in listings]


def _one(listing: Listing) -> StaffListing:
    return staff_view(get_session(), [listing])[0]


@blp.route("")
class Listings(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ListingPageSchema)
    @errors(401, 422)
    @auth.staff_api()
    @blp.arguments(ListingQuerySchema, location="query", as_kwargs=True)
    def get(self, page: int, per_page: int, status: str | None = None, q: str | None = None):
        """The court's listings, newest first (any staff role). ``q``: a name, an exact ID number or
        credit code, or a case number."""
        session = get_session()
        items, total = services.list_listings(
            session,
            actor=auth.api_actor(),
            status=status,
            q=q,
            page=page,
            per_page=per_page,
        )
        return {
            "items": staff_view(session, items),
            "page": page,
            "per_page": per_page,
            "total": total,
        }

    @blp.doc(security=BEARER)
    @blp.response(201, StaffListingSchema)
    @errors(401, 403, 409, 422)
    @auth.staff_api()
    @blp.arguments(DraftSchema)
    def post(self, draft):
        """Draft a listing (clerk, judge). The same debtor cannot be drafted twice in one case."""
        listing = services.create_draft(
            get_session(), draft, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>")
class ListingById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, listing_id: int):
        """One listing of the court (any staff role)."""
        return _one(services.get_listing(get_session(), listing_id, actor=auth.api_actor()))

    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ListingPatchSchema)
    def patch(self, patch, listing_id: int):
        """Edit a draft (clerk, judge); on an approved or published listing, a correction (更正,
        Art. 9) with ``reason``. Each part given replaces that part whole."""
        listing = services.edit_listing(
            get_session(), listing_id, patch, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/history")
class ListingHistory(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, HistorySchema)
    @errors(401, 404)
    @auth.staff_api()
    def get(self, listing_id: int):
        """The listing's audit entries, oldest first (DOMAIN.md §8)."""
        return {"items": services.history(get_session(), listing_id, actor=auth.api_actor())}


@blp.route("/<int:listing_id>/submit")
class ListingSubmission(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    def post(self, listing_id: int):
        """Submit a draft for the judge's signature: draft → pending_approval."""
        listing = services.submit_listing(
            get_session(), listing_id, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/approve")
class ListingApproval(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ApprovalSchema)
    def post(self, decision, listing_id: int):
        """Sign the decision (judge, Art. 5): published at once, or approved until the grace period
        ends."""
        listing = services.approve_listing(
            get_session(), listing_id, decision, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/reject")
class ListingRejection(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ReasonSchema)
    def post(self, data, listing_id: int):
        """Send a draft back to the clerk with reasons (judge): pending_approval → draft."""
        listing = services.reject_listing(
            get_session(), listing_id, data["reason"], actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/performances")
class ListingPerformances(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(201, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(PaymentSchema)
    def post(self, payment, listing_id: int):
        """Record a payment (clerk, judge). Full performance lifts the consumption order and makes
        the deletion due (Art. 10), or proposes early deletion of a termed listing (Art. 2)."""
        listing = services.record_performance(
            get_session(), listing_id, payment, actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/deletion")
class ListingDeletion(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(DeletionSchema)
    def post(self, data, listing_id: int):
        """Delete (删除, judge) for one of the Art. 10 reasons; partners receive a removal."""
        listing = services.delete_listing(
            get_session(),
            listing_id,
            data["reason"],
            note=data["note"],
            actor=auth.api_actor(),
            clock=auth.clock(),
        )
        return _one(listing)


@blp.route("/<int:listing_id>/revocation")
class ListingRevocation(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ReasonSchema)
    def post(self, data, listing_id: int):
        """Revoke (撤销, judge) a listing that should never have been made (Art. 9)."""
        listing = services.revoke_listing(
            get_session(), listing_id, data["reason"], actor=auth.api_actor(), clock=auth.clock()
        )
        return _one(listing)


@blp.route("/<int:listing_id>/extension")
class ListingExtension(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, StaffListingSchema)
    @errors(401, 403, 404, 409, 422)
    @auth.staff_api()
    @blp.arguments(ExtensionSchema)
    def post(self, data, listing_id: int):
        """Extend the term by 1–3 years, 5 in total at most (judge, Art. 2)."""
        listing = services.extend_listing(
            get_session(),
            listing_id,
            data["years"],
            data["reason"],
            actor=auth.api_actor(),
            clock=auth.clock(),
        )
        return _one(listing)


@blp.route("/<int:listing_id>/id-number")
class ListingIdNumber(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, IdNumberSchema)
    @errors(401, 403, 404, 422)
    @auth.staff_api()
    @blp.arguments(RevealSchema)
    def post(self, data, listing_id: int):
        """Open the full ID number of the debtor, or of a bound person by ``person_id`` (clerk,
        judge). Staff see masked numbers everywhere else; each opening is audited (PIPL)."""
        number = services.reveal_id_number(
            get_session(),
            listing_id,
            person_id=data["person_id"],
            actor=auth.api_actor(),
            clock=auth.clock(),
        )
        return {"id_number": number}

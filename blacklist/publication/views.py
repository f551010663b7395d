"""Public pages (DOMAIN.md §6): the search form, results, a record page per published listing, the
consumption-restricted people (限制消费人员), statistics, and how to apply for correction.

No login, no cookies: every page is a GET, so a CDN may hold the record and statistics pages.
Every read goes through ``publication.queries``, which only ever sees *published* listings, so a
removal disappears from search and record pages at once (statistics are aggregates, cached for a
minute by the query and by caches). Search pages are rate-limited per client and send
``no-store`` (their URLs hold names); record pages carry an ETag and ``no-cache`` (a CDN may store
them but must revalidate, so a removal shows at once); statistics may be cached for a minute.

Bad input never reaches an error page: ``parse_query``'s field errors are shown beside the form
fields (HTTP 422) with the entered values kept, and Jinja escapes everything that is echoed.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, make_response, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from blacklist.core.errors import ErrorCollector
from blacklist.db import get_session
from blacklist.partners.views import ack_deadline
from blacklist.publication import queries
from blacklist.staff import auth
from blacklist.staff.services import PROVINCES
from blacklist.web.ratelimit import limiter, public_record_limit, public_search_limit

bp = Blueprint("publication", __name__, template_folder="templates")

#: The fields of the public search form, as they appear in the query string.
FORM_FIELDS = ("name", "id_number", "province")
#: Longest value echoed back into the form (a stored name has at most 100 characters).
MAX_FIELD_CHARS = 100

NO_STORE = "no-store"
REVALIDATE = "public, no-cache"
STATS_CACHE = "public, no-cache"
STATIC_PAGE_CACHE = "public, max-age=300"


# --------------------------------------------------------------------------------------------------
# Helpers for the templates


def yuan(amount: Decimal | None) -> str:
    """An amount of money as the public reads it: ``100,000.00元``."""
    if amount is None:
        return "—"
    return f"{amount:,.2f}元"


def cn_date(value: date | None) -> str:
    """``2025年3月3日``."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


def _retry_after_seconds() -> int:
    """Seconds until the client's breached rate limit resets (for the 429 page; the same figure
    Flask-Limiter puts in ``Retry-After``)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    """Also applies to ``error.html`` when ``web/errors.py`` renders a 429 or 404 for one of these
    pages (blueprint context processors run for every template rendered in its requests)."""
    return {
        "yuan": yuan,
        "cn_date": cn_date,
        "retry_after_seconds": _retry_after_seconds,
        "provinces": PROVINCES,
    }


@bp.after_request
def _cache_headers(response: Response) -> Response:
    """Anything without an explicit policy (errors, 429 pages) must not be stored: a search URL
    holds a name, and an error is never the answer to keep."""
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = NO_STORE
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


# --------------------------------------------------------------------------------------------------
# Home, search and restricted people


@bp.get("/")
def home():
    """The search form (a GET form to ``/search``)."""
    response = make_response(
        render_template("publication/home.html", form=_empty_form(), errors={})
    )
    response.headers["Cache-Control"] = STATIC_PAGE_CACHE
    return response


@bp.get("/search")
@public_search_limit
def search():
    """Published listings by name, exact ID number / credit code, and province."""
    return _search_page(
        "publication/search.html",
        lambda session, query: queries.search_listings(session, query, today=auth.clock().today()),
    )


@bp.get("/restricted")
@public_search_limit
def restricted():
    """People and organisations under a consumption restriction order (DOMAIN.md §3), searched the
    same way as the list."""
    return _search_page("publication/restricted.html", queries.search_restricted)


def _clean_echo(value: str) -> str:
    """What the form shows again of a typed value: no control characters, at most 100 characters
    (escaping is Jinja's job)."""
    text = "".join(c for c in value if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    return text[:MAX_FIELD_CHARS]


def _empty_form() -> dict[str, str]:
    return dict.fromkeys(FORM_FIELDS, "")


def _search_page(
    template: str, run: Callable[[Session, queries.PublicQuery], queries.Page]
) -> Response:
    """Validate the query, run it, render the page. No query at all shows the empty form; a bad
    query shows the errors beside the fields with status 422; nothing is searched for it."""
    args = request.args
    form = {name: _clean_echo(args.get(name, "")) for name in FORM_FIELDS}
    errors: dict[str, list[str]] = {}
    page = None
    status = 200
    if any(args.get(name, "").strip() for name in (*FORM_FIELDS, "page", "per_page")):
        session = get_session()
        collector = ErrorCollector()
        query = collector.check(
            queries.parse_query,
            session,
            name=args.get("name"),
            id_number=args.get("id_number"),
            province=args.get("province"),
            page=args.get("page", "").strip() or 1,
            per_page=args.get("per_page", "").strip() or queries.DEFAULT_PER_PAGE,
        )
        if collector.errors:
            errors, status = collector.errors, 422
        else:
            page = run(session, query)
    pager = _pager(page, form, args.get("per_page", "").strip()) if page else None
    response = make_response(
        render_template(
            template,
            form=form,
            errors=errors,
            other_errors=_other_errors(errors),
            page=page,
            pager=pager,
        ),
        status,
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


def _other_errors(errors: dict[str, list[str]]) -> list[str]:
    """Messages about fields the form does not show (page, per_page)."""
    return [m for name, messages in errors.items() if name not in FORM_FIELDS for m in messages]


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…")
    url: str | None
    current: bool = False


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    first_item: int
    last_item: int
    links: list[PageLink]
    previous_url: str | None
    next_url: str | None
    beyond_end: bool
    last_url: str


def _pager(page: queries.Page, form: dict[str, str], per_page: str) -> Pager:
    """Page links that keep the query (1 … 4 5 [6] 7 8 … 25)."""
    params = {name: value for name, value in form.items() if value}
    if per_page and per_page != str(queries.DEFAULT_PER_PAGE):
        params["per_page"] = per_page

    def url(number: int) -> str:
        return url_for(request.endpoint, **params, page=number)

    numbers = sorted(
        {1, page.pages, *range(max(1, page.page - 2), min(page.pages, page.page + 2) + 1)}
    )
    links: list[PageLink] = []
    for number in numbers:
        if links and links[-1].number is not None and number > links[-1].number + 1:
            links.append(PageLink(None, None))
        links.append(PageLink(number, url(number), number == page.page))
    first = (page.page - 1) * page.per_page + 1
    return Pager(
        page=page.page,
        pages=page.pages,
        first_item=first,
        last_item=first + len(page.items) - 1,
        links=links,
        previous_url=url(page.page - 1) if 1 < page.page <= page.pages else None,
        next_url=url(page.page + 1) if page.page < page.pages else None,
        beyond_end=page.total > 0 and not page.items,
        last_url=url(page.pages),
    )


# --------------------------------------------------------------------------------------------------
# Record page


@bp.get("/listings/<public_id>")
@public_record_limit
def record(public_id: str):
    """One published listing with every Art. 6 field. Once removed (or never published) it is a
    404 page saying so. ``If-None-Match`` with the current ETag answers 304."""
    listing = queries.get_published(get_session(), public_id, today=auth.clock().today())
    if listing is None:
        response = make_response(
            render_template("publication/not_listed.html", public_id=public_id[:32]), 404
        )
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = make_response(render_template("publication/record.html", listing=listing))
    response.headers["Cache-Control"] = REVALIDATE
    response.set_etag(record_etag(listing))
    return response.make_conditional(request)


#: Bump when the record page's template changes, so caches drop the old layout.
RECORD_PAGE_REVISION = "1"


def record_etag(listing: queries.PublicListing) -> str:
    """A hash of everything the page shows: the public id, ``version``, ``updated_at`` and every
    Art. 6 field as shown. The fields make the tag follow the page even when the listing row is
    unchanged: the age moves on birthdays, and a payment adds a ``performances`` row, which bumps
    ``version`` only if ``updated_at`` really changes."""
    source = f"{RECORD_PAGE_REVISION}|{listing!r}"
    return hashlib.sha256(source.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------------------------------
# Statistics


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    y: float
    height: float
    colour: str


@dataclass(frozen=True)
class Column:
    label: str
    short_label: str
    value: int
    x: float
    width: float
    segments: list[Segment]


@dataclass(frozen=True)
class YearSpan:
    """The columns of one year, labelled once beneath the month labels."""

    label: str
    start: float
    end: float

    @property
    def middle(self) -> float:
        return round((self.start + self.end) / 2, 2)


@dataclass(frozen=True)
class Row:
    label: str
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class Tick:
    value: int
    position: float


#: Colours of removal reasons (colour-blind-safe palette, Okabe–Ito and Tol).
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#999933",
    "#882255",
    "#44aa99",
    "#332288",
    "#666666",
)


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round axis values from 0 to at least ``maximum``: 0, 5, 10, 15, 20."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


@dataclass(frozen=True)
class ColumnChart:
    """A vertical bar chart (optionally stacked) in SVG user units."""

    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    ticks: list[Tick]
    columns: list[Column]
    years: list[YearSpan]
    legend: list[tuple[str, str]]


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart (provinces) in SVG user units."""

    width: int
    height: int
    label_width: int
    plot_width: int
    row_height: int
    top: int
    ticks: list[Tick]
    rows: list[Row]


def column_chart(
    months: list[str], series: dict[str, dict[str, int]], order: list[str]
) -> ColumnChart:
    """Months along the bottom, one column per month, stacked by ``order`` (series names)."""
    width, height = 480, 272
    left, right, top, bottom = 36, 474, 22, 230
    totals = [sum(series[m].get(name, 0) for name in order) for m in months]
    ticks_values = nice_ticks(max(totals, default=0))
    top_value = ticks_values[-1]
    scale = (bottom - top) / top_value
    slot = (right - left) / max(1, len(months))
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
    columns = []
    for index, month in enumerate(months):
        y = float(bottom)
        segments = []
        for name in order:
            value = series[month].get(name, 0)
            if not value:
                continue
            h = value * scale
            y -= h
            segments.append(Segment(name, value, round(y, 2), round(h, 2), colours[name]))
        columns.append(
            Column(
                label=month,
                short_label=str(int(month[5:])),
                value=totals[index],
                x=round(left + index * slot + slot * 0.18, 2),
                width=round(slot * 0.64, 2),
                segments=segments,
            )
        )
    years: list[YearSpan] = []
    for column in columns:
        year = column.label[:4]
        end = column.x + column.width
        if years and years[-1].label == year:
            years[-1] = YearSpan(year, years[-1].start, end)
        else:
            years.append(YearSpan(year, column.x, end))
    return ColumnChart(
        width=width,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_bottom=bottom,
        plot_right=right,
        ticks=[Tick(v, round(bottom - v * scale, 2)) for v in ticks_values],
        columns=columns,
        years=years,
        legend=[(name, colours[name]) for name in order] if len(order) > 1 else [],
    )


def bar_chart(rows: list[tuple[str, int]]) -> BarChart:
    """One row per province, longest first."""
    width, label_width, row_height, top = 480, 56, 22, 24
    plot_width = width - label_width - 44
    ticks_values = nice_ticks(max((v for _, v in rows), default=0))
    scale = plot_width / ticks_values[-1]
    return BarChart(
        width=width,
        height=top + row_height * max(1, len(rows)) + 8,
        label_width=label_width,
        plot_width=plot_width,
        row_height=row_height,
        top=top,
        ticks=[Tick(v, round(label_width + v * scale, 2)) for v in ticks_values],
        rows=[
            Row(label, value, top + i * row_height, round(value * scale, 2))
            for i, (label, value) in enumerate(rows)
        ],
    )


@bp.get("/stats")
@public_record_limit
def stats():
    """Current totals, published listings by province, monthly new listings, removals by reason
    partners' hits by measure, and each partner's acknowledgements. The figures are aggregates (the
    list's until it changes, partners' for a minute); the page may be cached a minute too."""
    figures = queries.statistics(
        get_session(),
        today=auth.clock().today(),
        now=auth.clock().now(),
        ack_deadline=ack_deadline(),
    )
    new_series = {m: {"新增": figures.new_by_month.get(m, 0)} for m in figures.months}
    response = make_response(
        render_template(
            "publication/stats.html",
            figures=figures,
            province_chart=bar_chart(figures.by_province),
            new_chart=column_chart(figures.months, new_series, ["新增"]),
            removed_chart=column_chart(
                figures.months, figures.removed_by_month, figures.removal_reasons
            ),
            hits_chart=column_chart(
                figures.hits.months, figures.hits.by_label(), figures.hits.labels
            ),
        )
    )
    response.headers["Cache-Control"] = STATS_CACHE
    return response


# --------------------------------------------------------------------------------------------------
# Correction and deletion


@bp.get("/correction")
def correction_help():
    """How a listed person applies for correction or deletion (Arts. 10–12), in plain Chinese."""
    response = make_response(render_template("publication/correction.html"))
    response.headers["Cache-Control"] = STATIC_PAGE_CACHE
    return response

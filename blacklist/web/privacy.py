"""Response headers for pages and API calls that carry personal data (PIPL, DOMAIN.md §6)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response


def never_cached(*blueprints: Any) -> None:
    """Every response of ``blueprints`` gets ``Cache-Control: no-store``: it holds personal data
    (listings, orders, requests, alerts with names), so no browser or proxy may keep a copy."""

    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    for blueprint in blueprints:
        blueprint.after_request(no_store)

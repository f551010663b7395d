"""Partners for tests: registered through the real service (keys and secrets as partners get them)."""

from __future__ import annotations

from blacklist.core.actor import Actor
from blacklist.partners import services

SYSTEM = Actor.system("test")


def register_partner(
    session, clock, code: str = "railway", measures: str = "hsr_any_seat,emu_first_class,soft_sleeper",
    scope: str = "restriction", webhook_url: str | None = None, name: str | None = None,
) -> tuple[int, str, str]:  # fmt: skip
    """(partner id, API key, signing secret)."""
    partner, credentials = services.create_partner(
        session, code=code, name=name or f"{code} 合作单位", measures=measures, scope=scope,
        webhook_url=webhook_url, actor=SYSTEM, clock=clock,
    )  # fmt: skip
    return partner.id, credentials.api_key, credentials.signing_secret


def partner_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

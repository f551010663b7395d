"""Pure rules of partner integration (DOMAIN.md §4, DESIGN.md §6, API.md partner part): who may
be registered with which measures, what a partner sees of a record, the push back-off schedule and
the Standard Webhooks signature. No database, no Flask, no clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from blacklist.core.errors import ErrorCollector, ValidationFailed
from blacklist.restrictions.catalogue import (
    BY_CODE,
    LISTING_MEASURES,
    codes_of,
    cut_codes,
    mask_of,
)


class Scope(StrEnum):
    """Which records a partner receives (API.md): ``restriction`` records (people and the measures
    that bind them), ``listing`` records (the full published listing), or both."""

    RESTRICTION = "restriction"
    LISTING = "listing"
    BOTH = "both"

    @property
    def types(self) -> tuple[str, ...]:
        return ("restriction", "listing") if self is Scope.BOTH else (self.value,)

    @property
    def label(self) -> str:
        return {"restriction": "限制措施记录", "listing": "名单完整记录", "both": "两者"}[
            self.value
        ]


CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_NAME = 100
MAX_URL = 500
#: Feed page and check batch limits (API.md).
MAX_FEED_LIMIT = 1000
MAX_CHECK_PEOPLE = 1000


def parse_code(raw: str) -> str:
    code = (raw or "").strip()
    if not CODE_PATTERN.match(code):
        raise ValidationFailed.on(
            "code", "代码应为2至32位小写字母、数字或下划线，以字母开头（如 caac、railway）"
        )
    return code


def parse_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValidationFailed.on("name", "请填写合作单位名称")
    if len(name) > MAX_NAME:
        raise ValidationFailed.on("name", f"名称不能超过{MAX_NAME}个字符")
    return name


def parse_measures(raw: str | Iterable[str]) -> int:
    """Measure codes (a list, or comma-separated text) as a bitmask; every code must be in the
    catalogue (DOMAIN.md §3–4) and at least one is needed."""
    codes = raw.split(",") if isinstance(raw, str) else list(raw)
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        raise ValidationFailed.on("measures", "请至少选择一项惩戒措施")
    unknown = [c for c in codes if c not in BY_CODE]
    if unknown:
        raise ValidationFailed.on(
            "measures",
            f"未知的措施：{'、'.join(unknown)}（可选：{', '.join(BY_CODE)}）",
        )
    return mask_of(codes)


def parse_scope(raw: str | Scope) -> Scope:
    try:
        return Scope(raw)
    except ValueError:
        raise ValidationFailed.on("scope", "范围应为 restriction、listing 或 both") from None


def check_scope_fits_measures(scope: Scope, measures: int) -> None:
    """``listing`` records carry the joint sanctions of the listing itself (credit record,
    procurement, bidding, credit, financing, officer ban): a partner that takes only listing records
    but enforces none of them would never receive anything."""
    if scope is Scope.LISTING and not measures & mask_of(LISTING_MEASURES):
        raise ValidationFailed.on(
            "scope",
            "名单完整记录只涉及联合惩戒措施（"
            + "、".join(LISTING_MEASURES)
            + "）：限制消费或限制出境措施请选择“限制措施记录”",
        )


def parse_webhook_url(raw: str | None, *, require_https: bool) -> str | None:
    """An absolute http(s) URL without credentials (the signature authenticates us; a password in
    the URL would end up in logs) and with a valid port. Production requires https."""
    url = (raw or "").strip()
    if not url:
        return None
    problem = _webhook_url_problem(url, require_https=require_https)
    if problem:
        raise ValidationFailed.on("webhook_url", problem)
    return url


def _webhook_url_problem(url: str, *, require_https: bool) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return "地址格式不正确"
    try:
        parts.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError:
        return "端口号不正确"
    if len(url) > MAX_URL:
        return f"地址不能超过{MAX_URL}个字符"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "请填写以 https:// 开头的完整地址"
    if parts.username or parts.password:
        return "地址中不能包含用户名或密码"
    if require_https and parts.scheme != "https":
        return "生产环境的推送地址必须使用 https"
    if any(ch.isspace() for ch in url):
        return "地址中不能有空白字符"
    return None


def parse_registration(
    *, code: str, name: str, measures: str | Iterable[str], scope: str, webhook_url: str | None,
    require_https: bool,
) -> tuple[str, str, int, Scope, str | None]:  # fmt: skip
    """Every field of a partner at once, so a form shows all its errors together."""
    errors = ErrorCollector()
    code = errors.check(parse_code, code)
    name = errors.check(parse_name, name)
    mask = errors.check(parse_measures, measures)
    parsed_scope = errors.check(parse_scope, scope)
    url = errors.check(parse_webhook_url, webhook_url, require_https=require_https)
    if mask is not None and parsed_scope is not None:
        errors.check(check_scope_fits_measures, parsed_scope, mask)
    errors.raise_if_any("合作单位信息有误")
    return code, name, mask, parsed_scope, url


# --------------------------------------------------------------------------------------------------
# What a partner sees of a change (DOMAIN.md §6: full ID numbers only to partners whose measures
# need them; partners see only their measures)


def relevant(change_type: str, change_measures: int, *, scope: Scope, measures: int) -> bool:
    return change_type in scope.types and bool(change_measures & measures)


def partner_record(
    change_type: str,
    payload: dict[str, Any],
    change_measures: int,
    partner_measures: int,
    decrypt: Callable[[str], str],
) -> dict[str, Any]:
    """The record as the partner receives it: identifiers decrypted into ``id_number``, measures cut
    to those the partner holds. The stored payload is not modified."""
    if change_type == "restriction":
        person = payload["person"]
        return {
            "person": {
                "kind": person.get("kind", "person"),
                "name": person["name"],
                "id_number": decrypt(person["id_cipher"]),
            },
            "role": payload["role"],
            "measures": cut_codes(payload["measures"], partner_measures),
            "since": payload["since"],
            "source": dict(payload["source"]),
        }
    record = {k: v for k, v in payload.items() if k not in ("id_cipher",)}
    record["id_number"] = decrypt(payload["id_cipher"])
    representative = payload.get("legal_representative")
    if representative:
        record["legal_representative"] = {
            "name": representative["name"],
            "id_number": decrypt(representative["id_cipher"]),
        }
    record["bound_persons"] = [
        {"role": p["role"], "name": p["name"], "id_number": decrypt(p["id_cipher"])}
        for p in payload.get("bound_persons", [])
    ]
    record["measures"] = codes_of(change_measures & partner_measures)
    return record


# --------------------------------------------------------------------------------------------------
# Push

#: Waits after the 1st, 2nd, … consecutive failure (DESIGN.md §6, the Standard Webhooks schedule);
#: the last one repeats for ever: nothing is ever dropped.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)


def backoff(failures: int) -> timedelta:
    """How long to wait before the next attempt after ``failures`` consecutive failures (≥ 1)."""
    return BACKOFF[min(max(failures, 1), len(BACKOFF)) - 1]


SECRET_PREFIX = "whsec_"


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64)."""
    body = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(body)


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 over
    ``"{id}.{timestamp}.{body}"`` (Standard Webhooks spec, symmetric signatures)."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")

"""Use cases of the partner registry (keys, signing secrets, webhook settings) and of what partners
report back: acknowledgements and hits. One transaction per use case; every change is audited.

The registry is national: partners are managed by the system (operators' CLI, the demo seed) and by
administrators of a court with no higher court in this deployment (the Supreme People's Court in
production; each high court in the demo).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from blacklist.audit import services as audit
from blacklist.changelog.models import Change
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import CHINA_TZ, Clock
from blacklist.core.errors import Conflict, NotAllowed, NotAuthenticated, NotFound, ValidationFailed
from blacklist.core.identity import mask_identifier, parse_identifier
from blacklist.db import vault_of
from blacklist.listing.services import use_case
from blacklist.partners import rules
from blacklist.partners.models import Hit, Partner, PartnerAck, PartnerKey, PushCursor
from blacklist.restrictions.catalogue import BY_CODE, codes_of, mask_of
from blacklist.restrictions.models import Restriction
from blacklist.staff.models import Court

KEY_PREFIX = "bpk_"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _new_secret() -> str:
    return rules.SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def may_manage_partners(session: Session, actor: Actor) -> bool:
    if actor.is_system:
        return True
    if not actor.has_role(Role.ADMIN) or actor.court_id is None:
        return False
    court = session.get(Court, actor.court_id)
    return court is not None and court.parent_id is None


def _require_manager(session: Session, actor: Actor) -> None:
    if not may_manage_partners(session, actor):
        raise NotAllowed("只有最高一级法院的管理员可以管理合作单位")


@dataclass(frozen=True)
class Credentials:
    """What is shown once and never again: an API key and/or the webhook signing secret."""

    api_key: str | None = None
    key_id: int | None = None
    signing_secret: str | None = None


def get_partner(session: Session, code: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.code == (code or "").strip()))
    if partner is None:
        raise NotFound(f"合作单位 {code} 不存在")
    return partner


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.code)))


def signing_secret(session: Session, partner: Partner) -> str:
    return vault_of(session).decrypt(partner.secret_cipher)


def _describe(partner: Partner) -> dict:
    return {
        "code": partner.code,
        "name": partner.name,
        "measures": codes_of(partner.measures),
        "scope": partner.scope.value,
        "webhook_url": partner.webhook_url,
        "is_active": partner.is_active,
    }


@use_case
def create_partner(
    session: Session,
    *,
    code: str,
    name: str,
    measures: str | list[str],
    scope: str,
    webhook_url: str | None = None,
    require_https: bool = False,
    actor: Actor,
    clock: Clock,
) -> tuple[Partner, Credentials]:
    """Register a partner with its first API key and its signing secret (both returned once).
    Push starts from the newest change: a new partner takes a snapshot first (API.md)."""
    _require_manager(session, actor)
    code, name, mask, parsed_scope, url = rules.parse_registration(
        code=code, name=name, measures=measures, scope=scope, webhook_url=webhook_url,
        require_https=require_https,
    )  # fmt: skip
    if session.scalar(select(Partner.id).where(Partner.code == code)):
        raise Conflict.on("code", f"合作单位代码 {code} 已存在")
    secret = _new_secret()
    now = clock.now()
    partner = Partner(
        code=code,
        name=name,
        measures=mask,
        scope=parsed_scope,
        webhook_url=url,
        secret_cipher=vault_of(session).encrypt(secret),
        is_active=True,
        acked_seq=0,
        created_at=now,
    )
    session.add(partner)
    session.flush()
    session.add(
        PushCursor(partner_id=partner.id, pushed_seq=last_seq(session), next_attempt_at=now)
    )
    audit.record(
        session, actor, "partner.created", ("partner", partner.id), clock=clock,
        after=_describe(partner),
    )  # fmt: skip
    key, row = _add_key(session, partner, "初始密钥", actor=actor, clock=clock)
    session.commit()
    return partner, Credentials(api_key=key, key_id=row.id, signing_secret=secret)


@use_case
def update_partner(
    session: Session,
    code: str,
    *,
    name: str,
    measures: str | list[str],
    scope: str,
    webhook_url: str | None,
    is_active: bool,
    require_https: bool = False,
    actor: Actor,
    clock: Clock,
) -> Partner:
    """Change a partner's name, measures, scope, webhook or status. A partner given new measures
    takes a new snapshot to receive what is already in force for them."""
    _require_manager(session, actor)
    partner = get_partner(session, code)
    _code, name, mask, parsed_scope, url = rules.parse_registration(
        code=partner.code, name=name, measures=measures, scope=scope, webhook_url=webhook_url,
        require_https=require_https,
    )  # fmt: skip
    before = _describe(partner)
    had_webhook = partner.webhook_url is not None
    partner.name, partner.measures, partner.scope = name, mask, parsed_scope
    partner.webhook_url, partner.is_active = url, is_active
    cursor = _cursor(session, partner, clock)
    if url and not had_webhook:
        # Push resumes from what the partner already applied, not from old history.
        cursor.pushed_seq = max(cursor.pushed_seq, partner.acked_seq)
        cursor.batch_id = cursor.batch_last_seq = None
        cursor.failures, cursor.next_attempt_at = 0, clock.now()
    after = _describe(partner)
    if after != before:
        audit.record(
            session, actor, "partner.updated", ("partner", partner.id), clock=clock,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )  # fmt: skip
    session.commit()
    return partner


def _cursor(session: Session, partner: Partner, clock: Clock) -> PushCursor:
    cursor = session.get(PushCursor, partner.id)
    if cursor is None:
        cursor = PushCursor(
            partner_id=partner.id, pushed_seq=partner.acked_seq, next_attempt_at=clock.now()
        )
        session.add(cursor)
        session.flush()
    return cursor


def _add_key(
    session: Session, partner: Partner, label: str, *, actor: Actor, clock: Clock
) -> tuple[str, PartnerKey]:
    label = " ".join((label or "").split())
    if len(label) > 100:
        raise ValidationFailed.on("label", "备注不能超过100个字符")
    key = _new_key()
    row = PartnerKey(
        partner_id=partner.id,
        key_hash=_key_hash(key),
        prefix=key[:10],
        label=label,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "partner.key_added", ("partner", partner.id), clock=clock,
        after={"key_id": row.id, "prefix": row.prefix, "label": label},
    )  # fmt: skip
    return key, row


@use_case
def add_key(
    session: Session, code: str, *, label: str = "", actor: Actor, clock: Clock
) -> tuple[Partner, Credentials]:
    """A new API key beside the existing ones (rotation without downtime: add, switch, revoke)."""
    _require_manager(session, actor)
    partner = get_partner(session, code)
    key, row = _add_key(session, partner, label, actor=actor, clock=clock)
    session.commit()
    return partner, Credentials(api_key=key, key_id=row.id)


@use_case
def revoke_key(
    session: Session, code: str, key_id: int, *, actor: Actor, clock: Clock
) -> PartnerKey:
    _require_manager(session, actor)
    partner = get_partner(session, code)
    row = session.get(PartnerKey, key_id)
    if row is None or row.partner_id != partner.id:
        raise NotFound(f"合作单位 {partner.code} 没有编号为 {key_id} 的密钥")
    if row.revoked_at is not None:
        raise Conflict("该密钥已经撤销")
    row.revoked_at = clock.now()
    audit.record(
        session, actor, "partner.key_revoked", ("partner", partner.id), clock=clock,
        before={"key_id": row.id, "prefix": row.prefix},
    )  # fmt: skip
    session.commit()
    return row


@use_case
def rotate_secret(session: Session, code: str, *, actor: Actor, clock: Clock) -> Credentials:
    """A new webhook signing secret, effective for the next attempt (returned once)."""
    _require_manager(session, actor)
    partner = get_partner(session, code)
    secret = _new_secret()
    partner.secret_cipher = vault_of(session).encrypt(secret)
    audit.record(session, actor, "partner.secret_rotated", ("partner", partner.id), clock=clock)
    session.commit()
    return Credentials(signing_secret=secret)


@use_case
def retry_push_now(session: Session, code: str, *, actor: Actor, clock: Clock) -> PushCursor:
    """Skip the rest of the back-off wait (the partner says its endpoint is back)."""
    _require_manager(session, actor)
    partner = get_partner(session, code)
    cursor = _cursor(session, partner, clock)
    cursor.next_attempt_at = clock.now()
    audit.record(session, actor, "partner.push_retry", ("partner", partner.id), clock=clock)
    session.commit()
    return cursor


def resolve_key(session: Session, key: str) -> Partner:
    """The active partner behind an API key; ``NotAuthenticated`` if the key is unknown or revoked
    or the partner is deactivated."""
    if not key or not key.startswith(KEY_PREFIX):
        raise NotAuthenticated("缺少有效的合作单位密钥")
    # The key and its partner in one round trip: this runs on every partner request.
    row = session.scalar(
        select(PartnerKey)
        .where(PartnerKey.key_hash == _key_hash(key))
        .options(joinedload(PartnerKey.partner))
    )
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("合作单位密钥无效或已撤销")
    if not row.partner.is_active:
        raise NotAuthenticated("合作单位已停用")
    return row.partner


def partner_actor(partner: Partner, ip: str | None = None) -> Actor:
    from blacklist.core.actor import ActorKind

    return Actor(kind=ActorKind.PARTNER, name=partner.code, user_id=partner.id, ip=ip)


# --------------------------------------------------------------------------------------------------
# Acknowledgements (DESIGN.md §6: cumulative, like consumer offsets)


@use_case
def acknowledge(
    session: Session, partner: Partner, seq: int, *, ip: str | None = None, clock: Clock
) -> Partner:
    """The partner applied every relevant change up to ``seq``. An ack below the current one changes
    nothing (acks may arrive out of order); beyond the newest seq is refused."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationFailed.on("seq", "seq 应为非负整数")
    newest = last_seq(session)
    if seq > newest:
        raise ValidationFailed.on("seq", f"seq {seq} 超出最新的变更序号 {newest}")
    # Two acks of one partner at once: the row lock orders them, and the later one sees the first.
    session.refresh(partner, with_for_update=True)
    if seq <= partner.acked_seq:
        session.commit()
        return partner
    before = partner.acked_seq
    now = clock.now()
    partner.acked_seq, partner.acked_at = seq, now
    session.add(PartnerAck(partner_id=partner.id, seq=seq, acked_at=now))
    # What the partner pulled and applied need not be pushed again (and a partner that fell behind
    # the retention window resumes push after its new snapshot). Only when no worker holds the
    # cursor: the ack never waits for a webhook.
    cursor = session.scalar(
        select(PushCursor)
        .where(PushCursor.partner_id == partner.id, PushCursor.leased_by.is_(None))
        .with_for_update(skip_locked=True)
    )
    # A waiting batch the partner has pulled and applied meanwhile need not be sent either.
    if (
        cursor is not None
        and cursor.pushed_seq < seq
        and (cursor.batch_id is None or (cursor.batch_last_seq or 0) <= seq)
    ):
        oldest = session.scalar(select(func.min(Change.seq))) or 0
        if cursor.pushed_seq < oldest - 1:  # push had stopped (``PushWorker._stall``): resume now
            cursor.next_attempt_at, cursor.failures, cursor.last_error = clock.now(), 0, None
        cursor.batch_id = cursor.batch_last_seq = None
        cursor.pushed_seq = seq
    audit.record(
        session, partner_actor(partner, ip), "partner.acknowledged", ("partner", partner.id),
        clock=clock, before={"acked_seq": before}, after={"acked_seq": seq},
    )  # fmt: skip
    session.commit()
    return partner


# --------------------------------------------------------------------------------------------------
# Hits (DOMAIN.md §4: feedback)

MAX_DETAIL = 500
MAX_REFERENCE = 64
#: A hit may be reported a little ahead of our clock (partners' clocks drift).
CLOCK_SKEW = timedelta(minutes=5)


def parse_person_id(raw: str, field: str) -> tuple[str, str, str]:
    """(kind, canonical identifier, masked) of a resident ID number or a credit code."""
    kind, identifier = parse_identifier(raw, field)
    return kind, identifier, mask_identifier(kind, identifier)


@use_case
def report_hit(
    session: Session,
    partner: Partner,
    *,
    id_number: str,
    measure: str,
    occurred_at: datetime,
    detail: str = "",
    reference: str | None = None,
    clock: Clock,
) -> tuple[Hit, bool]:
    """Record a sanction the partner applied. Returns the hit and whether it is new (a report with a
    reference already seen returns the first one). Refused: a measure the partner does not hold
    (403), a person never restricted by that measure, a time in the future (422)."""
    if measure not in BY_CODE:
        raise ValidationFailed.on("measure", f"未知的措施：{measure}")
    if not partner.measures & mask_of([measure]):
        raise NotAllowed(f"本单位未承担措施 {measure}")
    reference = (reference or "").strip() or None
    if reference is not None:
        if len(reference) > MAX_REFERENCE:
            raise ValidationFailed.on("reference", f"reference 不能超过{MAX_REFERENCE}个字符")
        existing = session.scalar(
            select(Hit).where(Hit.partner_id == partner.id, Hit.reference == reference)
        )
        if existing is not None:
            return existing, False
    _kind, identifier, masked = parse_person_id(id_number, "id_number")
    detail = (detail or "").strip()
    if len(detail) > MAX_DETAIL:
        raise ValidationFailed.on("detail", f"detail 不能超过{MAX_DETAIL}个字符")
    now = clock.now()
    if occurred_at.tzinfo is None:
        raise ValidationFailed.on(
            "occurred_at", "occurred_at 须带时区，如 2025-03-03T10:00:00+08:00"
        )
    if occurred_at > now + CLOCK_SKEW:
        raise ValidationFailed.on("occurred_at", "occurred_at 不能晚于当前时间")
    person_hash = vault_of(session).hash(identifier)
    bit = mask_of([measure])
    rows = session.scalars(
        select(Restriction)
        .where(Restriction.person_hash == person_hash, Restriction.measures.op("&")(bit) != 0)
        .order_by(Restriction.id)
    ).all()
    if not rows:
        raise ValidationFailed.on("id_number", f"该人员从未被采取措施 {measure}，不能报告惩戒")
    in_force = [r for r in rows if _in_force_at(r, occurred_at)]
    hit = Hit(
        partner_id=partner.id,
        reference=reference,
        measure=measure,
        person_hash=person_hash,
        person_masked=masked,
        restriction_id=(in_force or rows)[-1].id,
        in_force=bool(in_force),
        occurred_at=occurred_at,
        reported_at=now,
        detail=detail,
    )
    try:
        with session.begin_nested():
            session.add(hit)
    except IntegrityError:
        # The same report arrived twice at once: the first one to commit counts.
        session.rollback()
        existing = session.scalar(
            select(Hit).where(Hit.partner_id == partner.id, Hit.reference == reference)
        )
        if existing is None:
            raise
        return existing, False
    session.commit()
    return hit, True


def _in_force_at(row: Restriction, when: datetime) -> bool:
    """Whether the restriction bound the person at ``when``: from its first day (``since``, a court
    date in Beijing time) until the instant it was lifted."""
    if row.since > when.astimezone(CHINA_TZ).date():
        return False
    if row.is_active:
        return True
    if row.lifted_at is not None:
        return when < row.lifted_at
    return row.lifted_on is not None and row.lifted_on >= when.astimezone(CHINA_TZ).date()

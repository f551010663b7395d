"""Pure rules of restrictions (DOMAIN.md §3, SPC provisions on restricting high consumption, 2015;
Civil Procedure Law Art. 266 for exit bans)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from blacklist.core.actor import Role
from blacklist.core.errors import Conflict, NotAllowed, ValidationFailed
from blacklist.listing.rules import ListingStatus, PersonRole, RemovalKind, SubjectKind
from blacklist.restrictions.catalogue import (
    CONSUMPTION_MEASURES,
    EXIT_MEASURES,
    LISTING_MEASURES,
    ORGANISATION_LISTING_MEASURES,
    mask_of,
)


class OrderDecision(StrEnum):
    ISSUE = "issue"
    LIFT = "lift"
    KEEP = "keep"


def linked_order_decision(
    *,
    status: ListingStatus,
    removal_kind: RemovalKind | None,
    fully_performed: bool,
    has_order: bool,
    order_active: bool,
) -> OrderDecision:
    """What happens to the consumption order linked to a listing after a listing event.

    - Every listed debtor must be consumption-restricted: the order is issued at publication.
    - Full performance lifts it (mandatory, 2015 provisions Art. 9), whether or not the listing has
      a term and before its deletion is carried out.
    - Deletion and revocation take away its basis: lifted.
    - Expiry of the term does not by itself lift an order whose obligation is still unperformed:
      it stays for the judge to decide.
    """
    if fully_performed:
        return OrderDecision.LIFT if order_active else OrderDecision.KEEP
    if status is ListingStatus.PUBLISHED and not has_order:
        return OrderDecision.ISSUE
    if (
        status is ListingStatus.REMOVED
        and removal_kind in (RemovalKind.DELETED, RemovalKind.REVOKED)
        and order_active
    ):
        return OrderDecision.LIFT
    return OrderDecision.KEEP


def consumption_order_mask() -> int:
    """A consumption order restricts every measure of the 2015 provisions, Art. 3."""
    return mask_of(CONSUMPTION_MEASURES)


def listing_measures_mask(kind: SubjectKind) -> int:
    """Joint sanctions a published listing triggers for the debtor itself (发改财金〔2016〕141号);
    the ban on serving as a company officer binds natural persons only."""
    return mask_of(
        LISTING_MEASURES if kind is SubjectKind.PERSON else ORGANISATION_LISTING_MEASURES
    )


# --------------------------------------------------------------------------------------------------
# Standalone consumption orders and exit bans (DOMAIN.md §3)


class LiftGround(StrEnum):
    """Why an order is lifted (2015 provisions, Art. 9; for exit bans, Civil Procedure Law Art. 266
    "lifted the same way", DOMAIN.md §3)."""

    PERFORMED = "performed"
    SECURITY = "security"
    CREDITOR_CONSENT = "creditor_consent"

    @property
    def label(self) -> str:
        return LIFT_GROUND_LABELS[self]

    @property
    def is_mandatory(self) -> bool:
        """Full performance *must* lift the order; security or the creditor's consent *may*."""
        return self is LiftGround.PERFORMED

    @property
    def basis(self) -> str:
        return LIFT_GROUND_BASIS[self]


LIFT_GROUND_LABELS = {
    LiftGround.PERFORMED: "被执行人已全部履行生效法律文书确定的义务",
    LiftGround.SECURITY: "被执行人提供确实有效的担保",
    LiftGround.CREDITOR_CONSENT: "申请执行人同意解除",
}
LIFT_GROUND_BASIS = {
    LiftGround.PERFORMED: "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》第九条第二款："
    "被执行人履行完毕生效法律文书确定的义务的，人民法院应当解除限制",
    LiftGround.SECURITY: "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》第九条第一款："
    "被执行人提供确实有效的担保的，人民法院可以解除限制",
    LiftGround.CREDITOR_CONSENT: "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》第九条第一款："
    "经申请执行人同意的，人民法院可以解除限制",
}

ORDER_KIND_LABELS = {"consumption": "限制消费令", "exit": "限制出境"}
ORDER_STATUS_LABELS = {"active": "执行中", "lifted": "已解除"}

#: Civil Procedure Law Art. 266: for an organisation's debt, the court may bar its legal
#: representative, principal or the person directly responsible (not the actual controller).
EXIT_BAN_ROLES = (
    PersonRole.LEGAL_REPRESENTATIVE,
    PersonRole.PRINCIPAL,
    PersonRole.DIRECTLY_RESPONSIBLE,
)

EXIT_BAN_ORGANISATION_REFUSED = (
    "限制出境只能针对自然人：单位被执行人请对其法定代表人、主要负责人或直接责任人员分别决定限制出境"
)


def lift_ground_choices() -> tuple[LiftGround, ...]:
    return tuple(LiftGround)


def parse_lift_ground(value: str | None) -> LiftGround:
    """A lifting ground code, or a 422 naming the grounds allowed."""
    try:
        return LiftGround(value or "")
    except ValueError:
        allowed = "、".join(g.label for g in LiftGround)
        raise ValidationFailed.on("ground", f"请选择解除事由（{allowed}）") from None


def lift_note_required(ground: LiftGround) -> bool:
    """A discretionary lifting (security, the creditor's consent) states the judge's reasons; a
    mandatory one (full performance) may add a note."""
    return not ground.is_mandatory


def check_lift_note(ground: LiftGround, note: str | None, max_length: int = 2000) -> str | None:
    text = " ".join((note or "").split())
    if lift_note_required(ground) and len(text) < 2:
        raise ValidationFailed.on("note", f"以“{ground.label}”为由解除的，请写明解除理由")
    if len(text) > max_length:
        raise ValidationFailed.on("note", f"解除理由不能超过{max_length}个字符")
    return text or None


def check_liftable(
    *,
    status: str,
    lifted_on: date | None,
    listing_status: ListingStatus | None,
) -> None:
    """An order is lifted once. A listing's consumption order is lifted by the listing's own acts
    (performance, deletion, revocation) while the listing is not removed; once the listing's term
    has expired the order stays for the judge to decide (DOMAIN.md §3), who lifts it here."""
    if status == "lifted":
        when = f"于{lifted_on.isoformat()}" if lifted_on else ""
        raise Conflict(f"该限制令已{when}解除，不能重复解除")
    if listing_status is not None and listing_status is not ListingStatus.REMOVED:
        raise Conflict("该限制消费令随失信名单发出，名单仍有效：请通过登记履行、删除或撤销名单解除")


def order_measures_mask(kind: str, measures: Iterable[str] | None) -> int:
    """The measures an order restricts. A consumption order: a non-empty subset of the 2015
    provisions' Art. 3 measures (all of them when none are named). An exit ban: exactly ``exit``
    (Civil Procedure Law Art. 266)."""
    codes = list(measures) if measures is not None else None
    if kind == "exit":
        if codes is not None and codes and set(codes) != set(EXIT_MEASURES):
            raise ValidationFailed.on("measures", "限制出境的措施只能为“限制出境”")
        return mask_of(EXIT_MEASURES)
    if codes is None:
        return consumption_order_mask()
    if not codes:
        raise ValidationFailed.on("measures", "请至少选择一项限制消费措施")
    unknown = [c for c in codes if c not in CONSUMPTION_MEASURES]
    if unknown:
        raise ValidationFailed.on("measures", f"限制消费令不能包含以下措施：{'、'.join(unknown)}")
    return mask_of(codes)


def check_issued_on(issued_on: date, today: date, filed_on: date | None) -> None:
    """An order is issued now or earlier, never before its enforcement case was filed."""
    if issued_on > today:
        raise ValidationFailed.on("issued_on", "发出日期不能晚于今天")
    if filed_on and issued_on < filed_on:
        raise ValidationFailed.on("issued_on", "发出日期不能早于执行案件立案日期")


def check_exit_ban_subject(kind: str, identifier_kind: str | None = None) -> None:
    """Civil Procedure Law Art. 266 (DOMAIN.md §3): an exit ban binds a natural person. For an
    organisation's debt the court bars its legal representative, principal or directly
    responsible person, each by a ban of their own."""
    if kind != SubjectKind.PERSON.value or identifier_kind == "organisation":
        raise ValidationFailed.on("subject.kind", EXIT_BAN_ORGANISATION_REFUSED)


def check_exit_ban_role(role: str | None) -> PersonRole:
    try:
        parsed = PersonRole(role or "")
    except ValueError:
        parsed = None
    if parsed not in EXIT_BAN_ROLES:
        raise ValidationFailed.on(
            "organisation.role", "人员身份应为法定代表人、主要负责人或直接责任人员"
        )
    return parsed


def check_may_decide(role: Role | None, *, system: bool = False) -> None:
    """Orders are issued and lifted by a judge (the court's decision, DOMAIN.md §1, §3)."""
    if not (system or role is Role.JUDGE):
        raise NotAllowed("只有执行法官可以发出或解除限制消费令、限制出境")

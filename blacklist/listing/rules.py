"""Pure rules of the list (DOMAIN.md §2, SPC provisions 法释〔2017〕7号). No database, no Flask, no
clock: every function takes the dates and facts it decides on, so each rule is tested on its own.

Errors are raised as ``ValidationFailed`` (bad input, 422), ``Conflict`` (the act does not fit the
listing's state, 409) or ``NotAllowed`` (the role may not act, 403), with Chinese messages that name
the field.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from blacklist.core.actor import Role
from blacklist.core.errors import Conflict, NotAllowed, ValidationFailed
from blacklist.core.workdays import WorkdayCalendar

# --------------------------------------------------------------------------------------------------
# Vocabulary


class Ground(StrEnum):
    """Art. 1: the six kinds of dishonest conduct."""

    REFUSES_WITH_ABILITY = "refuses_with_ability"
    OBSTRUCTS = "obstructs"
    EVADES = "evades"
    FALSE_ASSET_REPORT = "false_asset_report"
    BREACHES_CONSUMPTION_ORDER = "breaches_consumption_order"
    BREACHES_SETTLEMENT = "breaches_settlement"

    @property
    def label(self) -> str:
        return GROUND_LABELS[self]


GROUND_LABELS = {
    Ground.REFUSES_WITH_ABILITY: "有履行能力而拒不履行生效法律文书确定义务",
    Ground.OBSTRUCTS: "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    Ground.EVADES: "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    Ground.FALSE_ASSET_REPORT: "违反财产报告制度",
    Ground.BREACHES_CONSUMPTION_ORDER: "违反限制消费令",
    Ground.BREACHES_SETTLEMENT: "无正当理由拒不履行执行和解协议",
}


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"  # signed, waiting for its grace period to end
    PUBLISHED = "published"
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ListingStatus.DRAFT: "草稿",
    ListingStatus.PENDING_APPROVAL: "待审批",
    ListingStatus.APPROVED: "已签发（宽限期中）",
    ListingStatus.PUBLISHED: "已发布",
    ListingStatus.REMOVED: "已移除",
}


class RemovalKind(StrEnum):
    DELETED = "deleted"  # 删除, Art. 10
    REVOKED = "revoked"  # 撤销, Art. 9
    EXPIRED = "expired"  # term ended, Art. 2 / Art. 10


REMOVAL_KIND_LABELS = {
    RemovalKind.DELETED: "删除",
    RemovalKind.REVOKED: "撤销",
    RemovalKind.EXPIRED: "期满删除",
}


class DeletionReason(StrEnum):
    """Art. 10 reasons (listings without a term), early deletion of a termed listing (Art. 2), and
    the end of a term."""

    PERFORMED = "performed"
    SETTLEMENT_PERFORMED = "settlement_performed"
    CREDITOR_REQUEST = "creditor_request"
    NO_ASSETS_AFTER_SEARCHES = "no_assets_after_searches"
    SUSPENDED = "suspended"
    NOT_ENFORCED = "not_enforced"
    TERMINATED = "terminated"
    CORRECTED_CONDUCT = "corrected_conduct"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return DELETION_REASON_LABELS[self]


DELETION_REASON_LABELS = {
    DeletionReason.PERFORMED: "已履行生效法律文书确定的义务或人民法院已执行完毕",
    DeletionReason.SETTLEMENT_PERFORMED: "当事人达成执行和解协议且已履行完毕",
    DeletionReason.CREDITOR_REQUEST: "申请执行人书面申请删除失信信息，人民法院审查同意",
    DeletionReason.NO_ASSETS_AFTER_SEARCHES: "终结本次执行程序后，两次以上网络查控未发现可供执行财产",
    DeletionReason.SUSPENDED: "因审判监督或破产程序，人民法院依法裁定对失信被执行人中止执行",
    DeletionReason.NOT_ENFORCED: "人民法院依法裁定不予执行",
    DeletionReason.TERMINATED: "人民法院依法裁定终结执行",
    DeletionReason.CORRECTED_CONDUCT: "失信被执行人积极履行义务或主动纠正失信行为，提前删除",
    DeletionReason.EXPIRED: "失信期限届满",
}

#: Art. 10: the court *must* delete a listing without a term for these reasons.
UNTERMED_DELETION_REASONS = (
    DeletionReason.PERFORMED,
    DeletionReason.SETTLEMENT_PERFORMED,
    DeletionReason.CREDITOR_REQUEST,
    DeletionReason.NO_ASSETS_AFTER_SEARCHES,
    DeletionReason.SUSPENDED,
    DeletionReason.NOT_ENFORCED,
    DeletionReason.TERMINATED,
)
#: Art. 2: before its term ends, the judge *may* delete a termed listing early when the debtor
#: performs or corrects the conduct.
TERMED_EARLY_DELETION_REASONS = (
    DeletionReason.PERFORMED,
    DeletionReason.SETTLEMENT_PERFORMED,
    DeletionReason.CORRECTED_CONDUCT,
)


class SubjectKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class PersonRole(StrEnum):
    """Whom a restriction binds (DOMAIN.md §3): the debtor, or a person of a debtor organisation."""

    DEBTOR = "debtor"
    LEGAL_REPRESENTATIVE = "legal_representative"
    PRINCIPAL = "principal"
    DIRECTLY_RESPONSIBLE = "directly_responsible"
    ACTUAL_CONTROLLER = "actual_controller"

    @property
    def label(self) -> str:
        return PERSON_ROLE_LABELS[self]


PERSON_ROLE_LABELS = {
    PersonRole.DEBTOR: "被执行人",
    PersonRole.LEGAL_REPRESENTATIVE: "法定代表人",
    PersonRole.PRINCIPAL: "主要负责人",
    PersonRole.DIRECTLY_RESPONSIBLE: "影响债务履行的直接责任人员",
    PersonRole.ACTUAL_CONTROLLER: "实际控制人",
}
#: Roles that may be given in ``bound_persons`` (the legal representative has its own field).
BOUND_ROLES = (PersonRole.PRINCIPAL, PersonRole.DIRECTLY_RESPONSIBLE, PersonRole.ACTUAL_CONTROLLER)


class PerformanceStatus(StrEnum):
    NONE = "none"  # 全部未履行
    PARTIAL = "partial"  # 部分未履行
    FULL = "full"  # 全部履行

    @property
    def label(self) -> str:
        return {"none": "全部未履行", "partial": "部分未履行", "full": "全部履行"}[self.value]


class Act(StrEnum):
    """What staff can do to a listing (API.md's staff calls)."""

    EDIT = "edit"
    CORRECT = "correct"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RECORD_PERFORMANCE = "record_performance"
    DELETE = "delete"
    REVOKE = "revoke"
    EXTEND = "extend"


# --------------------------------------------------------------------------------------------------
# Who may do what, from which status


_ALLOWED: dict[Act, tuple[frozenset[Role], frozenset[ListingStatus]]] = {
    Act.EDIT: (frozenset({Role.CLERK, Role.JUDGE}), frozenset({ListingStatus.DRAFT})),
    Act.CORRECT: (
        frozenset({Role.CLERK, Role.JUDGE}),
        frozenset({ListingStatus.APPROVED, ListingStatus.PUBLISHED}),
    ),
    Act.SUBMIT: (frozenset({Role.CLERK, Role.JUDGE}), frozenset({ListingStatus.DRAFT})),
    Act.APPROVE: (frozenset({Role.JUDGE}), frozenset({ListingStatus.PENDING_APPROVAL})),
    Act.REJECT: (frozenset({Role.JUDGE}), frozenset({ListingStatus.PENDING_APPROVAL})),
    Act.RECORD_PERFORMANCE: (
        frozenset({Role.CLERK, Role.JUDGE}),
        frozenset({ListingStatus.APPROVED, ListingStatus.PUBLISHED}),
    ),
    Act.DELETE: (
        frozenset({Role.JUDGE}),
        frozenset({ListingStatus.APPROVED, ListingStatus.PUBLISHED}),
    ),
    Act.REVOKE: (
        frozenset({Role.JUDGE}),
        frozenset({ListingStatus.APPROVED, ListingStatus.PUBLISHED}),
    ),
    Act.EXTEND: (frozenset({Role.JUDGE}), frozenset({ListingStatus.PUBLISHED})),
}

_ACT_LABELS = {
    Act.EDIT: "修改草稿",
    Act.CORRECT: "更正",
    Act.SUBMIT: "提交审批",
    Act.APPROVE: "签发",
    Act.REJECT: "退回",
    Act.RECORD_PERFORMANCE: "登记履行",
    Act.DELETE: "删除",
    Act.REVOKE: "撤销",
    Act.EXTEND: "延长期限",
}


def may_role(act: Act, role: Role | None) -> bool:
    return role in _ALLOWED[act][0]


def check_act(act: Act, status: ListingStatus, role: Role | None, *, system: bool = False) -> None:
    """Art. 5 and Art. 13: only a judge signs, deletes, revokes and extends; clerks draft and record.
    Each act is allowed only from certain statuses (a removed listing cannot be approved, a draft
    cannot receive a payment). The system actor (scheduler) passes the role check."""
    roles, statuses = _ALLOWED[act]
    if not system and role not in roles:
        names = "、".join(ROLE_NAMES[r] for r in sorted(roles))
        raise NotAllowed(f"只有{names}可以{_ACT_LABELS[act]}")
    if status not in statuses:
        allowed = "、".join(s.label for s in sorted(statuses))
        raise Conflict(f"名单处于“{status.label}”状态，不能{_ACT_LABELS[act]}（仅限：{allowed}）")


ROLE_NAMES = {
    Role.CLERK: "书记员",
    Role.JUDGE: "执行法官",
    Role.ADMIN: "管理员",
    Role.AUDITOR: "审计员",
}


def allowed_acts(status: ListingStatus, role: Role | None, *, has_term: bool) -> list[Act]:
    """The acts a staff member may take now (for the listing page's buttons)."""
    acts = [a for a, (roles, statuses) in _ALLOWED.items() if role in roles and status in statuses]
    if not has_term and Act.EXTEND in acts:
        acts.remove(Act.EXTEND)
    return acts


# --------------------------------------------------------------------------------------------------
# Grounds, exemptions, minors


@dataclass(frozen=True)
class Exemptions:
    """Art. 3: the three questions the clerk must answer before a ground-1 listing. ``None`` means
    the question was not answered."""

    has_security: bool | None = None
    seized_assets_sufficient: bool | None = None
    later_in_order: bool | None = None

    def as_dict(self) -> dict[str, bool | None]:
        return {
            "has_security": self.has_security,
            "seized_assets_sufficient": self.seized_assets_sufficient,
            "later_in_order": self.later_in_order,
        }


EXEMPTION_LABELS = {
    "has_security": "被执行人已提供充分有效担保",
    "seized_assets_sufficient": "已查封、扣押、冻结的财产足以清偿债务",
    "later_in_order": "被执行人不属于履行顺序在先的被执行人",
}


def parse_grounds(values: Iterable[str]) -> frozenset[Ground]:
    """Art. 1: at least one of the six grounds; several may be cited."""
    values = list(values or [])
    if not values:
        raise ValidationFailed.on("grounds", "请至少选择一项失信情形")
    grounds: set[Ground] = set()
    for value in values:
        try:
            grounds.add(Ground(value))
        except ValueError:
            raise ValidationFailed.on("grounds", f"未知的失信情形：{value}") from None
    return frozenset(grounds)


def check_exemptions(grounds: frozenset[Ground], exemptions: Exemptions) -> None:
    """Art. 3: no listing under ground 1 when the debtor gave sufficient security, when seized assets
    cover the debt, or when the debtor is later in the order of performance. The three questions
    must be answered for a ground-1 listing, and a "yes" blocks it."""
    if Ground.REFUSES_WITH_ABILITY not in grounds:
        return
    errors: dict[str, list[str]] = {}
    for name, answer in exemptions.as_dict().items():
        if answer is None:
            errors[f"exemptions.{name}"] = [
                f"以“有履行能力而拒不履行”纳入名单，须回答：{EXEMPTION_LABELS[name]}"
            ]
        elif answer:
            errors[f"exemptions.{name}"] = [
                f"{EXEMPTION_LABELS[name]}，依第三条不得以“有履行能力而拒不履行”纳入名单"
            ]
    if errors:
        raise ValidationFailed("不符合以“有履行能力而拒不履行”纳入失信名单的条件", errors)


def age_on(birth_date: date, on: date) -> int:
    """Full years of age on a date (a birthday on 29 February counts from 1 March in other years)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def is_minor(birth_date: date, on: date) -> bool:
    """Art. 4: under 18 on the decision date."""
    return age_on(birth_date, on) < 18


def check_not_minor(birth_date: date, on: date, field: str = "subject.id_number") -> None:
    """Art. 4: a minor may never be listed."""
    if is_minor(birth_date, on):
        raise ValidationFailed.on(
            field, f"被执行人于{on.isoformat()}未满18周岁，依第四条不得纳入失信被执行人名单"
        )


# --------------------------------------------------------------------------------------------------
# Term, extension, grace period


BASE_TERM_YEARS = 2
MAX_TOTAL_TERM_YEARS = 5
MIN_EXTENSION_YEARS, MAX_EXTENSION_YEARS = 1, 3


def term_years(grounds: frozenset[Ground]) -> int | None:
    """Art. 2: grounds 2–6 carry two years; ground 1 alone has no fixed term (the listing ends only
    by deletion); ground 1 with another ground carries the other ground's term."""
    if not grounds:
        raise ValueError("no grounds")
    if grounds == {Ground.REFUSES_WITH_ABILITY}:
        return None
    return BASE_TERM_YEARS


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Aug + 6 months = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def listing_ends_on(
    decided_on: date, grounds: frozenset[Ground], extension_years: int = 0
) -> date | None:
    """Art. 2: a termed listing runs two years (plus extensions) from the decision date."""
    years = term_years(grounds)
    if years is None:
        return None
    return add_years(decided_on, years + extension_years)


def check_extension(grounds: frozenset[Ground], current_extension: int, years: int) -> None:
    """Art. 2: a judge may extend a termed listing by 1 to 3 years, 5 years in total at most, for
    serious violent or threatening obstruction or several dishonest acts."""
    if term_years(grounds) is None:
        raise Conflict("以“有履行能力而拒不履行”单独纳入的名单没有固定期限，不能延长")
    if not MIN_EXTENSION_YEARS <= years <= MAX_EXTENSION_YEARS:
        raise ValidationFailed.on("years", "延长期限应为1至3年")
    total = BASE_TERM_YEARS + current_extension + years
    if total > MAX_TOTAL_TERM_YEARS:
        left = MAX_TOTAL_TERM_YEARS - BASE_TERM_YEARS - current_extension
        raise ValidationFailed.on(
            "years", f"失信期限合计不得超过5年，本名单最多还可延长{max(left, 0)}年"
        )


MIN_GRACE_DAYS, MAX_GRACE_DAYS = 30, 90


def check_grace_days(days: int) -> None:
    """SPC 2019 opinion on 善意文明执行: a grace period of one to three months may be granted."""
    if days != 0 and not MIN_GRACE_DAYS <= days <= MAX_GRACE_DAYS:
        raise ValidationFailed.on("grace_days", "宽限期应为1至3个月（30至90日），不给予宽限期填0")


def publish_on(decided_on: date, grace_days: int) -> date:
    """Publication happens on the decision date, or when the grace period ends."""
    from datetime import timedelta

    return decided_on + timedelta(days=grace_days)


def check_decision_date(decided_on: date, today: date, filed_on: date | None) -> None:
    """Art. 5: the decision is signed now or earlier, never before the enforcement case was filed."""
    if decided_on > today:
        raise ValidationFailed.on("decided_on", "决定日期不能晚于今天")
    if filed_on and decided_on < filed_on:
        raise ValidationFailed.on("decided_on", "决定日期不能早于执行案件立案日期")


# --------------------------------------------------------------------------------------------------
# Deletion, revocation, deadlines


def deletion_reasons_for(has_term: bool) -> tuple[DeletionReason, ...]:
    return TERMED_EARLY_DELETION_REASONS if has_term else UNTERMED_DELETION_REASONS


def check_deletion_reason(reason: str, *, has_term: bool) -> DeletionReason:
    """Art. 10 lists the reasons a listing without a term is deleted; a termed listing may be
    deleted early only when the debtor performs or corrects the conduct (Art. 2), and otherwise
    ends by expiry, which only the system records."""
    try:
        value = DeletionReason(reason)
    except ValueError:
        raise ValidationFailed.on("reason", f"未知的删除事由：{reason}") from None
    allowed = deletion_reasons_for(has_term)
    if value not in allowed:
        kind = "有期限的名单" if has_term else "无固定期限的名单"
        names = "；".join(r.label for r in allowed)
        raise ValidationFailed.on("reason", f"该删除事由不适用于{kind}。可选事由：{names}")
    return value


DELETION_WORKDAYS = 3
CORRECTION_WORKDAYS = 3
CREDITOR_APPLICATION_DAYS = 15
RELISTING_BAR_MONTHS = 6


def deletion_due_on(calendar: WorkdayCalendar, triggered_on: date) -> date:
    """Art. 10: delete within three working days of the trigger (the first day not counted, Civil
    Procedure Law Art. 85). A debt paid on Mon 2025-01-27 is deleted by Fri 2025-02-07."""
    return calendar.add_workdays(triggered_on, DELETION_WORKDAYS)


def expiry_deletion_due_on(calendar: WorkdayCalendar, ends_on: date) -> date:
    """Art. 10: a termed listing is deleted within three working days after its term ends."""
    return calendar.add_workdays(ends_on, DELETION_WORKDAYS)


def correction_due_on(calendar: WorkdayCalendar, found_on: date) -> date:
    """Art. 9: revoke or correct within three working days of the court finding out."""
    return calendar.add_workdays(found_on, CORRECTION_WORKDAYS)


def creditor_application_due_on(calendar: WorkdayCalendar, applied_on: date) -> date:
    """Art. 5: the court decides on a creditor's application within 15 days (a period ending on a
    rest day ends on the next working day)."""
    return calendar.period_end(applied_on, CREDITOR_APPLICATION_DAYS)


def relisting_barred_until(deleted_on: date) -> date:
    """Art. 10: after a deletion at the creditor's request, the same creditor's application to list
    the debtor again is refused for six months. The last day of the bar follows Civil Code
    Arts. 201–202: counting starts the day after the deletion and a period of months ends on the
    corresponding day, or on the month's last day where there is none (31 Aug → 28 Feb)."""
    return add_months(deleted_on, RELISTING_BAR_MONTHS)


def check_relisting_bar(creditor_deletions: Iterable[date], today: date) -> None:
    """Refuse a creditor's application within six months of a deletion the same creditor asked for.
    ``creditor_deletions`` are the dates of such deletions of this debtor at this creditor's request;
    the refusal names the bar that lasts longest, so the date it gives is the first day allowed."""
    barring = [d for d in creditor_deletions if today <= relisting_barred_until(d)]
    if not barring:
        return
    deleted_on = max(barring)
    until = relisting_barred_until(deleted_on)
    raise ValidationFailed.on(
        "application.by_creditor",
        f"申请执行人于{deleted_on.isoformat()}申请删除该失信信息，"
        f"至{until.isoformat()}期间再次申请纳入的，依第十条不予支持",
    )


# --------------------------------------------------------------------------------------------------
# Performance


@dataclass(frozen=True)
class PerformanceSummary:
    """Art. 6: performance status with performed and unperformed parts."""

    status: PerformanceStatus
    performed_amount: Decimal
    unperformed_amount: Decimal | None


def summarize_performance(
    amount_due: Decimal | None, payments: Iterable[tuple[Decimal | None, bool]]
) -> PerformanceSummary:
    """``payments`` are (amount, full) pairs. Full performance is declared by the court (``full``) or
    reached when the payments cover the amount due; non-monetary obligations are declared full."""
    performed = Decimal("0.00")
    declared_full = False
    any_payment = False
    for amount, full in payments:
        any_payment = True
        performed += amount or Decimal("0")
        declared_full = declared_full or full
    full = declared_full or (amount_due is not None and amount_due > 0 and performed >= amount_due)
    if full:
        status = PerformanceStatus.FULL
    elif any_payment:
        status = PerformanceStatus.PARTIAL
    else:
        status = PerformanceStatus.NONE
    if amount_due is None:
        unperformed = None
    else:
        unperformed = Decimal("0.00") if full else max(amount_due - performed, Decimal("0.00"))
        unperformed = unperformed.quantize(Decimal("0.01"))
    return PerformanceSummary(status, performed.quantize(Decimal("0.01")), unperformed)


def check_payment(amount: Decimal | None, performed_on: date, today: date, full: bool) -> None:
    """A payment has a positive amount (or is a declaration of full performance) and a date that is
    not in the future."""
    if amount is None and not full:
        raise ValidationFailed.on("amount", "请填写履行金额")
    if amount is not None and amount <= 0:
        raise ValidationFailed.on("amount", "履行金额应大于0")
    if performed_on > today:
        raise ValidationFailed.on("performed_on", "履行日期不能晚于今天")


# --------------------------------------------------------------------------------------------------
# Case numbers

_BRACKETS = str.maketrans(
    {"〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")", "【": "(", "】": ")"}
)


def case_number_key(raw: str) -> str:
    """The search key of a case number: full-width and half-width brackets, digits and spaces are
    all typed; ``（2024）京0105执1234号`` and ``(2024)京0105执1234号`` are the same case."""
    import unicodedata

    text = unicodedata.normalize("NFKC", (raw or "").translate(_BRACKETS)).translate(_BRACKETS)
    return "".join(text.split())


def parse_case_number(raw: str, field: str = "case.case_number") -> tuple[str, str]:
    """An enforcement case number (执行案号) such as ``(2024)京0105执1234号``: the year in brackets,
    the court's code, a 执 case type, a number, 号. Returns (as displayed, search key); the display
    form uses the full-width brackets of court documents."""
    import re

    key = case_number_key(raw)
    if not re.fullmatch(
        r"\((19|20)\d{2}\)[^()]{1,20}执[^()]{0,6}?\d{1,8}号(之[一二三四五六七八九十\d]+)?", key
    ):
        raise ValidationFailed.on(field, "执行案号格式应如：（2024）京0105执1234号")
    display = "（" + key[1:5] + "）" + key[6:]
    return display, key

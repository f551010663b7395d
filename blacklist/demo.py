"""Demo data for ``flask --app wsgi seed-demo``: courts, staff accounts, the working-day calendar
and a few hundred synthetic listings in every state of their life (DOMAIN.md §2).

Nothing here writes a table. Every court, account, draft, signature, payment, correction,
extension, deletion, revocation, publication after a grace period and expiry goes through the
service that an operator, a clerk, a judge or the scheduler calls, so the audit journal, the
restrictions projection and the change log are exactly what real use produces.

Listings need a past: terms that ran out (Art. 2), deletions months ago (Art. 10). So the services
are driven with a ``FixedClock`` that walks forward through the last three years one act at a time,
in time order across all listings (the journal and the change log stay in time order), and stops
at the real "now" of the clock passed in. Staff act on working days in office hours; the
scheduler's jobs (publication when a grace period ends, deletion when it falls due, expiry) run
at night on the day they fall due.

Everything is synthetic: names are drawn from common surnames and given-name characters, ID
numbers and credit codes are invented with valid check characters. The same seed on the same day
gives the same data (apart from random public ids and ciphertexts).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, selectinload

from blacklist.audit.models import AuditEntry
from blacklist.changelog.models import Change
from blacklist.changelog.writer import last_seq
from blacklist.core.actor import Actor, Role
from blacklist.core.clock import CHINA_TZ, Clock, FixedClock
from blacklist.core.errors import DomainError
from blacklist.core.identity import organisation_code_check_char, uscc_check_char
from blacklist.core.workdays import WorkdayCalendar
from blacklist.corrections import services as corrections
from blacklist.corrections.inputs import CorrectionIn, DecisionIn, ReconsiderationIn
from blacklist.db import vault_of
from blacklist.holidays.models import Holiday
from blacklist.holidays.services import load_calendar, seed_from_chinesecalendar
from blacklist.listing import services as listings
from blacklist.listing.inputs import (
    ApplicationIn,
    ApprovalIn,
    CaseIn,
    DraftIn,
    ListingPatch,
    PaymentIn,
    PersonIn,
    SubjectIn,
)
from blacklist.listing.models import Listing, Subject
from blacklist.listing.rules import (
    DeletionReason,
    Exemptions,
    Ground,
    ListingStatus,
    add_years,
)
from blacklist.partners import services as partner_services
from blacklist.partners.models import Hit
from blacklist.restrictions import services as orders
from blacklist.restrictions.inputs import LiftingIn, OrderIn, OrganisationIn
from blacklist.restrictions.models import Restriction
from blacklist.staff import services as staff
from blacklist.staff.models import Court, StaffUser

__all__ = [
    "DEFAULT_LISTINGS",
    "DEFAULT_SEED",
    "DEMO_PASSWORDS",
    "DemoFailed",
    "DemoLogin",
    "DemoRefused",
    "DemoSummary",
    "demo_username",
    "has_courts",
    "seed_demo",
]

DEFAULT_SEED = 20251123
DEFAULT_LISTINGS = 300

#: The demo staff's fixed passwords, by role (usernames: ``<court code in lower case>-<role>``).
#: Demo credentials only: anyone who reads the README knows them.
DEMO_PASSWORDS = {
    Role.CLERK: "demo-clerk-2025",
    Role.JUDGE: "demo-judge-2025",
    Role.ADMIN: "demo-admin-2025",
}

SEED_ACTOR = Actor.system("seed-demo")
SCHEDULER = Actor.system("scheduler")

#: How far back the demo's history goes: decisions are spread over about three years, so some
#: two-year terms (grounds 2–6, Art. 2) have run out.
HISTORY_DAYS = 1095


class DemoRefused(Exception):
    """The demo is loaded into an empty, migrated database only: this one already has courts, or
    has no tables yet."""


class DemoFailed(RuntimeError):
    """A service refused a step of the demo plan (a bug in the plan or in the service)."""


# --------------------------------------------------------------------------------------------------
# Courts


@dataclass(frozen=True)
class _Region:
    """A province of the demo: its name as ``staff.services.PROVINCES`` spells it, the one-character
    abbreviation of its case numbers (京), the city its companies are named after, its district
    address codes (GB/T 2260) and its arbitration commission."""

    province: str
    abbr: str
    city: str
    address_codes: tuple[str, ...]
    arbitration: str


REGIONS = (
    _Region("北京", "京", "北京", ("110105", "110101", "110102", "110106", "110108"), "北京仲裁委员会"),
    _Region("上海", "沪", "上海", ("310101", "310104", "310105", "310115"), "上海仲裁委员会"),
    _Region("广东", "粤", "深圳", ("440305", "440304", "440303", "440106"), "深圳国际仲裁院"),
    _Region("浙江", "浙", "杭州", ("330106", "330102", "330108", "330381"), "杭州仲裁委员会"),
    _Region("四川", "川", "成都", ("510104", "510107", "510106", "511002"), "成都仲裁委员会"),
    _Region("新疆", "新", "乌鲁木齐", ("650102", "650103", "650104", "653101"), "乌鲁木齐仲裁委员会"),
)  # fmt: skip
_REGION = {r.province: r for r in REGIONS}

#: Address codes of people who moved to the courts' cities from elsewhere (incl. 370802, a code
#: abolished in 2013 that people still carry, DOMAIN.md §5).
_MIGRANT_ADDRESS_CODES = (
    "410102", "340102", "430102", "360102", "370102", "420106", "500103", "130102", "370802",
)  # fmt: skip


@dataclass(frozen=True)
class _Court:
    """A demo court. Its code is the province's letters and the court's number (BJ0105), the
    number being the one its case numbers carry after the province's abbreviation (京0105)."""

    code: str
    name: str
    province: str
    parent: str | None
    weight: float  # share of the listings: basic courts enforce most cases

    @property
    def region(self) -> _Region:
        return _REGION[self.province]

    @property
    def case_code(self) -> str:
        """The court's part of a case number: 京0105 in (2024)京0105执1234号."""
        return self.region.abbr + self.code[2:]

    @property
    def is_high_court(self) -> bool:
        return self.parent is None


COURTS = (
    _Court("BJ", "北京市高级人民法院", "北京", None, 0.3),
    _Court("BJ03", "北京市第三中级人民法院", "北京", "BJ", 2),
    _Court("BJ0105", "北京市朝阳区人民法院", "北京", "BJ03", 7),
    _Court("SH", "上海市高级人民法院", "上海", None, 0.3),
    _Court("SH02", "上海市第二中级人民法院", "上海", "SH", 2),
    _Court("SH0101", "上海市黄浦区人民法院", "上海", "SH02", 6),
    _Court("GD", "广东省高级人民法院", "广东", None, 0.3),
    _Court("GD03", "广东省深圳市中级人民法院", "广东", "GD", 2),
    _Court("GD0305", "深圳市南山区人民法院", "广东", "GD03", 7),
    _Court("ZJ", "浙江省高级人民法院", "浙江", None, 0.3),
    _Court("ZJ01", "浙江省杭州市中级人民法院", "浙江", "ZJ", 2),
    _Court("ZJ0106", "杭州市西湖区人民法院", "浙江", "ZJ01", 6),
    _Court("SC", "四川省高级人民法院", "四川", None, 0.3),
    _Court("SC01", "四川省成都市中级人民法院", "四川", "SC", 2),
    _Court("SC0104", "成都市锦江区人民法院", "四川", "SC01", 5),
    _Court("XJ", "新疆维吾尔自治区高级人民法院", "新疆", None, 0.3),
    _Court("XJ01", "新疆维吾尔自治区乌鲁木齐市中级人民法院", "新疆", "XJ", 1.5),
    _Court("XJ0102", "乌鲁木齐市天山区人民法院", "新疆", "XJ01", 4),
)
_COURT = {c.code: c for c in COURTS}


def demo_username(court_code: str, role: Role) -> str:
    return f"{court_code.lower()}-{role.value}"


def _court_roles(court: _Court) -> tuple[Role, ...]:
    """A clerk and a judge at every court; an administrator at each province's high court."""
    if court.is_high_court:
        return (Role.CLERK, Role.JUDGE, Role.ADMIN)
    return (Role.CLERK, Role.JUDGE)


# --------------------------------------------------------------------------------------------------
# Names (common surnames repeat as they do in life: weights roughly per 100 people)

_SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("赵", 2.3),
    ("黄", 2.2), ("周", 2.1), ("吴", 2.0), ("徐", 1.7), ("孙", 1.5), ("胡", 1.3), ("朱", 1.3),
    ("高", 1.2), ("林", 1.2), ("何", 1.2), ("郭", 1.1), ("马", 1.1), ("罗", 0.9), ("梁", 0.8),
    ("宋", 0.8), ("郑", 0.8), ("谢", 0.7), ("韩", 0.7), ("唐", 0.7), ("冯", 0.6), ("于", 0.6),
    ("董", 0.6), ("萧", 0.5), ("程", 0.5), ("曹", 0.5), ("袁", 0.5), ("邓", 0.5), ("许", 0.5),
    ("傅", 0.4), ("沈", 0.4), ("曾", 0.4), ("彭", 0.4), ("吕", 0.4), ("欧阳", 0.05),
)  # fmt: skip
_SURNAME_CHOICES = tuple(s for s, _ in _SURNAMES)
_SURNAME_WEIGHTS = tuple(itertools.accumulate(w for _, w in _SURNAMES))
_GIVEN_MALE = "伟强磊军勇杰涛明超辉刚平建国华俊峰斌鹏波宇浩凯健文志东海龙飞亮林成兵新德永庆春晨"
_GIVEN_FEMALE = "芳娟敏静丽艳霞燕玲婷红梅莉萍雪琳洁慧颖倩娜兰英秀佳欣怡月丹晶荣凤玉彩"
#: Uyghur names as Chinese documents write them, with the middle dot (DOMAIN.md §5).
_MINORITY_MALE = (
    "艾力·吐尔逊",
    "买买提·依明",
    "阿不都热合曼·卡德尔",
    "艾尔肯·努尔",
    "吐尔洪·阿木提",
)
_MINORITY_FEMALE = ("热依拉·阿不都拉", "古丽娜尔·艾则孜", "帕提古丽·吾斯曼", "迪丽努尔·阿卜杜")
#: A mistyped character and the right one: corrections of a name (Art. 9).
_TYPOS = {
    "伟": "玮",
    "明": "鸣",
    "华": "桦",
    "静": "靖",
    "丽": "莉",
    "军": "君",
    "勇": "永",
    "芳": "方",
}

_BRAND = "恒信达华锐鼎盛泰瑞丰源宏远嘉德金鑫润通博隆兴晟昌安辉翔誉卓越亿银海天汇联"
_TRADES = (
    "商贸", "科技", "建筑工程", "房地产开发", "餐饮管理", "物流", "投资管理", "电子", "实业",
    "文化传媒", "装饰工程", "汽车销售", "建材", "农业开发", "供应链管理", "网络科技",
)  # fmt: skip
_BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行")

# The special records the issue asks for: a character beyond the BMP, a traditional-character
# name from a Hong Kong resident's record (residence permit numbers start 810000), and a minority
# name with the middle dot.
RARE_NAME = "𠮷伟"
TRADITIONAL_NAME = "張偉"
MIDDLE_DOT_NAME = "阿依古丽·买买提"


# --------------------------------------------------------------------------------------------------
# What each listing's life looks like

_FATES = (
    ("draft", 5), ("pending", 5), ("grace", 6), ("published", 37), ("extended", 3),
    ("deleted_performed", 8), ("deleted_due", 4), ("grace_paid", 2), ("deleted_reason", 12),
    ("revoked", 5), ("expired", 13),
)  # fmt: skip
_UNTERMED_REASONS = (
    DeletionReason.SETTLEMENT_PERFORMED,
    DeletionReason.CREDITOR_REQUEST,
    DeletionReason.NO_ASSETS_AFTER_SEARCHES,
    DeletionReason.SUSPENDED,
    DeletionReason.NOT_ENFORCED,
    DeletionReason.TERMINATED,
)
#: Listed first, so that even a small demo (``--listings 20``) shows every state and every kind of
#: removal: the special records (published, with payments), then one listing of each fate and
#: reason. ``due_now``: paid in full about two weeks ago, its deletion due by today but left to the
#: real scheduler, so that ``make run`` shows a delisting happening when it starts.
_COVERAGE = (
    "draft", "pending", "grace", "published", "extended", "deleted_performed", "deleted_due",
    "due_now",
    "grace_paid", *(f"deleted_reason:{r.value}" for r in _UNTERMED_REASONS),
    f"deleted_reason:{DeletionReason.CORRECTED_CONDUCT.value}", "revoked", "expired",
)  # fmt: skip
_SPECIALS = (
    ("published", "BJ0105", RARE_NAME),
    ("published", "GD0305", TRADITIONAL_NAME),
    ("published", "XJ0102", MIDDLE_DOT_NAME),
    ("published", "SH0101", ""),  # an organisation with a principal and an actual controller
)

_OBLIGATIONS = (
    "支付借款本金人民币{a}元及相应利息",
    "支付货款人民币{a}元及逾期付款违约金",
    "支付工程款人民币{a}元",
    "支付拖欠的劳动报酬人民币{a}元",
    "赔偿经济损失人民币{a}元",
    "支付房屋租金人民币{a}元",
)
_NON_MONETARY = (
    "腾退房屋并交付申请执行人",
    "交付车辆一辆",
    "协助申请执行人办理房屋过户登记手续",
)
_PAYMENT_NOTES = ("被执行人通过执行款专户支付", "扣划被执行人银行存款", "拍卖被执行人财产所得价款")
_REJECT_REASONS = ("请补充被执行人财产调查情况后再报", "失信情形认定依据不足，请补充证据")
_REVOKE_REASONS = (
    "经复查，被执行人纳入前已提供充分有效担保，不应纳入，依第九条撤销",
    "经复查，系被执行人身份被他人冒用，错误纳入，依第九条撤销",
    "纳入前双方已达成执行和解协议且被执行人正在履行，纳入有误，依第九条撤销",
)
_EXTEND_REASONS = (
    "被执行人以暴力、威胁方法妨碍、抗拒执行，情节严重，依第二条延长失信期限",
    "被执行人具有多项失信行为，依第二条延长失信期限",
)
_DELETION_NOTES = {
    DeletionReason.PERFORMED: "被执行人已全部履行生效法律文书确定的义务",
    DeletionReason.SETTLEMENT_PERFORMED: "双方达成执行和解协议，被执行人已履行完毕",
    DeletionReason.CREDITOR_REQUEST: "申请执行人书面申请删除失信信息，本院审查同意",
    DeletionReason.NO_ASSETS_AFTER_SEARCHES: "本案已终结本次执行程序，两次网络查控未发现可供执行财产，申请执行人未提供财产线索",
    DeletionReason.SUSPENDED: "被执行人破产申请已被受理，本院裁定中止执行",
    DeletionReason.NOT_ENFORCED: "本院裁定不予执行该仲裁裁决",
    DeletionReason.TERMINATED: "本院裁定终结本案执行",
    DeletionReason.CORRECTED_CONDUCT: "被执行人主动纠正失信行为并积极履行，提前删除",
}  # fmt: skip
_ANSWERED = Exemptions(has_security=False, seized_assets_sufficient=False, later_in_order=False)


@dataclass(frozen=True)
class _Step:
    on: date
    action: str  # draft, edit, submit, reject, approve, pay, correct, extend, delete, revoke
    args: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class _Plan:
    """One listing's life: its court, its draft and the staff's acts in order."""

    fate: str
    court: _Court
    kind: str  # person / organisation
    name: str
    decided_on: date | None
    filed_on: date
    termed: bool
    grace_days: int
    monetary: bool
    male: bool
    steps: list[_Step] = field(default_factory=list)
    draft: DraftIn | None = None
    special: bool = False
    listing_id: int | None = None


# --------------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class DemoLogin:
    court_code: str
    court_name: str
    province: str
    parent_code: str | None
    role: str
    username: str
    password: str
    display_name: str


@dataclass(frozen=True)
class DemoSummary:
    """What ``seed_demo`` made, counted from the database afterwards."""

    rng_seed: int
    courts: int
    staff: int
    calendar_days: int
    listings: int
    organisations: int
    by_status: dict[str, int]
    in_grace: int
    by_removal_kind: dict[str, int]
    by_removal_reason: dict[str, int]
    by_performance: dict[str, int]
    acts: dict[str, int]
    audit_entries: int
    change_log_items: int
    logins: tuple[DemoLogin, ...]
    #: Listings whose deletion is due and left to the real scheduler (``make run`` shows it).
    due_for_scheduler: int = 0
    #: (code, name, API key) of each demo partner: the keys are shown here once, as for real ones.
    partners: tuple[tuple[str, str, str], ...] = ()
    hits: int = 0


# --------------------------------------------------------------------------------------------------
# Entry point


def has_courts(session: Session) -> bool:
    """Whether any court exists (the demo is loaded into an empty database only)."""
    return session.scalar(select(Court.id).limit(1)) is not None


def seed_demo(
    session: Session,
    *,
    clock: Clock,
    rng_seed: int = DEFAULT_SEED,
    listings: int = DEFAULT_LISTINGS,
) -> DemoSummary:
    """Load the demo: the calendar, the courts and their staff three years before ``clock``'s now,
    then ``listings`` listings lived through to now (deterministic for ``rng_seed`` and the date).
    Refuses (``DemoRefused``) when the database has courts already, so it never runs twice. Every
    service commits its own act, so a failure part-way (``DemoFailed``) leaves the acts done so
    far: start again from an empty database."""
    if listings < 0:
        raise ValueError("listings must not be negative")
    if not inspect(session.get_bind()).has_table(Court.__tablename__):
        raise DemoRefused("the database has no tables: run `flask --app wsgi db upgrade` first")
    if has_courts(session):
        raise DemoRefused(
            "the database already has courts: seed-demo loads demo data into an empty database "
            "only (with `make run`: `make reset` starts over)"
        )
    now = clock.now()
    today = clock.today()
    rng = random.Random(rng_seed)
    start = today - timedelta(days=HISTORY_DAYS + 45)
    sim = FixedClock(datetime.combine(start, time(9, 0), CHINA_TZ))

    seed_from_chinesecalendar(session, actor=SEED_ACTOR, clock=sim)
    session.commit()
    calendar = load_calendar(session)
    logins, actors = _create_courts_and_staff(session, sim, rng)
    partners = _create_partners(session, sim)

    planner = _Planner(rng, today, calendar)
    plans = planner.plan(listings)
    _Runner(session, sim, now, actors).run(plans)
    _partner_feedback(session, clock, rng)
    _orders_and_corrections(session, clock, rng, actors, planner)
    summary = _summary(session, rng_seed, today, logins)
    due = session.scalar(
        select(func.count())
        .select_from(Listing)
        .where(
            Listing.status.in_((ListingStatus.APPROVED, ListingStatus.PUBLISHED)),
            Listing.deletion_due_on <= today,
        )
    )
    return replace(
        summary,
        partners=partners,
        hits=session.scalar(select(func.count()).select_from(Hit)) or 0,
        due_for_scheduler=due or 0,
    )


# --------------------------------------------------------------------------------------------------
# Standalone orders, exit bans and correction requests (DOMAIN.md §2 Arts. 11–12, §3)


def _orders_and_corrections(
    session: Session,
    clock: Clock,
    rng: random.Random,
    actors: dict[tuple[str, Role], Actor],
    planner: _Planner,
) -> None:
    """At each basic court: a standalone consumption order on a person and one on a company (the
    company's lifted on security), an exit ban on a person and one on a company's legal
    representative; and correction requests on published listings: one waiting for review, one
    rejected (open to reconsideration), one before the higher court."""
    today = clock.today()
    names = planner.names
    for court in (c for c in COURTS if c.parent is not None and c.parent in _COURT):
        if _COURT[court.parent].parent is None:
            continue  # intermediate courts enforce few cases: basic courts only
        judge = actors[(court.code, Role.JUDGE)]
        when = FixedClock(datetime.combine(today - timedelta(days=20), time(10, 0), CHINA_TZ))

        def case(filed: date, court=court) -> CaseIn:
            basis_number, issuer = planner.basis(court, filed)
            amount = planner.amount(False)
            return CaseIn(
                case_number=planner.case_number(court, filed),
                filed_on=filed,
                basis_document_number=basis_number,
                basis_issuer=issuer,
                obligation=rng.choice(_OBLIGATIONS).format(a=f"{amount:.2f}".removesuffix(".00")),
                amount_due=amount,
            )

        filed = when.today() - timedelta(days=rng.randint(60, 200))
        male = rng.random() < 0.7
        person = SubjectIn(
            kind="person",
            name=names.person_name(court, male),
            id_number=names.resident_id(court, male, today),
        )
        order_case = case(filed)
        orders.issue_order(
            session,
            OrderIn(
                kind="consumption", subject=person, case=order_case,
                decision_number=order_case.case_number,
                reasons="被执行人未按执行通知书指定的期间履行生效法律文书确定的给付义务",
            ),
            actor=judge, clock=when,
        )  # fmt: skip
        company, code = names.company(court)
        rep = planner.person(court, today, "legal_representative")
        company_case = case(filed - timedelta(days=30))
        lifted = orders.issue_order(
            session,
            OrderIn(
                kind="consumption",
                subject=SubjectIn(
                    kind="organisation", name=company, credit_code=code, legal_representative=rep
                ),
                case=company_case, decision_number=company_case.case_number,
                reasons="被执行人为单位，未按执行通知书履行义务，对其及其法定代表人限制消费",
            ),
            actor=judge, clock=when,
        )  # fmt: skip
        orders.lift_order(
            session, lifted.public_id,
            LiftingIn(ground="security", note="被执行人提供了足额有效担保，申请执行人无异议"),
            actor=judge, clock=FixedClock(when.now() + timedelta(days=6)),
        )  # fmt: skip
        ban_case = case(filed)
        orders.issue_order(
            session,
            OrderIn(
                kind="exit",
                subject=SubjectIn(
                    kind="person",
                    name=names.person_name(court, True),
                    id_number=names.resident_id(court, True, today),
                ),
                case=ban_case, decision_number=ban_case.case_number.replace("执", "执限出"),
                reasons="被执行人未履行义务且有出境可能，依申请执行人申请限制出境",
            ),
            actor=judge, clock=when,
        )  # fmt: skip
        orders.issue_order(
            session,
            OrderIn(
                kind="exit",
                subject=SubjectIn(kind="person", name=rep.name, id_number=rep.id_number),
                organisation=OrganisationIn(
                    name=company, credit_code=code, role="legal_representative"
                ),
                case=company_case,
                decision_number=company_case.case_number.replace("执", "执限出"),
                reasons="被执行单位未履行义务，限制其法定代表人出境",
            ),
            actor=judge, clock=when,
        )  # fmt: skip
        _demo_corrections(session, clock, rng, court, judge)


def _demo_corrections(
    session: Session, clock: Clock, rng: random.Random, court: _Court, judge: Actor
) -> None:
    today = clock.today()
    vault = vault_of(session)
    candidates = session.scalars(
        select(Listing)
        .join(Court, Court.id == Listing.court_id)
        .where(
            Court.code == court.code,
            Listing.status == ListingStatus.PUBLISHED,
            Listing.published_on <= today - timedelta(days=30),
        )
        .options(selectinload(Listing.subject))
        .order_by(Listing.id)
    ).all()
    if len(candidates) < 3:
        return
    picked = rng.sample(candidates, 3)
    texts = {
        "inaccurate_data": "名单上记载的履行情况不准确：我已于上月向法院账户支付了部分款项，附银行回单。",
        "should_not_be_listed": "我已向法院提供了足额担保，依法不应纳入失信名单，附担保书。",
        "should_have_been_deleted": "案件已经执行和解并履行完毕，名单应当删除，附和解协议及付款凭证。",
    }
    references = []
    for index, (listing, ground) in enumerate(zip(picked, texts, strict=True)):
        when = FixedClock(
            datetime.combine(today - timedelta(days=(3, 9, 16)[index]), time(15, 0), CHINA_TZ)
        )
        request = corrections.submit_request(
            session,
            CorrectionIn(
                public_id=listing.public_id,
                id_number=vault.decrypt(listing.subject.id_cipher),
                applicant_name=listing.subject.name,
                ground=ground,
                explanation=texts[ground],
                contact="通过执行法院联系",
            ),
            actor=corrections.public_actor(),
            clock=when,
        )
        references.append((request.reference, listing, when))
    # The second and third were rejected; the third's applicant asked the higher court.
    for reference, _listing, when in references[1:]:
        decided = FixedClock(when.now() + timedelta(days=2))
        corrections.decide_request(
            session, reference,
            DecisionIn(decision="reject", reasons="申请人未提交已经履行或者已经提供担保的证据。"),
            actor=judge, clock=decided,
        )  # fmt: skip
    reference, listing, when = references[2]
    corrections.request_reconsideration(
        session, reference,
        ReconsiderationIn(
            id_number=vault.decrypt(listing.subject.id_cipher),
            reasons="原审查未考虑和解协议已经履行完毕的事实，请求上一级法院撤销驳回决定。",
        ),
        actor=corrections.public_actor(), clock=FixedClock(when.now() + timedelta(days=5)),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Partners (DOMAIN.md §4)

#: The partners of DOMAIN.md §4: code, name, measures, scope.
DEMO_PARTNERS = (
    ("caac", "中国民用航空局（中国航信）", "flight", "restriction"),
    ("railway", "中国国家铁路集团有限公司", "hsr_any_seat,emu_first_class,soft_sleeper", "restriction"),
    ("exit_entry", "国家移民管理局", "exit", "restriction"),
    ("credit_ref", "中国人民银行征信中心", "credit_record", "listing"),
    ("procurement", "中国政府采购网", "procurement,bidding", "listing"),
    ("market_reg", "国家市场监督管理总局", "officer_ban", "restriction"),
    ("bank", "示例商业银行", "credit,financing", "listing"),
)  # fmt: skip
#: Sanctions the demo's airline and railway report back, spread over the past year.
DEMO_HITS = 240


def _create_partners(session: Session, sim: Clock) -> tuple[tuple[str, str, str], ...]:
    """The partners, registered before the history starts so that every change concerns them."""
    made = []
    for code, name, measures, scope in DEMO_PARTNERS:
        _partner, credentials = partner_services.create_partner(
            session, code=code, name=name, measures=measures, scope=scope,
            actor=SEED_ACTOR, clock=sim,
        )  # fmt: skip
        made.append((code, name, credentials.api_key or ""))
    return tuple(made)


def _partner_feedback(session: Session, clock: Clock, rng: random.Random) -> None:
    """Acks (all up to date but the bank, which lags behind so the staff pages have unacknowledged
    removals to show) and hits from the airline and the railway over the past year."""
    head = last_seq(session)
    for code, _name, _measures, _scope in DEMO_PARTNERS:
        partner = partner_services.get_partner(session, code)
        partner_services.acknowledge(
            session, partner, head if code != "bank" else head // 2, clock=clock
        )
    now, today = clock.now(), clock.today()
    railway = partner_services.get_partner(session, "railway")
    caac = partner_services.get_partner(session, "caac")
    people = session.execute(
        select(Restriction.person_cipher, Restriction.since)
        .where(Restriction.is_active.is_(True), Restriction.person_kind == "person")
        .order_by(Restriction.id)
    ).all()
    vault = vault_of(session)
    for n in range(DEMO_HITS if people else 0):
        cipher, since = rng.choice(people)
        days = (today - since).days
        if days < 1:
            continue
        occurred = now - timedelta(
            days=rng.randint(0, min(days - 1, 364)), minutes=rng.randint(1, 900)
        )
        partner, measure = (caac, "flight") if n % 3 else (railway, "hsr_any_seat")
        partner_services.report_hit(
            session, partner, id_number=vault.decrypt(cipher), measure=measure,
            occurred_at=occurred, detail="购票时拒绝出票（演示数据）", reference=f"demo-{n}",
            clock=clock,
        )  # fmt: skip


def _create_courts_and_staff(
    session: Session, sim: FixedClock, rng: random.Random
) -> tuple[tuple[DemoLogin, ...], dict[tuple[str, Role], Actor]]:
    logins: list[DemoLogin] = []
    actors: dict[tuple[str, Role], Actor] = {}
    names = _NameMaker(rng)
    for court in COURTS:
        sim.advance(minutes=2)
        staff.create_court(
            session,
            code=court.code,
            name=court.name,
            province=court.province,
            parent_code=court.parent,
            actor=SEED_ACTOR,
            clock=sim,
        )
    for court in COURTS:
        for role in _court_roles(court):
            sim.advance(minutes=1)
            username = demo_username(court.code, role)
            display = names.han_name(rng.random() < 0.5)
            user = staff.create_staff_user(
                session,
                court_code=court.code,
                role=role,
                username=username,
                password=DEMO_PASSWORDS[role],
                display_name=display,
                actor=SEED_ACTOR,
                clock=sim,
            )
            actors[(court.code, role)] = user.as_actor()
            logins.append(
                DemoLogin(
                    court.code, court.name, court.province, court.parent, role.value,
                    username, DEMO_PASSWORDS[role], display,
                )
            )  # fmt: skip
    return tuple(logins), actors


# --------------------------------------------------------------------------------------------------
# Synthetic people and organisations


class _NameMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_ids: set[str] = set()
        self.used_companies: set[str] = set()

    def han_name(self, male: bool) -> str:
        surname = self.rng.choices(_SURNAME_CHOICES, cum_weights=_SURNAME_WEIGHTS)[0]
        pool = _GIVEN_MALE if male else _GIVEN_FEMALE
        return surname + "".join(self.rng.sample(pool, 2))

    def person_name(self, court: _Court, male: bool) -> str:
        if court.province == "新疆" and self.rng.random() < 0.4:
            return self.rng.choice(_MINORITY_MALE if male else _MINORITY_FEMALE)
        return self.han_name(male)

    def resident_id(
        self, court: _Court, male: bool, adult_on: date, *, min_age=19, max_age=74, address=None
    ) -> str:
        """A valid, unused 18-digit number of someone ``min_age``–``max_age`` years old on
        ``adult_on`` (Art. 4: adults only). The check digit comes from python-stdnum."""
        from stdnum.cn import ric

        while True:
            if address is None:
                local = self.rng.random() < 0.75
                code = self.rng.choice(
                    court.region.address_codes if local else _MIGRANT_ADDRESS_CODES
                )
            else:
                code = address
            age = self.rng.randint(min_age, max_age)
            birth = adult_on - timedelta(days=age * 365 + self.rng.randint(10, 350))
            sequence = self.rng.randrange(1 if male else 0, 1000, 2)
            body = f"{code}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder digit
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def company(self, court: _Court) -> tuple[str, str]:
        """A company name and a valid, unused Unified Social Credit Code (GB 32100-2015): 9
        (registered by market regulation), 1 (enterprise), the district code, the organisation
        code (GB 11714, with its own check character), the check character."""
        region = court.region
        while True:
            brand = "".join(self.rng.sample(_BRAND, 2))
            trade = self.rng.choice(_TRADES)
            suffix = "股份有限公司" if self.rng.random() < 0.1 else "有限公司"
            city = region.city + ("市" if self.rng.random() < 0.5 else "")
            name = f"{city}{brand}{trade}{suffix}"
            if name not in self.used_companies:
                break
        self.used_companies.add(name)
        while True:
            if self.rng.random() < 0.7:  # issued after 2015: MA + serial
                alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
                org8 = "MA" + "".join(self.rng.choice(alphabet) for _ in range(6))
            else:  # an older organisation code carried into the USCC
                org8 = f"{self.rng.randrange(10**7, 10**8)}"
            body = "91" + self.rng.choice(region.address_codes) + org8
            body += organisation_code_check_char(org8)
            code = body + uscc_check_char(body)
            if code not in self.used_ids:
                self.used_ids.add(code)
                return name, code


# --------------------------------------------------------------------------------------------------
# Planning


class _Planner:
    """Decides every listing's life up front (deterministic for the seed): who, which court,
    which grounds, and on which working days the staff act."""

    def __init__(self, rng: random.Random, today: date, calendar: WorkdayCalendar) -> None:
        self.rng = rng
        self.today = today
        self.last = today - timedelta(days=1)  # staff acts end yesterday: nothing lies ahead of now
        self.calendar = calendar
        self.names = _NameMaker(rng)
        self.counters: dict[tuple[str, int, str], int] = {}

    # --- dates

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def workday(self, lo: date, hi: date) -> date:
        """A random working day in [lo, hi] (``lo``'s next working day if there is none)."""
        if hi < lo:
            hi = lo
        span = (hi - lo).days
        for _ in range(12):
            day = lo + timedelta(days=self.rng.randint(0, span))
            if self.calendar.is_workday(day):
                return day
        days = [lo + timedelta(days=i) for i in range(span + 1)]
        candidates = [d for d in days if self.calendar.is_workday(d)]
        return self.rng.choice(candidates) if candidates else self.calendar.next_workday(lo)

    def after(self, day: date, lo: int, hi: int) -> date:
        """A working day ``lo``–``hi`` working days after ``day``."""
        return self.calendar.add_workdays(day, self.rng.randint(lo, hi))

    # --- the plan

    def plan(self, count: int) -> list[_Plan]:
        fates: list[tuple[str, str | None, str | None]] = [(f, c, n) for f, c, n in _SPECIALS]
        fates += [(f, None, None) for f in _COVERAGE]
        names, weights = zip(*_FATES, strict=True)
        while len(fates) < count:
            fates.append((self.rng.choices(names, weights)[0], None, None))
        fates = fates[:count]
        plans = [self.life(fate, court, name) for fate, court, name in fates]
        self.rng.shuffle(plans)
        # Case numbers are given in filing order, per court and year.
        for plan in sorted(plans, key=lambda p: (p.filed_on, p.court.code)):
            plan.draft = self.draft(plan)
        return plans

    def court(self) -> _Court:
        return self.rng.choices(COURTS, [c.weight for c in COURTS])[0]

    def life(self, fate: str, court_code: str | None, special_name: str | None) -> _Plan:
        """The dates and acts of one listing, so that it ends (today) in the state its fate names.
        ``special_name`` names one of the special records ("" for the special organisation)."""
        rng = self.rng
        fate, _, reason_value = fate.partition(":")
        court = _COURT[court_code] if court_code else self.court()
        special = special_name is not None
        if special:
            kind = "person" if special_name else "organisation"
        else:
            kind = "person" if rng.random() < 0.8 else "organisation"
        reason = DeletionReason(reason_value) if reason_value else None
        termed = rng.random() < 0.5
        if fate in ("extended", "expired") or reason is DeletionReason.CORRECTED_CONDUCT:
            termed = True
        elif fate in ("deleted_due", "due_now") or reason in _UNTERMED_REASONS[1:]:
            termed = False
        if special_name == MIDDLE_DOT_NAME:
            termed = True
        grace = 0
        if fate in ("grace", "grace_paid") or (
            fate in ("published", "revoked", "expired") and rng.random() < 0.15
        ):
            grace = rng.choice((30, 60, 90))
        monetary = fate in ("deleted_performed", "due_now") or special or rng.random() > 0.05
        steps: list[_Step] = []
        decided: date | None = None

        def signed(lo_days: int, hi_days: int) -> date:
            """Draft, submit and approve, the decision between ``lo_days`` and ``hi_days`` ago."""
            nonlocal decided
            decided = self.workday(self.ago(hi_days), self.ago(lo_days))
            drafted = self.workday(decided - timedelta(days=8), decided - timedelta(days=1))
            submitted = self.workday(drafted, decided)
            steps.extend(
                [_Step(drafted, "draft"), _Step(submitted, "submit"), _Step(decided, "approve")]
            )
            return decided + timedelta(days=grace)  # publication day

        if fate == "draft":
            drafted = self.workday(self.ago(45), self.last)
            steps.append(_Step(drafted, "draft"))
            if rng.random() < 0.4:
                steps.append(_Step(self.workday(drafted, self.last), "edit"))
        elif fate == "pending":
            drafted = self.workday(self.ago(30), self.ago(8))
            steps.append(_Step(drafted, "draft"))
            if rng.random() < 0.3:
                submitted = self.after(drafted, 0, 1)
                rejected = self.after(submitted, 1, 2)
                steps += [
                    _Step(submitted, "submit"),
                    _Step(rejected, "reject", {"reason": rng.choice(_REJECT_REASONS)}),
                    _Step(rejected, "edit"),
                    _Step(self.workday(rejected, self.last), "submit"),
                ]
            else:
                steps.append(_Step(self.workday(drafted, self.last), "submit"))
        elif fate == "grace":
            signed(1, grace - 2)
            if rng.random() < 0.3 and monetary and decided < self.last:
                steps.append(_Step(self.workday(decided + timedelta(days=1), self.last), "pay"))
        elif fate == "grace_paid":
            signed(grace + 30, HISTORY_DAYS)
            paid = self.workday(decided + timedelta(days=3), decided + timedelta(days=grace - 14))
            steps.append(_Step(paid, "pay", {"full": True}))
        elif fate == "published":
            if grace and termed:
                published = signed(grace + 10, 700)
            elif grace:
                published = signed(grace + 10, HISTORY_DAYS)
            else:
                published = signed(7, 700 if termed else HISTORY_DAYS)
            cursor = published
            if not special and rng.random() < 0.1:
                # A mistake found soon after publication and corrected (Art. 9).
                cursor = self.workday(cursor + timedelta(days=1), min(cursor + timedelta(days=15), self.last))  # fmt: skip
                steps.append(_Step(cursor, "correct"))
            # Paid in full lately: early deletion proposed to the judge (Art. 2), not yet done.
            paid_late = termed and monetary and rng.random() < 0.08 and cursor < self.ago(30)
            last_partial = self.ago(22) if paid_late else self.last
            if monetary and (special or rng.random() < 0.35):
                for on in sorted(
                    self.workday(cursor + timedelta(days=1), last_partial)
                    for _ in range(rng.randint(1, 3))
                ):
                    steps.append(_Step(on, "pay"))
            if paid_late:
                steps.append(_Step(self.workday(self.ago(20), self.last), "pay", {"full": True}))
        elif fate == "extended":
            published = signed(250, 1050)
            ends = add_years(decided, 2)
            extended = self.workday(
                published + timedelta(days=150), min(ends - timedelta(days=10), self.last)
            )
            steps.append(
                _Step(
                    extended, "extend",
                    {"years": rng.randint(1, 3), "reason": rng.choice(_EXTEND_REASONS)},
                )
            )  # fmt: skip
        elif fate == "expired":
            published = signed(740 + grace, HISTORY_DAYS)
            if monetary and rng.random() < 0.3:
                ends = add_years(decided, 2)
                steps.append(
                    _Step(self.workday(published + timedelta(days=10), ends - timedelta(days=30)), "pay")
                )  # fmt: skip
        elif fate in ("deleted_performed", "deleted_due", "due_now"):
            published = signed(60, HISTORY_DAYS if not termed else 700)
            latest = self.ago(20) if fate != "due_now" else self.ago(12)
            if monetary and rng.random() < 0.4:
                steps.append(_Step(self.workday(published + timedelta(days=1), latest - timedelta(days=20)), "pay"))  # fmt: skip
            earliest = max(published + timedelta(days=5), steps[-1].on)
            if fate == "due_now":
                earliest = max(earliest, self.ago(14))
            paid = self.workday(earliest, latest)
            steps.append(_Step(paid, "pay", {"full": True}))
            if fate == "deleted_performed":
                steps.append(
                    _Step(self.after(paid, 1, 2), "delete", {"reason": DeletionReason.PERFORMED})
                )
        elif fate == "deleted_reason":
            if reason is None:
                reason = rng.choice(
                    (*_UNTERMED_REASONS, DeletionReason.CORRECTED_CONDUCT)
                    if termed
                    else _UNTERMED_REASONS
                )
                if reason in _UNTERMED_REASONS[1:]:
                    termed = False
                elif reason is DeletionReason.CORRECTED_CONDUCT:
                    termed = True
            published = signed(60, 700 if termed else HISTORY_DAYS)
            deleted = self.workday(published + timedelta(days=20), self.ago(5))
            if reason is DeletionReason.SETTLEMENT_PERFORMED:
                paid = self.workday(published + timedelta(days=10), deleted - timedelta(days=10))
                steps.append(_Step(paid, "pay", {"full": True, "settlement": True}))
                deleted = self.after(paid, 1, 2)
            steps.append(_Step(deleted, "delete", {"reason": reason}))
        elif fate == "revoked":
            signed(5, HISTORY_DAYS if not termed else 700)
            revoked = self.workday(
                decided + timedelta(days=1), min(decided + timedelta(days=90), self.last)
            )
            steps.append(_Step(revoked, "revoke", {"reason": rng.choice(_REVOKE_REASONS)}))  # fmt: skip
        else:  # pragma: no cover - the fates above are all there is
            raise ValueError(fate)

        first = steps[0].on
        filed = self.workday(first - timedelta(days=rng.randint(20, 400)), first)
        male = rng.random() < 0.72  # most listed natural persons are men
        if special_name == MIDDLE_DOT_NAME:
            male = False
        name = (special_name or self.names.person_name(court, male)) if kind == "person" else ""
        plan = _Plan(
            fate=fate,
            court=court,
            kind=kind,
            name=name,
            decided_on=decided,
            filed_on=filed,
            termed=termed,
            grace_days=grace,
            monetary=monetary,
            male=male,
            steps=steps,
            special=special,
        )
        plan.steps.sort(key=lambda s: s.on)
        return plan

    # --- the draft

    def case_number(self, court: _Court, filed: date) -> str:
        kind = "执恢" if self.rng.random() < 0.1 else "执"
        key = (court.code, filed.year, kind)
        number = self.counters.get(key) or self.rng.randint(150, 2400)
        number += self.rng.randint(1, 40)
        self.counters[key] = number
        return f"({filed.year}){court.case_code}{kind}{number}号"

    def amount(self, organisation: bool) -> Decimal:
        lo, hi = (50_000, 20_000_000) if organisation else (3_000, 2_000_000)
        value = math.exp(self.rng.uniform(math.log(lo), math.log(hi)))
        step = 100 if value > 10_000 else 1
        return Decimal(int(value) // step * step).quantize(Decimal("0.01"))

    def basis(self, court: _Court, filed: date) -> tuple[str, str]:
        """The enforcement basis (执行依据): a judgment of this court, an appeal judgment of the
        higher court, or an arbitral award."""
        year = filed.year - self.rng.randint(0, 1)
        number = self.rng.randint(100, 30000)
        roll = self.rng.random()
        if roll < 0.15 and court.parent:
            parent = _COURT[court.parent]
            return f"（{year}）{parent.case_code}民终{number}号", parent.name
        if roll < 0.35:
            region = court.region
            return f"（{year}）{region.city}仲裁字第{number}号", region.arbitration
        return f"（{year}）{court.case_code}民初{number}号", court.name

    def creditor(self, court: _Court) -> str:
        roll = self.rng.random()
        if roll < 0.3:
            return f"{self.rng.choice(_BANKS)}股份有限公司{court.region.city}分行"
        if roll < 0.5:
            return self.names.company(court)[0]
        return self.names.han_name(self.rng.random() < 0.6)

    def grounds(self, plan: _Plan) -> tuple[tuple[str, ...], Exemptions]:
        """Art. 1 grounds: ground 1 alone has no term; any other ground gives two years (Art. 2)."""
        if not plan.termed:
            return (Ground.REFUSES_WITH_ABILITY.value,), _ANSWERED
        others = [
            Ground.EVADES, Ground.FALSE_ASSET_REPORT, Ground.BREACHES_CONSUMPTION_ORDER,
            Ground.OBSTRUCTS, Ground.BREACHES_SETTLEMENT,
        ]  # fmt: skip
        weights = [3, 3, 2, 1, 1]
        if plan.name == MIDDLE_DOT_NAME:  # she flew although restricted
            chosen = {Ground.BREACHES_CONSUMPTION_ORDER}
        elif plan.fate == "extended":
            chosen = {Ground.OBSTRUCTS, self.rng.choices(others, weights)[0]}
        else:
            chosen = {self.rng.choices(others, weights)[0]}
            if self.rng.random() < 0.2:
                chosen.add(self.rng.choices(others, weights)[0])
        if self.rng.random() < 0.2:
            chosen.add(Ground.REFUSES_WITH_ABILITY)
        answered = _ANSWERED if Ground.REFUSES_WITH_ABILITY in chosen else Exemptions()
        return tuple(sorted(g.value for g in chosen)), answered

    def draft(self, plan: _Plan) -> DraftIn:
        rng, court = self.rng, plan.court
        adult_on = plan.decided_on or self.today
        if plan.kind == "person":
            address = {TRADITIONAL_NAME: "810000", MIDDLE_DOT_NAME: "650102"}.get(plan.name)
            subject = SubjectIn(
                kind="person",
                name=plan.name,
                id_number=self.names.resident_id(court, plan.male, adult_on, address=address),
            )
        else:
            plan.name, code = self.names.company(court)
            people = []
            roll = rng.random()
            rep = self.person(court, adult_on, "legal_representative")
            if plan.special:
                people += [
                    self.person(court, adult_on, "principal"),
                    self.person(court, adult_on, "actual_controller"),
                ]
            elif roll < 0.15:
                people.append(replace(rep, role="actual_controller"))  # the same person controls it
            elif roll < 0.3:
                people.append(self.person(court, adult_on, "actual_controller"))
            elif roll < 0.4:
                people.append(self.person(court, adult_on, "principal"))
            elif roll < 0.45:
                people.append(self.person(court, adult_on, "directly_responsible"))
            subject = SubjectIn(
                kind="organisation",
                name=plan.name,
                credit_code=code,
                legal_representative=rep,
                bound_persons=tuple(people),
            )
        amount = self.amount(plan.kind == "organisation") if plan.monetary else None
        if amount is None:
            obligation = rng.choice(_NON_MONETARY)
        else:
            obligation = rng.choice(_OBLIGATIONS).format(a=f"{amount:.2f}".removesuffix(".00"))
        basis_number, issuer = self.basis(court, plan.filed_on)
        case = CaseIn(
            case_number=self.case_number(court, plan.filed_on),
            filed_on=plan.filed_on,
            basis_document_number=basis_number,
            basis_issuer=issuer,
            obligation=obligation,
            amount_due=amount,
        )
        application = ApplicationIn()
        first = plan.steps[0].on
        if rng.random() < 0.6:
            application = ApplicationIn(
                by_creditor=True,
                creditor_name=self.creditor(court),
                applied_on=self.workday(first - timedelta(days=4), first),
            )
        grounds, exemptions = self.grounds(plan)
        draft = DraftIn(
            subject=subject,
            case=case,
            grounds=grounds,
            exemptions=exemptions,
            grace_days=plan.grace_days,
            application=application,
        )
        return self.finish_steps(plan, draft)

    def person(self, court: _Court, adult_on: date, role: str) -> PersonIn:
        male = self.rng.random() < 0.75
        return PersonIn(
            name=self.names.person_name(court, male),
            id_number=self.names.resident_id(court, male, adult_on, min_age=28, max_age=70),
            role=role,
        )

    def finish_steps(self, plan: _Plan, draft: DraftIn) -> DraftIn:
        """Fill in what the steps need from the draft: payments that add up to less than the
        amount due until the full one, the patches of edits and corrections. Returns the draft the
        clerk files: with a mistake in it when a correction later puts it right."""
        rng = self.rng
        due = draft.case.amount_due
        paid = Decimal("0.00")
        filed = draft
        for index, step in enumerate(plan.steps):
            if step.action == "pay":
                note = rng.choice(_PAYMENT_NOTES)
                if step.args.get("settlement"):
                    share = Decimal(rng.choice(("0.6", "0.7", "0.8")))
                    amount = (due * share).quantize(Decimal("1.00")) if due is not None else None
                    step.args.update(amount=amount, note="执行和解协议约定的义务已全部履行")
                elif step.args.get("full"):
                    step.args.update(amount=due - paid if due is not None else None, note=note)
                else:
                    amount = (due * Decimal(rng.randint(5, 25)) / 100).quantize(Decimal("1.00"))
                    paid += amount
                    step.args.update(amount=amount, full=False, note=note)
            elif step.action == "edit":
                case = replace(draft.case, obligation=draft.case.obligation + "，并负担案件受理费")
                step.args["patch"] = ListingPatch(case=case)
            elif step.action == "correct":
                filed, patch = self.correction(draft)
                plan.steps[index] = replace(step, args={"patch": patch})
        return filed

    def correction(self, draft: DraftIn) -> tuple[DraftIn, ListingPatch]:
        """Art. 9: wrong data corrected. Returns the draft as filed, with a wrong character of the
        name, a wrong amount or a wrong year in the basis number, and the correction."""
        subject, case = draft.subject, draft.case
        wrong_char = next((c for c in subject.name[1:] if c in _TYPOS), None)
        if subject.kind == "person" and wrong_char:
            given = subject.name[1:].replace(wrong_char, _TYPOS[wrong_char], 1)
            filed = replace(draft, subject=replace(subject, name=subject.name[0] + given))
            return filed, ListingPatch(subject=subject, reason="被执行人姓名录入有误，依第九条予以更正")  # fmt: skip
        if case.amount_due is not None:
            filed = replace(draft, case=replace(case, amount_due=case.amount_due * 10))
            return filed, ListingPatch(case=case, reason="执行标的金额录入有误，依第九条予以更正")  # fmt: skip
        basis = case.basis_document_number
        wrong = f"{basis[0]}{int(basis[1:5]) - 1}{basis[5:]}"
        filed = replace(draft, case=replace(case, basis_document_number=wrong))
        return filed, ListingPatch(case=case, reason="执行依据文号录入有误，依第九条予以更正")


# --------------------------------------------------------------------------------------------------
# Running the plans in time order


class _Runner:
    """Replays every plan's steps, and the scheduler's jobs they cause, in time order with one
    ``FixedClock``."""

    def __init__(
        self,
        session: Session,
        sim: FixedClock,
        now: datetime,
        actors: dict[tuple[str, Role], Actor],
    ) -> None:
        self.session = session
        self.sim = sim
        self.now = now
        self.actors = actors
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.rng = random.Random(0)

    def at(self, when: datetime, job: Callable[[], None]) -> None:
        if when <= self.now:
            heapq.heappush(self.queue, (when, next(self.counter), job))

    def at_night(self, day: date, minute: int, job: Callable[[], None]) -> None:
        """The scheduler's nightly run on ``day`` (never before the act that caused the job)."""
        when = datetime.combine(day, time(0, minute), CHINA_TZ)
        self.at(max(when, self.sim.now() + timedelta(minutes=1)), job)

    def run(self, plans: list[_Plan]) -> None:
        for number, plan in enumerate(plans):
            self.rng.seed(number)
            last: datetime | None = None
            for step in plan.steps:
                when = datetime.combine(step.on, self.office_time(), CHINA_TZ)
                if last is not None and when <= last:
                    when = last + timedelta(minutes=self.rng.randint(3, 40))
                last = when
                self.at(when, self.step_job(plan, step))
        while self.queue:
            when, _, job = heapq.heappop(self.queue)
            self.sim.set(max(when, self.sim.now()))
            job()
        self.sim.set(self.now)

    def office_time(self) -> time:
        minutes = self.rng.randint(8 * 60 + 40, 17 * 60 + 20)
        return time(minutes // 60, minutes % 60, self.rng.randint(0, 59))

    def step_job(self, plan: _Plan, step: _Step) -> Callable[[], None]:
        def job() -> None:
            try:
                self.do(plan, step)
            except DomainError as error:
                self.session.rollback()
                raise DemoFailed(
                    f"demo listing {plan.name} ({plan.court.code}, {plan.fate}): "
                    f"{step.action} on {step.on} was refused: {error}"
                ) from error

        return job

    def do(self, plan: _Plan, step: _Step) -> None:
        session, clock, args = self.session, self.sim, step.args
        clerk = self.actors[(plan.court.code, Role.CLERK)]
        judge = self.actors[(plan.court.code, Role.JUDGE)]
        action = step.action
        if action == "draft":
            listing = listings.create_draft(session, plan.draft, actor=clerk, clock=clock)
            plan.listing_id = listing.id
            return
        listing_id = plan.listing_id
        if action == "edit":
            listings.edit_listing(session, listing_id, args["patch"], actor=clerk, clock=clock)
        elif action == "submit":
            listings.submit_listing(session, listing_id, actor=clerk, clock=clock)
        elif action == "reject":
            listings.reject_listing(session, listing_id, args["reason"], actor=judge, clock=clock)
        elif action == "approve":
            number = plan.draft.case.case_number.replace("(", "（").replace(")", "）") + "决定书"
            listing = listings.approve_listing(
                session, listing_id, ApprovalIn(number), actor=judge, clock=clock
            )
            self.after_approval(listing)
        elif action == "pay":
            payment = PaymentIn(
                amount=args["amount"],
                performed_on=clock.today(),
                full=bool(args.get("full")),
                note=args["note"],
            )
            listing = listings.record_performance(
                session, listing_id, payment, actor=clerk, clock=clock
            )
            if listing.deletion_due_on is not None and plan.fate != "due_now":
                self.at_night(listing.deletion_due_on, 50, self.due_deletion_job(listing_id))
        elif action == "correct":
            listings.edit_listing(session, listing_id, args["patch"], actor=clerk, clock=clock)
        elif action == "extend":
            listings.extend_listing(
                session, listing_id, args["years"], args["reason"], actor=judge, clock=clock
            )
        elif action == "delete":
            reason: DeletionReason = args["reason"]
            listing = listings.get_listing(session, listing_id, actor=judge)
            if listing.status is ListingStatus.REMOVED:
                return  # the scheduler deleted it first
            listings.delete_listing(
                session,
                listing_id,
                reason.value,
                note=_DELETION_NOTES[reason],
                actor=judge,
                clock=clock,
            )
        elif action == "revoke":
            listings.revoke_listing(session, listing_id, args["reason"], actor=judge, clock=clock)
        else:  # pragma: no cover
            raise ValueError(action)

    def after_approval(self, listing: Listing) -> None:
        if listing.status is ListingStatus.APPROVED:
            self.at_night(listing.publish_on, 30, self.publish_job(listing.id))
        else:
            self.after_publication(listing)

    def after_publication(self, listing: Listing) -> None:
        if listing.ends_on is not None:
            self.at_night(listing.ends_on, 40, self.expiry_job(listing.id))

    def publish_job(self, listing_id: int) -> Callable[[], None]:
        def job() -> None:
            if listings.publish_after_grace(
                self.session, listing_id, actor=SCHEDULER, clock=self.sim
            ):
                self.after_publication(
                    listings.get_listing(self.session, listing_id, actor=SCHEDULER)
                )

        return job

    def expiry_job(self, listing_id: int) -> Callable[[], None]:
        def job() -> None:
            if listings.expire_listing(self.session, listing_id, actor=SCHEDULER, clock=self.sim):
                return
            listing = listings.get_listing(self.session, listing_id, actor=SCHEDULER)
            if listing.status is ListingStatus.PUBLISHED and listing.ends_on > self.sim.today():
                self.after_publication(listing)  # extended meanwhile

        return job

    def due_deletion_job(self, listing_id: int) -> Callable[[], None]:
        def job() -> None:
            listings.carry_out_due_deletion(
                self.session, listing_id, actor=SCHEDULER, clock=self.sim
            )

        return job


# --------------------------------------------------------------------------------------------------
# Counting what was made


def _summary(
    session: Session, rng_seed: int, today: date, logins: tuple[DemoLogin, ...]
) -> DemoSummary:
    def count(entity) -> int:
        return session.scalar(select(func.count()).select_from(entity)) or 0

    def grouped(column, *where) -> dict[str, int]:
        rows = session.execute(
            select(column, func.count()).where(*where).group_by(column).order_by(column)
        ).all()
        return {str(getattr(key, "value", key)): n for key, n in rows}

    rows = session.scalars(
        select(Listing).options(selectinload(Listing.performances), selectinload(Listing.case))
    ).all()
    by_performance = Counter(listing.performance.status.value for listing in rows)
    in_grace = sum(
        1
        for listing in rows
        if listing.status is ListingStatus.APPROVED and listing.publish_on > today
    )
    by_status = {s.value: 0 for s in ListingStatus}
    by_status.update(grouped(Listing.status))
    return DemoSummary(
        rng_seed=rng_seed,
        courts=count(Court),
        staff=count(StaffUser),
        calendar_days=count(Holiday),
        listings=len(rows),
        organisations=session.scalar(
            select(func.count()).select_from(Subject).where(Subject.kind == "organisation")
        )
        or 0,
        by_status=by_status,
        in_grace=in_grace,
        by_removal_kind=grouped(Listing.removal_kind, Listing.removal_kind.is_not(None)),
        by_removal_reason=grouped(Listing.removal_reason, Listing.removal_reason.is_not(None)),
        by_performance=dict(sorted(by_performance.items())),
        acts=grouped(AuditEntry.action),
        audit_entries=count(AuditEntry),
        change_log_items=count(Change),
        logins=logins,
    )

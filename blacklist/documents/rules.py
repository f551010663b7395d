"""Pure rules of the documents a court serves (DOMAIN.md §2 Arts. 5, 9–12; §3): titles, legal
basis, document numbers, Chinese numerals and dates, verification codes, and the wording of each
document's body. No database, no Flask, no clock: the services hand in the facts, so each rule is
tested on its own, and the wording is composed once, when the document is issued, and frozen in
its register row (``Document.content``).

Numbering. A decision whose number the judge gives (the listing decision's 决定书文号, an order's
文号) carries that number. Any other document takes the case number with the suffix 之一, 之二 …,
counting the documents already issued for that case at that court (certificates excluded), e.g.
``（2024）京0105执1234号`` → ``（2024）京0105执1234号之二``. A deletion certificate carries the
number of the decision it certifies followed by ``（证明）``, so it is never confused with the
decision itself and points at it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from blacklist.documents.models import _CODE_ALPHABET, DocumentKind

#: The document register's ``number`` column holds at most this many characters.
NUMBER_MAX = 100
CERTIFICATE_SUFFIX = "（证明）"
#: Where the public checks a deletion certificate's verification code.
VERIFY_PATH = "/certificates/verify"

LISTING_RULES = "《最高人民法院关于公布失信被执行人名单信息的若干规定》"
CONSUMPTION_RULES = "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》"
CIVIL_PROCEDURE_EXIT = (
    "《中华人民共和国民事诉讼法》第二百六十六条、《中华人民共和国出境入境管理法》第十二条"
)

#: Art. 12: what a rejected applicant is told (10 days, next higher court).
RECONSIDERATION_NOTICE = "如不服本决定，可以自收到决定书之日起十日内向上一级人民法院申请复议。"

TITLES = {
    DocumentKind.LISTING_DECISION: "纳入失信被执行人名单决定书",
    DocumentKind.DELETION_DECISION: "删除失信信息决定书",
    DocumentKind.REVOCATION_DECISION: "撤销失信信息决定书",
    DocumentKind.CONSUMPTION_ORDER: "限制消费令",
    DocumentKind.EXIT_BAN: "限制出境决定书",
    DocumentKind.ORDER_LIFTING: "解除限制消费令",
    DocumentKind.CORRECTION_DECISION: "纠正申请审查决定书",
    DocumentKind.RECONSIDERATION_DECISION: "复议决定书",
    DocumentKind.DELETION_CERTIFICATE: "失信信息删除证明",
}

KIND_LABELS = {
    DocumentKind.LISTING_DECISION: "纳入决定书",
    DocumentKind.DELETION_DECISION: "删除决定书",
    DocumentKind.REVOCATION_DECISION: "撤销决定书",
    DocumentKind.CONSUMPTION_ORDER: "限制消费令",
    DocumentKind.EXIT_BAN: "限制出境决定书",
    DocumentKind.ORDER_LIFTING: "解除限制措施决定书",
    DocumentKind.CORRECTION_DECISION: "纠正申请审查决定书",
    DocumentKind.RECONSIDERATION_DECISION: "复议决定书",
    DocumentKind.DELETION_CERTIFICATE: "删除证明",
}

#: Art. 1's six items, as a decision cites them (第一条第一项 …).
GROUND_ITEMS = {
    "refuses_with_ability": 1,
    "obstructs": 2,
    "evades": 3,
    "false_asset_report": 4,
    "breaches_consumption_order": 5,
    "breaches_settlement": 6,
}

#: 2015 provisions Art. 9: why an order is lifted.
LIFT_REASON_LABELS = {
    "performed": "被执行人已履行完毕生效法律文书确定的义务",
    "security": "被执行人提供了确实有效的担保",
    "creditor_consent": "申请执行人同意解除",
}

CORRECTION_GROUND_LABELS = {
    "should_not_be_listed": "不应将其纳入失信被执行人名单",
    "inaccurate_data": "记载和公布的失信信息不准确",
    "should_have_been_deleted": "失信信息应予删除",
}

REMEDY_LABELS = {"correct": "更正", "revoke": "撤销", "delete": "删除"}


# --------------------------------------------------------------------------------------------------
# Chinese numerals and dates

_DIGITS = "〇一二三四五六七八九"
_UNITS = ("", "十", "百", "千")


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九, 101 → 一百零一, 110 → 一百一十,
    up to 9999: the numbers of 之一, 之二 … suffixes and of dates spelled out."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 9999:
        raise ValueError(f"chinese_numeral takes 1..9999, not {n!r}")
    digits = [int(d) for d in str(n)]
    out: list[str] = []
    zero_pending = False
    for position, digit in enumerate(digits):
        unit = _UNITS[len(digits) - position - 1]
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[digit] + unit)
    text = "".join(out)
    # 10–19 are read 十, 十一 … (not 一十一) when they stand alone.
    return text[1:] if 10 <= n <= 19 else text


def chinese_date(day: date) -> str:
    """A date as court documents write it: ``二〇二五年三月三日``."""
    year = "".join(_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{chinese_numeral(day.month)}月{chinese_numeral(day.day)}日"


def plain_date(day: date | str | None) -> str:
    """``2025年3月3日`` (for dates inside the body text)."""
    if day is None:
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return f"{day.year}年{day.month}月{day.day}日"


# --------------------------------------------------------------------------------------------------
# Numbers and verification codes


def derived_number(case_number: str, sequence: int) -> str:
    """The number of a document that has none of its own: the case number and 之N, N counting the
    documents of that case at that court (``（2024）京0105执1234号之一``)."""
    number = f"{case_number}之{chinese_numeral(sequence)}"
    return _fit(number)


def reconsideration_number(court_name: str, year: int, sequence: int) -> str:
    """A higher court's reconsideration decision in its own yearly series (Art. 12):
    ``（2025）北京市第一中级人民法院执复3号``."""
    return _fit(f"（{year}）{court_name}执复{sequence}号")


def certificate_number(decision_number: str) -> str:
    """A deletion certificate carries the number of the decision it certifies plus ``（证明）``."""
    return _fit(decision_number + CERTIFICATE_SUFFIX, keep_tail=len(CERTIFICATE_SUFFIX))


def _fit(number: str, keep_tail: int = 0) -> str:
    """Numbers longer than the register holds are cut in the middle, never silently at the end
    where the distinguishing suffix is (case numbers are short in practice: this never bites)."""
    if len(number) <= NUMBER_MAX:
        return number
    head = NUMBER_MAX - max(keep_tail, 6) - 1
    return number[:head] + "…" + number[-max(keep_tail, 6) :]


def normalize_code(raw: str | None) -> str | None:
    """A verification code as typed (any case, spaces, hyphens, full-width characters) in its
    stored form ``XXXX-XXXX-XXXX-XXXX``, or None when it cannot be one."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    text = re.sub(r"[\s\-‐‑‒–—―－_]", "", text)
    if len(text) != 16 or any(c not in _CODE_ALPHABET for c in text):
        return None
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------------------------------
# Titles and legal basis


def title_of(kind: DocumentKind, *, order_kind: str | None = None, removal: str | None = None):
    """The document's title. Lifting an exit ban is a 解除限制出境决定书; a certificate for a revoked
    entry is a 失信信息撤销证明."""
    if kind is DocumentKind.ORDER_LIFTING and order_kind == "exit":
        return "解除限制出境决定书"
    if kind is DocumentKind.DELETION_CERTIFICATE and removal == "revoked":
        return "失信信息撤销证明"
    return TITLES[kind]


def listing_basis(grounds: Iterable[str]) -> str:
    """Art. 1 (the items of the grounds found), Art. 2 (term), Art. 5 (decision)."""
    items = sorted({GROUND_ITEMS[g] for g in grounds if g in GROUND_ITEMS})
    cited = "第一条" + "、".join(f"第{chinese_numeral(i)}项" for i in items) if items else "第一条"
    return f"{LISTING_RULES}{cited}、第二条、第五条"


def deletion_basis(reason: str | None, *, has_term: bool) -> str:
    """Art. 10; a termed listing's expiry or early deletion is Art. 2 as well."""
    if has_term or reason in ("expired", "corrected_conduct"):
        return f"{LISTING_RULES}第二条、第十条"
    return f"{LISTING_RULES}第十条"


def legal_basis(
    kind: DocumentKind,
    *,
    grounds: Iterable[str] = (),
    order_kind: str | None = None,
    removal_reason: str | None = None,
    has_term: bool = False,
    rejected: bool = False,
) -> str:
    """The provisions a document rests on (DOMAIN.md §2, §3)."""
    if kind is DocumentKind.LISTING_DECISION:
        return listing_basis(grounds)
    if kind is DocumentKind.DELETION_DECISION:
        return deletion_basis(removal_reason, has_term=has_term)
    if kind is DocumentKind.REVOCATION_DECISION:
        return f"{LISTING_RULES}第九条"
    if kind is DocumentKind.CONSUMPTION_ORDER:
        return f"{CONSUMPTION_RULES}第一条、第三条"
    if kind is DocumentKind.EXIT_BAN:
        return CIVIL_PROCEDURE_EXIT
    if kind is DocumentKind.ORDER_LIFTING:
        return CIVIL_PROCEDURE_EXIT if order_kind == "exit" else f"{CONSUMPTION_RULES}第九条"
    if kind is DocumentKind.CORRECTION_DECISION:
        return f"{LISTING_RULES}第十二条" if rejected else f"{LISTING_RULES}第十一条、第十二条"
    if kind is DocumentKind.RECONSIDERATION_DECISION:
        return f"{LISTING_RULES}第十二条"
    if kind is DocumentKind.DELETION_CERTIFICATE:
        if removal_reason == "revoked":
            return f"{LISTING_RULES}第九条"
        return deletion_basis(removal_reason, has_term=has_term)
    raise ValueError(f"unknown document kind {kind!r}")


# --------------------------------------------------------------------------------------------------
# The body of each document, composed from the facts (``content``) when it is issued


def party_lines(party: Mapping[str, Any], label: str = "被执行人") -> list[str]:
    """The heading lines naming the debtor (or the person an order binds) and, for an
    organisation, the people bound with it: masked identifiers only (DOMAIN.md §6)."""
    if party.get("kind") == "organisation":
        lines = [f"{label}：{party['name']}，统一社会信用代码{party.get('id_masked') or '—'}。"]
    else:
        sex = {"male": "男", "female": "女"}.get(party.get("sex") or "", "")
        parts = [party["name"], sex, f"公民身份号码{party.get('id_masked') or '—'}"]
        lines = [f"{label}：" + "，".join(p for p in parts if p) + "。"]
    for person in party.get("bound_persons") or []:
        lines.append(
            f"{person['role_label']}：{person['name']}，公民身份号码{person['id_masked']}。"
        )
    return lines


def _case_sentence(case: Mapping[str, Any]) -> str:
    text = f"本院在执行{case['case_number']}案件中，"
    if case.get("basis_issuer") and case.get("basis_document_number"):
        text += f"执行依据为{case['basis_issuer']}作出的{case['basis_document_number']}法律文书，"
    if case.get("obligation"):
        text += f"被执行人应当履行的义务为：{case['obligation']}"
        text = text.rstrip("。") + "。"
    else:
        text = text.rstrip("，") + "。"
    return text


def _numbered(items: Iterable[str]) -> str:
    return "".join(f"（{chinese_numeral(i)}）{item}；" for i, item in enumerate(items, 1)).rstrip(
        "；"
    )


def listing_decision_body(c: Mapping[str, Any]) -> list[str]:
    """Art. 5: the decision states the grounds (Art. 1), the reasons and the term (Art. 2); the
    debtor may apply for correction (Art. 11)."""
    debtor = c["debtor"]
    paragraphs = [*party_lines(debtor), _case_sentence(c["case"])]
    grounds = [g["label"] for g in c["grounds"]]
    paragraphs.append(f"经查，被执行人{debtor['name']}具有下列情形：{_numbered(grounds)}。")
    if c.get("reasons"):
        paragraphs.append(c["reasons"])
    paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
    term = c.get("term") or {}
    if term.get("years"):
        span = f"，自{plain_date(c['decided_on'])}起至{plain_date(term['ends_on'])}止"
        decision = (
            f"将被执行人{debtor['name']}纳入失信被执行人名单，"
            f"失信期限{chinese_numeral(term['years'])}年{span}。"
        )
    else:
        decision = (
            f"将被执行人{debtor['name']}纳入失信被执行人名单，不设固定期限；"
            "被执行人履行生效法律文书确定的义务或者符合删除条件的，依法删除。"
        )
    paragraphs.append(decision)
    if c.get("grace_days"):
        paragraphs.append(
            f"给予被执行人{c['grace_days']}日宽限期，宽限期届满（{plain_date(c['publish_on'])}）"
            "仍未履行的，依法公布。"
        )
    if c.get("measures"):
        paragraphs.append(
            "被执行人被纳入失信被执行人名单后，依法不得实施下列高消费及非生活和工作必需的消费行为："
            + _numbered(c["measures"])
            + "。"
        )
    paragraphs.append("本决定一经作出即生效。被执行人认为本决定有错误的，可以向本院申请纠正。")
    return paragraphs


def removal_body(c: Mapping[str, Any], *, revocation: bool) -> list[str]:
    """Art. 10 (deletion) or Art. 9 (revocation): the listing decision it ends and why."""
    debtor = c["debtor"]
    listing = c.get("listing") or {}
    paragraphs = [*party_lines(debtor)]
    if listing.get("decision_number"):
        paragraphs.append(
            f"本院于{plain_date(listing.get('decided_on'))}作出{listing['decision_number']}决定书，"
            f"将被执行人{debtor['name']}纳入失信被执行人名单（执行案号{c['case']['case_number']}）。"
        )
    removal = c["removal"]
    if revocation:
        reasons = c.get("reasons") or "该名单不应纳入"
        paragraphs.append(f"经查，{reasons.rstrip('。')}。")
        paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
        paragraphs.append(
            f"撤销将被执行人{debtor['name']}纳入失信被执行人名单的决定，撤销其失信信息。"
        )
    else:
        paragraphs.append(f"现因{removal['reason_label']}，")
        paragraphs[-1] = paragraphs[-1].rstrip("，") + f"，依照{c['legal_basis']}之规定，决定如下："
        paragraphs.append(f"删除被执行人{debtor['name']}的失信信息。")
    paragraphs.append(
        "本决定一经作出即生效。该失信信息不再向社会公布，不再作为对被执行人采取惩戒措施的依据。"
    )
    return paragraphs


def certificate_body(c: Mapping[str, Any]) -> list[str]:
    """The public certificate a debtor shows a bank or an employer: who, which case, what was
    removed, when, by which decision; masked identifiers only."""
    debtor = c["debtor"]
    removal = c["removal"]
    what = "撤销" if removal["kind"] == "revoked" else "删除"
    paragraphs = [
        *party_lines(debtor)[:1],
        f"兹证明：被执行人{debtor['name']}在本院执行的{c['case']['case_number']}案件中被纳入"
        f"失信被执行人名单的失信信息，已由本院于{plain_date(removal['on'])}依法{what}"
        + (f"（{removal['reason_label']}）" if what == "删除" else "")
        + "。",
    ]
    if c.get("decision_number"):
        paragraphs.append(f"{what}依据：本院{c['decision_number']}{what}失信信息决定书。")
    paragraphs.append(f"自{what}之日起，该失信信息不再向社会公布，不再作为对其采取惩戒措施的依据。")
    paragraphs.append("特此证明。")
    return paragraphs


def _order_party(c: Mapping[str, Any]) -> str:
    party = c["party"]
    if c.get("organisation") and c.get("person_role_label"):
        org = c["organisation"]
        return (
            f"{party['name']}（被执行人{org['name']}"
            + (f"，统一社会信用代码{org['code']}" if org.get("code") else "")
            + f"的{c['person_role_label']}）"
        )
    return party["name"]


def order_body(c: Mapping[str, Any]) -> list[str]:
    """A consumption restriction order (2015 provisions Arts. 1, 3) or an exit ban (Civil
    Procedure Law Art. 266, Exit-Entry Administration Law Art. 12)."""
    paragraphs = [*party_lines(c["party"], "被限制人" if c.get("organisation") else "被执行人")]
    if c.get("case"):
        paragraphs.append(_case_sentence(c["case"]))
    if c.get("reasons"):
        paragraphs.append(c["reasons"])
    who = _order_party(c)
    paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
    if c["order_kind"] == "exit":
        paragraphs.append(f"限制{who}出境。")
        paragraphs.append("本决定自作出之日起生效，由出入境管理机关依法执行。")
    else:
        bound = [f"{p['role_label']}{p['name']}" for p in c["party"].get("bound_persons") or []]
        subject = who + (f"及其{'、'.join(bound)}" if bound else "")
        paragraphs.append(
            f"限制{subject}实施下列高消费及非生活和工作必需的消费行为："
            + _numbered(c["measures"])
            + "。"
        )
        paragraphs.append(
            "如因私消费以个人财产实施前述规定行为的，可以向本院提出申请，经本院审查属实的，应予准许。"
            "违反本令的，本院将依法追究法律责任。"
        )
    return paragraphs


def lifting_body(c: Mapping[str, Any]) -> list[str]:
    """Lifting an order (2015 provisions Art. 9; exit bans the same way, DOMAIN.md §3)."""
    paragraphs = [*party_lines(c["party"])]
    what = "限制出境措施" if c["order_kind"] == "exit" else "限制消费令"
    original = c.get("order_number")
    paragraphs.append(
        f"本院于{plain_date(c.get('order_issued_on'))}"
        + (f"以{original}" if original else "")
        + f"对{_order_party(c)}采取{what}。"
    )
    reason = c.get("lift_reason_label") or "符合解除条件"
    note = (c.get("reasons") or "").rstrip("。")
    paragraphs.append(f"现因{reason}" + (f"（{note}）" if note else "") + "，")
    paragraphs[-1] = paragraphs[-1].rstrip("，") + f"，依照{c['legal_basis']}之规定，决定如下："
    paragraphs.append(f"解除对{_order_party(c)}的{what}。")
    paragraphs.append("本决定自作出之日起生效。")
    return paragraphs


def correction_body(c: Mapping[str, Any]) -> list[str]:
    """Arts. 11–12: the enforcing court's review of a correction request; a rejection tells the
    applicant of the ten days to ask the next higher court for reconsideration."""
    paragraphs = [f"申请人：{c['applicant_name']}。", *party_lines(c["debtor"])]
    paragraphs.append(
        f"申请人以{c['ground_label']}为由，于{plain_date(c['submitted_on'])}向本院申请纠正"
        f"{c['case']['case_number']}案件中的失信信息。"
    )
    reasons = (c.get("reasons") or "").rstrip("。")
    if c["accepted"]:
        paragraphs.append("经审查，" + (f"{reasons}。" if reasons else "") + "申请人的理由成立。")
        paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
        paragraphs.append(
            f"对被执行人{c['debtor']['name']}的失信信息予以{c['remedy_label']}，"
            "本院将于三个工作日内办理完毕。"
        )
    else:
        paragraphs.append("经审查，" + (f"{reasons}。" if reasons else "") + "申请人的理由不成立。")
        paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
        paragraphs.append("驳回申请人的纠正申请。")
        paragraphs.append(RECONSIDERATION_NOTICE)
    return paragraphs


def reconsideration_body(c: Mapping[str, Any]) -> list[str]:
    """Art. 12: the next higher court decides the reconsideration within 15 days."""
    lower = c["lower_court"]
    paragraphs = [f"复议申请人：{c['applicant_name']}。", *party_lines(c["debtor"])]
    original = c.get("correction_number")
    paragraphs.append(
        f"复议申请人不服{lower}"
        + (f"{original}" if original else "")
        + f"纠正申请审查决定（执行案号{c['case']['case_number']}），向本院申请复议。"
    )
    reasons = (c.get("reasons") or "").rstrip("。")
    if reasons:
        paragraphs.append(f"经审查，{reasons}。")
    paragraphs.append(f"依照{c['legal_basis']}之规定，决定如下：")
    if c["upheld"]:
        paragraphs.append("驳回复议申请，维持原决定。")
    else:
        remedy = c.get("remedy_label") or "纠正"
        paragraphs.append(
            f"撤销{lower}作出的原决定；由{lower}对被执行人{c['debtor']['name']}的失信信息"
            f"予以{remedy}。"
        )
    paragraphs.append("本决定为终局决定，自作出之日起生效。")
    return paragraphs


def body_of(kind: DocumentKind, content: Mapping[str, Any]) -> list[str]:
    """The paragraphs of a document of ``kind`` stating ``content``."""
    if kind is DocumentKind.LISTING_DECISION:
        return listing_decision_body(content)
    if kind is DocumentKind.DELETION_DECISION:
        return removal_body(content, revocation=False)
    if kind is DocumentKind.REVOCATION_DECISION:
        return removal_body(content, revocation=True)
    if kind is DocumentKind.DELETION_CERTIFICATE:
        return certificate_body(content)
    if kind in (DocumentKind.CONSUMPTION_ORDER, DocumentKind.EXIT_BAN):
        return order_body(content)
    if kind is DocumentKind.ORDER_LIFTING:
        return lifting_body(content)
    if kind is DocumentKind.CORRECTION_DECISION:
        return correction_body(content)
    if kind is DocumentKind.RECONSIDERATION_DECISION:
        return reconsideration_body(content)
    raise ValueError(f"unknown document kind {kind!r}")

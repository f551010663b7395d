"""Pure rules of served documents: Chinese numerals and dates, numbers, verification codes,
titles, legal basis and wording (DOMAIN.md §2 Arts. 1, 2, 5, 9–12; §3)."""

from __future__ import annotations

from datetime import date

import pytest

from blacklist.documents import rules
from blacklist.documents.models import DocumentKind, new_verification_code
from blacklist.documents.render import wrap


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"), (2, "二"), (9, "九"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"),
        (21, "二十一"), (30, "三十"), (45, "四十五"), (99, "九十九"), (100, "一百"),
        (101, "一百零一"), (110, "一百一十"), (1000, "一千"), (1010, "一千零一十"),
        (2025, "二千零二十五"),
    ],
)  # fmt: skip
def test_chinese_numerals(n, text):
    assert rules.chinese_numeral(n) == text


def test_every_numeral_up_to_99_is_distinct_and_uses_only_numeral_characters():
    texts = [rules.chinese_numeral(n) for n in range(1, 100)]
    assert len(set(texts)) == 99
    assert all(set(t) <= set("一二三四五六七八九十") for t in texts)


@pytest.mark.parametrize("bad", [0, -1, 10000, True, 1.5])
def test_chinese_numerals_refuse_what_they_cannot_say(bad):
    with pytest.raises(ValueError):
        rules.chinese_numeral(bad)


def test_dates_are_written_as_court_documents_write_them():
    assert rules.chinese_date(date(2025, 3, 3)) == "二〇二五年三月三日"
    assert rules.chinese_date(date(2030, 12, 31)) == "二〇三〇年十二月三十一日"
    assert rules.plain_date("2025-03-03") == "2025年3月3日"


def test_a_derived_number_is_the_case_number_with_zhi_and_a_chinese_numeral():
    assert rules.derived_number("(2024)京0105执1234号", 1) == "(2024)京0105执1234号之一"
    assert rules.derived_number("（2024）京0105执1234号", 12) == "（2024）京0105执1234号之十二"


def test_a_certificate_carries_its_decisions_number_and_a_suffix():
    assert (
        rules.certificate_number("（2024）京0105执1234号之二")
        == "（2024）京0105执1234号之二（证明）"
    )


def test_an_overlong_number_is_cut_in_the_middle_keeping_its_suffix():
    number = rules.certificate_number("执" * 120)
    assert len(number) == rules.NUMBER_MAX
    assert number.endswith("（证明）")


def test_verification_codes_are_accepted_in_any_case_spacing_and_hyphenation():
    code = new_verification_code()
    assert rules.normalize_code(code) == code
    assert rules.normalize_code(code.lower()) == code
    assert rules.normalize_code(code.replace("-", "")) == code
    assert rules.normalize_code(" " + code.replace("-", " ") + " ") == code
    full_width = code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert rules.normalize_code(full_width) == code


@pytest.mark.parametrize("bad", ["", None, "ABCD", "ABCD-EFGH-JKMN-PQR0", "ABCD-EFGH-JKMN-PQRSX"])
def test_what_cannot_be_a_code_is_none(bad):
    assert rules.normalize_code(bad) is None


def test_titles_follow_the_kind_and_what_was_lifted_or_removed():
    assert rules.title_of(DocumentKind.LISTING_DECISION) == "纳入失信被执行人名单决定书"
    assert rules.title_of(DocumentKind.ORDER_LIFTING, order_kind="consumption") == "解除限制消费令"
    assert rules.title_of(DocumentKind.ORDER_LIFTING, order_kind="exit") == "解除限制出境决定书"
    assert (
        rules.title_of(DocumentKind.DELETION_CERTIFICATE, removal="deleted") == "失信信息删除证明"
    )
    assert (
        rules.title_of(DocumentKind.DELETION_CERTIFICATE, removal="revoked") == "失信信息撤销证明"
    )
    assert all(kind in rules.TITLES for kind in DocumentKind)


def test_the_listing_decision_cites_the_items_of_article_one_it_found():
    basis = rules.legal_basis(
        DocumentKind.LISTING_DECISION, grounds=["evades", "refuses_with_ability"]
    )
    assert basis == (
        "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第一项、第三项、第二条、第五条"
    )


@pytest.mark.parametrize(
    ("kind", "kwargs", "ending"),
    [
        (DocumentKind.DELETION_DECISION, {"removal_reason": "performed"}, "》第十条"),
        (DocumentKind.DELETION_DECISION, {"removal_reason": "expired", "has_term": True}, "第二条、第十条"),
        (DocumentKind.REVOCATION_DECISION, {}, "第九条"),
        (DocumentKind.CONSUMPTION_ORDER, {}, "第一条、第三条"),
        (DocumentKind.EXIT_BAN, {}, "《中华人民共和国出境入境管理法》第十二条"),
        (DocumentKind.ORDER_LIFTING, {"order_kind": "consumption"}, "》第九条"),
        (DocumentKind.CORRECTION_DECISION, {"rejected": False}, "第十一条、第十二条"),
        (DocumentKind.CORRECTION_DECISION, {"rejected": True}, "》第十二条"),
        (DocumentKind.RECONSIDERATION_DECISION, {}, "第十二条"),
    ],
)  # fmt: skip
def test_legal_basis_per_kind(kind, kwargs, ending):
    assert rules.legal_basis(kind, **kwargs).endswith(ending)


def _correction(accepted: bool) -> dict:
    return {
        "applicant_name": "张三",
        "debtor": {
            "kind": "person",
            "name": "张三",
            "sex": "male",
            "id_masked": "1101051980****1234",
        },
        "ground_label": "不应将其纳入失信被执行人名单",
        "submitted_on": "2025-03-03",
        "case": {"case_number": "（2024）京0105执1234号"},
        "reasons": "经核实",
        "accepted": accepted,
        "remedy_label": "撤销" if accepted else None,
        "legal_basis": rules.legal_basis(DocumentKind.CORRECTION_DECISION, rejected=not accepted),
    }


def test_a_rejection_tells_the_applicant_of_the_ten_days_to_the_higher_court():
    body = rules.correction_body(_correction(accepted=False))
    assert body[-1] == rules.RECONSIDERATION_NOTICE
    assert "驳回申请人的纠正申请。" in body


def test_an_accepted_request_has_no_reconsideration_notice():
    body = rules.correction_body(_correction(accepted=True))
    assert rules.RECONSIDERATION_NOTICE not in body
    assert any("予以撤销" in p for p in body)


def test_a_person_is_named_with_the_masked_number_and_an_organisation_with_its_code():
    person = {
        "kind": "person",
        "name": "阿依古丽·买买提",
        "sex": "female",
        "id_masked": "6501011990****1240",
    }
    org = {
        "kind": "organisation", "name": "某公司", "id_masked": "91110105MA00000012",
        "bound_persons": [{"role_label": "法定代表人", "name": "李四", "id_masked": "1101051970****2358"}],
    }  # fmt: skip
    assert rules.party_lines(person) == [
        "被执行人：阿依古丽·买买提，女，公民身份号码6501011990****1240。"
    ]
    assert rules.party_lines(org) == [
        "被执行人：某公司，统一社会信用代码91110105MA00000012。",
        "法定代表人：李四，公民身份号码1101051970****2358。",
    ]


def _width(text: str) -> float:
    return float(len(text))


def test_wrapping_keeps_closing_punctuation_off_the_start_of_a_line():
    lines = wrap("一二三四五，六七八九十。", 5, _width)
    assert "".join(lines) == "一二三四五，六七八九十。"
    assert not any(line[0] in "，。" for line in lines)


def test_wrapping_keeps_a_case_number_together_when_it_fits():
    lines = wrap("案号京0105执1234号", 8, _width)
    assert "".join(lines) == "案号京0105执1234号"
    assert any("1234" in line for line in lines)
    assert all(len(line) <= 8 for line in lines)

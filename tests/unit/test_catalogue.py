"""The measures catalogue (DOMAIN.md §3–4): codes, bits, labels and legal bases.

Bits are stored in the change log and in partners' subscriptions: the exact table below is a
regression guard, a renumbered bit must fail here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacklist.restrictions.catalogue import (
    BY_CODE,
    CONSUMPTION_MEASURES,
    EXIT_MEASURES,
    LISTING_MEASURES,
    MEASURES,
    ORGANISATION_LISTING_MEASURES,
    MeasureGroup,
    codes_of,
    group_codes,
    label,
    mask_of,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

#: The stored bit of every measure. Append, never renumber.
BITS = {
    "flight": 0,
    "soft_sleeper": 1,
    "ship_class2": 2,
    "hsr_any_seat": 3,
    "emu_first_class": 4,
    "star_hotel": 5,
    "real_estate": 6,
    "luxury_office": 7,
    "vehicle": 8,
    "travel": 9,
    "private_school": 10,
    "insurance": 11,
    "exit": 12,
    "credit_record": 13,
    "procurement": 14,
    "bidding": 15,
    "credit": 16,
    "financing": 17,
    "officer_ban": 18,
}
CODES = [m.code for m in MEASURES]


def test_every_measure_keeps_its_stored_bit():
    assert {m.code: m.bit for m in MEASURES} == BITS


def test_codes_and_bits_are_unique():
    assert len(set(CODES)) == len(CODES)
    assert len({m.bit for m in MEASURES}) == len(MEASURES)
    assert set(BY_CODE) == set(CODES)


def test_bits_are_numbered_in_catalogue_order_without_gaps():
    assert [m.bit for m in MEASURES] == list(range(len(MEASURES)))


def test_every_measure_a_partner_subscribes_to_is_in_the_catalogue():
    partner_measures = {
        "flight",
        "hsr_any_seat",
        "emu_first_class",
        "soft_sleeper",
        "exit",
        "credit_record",
        "procurement",
        "bidding",
        "officer_ban",
        "credit",
        "financing",
    }
    assert partner_measures <= set(BY_CODE)


def test_measures_are_grouped_as_consumption_exit_and_listing_sanctions():
    assert list(CONSUMPTION_MEASURES) == list(BITS)[:12]
    assert EXIT_MEASURES == ("exit",)
    assert LISTING_MEASURES == (
        "credit_record",
        "procurement",
        "bidding",
        "credit",
        "financing",
        "officer_ban",
    )
    assert set(CONSUMPTION_MEASURES) | set(EXIT_MEASURES) | set(LISTING_MEASURES) == set(CODES)
    for group in MeasureGroup:
        assert all(BY_CODE[c].group is group for c in group_codes(group))


def test_organisation_listing_measures_are_the_listing_measures_without_the_officer_ban():
    assert ORGANISATION_LISTING_MEASURES == (
        "credit_record",
        "procurement",
        "bidding",
        "credit",
        "financing",
    )


@pytest.mark.parametrize("code", CODES)
def test_every_measure_has_a_chinese_label_and_a_legal_basis(code):
    measure = BY_CODE[code]
    assert label(code) == measure.label
    assert CJK.search(measure.label)
    assert measure.basis.startswith("《")
    assert "》" in measure.basis


def test_consumption_measures_rest_on_article_3_of_the_2015_provisions():
    for code in CONSUMPTION_MEASURES:
        assert "限制被执行人高消费" in BY_CODE[code].basis
        assert "第三条" in BY_CODE[code].basis


def test_the_exit_ban_rests_on_the_civil_procedure_law_and_the_exit_entry_law():
    basis = BY_CODE["exit"].basis
    assert "民事诉讼法" in basis
    assert "出境入境管理法" in basis


def test_the_officer_ban_rests_on_article_178_of_the_company_law():
    assert "公司法" in BY_CODE["officer_ban"].basis
    assert "第一百七十八条" in BY_CODE["officer_ban"].basis


def test_the_mask_of_flight_and_exit_has_bits_0_and_12():
    assert mask_of(["flight", "exit"]) == 0b1_0000_0000_0001
    assert codes_of(0b1_0000_0000_0001) == ["flight", "exit"]


def test_the_empty_mask_has_no_measures():
    assert mask_of([]) == 0
    assert codes_of(0) == []


def test_a_measure_named_twice_is_counted_once_in_the_mask():
    assert mask_of(["flight", "flight"]) == mask_of(["flight"])


def test_codes_come_back_in_catalogue_order():
    assert codes_of(mask_of(["officer_ban", "flight", "exit"])) == ["flight", "exit", "officer_ban"]


@pytest.mark.parametrize("code", ["helicopter", "FLIGHT", ""])
def test_an_unknown_measure_code_is_a_programming_error(code):
    with pytest.raises(KeyError):
        mask_of(["flight", code])
    with pytest.raises(KeyError):
        label(code)


@given(st.sets(st.sampled_from(CODES)))
def test_mask_of_and_codes_of_round_trip_for_any_set_of_measures(codes):
    mask = mask_of(codes)
    assert codes_of(mask) == [c for c in CODES if c in codes]
    assert mask.bit_count() == len(codes)
    assert mask_of(codes_of(mask)) == mask


@given(st.integers(min_value=0, max_value=(1 << len(MEASURES)) - 1))
def test_every_mask_of_known_bits_is_the_mask_of_its_codes(mask):
    assert mask_of(codes_of(mask)) == mask

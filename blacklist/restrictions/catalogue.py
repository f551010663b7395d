"""The measures catalogue (DOMAIN.md §3–4): every measure a court order or a listing triggers, its
Chinese label, its legal basis, and its bit in the change log's ``measures`` bitmask.

Bits are part of the stored data and of partners' subscriptions: append new measures at the end,
never renumber.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class MeasureGroup(StrEnum):
    CONSUMPTION = "consumption"  # 限制消费令 (2015 provisions, Art. 3)
    EXIT = "exit"  # 限制出境 (Civil Procedure Law Art. 266, Exit-Entry Administration Law Art. 12)
    LISTING = "listing"  # joint sanctions on the listed debtor (发改财金〔2016〕141号)


@dataclass(frozen=True)
class Measure:
    code: str
    bit: int
    group: MeasureGroup
    label: str
    basis: str


_CONSUMPTION_BASIS = "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》第三条"
_MEMO = "《关于对失信被执行人实施联合惩戒的合作备忘录》（发改财金〔2016〕141号）"

MEASURES: tuple[Measure, ...] = (
    Measure("flight", 0, MeasureGroup.CONSUMPTION, "乘坐飞机", _CONSUMPTION_BASIS),
    Measure("soft_sleeper", 1, MeasureGroup.CONSUMPTION, "乘坐列车软卧", _CONSUMPTION_BASIS),
    Measure("ship_class2", 2, MeasureGroup.CONSUMPTION, "乘坐轮船二等以上舱位", _CONSUMPTION_BASIS),
    Measure("hsr_any_seat", 3, MeasureGroup.CONSUMPTION, "乘坐G字头动车组列车全部座位", _CONSUMPTION_BASIS),
    Measure("emu_first_class", 4, MeasureGroup.CONSUMPTION, "乘坐其他动车组列车一等以上座位", _CONSUMPTION_BASIS),
    Measure("star_hotel", 5, MeasureGroup.CONSUMPTION, "在星级以上宾馆、酒店、夜总会、高尔夫球场等场所进行高消费", _CONSUMPTION_BASIS),
    Measure("real_estate", 6, MeasureGroup.CONSUMPTION, "购买不动产或者新建、扩建、高档装修房屋", _CONSUMPTION_BASIS),
    Measure("luxury_office", 7, MeasureGroup.CONSUMPTION, "租赁高档写字楼、宾馆、公寓等场所办公", _CONSUMPTION_BASIS),
    Measure("vehicle", 8, MeasureGroup.CONSUMPTION, "购买非经营必需车辆", _CONSUMPTION_BASIS),
    Measure("travel", 9, MeasureGroup.CONSUMPTION, "旅游、度假", _CONSUMPTION_BASIS),
    Measure("private_school", 10, MeasureGroup.CONSUMPTION, "子女就读高收费私立学校", _CONSUMPTION_BASIS),
    Measure("insurance", 11, MeasureGroup.CONSUMPTION, "支付高额保费购买保险理财产品", _CONSUMPTION_BASIS),
    Measure("exit", 12, MeasureGroup.EXIT, "限制出境", "《中华人民共和国民事诉讼法》第二百六十六条；《中华人民共和国出境入境管理法》第十二条"),
    Measure("credit_record", 13, MeasureGroup.LISTING, "纳入征信记录", "《最高人民法院关于公布失信被执行人名单信息的若干规定》第八条"),
    Measure("procurement", 14, MeasureGroup.LISTING, "限制参与政府采购", _MEMO),
    Measure("bidding", 15, MeasureGroup.LISTING, "限制参与招标投标", _MEMO),
    Measure("credit", 16, MeasureGroup.LISTING, "限制授信", _MEMO),
    Measure("financing", 17, MeasureGroup.LISTING, "限制融资", _MEMO),
    Measure("officer_ban", 18, MeasureGroup.LISTING, "不得担任公司董事、监事、高级管理人员", "《中华人民共和国公司法》（2023年修订）第一百七十八条"),
)  # fmt: skip

BY_CODE: dict[str, Measure] = {m.code: m for m in MEASURES}


def group_codes(group: MeasureGroup) -> tuple[str, ...]:
    return tuple(m.code for m in MEASURES if m.group is group)


CONSUMPTION_MEASURES = group_codes(MeasureGroup.CONSUMPTION)
EXIT_MEASURES = group_codes(MeasureGroup.EXIT)
LISTING_MEASURES = group_codes(MeasureGroup.LISTING)
#: officer_ban binds natural persons only (Company Law Art. 178 is about persons).
ORGANISATION_LISTING_MEASURES = tuple(m for m in LISTING_MEASURES if m != "officer_ban")


def mask_of(codes: Iterable[str]) -> int:
    """The bitmask of measure codes; unknown codes raise KeyError (a programming error)."""
    mask = 0
    for code in codes:
        mask |= 1 << BY_CODE[code].bit
    return mask


def codes_of(mask: int) -> list[str]:
    """Measure codes in a bitmask, in catalogue order. (A fresh list each call: callers may keep
    or change it; the work is cached, since the feed and the snapshot call this for every record.)"""
    return list(_codes_of(mask))


@cache
def _codes_of(mask: int) -> tuple[str, ...]:
    return tuple(m.code for m in MEASURES if mask & (1 << m.bit))


def cut_codes(codes: Iterable[str], mask: int) -> list[str]:
    """``codes`` cut to the measures of ``mask``, in catalogue order: a stored record's measures as
    a partner holding ``mask`` receives them (cached per distinct list of codes)."""
    return list(_cut_codes(tuple(codes), mask))


@cache
def _cut_codes(codes: tuple[str, ...], mask: int) -> tuple[str, ...]:
    return _codes_of(mask_of(codes) & mask)


def label(code: str) -> str:
    return BY_CODE[code].label

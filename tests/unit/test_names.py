"""Stored names and search keys (DOMAIN.md §5)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacklist.core.errors import ValidationFailed
from blacklist.core.names import clean_name, normalize_name

RARE = "\U00020bb7"  # 𠮷, beyond the Basic Multilingual Plane
DOT_VARIANTS = [
    "\u00b7",
    "\u2022",
    "\u2027",
    "\u30fb",
    "\uff65",
    "\u2219",
    "\u22c5",
    "\u0387",
    "\u16eb",
    "\u2e31",
]


# -------------------------------------------------------------------------------- clean_name


def test_spaces_typed_between_chinese_characters_are_removed():
    assert clean_name("张 三") == "张三"
    assert clean_name(" 张\u3000\u3000三 ") == "张三"


def test_latin_names_keep_one_space_between_words():
    assert clean_name("  John \t  Smith\u3000Ltd ") == "John Smith Ltd"


def test_a_mixed_name_keeps_the_space_between_latin_and_chinese():
    assert clean_name("ABC 科技  有限公司") == "ABC 科技有限公司"


@pytest.mark.parametrize("dot", DOT_VARIANTS)
def test_every_middle_dot_look_alike_becomes_the_middle_dot(dot):
    assert clean_name(f"阿依古丽{dot}买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize("stop", [".", "．", " . ", " ．"])
def test_a_full_stop_between_chinese_characters_is_a_middle_dot(stop):
    assert clean_name(f"阿依古丽{stop}买买提") == "阿依古丽·买买提"


def test_spaces_around_a_middle_dot_in_a_chinese_name_are_removed():
    assert clean_name("阿依古丽 · 买买提") == "阿依古丽·买买提"


def test_a_full_stop_in_a_latin_name_is_kept():
    assert clean_name("A.B. Trading Co.") == "A.B. Trading Co."


def test_traditional_characters_are_kept_as_typed():
    assert clean_name("張三") == "張三"


def test_characters_beyond_the_basic_multilingual_plane_survive():
    assert clean_name(f"{RARE}野 家") == f"{RARE}野家"
    assert clean_name(f"张 {RARE}") == f"张{RARE}"


def test_names_are_stored_in_nfc():
    assert clean_name("Jose\u0301") == "Jos\u00e9"


def test_invisible_characters_from_copy_and_paste_are_dropped():
    assert clean_name("\ufeff张\u200b三\u00ad") == "张三"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\u200b", None])
def test_an_empty_name_is_refused(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        clean_name(raw)  # type: ignore[arg-type]

    assert excinfo.value.errors == {"name": ["请填写姓名或名称"]}


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\u202e", "\x7f"])
def test_a_name_with_control_characters_is_refused(control):
    with pytest.raises(ValidationFailed) as excinfo:
        clean_name(f"张{control}三", field="debtor_name")

    assert list(excinfo.value.errors) == ["debtor_name"]
    assert "控制字符" in excinfo.value.message


def test_line_breaks_and_tabs_count_as_whitespace_not_control_characters():
    assert clean_name("张三\r\n") == "张三"


def test_a_name_of_100_characters_is_accepted_and_101_refused():
    assert clean_name("王" * 100) == "王" * 100
    assert clean_name(RARE * 100) == RARE * 100  # counted in characters, not UTF-16 units

    with pytest.raises(ValidationFailed) as excinfo:
        clean_name("王" * 101)
    assert excinfo.value.errors == {"name": ["姓名或名称不能超过100个字"]}


# ---------------------------------------------------------------------------- normalize_name


def test_a_search_for_simplified_characters_finds_traditional_ones():
    assert normalize_name("張三") == normalize_name("张三") == "张三"


def test_a_minority_name_typed_in_traditional_with_a_full_width_stop_matches():
    assert normalize_name("阿依古麗．買買提") == "阿依古丽买买提"


def test_a_minority_name_typed_without_its_middle_dot_matches():
    assert normalize_name("阿依古丽买买提") == normalize_name("阿依古丽·买买提")


@pytest.mark.parametrize("dot", DOT_VARIANTS)
def test_search_keys_unify_middle_dots(dot):
    assert normalize_name(f"阿依古丽{dot}买买提") == "阿依古丽买买提"


def test_full_width_latin_and_digits_become_ascii_and_case_is_folded():
    assert normalize_name("ＡＢＣ有限公司") == "abc有限公司"
    assert normalize_name("Abc 有限公司") == "abc有限公司"
    assert normalize_name("第１分公司") == "第1分公司"


def test_all_whitespace_is_removed_from_the_search_key():
    assert normalize_name(" 张 \u3000三\t") == "张三"
    assert normalize_name("John Smith") == "johnsmith"


def test_rare_characters_survive_the_traditional_to_simplified_conversion():
    assert normalize_name(f"{RARE}野家") == f"{RARE}野家"
    assert normalize_name(f"張{RARE}") == f"张{RARE}"
    assert normalize_name("\U0002a6a5") == "\U0002a6a5"  # 𪚥, CJK extension B


def test_normalize_name_never_raises_and_gives_an_empty_key_for_nothing():
    assert normalize_name("") == ""
    assert normalize_name(" \u3000\x00") == ""


def test_the_search_key_of_a_cleaned_name_equals_that_of_the_raw_name():
    raw = "阿依古麗 ・ 買買提"

    assert normalize_name(clean_name(raw)) == normalize_name(raw)


def test_the_converter_can_be_used_from_several_threads():
    results: list[str] = []

    def search() -> None:
        for _ in range(200):
            results.append(normalize_name("張三"))

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["张三"] * 1600


han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
rare = st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF)


@given(st.text(alphabet=st.one_of(han, rare), min_size=1, max_size=20))
def test_no_character_of_a_chinese_name_is_lost_in_the_search_key(name):
    # t2s may change a character (蒭 becomes 𫇴, beyond the BMP), but never drops one.
    assert len(normalize_name(name)) == len(name.replace("·", ""))


@given(st.text(alphabet=st.one_of(han, rare, st.sampled_from(" ·.\u3000ABCabc")), max_size=30))
def test_the_search_key_is_stable_when_applied_twice(name):
    assert normalize_name(normalize_name(name)) == normalize_name(name)


@given(st.text(alphabet=st.one_of(han, rare, st.sampled_from(" \u3000·・")), max_size=30))
def test_clean_names_are_idempotent(name):
    try:
        cleaned = clean_name(name)
    except ValidationFailed:
        return
    assert clean_name(cleaned) == cleaned

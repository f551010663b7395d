"""Resident ID numbers, credit codes, masking and the identity vault (DOMAIN.md §5, §6)."""

from __future__ import annotations

import base64
import logging
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric

from blacklist.core.errors import ValidationFailed
from blacklist.core.identity import (
    CreditCode,
    IdentityVault,
    Sex,
    looks_like_credit_code,
    looks_like_resident_id,
    mask_id_number,
    mask_identifier,
    parse_credit_code,
    parse_resident_id,
)

VALID_ID = "11010519491231002X"  # Beijing Chaoyang, born 1949-12-31, female
LEGACY_ID = "110105491231002"  # the same person's 15-digit number
HASH_KEY = b"h" * 32
ENCRYPTION_KEY = b"e" * 32
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def uscc_with_check(first17: str) -> str:
    """GB 32100-2015 check character computed independently of the module under test."""
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + USCC_ALPHABET[-total % 31]


def error_of(excinfo: pytest.ExceptionInfo[ValidationFailed], field: str) -> str:
    assert list(excinfo.value.errors) == [field]
    return excinfo.value.errors[field][0]


# ----------------------------------------------------------------------- resident ID numbers


def test_a_valid_number_gives_birth_date_sex_and_address_code():
    resident = parse_resident_id(VALID_ID)

    assert resident.number == VALID_ID
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex is Sex.FEMALE
    assert resident.sex.label == "女"
    assert resident.address_code == "110105"
    assert resident.legacy is False
    assert resident.warnings == ()


def test_an_odd_sequence_digit_means_male():
    resident = parse_resident_id(with_check_digit("11010519800101001"))

    assert resident.sex is Sex.MALE
    assert resident.sex.label == "男"


def test_lowercase_x_full_width_digits_and_spaces_are_accepted_and_stored_canonical():
    typed = " １１０１０５ １９４９１２３１\u3000００２x "

    assert parse_resident_id(typed).number == VALID_ID


def test_a_wrong_check_digit_is_refused_with_a_precise_message():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id("110105194912310021")

    assert error_of(excinfo, "id_number") == "身份证号码校验位错误"


def test_the_error_is_reported_on_the_field_the_caller_names():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id("110105194912310021", field="subject_id")

    assert error_of(excinfo, "subject_id") == "身份证号码校验位错误"


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        ("", "请填写身份证号码"),
        ("11010519491231002", "应为18位"),
        ("11010519491231002X1", "您输入的是19位"),
        ("1101051949123100A2", "只能由数字和末位的字母X组成"),
        ("110105194912310X2X", "前17位必须是数字"),
        ("11010549123100X", "15位的旧身份证号码只能由数字组成"),
    ],
)
def test_malformed_numbers_are_refused_with_a_message_saying_what_is_wrong(raw, message_part):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id(raw)

    assert message_part in error_of(excinfo, "id_number")


@pytest.mark.parametrize("birth", ["19490230", "19491301", "19490001", "20230229"])
def test_an_impossible_birth_date_is_refused_even_with_a_correct_check_digit(birth):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id(with_check_digit("110105" + birth + "002"))

    assert error_of(excinfo, "id_number") == "身份证号码中的出生日期不存在，请核对"


def test_a_birth_year_before_1900_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id(with_check_digit("11010518991231002"))

    assert "早于1900年" in error_of(excinfo, "id_number")


def test_a_leap_day_birth_date_is_accepted():
    assert parse_resident_id(with_check_digit("44030419880229123")).birth_date == date(1988, 2, 29)


def test_abolished_address_code_is_accepted_with_a_warning():
    # Jining Shizhong district: code in use 1983-2013, given to people of every age.
    number = with_check_digit("37080219800101001")
    assert not ric.is_valid(number)  # python-stdnum alone would refuse this real person

    resident = parse_resident_id(number)

    assert resident.number == number
    assert resident.address_code == "370802"
    assert len(resident.warnings) == 1
    assert "370802" in resident.warnings[0]
    assert "停用" in resident.warnings[0]


@pytest.mark.parametrize("code", ["999999", "119999"])
def test_an_unknown_address_code_is_accepted_with_a_warning(code):
    resident = parse_resident_id(with_check_digit(code + "19900101001"))

    assert resident.warnings == (f"地址码{code}不在行政区划代码表中，请核对号码",)


def test_a_code_in_use_today_gives_no_warning_whatever_the_birth_year():
    # 140105 (Taiyuan Xiaodian) dates from 1997; people born before then carry it all the same.
    assert not ric.is_valid(with_check_digit("14010519650101001"))

    assert parse_resident_id(with_check_digit("14010519650101001")).warnings == ()


def test_a_legacy_15_digit_number_becomes_the_same_canonical_number():
    resident = parse_resident_id(LEGACY_ID)

    assert resident.number == VALID_ID
    assert resident.legacy is True
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex is Sex.FEMALE


def test_both_forms_of_one_number_hash_alike():
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)

    legacy = parse_resident_id(LEGACY_ID).number
    modern = parse_resident_id(VALID_ID).number

    assert vault.hash(legacy) == vault.hash(modern)


def test_a_legacy_number_with_an_impossible_date_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_resident_id("110105490230002")

    assert error_of(excinfo, "id_number") == "身份证号码中的出生日期不存在，请核对"


def test_a_legacy_number_takes_sex_from_its_last_digit():
    assert parse_resident_id("110105491231001").sex is Sex.MALE


def test_age_counts_full_years_and_rises_on_the_birthday():
    resident = parse_resident_id(with_check_digit("11010520070315001"))

    assert resident.age_on(date(2025, 3, 14)) == 17
    assert resident.age_on(date(2025, 3, 15)) == 18


def test_someone_born_on_the_29th_of_february_turns_eighteen_on_the_first_of_march():
    resident = parse_resident_id(with_check_digit("44030420080229123"))

    assert resident.age_on(date(2026, 2, 28)) == 17
    assert resident.age_on(date(2026, 3, 1)) == 18
    assert resident.age_on(date(2028, 2, 29)) == 20


def test_the_masked_property_hides_the_birth_month_and_day():
    assert parse_resident_id(VALID_ID).masked == "1101051949****002X"


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
address_codes = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
sequences = st.from_regex(r"[0-9]{3}", fullmatch=True)


@given(
    address=address_codes,
    born=birth_dates,
    sequence=sequences,
    wrong=st.sampled_from("0123456789X"),
)
def test_any_17_digits_with_a_real_date_validate_only_with_their_own_check_character(
    address, born, sequence, wrong
):
    first17 = address + born.strftime("%Y%m%d") + sequence
    right = ric.calc_check_digit(first17 + "0")

    resident = parse_resident_id(first17 + right)
    assert resident.number == first17 + right
    assert resident.birth_date == born
    assert resident.sex is (Sex.MALE if int(sequence[-1]) % 2 else Sex.FEMALE)

    assume(wrong != right)
    with pytest.raises(ValidationFailed):
        parse_resident_id(first17 + wrong)


@given(
    address=address_codes,
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequence=sequences,
)
def test_every_legacy_number_equals_its_18_character_form(address, born, sequence):
    legacy = address + born.strftime("%y%m%d") + sequence
    modern = with_check_digit(address + born.strftime("%Y%m%d") + sequence)

    assert parse_resident_id(legacy).number == parse_resident_id(modern).number == modern


# ----------------------------------------------------------------------------- credit codes


def test_a_valid_unified_social_credit_code_is_accepted():
    assert parse_credit_code("91110000600037341L") == CreditCode("91110000600037341L", "uscc")


def test_a_credit_code_led_by_a_letter_authority_code_is_accepted():
    code = uscc_with_check("Y1110000MA0012345")

    assert parse_credit_code(code).code == code


def test_credit_codes_are_normalised_from_lowercase_full_width_and_spaces():
    assert parse_credit_code(" ９１１１ 0000600037341l ").code == "91110000600037341L"


def test_a_wrong_credit_code_check_character_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_credit_code("91110000600037341M")

    assert error_of(excinfo, "credit_code") == "统一社会信用代码校验位错误"


@pytest.mark.parametrize("letter", "IOZSV")
def test_letters_outside_the_credit_code_alphabet_are_refused(letter):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_credit_code("9111000060003734" + letter + "L")

    assert f"无效字符：{letter}" in error_of(excinfo, "credit_code")


@pytest.mark.parametrize("raw", ["", "9111000060003734", "91110000600037341L0"])
def test_a_credit_code_of_the_wrong_length_is_refused(raw):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_credit_code(raw)

    message = error_of(excinfo, "credit_code")
    assert message == "请填写统一社会信用代码" or f"您输入的是{len(raw)}位" in message


def test_an_old_organisation_code_with_a_hyphen_is_stored_without_it_and_flagged():
    code = parse_credit_code("60003734-1")

    assert code.code == "600037341"
    assert code.kind == "organisation_code"
    assert len(code.warnings) == 1


@pytest.mark.parametrize(
    ("first8", "check"),
    [
        ("60003734", "1"),  # the organisation code inside 91110000600037341L
        ("D2143569", "X"),  # remainder 1: check 10 is written X
        ("00000000", "0"),  # remainder 0: check 11 is written 0
    ],
)
def test_organisation_code_check_characters_follow_gb_11714(first8, check):
    assert parse_credit_code(first8 + check).code == first8 + check
    wrong = "5" if check != "5" else "6"
    with pytest.raises(ValidationFailed) as excinfo:
        parse_credit_code(first8 + wrong)
    assert error_of(excinfo, "credit_code") == "组织机构代码校验位错误"


def test_a_misplaced_hyphen_in_an_organisation_code_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        parse_credit_code("6000-37341")

    assert "XXXXXXXX-X" in error_of(excinfo, "credit_code")


@given(
    body=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17),
    position=st.integers(0, 17),
    replacement=st.sampled_from(USCC_ALPHABET),
)
def test_random_valid_credit_codes_round_trip_and_any_single_change_is_refused(
    body, position, replacement
):
    code = uscc_with_check(body)
    assert parse_credit_code(code) == CreditCode(code, "uscc")

    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationFailed):
        parse_credit_code(changed)


# ------------------------------------------------------------------------------ shape checks


@pytest.mark.parametrize(
    ("raw", "resident", "credit"),
    [
        (VALID_ID, True, True),  # 18 characters of the credit code alphabet: both shapes
        ("11010519491231002x", True, True),
        (LEGACY_ID, True, False),
        ("91110000600037341L", False, True),
        ("60003734-1", False, True),
        ("600037341", False, True),
        ("张三", False, False),
        ("1101051949", False, False),
        ("9111000060003734IL", False, False),
    ],
)
def test_shape_checks_tell_numbers_from_names(raw, resident, credit):
    assert looks_like_resident_id(raw) is resident
    assert looks_like_credit_code(raw) is credit


# ----------------------------------------------------------------------------------- masking


def test_an_18_digit_number_is_shown_with_the_birth_month_and_day_masked():
    assert mask_id_number("342301196407043224") == "3423011964****3224"


def test_a_15_digit_number_is_shown_with_the_birth_month_and_day_masked():
    assert mask_id_number("342301640704322") == "34230164****322"


def test_a_value_of_another_length_is_masked_completely():
    assert mask_id_number("12345") == "*****"


def test_organisations_codes_are_shown_whole_and_persons_numbers_masked():
    assert mask_identifier("organisation", "91110000600037341L") == "91110000600037341L"
    assert mask_identifier("person", VALID_ID) == "1101051949****002X"
    with pytest.raises(ValueError):
        mask_identifier("robot", VALID_ID)  # type: ignore[arg-type]


@given(
    st.one_of(
        st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
        st.from_regex(r"[0-9]{15}", fullmatch=True),
    )
)
def test_masking_keeps_length_and_hides_exactly_the_birth_month_and_day(number):
    masked = mask_id_number(number)
    hidden = range(10, 14) if len(number) == 18 else range(8, 12)

    assert len(masked) == len(number)
    for i, (shown, original) in enumerate(zip(masked, number, strict=True)):
        assert shown == ("*" if i in hidden else original)


@given(address=address_codes, born=birth_dates, sequence=sequences)
def test_masking_never_reveals_characters_11_to_14(address, born, sequence):
    number = with_check_digit(address + born.strftime("%Y%m%d") + sequence)

    assert parse_resident_id(number).masked[10:14] == "****"


# ------------------------------------------------------------------------------------- vault


def test_the_vault_refuses_short_keys():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        IdentityVault(b"x" * 31, ENCRYPTION_KEY)
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        IdentityVault(HASH_KEY, b"x" * 16)
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        IdentityVault(HASH_KEY, ENCRYPTION_KEY, old_keys={"k0": b"x" * 24})


def test_hash_is_a_deterministic_hex_hmac_that_depends_on_the_key():
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)
    other = IdentityVault(b"H" * 32, ENCRYPTION_KEY)

    assert vault.hash(VALID_ID) == vault.hash(VALID_ID)
    assert len(vault.hash(VALID_ID)) == 64
    assert int(vault.hash(VALID_ID), 16) >= 0
    assert vault.hash(VALID_ID) != other.hash(VALID_ID)
    assert vault.hash(VALID_ID) != vault.hash("110105194912310010")


def test_a_token_names_its_key_and_does_not_contain_the_number():
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)

    token = vault.encrypt(VALID_ID)

    assert token.startswith("k1:")
    assert VALID_ID not in token
    assert vault.encrypt(VALID_ID) != token  # a fresh nonce every time
    assert vault.decrypt(token) == VALID_ID
    assert vault.is_current(token)


def test_a_tampered_token_is_refused_without_revealing_anything():
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)
    key_id, body = vault.encrypt(VALID_ID).split(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1

    with pytest.raises(ValueError, match="tampered") as excinfo:
        vault.decrypt(key_id + ":" + base64.urlsafe_b64encode(bytes(raw)).decode())
    assert VALID_ID not in str(excinfo.value)


@pytest.mark.parametrize(
    "token", ["11010519491231002X", "k1:", "k1:not base64!", "k1:AAAA", "k1:AAAAA"]
)
def test_malformed_tokens_are_refused(token):
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)

    with pytest.raises(ValueError) as excinfo:
        vault.decrypt(token)
    assert VALID_ID not in str(excinfo.value)


def test_a_token_moved_to_another_key_id_is_refused():
    old = b"o" * 32
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY, key_id="k2", old_keys={"k1": old})
    _, body = vault.encrypt(VALID_ID).split(":")

    with pytest.raises(ValueError):
        vault.decrypt("k1:" + body)  # the key id is authenticated data


def test_a_token_of_an_unknown_key_is_refused():
    token = IdentityVault(HASH_KEY, b"o" * 32, key_id="k0").encrypt(VALID_ID)

    with pytest.raises(ValueError, match="unknown encryption key"):
        IdentityVault(HASH_KEY, ENCRYPTION_KEY).decrypt(token)


def test_after_a_key_rotation_old_tokens_still_decrypt_and_are_flagged_for_reencryption():
    before = IdentityVault(HASH_KEY, b"o" * 32, key_id="k1")
    token = before.encrypt(VALID_ID)
    after = IdentityVault(HASH_KEY, ENCRYPTION_KEY, key_id="k2", old_keys={"k1": b"o" * 32})

    assert after.decrypt(token) == VALID_ID
    assert not after.is_current(token)
    assert after.encrypt(VALID_ID).startswith("k2:")
    assert after.hash(VALID_ID) == before.hash(VALID_ID)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_from_config_reads_plain_and_identified_keys_and_old_keys():
    plain = IdentityVault.from_config(b64(HASH_KEY), b64(ENCRYPTION_KEY))
    token = plain.encrypt(VALID_ID)
    assert token.startswith("k1:")

    rotated = IdentityVault.from_config(
        b64(HASH_KEY), "k2:" + b64(b"n" * 32), f"k1:{b64(ENCRYPTION_KEY)}, k0:{b64(b'z' * 32)}"
    )
    assert rotated.key_id == "k2"
    assert rotated.decrypt(token) == VALID_ID
    assert rotated.encrypt(VALID_ID).startswith("k2:")


@pytest.mark.parametrize(
    ("hash_key", "encryption_key", "old_keys", "message"),
    [
        ("not base64!", b64(ENCRYPTION_KEY), "", "hash key is not valid base64"),
        (b64(HASH_KEY), b64(b"short"), "", "exactly 32 bytes"),
        (b64(HASH_KEY), b64(ENCRYPTION_KEY), b64(b"o" * 32), "id:base64 pairs"),
        (b64(HASH_KEY), "k:1:" + b64(ENCRYPTION_KEY), "", "key id"),
    ],
)
def test_from_config_explains_bad_configuration(hash_key, encryption_key, old_keys, message):
    with pytest.raises(ValueError, match=message) as excinfo:
        IdentityVault.from_config(hash_key, encryption_key, old_keys)
    assert b64(ENCRYPTION_KEY) not in str(excinfo.value)


def test_the_vault_repr_shows_no_key_material():
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY, old_keys={"k0": b"o" * 32})

    assert repr(vault) == "IdentityVault(key_id='k1', key_ids=['k0', 'k1'])"


def test_the_vault_logs_nothing(caplog):
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)
    with caplog.at_level(logging.DEBUG):
        vault.decrypt(vault.encrypt(VALID_ID))
        vault.hash(VALID_ID)
    assert caplog.records == []


@given(identifier=st.text(min_size=1, max_size=40))
def test_vault_encryption_round_trips_any_identifier(identifier):
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)

    assert vault.decrypt(vault.encrypt(identifier)) == identifier


@given(identifier=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True), key=st.binary(min_size=32))
def test_hash_is_deterministic_and_differs_under_another_key(identifier, key):
    assume(key != HASH_KEY)
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)

    assert vault.hash(identifier) == IdentityVault(HASH_KEY, b"z" * 32).hash(identifier)
    assert vault.hash(identifier) != IdentityVault(key, ENCRYPTION_KEY).hash(identifier)


@given(
    identifier=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
    position=st.integers(min_value=0),
    bit=st.integers(0, 7),
)
def test_flipping_any_bit_of_a_token_is_detected(identifier, position, bit):
    vault = IdentityVault(HASH_KEY, ENCRYPTION_KEY)
    key_id, body = vault.encrypt(identifier).split(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[position % len(raw)] ^= 1 << bit

    with pytest.raises(ValueError):
        vault.decrypt(key_id + ":" + base64.urlsafe_b64encode(bytes(raw)).decode())


def test_age_on_a_date_before_birth_is_negative():
    resident = parse_resident_id(VALID_ID)

    assert resident.age_on(resident.birth_date - timedelta(days=1)) == -1


def test_an_all_digit_credit_code_is_an_organisation_not_a_mistyped_id_number():
    """A credit code may be all digits; valid as one, it is one (issue #8 found partner checks
    refusing 915101044348759711 as an ID number with a wrong check digit)."""
    from blacklist.core.identity import parse_identifier

    assert parse_identifier("915101044348759711") == ("organisation", "915101044348759711")


def test_digits_that_are_neither_an_id_number_nor_a_credit_code_are_a_mistyped_id_number():
    from blacklist.core.identity import parse_identifier

    with pytest.raises(ValidationFailed) as refused:
        parse_identifier("110105198001011230")  # the check digit should be 8
    assert "身份证" in str(refused.value.errors)

"""Identifiers of listed persons and organisations, and how they are kept (DOMAIN.md §5, §6).

A natural person is identified by the resident ID number (GB 11643-1999), an organisation by its
Unified Social Credit Code (GB 32100-2015) or, in old records, its organisation code (GB 11714).
Art. 6 of the 2017 provisions publishes them; Art. 4 needs the age the number carries (a minor may
never be listed). Parsing is strict about what cannot be a real number (length, characters, check
character, birth date) and lenient about what real people still carry (abolished address codes are
accepted with a warning, §5).

ID numbers are sensitive personal information (PIPL, §6): ``IdentityVault`` turns them into a keyed
hash (the lookup index) and an authenticated ciphertext (the stored value), so that a stolen dump
shows neither. Nothing in this module logs an identifier or puts one in an exception message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum import numdb
from stdnum.cn import ric

from blacklist.core.errors import ValidationFailed

__all__ = [
    "CreditCode",
    "IdentityVault",
    "ResidentId",
    "Sex",
    "looks_like_credit_code",
    "looks_like_resident_id",
    "mask_id_number",
    "mask_identifier",
    "parse_credit_code",
    "parse_resident_id",
]


class Sex(StrEnum):
    """Sex as the resident ID number records it (17th digit odd = male, GB 11643-1999)."""

    MALE = "male"
    FEMALE = "female"

    @property
    def label(self) -> str:
        return SEX_LABELS[self]


SEX_LABELS = {Sex.MALE: "男", Sex.FEMALE: "女"}

# Every kind of whitespace (incl. U+3000 IDEOGRAPHIC SPACE, NBSP) people paste into a number field.
_WHITESPACE = re.compile(r"\s+")


def _normalise(raw: str) -> str:
    """Full-width digits and letters become ASCII (NFKC), whitespace goes, letters go uppercase."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


# --------------------------------------------------------------------------- resident ID numbers


@dataclass(frozen=True)
class ResidentId:
    """A checked resident ID number in its canonical 18-character form.

    ``legacy`` says the number was given in the 15-digit form (issued before 1999, no check
    character); it has been converted to 18 characters so that both forms hash alike.
    ``warnings`` are Chinese notes for staff (e.g. an address code no longer in the code table).
    """

    number: str
    birth_date: date
    sex: Sex
    address_code: str
    legacy: bool = False
    warnings: tuple[str, ...] = ()

    def age_on(self, d: date) -> int:
        """Full years (周岁) on ``d``: Art. 4 refuses to list anyone under 18 on the decision date.

        The age goes up on the birthday itself; someone born on 29 February turns a year older on
        1 March in common years. Negative if ``d`` precedes the birth date.
        """
        born = self.birth_date
        not_yet = (d.month, d.day) < (born.month, born.day)
        return d.year - born.year - (1 if not_yet else 0)

    @property
    def masked(self) -> str:
        """The number as public pages show it: birth month and day hidden (§6)."""
        return mask_id_number(self.number)


_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_ADDRESS_CODES = numdb.get("cn/loc")


def parse_resident_id(raw: str, field: str = "id_number") -> ResidentId:
    """Check a resident ID number as typed and return it canonical (GB 11643-1999, §5).

    Accepts full-width characters, spaces and a lowercase ``x``. An 18-character number must have
    17 digits, the ISO 7064 MOD 11-2 check character and a real birth date from 1900 on. A
    15-digit legacy number (YYMMDD, born 19YY, no check character) is converted to 18 characters.
    The birth date is not compared with today (no clock here): callers that know the date check it.
    An address code that is unknown, or abolished (e.g. 370802, 1983–2013), is accepted with a
    warning: people still carry the codes of abolished counties.
    """
    number = _normalise(raw)
    if not number:
        raise ValidationFailed.on(field, "请填写身份证号码")
    if not re.fullmatch(r"[0-9X]+", number):
        raise ValidationFailed.on(field, "身份证号码只能由数字和末位的字母X组成")
    if len(number) == 18:
        if not number[:17].isdigit():
            raise ValidationFailed.on(field, "身份证号码的前17位必须是数字，只有最后一位可以是X")
        if ric.calc_check_digit(number) != number[17]:
            raise ValidationFailed.on(field, "身份证号码校验位错误")
        legacy = False
    elif len(number) == 15:
        if not number.isdigit():
            raise ValidationFailed.on(field, "15位的旧身份证号码只能由数字组成")
        number = number[:6] + "19" + number[6:]
        number += ric.calc_check_digit(number + "0")
        legacy = True
    else:
        raise ValidationFailed.on(
            field, f"身份证号码应为18位（旧证为15位），您输入的是{len(number)}位"
        )
    birth_date = _birth_date(number, field)
    address_code = number[:6]
    return ResidentId(
        number=number,
        birth_date=birth_date,
        sex=Sex.MALE if int(number[16]) % 2 else Sex.FEMALE,
        address_code=address_code,
        legacy=legacy,
        warnings=_address_warnings(address_code),
    )


def _birth_date(number: str, field: str) -> date:
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if year < 1900:
        raise ValidationFailed.on(field, "身份证号码中的出生年份早于1900年，不是有效的号码")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationFailed.on(field, "身份证号码中的出生日期不存在，请核对") from None


@cache  # ~3,500 codes; the table lookup was a third of a 1,000-person partner check (issue #8)
def _address_warnings(code: str) -> tuple[str, ...]:
    """Warn, never refuse, when the address code is unknown or abolished (§5).

    People keep the number they were given when their county is abolished or renamed, so such a
    code is no reason to refuse. python-stdnum's ``ric.validate`` refuses it, and also compares the
    code's years of use with the birth year, which wrongly flags everyone born before their county
    got its code (numbers were issued from 1984, to people of every age); neither is done here.
    ``ric.get_birth_place`` is not used: it raises ``KeyError`` for an unknown county under a known
    province (e.g. 119999).
    """
    props: dict[str, str] = {}
    for _part, part_props in _ADDRESS_CODES.info(code):
        props.update(part_props)
    county = props.get("county")
    if not county:
        return (f"地址码{code}不在行政区划代码表中，请核对号码",)
    ended = []
    for entry in county.split(","):
        match = re.fullmatch(r"\[(\d*)-(\d*)\](.*)", entry)
        if not match or not match[2]:
            return ()
        ended.append((int(match[2]), match[3]))
    last_year, name = max(ended)
    return (f"地址码{code}（{name}）已于{last_year}年后停用，持有旧号码的身份证仍然有效，请核对",)


def looks_like_resident_id(raw: str) -> bool:
    """Cheap shape check for search boxes that take a name or a number: no checksum, no date.

    An all-digit 18-character string can look like both a resident ID and a credit code.
    """
    return bool(_RESIDENT_ID_SHAPE.fullmatch(_normalise(raw)))


# ------------------------------------------------------------------------------- credit codes

# GB 32100-2015: the 31 characters of a USCC (no I, O, Z, S, V), in value order.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: organisation code body 0-9A-Z, letters worth A=10 .. Z=35.
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_SHAPE = re.compile(f"[{_USCC_ALPHABET}]{{18}}")
_ORG_SHAPE = re.compile(r"[0-9A-Z]{8}-?[0-9X]")


@dataclass(frozen=True)
class CreditCode:
    """A checked organisation identifier: a USCC, or an old organisation code (no hyphen)."""

    code: str
    kind: Literal["uscc", "organisation_code"]
    warnings: tuple[str, ...] = ()


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character (GB/T 17710 mod 31) of the first 17 characters of a USCC."""
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(first8: str) -> str:
    """GB 11714-1997 check character of the first 8 characters of an organisation code."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def parse_credit_code(raw: str, field: str = "credit_code") -> CreditCode:
    """Check an organisation's code as typed (§5).

    18 characters: a Unified Social Credit Code, checksum computed here because
    ``stdnum.cn.uscc`` refuses valid codes whose registration authority is a letter (e.g. ``Y``).
    9 characters, or ``XXXXXXXX-X``: an organisation code from before 2015, stored without the
    hyphen and accepted with a warning, since the USCC replaced it.
    """
    code = _normalise(raw)
    if not code:
        raise ValidationFailed.on(field, "请填写统一社会信用代码")
    if "-" in code:
        if not re.fullmatch(r"[^-]{8}-[^-]", code):
            raise ValidationFailed.on(field, "组织机构代码的格式应为XXXXXXXX-X")
        code = code.replace("-", "")
    if len(code) == 18:
        bad = sorted({c for c in code if c not in _USCC_VALUES})
        if bad:
            raise ValidationFailed.on(
                field,
                f"统一社会信用代码含有无效字符：{'、'.join(bad)}（代码只用数字和除I、O、Z、S、V以外的"
                "大写字母）",
            )
        if uscc_check_char(code[:17]) != code[17]:
            raise ValidationFailed.on(field, "统一社会信用代码校验位错误")
        return CreditCode(code=code, kind="uscc")
    if len(code) == 9:
        if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", code):
            raise ValidationFailed.on(
                field, "组织机构代码前8位只能是数字或大写字母，最后一位只能是数字或X"
            )
        if organisation_code_check_char(code[:8]) != code[8]:
            raise ValidationFailed.on(field, "组织机构代码校验位错误")
        return CreditCode(
            code=code,
            kind="organisation_code",
            warnings=("这是旧的组织机构代码，已由18位统一社会信用代码取代，请尽量补录",),
        )
    raise ValidationFailed.on(
        field, f"统一社会信用代码应为18位（旧组织机构代码为9位），您输入的是{len(code)}位"
    )


def looks_like_credit_code(raw: str) -> bool:
    """Cheap shape check (USCC alphabet and length, or old organisation code): no checksum."""
    code = _normalise(raw)
    return bool(_USCC_SHAPE.fullmatch(code) or _ORG_SHAPE.fullmatch(code))


def parse_identifier(raw: str, field: str = "id_number") -> tuple[str, str]:
    """``("person", number)`` or ``("organisation", code)``: an exact resident ID number (lower- or
    upper-case X, 15 or 18 digits) or a credit code, whichever the text is. Digits with a wrong
    check digit are reported as a mistyped ID number, not as a bad credit code."""
    text = _normalise(raw or "")
    if looks_like_resident_id(text):
        try:
            return "person", parse_resident_id(text, field).number
        except ValidationFailed as not_a_person:
            if not looks_like_credit_code(text):
                raise
            # A credit code may be all digits (915101044348759711): valid as one, it is one.
            try:
                return "organisation", parse_credit_code(text, field).code
            except ValidationFailed:
                if text[:-1].isdigit():  # digits that are neither: a mistyped ID number
                    raise not_a_person from None
                raise
    if looks_like_credit_code(text):
        return "organisation", parse_credit_code(text, field).code
    raise ValidationFailed.on(field, "请输入完整的18位身份证号码或统一社会信用代码")


# ------------------------------------------------------------------------------------ masking


def mask_id_number(number: str) -> str:
    """Hide the birth month and day (§6): characters 11–14 of 18, or 9–12 of a 15-digit number.

    ``3423011964****3224``. Anything of another length is masked completely: a malformed value
    must fail closed rather than show more than the rules allow.
    """
    if len(number) == 18:
        return number[:10] + "****" + number[14:]
    if len(number) == 15:
        return number[:8] + "****" + number[12:]
    return "*" * len(number)


def mask_identifier(kind: Literal["person", "organisation"], identifier: str) -> str:
    """The identifier as public pages show it: a person's ID number masked, an organisation's
    code whole (organisations' codes are public, §6)."""
    if kind == "person":
        return mask_id_number(identifier)
    if kind == "organisation":
        return identifier
    raise ValueError(f"unknown subject kind {kind!r}")


# -------------------------------------------------------------------------------- the vault

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_NONCE_BYTES = 12


def _b64decode(text: str, what: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet); the message never contains key material."""
    text = text.strip()
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


def _check_key_id(key_id: str) -> str:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("encryption key id must be 1-32 characters of A-Z a-z 0-9 _ . -")
    return key_id


class IdentityVault:
    """Keyed hashing and encryption at rest for identifiers (§6, PIPL).

    ``hash`` is HMAC-SHA256: deterministic, so it is the lookup index ("is this ID number
    listed?"), and it cannot be reversed by enumerating the small space of ID numbers without the
    key, as a plain hash could. ``encrypt`` is AES-256-GCM with a random nonce and the key id as
    associated data; tokens carry their key id so that old keys still decrypt after a rotation.
    The hash key cannot rotate without rehashing every row.
    """

    __slots__ = ("_aeads", "_hash_key", "key_id")

    def __init__(
        self,
        hash_key: bytes,
        encryption_key: bytes,
        key_id: str = "k1",
        old_keys: dict[str, bytes] | None = None,
    ) -> None:
        if len(hash_key) < 32:
            raise ValueError("identity hash key must be at least 32 bytes")
        if len(encryption_key) != 32:
            raise ValueError("identity encryption key must be exactly 32 bytes (AES-256)")
        self._hash_key = bytes(hash_key)
        self.key_id = _check_key_id(key_id)
        self._aeads = {key_id: AESGCM(encryption_key)}
        for old_id, old_key in (old_keys or {}).items():
            _check_key_id(old_id)
            if len(old_key) != 32:
                raise ValueError(f"old encryption key {old_id!r} must be exactly 32 bytes")
            if old_id == key_id:
                if old_key != encryption_key:
                    raise ValueError(f"key id {old_id!r} names both the current and an old key")
                continue
            self._aeads[old_id] = AESGCM(old_key)

    def __repr__(self) -> str:
        return f"IdentityVault(key_id={self.key_id!r}, key_ids={sorted(self._aeads)!r})"

    @classmethod
    def from_config(
        cls, hash_key_b64: str, encryption_key_b64: str, old_keys_spec: str = ""
    ) -> IdentityVault:
        """Build from configuration strings: base64 keys; the encryption key either plain
        (key id ``k1``) or ``id:base64``; old keys as comma-separated ``id:base64`` pairs."""
        hash_key = _b64decode(hash_key_b64 or "", "identity hash key")
        key_id, _, key_b64 = (encryption_key_b64 or "").strip().rpartition(":")
        encryption_key = _b64decode(key_b64, "identity encryption key")
        old_keys: dict[str, bytes] = {}
        for pair in filter(None, (p.strip() for p in (old_keys_spec or "").split(","))):
            old_id, sep, old_b64 = pair.partition(":")
            if not sep:
                raise ValueError("old encryption keys must be comma-separated id:base64 pairs")
            old_keys[old_id.strip()] = _b64decode(old_b64, f"old encryption key {old_id!r}")
        return cls(hash_key, encryption_key, key_id.strip() or "k1", old_keys)

    def hash(self, identifier: str) -> str:
        """Hex HMAC-SHA256 of the identifier. Callers pass the canonical form (``number`` of a
        ``ResidentId``, ``code`` of a ``CreditCode``): no normalisation happens here."""
        return hmac.new(self._hash_key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()

    def encrypt(self, identifier: str) -> str:
        """``<key_id>:<urlsafe base64(nonce + ciphertext)>``; a new random nonce every time."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[self.key_id].encrypt(
            nonce, identifier.encode("utf-8"), self.key_id.encode("ascii")
        )
        return f"{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        """The identifier back; ``ValueError`` if the token is malformed, tampered with, or made
        with a key this vault does not hold."""
        key_id, sep, body = token.partition(":")
        if not sep or not _TOKEN_BODY.fullmatch(body):
            raise ValueError("not an identity token")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise ValueError("identity token was made with an unknown encryption key")
        try:
            raw = base64.urlsafe_b64decode(body)
        except binascii.Error:
            raise ValueError("not an identity token") from None
        if len(raw) < _NONCE_BYTES + 16:
            raise ValueError("identity token is truncated")
        try:
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], key_id.encode("ascii"))
        except InvalidTag:
            raise ValueError(
                "identity token failed authentication (tampered or wrong key)"
            ) from None
        return plain.decode("utf-8")

    def is_current(self, token: str) -> bool:
        """Whether the token was made with the current key (else re-encrypt it after rotation)."""
        return token.partition(":")[0] == self.key_id

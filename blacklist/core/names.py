"""Names of listed persons and organisations: what we store, and what we search by (DOMAIN.md §5).

Art. 6 of the 2017 provisions publishes the name, so the stored name is the name as the court typed
it, tidied only where typing habits differ: stray spaces ("张 三"), the many look-alikes of the
middle dot in minority names (阿依古丽·买买提). Traditional characters are kept as typed (records
from Hong Kong, Macao and Taiwan courts), and so are rare characters beyond the Basic Multilingual
Plane (𠮷): changing a person's name on a public list is not ours to do.

The search key is looser: a search for 张三 must find 張三, ＡＢＣ公司 must find ABC公司.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import opencc

from blacklist.core.errors import ValidationFailed

__all__ = ["MAX_NAME_LENGTH", "MIDDLE_DOT", "clean_name", "normalize_name"]

MAX_NAME_LENGTH = 100
MIDDLE_DOT = "\u00b7"

# Look-alikes of the middle dot typed by input methods and fonts: bullet, hyphenation point,
# katakana middle dot (full and half width), bullet operator, dot operator, Greek ano teleia,
# runic single punctuation, word separator middle dot.
_DOT_VARIANTS = "\u00b7\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387\u16eb\u2e31"
_DOTS = re.compile(f"[{_DOT_VARIANTS}]")
# Han ideographs in every block that holds them, incl. the supplementary planes (𠮷 is U+20BB7),
# the compatibility ideographs, and 〇 (U+3007), used in names.
_HAN = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003ffff"
)
# A full stop (ASCII or full width) between two Han characters is a middle dot typed wrongly.
_STOP_BETWEEN_HAN = re.compile(f"(?<=[{_HAN}]) ?[.\uff0e] ?(?=[{_HAN}])")
# A space between Han characters or a middle dot is a typing habit, not part of the name.
_SPACE_IN_HAN = re.compile(f"(?<=[{_HAN}{MIDDLE_DOT}]) (?=[{_HAN}{MIDDLE_DOT}])")
# Invisible characters that copy-and-paste drags along: dropped silently.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# Control, format (bidi overrides...) and lone surrogates. Private-use and unassigned code points
# are kept: old systems put rare name characters in the private-use area, and characters newer
# than Python's Unicode tables are unassigned to it.
_HIDDEN = frozenset({"Cc", "Cf", "Cs"})


def _unify_dots(text: str) -> str:
    return _STOP_BETWEEN_HAN.sub(MIDDLE_DOT, _DOTS.sub(MIDDLE_DOT, text))


def clean_name(raw: str, field: str = "name") -> str:
    """The name to store and display: NFC, whitespace tidied, one kind of middle dot.

    Inner whitespace (incl. U+3000) collapses to one space, and goes entirely between Han
    characters and around a middle dot (people type "张 三", "阿依古丽 · 买买提"); Latin names keep
    their spaces. Refuses an empty name, control characters, and more than 100 characters.
    """
    text = unicodedata.normalize("NFC", raw or "").translate(_INVISIBLE)
    text = " ".join(text.split())
    if any(unicodedata.category(c) in _HIDDEN for c in text):
        raise ValidationFailed.on(field, "姓名或名称中含有控制字符或不可见字符，请重新输入")
    text = _SPACE_IN_HAN.sub("", _unify_dots(text))
    if not text:
        raise ValidationFailed.on(field, "请填写姓名或名称")
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationFailed.on(field, f"姓名或名称不能超过{MAX_NAME_LENGTH}个字")
    return text


_converter: opencc.OpenCC | None = None
_converter_lock = threading.Lock()


def _to_simplified(text: str) -> str:
    """OpenCC t2s. The converter is built once; calls are serialised because the binding does not
    promise that one converter may be used from several threads at once."""
    global _converter
    with _converter_lock:
        if _converter is None:
            _converter = opencc.OpenCC("t2s")
        return _converter.convert(text)


def normalize_name(raw: str) -> str:
    """The search key of a name: ``normalize_name("張三") == normalize_name("张三")``.

    NFKC (full-width Latin and digits become ASCII), traditional to simplified (OpenCC ``t2s``),
    no whitespace, control or format characters at all, no middle dot, Latin case folded. The
    middle dot of minority names is left out because people type it in many ways or not at all:
    "阿依古丽买买提" finds "阿依古丽·买买提".
    Never raises: an empty or unusable input gives ``""``, which callers must not search for.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in _HIDDEN)
    text = unicodedata.normalize("NFKC", _to_simplified(text).casefold())
    return _unify_dots(text).replace(MIDDLE_DOT, "")

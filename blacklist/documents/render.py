"""Rendering a served document as PDF (fpdf2), from its register row only (DOMAIN.md §2 Art. 5).

The text comes from ``Document.content`` as frozen when the document was issued (title, number,
paragraphs, legal basis, date), never from the live listing, so a later correction cannot rewrite a
document already served. The font is Noto Serif CJK SC (SIL OFL 1.1) from the ``mplfonts`` package,
or the file named by the app config ``DOCUMENT_FONT_PATH``; fpdf2 embeds only the glyphs used
(subset), which also covers characters outside the Basic Multilingual Plane such as 𠮷.

Determinism: the PDF's creation date is the document's ``created_at`` and fpdf2 derives the file id
from the content, so rendering the same row twice gives identical bytes (a download can be compared
with another). That also makes the rendered bytes safe to cache: ``render_pdf`` keeps the last
``CACHE_SIZE`` PDFs per process, keyed by the digest of everything that goes into them.

Cost (measured on this machine with the 23 MB Noto Serif CJK SC): one render takes about 0.6–1.1 s,
almost all of it fontTools parsing the font's metrics and subsetting its CFF outlines for this
document's glyphs. fpdf2 subsets the parsed font in place, so a parsed font cannot be shared between
renders; a pre-subset "common characters" font was tried and takes 20+ s to build while saving only
~0.4 s per render, and loses rare characters. So the font path is resolved once, and whole PDFs are
cached: a repeated download (the usual case: the clerk, then the debtor, then the bank) costs
about 0.2 ms.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

FONT_FILE = "NotoSerifCJKsc-Regular.otf"
FONT_FAMILY = "notoserifcjk"
CACHE_SIZE = 64

_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = threading.Lock()


@cache
def default_font_path() -> Path:
    """The font shipped in the ``mplfonts`` package, located without importing it (its
    ``__init__`` imports matplotlib, which this app does not need)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mplfonts is not installed: set DOCUMENT_FONT_PATH to a CJK font")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: set DOCUMENT_FONT_PATH to a CJK font")
    return path


def configured_font_path() -> Path:
    """``DOCUMENT_FONT_PATH`` of the current app if set, else the packaged Noto Serif CJK SC."""
    from flask import current_app, has_app_context

    if has_app_context():
        configured = current_app.config.get("DOCUMENT_FONT_PATH")
        if configured:
            return Path(configured)
    return default_font_path()


def render_pdf(
    content: Mapping[str, Any],
    *,
    verification_code: str,
    created_at: datetime,
    font_path: Path | None = None,
) -> bytes:
    """The PDF of a document: ``content`` as issued, its verification code, and ``created_at`` as
    the PDF's creation date. Identical inputs give identical bytes (cached per process)."""
    font = Path(font_path) if font_path else configured_font_path()
    key = _cache_key(content, verification_code, created_at, font)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    pdf = _render(content, verification_code, created_at, font)
    with _cache_lock:
        _cache[key] = pdf
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return pdf


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _cache_key(content, code: str, created_at: datetime, font: Path) -> str:
    blob = json.dumps(
        [content, code, created_at.astimezone(UTC).isoformat(), str(font)],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Layout: A4, court name centred, title, number right-aligned, paragraphs, basis, date, seal


def _render(content: Mapping[str, Any], code: str, created_at: datetime, font: Path) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(left=28, top=30, right=26)
    pdf.set_auto_page_break(auto=True, margin=30)
    pdf.add_font(FONT_FAMILY, "", str(font))
    title = content["title"]
    court = content["court"]["name"]
    pdf.set_title(f"{title} {content['number']}")
    pdf.set_author(court)
    pdf.set_subject(content["number"])
    pdf.set_creator("blacklist")
    pdf.set_producer("blacklist (fpdf2)")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(created_at.astimezone(UTC))
    pdf.add_page()

    def line(text: str, size: float, align: Align, height: float, gap: float = 0) -> None:
        pdf.set_font(FONT_FAMILY, size=size)
        for row in wrap(text, pdf.epw, pdf.get_string_width):
            pdf.cell(0, height, row, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            pdf.ln(gap)

    line(court, 20, Align.C, 11)
    line(title, 22, Align.C, 13, gap=4)
    line(content["number"], 12, Align.R, 7, gap=6)
    for paragraph in content.get("paragraphs") or []:
        # Two ideographic spaces indent a paragraph, as court documents do.
        line("\u3000\u3000" + paragraph, 12.5, Align.L, 8)
    pdf.ln(4)
    line(f"法律依据：{content['legal_basis']}", 10.5, Align.L, 6.5, gap=10)
    if content.get("judge"):
        line(f"执行法官：{content['judge']}", 12.5, Align.R, 8)
    line(court, 12.5, Align.R, 8)
    line(content["issued_on_text"], 12.5, Align.R, 8)
    line("（院印）", 12.5, Align.R, 8, gap=10)

    verify = f"验证码：{code}"
    if content.get("verification_path"):
        verify += f"　查验网址：{content['verification_path']}（输入验证码即可查验本证明的真实性）"
    line(verify, 8.5, Align.L, 5)
    return bytes(pdf.output())


#: Chinese typesetting (禁则): these never begin a line, and these never end one.
NO_LINE_START = set("，。、；：？！）》」』】〕”’·…%,.;:?!)]")
NO_LINE_END = set("（《「『【〔“‘([")


def wrap(text: str, width: float, measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (``measure`` gives a string's width),
    character by character as Chinese is set, keeping closing punctuation off the start of a line
    and opening punctuation off its end (the last characters move down a line instead), and
    keeping runs of Latin letters and digits (case numbers, codes) together when they fit."""
    lines: list[str] = []
    current = ""
    for char in text:
        if not current or measure(current + char) <= width:
            current += char
            continue
        head, tail = current, char
        # A Latin/digit run moves down whole (a number is not split) if that leaves a line.
        run = len(head) - len(head.rstrip(_WORD_CHARS))
        if char in _WORD_CHARS and 0 < run < len(head) and run <= 24:
            head, tail = head[:-run], head[-run:] + char
        else:
            moved = 0
            while (
                moved < 2
                and len(head) > 1
                and (tail[0] in NO_LINE_START or head[-1] in NO_LINE_END)
            ):
                head, tail = head[:-1], head[-1] + tail
                moved += 1
        lines.append(head)
        current = tail
    if current:
        lines.append(current)
    return lines


_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_/."


def filename_of(content: Mapping[str, Any]) -> str:
    """``<title>-<number>.pdf`` with characters that break file names replaced."""
    name = f"{content['title']}-{content['number']}.pdf"
    return "".join("_" if c in '\\/:*?"<>|\r\n\t' else c for c in name)

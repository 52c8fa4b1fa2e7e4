"""Normalise caller text before matching: escape debris from work-order exports, full/half
width, traditional → simplified (OpenCC's native binding), repeated punctuation, and a
homophone-tolerant pinyin form for typo matching (拼音输入法 errors such as 违章见筑 → 违章建筑).

Most calls are written in simplified characters already: OpenCC runs only on text that has a
character its t2s tables rewrite (`_traditional`), so the usual call costs one set test."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import pinyin_dict

_CONVERTER = opencc.OpenCC("t2s")
# characters of t2s phrases made otherwise of characters t2s keeps (反覆 → 反复, 沈默 → 沉默,
# 一目瞭然, 藉口, 衹): read from OpenCC's TSPhrases table, whose binary form cannot be listed here
_PHRASE_ONLY = "沈瞭藉衹覆"
# Export debris seen in real 12345 work orders: literal escapes, Excel's _x000D_, HTML entities.
_DEBRIS = re.compile(r"_x[0-9A-Fa-f]{4}_|\\[nrt]|<br\s*/?>|&[a-zA-Z]+;|&#\d+;")
_SPACE = re.compile(r"\s+")
_REPEAT_PUNCT = re.compile(r"([!！?？。，,.~～、…—\-*#])\1+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _first_reading(code: int) -> str | None:
    readings = pinyin_dict.pinyin_dict.get(code)
    if not readings:
        return None
    syllable = readings.split(",")[0]
    # strip tone marks: IME typos share the toneless syllable
    return "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def syllable(ch: str) -> str:
    """Toneless pinyin of one character (its first reading); the character itself if not Han."""
    return _first_reading(ord(ch)) or ch


@lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """Every character t2s may rewrite: those its character table maps to another, found by
    converting each Han character once (some 30 ms, at the first call), and _PHRASE_ONLY."""
    han = (chr(c) for lo, hi in ((0x3400, 0xA000), (0xF900, 0xFB00)) for c in range(lo, hi))
    return frozenset(ch for ch in han if _CONVERTER.convert(ch) != ch) | frozenset(_PHRASE_ONLY)


def clean(text: str) -> str:
    """Remove debris and normalise width/space/punctuation, keeping the script as written."""
    text = html.unescape(_DEBRIS.sub(" ", text))
    text = _DEBRIS.sub(" ", text)  # entities that html.unescape turned into debris
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text).strip()
    return _REPEAT_PUNCT.sub(r"\1", text)


def normalize(text: str) -> str:
    """The matching form: cleaned, simplified Chinese, lower-case."""
    text = clean(text)
    if not _traditional().isdisjoint(text):
        text = _CONVERTER.convert(text)
    return text.lower()


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def pinyin_key(text: str) -> tuple[str, ...]:
    """Toneless syllables of the Han characters of `text` (other characters are dropped)."""
    return tuple(syllable(ch) for ch in text if _HAN.match(ch))


def compact(text: str) -> str:
    """Comparison key of a cell or a title: NFKC (full-width → half-width), no whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))

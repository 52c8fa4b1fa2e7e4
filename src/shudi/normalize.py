"""Normalise caller text before matching: escape debris from work-order exports, full/half
width, traditional → simplified (OpenCC), repeated punctuation, and a homophone-tolerant
pinyin form for typo matching (拼音输入法 errors such as 违章见筑 → 违章建筑)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import pinyin_dict

_CONVERTER = opencc.OpenCC("t2s")
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
    if _HAN.search(text):
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

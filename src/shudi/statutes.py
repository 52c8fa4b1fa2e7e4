"""Parse the vendored statute texts (kb/laws/<category>/TITLE(YYYY-MM-DD).md) into articles.

Article text served by shudi always comes from these files; nothing is typed by hand.
File layout (LawRefBook mirror): `# title`, history lines, `<!-- INFO END -->`, `## 第X章`
headings, then one article per paragraph starting `第N条` followed by its 款 and 项.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

_FILE_RE = re.compile(r"^(?P<title>.+)\((?P<date>\d{4}-\d{2}-\d{2})\)\.md$")
_ARTICLE_RE = re.compile(r"^第([零〇一二三四五六七八九十百千]+)条(?:之([一二三四五六七八九十]+))?(?:[\s\u3000]+|$)")
_ITEM_RE = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral such as 七十七 or 一百零二 to an int."""
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    value = total + current
    # strict: only the canonical spelling of the value (七七, 十十, 十百 are not numerals)
    canon = text.replace("〇", "零").replace("两", "二")
    short = int_to_cn(value) if value > 0 else ""
    if not short or canon not in (short, "一" + short if short.startswith("十") else short):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    return value


def int_to_cn(n: int) -> str:
    """Render 77 as 七十七, 102 as 一百零二 (the form used in article headings)."""
    if n <= 0:
        raise ValueError("article numbers start at 1")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            parts.append(digits[q] + unit)
        elif parts and n:
            if parts[-1] != "零":
                parts.append("零")
    if n:
        parts.append(digits[n])
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


@dataclass
class Paragraph:
    """One 款 of an article, with its 项 (items) if any."""

    text: str
    items: list[str] = field(default_factory=list)

    @property
    def full_text(self) -> str:
        return "\n".join([self.text, *self.items]) if self.text else "\n".join(self.items)


@dataclass
class Article:
    number: int
    suffix: int  # 第N条之M → M; 0 otherwise
    chapter: str
    paragraphs: list[Paragraph]

    @property
    def label(self) -> str:
        base = f"第{int_to_cn(self.number)}条"
        return base + (f"之{int_to_cn(self.suffix)}" if self.suffix else "")

    @property
    def key(self) -> str:
        return f"{self.number}" + (f"-{self.suffix}" if self.suffix else "")

    @property
    def text(self) -> str:
        return "\n".join(p.full_text for p in self.paragraphs)

    def paragraph(self, n: int) -> Paragraph | None:
        return self.paragraphs[n - 1] if 1 <= n <= len(self.paragraphs) else None


@dataclass
class StatuteText:
    title: str  # short title from the file name, e.g. 土地管理法
    full_title: str  # e.g. 中华人民共和国土地管理法
    version: date
    path: Path
    history: list[str]
    articles: dict[str, Article]

    def article(self, number: int, suffix: int = 0) -> Article | None:
        return self.articles.get(f"{number}" + (f"-{suffix}" if suffix else ""))


class StatuteFormatError(ValueError):
    pass


def parse_file_name(path: Path) -> tuple[str, date]:
    m = _FILE_RE.match(path.name)
    if not m:
        raise StatuteFormatError(f"{path}: file name is not TITLE(YYYY-MM-DD).md")
    return m.group("title"), date.fromisoformat(m.group("date"))


def parse_statute(path: Path) -> StatuteText:
    title, version = parse_file_name(path)
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    full_title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), title)
    try:
        body_start = lines.index("<!-- INFO END -->")
    except ValueError as exc:
        raise StatuteFormatError(f"{path}: missing '<!-- INFO END -->' marker") from exc
    history = [ln for ln in lines[1:body_start] if ln and not ln.startswith("#")]

    articles: dict[str, Article] = {}
    chapter = ""
    current: Article | None = None
    last_number = 0
    for ln in lines[body_start + 1 :]:
        if not ln:
            continue
        if ln.startswith("#"):
            heading = ln.lstrip("#").strip()
            if ln.startswith("## "):
                chapter = heading
            current = None if heading else current
            continue
        m = _ARTICLE_RE.match(ln)
        if m:
            number = cn_to_int(m.group(1))
            suffix = cn_to_int(m.group(2)) if m.group(2) else 0
            # A paragraph that merely starts by quoting another article is not a new article:
            # real headings number upwards.
            if number > last_number or (number == last_number and suffix):
                current = Article(number, suffix, chapter, [Paragraph(ln[m.end():].strip())])
                articles[current.key] = current
                last_number = number
                continue
        if current is None:
            continue  # preamble text before the first article
        if _ITEM_RE.match(ln) and current.paragraphs:
            current.paragraphs[-1].items.append(ln)
        else:
            current.paragraphs.append(Paragraph(ln))
    if not articles:
        raise StatuteFormatError(f"{path}: no articles (第N条) found")
    return StatuteText(title, full_title, version, path, history, articles)

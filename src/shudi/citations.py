"""Citations as counties write them (《中华人民共和国土地管理法》第七十七条第一款, 《土地管理法》第77条
第1款, several per cell) → CitationSrc, checked against the vendored statute texts.  Not about Excel:
the law book's reader of citation text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .lawbook import Lawbook
from .model import Citation
from .source import CitationSrc
from .normalize import compact
from .statutes import cn_to_int, int_to_cn

SEPS = "、，,；;。"

_NUM = r"(?:[0-9０-９]+|[零〇一二三四五六七八九十百千两]+)"


def _numeral_ok(group: str) -> bool:
    """Every number in a matched reference (a list such as 77、78 included) reads strictly."""
    try:
        for part in re.split(r"\s*[、,，]\s*", group):
            article_number(part)
    except NumeralError:
        return False
    return True


class NumeralError(ValueError):
    """An article, paragraph or clause number that is not a numeral as statutes write them."""


def article_number(text: str) -> int:
    """第七十七条 → 77, 第77条 → 77, strictly: 七七 or 十十 are refused (NumeralError), not read
    as 7 or 20 — a citation to the wrong article is worse than one reported as unreadable
    (finding 14 of issue 17).  〇 and 两 are read as 零 and 二, 一十 as 十."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t.isdigit():
        if int(t) <= 0 or t.startswith("0"):
            raise NumeralError(text)
        return int(t)
    canon = t.replace("〇", "零").replace("两", "二")
    try:
        n = cn_to_int(canon)
    except ValueError:
        raise NumeralError(text) from None
    if n <= 0:
        raise NumeralError(text)
    written = int_to_cn(n)
    if canon not in (written, "一" + written if written.startswith("十") else written):
        raise NumeralError(text)
    return n


def title_key(title: str) -> str:
    k = re.sub(r"[《》〈〉<>“”\"'‘’]", "", compact(title))
    k = re.sub(r"^中华人民共和国", "", k)
    return k


_VERSION_DATE = re.compile(r"^(\d{4})[-年.](\d{1,2})[-月.](\d{1,2})日?")
_VERSION_YEAR = re.compile(r"^(\d{4})年?(?:修正|修订|修改|版|版本|公布|施行|发布)?(?:版|本)?$")


@dataclass
class _Pending:
    article: int
    suffix: int = 0
    paragraph: int | None = None
    clause: int | None = None


_REF_PATTERNS = [
    ("artlist", re.compile(rf"第\s*({_NUM}(?:\s*[、,，]\s*{_NUM})+)\s*条")),
    ("art", re.compile(rf"第\s*({_NUM})\s*条(?:\s*之\s*({_NUM}))?")),
    ("para", re.compile(rf"第\s*({_NUM})\s*款")),
    ("clause", re.compile(rf"第?\s*[（(]\s*({_NUM})\s*[）)]\s*项?|第\s*({_NUM})\s*项")),
    ("colon", re.compile(r"[：:].*", re.S)),
    ("sep", re.compile(r"(?:以及|[、，,；;及和与或。.\s])+")),
]


class CitationParser:
    """Citations as written in the list (《中华人民共和国土地管理法》第七十七条, 《土地管理法》第77条
    第1款, 《消防法》第六十条第一款第（三）项, several per cell) → CitationSrc, checked against the
    vendored statute texts."""

    def __init__(self, lawbook: Lawbook) -> None:
        self.lawbook = lawbook
        self.titles: dict[str, str] = {}
        bare: set[str] = set()
        for law in lawbook.laws.values():
            self.titles[title_key(law.title)] = law.id
            bare |= {law.title, "中华人民共和国" + law.title}
            for v in lawbook.versions.get(law.id, []):
                self.titles.setdefault(title_key(v.full_title), law.id)
                bare.add(v.full_title)
        names = sorted((b for b in bare if "《" not in b), key=len, reverse=True)
        self.bare_re = re.compile("|".join(map(re.escape, names))) if names else None

    # -- tokenizing -------------------------------------------------------------------------
    def _tokens(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                out.extend(self._bare_titles("".join(buf)))
                buf.clear()

        i = 0
        while i < len(text):
            ch = text[i]
            if ch in "《〈":
                j = _close(text, i, "《〈", "》〉")
                if j is None:
                    flush()
                    out.append(("title", text[i + 1:]))
                    break
                flush()
                out.append(("title", text[i + 1:j]))
                i = j + 1
                continue
            if ch in "（(":
                j = _close(text, i, "（(", "）)")
                if j is not None:
                    inner = text[i + 1:j].strip()
                    if re.fullmatch(_NUM, inner):
                        buf.append(f"({inner})")
                    else:
                        flush()
                        out.append(("paren", inner))
                    i = j + 1
                    continue
            buf.append(ch)
            i += 1
        flush()
        return out

    def _bare_titles(self, text: str) -> list[tuple[str, str]]:
        """Titles written without 《》 inside plain text."""
        if self.bare_re is None:
            return [("text", text)]
        out: list[tuple[str, str]] = []
        pos = 0
        for m in self.bare_re.finditer(text):
            if m.start() > pos:
                out.append(("text", text[pos:m.start()]))
            out.append(("title", m.group(0)))
            pos = m.end()
        if pos < len(text):
            out.append(("text", text[pos:]))
        return out

    # -- resolution -------------------------------------------------------------------------
    def law_of(self, title: str) -> tuple[str | None, str | None]:
        """(law id, version hint in the title such as '2019年修正')."""
        k = title_key(title)
        hint = None
        m = re.search(r"\(([^()]*\d{4}[^()]*)\)$", k)
        if m:
            hint, k = m.group(1), k[: m.start()]
        return self.titles.get(k), hint

    def _version(self, law_id: str, hint: str) -> tuple[date | None, str | None]:
        versions = self.lawbook.versions.get(law_id, [])
        h = compact(hint)
        m = _VERSION_DATE.match(h)
        if m:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if any(v.version == d for v in versions):
                return d, None
            have = "、".join(v.version.isoformat() for v in versions) or "无"
            return None, f"没有 {d.isoformat()} 版本的文本(已收录:{have})"
        m = _VERSION_YEAR.match(h)
        if m:
            year = int(m.group(1))
            found = [v.version for v in versions if v.version.year == year]
            if len(found) == 1:
                return found[0], None
            have = "、".join(v.version.isoformat() for v in versions) or "无"
            return None, f"没有 {year} 年版本的文本(已收录:{have})"
        return None, ""  # not a version: a note

    def check(self, c: CitationSrc) -> tuple[CitationSrc | None, str | None, str | None]:
        """(citation, error, warning) — Chinese messages; infers the 款 of a 项 written without it."""
        law = self.lawbook.laws[c.law]
        versions = self.lawbook.versions.get(c.law)
        if not versions:
            return None, f"《{law.title}》没有收录法规文本(kb/laws 中缺少该法规文件)", None
        text = versions[-1] if c.version is None else next((v for v in versions if v.version == c.version), None)
        if text is None:
            return None, f"《{law.title}》没有 {c.version} 版本的文本", None
        art = text.article(c.article, c.article_suffix)
        label = f"第{int_to_cn(c.article)}条" + (f"之{int_to_cn(c.article_suffix)}" if c.article_suffix else "")
        if art is None:
            last = max((a.number for a in text.articles.values()), default=0)
            return None, f"《{text.full_title}》没有{label}(共{int_to_cn(last)}条)", None
        warning = None
        if c.clause is not None and c.paragraph is None:
            fits = [n for n, p in enumerate(art.paragraphs, 1) if len(p.items) >= c.clause]
            if len(fits) != 1:
                return None, f"《{text.full_title}》{label}:写明“项”时须写明所在的“款”", None
            c = c.model_copy(update={"paragraph": fits[0]})
            warning = f"《{text.full_title}》{label}第（{int_to_cn(c.clause)}）项未写明款,按第{int_to_cn(fits[0])}款理解"
        if c.paragraph is not None:
            para = art.paragraph(c.paragraph)
            if para is None:
                return None, f"《{text.full_title}》{label}没有第{int_to_cn(c.paragraph)}款(该条共{len(art.paragraphs)}款)", None
            if c.clause is not None and not 1 <= c.clause <= len(para.items):
                return None, (
                    f"《{text.full_title}》{label}第{int_to_cn(c.paragraph)}款没有第（{int_to_cn(c.clause)}）项"
                    f"(该款共{len(para.items)}项)"
                ), None
        resolved = self.lawbook.resolve(c)
        if isinstance(resolved, str):
            return None, f"引用无法解析:{resolved}", None
        return c, None, warning

    def parse(self, text: str) -> tuple[list[CitationSrc], list[str], list[str]]:
        """Citations in a cell → (citations, errors, warnings)."""
        cites: list[CitationSrc] = []
        errors: list[str] = []
        warnings: list[str] = []
        st = _ParseState()

        def flush() -> None:
            if st.pending is None:
                return
            p, st.pending, st.last = st.pending, None, st.pending
            st.last_index = None
            if st.law is None:
                return
            src = CitationSrc(law=st.law, article=p.article, article_suffix=p.suffix,
                              paragraph=p.paragraph, clause=p.clause, version=st.version)
            checked, err, warn = self.check(src)
            if err:
                errors.append(err)
            if warn:
                warnings.append(warn)
            if checked is not None:
                cites.append(checked)
                st.last_index = len(cites) - 1

        def end_title() -> None:
            flush()
            if st.title_seen and not st.had_article and st.law is not None:
                errors.append(f"《{st.law_label}》未写明具体条款(须引用到“条”)")

        for kind, value in self._tokens(text):
            if kind == "title":
                end_title()
                st.title_seen, st.had_article, st.after_title = True, False, True
                st.last = st.last_index = None
                st.law_label = value.strip()
                st.law, hint = self.law_of(value)
                st.version = None
                if st.law is None:
                    errors.append(f"未知的法律法规《{st.law_label}》(不在 kb/laws/registry.yaml 中)")
                elif hint:
                    st.version, err = self._version(st.law, hint)
                    if err:
                        errors.append(f"《{st.law_label}》{err}")
                        st.law = None
                continue
            if kind == "paren":
                if st.after_title and st.law is not None:
                    v, err = self._version(st.law, value)
                    if v is not None or err:
                        st.after_title = False
                        if err:
                            errors.append(f"《{st.law_label}》{err}")
                            st.law = None
                        st.version = v
                        continue
                st.after_title = False
                flush()
                if st.last_index is not None:  # a note to the citation just read
                    c = cites[st.last_index]
                    cites[st.last_index] = c.model_copy(update={"note": f"{c.note};{value}" if c.note else value})
                elif st.last is None and st.law is not None:
                    warnings.append(f"无法识别的括注「{value}」,已忽略")
                continue
            # plain text: article references
            st.after_title = False
            pos = 0
            junk: list[str] = []
            while pos < len(value):
                for name, pat in _REF_PATTERNS:
                    m = pat.match(value, pos)
                    if m:
                        break
                else:
                    junk.append(value[pos])
                    pos += 1
                    continue
                pos = m.end()
                if name == "sep":
                    junk.append(" ")
                    continue
                if name == "colon":
                    excerpt = m.group(0)[1:].strip()
                    if excerpt:
                        warnings.append(f"依据中的条文摘录「{excerpt[:20]}…」未导入(条文以收录的法规原文为准)")
                    break
                bad = [g for g in m.groups() if g and not _numeral_ok(g)]
                if bad:
                    errors.append(f"「{m.group(0).strip()}」中的序号「{bad[0]}」不是规范的数字(应写作如“第七十七条”或“第77条”)")
                    st.had_article = True
                    continue
                if not st.title_seen:
                    errors.append(f"「{m.group(0)}」前未写明法律法规名称")
                    st.title_seen = True
                    st.had_article = True
                    continue
                if name in ("art", "artlist"):
                    st.had_article = True
                if name == "artlist":
                    flush()
                    for n in re.split(r"\s*[、,，]\s*", m.group(1)):
                        st.pending = _Pending(article_number(n))
                        flush()
                elif name == "art":
                    flush()
                    st.pending = _Pending(article_number(m.group(1)), article_number(m.group(2)) if m.group(2) else 0)
                elif name == "para":
                    base = st.pending or st.last
                    if base is None:
                        errors.append(f"「{m.group(0)}」前未写明条")
                        continue
                    if st.pending is not None and st.pending.paragraph is None and st.pending.clause is None:
                        st.pending.paragraph = article_number(m.group(1))
                    else:
                        flush()
                        st.pending = _Pending(base.article, base.suffix, article_number(m.group(1)))
                elif name == "clause":
                    n = article_number(m.group(1) or m.group(2))
                    base = st.pending or st.last
                    if base is None:
                        errors.append(f"「{m.group(0)}」前未写明条")
                        continue
                    if st.pending is not None and st.pending.clause is None:
                        st.pending.clause = n
                    else:
                        flush()
                        st.pending = _Pending(base.article, base.suffix, base.paragraph, n)
            leftover = re.sub(r"\s+", " ", "".join(junk)).strip(" " + SEPS)
            if leftover and not re.fullmatch(r"(等|等有关规定|有关规定|相关规定|规定|的规定|依据|根据)+", leftover.replace(" ", "")):
                warnings.append(f"依据中无法识别的文字「{leftover}」,已忽略")
        end_title()
        if not cites and not errors and text.strip():
            errors.append("未能识别出法律依据(应写作《法律法规名称》第X条)")
        return cites, errors, warnings


@dataclass
class _ParseState:
    law: str | None = None
    law_label: str = ""
    version: date | None = None
    pending: _Pending | None = None
    last: _Pending | None = None  # the reference read last (款/项 continue it)
    last_index: int | None = None  # its citation, when it resolved
    title_seen: bool = False
    had_article: bool = True
    after_title: bool = False


def _close(text: str, i: int, opens: str, closes: str) -> int | None:
    depth = 0
    for j in range(i, len(text)):
        if text[j] in opens:
            depth += 1
        elif text[j] in closes:
            depth -= 1
            if depth == 0:
                return j
    return None


def citation_label(c: Citation, lawbook: Lawbook) -> str:
    """《全称》第X条第X款第（X）项, with the version when it is not the current text, and the note."""
    current = lawbook.current(c.law_id)
    rest = c.label[len(c.law_title) + 2:]  # after 《全称》
    version = f"（{c.version.isoformat()}）" if current is not None and current.version != c.version else ""
    note = f"（{c.note}）" if c.note else ""
    return f"《{c.law_title}》{version}{rest}{note}"

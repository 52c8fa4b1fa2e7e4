"""Department names as counties write them, domains and item types."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ..source import DOMAINS, DepartmentsFile
from .grid import DOMAIN_SYNONYMS
from .text import DOMAIN_PREFIX, SEPS, compact

def _name_variants(name: str) -> set[str]:
    k = compact(name)
    out = {k}
    bare = re.sub(r"\([^)]*\)", "", k)
    out.add(bare)
    for inner in re.findall(r"\(([^)]*)\)", k):
        if len(inner) >= 3:
            out.add(inner)
    out.add(k.replace("(", "").replace(")", ""))
    for v in list(out):
        if v.startswith(("县", "市")) and len(v) > 3:
            out.add(v[1:])
        elif not v.startswith(("县", "市", "乡", "镇", "村", "街")):
            out.add("县" + v)
    return {v for v in out if len(v) >= 2}


_DUTY_START = re.compile(r"^(负责|对|依法|配合|协助|承担|做好|组织|牵头|及时|督促|参与|指导|开展|落实|按照|按|发现|加强|统筹)")


class PartyMatcher:
    """Department names as people write them → department ids of kb/departments.yaml."""

    def __init__(self, departments: DepartmentsFile) -> None:
        self.exact: dict[str, str] = {}
        self.names: dict[str, str] = {}
        entries: list[tuple[str, str, list[str]]] = []
        for d in departments.departments:
            entries.append((d.id, d.name, d.alt))
            for a in d.agencies:
                entries.append((a.id, a.name, a.alt))
        for pid, name, _ in entries:  # official names win over alternative names
            self.names[pid] = name
            for v in _name_variants(name):
                self.exact.setdefault(v, pid)
        for pid, _, alts in entries:
            for alt in alts:
                for v in _name_variants(alt):
                    self.exact.setdefault(v, pid)
        self.choices = sorted(self.exact)
        self.prefixes = sorted(self.exact, key=len, reverse=True)

    def match(self, text: str) -> str | None:
        k = compact(text).strip(SEPS + ".")
        if not k:
            return None
        cands = [k, re.sub(r"等$", "", k), re.sub(r"^(各|有关|相关)", "", k)]
        cands.append(re.sub(r"\([^)]*\)$", "", cands[-1]))
        for c in cands:
            if c in self.exact:
                return self.exact[c]
        best = process.extractOne(k, self.choices, scorer=fuzz.ratio, score_cutoff=85)
        return self.exact[best[0]] if best else None

    def suggest(self, text: str) -> str | None:
        best = process.extractOne(compact(text), self.choices, scorer=fuzz.ratio, score_cutoff=60)
        return self.names[self.exact[best[0]]] if best else None

    def prefix(self, line: str) -> tuple[str, str] | None:
        """'县自然资源局负责……' → (party id, '负责……')."""
        norm = unicodedata.normalize("NFKC", line)
        if len(norm) != len(line):
            norm = line
        for p in self.prefixes:
            if norm.startswith(p) and len(norm) - len(p) >= 2 and _DUTY_START.match(norm[len(p):]):
                return self.exact[p], line[len(p):].strip()
        return None


@dataclass
class PartyRef:
    party: str
    duties: str | None
    raw: str


_NAME_COLON = re.compile(r"^([^：:，,、；;。\n]{1,30}?)[：:](.*)$", re.S)


def parse_parties(text: str, matcher: PartyMatcher) -> tuple[list[PartyRef], list[str]]:
    """Parties listed in a 主体责任/配合责任 cell: names separated by 、，,；; or line breaks, or
    one 'name:duties' per line.  Returns the parties and Chinese error messages."""
    out: list[PartyRef] = []
    errors: list[str] = []
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        m = _NAME_COLON.match(line)
        if m and matcher.match(m.group(1)):
            # 'A:duties;B:duties' on one line: split only where a known name and a colon follow ;
            cuts = [(m.start(), m.end()) for m in re.finditer(r"[；;]\s*(?=([^：:，,、；;。\n]{1,30})[：:])", line)
                    if matcher.match(m.group(1))]
            starts = [0] + [e for _, e in cuts]
            ends = [s for s, _ in cuts] + [len(line)]
            for a, b in zip(starts, ends):
                pm = _NAME_COLON.match(line[a:b])
                assert pm is not None
                out.append(PartyRef(matcher.match(pm.group(1)) or "", pm.group(2).strip(), pm.group(1)))
            continue
        pre = matcher.prefix(line)
        if pre:
            out.append(PartyRef(pre[0], pre[1], line))
            continue
        for piece in re.split(r"[、，,；;]+", line):
            piece = piece.strip(" 。.")
            if not piece:
                continue
            pid = matcher.match(piece)
            if pid:
                out.append(PartyRef(pid, None, piece))
                continue
            guess = matcher.suggest(piece)
            errors.append(f"无法识别的单位「{piece}」" + (f"(最接近的是{guess},请核对)" if guess else ""))
    seen: set[str] = set()
    unique = []
    for p in out:
        if p.party in seen:
            errors.append(f"单位「{p.raw}」重复列出")
            continue
        seen.add(p.party)
        unique.append(p)
    return unique, errors

class DomainMatcher:
    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        for did, label in DOMAINS.items():
            self.exact[compact(label)] = did
            self.exact[did] = did
            self.exact[DOMAIN_PREFIX[did]] = did
            for s in DOMAIN_SYNONYMS[did]:
                self.exact.setdefault(compact(s), did)
        self.choices = list(self.exact)

    @staticmethod
    def _strip(text: str) -> str:
        k = compact(text)
        k = re.sub(r"^(第?[一二三四五六七八九十]+[、.．]|\d+[、.．]|\([一二三四五六七八九十\d]+\))", "", k)
        k = re.sub(r"(领域|类|方面|事项|清单)+$", "", k)
        return k

    def match(self, text: str) -> str | None:
        k = self._strip(text)
        if not k:
            return None
        if k in self.exact:
            return self.exact[k]
        best = process.extractOne(k, self.choices, scorer=fuzz.ratio, score_cutoff=80)
        return self.exact[best[0]] if best else None


_TYPE_WORDS = (("处罚", "行政处罚"), ("检查", "行政检查"), ("强制", "行政强制"), ("其他", "其他"), ("其它", "其他"))


def map_item_type(text: str) -> str | None:
    k = compact(text)
    for word, t in _TYPE_WORDS:
        if word in k:
            return t
    return None

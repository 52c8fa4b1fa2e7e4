"""Which baseline (or county) item a row is: by the editor's confirmation, the id, the exact name,
else by meaning.

Counties write the matters in their own words (对非法占用土地行为的查处 is the baseline's
非法占用土地, 违法采砂 is 非法采砂).  A row is scored against every item on four signals — the
name against the item's names and alternative names (rapidfuzz on the name stripped of
对…行为的查处), what the classifier makes of the row's name and duty texts (the same engine that
reads citizens' calls), the articles both cite, and the primary party — and given the best item
still free (rows in order of confidence, so one row per item).  Below MAP_AT the row is a new
matter; between MAP_AT and SURE_AT it is mapped and flagged for the editor to confirm in the
review column (核对事项编码) of the report workbook, which a re-import honours."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from ..source import DOMAINS
from .context import Context, Entry, Row
from .text import DOMAIN_PREFIX, ID_RE, compact

# text → [(item id, score 0..1)], best first: Engine.classify as a function (None: not used)
Classify = Callable[[str], list[tuple[str, float]]]

MAP_AT = 0.5  # below: a new matter
SURE_AT = 0.72  # below: mapped, but the editor is asked to confirm
NEW_WORDS = {"新增", "新", "new", "无", "none", "-"}  # in the review column: "this row is a new matter"


def name_key(name: str) -> str:
    """The matter itself: 对非法占用土地行为的查处 → 非法占用土地."""
    k = re.sub(r"[,，、。.;；:：“”\"'《》()（）\[\]【】]", "", compact(name))
    k = re.sub(r"^(对|关于|依法)", "", k)
    prev = None
    while prev != k and len(k) > 3:
        prev = k
        k = re.sub(r"(的)?(行政)?(处罚|查处|监督检查|监督管理|监管|检查|管理|整治|行为|问题|事项|工作)$", "", k)
    return k


class ItemIndex:
    def __init__(self, ctx: Context) -> None:
        self.entries: dict[str, Entry] = {**ctx.baseline, **ctx.county_items}
        self.exact: dict[str, str] = {}
        for iid, e in self.entries.items():
            self.exact.setdefault(compact(e.item.name), iid)
        for iid, e in self.entries.items():
            for alt in e.item.alt_names:
                self.exact.setdefault(compact(alt), iid)
        self.keys: dict[str, list[str]] = {
            iid: sorted({name_key(n) for n in (e.item.name, *e.item.alt_names, *_parts(e.item.name))} - {""})
            for iid, e in self.entries.items()
        }
        self.cites: dict[str, set[tuple[str, int]]] = {
            iid: {(c.law, c.article) for c in (*e.item.citations, *(c for s in e.item.scenarios for c in s.citations))}
            for iid, e in self.entries.items()
        }

    def exact_match(self, name: str) -> tuple[str | None, str | None]:
        k = compact(name)
        if k in self.exact:
            iid = self.exact[k]
            return iid, "name" if compact(self.entries[iid].item.name) == k else "alt-name"
        return None, None

    def name_score(self, name: str, iid: str) -> float:
        k = name_key(name)
        best = 0.0
        for other in self.keys[iid]:
            if not other or not k:
                continue
            s = fuzz.ratio(k, other)
            if min(len(k), len(other)) >= 3:
                # one name inside the other (违法采砂 / 河道非法采砂), weighed by how much of the
                # longer name it covers
                cover = min(len(k), len(other)) / max(len(k), len(other))
                s = max(s, fuzz.partial_ratio(k, other) * (0.75 + 0.25 * cover))
            best = max(best, s)
        return best / 100


def _parts(name: str) -> list[str]:
    """The pieces of a compound baseline name: 建筑垃圾与渣土(渣土车撒漏、乱倒建筑垃圾) → 建筑垃圾, 渣土, …"""
    return [p for p in re.split(r"[与和及、()（）,，]", name) if len(p) >= 2]


@dataclass
class _Scored:
    row: Row
    ranked: list[tuple[float, str]]  # (confidence, item id), best first


def _score(row: Row, index: ItemIndex, classify: Classify | None) -> list[tuple[float, str]]:
    meaning: dict[str, float] = {}
    if classify is not None:
        text = " ".join(x for x in (row.name, row.values.get("county_duties", "")[:200], row.values.get("township_duties", "")[:120]) if x)
        meaning = dict(classify(text))
    cites = {(c.law, c.article) for c in row.citations or []}
    primary = {p.party for p in row.primary or []}
    out: list[tuple[float, str]] = []
    for iid, e in index.entries.items():
        name = index.name_score(row.name, iid)
        clf = meaning.get(iid, 0.0)
        parts = [(0.6 if classify is not None else 0.85, name), (0.4 if classify is not None else 0.0, min(1.0, clf / 0.75))]
        score = sum(w * s for w, s in parts)
        if cites and index.cites[iid]:
            overlap = len(cites & index.cites[iid]) / len(cites | index.cites[iid])
            score += 0.15 * overlap
        if primary and {p.party for p in e.item.primary} & primary:
            score += 0.05
        if row.domain is not None and row.domain != e.domain:
            score *= 0.85
        out.append((round(min(score, 1.0), 3), iid))
    out.sort(reverse=True)
    return out[:5]


def _new_id(row: Row, taken: set[str], counters: dict[str, int]) -> str:
    assert row.domain is not None
    prefix = DOMAIN_PREFIX[row.domain]
    n = counters.get(prefix, 0)
    while True:
        n += 1
        candidate = f"{prefix}.x-{n}"
        if candidate not in taken:
            counters[prefix] = n
            return candidate


def _bind(row: Row, entry: Entry, by: str, confidence: float) -> None:
    row.entry, row.item_id, row.matched_by, row.confidence = entry, entry.item.id, by, confidence
    if row.domain and row.domain != entry.domain and entry.origin == "baseline":
        row.issue("warning", "domain", f"基线清单中该事项属于“{DOMAINS[entry.domain]}”领域,按基线领域保留")
    if row.domain is None or entry.origin == "baseline":
        row.domain = entry.domain


def match_rows(rows: list[Row], ctx: Context, classify: Classify | None = None) -> None:
    """Give each row its item (row.entry, row.item_id, row.matched_by, row.confidence), or a new id."""
    index = ItemIndex(ctx)
    claimed: dict[str, Row] = {}
    taken = set(ctx.baseline) | set(ctx.county_items)
    counters: dict[str, int] = {}
    pending: list[Row] = []
    new_rows: list[Row] = []

    def claim(row: Row, iid: str, by: str, confidence: float) -> bool:
        if iid in claimed:
            other = claimed[iid]
            row.issue("error", "name", f"与第{other.row}行是同一事项「{index.entries[iid].item.name}」({iid}),重复列出")
            return False
        claimed[iid] = row
        _bind(row, index.entries[iid], by, confidence)
        return True

    # 1. what the row says for itself: the editor's confirmation, the id, the exact name
    for row in rows:
        if not row.name:
            continue
        review = row.values.get("review", "").strip()
        given = row.values.get("id", "").strip()
        if review:
            if review.lower() in NEW_WORDS:
                row.matched_by, row.confidence = "review", 1.0
                new_rows.append(row)
                continue
            if review in index.entries:
                claim(row, review, "review", 1.0)
                continue
            row.issue("error", "review", f"核对事项编码「{review}」不是已有事项的编码(填写基线事项编码,或“新增”表示新事项)")
            continue
        if given:
            if given in index.entries:
                claim(row, given, "id", 1.0)
                continue
            if ID_RE.match(given):
                if given in claimed or given in taken:
                    row.issue("error", "id", f"事项编码「{given}」重复")
                else:
                    row.item_id, row.matched_by, row.confidence = given, "id", 1.0
                    claimed[given] = row
                continue
            row.issue("warning", "id", f"事项编码「{given}」格式不正确,已按事项名称匹配或重新编号")
        iid, by = index.exact_match(row.name)
        if iid is not None:
            claim(row, iid, by or "name", 1.0 if by == "name" else 0.98)
            continue
        pending.append(row)
    # 2. by meaning: the surest rows choose first, each item once
    scored = [_Scored(r, _score(r, index, classify)) for r in pending]
    scored.sort(key=lambda s: -(s.ranked[0][0] if s.ranked else 0.0))
    for s in scored:
        row = s.row
        choice = next(((c, iid) for c, iid in s.ranked if iid not in claimed and c >= MAP_AT), None)
        if choice is None:
            best = s.ranked[0] if s.ranked else None
            row.confidence = round(1 - best[0], 3) if best else 1.0
            if best and best[0] >= MAP_AT * 0.7:
                row.issue("warning", "name", f"未能确定对应的基线事项,按新增事项处理;最接近的是「{index.entries[best[1]].item.name}」"
                                             f"({best[1]},相似度 {best[0]:.2f}),如是同一事项请在“核对事项编码”列填写其编码")
            new_rows.append(row)
            continue
        confidence, iid = choice
        claim(row, iid, "meaning", confidence)
        if confidence < SURE_AT:
            row.issue("warning", "name", f"按含义匹配到基线事项「{index.entries[iid].item.name}」({iid},相似度 {confidence:.2f}),"
                                         "请在“核对事项编码”列确认或更正")
    # 3. new matters get ids of their own
    for row in new_rows:
        if row.domain is None:
            if not row.failed:
                row.issue("error", "domain" if "domain" in row.cols else "name", "新增事项无法确定领域(请填写领域列)")
            continue
        row.item_id = _new_id(row, taken | set(claimed), counters)
        claimed[row.item_id] = row

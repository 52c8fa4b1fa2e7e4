"""Which baseline (or county) item a row is."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from ..source import DOMAINS
from .context import Context, Entry, Row
from .text import DOMAIN_PREFIX, ID_RE, compact

def name_key(name: str) -> str:
    k = re.sub(r"[,，、。.;；:：“”\"'《》()（）\[\]【】]", "", compact(name))
    k = re.sub(r"^(对|关于)", "", k)
    prev = None
    while prev != k and len(k) > 3:
        prev = k
        k = re.sub(r"(的)?(行政)?(处罚|查处|监督检查|检查|行为|问题|事项)$", "", k)
    return k


class ItemIndex:
    def __init__(self, ctx: Context) -> None:
        self.entries: dict[str, Entry] = {**ctx.baseline, **ctx.county_items}
        self.exact: dict[str, str] = {}
        self.loose: dict[str, str] = {}
        for iid, e in self.entries.items():
            self.exact.setdefault(compact(e.item.name), iid)
        for iid, e in self.entries.items():
            for alt in e.item.alt_names:
                self.exact.setdefault(compact(alt), iid)
        for iid, e in self.entries.items():
            for n in (e.item.name, *e.item.alt_names):
                self.loose.setdefault(name_key(n), iid)
        self.choices = list(self.loose)

    def match(self, name: str) -> tuple[str | None, str | None]:
        k = compact(name)
        if k in self.exact:
            iid = self.exact[k]
            return iid, "name" if compact(self.entries[iid].item.name) == k else "alt-name"
        nk = name_key(name)
        if nk in self.loose:
            return self.loose[nk], "name"
        best = process.extractOne(nk, self.choices, scorer=fuzz.ratio, score_cutoff=88)
        if best:
            return self.loose[best[0]], "fuzzy"
        return None, None

def match_rows(rows: list[Row], ctx: Context) -> None:
    index = ItemIndex(ctx)
    claimed: dict[str, Row] = {}
    taken = set(ctx.baseline) | set(ctx.county_items)
    counters: dict[str, int] = {}
    for row in rows:
        if not row.name:
            continue
        iid = None
        given = row.values.get("id", "").strip()
        if given:
            if given in index.entries:
                iid, row.matched_by = given, "id"
            elif ID_RE.match(given):
                row.item_id = given
            else:
                row.issue("warning", "id", f"事项编码「{given}」格式不正确,已按事项名称匹配或重新编号")
        if iid is None and row.item_id is None:
            iid, row.matched_by = index.match(row.name)
            if iid and row.matched_by == "fuzzy":
                row.issue("warning", "name", f"按近似名称匹配到基线事项「{index.entries[iid].item.name}」({iid}),请核对")
        if iid is not None:
            if iid in claimed:
                other = claimed[iid]
                row.issue("error", "name", f"与第{other.row}行是同一事项「{index.entries[iid].item.name}」({iid}),重复列出")
                continue
            claimed[iid] = row
            row.entry = index.entries[iid]
            row.item_id = iid
            if row.domain and row.domain != row.entry.domain and row.entry.origin == "baseline":
                row.issue("warning", "domain", f"基线清单中该事项属于“{DOMAINS[row.entry.domain]}”领域,按基线领域保留")
            if row.domain is None or row.entry.origin == "baseline":
                row.domain = row.entry.domain
            continue
        if row.item_id is not None:  # a new item with its own id
            if row.item_id in claimed or row.item_id in taken:
                row.issue("error", "id", f"事项编码「{row.item_id}」重复")
                continue
            claimed[row.item_id] = row
            continue
        if row.domain is None:
            if not row.failed:
                row.issue("error", "domain" if "domain" in row.cols else "name", "新增事项无法确定领域(请填写领域列)")
            continue
        prefix = DOMAIN_PREFIX[row.domain]
        n = counters.get(prefix, 0)
        while True:
            n += 1
            candidate = f"{prefix}.x-{n}"
            if candidate not in taken and candidate not in claimed:
                break
        counters[prefix] = n
        row.item_id = candidate
        claimed[candidate] = row

"""Planning the change: which rows are baseline items, overrides, the county's own items."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..lawbook import Lawbook
from ..source import CitationSrc, DomainFile, ItemOverrideSrc, ItemSrc, PartySrc, ScenarioSrc
from ..sourcecheck import KBSource, check_source
from .context import Context, Entry, Row
from .grid import LIST_FIELDS
from .parties import PartyRef
from .report import Issue
from .text import SCENARIO_SHEET, compact

def _cite_key(c: CitationSrc, lawbook: Lawbook) -> tuple[Any, ...]:
    versions = lawbook.versions.get(c.law) or []
    v = c.version or (versions[-1].version if versions else None)
    return (c.law, v, c.article, c.article_suffix, c.paragraph, c.clause)


def cite_keys(cites: Iterable[CitationSrc], lawbook: Lawbook) -> set[tuple[Any, ...]]:
    return {_cite_key(c, lawbook) for c in cites}


def same_override(a: ItemOverrideSrc, b: ItemOverrideSrc, lawbook: Lawbook) -> bool:
    """Same changes to the item (reasons aside), compared as a reader would: duty texts without
    whitespace or width differences, citations as the set of articles they resolve to."""
    def norm(ov: ItemOverrideSrc) -> tuple[Any, ...]:
        parties = tuple(tuple((p.party, compact(p.duties)) for p in ps) if ps is not None else None for ps in (ov.primary, ov.supporting))
        duties = tuple(compact(d) if d is not None else None for d in (ov.county_duties, ov.township_duties))
        cites = frozenset(cite_keys(ov.citations, lawbook)) if ov.citations is not None else None
        return (*parties, *duties, cites)
    return norm(a) == norm(b)


def _party_src(refs: list[PartyRef], role: str, row: Row, ctx: Context, known: dict[str, str]) -> list[PartySrc]:
    """Parties with duties: as written, else the duties the item already gives the party, else
    the 县级/乡镇 duty column (reported)."""
    out: list[PartySrc] = []
    for p in refs:
        duties = p.duties
        if not duties or len(duties) < 2:
            duties = known.get(p.party)
            if not duties:
                level = ctx.party_level(p.party)
                column = row.values.get("county_duties" if level == "county" else "township_duties", "")
                duties = column if level != "village" and len(column) >= 2 else f"按本清单承担{role}(导入时未写明具体职责)"
                row.issue("warning", "primary" if role == "主体责任" else "supporting",
                          f"{ctx.party_name(p.party)}未写明职责,已按“{duties[:24]}…”填写,请核对")
        out.append(PartySrc(party=p.party, duties=duties))
    return out


@dataclass
class Plan:
    county_items: dict[str, tuple[str, ItemSrc, Row | None]]  # id → (domain, item, row)
    overrides: dict[str, tuple[ItemOverrideSrc, Row | None]]  # row None: an override the table did not touch
    removed: list[str]
    dropped_county: list[str]
    kept_missing: list[str]  # baseline items the table does not list, kept (no replace_list)


def build_plan(rows: list[Row], ctx: Context, file_name: str, replace_list: bool = False) -> Plan:
    """Nothing is removed that the table did not ask to remove: a baseline item (or the county's
    own item) missing from the table is removed only with replace_list; without it the county
    keeps it, and its override, as they were."""
    county_items: dict[str, tuple[str, ItemSrc, Row | None]] = {}
    overrides: dict[str, tuple[ItemOverrideSrc, Row | None]] = {}
    matched: set[str] = set()
    existing_overrides = {o.item: o for o in (ctx.county_file.overrides if ctx.county_file else [])}
    for row in rows:
        if row.entry is not None:
            matched.add(row.entry.item.id)
    for row in rows:
        if row.failed or not row.item_id:
            continue
        entry = row.entry
        if entry is not None and entry.origin == "baseline":
            ov = _baseline_row(row, entry, ctx)
            if ov is not None and not row.failed:
                old = existing_overrides.get(entry.item.id)
                if old is not None and same_override(old, ov, ctx.lawbook):
                    ov = old
                else:
                    ov = ov.model_copy(update={"reason": f"导入自 {file_name}"})
                overrides[entry.item.id] = (ov, row)
            continue
        item = _county_row(row, entry, ctx)
        if item is not None and not row.failed:
            county_items[item.id] = (row.domain or (entry.domain if entry else ""), item, row)
    # rows that failed keep what the county had (partial import): the baseline item stays, the
    # county's own item stays as it was
    for row in rows:
        if row.failed and row.entry is not None:
            e = row.entry
            if e.origin == "county":
                county_items[e.item.id] = (e.domain, e.item, None)
            elif e.item.id in existing_overrides:
                overrides[e.item.id] = (existing_overrides[e.item.id], row)
    already = set(ctx.county_file.remove_items) if ctx.county_file else set()
    if replace_list:
        removed = [iid for iid in ctx.baseline if iid not in matched]
        dropped = [iid for iid in ctx.county_items if iid not in matched]
        kept: list[str] = []
    else:
        removed = [iid for iid in ctx.baseline if iid in already and iid not in matched]
        dropped = []
        kept = [iid for iid in ctx.baseline if iid not in matched and iid not in already]
        for iid, e in ctx.county_items.items():
            if iid not in matched:
                county_items[iid] = (e.domain, e.item, None)
        for iid in kept:
            if iid in existing_overrides:
                overrides[iid] = (existing_overrides[iid], None)
    return Plan(county_items, overrides, removed, dropped, kept)


PENDING_NAME = "待细化"


def pending_scenario(item_id: str, name: str, alt_names: list[str], *duties: str) -> ScenarioSrc:
    """The one scenario of a matter whose scenarios are still to be written: its triggers are the
    matter's names and the short phrases of its duty texts, so that calls about it are found."""
    from .matching import name_key

    phrases: list[str] = [name, name_key(name), *alt_names]
    for text in duties:
        for part in re.split(r"[,，。；;、：:\n]", text):
            part = re.sub(r"^(负责|依法|协助|配合|做好|对|及时|组织|开展)+", "", part.strip())
            if 4 <= len(part) <= 16:
                phrases.append(part)
    triggers = list(dict.fromkeys(p for p in phrases if len(p) >= 2))[:12]
    core = name_key(name)
    for extra in (f"{core}问题", f"举报{core}", f"{core}投诉", f"反映{core}", f"{core}怎么办"):
        if len(triggers) >= 5:
            break
        if extra not in triggers:
            triggers.append(extra)
    return ScenarioSrc(id=f"{item_id}.pending", name=PENDING_NAME, triggers=triggers)


def _same_parties(refs: list[PartyRef], base: list[PartySrc]) -> bool:
    if any(p.duties for p in refs):
        return [(p.party, compact(p.duties or "")) for p in refs] == [(b.party, compact(b.duties)) for b in base]
    return {p.party for p in refs} == {b.party for b in base}


def _baseline_row(row: Row, entry: Entry, ctx: Context) -> ItemOverrideSrc | None:
    """Compare a row with its baseline item: changed parties, duty texts or citations → an
    override; other differences (name, type, scenarios, procedure) are the baseline's to make,
    and are reported."""
    base = entry.item
    v = row.values

    if row.matched_by == "id" and compact(row.name) not in {compact(n) for n in (base.name, *base.alt_names)}:
        row.issue("warning", "name", f"事项名称与基线「{base.name}」不同,按基线名称保留")
    if row.type and row.type != base.type:
        row.issue("warning", "type", f"基线事项类型为“{base.type}”,按基线保留")
    update: dict[str, Any] = {}
    for fld, label in (("county_duties", "县级部门职责"), ("township_duties", "乡镇(街道)职责")):
        text = v.get(fld, "").strip() if fld in row.cols else ""
        if fld in row.cols and not text:
            row.issue("warning", fld, f"“{label}”为空,按基线保留")
        elif text and compact(text) != compact(getattr(base, fld)):
            update[fld] = text
    if row.citations is not None and not any(i.level == "error" and i.field == LIST_FIELDS["citations"] for i in row.issues):
        if not row.citations:
            row.issue("warning", "citations", "法律依据为空,按基线保留")
        elif cite_keys(row.citations, ctx.lawbook) != cite_keys(base.citations, ctx.lawbook):
            update["citations"] = row.citations
    if row.alt_names is not None and [compact(a) for a in row.alt_names] != [compact(a) for a in base.alt_names]:
        row.issue("warning", "alt_names", "别名与基线不同,按基线保留")
    if row.scenarios and [s for _, s in row.scenarios] != base.scenarios:
        row.issues.append(Issue(level="warning", sheet=row.sheet, row=row.row, message=(
            f"“{row.scenario_sheet}”工作表中该事项的情形(第{'、'.join(str(r) for r in row.scenario_rows)}行)与基线不同;"
            "基线事项的情形不能在县清单中调整,按基线保留")))
    if row.steps or row.limits:
        if [s for _, s in row.steps] != base.procedure or [t for _, t in row.limits] != base.time_limits:
            row.issues.append(Issue(level="warning", sheet=row.sheet, row=row.row, message=(
                "程序时限工作表中该事项的程序或时限与基线不同;基线事项的程序时限不能在县清单中调整,按基线保留")))
    if row.primary is not None and not row.primary:
        row.issue("error", "primary", "主体责任为空")
    if row.supporting is not None and not row.supporting and "supporting" in row.cols:
        row.issue("error", "supporting", "配合责任为空")
    if row.failed:
        return None
    if row.source and row.source != (base.source or entry.default_source):
        row.issue("warning", "source", "来源与基线不同,按基线保留")
    current = next((o for o in (ctx.county_file.overrides if ctx.county_file else []) if o.item == base.id), None)
    for fld, label, base_list in (("primary", "主体责任", base.primary), ("supporting", "配合责任", base.supporting)):
        refs: list[PartyRef] | None = getattr(row, fld)
        if refs is None or _same_parties(refs, base_list):
            continue
        # duties a party already has: in the county's current list for this role, then any role
        other = base.supporting if fld == "primary" else base.primary
        cur_other = (current.supporting if fld == "primary" else current.primary) if current else None
        cur_same = getattr(current, fld) if current else None
        known: dict[str, str] = {}
        for parties in (other, cur_other or [], base_list, cur_same or []):
            known.update({p.party: p.duties for p in parties})
        built = _party_src(refs, label, row, ctx, known)
        if [(p.party, compact(p.duties)) for p in built] != [(p.party, compact(p.duties)) for p in base_list]:
            update[fld] = built
    if not update:
        return None
    return ItemOverrideSrc(item=base.id, reason="导入", **update)


def _county_row(row: Row, entry: Entry | None, ctx: Context) -> ItemSrc | None:
    """A county's own item (new, or updated from the county's items files)."""
    old = entry.item if entry is not None else None
    v = row.values
    if row.primary is not None and not row.primary or (row.primary is None and old is None):
        row.issue("error", "primary", "主体责任为空")
    if row.supporting is not None and not row.supporting or (row.supporting is None and old is None):
        row.issue("error", "supporting", "配合责任为空")
    if row.citations is not None and not row.citations or (row.citations is None and old is None):
        if not any(i.level == "error" and i.field == LIST_FIELDS["citations"] for i in row.issues):
            row.issue("error", "citations", "法律依据为空(每个事项至少引用一条法律条款)")
    item_type = row.type or (old.type if old else None)
    if item_type is None:
        row.issue("error", "type", "新增事项缺少事项类型(行政处罚、行政检查、行政强制或其他)")
    scenarios = [s for _, s in row.scenarios] or (list(old.scenarios) if old else [])
    if not scenarios and row.item_id:
        # the published table has no 情形: the matter comes in with one scenario still to be
        # written (待细化), found meanwhile by its name and duty texts
        scenarios = [pending_scenario(row.item_id, row.name, row.alt_names or [], v.get("county_duties", ""), v.get("township_duties", ""))]
        row.issue("warning", "name", f"新增事项「{row.name}」没有情形,已按事项名称和职责生成“待细化”情形;"
                                     f"请在“{SCENARIO_SHEET}”工作表中补充情形和触发词")
    if row.failed:
        return None
    known = {p.party: p.duties for p in [*(old.supporting if old else []), *(old.primary if old else [])]}
    primary = _party_src(row.primary, "主体责任", row, ctx, known) if row.primary is not None else list(old.primary)  # type: ignore[union-attr]
    supporting = _party_src(row.supporting, "配合责任", row, ctx, known) if row.supporting is not None else list(old.supporting)  # type: ignore[union-attr]
    domain = row.domain or (entry.domain if entry else "")
    default_source = entry.default_source if entry else ctx.default_source()
    source = row.source if row.source is not None else (old.source if old else None)
    if source == default_source:
        source = None
    data = {
        "id": row.item_id,
        "name": row.name,
        "alt_names": row.alt_names if row.alt_names is not None else (list(old.alt_names) if old else []),
        "type": item_type,
        "county_duties": v.get("county_duties", old.county_duties if old and "county_duties" not in row.cols else ""),
        "township_duties": v.get("township_duties", old.township_duties if old and "township_duties" not in row.cols else ""),
        "primary": primary,
        "supporting": supporting,
        "procedure": [s for _, s in row.steps] if row.proc_rows else (list(old.procedure) if old else []),
        "time_limits": [t for _, t in row.limits] if row.proc_rows else (list(old.time_limits) if old else []),
        "citations": row.citations if row.citations is not None else list(old.citations),  # type: ignore[union-attr]
        "scenarios": scenarios,
        "source": source,
    }
    row.domain = domain
    try:
        return ItemSrc.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            row.issue("error", None, f"数据不合法:{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
        return None


# ---------------------------------------------------------------------------------------------
# Checking the plan


_PROBLEM_ZH = [
    (re.compile(r"(\d+) distinct triggers \(need (\d+)\+\)"), "情形只有 {0} 个不同的触发词(至少需要 {1} 个)"),
    (re.compile(r"only (\d+) scenarios \(aim for (\d+)\+\)"), "只有 {0} 个情形(建议至少 {1} 个)"),
    (re.compile(r"unknown party '(.+)'"), "未知的单位 {0}"),
    (re.compile(r"unresolved citation: (.+)"), "法律依据无法解析:{0}"),
    (re.compile(r"cites a superseded text: (.+)"), "引用了已被修订或废止的文本:{0}"),
    (re.compile(r"no supporting party"), "没有配合责任单位"),
    (re.compile(r"no primary party"), "没有主体责任单位"),
    (re.compile(r"scenario id should start with (.+)"), "情形编码应以 {0} 开头"),
    (re.compile(r"identifier used (\d+) times"), "编码重复使用 {0} 次"),
]


def problem_zh(message: str) -> str:
    for pat, tmpl in _PROBLEM_ZH:
        m = pat.search(message)
        if m:
            return tmpl.format(*m.groups())
    return f"校验未通过:{message}"


def check_plan(plan: Plan, ctx: Context) -> list[Issue]:
    """Source checks (ids, parties, citations, triggers) on the county's own items; problems are
    attached to their rows; returns the problems no row owns."""
    by_domain: dict[str, list[ItemSrc]] = {}
    for domain, item, _ in plan.county_items.values():
        by_domain.setdefault(domain, []).append(item)
    doms = [(Path(f"{d}.yaml"), DomainFile(domain=d, source=ctx.default_source(), items=items)) for d, items in by_domain.items()]
    src = KBSource(ctx.root / "kb", ctx.departments, ctx.sources, doms)
    rows = {iid: row for iid, (_, _, row) in plan.county_items.items()}
    loose: list[Issue] = []
    for p in check_source(src, ctx.lawbook, partial=True):
        ident = p.where.split(":", 1)[1] if ":" in p.where else p.where
        ident = ident.split(" ", 1)[0]
        owner = next((iid for iid in rows if ident == iid or ident.startswith(iid + ".")), None)
        row = rows.get(owner) if owner else None
        if owner and "scenarios (aim for" in p.message and any(s.name == PENDING_NAME for s in plan.county_items[owner][1].scenarios):
            continue  # a matter whose scenarios are still to be written (待细化) says so already
        if row is None:
            if p.level == "error":
                loose.append(Issue(level="error", message=f"{ident}: {problem_zh(p.message)}"))
            continue
        sc_row = None
        if owner != ident:
            sc_row = next((r for r, s in row.scenarios if s.id == ident), None)
        if sc_row is not None:
            row.issues.append(Issue(level=p.level, sheet=row.scenario_sheet, row=sc_row,
                                    message=f"情形 {ident}:{problem_zh(p.message)}"))
        else:
            row.issue(p.level, None, problem_zh(p.message))
    return loose



"""Reading the workbook: sheets, header rows, list rows and the rows of the auxiliary sheets."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError
from rapidfuzz import fuzz

from ..source import DOMAINS, CitationSrc, ScenarioSrc, StepSrc, TimeLimitSrc
from .context import AuxRow, Context, Row, aux_rows
from .grid import CONTACT_SPEC, FACT_VALUES, LIST_FIELDS, LIST_SPEC, PROC_SPEC, SCENARIO_SPEC, TOWNSHIP_SPEC, Grid, Header, HeaderSpec, find_header
from .limits import WorkbookTooLarge, check_workbook
from .matching import name_key
from .parties import map_item_type, parse_parties
from .report import ImportReport, Issue
from .text import ID_RE, LIST_SHEET, TOWNSHIP_SHEET, compact, split_list

# the two sheets that detail the list's rows: one of each is read
AUX_SHEETS = {"scenario": (SCENARIO_SPEC, "情形"), "proc": (PROC_SPEC, "程序时限")}


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    aux: dict[str, tuple[str, list[AuxRow]]] = field(default_factory=dict)  # kind → (sheet, rows)
    profile_sheets: dict[str, tuple[Grid, Header]] = field(default_factory=dict)  # township / contact

    def aux_sheet(self, kind: str) -> str | None:
        return self.aux[kind][0] if kind in self.aux else None

    def aux_rows(self, kind: str) -> list[AuxRow]:
        return self.aux[kind][1] if kind in self.aux else []


def _sheet_kind(grid: Grid) -> tuple[str, Header] | None:
    name = compact(grid.name)
    options = [("list", LIST_SPEC), ("scenario", SCENARIO_SPEC), ("proc", PROC_SPEC)]
    if compact(TOWNSHIP_SHEET) in name and "清单" not in name:
        options = [("township", TOWNSHIP_SPEC)]
    elif "联系" in name or "通讯" in name:
        options = [("contact", CONTACT_SPEC)]
    elif "情形" in name:
        options = [("scenario", SCENARIO_SPEC)]
    elif "程序" in name or "时限" in name:
        options = [("proc", PROC_SPEC)]
    found: list[tuple[int, int, str, Header]] = []
    for n, (kind, spec) in enumerate(options):
        h = find_header(grid, spec)
        if h is not None and all(f in h.columns for f in spec.required):
            found.append((-len(h.columns), n, kind, h))
    if not found:
        return None
    _, _, kind, h = min(found, key=lambda x: (x[0], x[1]))
    return kind, h


def _header_issues(grid: Grid, h: Header, spec: HeaderSpec, report: ImportReport) -> None:
    report.header[grid.name] = {get_column_letter(c): spec.fields[f] for f, c in sorted(h.columns.items(), key=lambda x: x[1])}
    for c, text in h.unmapped:
        report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, column=get_column_letter(c),
                                   message=f"无法对应的列「{text}」,该列内容未导入"))
    for c, text, fld in h.duplicates:
        report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, column=get_column_letter(c),
                                   message=f"列「{text}」与已有的“{spec.fields[fld]}”列重复,该列内容未导入"))


def read_workbook(path: Path, ctx: Context, report: ImportReport) -> Parsed | None:
    try:
        check_workbook(path)  # declared size first: openpyxl would expand it in memory
    except WorkbookTooLarge as exc:
        report.issues.append(Issue(level="error", message=f"工作簿未读取:{exc}"))
        return None
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        report.issues.append(Issue(level="error", message=f"无法读取工作簿:{exc}"))
        return None
    parsed = Parsed()
    for ws in wb.worksheets:
        grid = Grid.read(ws)
        if not grid.values:
            continue
        found = _sheet_kind(grid)
        if found is None:
            report.issues.append(Issue(level="warning", sheet=grid.name,
                                       message="未识别出清单表头(需含事项名称、主体责任、配合责任、依据等列),该工作表未导入"))
            continue
        kind, h = found
        if kind == "list":
            _header_issues(grid, h, LIST_SPEC, report)
            for fld in ("supporting", "citations", "domain", "type", "county_duties", "township_duties"):
                if fld not in h.columns:
                    report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, message=(
                        f"缺少“{LIST_FIELDS[fld]}”列:基线事项按基线保留,新增事项需要该列")))
            parsed.rows += _read_list_sheet(grid, h, ctx, report)
        elif kind in ("township", "contact"):
            _header_issues(grid, h, TOWNSHIP_SPEC if kind == "township" else CONTACT_SPEC, report)
            parsed.profile_sheets[kind] = (grid, h)
        else:
            spec, title = AUX_SHEETS[kind]
            if kind in parsed.aux:
                report.issues.append(Issue(level="warning", sheet=grid.name, message=f"已有{title}工作表,该工作表未导入"))
                continue
            _header_issues(grid, h, spec, report)
            parsed.aux[kind] = (grid.name, aux_rows(grid, h))
    if not parsed.rows:
        report.issues.append(Issue(level="error", message="工作簿中没有找到清单表(表头需含事项名称、主体责任、配合责任、法律依据)"))
        return None
    return parsed


def _read_list_sheet(grid: Grid, h: Header, ctx: Context, report: ImportReport) -> list[Row]:
    rows: list[Row] = []
    sheet_domain = ctx.domains.match(grid.name) if compact(grid.name).lower() not in (compact(LIST_SHEET), "sheet1") else None
    title_domain = None
    for r in range(1, h.row):
        texts = {grid.get(r, c) for c in range(1, grid.max_col + 1)} - {""}
        for t in texts:
            title_domain = title_domain or (ctx.domains.match(t) if len(t) <= 12 else None)
    section = sheet_domain or title_domain
    previous_domain: str | None = None
    reported_domains: set[tuple[int, int]] = set()
    for r in range(h.data_start, grid.max_row + 1):
        filled = [c for c in range(1, grid.max_col + 1) if grid.get(r, c)]
        if not filled:
            continue
        values = {f: grid.get(r, c) for f, c in h.columns.items()}
        anchors = {f: grid.origin(r, c) for f, c in h.columns.items()}
        cells = {grid.origin(r, c) for c in filled}
        if len(cells) == 1:  # one cell (maybe merged across the table): a heading or a note
            only = grid.get(r, filled[0])
            dom = ctx.domains.match(only) if len(only) <= 16 else None
            if dom:
                section = dom
                continue
            if next(iter(cells))[0] < r:
                continue  # the tail of a cell merged downwards (序号/领域 spanning several rows)
            report.issues.append(Issue(level="warning", sheet=grid.name, row=r,
                                       message=f"说明行「{only[:30]}」不是事项,未导入"))
            continue
        row = Row(grid.name, r, h.columns, values, anchors)
        row.name = values.get("name", "").strip()
        rows.append(row)
        if not row.name:
            row.issue("error", "name", "事项名称为空")
            continue
        # 领域
        dom_text = values.get("domain", "")
        if dom_text:
            row.domain = ctx.domains.match(dom_text)
            if row.domain is None and anchors["domain"] not in reported_domains:
                reported_domains.add(anchors["domain"])
                row.issue("error", "domain", f"无法识别的领域「{dom_text}」(应为:{'、'.join(DOMAINS.values())})")
            elif row.domain is None:
                ar, ac = anchors["domain"]
                row.issue("error", None, f"所在领域「{dom_text}」无法识别(见 {get_column_letter(ac)}{ar}),本行未导入")
        elif section:
            row.domain = section
        elif previous_domain and "domain" in h.columns:
            row.domain = previous_domain
            row.issue("warning", "domain", f"领域为空,沿用上一行的“{DOMAINS[previous_domain]}”")
        previous_domain = row.domain or previous_domain
        _parse_row(row, ctx)
    return rows


def _parse_row(row: Row, ctx: Context) -> None:
    v = row.values
    if v.get("type"):
        row.type = map_item_type(v["type"])
        if row.type is None:
            row.issue("error", "type", f"无法识别的事项类型「{v['type']}」(应为行政处罚、行政检查、行政强制或其他)")
    if "citations" in row.cols:
        text = v.get("citations", "")
        if text:
            cites, errors, warnings = ctx.cites.parse(text)
            row.citations = cites
            for e in errors:
                row.issue("error", "citations", e)
            for w in warnings:
                row.issue("warning", "citations", w)
        else:
            row.citations = []
    for fld, label in (("primary", "主体责任"), ("supporting", "配合责任")):
        text = v.get(fld, "")
        if not text:
            setattr(row, fld, [])
            continue
        parties, errors = parse_parties(text, ctx.parties)
        setattr(row, fld, parties)
        for e in errors:
            row.issue("error", fld, e)
    if v.get("alt_names"):
        row.alt_names = split_list(v["alt_names"])
    elif "alt_names" in row.cols:
        row.alt_names = []
    if v.get("source"):
        row.source = ctx.source_id(v["source"])
        if row.source is None:
            row.issue("error", "source", f"未知的来源「{v['source']}」(应为 kb/sources.yaml 中的编号)")


def attach_aux(parsed: Parsed, ctx: Context, report: ImportReport) -> None:
    by_id = {r.item_id: r for r in parsed.rows if r.item_id}
    by_name: dict[str, Row] = {}
    for r in parsed.rows:
        if r.name:
            by_name.setdefault(compact(r.name), r)
            by_name.setdefault(name_key(r.name), r)

    names = [r for r in parsed.rows if r.name]

    def fuzzy(name: str) -> Row | None:
        k = name_key(name)
        scored = sorted(((fuzz.ratio(k, name_key(r.name)), r) for r in names), key=lambda x: -x[0])
        if scored and scored[0][0] >= 85:
            return scored[0][1]
        # a shortened name: contained in exactly one item name
        hits = [r for r in names if len(k) >= 4 and k in name_key(r.name) and len(k) >= 0.5 * len(name_key(r.name))]
        return hits[0] if len(hits) == 1 else None

    def owner(a: AuxRow, spec: HeaderSpec) -> Row | None:
        iid = a.values.get("item_id", "").strip()
        name = a.values.get("item_name", "").strip()
        if iid and iid in by_id:
            return by_id[iid]
        if name:
            r = by_name.get(compact(name)) or by_name.get(name_key(name))
            if r is not None:
                return r
            r = fuzzy(name)
            if r is not None:
                report.issues.append(a.issue("warning", "item_name", f"按近似名称关联到清单第{r.row}行「{r.name}」,请核对", spec))
                return r
        if iid and iid in ctx.baseline:
            return None  # a baseline item the workbook does not list: nothing to do
        what = f"「{name or iid}」" if (name or iid) else ""
        report.issues.append(a.issue("error", "item_name" if name or "item_id" not in a.cols else "item_id",
                                     f"找不到所属事项{what}(清单表中没有该事项)", spec))
        return None

    sc_counts: dict[str, int] = {}
    for a in parsed.aux_rows("scenario"):
        row = owner(a, SCENARIO_SPEC)
        if row is None:
            continue
        row.scenario_rows.append(a.row)
        row.scenario_sheet = a.sheet
        sc = _parse_scenario(a, row, ctx, sc_counts)
        if sc is not None:
            row.scenarios.append((a.row, sc))
    for a in parsed.aux_rows("proc"):
        row = owner(a, PROC_SPEC)
        if row is None:
            continue
        row.proc_rows.append(a.row)
        _parse_proc(a, row, ctx)


def _aux_error(row: Row, a: AuxRow, fld: str | None, message: str, spec: HeaderSpec) -> None:
    row.issues.append(a.issue("error", fld, message, spec))


def _parse_scenario(a: AuxRow, row: Row, ctx: Context, counts: dict[str, int]) -> ScenarioSrc | None:
    spec = SCENARIO_SPEC
    v = a.values
    ok = True
    name = v.get("sc_name", "").strip()
    if not name:
        _aux_error(row, a, "sc_name", "情形名称为空", spec)
        ok = False
    item_id = row.item_id or "x"
    sid = v.get("sc_id", "").strip()
    if sid and not (ID_RE.match(sid) and sid.startswith(item_id + ".")):
        tail = sid.rsplit(".", 1)[-1]
        new = f"{item_id}.{tail}" if ID_RE.match(f"{item_id}.{tail}") else ""
        row.issues.append(a.issue("warning", "sc_id", f"情形编码「{sid}」与事项编码不一致,改为「{new or '自动编号'}」", spec))
        sid = new
    if not sid:
        counts[item_id] = counts.get(item_id, 0) + 1
        sid = f"{item_id}.s-{counts[item_id]}"
    primary = None
    if v.get("sc_primary"):
        parties, errors = parse_parties(v["sc_primary"], ctx.parties)
        for e in errors:
            _aux_error(row, a, "sc_primary", e, spec)
            ok = False
        primary = [p.party for p in parties] or None
    citations: list[CitationSrc] = []
    if v.get("sc_citations"):
        citations, errors, warnings = ctx.cites.parse(v["sc_citations"])
        for e in errors:
            _aux_error(row, a, "sc_citations", e, spec)
            ok = False
        for w in warnings:
            row.issues.append(a.issue("warning", "sc_citations", w, spec))
    facts: dict[str, str | bool] = {}
    if v.get("facts"):
        try:
            loaded = json.loads(v["facts"])
            if not isinstance(loaded, dict) or not all(isinstance(x, (str, bool)) for x in loaded.values()):
                raise ValueError
            facts = loaded
        except ValueError:
            _aux_error(row, a, "facts", f"事实列应为 JSON 对象,如 {{\"planning_area\": \"rural\"}}:「{v['facts'][:30]}」", spec)
            ok = False
    for fact, values in FACT_VALUES.items():  # conditions in plain columns (是否持证: 否)
        text = v.get(fact, "").strip()
        if not text:
            continue
        if text not in values:
            _aux_error(row, a, fact, f"无法识别的条件「{text}」(应为:{'、'.join(values)})", spec)
            ok = False
            continue
        facts[fact] = values[text]
    triggers = split_list(v.get("triggers", ""))
    if not ok:
        return None
    try:
        return ScenarioSrc(id=sid, name=name, primary=primary, citations=citations, facts=facts, triggers=triggers)
    except ValidationError as exc:
        _aux_error(row, a, None, f"情形数据不合法:{exc.errors()[0]['msg']}", spec)
        return None


def _parse_proc(a: AuxRow, row: Row, ctx: Context) -> None:
    spec = PROC_SPEC
    v = a.values
    kind = v.get("kind", "")
    is_limit = "时限" in kind or (not kind and any(v.get(k) for k in ("working_days", "days", "hours")))
    if is_limit:
        nums: dict[str, int | None] = {}
        for k in ("working_days", "days", "hours"):
            raw = v.get(k, "").strip()
            if raw and not unicodedata.normalize("NFKC", raw).isdigit():
                _aux_error(row, a, k, f"应为整数:「{raw}」", spec)
                return
            nums[k] = int(unicodedata.normalize("NFKC", raw)) if raw else None
        basis = v.get("basis", "").strip()
        source: CitationSrc | str | None = None
        if "《" in basis or ctx.cites.bare_re and ctx.cites.bare_re.search(basis):
            cites, errors, warnings = ctx.cites.parse(basis)
            for e in errors:
                _aux_error(row, a, "basis", e, spec)
            for w in warnings:
                row.issues.append(a.issue("warning", "basis", w, spec))
            if errors:
                return
            if len(cites) != 1:
                _aux_error(row, a, "basis", "时限依据应为一条法律条款或一个来源文件", spec)
                return
            source = cites[0]
        elif basis:
            source = ctx.source_id(basis)
            if source is None:
                _aux_error(row, a, "basis", f"未知的时限依据「{basis}」(应为法律条款或 kb/sources.yaml 中的来源)", spec)
                return
        else:
            _aux_error(row, a, "basis", "时限缺少依据", spec)
            return
        try:
            tl = TimeLimitSrc(what=v.get("step", ""), limit=v.get("text", ""), working_days=nums["working_days"],
                              days=nums["days"], hours=nums["hours"], source=source)
        except ValidationError as exc:
            _aux_error(row, a, None, f"时限数据不合法:{exc.errors()[0]['msg']}", spec)
            return
        row.limits.append((a.row, tl))
        return
    actor = v.get("actor", "").strip()
    pid = ctx.parties.match(actor) if actor else None
    if pid is None:
        _aux_error(row, a, "actor", f"无法识别的实施主体「{actor}」" if actor else "实施主体为空", spec)
        return
    if not v.get("step"):
        _aux_error(row, a, "step", "环节为空", spec)
        return
    row.steps.append((a.row, StepSrc(step=v["step"], actor=pid, text=v.get("text", ""))))


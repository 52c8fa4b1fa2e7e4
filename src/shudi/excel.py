"""Excel in, Excel out: the list as counties publish it (《"属地管理"事项主体责任和配合责任清单》).

`export_workbook` writes a county's resolved list as the published table (sheet 清单: title row,
header row, one row per item with the nine columns 序号 … 配合责任, plus hidden 事项编码/别名/来源
columns), with the data the published table has no room for in two more sheets: 情形 (scenarios
and their trigger phrases) and 程序时限 (procedure steps and time limits).

`import_workbook` reads such a table back — also the messy ones counties actually publish: a
title row above the header, header names that vary (乡镇职责, 法律依据, 主体责任单位 …), merged
领域 cells, department names as people write them (县自然资源和规划局, 镇政府, 住建局),
citations written every which way (《土地管理法》第77条第1款, 《中华人民共和国消防法》第六十条
第一款第（三）项).  Items that match the baseline keep their id and scenarios; changed parties,
duties or citations become county overrides; baseline items missing from the workbook are
removed; other items become the county's own items.  Every cell that cannot be understood is reported with sheet,
row and column; nothing is dropped silently.  Files are written only when the whole result
loads (or, with partial=True, the part that does), each through a temporary file and a rename.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from .kb import DEFAULT_COUNTY, KBLoadError, load, project_root
from .lawbook import Lawbook
from .model import Citation, KnowledgeBase
from .source import (
    DOMAINS,
    CitationSrc,
    CountyFile,
    DepartmentsFile,
    DomainFile,
    ItemOverrideSrc,
    ItemSrc,
    KBSourceError,
    PartySrc,
    ScenarioSrc,
    SourcesFile,
    StepSrc,
    TimeLimitSrc,
    read_model,
)
from .sourcecheck import KBSource, check_source
from .statutes import cn_to_int, int_to_cn

LIST_SHEET = "清单"
SCENARIO_SHEET = "情形"
PROCEDURE_SHEET = "程序时限"
DOMAIN_PREFIX: dict[str, str] = {
    "natural-resources": "nr",
    "ecology-environment": "ee",
    "urban-rural-construction": "urc",
    "emergency-management": "em",
    "market-regulation": "mr",
    "comprehensive-enforcement": "ce",
    "key-work": "kw",
    "culture-tourism": "ct",
}
_ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$")

# ---------------------------------------------------------------------------------------------
# Reports


class Issue(BaseModel):
    """One problem found while importing, located as precisely as the workbook allows."""

    level: Literal["error", "warning"]
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter, e.g. "H"
    field: str | None = None  # the column's meaning, e.g. 主体责任
    message: str  # Chinese

    @property
    def cell(self) -> str | None:
        if self.column and self.row:
            return f"{self.column}{self.row}"
        return None

    def where(self) -> str:
        if self.sheet is None:
            return "工作簿"
        if self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.row:
            return f"{self.sheet}!第{self.row}行"
        return self.sheet

    def __str__(self) -> str:
        label = "错误" if self.level == "error" else "警告"
        fld = f"[{self.field}] " if self.field else ""
        return f"{label} {self.where()} {fld}{self.message}"


RowStatus = Literal["unchanged", "override", "county", "new", "rejected"]


class RowOutcome(BaseModel):
    sheet: str
    row: int
    name: str
    item_id: str | None
    domain: str | None
    status: RowStatus
    matched_by: str | None = None  # id / name / alt-name / fuzzy / None (new item)


class ImportReport(BaseModel):
    file: str
    county: str
    partial: bool = False
    dry_run: bool = False
    ok: bool = False  # the (partial) result validates and has no fatal error
    written: bool = False
    files: list[str] = []  # files written (relative to root)
    header: dict[str, dict[str, str]] = {}  # sheet → column letter → meaning
    rows: list[RowOutcome] = []
    new_items: list[str] = []
    overridden: list[str] = []
    removed: list[str] = []  # baseline items the county list no longer has
    dropped_county_items: list[str] = []  # the county's own items absent from the workbook
    issues: list[Issue] = []

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "warning"]

    @property
    def rejected_rows(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status == "rejected"]

    def to_text(self) -> str:
        counts = {s: sum(r.status == s for r in self.rows) for s in ("unchanged", "override", "county", "new", "rejected")}
        lines = [
            f"导入 {Path(self.file).name} → {self.county}:共 {len(self.rows)} 个事项行;"
            f"沿用基线 {counts['unchanged']} 项,调整责任 {counts['override']} 项,本县事项 {counts['county']} 项,"
            f"新增 {counts['new']} 项,未导入 {counts['rejected']} 项;取消基线事项 {len(self.removed)} 项。",
            f"错误 {len(self.errors)} 个,警告 {len(self.warnings)} 个。"
            + ("已写入:" + "、".join(self.files) if self.written else ("(试运行,未写入)" if self.dry_run else "未写入任何文件。")),
        ]
        lines += [str(i) for i in self.errors]
        lines += [str(i) for i in self.warnings]
        return "\n".join(lines)


class ExportReport(BaseModel):
    path: str
    county: str
    items: int
    scenarios: int
    steps: int
    time_limits: int


# ---------------------------------------------------------------------------------------------
# Text helpers


def _key(text: str) -> str:
    """Comparison key: NFKC (full-width → half-width), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


_NUM = r"(?:[0-9０-９]+|[零〇一二三四五六七八九十百千两]+)"


def _num(text: str) -> int:
    text = unicodedata.normalize("NFKC", text).strip()
    return int(text) if text.isdigit() else cn_to_int(text)


def _split_list(text: str) -> list[str]:
    """Split a cell listing several things: by line when it has line breaks, else by 、，,；;."""
    parts = text.split("\n") if "\n" in text else re.split(r"[、，,；;]", text)
    return [p.strip() for p in parts if p.strip()]


# ---------------------------------------------------------------------------------------------
# Header mapping

_LIST_FIELDS: dict[str, str] = {
    "seq": "序号",
    "domain": "领域",
    "type": "事项类型",
    "name": "事项名称",
    "county_duties": "县级部门职责",
    "township_duties": "乡镇(街道)职责",
    "citations": "法律法规及文件依据",
    "primary": "主体责任",
    "supporting": "配合责任",
    "id": "事项编码",
    "alt_names": "别名",
    "source": "来源",
}
_LIST_SYNONYMS: dict[str, list[str]] = {
    "seq": ["序号", "编号", "序", "排序", "序列号"],
    "domain": ["领域", "责任领域", "所属领域", "事项领域", "行业领域", "领域分类"],
    "type": ["事项类型", "类型", "权力类型", "职权类型", "事项类别", "行政权力类型", "类别", "权力类别"],
    "name": ["事项名称", "事项", "名称", "职责事项", "属地管理事项", "责任事项", "事项内容", "具体事项"],
    "county_duties": ["县级部门职责", "县直部门职责", "县级职责", "部门职责", "县级部门责任", "县直部门责任", "县级部门职责任务"],
    "township_duties": ["乡镇(街道)职责", "乡镇职责", "乡镇街道职责", "乡镇(街道)责任", "镇街职责", "街道职责", "乡镇(街道)职责任务"],
    "citations": ["法律法规及文件依据", "法律依据", "依据", "法律法规依据", "政策依据", "设定依据", "实施依据", "法定依据", "法规依据", "法律法规政策依据", "文件依据"],
    "primary": ["主体责任", "主体责任单位", "主体责任部门", "责任主体", "主责单位", "主责部门", "牵头单位", "牵头部门"],
    "supporting": ["配合责任", "配合单位", "配合责任单位", "配合部门", "协同单位", "协办单位", "配合责任部门"],
    "id": ["事项编码", "编码", "id", "事项id", "事项代码", "代码"],
    "alt_names": ["别名", "其他名称", "又称", "俗称"],
    "source": ["来源", "出处", "来源文件"],
}
_LIST_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("citations", ("依据",)),
    ("supporting", ("配合", "协同", "协办")),
    ("primary", ("主体", "主责", "牵头")),
    ("township_duties", ("乡镇", "街道", "镇街")),
    ("county_duties", ("县级", "县直", "部门职责")),
    ("domain", ("领域",)),
    ("type", ("类型", "类别")),
    ("seq", ("序号",)),
    ("id", ("编码",)),
    ("name", ("名称",)),
]

_SCENARIO_FIELDS: dict[str, str] = {
    "item_id": "事项编码",
    "item_name": "事项名称",
    "sc_id": "情形编码",
    "sc_name": "情形名称",
    "sc_primary": "主体责任",
    "sc_citations": "依据",
    "triggers": "触发词",
    "facts": "事实",
}
_SCENARIO_SYNONYMS: dict[str, list[str]] = {
    "item_id": ["事项编码", "事项id", "事项代码"],
    "item_name": ["事项名称", "事项", "所属事项"],
    "sc_id": ["情形编码", "情形id", "情形代码", "编码"],
    "sc_name": ["情形名称", "情形", "具体情形", "情形描述", "场景"],
    "sc_primary": ["主体责任", "主体责任单位", "情形主体责任", "主体责任(情形)", "主责单位"],
    "sc_citations": ["依据", "法律依据", "情形依据", "法律法规及文件依据"],
    "triggers": ["触发词", "关键词", "常见说法", "来电表述", "群众说法", "触发语"],
    "facts": ["事实", "条件", "事实条件"],
}
_SCENARIO_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("triggers", ("触发", "关键词", "说法", "表述")),
    ("sc_citations", ("依据",)),
    ("sc_primary", ("主体", "主责")),
    ("item_id", ("事项编码",)),
    ("item_name", ("事项",)),
    ("sc_id", ("情形编码",)),
    ("sc_name", ("情形",)),
]

_PROC_FIELDS: dict[str, str] = {
    "item_id": "事项编码",
    "item_name": "事项名称",
    "kind": "类别",
    "step": "环节",
    "actor": "实施主体",
    "text": "内容",
    "working_days": "工作日",
    "days": "自然日",
    "hours": "小时",
    "basis": "依据",
}
_PROC_SYNONYMS: dict[str, list[str]] = {
    "item_id": ["事项编码", "事项id"],
    "item_name": ["事项名称", "事项"],
    "kind": ["类别", "类型", "种类"],
    "step": ["环节", "程序环节", "时限事项", "环节或时限事项", "步骤"],
    "actor": ["实施主体", "主体", "责任单位", "办理单位"],
    "text": ["内容", "时限", "内容或时限", "具体内容", "办理内容"],
    "working_days": ["工作日", "工作日数"],
    "days": ["自然日", "日", "天数"],
    "hours": ["小时", "小时数"],
    "basis": ["依据", "时限依据", "来源"],
}
_PROC_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("working_days", ("工作日",)),
    ("days", ("自然日",)),
    ("hours", ("小时",)),
    ("basis", ("依据",)),
    ("actor", ("主体", "单位")),
    ("item_id", ("事项编码",)),
    ("item_name", ("事项",)),
]


@dataclass
class _HeaderSpec:
    fields: dict[str, str]
    synonyms: dict[str, list[str]]
    keywords: list[tuple[str, tuple[str, ...]]]
    required: tuple[str, ...]

    def __post_init__(self) -> None:
        self.exact = {self.norm(s): f for f, syns in self.synonyms.items() for s in syns}
        self.choices = list(self.exact)

    @staticmethod
    def norm(text: str) -> str:
        return re.sub(r"[、,，.。:：;；/\\\-\s*★※]", "", _key(text)).lower()

    def map(self, text: str) -> str | None:
        k = self.norm(text)
        if not k or len(k) > 24:
            return None
        if k in self.exact:
            return self.exact[k]
        for fld, words in self.keywords:
            if any(w in k for w in words):
                return fld
        best = process.extractOne(k, self.choices, scorer=fuzz.ratio, score_cutoff=75)
        return self.exact[best[0]] if best else None


_LIST_SPEC = _HeaderSpec(_LIST_FIELDS, _LIST_SYNONYMS, _LIST_KEYWORDS, ("name", "primary"))
_SCENARIO_SPEC = _HeaderSpec(_SCENARIO_FIELDS, _SCENARIO_SYNONYMS, _SCENARIO_KEYWORDS, ("sc_name", "triggers"))
_PROC_SPEC = _HeaderSpec(_PROC_FIELDS, _PROC_SYNONYMS, _PROC_KEYWORDS, ("step",))


# ---------------------------------------------------------------------------------------------
# Sheet grid with merged cells filled


@dataclass
class _Grid:
    name: str
    values: dict[tuple[int, int], str]
    anchor: dict[tuple[int, int], tuple[int, int]]  # merged cell → its top-left cell
    hspan: dict[tuple[int, int], int]  # merged cell → number of columns merged
    max_row: int
    max_col: int

    @classmethod
    def read(cls, ws: Worksheet) -> _Grid:
        values: dict[tuple[int, int], str] = {}
        for row in ws.iter_rows():
            for cell in row:
                text = _cell_text(cell.value)
                if text:
                    values[(cell.row, cell.column)] = text
        anchor: dict[tuple[int, int], tuple[int, int]] = {}
        hspan: dict[tuple[int, int], int] = {}
        for rng in ws.merged_cells.ranges:
            v = values.get((rng.min_row, rng.min_col), "")
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    anchor[(r, c)] = (rng.min_row, rng.min_col)
                    hspan[(r, c)] = rng.max_col - rng.min_col + 1
                    if v:
                        values[(r, c)] = v
                    else:
                        values.pop((r, c), None)
        return cls(ws.title, values, anchor, hspan, ws.max_row or 0, ws.max_column or 0)

    def get(self, r: int, c: int) -> str:
        return self.values.get((r, c), "")

    def origin(self, r: int, c: int) -> tuple[int, int]:
        return self.anchor.get((r, c), (r, c))


@dataclass
class _Header:
    row: int
    data_start: int
    columns: dict[str, int]  # field → column
    unmapped: list[tuple[int, str]]
    duplicates: list[tuple[int, str, str]]


def _find_header(grid: _Grid, spec: _HeaderSpec, scan_rows: int = 20) -> _Header | None:
    best: _Header | None = None
    for r in range(1, min(grid.max_row, scan_rows) + 1):
        columns: dict[str, int] = {}
        unmapped: list[tuple[int, str]] = []
        dups: list[tuple[int, str, str]] = []
        for c in range(1, grid.max_col + 1):
            text = grid.get(r, c)
            if not text or grid.hspan.get((r, c), 1) > 3:
                continue  # a title spread over the table
            if grid.origin(r, c) != (r, c) and grid.origin(r, c)[1] != c:
                continue  # the rest of a horizontally merged header cell
            fld = spec.map(text)
            if fld is None:
                unmapped.append((c, text))
            elif fld in columns:
                dups.append((c, text, fld))
            else:
                columns[fld] = c
        if len(columns) >= 3 and (best is None or len(columns) > len(best.columns)):
            best = _Header(r, r + 1, columns, unmapped, dups)
    if best is None:
        return None
    # two-row header: a cell merged over several columns (责任主体 over 主体责任 | 配合责任)
    r = best.row
    sub = False
    for c in range(1, grid.max_col + 1):
        if grid.hspan.get((r, c), 1) > 1 and grid.get(r + 1, c) and grid.origin(r + 1, c)[0] == r + 1:
            fld = spec.map(grid.get(r + 1, c))
            if fld is None:
                continue
            for f, cc in list(best.columns.items()):
                if cc == c:  # the group header (责任主体) gives way to the sub-header under it
                    del best.columns[f]
            if fld not in best.columns:
                best.columns[fld] = c
                best.unmapped = [(cc, t) for cc, t in best.unmapped if cc != c]
                sub = True
    if sub:
        best.data_start = r + 2
    # header cells merged downwards (a two-row header without sub-headers)
    while best.data_start <= grid.max_row:
        cells = [(best.data_start, c) for c in range(1, grid.max_col + 1) if grid.get(best.data_start, c)]
        if cells and all(grid.origin(*rc)[0] < best.data_start for rc in cells):
            best.data_start += 1
        else:
            break
    return best


# ---------------------------------------------------------------------------------------------
# Departments


def _name_variants(name: str) -> set[str]:
    k = _key(name)
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
_SEPS = "、，,；;。"


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
        k = _key(text).strip(_SEPS + ".")
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
        best = process.extractOne(_key(text), self.choices, scorer=fuzz.ratio, score_cutoff=60)
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
class _PartyRef:
    party: str
    duties: str | None
    raw: str


_NAME_COLON = re.compile(r"^([^：:，,、；;。\n]{1,30}?)[：:](.*)$", re.S)


def parse_parties(text: str, matcher: PartyMatcher) -> tuple[list[_PartyRef], list[str]]:
    """Parties listed in a 主体责任/配合责任 cell: names separated by 、，,；; or line breaks, or
    one 'name:duties' per line.  Returns the parties and Chinese error messages."""
    out: list[_PartyRef] = []
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
                out.append(_PartyRef(matcher.match(pm.group(1)) or "", pm.group(2).strip(), pm.group(1)))
            continue
        pre = matcher.prefix(line)
        if pre:
            out.append(_PartyRef(pre[0], pre[1], line))
            continue
        for piece in re.split(r"[、，,；;]+", line):
            piece = piece.strip(" 。.")
            if not piece:
                continue
            pid = matcher.match(piece)
            if pid:
                out.append(_PartyRef(pid, None, piece))
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


# ---------------------------------------------------------------------------------------------
# Domains

_DOMAIN_SYNONYMS: dict[str, list[str]] = {
    "natural-resources": ["自然资源", "自然资源和规划", "国土资源", "自然资源规划"],
    "ecology-environment": ["生态环境", "生态环境保护", "环境保护", "环保"],
    "urban-rural-construction": ["城乡建设", "住房城乡建设", "住房和城乡建设", "住建", "城乡规划建设"],
    "emergency-management": ["应急管理", "安全生产", "应急", "应急管理和安全生产"],
    "market-regulation": ["市场监管", "市场监督管理", "市场监管领域"],
    "comprehensive-enforcement": ["综合执法", "综合行政执法", "城市管理", "城市管理综合执法", "城管"],
    "key-work": ["重点工作", "其他重点工作", "重点领域"],
    "culture-tourism": ["文化和旅游市场", "文化和旅游", "文化旅游", "文旅", "文化市场", "文化旅游市场"],
}


class DomainMatcher:
    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        for did, label in DOMAINS.items():
            self.exact[_key(label)] = did
            self.exact[did] = did
            self.exact[DOMAIN_PREFIX[did]] = did
            for s in _DOMAIN_SYNONYMS[did]:
                self.exact.setdefault(_key(s), did)
        self.choices = list(self.exact)

    @staticmethod
    def _strip(text: str) -> str:
        k = _key(text)
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
    k = _key(text)
    for word, t in _TYPE_WORDS:
        if word in k:
            return t
    return None


# ---------------------------------------------------------------------------------------------
# Citations


def _title_key(title: str) -> str:
    k = re.sub(r"[《》〈〉<>“”\"'‘’]", "", _key(title))
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
            self.titles[_title_key(law.title)] = law.id
            bare |= {law.title, "中华人民共和国" + law.title}
            for v in lawbook.versions.get(law.id, []):
                self.titles.setdefault(_title_key(v.full_title), law.id)
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
        k = _title_key(title)
        hint = None
        m = re.search(r"\(([^()]*\d{4}[^()]*)\)$", k)
        if m:
            hint, k = m.group(1), k[: m.start()]
        return self.titles.get(k), hint

    def _version(self, law_id: str, hint: str) -> tuple[date | None, str | None]:
        versions = self.lawbook.versions.get(law_id, [])
        h = _key(hint)
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
                        st.pending = _Pending(_num(n))
                        flush()
                elif name == "art":
                    flush()
                    st.pending = _Pending(_num(m.group(1)), _num(m.group(2)) if m.group(2) else 0)
                elif name == "para":
                    base = st.pending or st.last
                    if base is None:
                        errors.append(f"「{m.group(0)}」前未写明条")
                        continue
                    if st.pending is not None and st.pending.paragraph is None and st.pending.clause is None:
                        st.pending.paragraph = _num(m.group(1))
                    else:
                        flush()
                        st.pending = _Pending(base.article, base.suffix, _num(m.group(1)))
                elif name == "clause":
                    n = _num(m.group(1) or m.group(2))
                    base = st.pending or st.last
                    if base is None:
                        errors.append(f"「{m.group(0)}」前未写明条")
                        continue
                    if st.pending is not None and st.pending.clause is None:
                        st.pending.clause = n
                    else:
                        flush()
                        st.pending = _Pending(base.article, base.suffix, base.paragraph, n)
            leftover = re.sub(r"\s+", " ", "".join(junk)).strip(" " + _SEPS)
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


# ---------------------------------------------------------------------------------------------
# Context: everything the import resolves against


@dataclass
class _Entry:
    domain: str
    default_source: str
    item: ItemSrc
    origin: Literal["baseline", "county"]


@dataclass
class _Context:
    root: Path
    county: str
    departments: DepartmentsFile
    sources: SourcesFile
    lawbook: Lawbook
    baseline: dict[str, _Entry]
    county_items: dict[str, _Entry]
    county_file: CountyFile | None
    county_text: str | None
    county_item_files: dict[Path, DomainFile]
    parties: PartyMatcher
    domains: DomainMatcher
    cites: CitationParser

    @classmethod
    def load(cls, root: Path, county: str) -> _Context:
        kb = root / "kb"
        departments = read_model(kb / "departments.yaml", DepartmentsFile)
        sources = read_model(kb / "sources.yaml", SourcesFile)
        lawbook = Lawbook.load(kb / "laws" / "registry.yaml", kb / "laws")
        baseline: dict[str, _Entry] = {}
        for path in sorted((kb / "baseline").glob("*.yaml")):
            dom = read_model(path, DomainFile)
            for item in dom.items:
                baseline[item.id] = _Entry(dom.domain, dom.source, item, "baseline")
        cdir = kb / "counties" / county
        county_file = county_text = None
        if (cdir / "county.yaml").is_file():
            county_text = (cdir / "county.yaml").read_text(encoding="utf-8")
            county_file = read_model(cdir / "county.yaml", CountyFile)
        county_items: dict[str, _Entry] = {}
        files: dict[Path, DomainFile] = {}
        for path in sorted((cdir / "items").glob("*.yaml")):
            dom = read_model(path, DomainFile)
            files[path] = dom
            for item in dom.items:
                county_items[item.id] = _Entry(dom.domain, dom.source, item, "county")
        return cls(
            root, county, departments, sources, lawbook, baseline, county_items, county_file, county_text,
            files, PartyMatcher(departments), DomainMatcher(), CitationParser(lawbook),
        )

    def party_level(self, pid: str) -> str:
        for d in self.departments.departments:
            if d.id == pid:
                return d.level
            if any(a.id == pid for a in d.agencies):
                return "township"
        return "county"

    def party_name(self, pid: str) -> str:
        return self.parties.names.get(pid, pid)

    def source_id(self, text: str) -> str | None:
        k = _key(text)
        for s in self.sources.sources:
            if k in (_key(s.id), _key(s.title)):
                return s.id
        return None

    def default_source(self) -> str:
        ids = [s.id for s in self.sources.sources]
        return "src.template-list" if "src.template-list" in ids else ids[0]


# ---------------------------------------------------------------------------------------------
# Parsed rows


@dataclass
class _Row:
    sheet: str
    row: int
    cols: dict[str, int]
    values: dict[str, str]
    anchors: dict[str, tuple[int, int]]
    issues: list[Issue] = field(default_factory=list)
    name: str = ""
    domain: str | None = None
    type: str | None = None
    citations: list[CitationSrc] | None = None
    primary: list[_PartyRef] | None = None
    supporting: list[_PartyRef] | None = None
    alt_names: list[str] | None = None
    source: str | None = None
    entry: _Entry | None = None
    matched_by: str | None = None
    item_id: str | None = None
    scenarios: list[tuple[int, ScenarioSrc]] = field(default_factory=list)
    scenario_rows: list[int] = field(default_factory=list)
    scenario_sheet: str = SCENARIO_SHEET
    steps: list[tuple[int, StepSrc]] = field(default_factory=list)
    limits: list[tuple[int, TimeLimitSrc]] = field(default_factory=list)
    proc_rows: list[int] = field(default_factory=list)
    rejected: bool = False

    @property
    def failed(self) -> bool:
        return self.rejected or any(i.level == "error" for i in self.issues)

    def issue(self, level: Literal["error", "warning"], fld: str | None, message: str, spec: _HeaderSpec = _LIST_SPEC) -> None:
        col = row = None
        if fld is not None and fld in self.cols:
            row, c = self.anchors.get(fld, (self.row, self.cols[fld]))
            col = get_column_letter(c)
        self.issues.append(Issue(
            level=level, sheet=self.sheet, row=row or self.row, column=col,
            field=spec.fields.get(fld, fld) if fld else None, message=message,
        ))


@dataclass
class _AuxRow:
    sheet: str
    row: int
    cols: dict[str, int]
    values: dict[str, str]

    def issue(self, level: Literal["error", "warning"], fld: str | None, message: str, spec: _HeaderSpec) -> Issue:
        col = get_column_letter(self.cols[fld]) if fld and fld in self.cols else None
        return Issue(level=level, sheet=self.sheet, row=self.row, column=col,
                     field=spec.fields.get(fld, fld) if fld else None, message=message)


def _name_key(name: str) -> str:
    k = re.sub(r"[,，、。.;；:：“”\"'《》()（）\[\]【】]", "", _key(name))
    k = re.sub(r"^(对|关于)", "", k)
    prev = None
    while prev != k and len(k) > 3:
        prev = k
        k = re.sub(r"(的)?(行政)?(处罚|查处|监督检查|检查|行为|问题|事项)$", "", k)
    return k


class _ItemIndex:
    def __init__(self, ctx: _Context) -> None:
        self.entries: dict[str, _Entry] = {**ctx.baseline, **ctx.county_items}
        self.exact: dict[str, str] = {}
        self.loose: dict[str, str] = {}
        for iid, e in self.entries.items():
            self.exact.setdefault(_key(e.item.name), iid)
        for iid, e in self.entries.items():
            for alt in e.item.alt_names:
                self.exact.setdefault(_key(alt), iid)
        for iid, e in self.entries.items():
            for n in (e.item.name, *e.item.alt_names):
                self.loose.setdefault(_name_key(n), iid)
        self.choices = list(self.loose)

    def match(self, name: str) -> tuple[str | None, str | None]:
        k = _key(name)
        if k in self.exact:
            iid = self.exact[k]
            return iid, "name" if _key(self.entries[iid].item.name) == k else "alt-name"
        nk = _name_key(name)
        if nk in self.loose:
            return self.loose[nk], "name"
        best = process.extractOne(nk, self.choices, scorer=fuzz.ratio, score_cutoff=88)
        if best:
            return self.loose[best[0]], "fuzzy"
        return None, None


# ---------------------------------------------------------------------------------------------
# Reading the workbook


@dataclass
class _Parsed:
    rows: list[_Row]
    scenario_rows: list[_AuxRow]
    scenario_cols: dict[str, int]
    proc_rows: list[_AuxRow]
    proc_cols: dict[str, int]
    scenario_sheet: str | None
    proc_sheet: str | None


def _sheet_kind(grid: _Grid) -> tuple[str, _Header] | None:
    name = _key(grid.name)
    options = [("list", _LIST_SPEC), ("scenario", _SCENARIO_SPEC), ("proc", _PROC_SPEC)]
    if "情形" in name:
        options = [("scenario", _SCENARIO_SPEC)]
    elif "程序" in name or "时限" in name:
        options = [("proc", _PROC_SPEC)]
    found: list[tuple[int, int, str, _Header]] = []
    for n, (kind, spec) in enumerate(options):
        h = _find_header(grid, spec)
        if h is not None and all(f in h.columns for f in spec.required):
            found.append((-len(h.columns), n, kind, h))
    if not found:
        return None
    _, _, kind, h = min(found, key=lambda x: (x[0], x[1]))
    return kind, h


def _header_issues(grid: _Grid, h: _Header, spec: _HeaderSpec, report: ImportReport) -> None:
    report.header[grid.name] = {get_column_letter(c): spec.fields[f] for f, c in sorted(h.columns.items(), key=lambda x: x[1])}
    for c, text in h.unmapped:
        report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, column=get_column_letter(c),
                                   message=f"无法对应的列「{text}」,该列内容未导入"))
    for c, text, fld in h.duplicates:
        report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, column=get_column_letter(c),
                                   message=f"列「{text}」与已有的“{spec.fields[fld]}”列重复,该列内容未导入"))


def _read_workbook(path: Path, ctx: _Context, report: ImportReport) -> _Parsed | None:
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        report.issues.append(Issue(level="error", message=f"无法读取工作簿:{exc}"))
        return None
    parsed = _Parsed([], [], {}, [], {}, None, None)
    for ws in wb.worksheets:
        grid = _Grid.read(ws)
        if not grid.values:
            continue
        found = _sheet_kind(grid)
        if found is None:
            report.issues.append(Issue(level="warning", sheet=grid.name,
                                       message="未识别出清单表头(需含事项名称、主体责任、配合责任、依据等列),该工作表未导入"))
            continue
        kind, h = found
        if kind == "list":
            _header_issues(grid, h, _LIST_SPEC, report)
            for fld in ("supporting", "citations", "domain", "type", "county_duties", "township_duties"):
                if fld not in h.columns:
                    report.issues.append(Issue(level="warning", sheet=grid.name, row=h.row, message=(
                        f"缺少“{_LIST_FIELDS[fld]}”列:基线事项按基线保留,新增事项需要该列")))
            parsed.rows += _read_list_sheet(grid, h, ctx, report)
        elif kind == "scenario":
            if parsed.scenario_sheet is not None:
                report.issues.append(Issue(level="warning", sheet=grid.name, message="已有情形工作表,该工作表未导入"))
                continue
            _header_issues(grid, h, _SCENARIO_SPEC, report)
            parsed.scenario_sheet, parsed.scenario_cols = grid.name, h.columns
            parsed.scenario_rows = _aux_rows(grid, h)
        else:
            if parsed.proc_sheet is not None:
                report.issues.append(Issue(level="warning", sheet=grid.name, message="已有程序时限工作表,该工作表未导入"))
                continue
            _header_issues(grid, h, _PROC_SPEC, report)
            parsed.proc_sheet, parsed.proc_cols = grid.name, h.columns
            parsed.proc_rows = _aux_rows(grid, h)
    if not parsed.rows:
        report.issues.append(Issue(level="error", message="工作簿中没有找到清单表(表头需含事项名称、主体责任、配合责任、法律依据)"))
        return None
    return parsed


def _aux_rows(grid: _Grid, h: _Header) -> list[_AuxRow]:
    out = []
    for r in range(h.data_start, grid.max_row + 1):
        values = {f: grid.get(r, c) for f, c in h.columns.items()}
        if any(values.values()):
            out.append(_AuxRow(grid.name, r, h.columns, values))
    return out


def _read_list_sheet(grid: _Grid, h: _Header, ctx: _Context, report: ImportReport) -> list[_Row]:
    rows: list[_Row] = []
    sheet_domain = ctx.domains.match(grid.name) if _key(grid.name).lower() not in (_key(LIST_SHEET), "sheet1") else None
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
        row = _Row(grid.name, r, h.columns, values, anchors)
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


def _parse_row(row: _Row, ctx: _Context) -> None:
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
        row.alt_names = _split_list(v["alt_names"])
    elif "alt_names" in row.cols:
        row.alt_names = []
    if v.get("source"):
        row.source = ctx.source_id(v["source"])
        if row.source is None:
            row.issue("error", "source", f"未知的来源「{v['source']}」(应为 kb/sources.yaml 中的编号)")


# ---------------------------------------------------------------------------------------------
# Planning: which rows are baseline items, overrides, county items


def _cite_key(c: CitationSrc, lawbook: Lawbook) -> tuple[Any, ...]:
    versions = lawbook.versions.get(c.law) or []
    v = c.version or (versions[-1].version if versions else None)
    return (c.law, v, c.article, c.article_suffix, c.paragraph, c.clause)


def _cite_keys(cites: Iterable[CitationSrc], lawbook: Lawbook) -> set[tuple[Any, ...]]:
    return {_cite_key(c, lawbook) for c in cites}


def _same_override(a: ItemOverrideSrc, b: ItemOverrideSrc, lawbook: Lawbook) -> bool:
    """Same changes to the item (reasons aside), compared as a reader would: duty texts without
    whitespace or width differences, citations as the set of articles they resolve to."""
    def norm(ov: ItemOverrideSrc) -> tuple[Any, ...]:
        parties = tuple(tuple((p.party, _key(p.duties)) for p in ps) if ps is not None else None for ps in (ov.primary, ov.supporting))
        duties = tuple(_key(d) if d is not None else None for d in (ov.county_duties, ov.township_duties))
        cites = frozenset(_cite_keys(ov.citations, lawbook)) if ov.citations is not None else None
        return (*parties, *duties, cites)
    return norm(a) == norm(b)


def _party_src(refs: list[_PartyRef], role: str, row: _Row, ctx: _Context, known: dict[str, str]) -> list[PartySrc]:
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


def _match_rows(rows: list[_Row], ctx: _Context) -> None:
    index = _ItemIndex(ctx)
    claimed: dict[str, _Row] = {}
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
            elif _ID_RE.match(given):
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


def _attach_aux(parsed: _Parsed, ctx: _Context, report: ImportReport) -> None:
    by_id = {r.item_id: r for r in parsed.rows if r.item_id}
    by_name: dict[str, _Row] = {}
    for r in parsed.rows:
        if r.name:
            by_name.setdefault(_key(r.name), r)
            by_name.setdefault(_name_key(r.name), r)

    names = [r for r in parsed.rows if r.name]

    def fuzzy(name: str) -> _Row | None:
        k = _name_key(name)
        scored = sorted(((fuzz.ratio(k, _name_key(r.name)), r) for r in names), key=lambda x: -x[0])
        if scored and scored[0][0] >= 85:
            return scored[0][1]
        # a shortened name: contained in exactly one item name
        hits = [r for r in names if len(k) >= 4 and k in _name_key(r.name) and len(k) >= 0.5 * len(_name_key(r.name))]
        return hits[0] if len(hits) == 1 else None

    def owner(a: _AuxRow, spec: _HeaderSpec) -> _Row | None:
        iid = a.values.get("item_id", "").strip()
        name = a.values.get("item_name", "").strip()
        if iid and iid in by_id:
            return by_id[iid]
        if name:
            r = by_name.get(_key(name)) or by_name.get(_name_key(name))
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
    for a in parsed.scenario_rows:
        row = owner(a, _SCENARIO_SPEC)
        if row is None:
            continue
        row.scenario_rows.append(a.row)
        row.scenario_sheet = a.sheet
        sc = _parse_scenario(a, row, ctx, sc_counts)
        if sc is not None:
            row.scenarios.append((a.row, sc))
    for a in parsed.proc_rows:
        row = owner(a, _PROC_SPEC)
        if row is None:
            continue
        row.proc_rows.append(a.row)
        _parse_proc(a, row, ctx)


def _aux_error(row: _Row, a: _AuxRow, fld: str | None, message: str, spec: _HeaderSpec) -> None:
    row.issues.append(a.issue("error", fld, message, spec))


def _parse_scenario(a: _AuxRow, row: _Row, ctx: _Context, counts: dict[str, int]) -> ScenarioSrc | None:
    spec = _SCENARIO_SPEC
    v = a.values
    ok = True
    name = v.get("sc_name", "").strip()
    if not name:
        _aux_error(row, a, "sc_name", "情形名称为空", spec)
        ok = False
    item_id = row.item_id or "x"
    sid = v.get("sc_id", "").strip()
    if sid and not (_ID_RE.match(sid) and sid.startswith(item_id + ".")):
        tail = sid.rsplit(".", 1)[-1]
        new = f"{item_id}.{tail}" if _ID_RE.match(f"{item_id}.{tail}") else ""
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
    triggers = _split_list(v.get("triggers", ""))
    if not ok:
        return None
    try:
        return ScenarioSrc(id=sid, name=name, primary=primary, citations=citations, facts=facts, triggers=triggers)
    except ValidationError as exc:
        _aux_error(row, a, None, f"情形数据不合法:{exc.errors()[0]['msg']}", spec)
        return None


def _parse_proc(a: _AuxRow, row: _Row, ctx: _Context) -> None:
    spec = _PROC_SPEC
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


@dataclass
class _Plan:
    county_items: dict[str, tuple[str, ItemSrc, _Row | None]]  # id → (domain, item, row)
    overrides: dict[str, tuple[ItemOverrideSrc, _Row]]
    removed: list[str]
    dropped_county: list[str]


def _build_plan(rows: list[_Row], ctx: _Context, file_name: str) -> _Plan:
    county_items: dict[str, tuple[str, ItemSrc, _Row | None]] = {}
    overrides: dict[str, tuple[ItemOverrideSrc, _Row]] = {}
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
                if old is not None and _same_override(old, ov, ctx.lawbook):
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
    removed = [iid for iid in ctx.baseline if iid not in matched]
    dropped = [iid for iid in ctx.county_items if iid not in matched]
    return _Plan(county_items, overrides, removed, dropped)


def _same_parties(refs: list[_PartyRef], base: list[PartySrc]) -> bool:
    if any(p.duties for p in refs):
        return [(p.party, _key(p.duties or "")) for p in refs] == [(b.party, _key(b.duties)) for b in base]
    return {p.party for p in refs} == {b.party for b in base}


def _baseline_row(row: _Row, entry: _Entry, ctx: _Context) -> ItemOverrideSrc | None:
    """Compare a row with its baseline item: changed parties, duty texts or citations → an
    override; other differences (name, type, scenarios, procedure) are the baseline's to make,
    and are reported."""
    base = entry.item
    v = row.values

    if row.matched_by == "id" and _key(row.name) not in {_key(n) for n in (base.name, *base.alt_names)}:
        row.issue("warning", "name", f"事项名称与基线「{base.name}」不同,按基线名称保留")
    if row.type and row.type != base.type:
        row.issue("warning", "type", f"基线事项类型为“{base.type}”,按基线保留")
    update: dict[str, Any] = {}
    for fld, label in (("county_duties", "县级部门职责"), ("township_duties", "乡镇(街道)职责")):
        text = v.get(fld, "").strip() if fld in row.cols else ""
        if fld in row.cols and not text:
            row.issue("warning", fld, f"“{label}”为空,按基线保留")
        elif text and _key(text) != _key(getattr(base, fld)):
            update[fld] = text
    if row.citations is not None and not any(i.level == "error" and i.field == _LIST_FIELDS["citations"] for i in row.issues):
        if not row.citations:
            row.issue("warning", "citations", "法律依据为空,按基线保留")
        elif _cite_keys(row.citations, ctx.lawbook) != _cite_keys(base.citations, ctx.lawbook):
            update["citations"] = row.citations
    if row.alt_names is not None and [_key(a) for a in row.alt_names] != [_key(a) for a in base.alt_names]:
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
        refs: list[_PartyRef] | None = getattr(row, fld)
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
        if [(p.party, _key(p.duties)) for p in built] != [(p.party, _key(p.duties)) for p in base_list]:
            update[fld] = built
    if not update:
        return None
    return ItemOverrideSrc(item=base.id, reason="导入", **update)


def _county_row(row: _Row, entry: _Entry | None, ctx: _Context) -> ItemSrc | None:
    """A county's own item (new, or updated from the county's items files)."""
    old = entry.item if entry is not None else None
    v = row.values
    if row.primary is not None and not row.primary or (row.primary is None and old is None):
        row.issue("error", "primary", "主体责任为空")
    if row.supporting is not None and not row.supporting or (row.supporting is None and old is None):
        row.issue("error", "supporting", "配合责任为空")
    if row.citations is not None and not row.citations or (row.citations is None and old is None):
        if not any(i.level == "error" and i.field == _LIST_FIELDS["citations"] for i in row.issues):
            row.issue("error", "citations", "法律依据为空(每个事项至少引用一条法律条款)")
    item_type = row.type or (old.type if old else None)
    if item_type is None:
        row.issue("error", "type", "新增事项缺少事项类型(行政处罚、行政检查、行政强制或其他)")
    scenarios = [s for _, s in row.scenarios] or (list(old.scenarios) if old else [])
    if not scenarios:
        row.issue("error", "name", f"新增事项「{row.name}」没有情形:请在“{SCENARIO_SHEET}”工作表中为它列出情形(每个情形至少5个触发词)")
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


def _zh(message: str) -> str:
    for pat, tmpl in _PROBLEM_ZH:
        m = pat.search(message)
        if m:
            return tmpl.format(*m.groups())
    return f"校验未通过:{message}"


def _check_plan(plan: _Plan, ctx: _Context) -> list[Issue]:
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
        if row is None:
            if p.level == "error":
                loose.append(Issue(level="error", message=f"{ident}: {_zh(p.message)}"))
            continue
        sc_row = None
        if owner != ident:
            sc_row = next((r for r, s in row.scenarios if s.id == ident), None)
        if sc_row is not None:
            row.issues.append(Issue(level=p.level, sheet=row.scenario_sheet, row=sc_row,
                                    message=f"情形 {ident}:{_zh(p.message)}"))
        else:
            row.issue(p.level, None, _zh(p.message))
    return loose


# ---------------------------------------------------------------------------------------------
# Writing


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, date))


class _Block(dict):  # type: ignore[type-arg]
    """A mapping always written in block style (top level of a file)."""


def _repr_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = (not isinstance(data, _Block) and all(_scalar(v) for v in data.values())
            and sum(len(str(k)) + len(str(v)) for k, v in data.items()) < 150)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _repr_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(v, (str, int)) for v in data) and sum(len(str(v)) + 2 for v in data) < 110
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _repr_dict)
_Dumper.add_representer(_Block, _repr_dict)
_Dumper.add_representer(list, _repr_list)


def _dump(data: Any) -> str:
    if isinstance(data, dict):
        data = _Block(data)
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)


def _domain_yaml(domain: str, source: str, items: list[ItemSrc], file_name: str) -> str:
    body = {"domain": domain, "source": source, "items": [i.model_dump(exclude_defaults=True, exclude_none=True) for i in items]}
    head = f"# {DOMAINS[domain]}领域的本县事项(导入自 {file_name});不在省级基线清单中的事项。\n"
    return head + _dump(body)


def _set_block(text: str, key: str, value: Any) -> str:
    """Replace a top-level key of a YAML file, keeping every other line (and its comments)."""
    block = _dump({key: value}) if value else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*:", ln)), None)
    if start is None:
        if not block:
            return text
        if text and not text.endswith("\n"):
            text += "\n"
        return text + block
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


@dataclass
class _Files:
    county_yaml: str | None  # new text, None = unchanged
    items: dict[str, str]  # file name → text (the whole new items folder)
    items_changed: bool


def _render(plan: _Plan, ctx: _Context, file_name: str, name: str | None, example: bool) -> _Files:
    overrides = [ov.model_dump(exclude_none=True) for ov, _ in plan.overrides.values()]
    order = list(ctx.baseline)
    overrides.sort(key=lambda o: order.index(o["item"]) if o["item"] in order else len(order))
    removed = list(plan.removed)
    if ctx.county_text is None:
        head = f"# {name or ctx.county}:由 {file_name} 导入生成的县级清单。\n"
        data: dict[str, Any] = {"id": ctx.county, "name": name or ctx.county, "example": example,
                                "note": f"由 {file_name} 导入生成。"}
        text = head + _dump(data)
        text = _set_block(text, "remove_items", removed)
        county_yaml: str | None = _set_block(text, "overrides", overrides)
    else:
        cf = ctx.county_file
        assert cf is not None
        same = (set(cf.remove_items) == set(removed)
                and {o.item: o.model_dump(exclude_none=True) for o in cf.overrides} == {o["item"]: o for o in overrides})
        if same:
            county_yaml = None
        else:
            text = _set_block(ctx.county_text, "remove_items", removed)
            county_yaml = _set_block(text, "overrides", overrides)
    by_domain: dict[str, list[ItemSrc]] = {}
    for domain, item, _ in plan.county_items.values():
        by_domain.setdefault(domain, []).append(item)
    items: dict[str, str] = {}
    existing = {p.name: d for p, d in ctx.county_item_files.items()}
    changed = False
    for domain in DOMAINS:
        if domain not in by_domain:
            continue
        fname = f"{domain}.yaml"
        old = existing.get(fname)
        source = old.source if old else ctx.default_source()
        if old is not None and old.domain == domain and old.items == by_domain[domain]:
            items[fname] = (ctx.root / "kb" / "counties" / ctx.county / "items" / fname).read_text(encoding="utf-8")
        else:
            items[fname] = _domain_yaml(domain, source, by_domain[domain], file_name)
            changed = True
    if set(items) != set(existing):
        changed = True
    return _Files(county_yaml, items, changed)


def _apply(files: _Files, root: Path, county: str) -> list[str]:
    """Write through temporary files and renames, so a failure never leaves a half-written list."""
    cdir = root / "kb" / "counties" / county
    cdir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    tmp_items = tmp_county = None
    try:
        if files.items_changed:
            tmp_items = Path(tempfile.mkdtemp(prefix=".items-", dir=cdir))
            for fname, text in files.items.items():
                (tmp_items / fname).write_text(text, encoding="utf-8")
        if files.county_yaml is not None:
            fd, tmp = tempfile.mkstemp(prefix=".county-", suffix=".yaml", dir=cdir)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(files.county_yaml)
            tmp_county = Path(tmp)
        # everything is on disk: swap it in
        if tmp_items is not None:
            items_dir = cdir / "items"
            old = None
            if items_dir.exists():
                old = cdir / f".items-old-{os.getpid()}"
                items_dir.rename(old)
            tmp_items.rename(items_dir)
            tmp_items = None
            if old is not None:
                shutil.rmtree(old)
            written += [f"kb/counties/{county}/items/{f}" for f in files.items]
        if tmp_county is not None:
            os.replace(tmp_county, cdir / "county.yaml")
            tmp_county = None
            written.insert(0, f"kb/counties/{county}/county.yaml")
    finally:
        if tmp_items is not None:
            shutil.rmtree(tmp_items, ignore_errors=True)
        if tmp_county is not None:
            tmp_county.unlink(missing_ok=True)
    return written


def _trial_load(files: _Files, ctx: _Context, shacl: bool) -> list[str]:
    """Load the county from a temporary copy of kb/ with the new files; the errors, if any."""
    with tempfile.TemporaryDirectory(prefix="shudi-import-") as tmp:
        troot = Path(tmp)
        shutil.copytree(ctx.root / "kb", troot / "kb", ignore=shutil.ignore_patterns(".*"))
        if shacl and (ctx.root / "ontologies").is_dir():
            shutil.copytree(ctx.root / "ontologies", troot / "ontologies")
        cdir = troot / "kb" / "counties" / ctx.county
        cdir.mkdir(parents=True, exist_ok=True)
        if files.county_yaml is not None:
            (cdir / "county.yaml").write_text(files.county_yaml, encoding="utf-8")
        if files.items_changed:
            shutil.rmtree(cdir / "items", ignore_errors=True)
            (cdir / "items").mkdir()
            for fname, text in files.items.items():
                (cdir / "items" / fname).write_text(text, encoding="utf-8")
        try:
            loaded = load(ctx.county, troot, use_cache=False)
        except (KBLoadError, KBSourceError) as exc:
            return str(exc).splitlines()
        if shacl and (troot / "ontologies").is_dir():
            from .validate import shacl_problems

            return shacl_problems(loaded.graph, troot)
    return []


# ---------------------------------------------------------------------------------------------
# Import


def import_workbook(
    path: Path | str,
    root: Path | None = None,
    county: str = DEFAULT_COUNTY,
    *,
    name: str | None = None,
    partial: bool = False,
    example: bool = True,
    dry_run: bool = False,
    shacl: bool = False,
) -> ImportReport:
    """Import a county's list from a workbook into kb/counties/<county>/.

    Writes county.yaml (remove_items, overrides; created with `name` and `example` when the
    county is new) and items/<domain>.yaml (items not in the baseline) — only when the whole
    import validates, or with `partial` the rows that do (the others are reported and left as
    the county had them).  `dry_run` checks without writing; `shacl` also runs the SHACL shapes
    on the result (slower)."""
    root = Path(root) if root is not None else project_root()
    path = Path(path)
    report = ImportReport(file=str(path), county=county, partial=partial, dry_run=dry_run)
    try:
        ctx = _Context.load(root, county)
    except (KBSourceError, ValueError, OSError) as exc:  # ValueError: a statute text that does not parse
        report.issues.append(Issue(level="error", message=f"知识库本身无法读取:{exc}"))
        return report
    parsed = _read_workbook(path, ctx, report)
    if parsed is None:
        return report
    _match_rows(parsed.rows, ctx)
    _attach_aux(parsed, ctx, report)
    file_name = path.name
    fatal = [i for i in report.issues if i.level == "error"]  # workbook-level problems so far
    aux_errors = list(fatal)
    fatal = [i for i in fatal if i.sheet is None]

    plan = _build_plan(parsed.rows, ctx, file_name)
    loose = _check_plan(plan, ctx)
    if partial:
        for _ in range(5):  # drop failing rows until the rest checks clean
            if not any(r.failed and r.item_id in plan.county_items for r in parsed.rows):
                break
            plan = _build_plan(parsed.rows, ctx, file_name)
            loose = _check_plan(plan, ctx)
    files = None
    load_errors: list[str] = []
    row_errors = any(r.failed for r in parsed.rows)
    can_write = not fatal and not loose and (partial or (not row_errors and not aux_errors))
    if can_write:
        files = _render(plan, ctx, file_name, name, example)
        load_errors = _trial_load(files, ctx, shacl)
        if load_errors and partial:
            # attribute what we can to rows, drop them, try once more
            rows_by_id = {r.item_id: r for r in parsed.rows if r.item_id}
            hit = False
            for line in load_errors:
                for iid, r in rows_by_id.items():
                    if re.search(rf"(?<![\w.-]){re.escape(iid)}(?![\w-])", line):
                        r.issue("error", None, _zh(line))
                        hit = True
            if hit:
                plan = _build_plan(parsed.rows, ctx, file_name)
                _check_plan(plan, ctx)
                files = _render(plan, ctx, file_name, name, example)
                load_errors = _trial_load(files, ctx, shacl)
        for line in load_errors:
            report.issues.append(Issue(level="error", message=f"导入结果未通过校验:{line}"))
    report.issues += loose
    # outcomes
    for r in parsed.rows:
        if r.failed:
            status: RowStatus = "rejected"
        elif r.entry is not None and r.entry.origin == "baseline":
            status = "override" if r.entry.item.id in plan.overrides else "unchanged"
        elif r.entry is not None:
            status = "county"
        else:
            status = "new"
        report.rows.append(RowOutcome(sheet=r.sheet, row=r.row, name=r.name, item_id=r.item_id, domain=r.domain,
                                      status=status, matched_by=r.matched_by))
        report.issues += r.issues
    report.new_items = [r.item_id for r in parsed.rows if not r.failed and r.entry is None and r.item_id]
    report.overridden = [iid for iid, (ov, row) in plan.overrides.items() if not row.failed]
    report.removed = plan.removed
    report.dropped_county_items = plan.dropped_county
    report.issues = _sorted_issues(report.issues, parsed)
    report.ok = can_write and not load_errors
    if report.ok and files is not None and not dry_run:
        try:
            report.files = _apply(files, root, county)
        except OSError as exc:
            report.ok = False
            report.issues.insert(0, Issue(level="error", message=f"写入 kb/counties/{county}/ 失败:{exc}(请检查该目录)"))
        report.written = bool(report.files)
    return report


def _sorted_issues(issues: list[Issue], parsed: _Parsed) -> list[Issue]:
    order: dict[str | None, int] = {None: -1}
    for r in parsed.rows:
        order.setdefault(r.sheet, len(order))
    order.setdefault(parsed.scenario_sheet, len(order))
    order.setdefault(parsed.proc_sheet, len(order))
    seen: set[tuple[Any, ...]] = set()
    out = []
    for i in issues:
        k = (i.level, i.sheet, i.row, i.column, i.message)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return sorted(out, key=lambda i: (i.level != "error", order.get(i.sheet, 99), i.row or 0, i.column or ""))


# ---------------------------------------------------------------------------------------------
# Export

_LIST_HEADERS = ["序号", "领域", "事项类型", "事项名称", "县级部门职责", "乡镇(街道)职责", "法律法规及文件依据",
                 "主体责任", "配合责任", "事项编码", "别名", "来源"]
_LIST_WIDTHS = [6, 12, 10, 22, 48, 48, 40, 36, 48, 30, 24, 22]
_SCENARIO_HEADERS = ["事项编码", "事项名称", "情形编码", "情形名称", "主体责任", "依据", "触发词", "事实"]
_SCENARIO_WIDTHS = [30, 22, 44, 36, 20, 40, 70, 24]
_PROC_HEADERS = ["事项编码", "事项名称", "类别", "环节", "实施主体", "内容", "工作日", "自然日", "小时", "依据"]
_PROC_WIDTHS = [30, 22, 8, 28, 22, 60, 8, 8, 8, 36]

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _put(ws: Worksheet, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    cell.alignment = _WRAP
    cell.border = _BORDER


def _header_row(ws: Worksheet, row: int, headers: list[str], widths: list[int]) -> None:
    for c, (h, w) in enumerate(zip(headers, widths), 1):
        cell = ws.cell(row=row, column=c, value=h)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(c)].width = w


def _parties_cell(parties: Iterable[Any], kb: KnowledgeBase) -> str:
    return "\n".join(f"{kb.department_name(p.party)}：{p.duties}" for p in parties)


def _join_triggers(triggers: Iterable[str]) -> str:
    ts = list(triggers)
    return ("\n" if any(re.search(r"[、，,；;\n]", t) for t in ts) else "、").join(ts)


def export_workbook(root: Path | None, county: str, path: Path | str) -> ExportReport:
    """Write the county's resolved list as the published table (sheet 清单) with the scenarios
    (sheet 情形) and procedures and time limits (sheet 程序时限)."""
    root = Path(root) if root is not None else project_root()
    path = Path(path)
    loaded = load(county, root)
    kb = loaded.kb
    lb = kb.lawbook
    order = list(DOMAINS)
    items = sorted(kb.items.values(), key=lambda i: order.index(i.domain) if i.domain in order else len(order))
    wb = Workbook()
    ws = wb.active
    ws.title = LIST_SHEET
    ncols = len(_LIST_HEADERS)
    ws.cell(row=1, column=1, value=f"{loaded.county.name}“属地管理”事项主体责任和配合责任清单")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
    ws.cell(row=1, column=1).font = Font(bold=True, size=16)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 32
    _header_row(ws, 2, _LIST_HEADERS, _LIST_WIDTHS)
    r = 3
    block_start: dict[str, int] = {}
    block_end: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        default_source = item.source
        values = [
            n,
            DOMAINS.get(item.domain, item.domain),
            item.type,
            item.name,
            item.county_duties,
            item.township_duties,
            "\n".join(citation_label(c, lb) for c in item.citations),
            _parties_cell(item.primary, kb),
            _parties_cell(item.supporting, kb),
            item.id,
            "、".join(item.alt_names),
            default_source,
        ]
        for c, value in enumerate(values, 1):
            _put(ws, r, c, value)
        block_start.setdefault(item.domain, r)
        block_end[item.domain] = r
        r += 1
    for domain, start in block_start.items():
        if block_end[domain] > start:
            ws.merge_cells(start_row=start, start_column=2, end_row=block_end[domain], end_column=2)
    for c in (10, 11, 12):
        ws.column_dimensions[get_column_letter(c)].hidden = True
    ws.freeze_panes = "E3"
    ws.auto_filter.ref = f"A2:{get_column_letter(ncols)}{max(r - 1, 2)}"

    sc = wb.create_sheet(SCENARIO_SHEET)
    _header_row(sc, 1, _SCENARIO_HEADERS, _SCENARIO_WIDTHS)
    nsc = 0
    r = 2
    for item in items:
        for s in item.scenarios:
            values = [
                item.id, item.name, s.id, s.name,
                "、".join(kb.department_name(p) for p in s.primary_override),
                "\n".join(citation_label(c, lb) for c in s.citations),
                _join_triggers(s.triggers),
                json.dumps(s.facts, ensure_ascii=False) if s.facts else "",
            ]
            for c, value in enumerate(values, 1):
                _put(sc, r, c, value)
            r += 1
            nsc += 1
    sc.freeze_panes = "C2"

    pr = wb.create_sheet(PROCEDURE_SHEET)
    _header_row(pr, 1, _PROC_HEADERS, _PROC_WIDTHS)
    nsteps = nlimits = 0
    r = 2
    for item in items:
        for step in item.procedure:
            for c, value in enumerate([item.id, item.name, "程序", step.step, kb.department_name(step.actor), step.text], 1):
                _put(pr, r, c, value)
            r += 1
            nsteps += 1
        for tl in item.time_limits:
            basis = citation_label(tl.basis, lb) if tl.basis else (tl.source or "")
            values = [item.id, item.name, "时限", tl.what, "", tl.limit, tl.working_days, tl.days, tl.hours, basis]
            for c, value in enumerate(values, 1):
                _put(pr, r, c, value)
            r += 1
            nlimits += 1
    pr.freeze_panes = "C2"

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return ExportReport(path=str(path), county=county, items=len(items), scenarios=nsc, steps=nsteps, time_limits=nlimits)


__all__ = [
    "CitationParser",
    "DomainMatcher",
    "ExportReport",
    "ImportReport",
    "Issue",
    "PartyMatcher",
    "RowOutcome",
    "citation_label",
    "export_workbook",
    "import_workbook",
    "map_item_type",
    "parse_parties",
]

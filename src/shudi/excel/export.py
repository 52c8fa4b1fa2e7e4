"""export_workbook: the county's resolved list as the published table, plus 情形 and 程序时限."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..citations import citation_label
from ..kb import load, project_root
from ..model import KnowledgeBase
from ..source import DOMAINS
from .grid import FACT_VALUES, SCENARIO_SPEC
from .profile import write_profile_sheets
from .report import ExportReport
from .text import LIST_SHEET, PROCEDURE_SHEET, SCENARIO_SHEET

_LIST_HEADERS = ["序号", "领域", "事项类型", "事项名称", "县级部门职责", "乡镇(街道)职责", "法律法规及文件依据",
                 "主体责任", "配合责任", "事项编码", "别名", "来源", "职责依据"]
_LIST_WIDTHS = [6, 12, 10, 22, 48, 48, 40, 36, 48, 30, 24, 22, 48]
_FACTS = [f for f in FACT_VALUES if f in SCENARIO_SPEC.fields]  # conditions, one plain column each
_SCENARIO_HEADERS = ["事项编码", "事项名称", "情形编码", "情形名称", "主体责任", "依据", "触发词",
                     *(SCENARIO_SPEC.fields[f] for f in _FACTS), "事实"]
_SCENARIO_WIDTHS = [30, 22, 44, 36, 20, 40, 70, *(10 for _ in _FACTS), 24]


def _fact_cells(facts: dict[str, str | bool]) -> list[str]:
    """Conditions as words in their own columns (是否持证: 否); a fact with no column of its own
    goes to 事实 as JSON."""
    cells = []
    for f in _FACTS:
        value = facts.get(f)
        cells.append(next((text for text, v in FACT_VALUES[f].items() if v == value and type(v) is type(value)), "") if f in facts else "")
    rest = {k: v for k, v in facts.items() if k not in _FACTS}
    return [*cells, json.dumps(rest, ensure_ascii=False) if rest else ""]
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


def _duty_citations_cell(item: Any, kb: KnowledgeBase) -> str:
    """The articles each duty rests on: 县自然资源局(主体责任):《…》第七十七条."""
    return "\n".join(f"{kb.department_name(p.party)}({role}):" + "；".join(citation_label(c, kb.lawbook) for c in p.citations)
                     for role, parties in (("主体责任", item.primary), ("配合责任", item.supporting)) for p in parties if p.citations)


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
            _duty_citations_cell(item, kb),
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
                *_fact_cells(s.facts),
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
    write_profile_sheets(wb, loaded.county, kb, _put, _header_row)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return ExportReport(path=str(path), county=county, items=len(items), scenarios=nsc, steps=nsteps, time_limits=nlimits)



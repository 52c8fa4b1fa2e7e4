"""A worksheet as a grid of texts with merged cells filled, and its header row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from openpyxl.worksheet.worksheet import Worksheet
from rapidfuzz import fuzz, process

from ..kb import project_root
from .limits import MAX_COLS, MAX_ROWS
from ..source import DOMAIN_LIST
from .text import cell_text, compact


@dataclass
class HeaderSpec:
    fields: dict[str, str]
    synonyms: dict[str, list[str]]
    keywords: list[tuple[str, tuple[str, ...]]]
    required: tuple[str, ...]

    def __post_init__(self) -> None:
        self.exact = {self.norm(s): f for f, syns in self.synonyms.items() for s in syns}
        self.choices = list(self.exact)

    @staticmethod
    def norm(text: str) -> str:
        return re.sub(r"[、,，.。:：;；/\\\-\s*★※]", "", compact(text)).lower()

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


def _load_specs(path: Path) -> dict[str, HeaderSpec]:
    """The header vocabulary (rules/excel-headers.yaml): data, so a county's own wording is
    added there, not in code."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs: dict[str, HeaderSpec] = {}
    for sheet in ("list", "scenario", "procedure", "township", "contact"):
        d = data[sheet]
        fields = {f: v["label"] for f, v in d["fields"].items()}
        synonyms = {f: [str(s) for s in v.get("synonyms", [])] for f, v in d["fields"].items()}
        keywords = [(f, tuple(d["fields"][f].get("keywords", []))) for f in d.get("keyword_order", [])]
        specs[sheet] = HeaderSpec(fields, synonyms, keywords, tuple(d["required"]))
    return specs


HEADERS_FILE = project_root() / "rules" / "excel-headers.yaml"
_SPECS = _load_specs(HEADERS_FILE)
LIST_SPEC = _SPECS["list"]
SCENARIO_SPEC = _SPECS["scenario"]
PROC_SPEC = _SPECS["procedure"]
TOWNSHIP_SPEC = _SPECS["township"]
CONTACT_SPEC = _SPECS["contact"]
LIST_FIELDS = LIST_SPEC.fields
_DATA = yaml.safe_load(HEADERS_FILE.read_text(encoding="utf-8"))
DOMAIN_SYNONYMS: dict[str, list[str]] = {d.id: [d.name, *d.synonyms] for d in DOMAIN_LIST}  # kb/domains.yaml
# plain condition columns of the 情形 sheet: fact → {cell text → value}
FACT_VALUES: dict[str, dict[str, str | bool]] = {f: {str(k): v for k, v in m.items()} for f, m in _DATA["fact_values"].items()}

@dataclass
class Grid:
    name: str
    values: dict[tuple[int, int], str]
    anchor: dict[tuple[int, int], tuple[int, int]]  # merged cell → its top-left cell
    hspan: dict[tuple[int, int], int]  # merged cell → number of columns merged
    max_row: int
    max_col: int

    @classmethod
    def read(cls, ws: Worksheet) -> Grid:
        """The sheet's texts (the workbook's declared size was checked before it was opened:
        limits.check_workbook)."""
        values: dict[tuple[int, int], str] = {}
        for row in ws.iter_rows(max_row=min(ws.max_row or 0, MAX_ROWS), max_col=min(ws.max_column or 0, MAX_COLS)):
            for cell in row:
                text = cell_text(cell.value)
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
class Header:
    row: int
    data_start: int
    columns: dict[str, int]  # field → column
    unmapped: list[tuple[int, str]]
    duplicates: list[tuple[int, str, str]]


def find_header(grid: Grid, spec: HeaderSpec, scan_rows: int = 20) -> Header | None:
    best: Header | None = None
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
            best = Header(r, r + 1, columns, unmapped, dups)
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

"""Everything an import resolves against (the KB as it is), and the rows being read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from openpyxl.utils import get_column_letter

from ..citations import CitationParser
from ..lawbook import Lawbook
from ..source import CitationSrc, CountyFile, DepartmentsFile, DomainFile, ItemSrc, ScenarioSrc, SourcesFile, StepSrc, TimeLimitSrc, read_model
from .grid import LIST_SPEC, Grid, Header, HeaderSpec
from .parties import DomainMatcher, PartyMatcher, PartyRef
from .report import Issue
from .text import SCENARIO_SHEET, compact

@dataclass
class Entry:
    domain: str
    default_source: str
    item: ItemSrc
    origin: Literal["baseline", "county"]


@dataclass
class Context:
    root: Path
    county: str
    departments: DepartmentsFile
    sources: SourcesFile
    lawbook: Lawbook
    baseline: dict[str, Entry]
    county_items: dict[str, Entry]
    county_file: CountyFile | None
    county_text: str | None
    county_item_files: dict[Path, DomainFile]
    parties: PartyMatcher
    domains: DomainMatcher
    cites: CitationParser

    @classmethod
    def load(cls, root: Path, county: str) -> Context:
        kb = root / "kb"
        departments = read_model(kb / "departments.yaml", DepartmentsFile)
        sources = read_model(kb / "sources.yaml", SourcesFile)
        lawbook = Lawbook.load(kb / "laws" / "registry.yaml", kb / "laws")
        baseline: dict[str, Entry] = {}
        for path in sorted((kb / "baseline").glob("*.yaml")):
            dom = read_model(path, DomainFile)
            for item in dom.items:
                baseline[item.id] = Entry(dom.domain, dom.source, item, "baseline")
        cdir = kb / "counties" / county
        county_file = county_text = None
        if (cdir / "county.yaml").is_file():
            county_text = (cdir / "county.yaml").read_text(encoding="utf-8")
            county_file = read_model(cdir / "county.yaml", CountyFile)
        county_items: dict[str, Entry] = {}
        files: dict[Path, DomainFile] = {}
        for path in sorted((cdir / "items").glob("*.yaml")):
            dom = read_model(path, DomainFile)
            files[path] = dom
            for item in dom.items:
                county_items[item.id] = Entry(dom.domain, dom.source, item, "county")
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
        k = compact(text)
        for s in self.sources.sources:
            if k in (compact(s.id), compact(s.title)):
                return s.id
        return None

    def default_source(self) -> str:
        ids = [s.id for s in self.sources.sources]
        return "src.template-list" if "src.template-list" in ids else ids[0]


# ---------------------------------------------------------------------------------------------
# Parsed rows


@dataclass
class Cells:
    """A row of a sheet: where it stands, its columns by field, its values by field."""
    sheet: str
    row: int
    cols: dict[str, int]
    values: dict[str, str]


@dataclass
class Row(Cells):
    """A row of the list sheet: one matter, as read and then matched to the list."""
    anchors: dict[str, tuple[int, int]]
    issues: list[Issue] = field(default_factory=list)
    name: str = ""
    domain: str | None = None
    type: str | None = None
    citations: list[CitationSrc] | None = None
    primary: list[PartyRef] | None = None
    supporting: list[PartyRef] | None = None
    alt_names: list[str] | None = None
    source: str | None = None
    entry: Entry | None = None
    matched_by: str | None = None
    confidence: float | None = None  # how sure the row is that item (1.0: by id or exact name)
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

    def issue(self, level: Literal["error", "warning"], fld: str | None, message: str, spec: HeaderSpec = LIST_SPEC) -> None:
        # a merged cell's problem points at the cell where its text stands (its anchor)
        row, col = self.anchors.get(fld, (self.row, self.cols[fld])) if fld is not None and fld in self.cols else (self.row, None)
        self.issues.append(cell_issue(level, self.sheet, row, col, fld, message, spec))


@dataclass
class AuxRow(Cells):
    """A row of a 情形, 程序时限, 乡镇 or 联系方式 sheet."""

    def issue(self, level: Literal["error", "warning"], fld: str | None, message: str, spec: HeaderSpec) -> Issue:
        return cell_issue(level, self.sheet, self.row, self.cols.get(fld) if fld else None, fld, message, spec)


def aux_rows(grid: Grid, h: Header) -> list[AuxRow]:
    """The non-empty rows under a header of a 情形, 程序时限, 乡镇 or 联系方式 sheet."""
    out = []
    for r in range(h.data_start, grid.max_row + 1):
        values = {f: grid.get(r, c) for f, c in h.columns.items()}
        if any(values.values()):
            out.append(AuxRow(grid.name, r, h.columns, values))
    return out


def cell_issue(level: Literal["error", "warning"], sheet: str, row: int, col: int | None, fld: str | None,
               message: str, spec: HeaderSpec) -> Issue:
    """A problem at a cell, named by the column's letter and the header's own words."""
    return Issue(level=level, sheet=sheet, row=row, column=get_column_letter(col) if col else None,
                 field=spec.fields.get(fld, fld) if fld else None, message=message)

"""Import and export reports: every problem located by sheet, row and column."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel


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


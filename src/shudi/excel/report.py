"""Import and export reports: every problem located by sheet, row and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

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
    matched_by: str | None = None  # review / id / name / alt-name / meaning / None (new item)
    confidence: float | None = None  # of the mapping (or, for a new matter, that it is new)
    problems: list[str] = []  # this row's errors and warnings, located ("清单!H12 …")

    def review(self) -> dict[str, Any]:
        """The row as the review table shows it (shudi list import --json)."""
        status = "error" if self.status == "rejected" else "new" if self.status == "new" or self.item_id is None else "mapped"
        return {"sheet": self.sheet, "row": self.row, "name": self.name,
                "item": self.item_id if status == "mapped" or self.status == "rejected" and self.matched_by else None,
                "status": status, "outcome": self.status, "matched_by": self.matched_by,
                "confidence": self.confidence, "problems": self.problems}


class ImportReport(BaseModel):
    file: str
    county: str
    partial: bool = False
    replace_list: bool = False
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
    kept_missing: list[str] = []  # baseline items the table does not list, kept (no --replace-list)
    ops: list[dict[str, Any]] = []  # the change set (shudi.countyfiles ops), as a proposal carries it
    proposal: int | None = None  # the proposal the import became, if any
    issues: list[Issue] = []

    def review(self) -> dict[str, Any]:
        """One JSON object: the review table and what the import would change."""
        return {"file": Path(self.file).name, "county": self.county, "ok": self.ok, "written": self.written,
                "dry_run": self.dry_run, "proposal": self.proposal, "rows": [r.review() for r in self.rows],
                "removed": self.removed, "kept_missing": self.kept_missing, "new_items": self.new_items,
                "overridden": self.overridden, "changes": len(self.ops),
                "issues": [{"level": i.level, "where": i.where(), "field": i.field, "message": i.message} for i in self.issues]}

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "warning"]

    @property
    def rejected_rows(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status == "rejected"]

    def _outcome_text(self) -> str:
        if self.dry_run:
            return "(试运行,未写入)"
        if self.proposal is not None:
            return f"已作为变更申请 #{self.proposal} " + ("批准并生效。" if self.written else "提交,经审核人批准后生效。")
        if self.written:
            return "已写入:" + "、".join(self.files)
        return "无需变更。" if self.ok and not self.ops else "未写入任何文件。"

    def to_text(self) -> str:
        counts = {s: sum(r.status == s for r in self.rows) for s in ("unchanged", "override", "county", "new", "rejected")}
        lines = [
            f"导入 {Path(self.file).name} → {self.county}:共 {len(self.rows)} 个事项行;"
            f"沿用基线 {counts['unchanged']} 项,调整责任 {counts['override']} 项,本县事项 {counts['county']} 项,"
            f"新增 {counts['new']} 项,未导入 {counts['rejected']} 项;取消基线事项 {len(self.removed)} 项。",
            f"错误 {len(self.errors)} 个,警告 {len(self.warnings)} 个。"
            + self._outcome_text(),
        ]
        lines += [str(i) for i in self.errors]
        lines += [str(i) for i in self.warnings]
        lines += [f"本县清单不含基线事项:{iid}" for iid in self.removed]
        if self.kept_missing:
            lines.append(f"表中未列出的基线事项 {len(self.kept_missing)} 项,保留(如需取消请加 --replace-list):"
                         + "、".join(self.kept_missing))
        return "\n".join(lines)


class ExportReport(BaseModel):
    path: str
    county: str
    items: int
    scenarios: int
    steps: int
    time_limits: int


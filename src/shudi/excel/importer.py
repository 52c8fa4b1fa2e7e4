"""import_workbook: read, match, plan, check — and write, or hand the change set to a proposal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..countyfiles import CountyIdError, check_county_id
from ..kb import DEFAULT_COUNTY, project_root
from ..source import KBSourceError
from .context import Context
from .matching import Classify, match_rows
from .plan import Plan, build_plan, check_plan, problem_zh
from .profile import read_contacts, read_townships
from .reader import Parsed, attach_aux, read_workbook
from .report import ImportReport, Issue, RowOutcome, RowStatus
from .write import plan_ops, trial_load, write_ops


def import_workbook(
    path: Path | str,
    root: Path | None = None,
    county: str = DEFAULT_COUNTY,
    *,
    name: str | None = None,
    partial: bool = False,
    replace_list: bool = False,
    example: bool = False,
    dry_run: bool = False,
    write: bool = True,
    shacl: bool = False,
    classify: Classify | None = None,
) -> ImportReport:
    """Import a county's list from a workbook into kb/counties/<county>/.

    The result is a change set (report.ops): overrides of baseline items, the county's own items,
    removals — and the townships and contacts when the workbook has those sheets.  Nothing is
    removed that the table did not ask to remove: a baseline item missing from the table is
    removed only with `replace_list`; `partial` (write what validates, report the rest) never
    removes.  The change set is written — atomically, by the one county writer — only when the
    whole import validates (or with `partial` the rows that do), and not with `dry_run` or
    `write=False` (the CLI then files it as a proposal).  `classify` (text → [(item, score)])
    lets the matcher use the classifier's reading of each row; `shacl` also runs the shapes."""
    root = Path(root) if root is not None else project_root()
    path = Path(path)
    report = ImportReport(file=str(path), county=county, partial=partial, replace_list=replace_list, dry_run=dry_run)
    try:
        check_county_id(county)
    except CountyIdError as exc:
        report.issues.append(Issue(level="error", message=str(exc)))
        return report
    if partial and replace_list:
        report.issues.append(Issue(level="error", message="--partial 与 --replace-list 不能同时使用:部分导入从不取消事项 / "
                                                          "--partial never removes items; it cannot be combined with --replace-list"))
        return report
    try:
        ctx = Context.load(root, county)
    except (KBSourceError, ValueError, OSError) as exc:  # ValueError: a statute text that does not parse
        report.issues.append(Issue(level="error", message=f"知识库本身无法读取:{exc}"))
        return report
    parsed = read_workbook(path, ctx, report)
    if parsed is None:
        return report
    match_rows(parsed.rows, ctx, classify)
    attach_aux(parsed, ctx, report)
    townships = contacts = None
    office_hours: str | None = None
    if "township" in parsed.profile_sheets:
        townships = read_townships(*parsed.profile_sheets["township"], report)
    if "contact" in parsed.profile_sheets:
        contacts, office_hours = read_contacts(*parsed.profile_sheets["contact"], ctx, report)
    if ctx.county_file is None and townships is None:
        report.issues.append(Issue(level="warning", message=f"工作簿没有“乡镇”工作表:新县没有乡镇(街道)名单,预审无法识别乡镇;"
                                                            f"请补充该工作表或用 shudi list townships --county {county} 添加"))
    file_name = path.name
    fatal = [i for i in report.issues if i.level == "error"]  # workbook-level problems so far
    aux_errors = list(fatal)
    fatal = [i for i in fatal if i.sheet is None]

    plan = build_plan(parsed.rows, ctx, file_name, replace_list)
    loose = check_plan(plan, ctx)
    if partial:
        for _ in range(5):  # drop failing rows until the rest checks clean
            if not any(r.failed and r.item_id in plan.county_items for r in parsed.rows):
                break
            plan = build_plan(parsed.rows, ctx, file_name, replace_list)
            loose = check_plan(plan, ctx)
    ops: list[Any] = []
    load_errors: list[str] = []
    row_errors = any(r.failed for r in parsed.rows)
    can_write = not fatal and not loose and (partial or (not row_errors and not aux_errors))
    if can_write:
        ops = plan_ops(plan, ctx, file_name, name, example, townships, contacts, office_hours)
        load_errors = trial_load(ops, ctx, shacl)
        if load_errors and partial:
            # attribute what we can to rows, drop them, try once more
            rows_by_id = {r.item_id: r for r in parsed.rows if r.item_id}
            hit = False
            for line in load_errors:
                for iid, r in rows_by_id.items():
                    if re.search(rf"(?<![\w.-]){re.escape(iid)}(?![\w-])", line):
                        r.issue("error", None, problem_zh(line))
                        hit = True
            if hit:
                plan = build_plan(parsed.rows, ctx, file_name, replace_list)
                check_plan(plan, ctx)
                ops = plan_ops(plan, ctx, file_name, name, example, townships, contacts, office_hours)
                load_errors = trial_load(ops, ctx, shacl)
        for line in load_errors:
            report.issues.append(Issue(level="error", message=f"导入结果未通过校验:{line}"))
    report.issues += loose
    _outcomes(report, parsed, plan)
    report.issues = _sorted_issues(report.issues, parsed)
    report.ok = can_write and not load_errors
    report.ops = [op.model_dump(mode="json") for op in ops] if report.ok else []
    if report.ok and ops and write and not dry_run:
        try:
            report.files = write_ops(root, county, ops, set(ctx.baseline))
        except OSError as exc:
            report.ok = False
            report.issues.insert(0, Issue(level="error", message=f"写入 kb/counties/{county}/ 失败:{exc.strerror}(请检查该目录)"))
        report.written = bool(report.files)
    return report


def _outcomes(report: ImportReport, parsed: Parsed, plan: Plan) -> None:
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
                                      status=status, matched_by=r.matched_by, confidence=r.confidence,
                                      problems=[str(i) for i in r.issues]))
        report.issues += r.issues
    report.new_items = [r.item_id for r in parsed.rows if not r.failed and r.entry is None and r.item_id]
    report.overridden = [iid for iid, (ov, row) in plan.overrides.items() if row is not None and not row.failed]
    report.removed = plan.removed
    report.dropped_county_items = plan.dropped_county
    report.kept_missing = plan.kept_missing


def _sorted_issues(issues: list[Issue], parsed: Parsed) -> list[Issue]:
    order: dict[str | None, int] = {None: -1}
    for r in parsed.rows:
        order.setdefault(r.sheet, len(order))
    for kind in ("scenario", "proc"):
        order.setdefault(parsed.aux_sheet(kind), len(order))
    seen: set[tuple[Any, ...]] = set()
    out = []
    for i in issues:
        k = (i.level, i.sheet, i.row, i.column, i.message)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return sorted(out, key=lambda i: (i.level != "error", order.get(i.sheet, 99), i.row or 0, i.column or ""))

"""import_workbook: read, match, plan, check, write."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..kb import DEFAULT_COUNTY, project_root
from ..source import KBSourceError
from .context import Context
from .matching import match_rows
from .plan import build_plan, check_plan, problem_zh
from .reader import Parsed, attach_aux, read_workbook
from .report import ImportReport, Issue, RowOutcome, RowStatus
from .write import apply_files, render, trial_load

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
        ctx = Context.load(root, county)
    except (KBSourceError, ValueError, OSError) as exc:  # ValueError: a statute text that does not parse
        report.issues.append(Issue(level="error", message=f"知识库本身无法读取:{exc}"))
        return report
    parsed = read_workbook(path, ctx, report)
    if parsed is None:
        return report
    match_rows(parsed.rows, ctx)
    attach_aux(parsed, ctx, report)
    file_name = path.name
    fatal = [i for i in report.issues if i.level == "error"]  # workbook-level problems so far
    aux_errors = list(fatal)
    fatal = [i for i in fatal if i.sheet is None]

    plan = build_plan(parsed.rows, ctx, file_name)
    loose = check_plan(plan, ctx)
    if partial:
        for _ in range(5):  # drop failing rows until the rest checks clean
            if not any(r.failed and r.item_id in plan.county_items for r in parsed.rows):
                break
            plan = build_plan(parsed.rows, ctx, file_name)
            loose = check_plan(plan, ctx)
    files = None
    load_errors: list[str] = []
    row_errors = any(r.failed for r in parsed.rows)
    can_write = not fatal and not loose and (partial or (not row_errors and not aux_errors))
    if can_write:
        files = render(plan, ctx, file_name, name, example)
        load_errors = trial_load(files, ctx, shacl)
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
                plan = build_plan(parsed.rows, ctx, file_name)
                check_plan(plan, ctx)
                files = render(plan, ctx, file_name, name, example)
                load_errors = trial_load(files, ctx, shacl)
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
            report.files = apply_files(files, root, county)
        except OSError as exc:
            report.ok = False
            report.issues.insert(0, Issue(level="error", message=f"写入 kb/counties/{county}/ 失败:{exc}(请检查该目录)"))
        report.written = bool(report.files)
    return report


def _sorted_issues(issues: list[Issue], parsed: Parsed) -> list[Issue]:
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

"""Issue 15's acceptance: a county's table in the published nine-column form (no 情形 sheet, its
own names for the matters, department abbreviations, merged title rows, three bad rows) is read
onto the baseline by meaning, its bad rows named by sheet, row and column, nothing removed that
the table did not ask to remove."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from shudi.cli import app
from shudi.excel import import_workbook
from shudi.kb import load

from .make_published_table import HEADERS, SHEET, PublishedSpec, make_published_table


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Path:
    dest = tmp_path_factory.mktemp("published") / "proj"
    for name in ("kb", "ontologies", "rules"):
        shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns(".cache"))
    return dest


@pytest.fixture(scope="module")
def table(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PublishedSpec]:
    path = tmp_path_factory.mktemp("book") / "某县清单.xlsx"
    return path, make_published_table(path, project)


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "kb").rglob("*")) if p.is_file() and not p.name.startswith(".")}


def test_the_table_is_in_the_published_form(table: tuple[Path, PublishedSpec]) -> None:
    path, spec = table
    wb = load_workbook(path)
    assert wb.sheetnames == [SHEET]  # no 情形 sheet
    ws = wb[SHEET]
    assert [c.value for c in ws[3]] == HEADERS
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:I1", "A2:I2"} <= merged and any(m.startswith("B") for m in merged)
    assert spec.rows >= 50 and len(spec.bad) == 3
    names = {ws.cell(row=r, column=4).value for r in spec.truth}
    assert {"对非法占用土地行为的查处", "违法采砂"} <= names
    primaries = {ws.cell(row=r, column=8).value for r in spec.truth}
    assert {"自然资源局", "县住建局", "生态环境分局"} <= primaries


def test_rows_map_onto_the_baseline_and_bad_rows_are_located(project: Path, table: tuple[Path, PublishedSpec]) -> None:
    path, spec = table
    before = _snapshot(project)
    report = import_workbook(path, project, "mouxian", name="某县", dry_run=True)
    assert _snapshot(project) == before
    rows = {r.row: r for r in report.rows}
    right = sum(rows[r].item_id == iid for r, iid in spec.truth.items())
    assert right / len(spec.truth) >= 0.9, [(rows[r].name, rows[r].item_id, iid) for r, iid in spec.truth.items() if rows[r].item_id != iid]
    assert sorted((e.sheet, e.row, e.column) for e in report.errors) == sorted((SHEET, r, c) for r, (c, _) in spec.bad.items())
    for e in report.errors:
        assert spec.bad[e.row][1] in e.message, str(e)
        assert rows[e.row].status == "rejected"
    # nothing removed without --replace-list; the baseline items the table leaves out are named
    assert report.removed == [] and sorted(report.kept_missing) == spec.omitted
    assert "--replace-list" in report.to_text()


def test_replace_list_removes_item_by_item_and_partial_never(project: Path, table: tuple[Path, PublishedSpec]) -> None:
    path, spec = table
    whole = import_workbook(path, project, "mouxian", name="某县", replace_list=True, dry_run=True)
    assert sorted(whole.removed) == spec.omitted and all(f"本县清单不含基线事项:{i}" in whole.to_text() for i in spec.omitted)
    both = import_workbook(path, project, "mouxian", partial=True, replace_list=True, dry_run=True)
    assert not both.ok and "--partial" in both.errors[0].message
    partial = import_workbook(path, project, "mouxian", name="某县", partial=True)
    assert partial.ok and partial.written and partial.removed == [], partial.to_text()
    loaded = load("mouxian", project, use_cache=False)
    base = load("template", project, use_cache=False).kb
    assert sorted(loaded.kb.items) == sorted(base.items)  # every baseline item kept, the bad rows' too
    assert not loaded.county.example and loaded.county.name == "某县"
    shutil.rmtree(project / "kb" / "counties" / "mouxian")


def test_cli_dry_run_review_table(project: Path, table: tuple[Path, PublishedSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    path, spec = table
    monkeypatch.setenv("SHUDI_ROOT", str(project))
    before = _snapshot(project)
    r = CliRunner().invoke(app, ["list", "import", str(path), "--county", "mouxian", "--name", "某县", "--dry-run", "--json"])
    assert r.exit_code == 1, r.output  # three bad rows: the import as a whole does not validate
    out = json.loads(r.stdout)
    by_row = {x["row"]: x for x in out["rows"]}
    assert len(by_row) == spec.rows
    assert sum(by_row[r]["status"] == "mapped" and by_row[r]["item"] == iid for r, iid in spec.truth.items()) >= 0.9 * len(spec.truth)
    for row, (col, _) in spec.bad.items():
        assert by_row[row]["status"] == "error" and any(f"{SHEET}!{col}{row}" in p for p in by_row[row]["problems"])
    assert all(0 <= x["confidence"] <= 1 for x in out["rows"] if x["confidence"] is not None)
    assert _snapshot(project) == before

"""An Excel import is a change proposal like any other: the review table of a dry run, the
proposal a reviewer approves, the audit log, and the small diff the one county writer makes."""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from shudi.api import create_app
from shudi.cli import app
from shudi.engine import Engine
from shudi.excel import export_workbook
from shudi.kb import load

from .scratch_project import copy_project

runner = CliRunner()
TOKENS = "prop-token=proposer:李四;rev-token=reviewer:张三"


@pytest.fixture
def scratch(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the project (kb, ontologies, rules) that the CLI and the API both use."""
    dest = copy_project(root, tmp_path / "proj")
    monkeypatch.setenv("SHUDI_ROOT", str(dest))
    monkeypatch.setenv("SHUDI_TOKENS", TOKENS)
    monkeypatch.setenv("SHUDI_DB_URL", f"sqlite:///{dest / 'test.sqlite'}")
    return dest


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "kb").rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _edited_export(root: Path, county: str, out: Path, item: str, column: int, text: str) -> Path:
    export_workbook(root, county, out)
    wb = load_workbook(out)
    ws = wb["清单"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=10).value == item)
    ws.cell(row=row, column=column).value = text
    wb.save(out)
    return out


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


NEW_DUTY = "负责本辖区秸秆禁烧的组织实施，落实网格化巡查，发现火点立即扑灭并在一小时内报告。"


def test_dry_run_json_is_one_review_table_and_changes_nothing(scratch: Path, tmp_path: Path) -> None:
    book = _edited_export(scratch, "example-a", tmp_path / "a.xlsx", "ee.straw-burning", 8, f"镇政府：{NEW_DUTY}")
    before = _snapshot(scratch)
    r = runner.invoke(app, ["list", "import", str(book), "--county", "example-a", "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)  # one JSON object, nothing else on stdout
    rows = report["rows"]
    assert len(rows) == len(load("example-a", scratch).kb.items)
    for row in rows:
        assert {"sheet", "row", "item", "status", "confidence", "problems"} <= set(row)
        assert row["status"] in ("mapped", "new", "error")
        assert (row["item"] is None) == (row["status"] == "new")
        assert isinstance(row["problems"], list)
    straw = next(x for x in rows if x["item"] == "ee.straw-burning")
    assert straw["status"] == "mapped" and straw["sheet"] == "清单" and straw["confidence"] == 1.0
    assert report["changes"] == 1 and not report["written"] and report["proposal"] is None
    assert _snapshot(scratch) == before
    assert not (scratch / "test.sqlite").exists()  # no proposal recorded either


def test_import_becomes_a_proposal_a_reviewer_approves(scratch: Path, tmp_path: Path) -> None:
    cfile = scratch / "kb" / "counties" / "example-a" / "county.yaml"
    text_before = cfile.read_text(encoding="utf-8")
    book = _edited_export(scratch, "example-a", tmp_path / "a.xlsx", "ee.straw-burning", 8, f"镇政府：{NEW_DUTY}")
    before = _snapshot(scratch)
    # without a token nothing is filed; with a proposer's it is a pending proposal, nothing applied
    r = runner.invoke(app, ["list", "import", str(book), "--county", "example-a"])
    assert r.exit_code == 3, r.output
    r = runner.invoke(app, ["list", "import", str(book), "--county", "example-a", "--token", "prop-token"])
    assert r.exit_code == 0, r.output
    assert "变更申请 #1" in r.output and "经审核人批准后生效" in r.output
    assert _snapshot(scratch) == before
    with TestClient(create_app(engine=Engine(scratch)), raise_server_exceptions=False) as client:
        pending = client.get("/v1/lists/example-a/proposals?status=pending").json()
        assert [(p["id"], p["kind"], p["proposer"]) for p in pending] == [(1, "changes", "李四")]
        assert pending[0]["payload"]["ops"][0]["op"] == "override"
        r = client.post("/v1/lists/example-a/proposals/1/approve", headers={"Authorization": "Bearer rev-token"})
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2
        actions = [(a["action"], a["actor"]) for a in client.get("/v1/audit?county=example-a").json()]
        assert actions[:2] == [("proposal.approve", "张三"), ("proposal.create", "李四")]
    item = load("example-a", scratch).kb.items["ee.straw-burning"]
    assert [p.duties for p in item.primary] == [NEW_DUTY]
    # the one changed duty is one changed line; the version number is the other
    changed = _changed_lines(text_before, cfile.read_text(encoding="utf-8"))
    assert len(changed) <= 4 and sum(line.startswith("+") for line in changed) <= 2, changed
    assert any(NEW_DUTY in line for line in changed) and any("version: 2" in line for line in changed)
    # the same workbook again: nothing to change, no proposal
    r = runner.invoke(app, ["list", "import", str(book), "--county", "example-a", "--token", "rev-token"])
    assert r.exit_code == 0 and "无需变更" in r.output, r.output


def test_reviewer_token_applies_an_import_at_once(scratch: Path, tmp_path: Path) -> None:
    book = _edited_export(scratch, "example-b", tmp_path / "b.xlsx", "urc.drainage", 6, "示例:负责辖区排水设施的日常巡查,发现问题及时报告。")
    r = runner.invoke(app, ["list", "import", str(book), "--county", "example-b", "--token", "rev-token"])
    assert r.exit_code == 0, r.output
    assert "批准并生效" in r.output
    assert load("example-b", scratch).kb.items["urc.drainage"].township_duties.startswith("示例:负责辖区排水设施")
    r = runner.invoke(app, ["list", "audit", "--county", "example-b"])
    assert [a["action"] for a in json.loads(r.stdout)][:2] == ["proposal.approve", "proposal.create"]


def test_api_adjust_of_one_field_is_a_small_diff(scratch: Path) -> None:
    cfile = scratch / "kb" / "counties" / "example-a" / "county.yaml"
    before = cfile.read_text(encoding="utf-8")
    h = {"Authorization": "Bearer rev-token"}
    body = {"kind": "adjust", "item_id": "ee.straw-burning", "reason": "示例:乡镇职责写明报告时限",
            "primary": [{"party": "township", "duties": NEW_DUTY}]}
    with TestClient(create_app(engine=Engine(scratch)), raise_server_exceptions=False) as client:
        pid = client.post("/v1/lists/example-a/proposals", json=body, headers={"Authorization": "Bearer prop-token"}).json()["id"]
        assert client.post(f"/v1/lists/example-a/proposals/{pid}/approve", headers=h).status_code == 200
    after = cfile.read_text(encoding="utf-8")
    changed = _changed_lines(before, after)
    assert [line for line in changed if line.startswith("+")] == [f"+        duties: {NEW_DUTY}", "+version: 2"], changed
    assert len(changed) == 3  # the old duty line goes; version is new
    assert after.startswith("# 示例县甲")  # comments kept

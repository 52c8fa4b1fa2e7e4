"""Diffs of a county's list: between numbered store versions, two county folders, a git revision
and the working tree (a county not yet in git too); the HTTP endpoint takes no paths and loads
nothing for a spec that is wrong; no answer names a server path."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shudi import diff as diff_mod
from shudi.api import create_app
from shudi.cli import app
from shudi.engine import Engine

from .scratch_project import copy_project

runner = CliRunner()
REV = {"Authorization": "Bearer rev-token"}
PROP = {"Authorization": "Bearer prop-token"}


@pytest.fixture
def scratch(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = copy_project(root, tmp_path / "proj")
    monkeypatch.setenv("SHUDI_ROOT", str(dest))
    monkeypatch.setenv("SHUDI_TOKENS", "prop-token=proposer:李四;rev-token=reviewer:张三")
    monkeypatch.setenv("SHUDI_DB_URL", f"sqlite:///{dest / 'test.sqlite'}")
    return dest


@pytest.fixture
def client(scratch: Path) -> TestClient:
    with TestClient(create_app(engine=Engine(scratch)), raise_server_exceptions=False) as c:
        yield c


def _approve(client: TestClient, body: dict) -> int:
    r = client.post("/v1/lists/template/proposals", json=body, headers=PROP)
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/lists/template/proposals/{r.json()['id']}/approve", headers=REV)
    assert r.status_code == 200, r.text
    return r.json()["version"]


BBQ = {"kind": "adjust", "item_id": "ce.open-air-bbq", "reason": "示例:本县露天烧烤由生态环境分局主管",
       "primary": [{"party": "county.ecology-environment", "duties": "负责露天烧烤油烟污染的查处。"}]}
DRAIN = {"kind": "remove", "item_id": "urc.drainage", "reason": "示例:本县排水由水务公司负责"}


def test_store_versions_diff(client: TestClient, scratch: Path) -> None:
    assert _approve(client, BBQ) == 2
    assert _approve(client, DRAIN) == 3
    assert [v["version"] for v in client.get("/v1/lists/template/versions").json()] == [2, 3]
    d = client.get("/v1/lists/template/diff", params={"from": "2", "to": "3"})
    assert d.status_code == 200, d.text
    body = d.json()
    assert [x["id"] for x in body["removed"]] == ["urc.drainage"] and body["changed"] == []
    assert body["old"] == "版本 2" and body["new"] == "版本 3"
    # the version before the first approval is kept as well
    d = client.get("/v1/lists/template/diff", params={"from": "1", "to": "v3"}).json()
    assert [x["id"] for x in d["removed"]] == ["urc.drainage"]
    assert [c["item"] for c in d["changed"]] == ["ce.open-air-bbq"] and "主体责任" in d["text"]
    assert client.get("/v1/lists/template/diff", params={"from": "3"}).json()["text"].endswith("无变化。")
    r = client.get("/v1/lists/template/diff", params={"from": "9"})
    assert r.status_code == 422 and "没有保存版本 9" in r.json()["error"]["message_zh"]
    assert str(scratch) not in r.text


@pytest.mark.parametrize("spec", ["kb/../..", "../../etc", "/etc", "kb", "--output=/tmp/x", "HEAD..main", "a b"])
def test_http_diff_takes_no_paths_and_loads_nothing(client: TestClient, scratch: Path, spec: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[object] = []
    real = diff_mod.load_version
    monkeypatch.setattr(diff_mod, "load_version", lambda *a, **k: loads.append(a) or real(*a, **k))
    r = client.get("/v1/lists/template/diff", params={"from": spec})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_revision" and ("版本标识" in error["message_zh"] or "git 修订" in error["message_zh"])
    assert str(scratch) not in r.text and "/tmp" not in r.text.replace(spec, "")
    assert loads == []  # refused before anything was read


def test_two_county_folders(scratch: Path) -> None:
    r = runner.invoke(app, ["list", "diff", str(scratch / "kb" / "counties" / "template"),
                            str(scratch / "kb" / "counties" / "example-a"), "--json"])
    assert r.exit_code == 0, r.output
    assert "kw.yellow-river-course" in r.stdout and str(scratch) not in r.stdout
    # a county folder outside any project: that county over this project's baseline
    outside = scratch.parent / "mycounty"
    shutil.copytree(scratch / "kb" / "counties" / "example-b", outside)
    r = runner.invoke(app, ["list", "diff", str(scratch / "kb" / "counties" / "template"), str(outside), "--json"])
    assert r.exit_code == 0, r.output
    assert '"new": "mycounty"' in r.stdout and "urc.drainage" in r.stdout and str(outside) not in r.stdout


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_git_revision_against_the_working_tree(client: TestClient, scratch: Path) -> None:
    _git(scratch, "init", "-q")
    _git(scratch, "add", "kb")
    _git(scratch, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "list")
    _approve(client, DRAIN)
    d = client.get("/v1/lists/template/diff", params={"from": "HEAD"}).json()
    assert [x["id"] for x in d["removed"]] == ["urc.drainage"] and d["old"] == "HEAD" and d["new"] == "当前清单"
    # a county not yet in git: everything it lists is new
    shutil.copytree(scratch / "kb" / "counties" / "example-b", scratch / "kb" / "counties" / "newcounty")
    (scratch / "kb" / "counties" / "newcounty" / "county.yaml").write_text(
        (scratch / "kb" / "counties" / "example-b" / "county.yaml").read_text(encoding="utf-8").replace("id: example-b", "id: newcounty"),
        encoding="utf-8")
    r = runner.invoke(app, ["list", "diff", "HEAD", "--county", "newcounty", "--json"])
    assert r.exit_code == 0, r.output
    assert '"removed": []' in r.stdout and "ct.internet-cafes" in r.stdout
    r = client.get("/v1/lists/template/diff", params={"from": "no-such-branch"})
    assert r.status_code == 422 and "没有这个 git 修订" in r.text

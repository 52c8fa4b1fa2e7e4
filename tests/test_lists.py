"""Counties, list diffs, change proposals with roles and audit, handbook, delegation admission."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.delegation import DelegationRequest, check_delegation
from shudi.diff import diff_loaded
from shudi.engine import Engine
from shudi.handbook import render
from shudi.kb import counties
from shudi.precheck import precheck
from shudi.contract import PrecheckRequest

from .scratch_project import copy_project


def test_example_counties_differ(engine: Engine) -> None:
    assert {"template", "example-a", "example-b"} <= set(counties())
    t, a, b = (engine.county(c).kb for c in ("template", "example-a", "example-b"))
    assert "kw.yellow-river-course" in a.items and "kw.yellow-river-course" not in b.items
    assert "ct.internet-cafes" not in a.items and "ct.internet-cafes" in b.items
    assert [p.party for p in a.items["ee.straw-burning"].primary] == ["township"]
    assert [p.party for p in t.items["ee.straw-burning"].primary] != ["township"]
    assert [p.party for p in b.items["urc.drainage"].primary] == ["county.comprehensive-enforcement"]
    for c in ("example-a", "example-b"):
        assert engine.county(c).loaded.county.example


def test_answers_differ_between_counties(engine: Engine) -> None:
    text = "地里有人烧秸秆,浓烟很大"
    ta = engine.classify(text, county="template").candidates[0]
    ea = engine.classify(text, county="example-a").candidates[0]
    assert ta.item.id == ea.item.id == "ee.straw-burning"
    assert [p.id for p in ea.primary] == ["township"] != [p.id for p in ta.primary]
    assert engine.classify("黄河大堤上有人盖房子", county="example-a").candidates[0].item.id == "kw.yellow-river-course"


def test_deadline_policies_differ(engine: Engine) -> None:
    req = {"item_id": "ee.water-pollution", "facts": {"studied_cannot_solve": True}, "at": "2026-11-23T09:00:00+08:00"}
    a = precheck(engine, PrecheckRequest(township="黄河镇", county="example-a", **req))
    b = precheck(engine, PrecheckRequest(township="侯镇", county="example-b", **req))
    assert a.response_profile == "five-day" and b.response_profile == "one-three-five"
    assert [d.working_days for d in a.deadlines] == [0, 5]
    assert [d.working_days for d in b.deadlines] == [1, 3, 5]
    assert b.deadlines[0].due.isoformat() == "2026-11-24"


def test_diff_between_counties_reads_like_a_change_list(engine: Engine) -> None:
    d = diff_loaded(engine.county("template").loaded, engine.county("example-a").loaded, "template", "example-a")
    text = d.to_text()
    assert any(x["id"] == "kw.yellow-river-course" for x in d.added)
    assert len(d.removed) == 10
    assert "秸秆" in text and "主体责任" in text


@pytest.fixture
def scratch(tmp_path: Path, root: Path) -> Path:
    return copy_project(root, tmp_path / "proj")


@pytest.fixture
def client(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SHUDI_TOKENS", "prop-token=proposer:李四;rev-token=reviewer:张三")
    monkeypatch.setenv("SHUDI_DB_URL", f"sqlite:///{scratch / 'test.sqlite'}")
    app = create_app(engine=Engine(scratch))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_proposal_lifecycle(client: TestClient, scratch: Path) -> None:
    body = {"kind": "adjust", "item_id": "ce.open-air-bbq", "reason": "示例:本县露天烧烤由生态环境分局主管",
            "primary": [{"party": "county.ecology-environment", "duties": "负责露天烧烤油烟污染的查处。"}]}
    other = Engine(scratch)
    assert other.classify("饭店门口露天烧烤油烟呛人").candidates[0].primary[0].id != "county.ecology-environment"
    assert client.post("/v1/lists/template/proposals", json=body).status_code == 401
    r = client.post("/v1/lists/template/proposals", json=body, headers={"Authorization": "Bearer prop-token"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["status"] == "pending"
    # nothing applied before approval
    assert client.post("/v1/classify", json={"text": "饭店门口露天烧烤油烟呛人"}).json()["candidates"][0]["primary"][0]["id"] != "county.ecology-environment"
    assert client.post(f"/v1/lists/template/proposals/{pid}/approve", headers={"Authorization": "Bearer prop-token"}).status_code == 403
    r = client.post(f"/v1/lists/template/proposals/{pid}/approve", headers={"Authorization": "Bearer rev-token"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["version"] == 2
    top = client.post("/v1/classify", json={"text": "饭店门口露天烧烤油烟呛人"}).json()["candidates"][0]
    assert top["primary"][0]["id"] == "county.ecology-environment"
    assert client.get("/v1/lists/template/versions").json()[0]["version"] == 2
    actions = [a["action"] for a in client.get("/v1/audit").json()]
    assert actions[:2] == ["proposal.approve", "proposal.create"]
    assert "county.ecology-environment" in (scratch / "kb" / "counties" / "template" / "county.yaml").read_text(encoding="utf-8")
    # another worker process (its own engine, loaded before the change) sees the new version too
    assert other.classify("饭店门口露天烧烤油烟呛人").candidates[0].primary[0].id == "county.ecology-environment"
    # approving twice is refused
    assert client.post(f"/v1/lists/template/proposals/{pid}/approve", headers={"Authorization": "Bearer rev-token"}).status_code == 409  # a second decision is a conflict


def test_invalid_proposal_is_refused(client: TestClient) -> None:
    body = {"kind": "adjust", "item_id": "ce.open-air-bbq", "reason": "示例:错误的部门",
            "primary": [{"party": "county.moon-bureau", "duties": "负责月球"}]}
    r = client.post("/v1/lists/template/proposals", json=body, headers={"Authorization": "Bearer prop-token"})
    assert r.status_code == 422 and "county.moon-bureau" in r.text
    body = {"kind": "remove", "item_id": "no.such-item", "reason": "示例:删除不存在的事项"}
    assert client.post("/v1/lists/template/proposals", json=body, headers={"Authorization": "Bearer prop-token"}).status_code == 422


def test_add_and_remove_proposals(client: TestClient, engine: Engine) -> None:
    item = engine.county().kb.items["kw.wetland"]
    src = {"name": "示例新增:古树名木保护", "type": "行政处罚", "county_duties": "负责古树名木保护监管。", "township_duties": "负责巡查报告。",
           "primary": [{"party": "county.natural-resources", "duties": "负责查处损害古树名木行为。"}],
           "supporting": [{"party": "township", "duties": "负责巡查、发现、报告。"}],
           "citations": [{"law": c.law_id, "article": c.article} for c in item.citations[:1]],
           "scenarios": [{"id": "kw.x-ancient-trees.cut", "name": "砍伐古树", "triggers": ["砍古树", "古树被砍", "挖古树卖", "古树死了", "老树被锯"]}]}
    h = {"Authorization": "Bearer rev-token"}
    r = client.post("/v1/lists/template/proposals", json={"kind": "add", "item_id": "kw.x-ancient-trees", "domain": "key-work", "item": src,
                                                          "reason": "示例:新增事项"}, headers=h)
    assert r.status_code == 201, r.text
    assert client.post(f"/v1/lists/template/proposals/{r.json()['id']}/approve", headers=h).status_code == 200
    assert client.get("/v1/items/kw.x-ancient-trees").status_code == 200
    r = client.post("/v1/lists/template/proposals", json={"kind": "remove", "item_id": "ct.game-arcades", "reason": "示例:取消事项"}, headers=h)
    assert r.status_code == 201
    assert client.post(f"/v1/lists/template/proposals/{r.json()['id']}/approve", headers=h).status_code == 200
    assert client.get("/v1/items/ct.game-arcades").status_code == 404


def test_audit_log_is_append_only(client: TestClient, scratch: Path) -> None:
    client.post("/v1/lists/template/proposals", json={"kind": "remove", "item_id": "ct.game-arcades", "reason": "示例:取消事项"},
                headers={"Authorization": "Bearer prop-token"})
    con = sqlite3.connect(scratch / "test.sqlite")
    assert con.execute("select count(*) from audit_log").fetchone()[0] >= 1
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("delete from audit_log")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("update audit_log set actor='x'")


def test_handbook(engine: Engine, root: Path) -> None:
    loaded = engine.county("example-a").loaded
    html = render(loaded)
    assert "工作手册" in html and "示例" in html
    assert html.count("<section class='item'") == len(loaded.kb.items)
    assert "<svg" in html and "黄河河道管理范围内违法活动" in html
    assert loaded.kb.items["kw.yellow-river-course"].citations[0].text[:20] in html


def test_delegation(engine: Engine) -> None:
    refused = check_delegation(engine, DelegationRequest(department="county.natural-resources", township="东关镇",
                                                         task="让乡镇负责违法占地案件的立案查处和罚款"))
    assert refused.decision == "refused" and refused.item and refused.item.id == "nr.illegal-land-occupation"
    approved = check_delegation(engine, DelegationRequest(department="county.natural-resources", township="东关镇",
                                                          item_id="nr.illegal-land-occupation", approved=True))
    assert approved.decision == "admitted"
    township = check_delegation(engine, DelegationRequest(department="county.housing-construction", township="东关镇",
                                                          item_id="urc.illegal-construction-rural"))
    assert township.decision == "admitted"
    off_list = check_delegation(engine, DelegationRequest(department="county.health", township="东关镇", task="请乡镇负责辖区内人口普查的入户登记工作"))
    assert off_list.decision == "needs_admission" and off_list.item is None


def test_cli_export_import_round_trip(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shudi.cli import app

    runner = CliRunner()
    out = tmp_path / "example-b.xlsx"
    r = runner.invoke(app, ["list", "export", "--county", "example-b", str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["list", "import", str(out), "--county", "example-b", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "错误 0 个" in r.output and "调整责任 1 项" in r.output


def test_adjust_proposal_changes_duties_and_citations(client: TestClient, engine: Engine) -> None:
    base = engine.county().kb.items["ce.open-air-bbq"]
    other = engine.county().kb.items["kw.wetland"].citations[0]
    h = {"Authorization": "Bearer rev-token"}
    body = {"kind": "adjust", "item_id": "ce.open-air-bbq", "reason": "示例:本县调整乡镇职责和依据",
            "township_duties": "示例:负责夜间巡查露天烧烤,发现后当场劝阻并报告。",
            "citations": [{"law": other.law_id, "article": other.article}]}
    r = client.post("/v1/lists/template/proposals", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert client.post(f"/v1/lists/template/proposals/{r.json()['id']}/approve", headers=h).status_code == 200
    item = client.get("/v1/items/ce.open-air-bbq").json()
    assert item["township_duties"].startswith("示例:负责夜间巡查")
    assert [(c["law_id"], c["article_number"]) for c in item["citations"]] == [(other.law_id, other.article)]
    assert item["citations"][0]["text"]  # resolved to the vendored article text
    # the parties stay the baseline's
    assert [p["id"] for p in item["primary"]] == [p.party for p in base.primary]
    # a citation that resolves to no article is refused before anything is recorded
    bad = {**body, "citations": [{"law": other.law_id, "article": 9999}]}
    r = client.post("/v1/lists/template/proposals", json=bad, headers=h)
    assert r.status_code == 422 and "9999" in r.text


def test_adjust_needs_something_to_change(client: TestClient) -> None:
    body = {"kind": "adjust", "item_id": "ce.open-air-bbq", "reason": "示例:什么也没改"}
    r = client.post("/v1/lists/template/proposals", json=body, headers={"Authorization": "Bearer rev-token"})
    assert r.status_code == 422 and "调整须提供" in r.text

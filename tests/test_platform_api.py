"""The platform over HTTP (FastAPI TestClient, the real app, a temp SQLite store): tokens bound
to a role and a unit, errors in Chinese and English, the pages' helpers, exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shudi.api import create_app
from shudi.engine import Engine

TOKENS = ("t-town=township:huanghe:黄河镇张三@example-a;t-binhe=township:binhe:滨河李四@example-a;"
          "t-disp=dispatcher::平台王五@example-a;t-sup=supervisor::督查赵六@example-a;"
          "t-nr=department:county.natural-resources:自然资源局钱七@example-a;"
          "t-wr=department:county.water-resources:水利局孙八@example-a")


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = engine.settings.model_copy(update={"db_url": f"sqlite:///{tmp_path / 'p.sqlite'}",
                                                  "platform_tokens": TOKENS, "sweep_seconds": 0})
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def err(r) -> dict:  # noqa: ANN001
    e = r.json()["error"]
    assert e["message_zh"] and e["message_en"] and e["code"]
    return e


CALL = {"county": "example-a", "item_id": "nr.illegal-land-occupation",
        "facts": {"studied_cannot_solve": True, "dispatched_agency_can_solve": False}}


def test_call_over_http(client: TestClient) -> None:
    assert err(client.post("/v1/calls", json=CALL))["code"] == "unauthorized"
    assert client.post("/v1/calls", json=CALL, headers=h("nope")).status_code == 401
    r = client.post("/v1/calls", json=CALL, headers=h("t-town"))
    assert r.status_code == 201, r.text
    call = r.json()
    cid, v = call["id"], call["version"]
    assert call["state"] == "submitted" and call["department"] == "county.natural-resources"
    assert call["events"][0]["actor"] == "黄河镇张三" and call["events"][0]["action_label"] == "呼叫"
    assert client.get(f"/v1/calls/{cid}", headers=h("t-binhe")).status_code == 404
    assert err(client.post(f"/v1/calls/{cid}/events", json={"action": "accept"}, headers=h("t-town")))["code"] == "role_not_allowed"
    # two dispatchers at once with the same version: one wins, the other gets a clear 409
    ok = client.post(f"/v1/calls/{cid}/events", json={"action": "accept", "expected_version": v}, headers=h("t-disp"))
    late = client.post(f"/v1/calls/{cid}/events", json={"action": "accept", "expected_version": v}, headers=h("t-disp"))
    assert ok.status_code == 200 and late.status_code == 409
    assert "刷新" in err(late)["message_zh"]
    r = client.post(f"/v1/calls/{cid}/events", json={"action": "sign"}, headers=h("t-disp"))
    assert r.status_code == 409 and err(r)["code"] == "illegal_transition"
    assert client.post(f"/v1/calls/{cid}/events", json={"action": "fly"}, headers=h("t-disp")).status_code == 422
    for body in ({"action": "assess"}, {"action": "dispatch"}):
        assert client.post(f"/v1/calls/{cid}/events", json=body, headers=h("t-disp")).status_code == 200
    assert client.get("/v1/calls", headers=h("t-wr")).json()["total"] == 0
    inbox = client.get("/v1/calls", params={"state": "dispatched"}, headers=h("t-nr")).json()
    assert [c["id"] for c in inbox["calls"]] == [cid] and inbox["calls"][0]["allowed_actions"] == ["sign", "return"]
    r = client.post(f"/v1/calls/{cid}/events", json={"action": "return"}, headers=h("t-nr"))
    assert r.status_code == 422 and err(r)["code"] == "reason_required"
    assert client.post(f"/v1/calls/{cid}/events", json={"action": "sign"}, headers=h("t-nr")).status_code == 200
    d = client.post(f"/v1/calls/{cid}/events", json={"action": "feedback", "result": "已处理"}, headers=h("t-nr")).json()
    assert d["state"] == "fed_back" and [s["step"] for s in d["deadlines"]] == ["sign", "feedback"]
    r = client.post(f"/v1/calls/{cid}/events", json={"action": "rate", "speed": "飞快", "effect": "好"}, headers=h("t-town"))
    assert r.status_code == 422 and err(r)["code"] == "invalid_request"
    assert client.post(f"/v1/calls/{cid}/events", json={"action": "rate", "speed": "及时", "effect": "较好"},
                       headers=h("t-town")).json()["satisfied"] is True
    r = client.post(f"/v1/calls/{cid}/events", json={"action": "reopen", "reason": "x"}, headers=h("t-town"))
    assert r.status_code == 409 and err(r)["code"] == "not_unsatisfied"
    listing = client.get("/v1/calls", params={"township": "huanghe", "state": "rated", "overdue": False}, headers=h("t-sup")).json()
    assert listing["total"] == 1
    assert client.get("/v1/calls", params={"overdue": True}, headers=h("t-sup")).json()["total"] == 0
    dash = client.get("/v1/dashboard", params={"county": "example-a"}, headers=h("t-sup")).json()
    assert dash["total"] == 1 and dash["satisfaction"] == 1.0 and dash["by_department"][0]["label"] == "县自然资源局"
    assert client.get("/v1/dashboard", params={"county": "example-b"}, headers=h("t-sup")).status_code == 403


def test_no_call_needs_reason_and_supervision(client: TestClient) -> None:
    body = {"county": "example-a", "text": "饭店后厨卫生很差"}
    r = client.post("/v1/calls", json=body, headers=h("t-town"))
    assert r.status_code == 422 and "理由" in err(r)["message_zh"]
    r = client.post("/v1/calls", json={**body, "reason": "派驻的市场监管所已协调两次,仍未处理。"}, headers=h("t-town"))
    assert r.status_code == 201 and r.json()["flagged"] is True
    sup = client.get("/v1/supervision", headers=h("t-sup")).json()
    assert sup["total"] == 1 and sup["calls"][0]["flagged"]
    assert client.get("/v1/supervision", headers=h("t-town")).status_code == 403
    assert client.post("/v1/supervision/sweep", headers=h("t-sup")).json() == {"raised": []}


def test_two_way_over_http(client: TestClient) -> None:
    r = client.post("/v1/tasks", json={"county": "example-a", "township": "huanghe", "item_id": "nr.illegal-land-occupation"},
                    headers=h("t-nr"))
    assert r.status_code == 422 and err(r)["code"] == "delegation_refused"
    r = client.post("/v1/reports", json={"county": "example-a", "item_id": "nr.illegal-land-occupation",
                                         "found_at": "2026-12-01T09:00:00+08:00"}, headers=h("t-town"))
    assert r.status_code == 201 and r.json()["state"] == "reported" and r.json()["department"] == "county.natural-resources"
    assert client.post("/v1/reports", json={"county": "example-a", "item_id": "nr.illegal-land-occupation",
                                            "found_at": "2099-01-01T09:00:00+08:00"}, headers=h("t-town")).status_code == 422


def test_assessment_exports(client: TestClient) -> None:
    cid = client.post("/v1/calls", json=CALL, headers=h("t-town")).json()["id"]
    for body, tok in (({"action": "accept"}, "t-disp"), ({"action": "assess"}, "t-disp"), ({"action": "dispatch"}, "t-disp"),
                      ({"action": "sign"}, "t-nr"), ({"action": "feedback", "result": "已办"}, "t-nr"),
                      ({"action": "rate", "speed": "响应慢", "effect": "一般"}, "t-town")):
        assert client.post(f"/v1/calls/{cid}/events", json=body, headers=h(tok)).status_code == 200
    month = client.get(f"/v1/calls/{cid}", headers=h("t-sup")).json()["created_at"]
    import datetime as dt
    from zoneinfo import ZoneInfo
    period = dt.datetime.fromisoformat(month).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    a = client.get("/v1/assessments", params={"county": "example-a", "period": period}, headers=h("t-sup")).json()
    nr = a["departments"][0]
    assert nr["id"] == "county.natural-resources" and nr["deduction"] == 10 + 5 and nr["score"] == 300 - 15
    csv = client.get("/v1/assessments", params={"county": "example-a", "period": period, "format": "csv"}, headers=h("t-sup"))
    assert csv.headers["content-type"].startswith("text/csv") and "县自然资源局" in csv.text and "285" in csv.text
    x = client.get("/v1/assessments", params={"county": "example-a", "period": period, "format": "xlsx"}, headers=h("t-sup"))
    ws = load_workbook(io.BytesIO(x.content))["考评"]
    assert ws.cell(3, 2).value == "县自然资源局" and ws.cell(3, 10).value == 285
    page = client.get("/v1/assessments", params={"county": "example-a", "period": period, "format": "html"}, headers=h("t-sup"))
    assert "打印" in page.text and "县自然资源局" in page.text
    r = client.get("/v1/assessments", params={"county": "example-a", "period": "2026-13"}, headers=h("t-sup"))
    assert r.status_code == 422 and err(r)["code"] == "invalid_period"
    assert client.get("/v1/assessments", params={"period": "2026"}, headers=h("t-town")).status_code == 403


def test_session_and_page(client: TestClient) -> None:
    s = client.get("/v1/platform/session", params={"county": "example-a"}).json()
    assert s["example"] and s["example_logins"] == []  # real tokens configured: no 示例 logins
    # the same service with no platform tokens configured (tokens are read once, at start)
    settings = client.app.state.settings.model_copy(update={"platform_tokens": ""})
    with TestClient(create_app(settings, engine=client.app.state.engine)) as bare:
        s = bare.get("/v1/platform/session", params={"county": "example-a"}).json()
        logins = {x["role"] for x in s["example_logins"]}
        assert logins == {"township", "dispatcher", "department", "supervisor"}
        tok = next(x["token"] for x in s["example_logins"] if x["role"] == "township")
        assert bare.get("/v1/calls", params={"county": "example-a"}, headers=h(tok)).status_code == 200
        assert bare.get("/v1/calls", params={"county": "template"}, headers=h(tok)).status_code == 403
    page = client.get("/platform")
    assert page.status_code == 200 and "乡呼县应" in page.text

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.sparql import SparqlService


@pytest.fixture(scope="module")
def client(engine: Engine) -> TestClient:
    app = create_app(engine=engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _err(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]
    assert body["message_zh"] and body["message_en"]
    if code:
        assert body["code"] == code
    return body


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["kb"]["items"] >= 60


def test_classify(client: TestClient) -> None:
    r = client.post("/v1/classify", json={"text": "小区楼顶加盖违章建筑", "top_k": 2})
    assert r.status_code == 200
    data = r.json()
    assert data["matched"] and 1 <= len(data["candidates"]) <= 2
    c = data["candidates"][0]
    assert set(c) >= {"item", "domain", "scenario", "score", "primary", "supporting", "citations", "evidence", "rules"}
    assert set(c["citations"][0]) >= {"law", "version", "article", "text"}


@pytest.mark.parametrize("body,status", [
    ({"text": ""}, 422), ({"text": "   \n\t "}, 422), ({"text": "违" * 5001}, 422),
    ({"text": 123}, 422), ({"text": "违章", "top_k": "three"}, 422), ({"text": "违章", "top_k": 0}, 422),
    ({}, 422), ({"text": "违章", "extra": 1}, 422),
])
def test_classify_bad_input(client: TestClient, body: dict, status: int) -> None:
    _err(client.post("/v1/classify", json=body), status)


def test_invalid_json_and_utf8(client: TestClient) -> None:
    _err(client.post("/v1/classify", content=b'{"text": "\xff\xfe"}', headers={"content-type": "application/json"}), 400, "invalid_body")
    _err(client.post("/v1/classify", content=b"{not json", headers={"content-type": "application/json"}), 400, "invalid_json")


def test_unknown_county(client: TestClient) -> None:
    body = _err(client.get("/v1/items", params={"county": "atlantis"}), 404, "unknown_county")
    assert "atlantis" in body["message_en"]


def test_precheck(client: TestClient) -> None:
    r = client.post("/v1/calls/precheck", json={"text": "液化气罐泄漏了", "township": "东关镇", "at": "2026-11-20T10:00:00+08:00"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["decision"] == "call" and data["mode"] == "urgent"
    assert data["deadlines"] and data["reasons"]
    body = _err(client.post("/v1/calls/precheck", json={"item_id": "ee.water-pollution", "township": "火星镇"}), 404)
    assert "火星镇" in body["message_zh"]
    _err(client.post("/v1/calls/precheck", json={"township": "东关镇"}), 422)
    _err(client.post("/v1/calls/precheck", json={"item_id": "nope", "township": "东关镇"}), 404)
    _err(client.post("/v1/calls/precheck", json={"item_id": "ee.water-pollution", "township": "东关镇", "facts": {"emergency": "maybe"}}), 422)


def test_list_endpoints(client: TestClient) -> None:
    domains = client.get("/v1/domains").json()
    assert len(domains) == 8 and all(d["items"] > 0 for d in domains)
    depts = client.get("/v1/departments").json()
    assert any(d["kind"] == "stationed_agency" for d in depts)
    items = client.get("/v1/items", params={"domain": "emergency-management"}).json()
    assert items and all(i["domain"]["id"] == "emergency-management" for i in items)
    assert client.get("/v1/items", params={"q": "消防"}).json()
    _err(client.get("/v1/items", params={"domain": "nowhere"}), 404)
    item = client.get("/v1/items/em.fire-safety").json()
    for key in ("county_duties", "township_duties", "primary", "supporting", "scenarios", "procedure", "time_limits", "citations", "contacts"):
        assert key in item
    assert all(c["example"] for c in item["contacts"])
    _err(client.get("/v1/items/none.such"), 404)
    dept = client.get("/v1/departments/township/items").json()
    assert any(r["role"] == "primary" for r in dept["items"])
    body = _err(client.get("/v1/departments/county.moon/items"), 404)
    assert "county.moon" in body["message_en"]


def test_legal_endpoints(client: TestClient) -> None:
    laws = client.get("/v1/laws").json()
    assert any(law["id"] == "land-administration-law" for law in laws)
    law = client.get("/v1/laws/land-administration-law").json()
    assert law["versions"][-1]["version"] == "2019-08-26"
    art = client.get("/v1/laws/land-administration-law/articles/77").json()
    assert art["article"] == "第七十七条" and art["cited_by"]
    assert client.get("/v1/laws/land-administration-law/articles/七十七").json()["number"] == 77
    _err(client.get("/v1/laws/land-administration-law/articles/9999"), 404)
    _err(client.get("/v1/laws/land-administration-law/articles/abc"), 422)
    _err(client.get("/v1/laws/no-law"), 404)
    check = client.get("/v1/citations/check").json()
    assert set(check["counts"]) == {"superseded_citations", "laws_not_cited", "items_only_general_clauses"}


SELECT = "PREFIX sd: <https://w3id.org/shudi/ontology#> SELECT ?i WHERE { ?i a sd:Item } LIMIT 5"


def test_sparql(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": SELECT})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/sparql-results+json")
    assert len(r.json()["results"]["bindings"]) == 5
    r = client.post("/sparql", content=SELECT, headers={"content-type": "application/sparql-query", "accept": "text/csv"})
    assert r.status_code == 200 and r.text.startswith("i\r\n")
    r = client.get("/sparql", params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/shudi/ontology#Domain> ; ?p ?o }"},
                   headers={"accept": "text/turtle"})
    assert r.status_code == 200 and "text/turtle" in r.headers["content-type"]


def test_sparql_refuses_updates_and_garbage(client: TestClient) -> None:
    _err(client.get("/sparql", params={"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}), 403, "sparql_read_only")
    _err(client.post("/sparql", content="DELETE WHERE { ?s ?p ?o }", headers={"content-type": "application/sparql-update"}), 403)
    _err(client.post("/sparql", content="update=CLEAR+ALL", headers={"content-type": "application/x-www-form-urlencoded"}), 403)
    _err(client.get("/sparql", params={"query": "SELEKT * WHERE {"}), 400, "sparql_malformed")
    _err(client.get("/sparql"), 400)
    _err(client.post("/sparql", content=b"\xff\xfe", headers={"content-type": "application/sparql-query"}), 400, "invalid_utf8")


@pytest.mark.parametrize("engine_name", ["oxigraph", "rdflib"])
def test_sparql_engines_time_limit_row_cap_and_formats(engine: Engine, engine_name: str) -> None:
    from shudi.sparql import SparqlError

    loaded = engine.county().loaded
    svc = SparqlService(timeout=1.0, max_rows=3, engine=engine_name)
    try:
        answer = svc.run(loaded, "SELECT ?s WHERE { ?s ?p ?o }", "application/sparql-results+json")
        assert answer.truncated and len(json.loads(answer.body)["results"]["bindings"]) == 3
        answer = svc.run(loaded, SELECT.replace("LIMIT 5", "LIMIT 2"), "text/csv")
        assert not answer.truncated and answer.body.decode().count("\r\n") == 3
        ask = svc.run(loaded, "ASK { ?s a sd:Item }", "")
        assert json.loads(ask.body)["boolean"] is True
        graph = svc.run(loaded, "CONSTRUCT { ?d skos:prefLabel ?l } WHERE { ?d a sd:Domain ; skos:prefLabel ?l }", "text/turtle")
        assert graph.media_type.startswith("text/turtle") and "自然资源" in graph.body.decode()
        for bad, status in (("SELEKT * WHERE {", 400), ("INSERT DATA { <a:b> <a:c> <a:d> }", 403)):
            with pytest.raises(SparqlError) as err:
                svc.run(loaded, bad, "")
            assert err.value.status == status
        with pytest.raises(SparqlError) as err:
            svc.run(loaded, "SELECT ?s WHERE { ?s ?p ?o }", "text/turtle")
        assert err.value.status == 406
        t0 = time.monotonic()
        with pytest.raises(SparqlError) as err:
            svc.run(loaded, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "")
        assert err.value.status == 408 and time.monotonic() - t0 < 5
        # the service is still there after a killed query
        assert json.loads(svc.run(loaded, "ASK { ?s a sd:Item }", "").body)["boolean"] is True
    finally:
        svc.close()


def test_sparql_engines_agree(engine: Engine) -> None:
    from bench.sparql import REVIEWER_QUERIES
    from shudi.stats import PREFIXES

    loaded = engine.county().loaded
    answers = {}
    for name in ("oxigraph", "rdflib"):
        svc = SparqlService(timeout=30, engine=name)
        try:
            answers[name] = [json.loads(svc.run(loaded, PREFIXES + q, "").body)["results"]["bindings"]
                             for q in REVIEWER_QUERIES.values()]
        finally:
            svc.close()

    def rows(bindings: list[dict]) -> list[tuple]:
        return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in bindings)

    assert sum(map(len, answers["oxigraph"])) > 10
    for ox_rows, rd_rows in zip(answers["oxigraph"], answers["rdflib"], strict=True):
        assert rows(ox_rows) == rows(rd_rows)


def test_openapi_and_page(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/classify" in spec["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    _err(client.get("/no/such/path"), 404)
    json.dumps(spec)


# SPARQL answers in the format asked for and the handbook is a page: neither is a JSON model.
NON_JSON = {("/sparql", "get"), ("/sparql", "post"), ("/v1/lists/{county}/handbook", "get")}


def test_every_json_route_declares_its_response_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if (path, method) in NON_JSON:
                continue
            ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
            schema = ok["content"]["application/json"]["schema"]
            assert "$ref" in schema or "$ref" in schema.get("items", {}), (method, path, schema)


def test_errors_have_one_shape(client: TestClient) -> None:
    wrong = [
        client.get("/v1/items/nr.no-such-item"),                      # unknown id
        client.get("/v1/items", params={"domain": "moon"}),           # unknown id with the known ones
        client.get("/v1/items", params={"county": "nowhere"}),        # unknown county
        client.post("/v1/classify", json={"text": ""}),               # invalid body
        client.post("/v1/classify", content=b"{not json", headers={"content-type": "application/json"}),
        client.post("/v1/lists/template/proposals", json={}),         # no token
        client.get("/v1/laws/land-administration-law/articles/abc"),  # malformed article number
        client.put("/v1/classify"),                                   # method
    ]
    for r in wrong:
        assert 400 <= r.status_code < 500, r.text
        body = r.json()
        assert set(body) == {"error"}, body
        assert {"code", "message_zh", "message_en"} <= set(body["error"]) <= {"code", "message_zh", "message_en", "details"}
        if body["error"]["code"] != "invalid_request":  # pydantic's own messages are quoted as they are
            assert " / " not in body["error"]["message_zh"], body  # each language its own message
    assert "可选" in wrong[1].json()["error"]["message_zh"] and "known:" in wrong[1].json()["error"]["message_en"]
    assert wrong[5].status_code == 401


def test_validation_errors_list_a_few_fields(client: TestClient) -> None:
    body = {f"k{i}": i for i in range(5000)} | {"text": "违章建筑"}
    r = client.post("/v1/classify", json=body)
    assert r.status_code == 422
    assert len(r.json()["error"]["details"]) <= 20 and len(r.content) < 10_000

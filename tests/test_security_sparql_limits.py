"""Issue 17, findings 7 and 8: every SPARQL query is bounded.

- rdflib: one catastrophic regex froze the whole process (/healthz included) — rdflib now runs in
  a worker process that is killed at the time limit;
- Oxigraph: the 5 s limit became 35–41 s on a freshly started worker — loading the graph is now
  bounded apart from the query, and the query alone gets the limit;
- 4 loops of a cross-product query from one client made every other query 503 — one client runs
  at most `sparql_per_client` queries at once (the rest queue behind its own, then 429), and the
  others keep being answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.settings import Settings
from shudi.sparql import SparqlError, SparqlService

REGEX = 'ASK { FILTER(REGEX("' + "a" * 27 + '!", "^(a+)+$")) }'  # ~5 s in Python's re, doubling per "a"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ASK = "ASK { ?s a sd:Item }"


@pytest.fixture(scope="module")
def rdflib_client(engine: Engine, root) -> Iterator[TestClient]:  # noqa: ANN001
    settings = Settings(root=root, sparql_engine="rdflib", sparql_timeout=1)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        assert c.get("/sparql", params={"query": ASK}).status_code == 200  # the worker has loaded the graph
        yield c


def test_catastrophic_regex_does_not_freeze_the_service(rdflib_client: TestClient) -> None:
    answer: dict[str, object] = {}

    def run() -> None:
        t0 = time.monotonic()
        answer["resp"] = rdflib_client.get("/sparql", params={"query": REGEX})
        answer["seconds"] = time.monotonic() - t0

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.2)  # the regex is running now
    slowest = 0.0
    while worker.is_alive():
        t0 = time.monotonic()
        assert rdflib_client.get("/healthz").status_code == 200
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.05)
    worker.join()
    assert slowest < 0.5, f"/healthz took {slowest:.1f} s while the regex ran"
    resp = answer["resp"]
    assert resp.status_code == 408 and resp.json()["error"]["code"] == "sparql_timeout"
    assert answer["seconds"] < 3
    # the killed worker is replaced: the endpoint answers again
    assert rdflib_client.get("/sparql", params={"query": ASK}).json()["boolean"] is True


def test_time_limit_holds_on_a_fresh_worker(engine: Engine) -> None:
    loaded = engine.county().loaded
    svc = SparqlService(timeout=1.0, engine="oxigraph")
    try:
        t0 = time.monotonic()
        with pytest.raises(SparqlError) as err:
            svc.run(loaded, CROSS, "")  # the first query of this service: its worker starts and loads now
        assert err.value.status == 408
        assert time.monotonic() - t0 < 6, "the limit was stretched by the worker's start-up"
        time.sleep(1.5)  # the killed worker's replacement loads in the background
        t0 = time.monotonic()
        assert b"true" in svc.run(loaded, ASK, "").body
        assert time.monotonic() - t0 < 2, "the replacement worker was not ready"
    finally:
        svc.close()


def test_one_client_cannot_starve_the_others(engine: Engine, root) -> None:  # noqa: ANN001
    settings = Settings(root=root, sparql_timeout=2, sparql_workers=2, sparql_per_client=1)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False, client=("10.0.0.1", 1000)) as greedy:
        other = TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 1000))
        assert other.get("/sparql", params={"query": ASK}).status_code == 200  # a worker is up
        codes: list[int] = []
        floods = [threading.Thread(target=lambda: codes.append(greedy.get("/sparql", params={"query": CROSS}).status_code))
                  for _ in range(4)]
        for t in floods:
            t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        resp = other.get("/sparql", params={"query": ASK})
        waited = time.monotonic() - t0
        for t in floods:
            t.join()
        assert resp.status_code == 200 and resp.json()["boolean"] is True
        assert waited < 1.5, f"another client waited {waited:.1f} s"
        # the greedy client's queries ran one at a time, each to its limit; the rest were refused
        assert set(codes) == {408, 429} and codes.count(408) <= 2
        busy = greedy.get("/sparql", params={"query": ASK})
        assert busy.status_code == 200  # the greedy client is served again once its query ended

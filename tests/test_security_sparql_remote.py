"""Issue 17, finding 6: SPARQL must never be turned outward.  `SERVICE <url>` made the server send
requests anywhere (both engines), FROM made rdflib fetch an IRI, and errors revealed open ports.
Every form of remote access is refused before execution, and a listening socket sees nothing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.settings import Settings


class Listener:
    """A local TCP port that counts the connections it receives (and closes each at once)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def client(request: pytest.FixtureRequest, engine: Engine, root) -> Iterator[TestClient]:  # noqa: ANN001
    settings = Settings(root=root, sparql_engine=request.param, sparql_timeout=3)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        yield c


def _remote_queries(url: str) -> dict[str, str]:
    return {
        "service": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service silent": f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        "service variable": f"SELECT * WHERE {{ VALUES ?u {{ <{url}> }} SERVICE ?u {{ ?s ?p ?o }} }}",
        "service in a sub-select": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        "service in EXISTS": f"SELECT * WHERE {{ ?s a sd:Item FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        "service in OPTIONAL": f"SELECT * WHERE {{ ?s a sd:Item OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        "service spelt with \\u escapes": f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        "service in lower case": f"select * where {{ service <{url}> {{ ?s ?p ?o }} }}",
        "FROM": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        "FROM NAMED": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "ASK with SERVICE": f"ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "CONSTRUCT with SERVICE": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    }


def _assert_refused(resp, code: str) -> None:  # noqa: ANN001
    assert resp.status_code == 403, resp.text
    err = resp.json()["error"]
    assert err["code"] == code and err["message_zh"] and err["message_en"]


def test_remote_access_is_refused_and_nothing_connects(client: TestClient, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    for name, query in _remote_queries(url).items():
        _assert_refused(client.get("/sparql", params={"query": query}), "sparql_remote_refused")
        _assert_refused(client.post("/sparql", content=query, headers={"content-type": "application/sparql-query"}),
                        "sparql_remote_refused")
        assert listener.connections == 0, name
    # LOAD is an update: refused as such, and nothing is fetched either
    for load in (f"LOAD <{url}>", f"LOAD SILENT <{url}> INTO GRAPH <urn:x>"):
        _assert_refused(client.get("/sparql", params={"query": load}), "sparql_read_only")
    time.sleep(0.5)  # a connection attempt still on its way would arrive now
    assert listener.connections == 0


def test_refusal_says_nothing_about_the_target(client: TestClient, listener: Listener) -> None:
    # an open port and a closed one get the same answer: the endpoint cannot scan ports
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    answers = [client.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{p}/> {{ ?s ?p ?o }} }}"})
               for p in (listener.port, closed_port)]
    assert answers[0].json() == answers[1].json()
    assert listener.connections == 0


def test_local_queries_still_answer(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?i WHERE { ?i a sd:Item } LIMIT 3"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3
    # an escaped keyword means the same to the check and to the engine
    r = client.get("/sparql", params={"query": "\\u0041SK { ?s a sd:Item }"})
    assert r.status_code == 200 and r.json()["boolean"] is True

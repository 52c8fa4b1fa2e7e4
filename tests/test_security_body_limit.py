"""Issue 17, finding 12: an 8 MB body with 500,000 unknown keys blocked the event loop ~6 s and
cost hundreds of megabytes.  Bodies are bounded (settings.max_body_bytes): 413 in the one error
shape, before anything parses them, whether the size is declared or the body is streamed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.settings import Settings


@pytest.fixture(scope="module")
def client(engine: Engine, root) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(create_app(Settings(root=root, max_body_bytes=64 * 1024), engine=engine),
                    raise_server_exceptions=False) as c:
        yield c


def _too_large(resp) -> None:  # noqa: ANN001
    assert resp.status_code == 413, resp.text[:300]
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == "body_too_large" and "请求体过大" in err["message_zh"] and "too large" in err["message_en"]
    assert err["details"] == {"max_bytes": 64 * 1024}
    assert len(resp.content) < 1000


def test_a_huge_body_is_refused_at_once(client: TestClient) -> None:
    huge = json.dumps({f"k{i}": i for i in range(500_000)} | {"text": "违章建筑"}).encode()
    assert len(huge) > 8_000_000
    t0 = time.monotonic()
    _too_large(client.post("/v1/classify", content=huge, headers={"content-type": "application/json"}))
    assert time.monotonic() - t0 < 1.0
    # every route is covered, the SPARQL endpoint and the platform's too
    _too_large(client.post("/sparql", content=b"#" * 100_000, headers={"content-type": "application/sparql-query"}))
    _too_large(client.post("/v1/calls", content=huge, headers={"content-type": "application/json"}))


def test_a_streamed_body_is_counted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    _too_large(client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"}))
    _too_large(client.post("/v1/classify", content=b"{}", headers={"content-type": "application/json", "content-length": "x"}))


def test_bodies_under_the_limit_are_served(client: TestClient) -> None:
    assert client.post("/v1/classify", json={"text": "小区楼顶加盖违章建筑"}).status_code == 200
    r = client.post("/v1/classify", json={"text": "违" * 5001})  # within the body limit, over the field's own
    assert r.status_code == 422


def test_the_limit_is_a_setting(engine: Engine, root) -> None:  # noqa: ANN001
    with TestClient(create_app(Settings(root=root, max_body_bytes=100), engine=engine), raise_server_exceptions=False) as c:
        assert c.post("/v1/classify", json={"text": "违章" * 60}).status_code == 413
        assert c.post("/v1/classify", json={"text": "违章建筑"}).status_code == 200

"""Bad input and load: properties (hypothesis), fuzzing against our own OpenAPI schema
(schemathesis), 500 concurrent mixed requests, and memory over 10,000 requests."""

from __future__ import annotations

import asyncio
import re

import httpx
import psutil
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shudi.api import create_app
from shudi.contract import MAX_TEXT
from shudi.engine import Engine
from shudi.kb import project_root

from bench.devserver import running_server

ROOT = project_root()
_engine = Engine(ROOT)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine=_engine))
HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff\uf900-\ufaff\u2e80-\u2fdf\u3190-\u319f]")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_fuzz(case) -> None:
    """No 5xx and no response outside the schema, for generated requests to every operation."""
    response = case.call()
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=MAX_TEXT))
def test_classify_never_raises_and_is_deterministic(text: str) -> None:
    first = _engine.classify(text)
    assert first.model_dump() == _engine.classify(text).model_dump()


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400).filter(lambda t: not HAN.search(t)))
def test_abstains_without_chinese(text: str) -> None:
    assert not _engine.classify(text).matched


def _mixed(i: int) -> tuple[str, str, dict | None, dict | None]:
    kind = i % 4
    if kind == 0:
        return "POST", "/v1/classify", {"text": ["小区楼顶加盖违章建筑", "饭店门口露天烧烤油烟呛人", "养老金什么时候发"][i % 3]}, None
    if kind == 1:
        return "POST", "/v1/calls/precheck", {"text": "液化气罐泄漏了", "township": "东关镇", "at": "2026-11-20T10:00:00+08:00"}, None
    if kind == 2:
        return "GET", ["/v1/items/em.fire-safety", "/v1/items?domain=key-work", "/v1/laws/land-administration-law/articles/77"][i % 3], None, None
    return "GET", "/sparql", None, {"query": "PREFIX sd: <https://w3id.org/shudi/ontology#> SELECT ?i WHERE { ?i a sd:Domain } ORDER BY ?i"}


async def _fire(base: str, n: int, concurrency: int) -> list[tuple[int, str]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        async def one(i: int) -> tuple[int, str]:
            method, path, body, params = _mixed(i)
            r = await client.request(method, path, json=body, params=params)
            return r.status_code, r.text
        return await asyncio.gather(*(one(i) for i in range(n)))


@pytest.mark.slow
def test_concurrent_and_memory() -> None:
    with running_server(ROOT) as (base, proc):
        sequential = []
        with httpx.Client(base_url=base, timeout=30) as c:
            for i in range(12):
                method, path, body, params = _mixed(i)
                r = c.request(method, path, json=body, params=params)
                sequential.append((r.status_code, r.text))
        results = asyncio.run(_fire(base, 600, 500))
        errors = [r for r in results if r[0] != 200]
        assert not errors, errors[:3]
        for i, r in enumerate(results):
            assert r == sequential[i % 12], f"request {i} differs from the sequential answer"

        process = psutil.Process(proc.pid)
        # warm up, then measure RSS growth over 6,000 classify + pre-check requests (a leak of
        # 8 KB per request would show)
        asyncio.run(_fire_engine(base, 1000))
        before = process.memory_info().rss
        asyncio.run(_fire_engine(base, 6000))
        grown = (process.memory_info().rss - before) / 2**20
        assert grown < 50, f"RSS grew by {grown:.1f} MB"


async def _fire_engine(base: str, n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=httpx.Limits(max_connections=32)) as client:
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            async with sem:
                if i % 2:
                    r = await client.post("/v1/classify", json={"text": f"第{i}号工单:小区楼顶加盖违章建筑,渣土车撒漏{i}"})
                else:
                    r = await client.post("/v1/calls/precheck", json={"text": f"液化气罐泄漏了{i}", "township": "东关镇"})
                assert r.status_code == 200
        await asyncio.gather(*(one(i) for i in range(n)))

"""HTTP throughput and latency of /v1/classify against uvicorn on loopback (for `make bench`).

The load generator is an asyncio httpx client in this process, on the same 2-core machine as the
server, so the figures are a lower bound of what the server alone can do."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx

from .devserver import running_server
from .evaluate import load_gold

DURATION_S = 10.0
CONCURRENCY = 16


async def _drive(base: str, texts: list[str], duration: float, concurrency: int) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await client.post("/v1/classify", json={"text": texts[i % len(texts)]})
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += r.status_code != 200
                i += concurrency
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return len(latencies), errors, latencies


def bench_http(root: Path, workers: int = 1) -> None:
    texts = [c.text[:500] for c in load_gold(root / "tests" / "data")] or ["小区楼顶加盖违章建筑"]
    with running_server(root, workers=workers) as (base, _):
        asyncio.run(_drive(base, texts, 2.0, CONCURRENCY))  # warm-up
        n, errors, lat = asyncio.run(_drive(base, texts, DURATION_S, CONCURRENCY))
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    print(f"HTTP /v1/classify, uvicorn {workers} worker(s), {CONCURRENCY} concurrent clients, {DURATION_S:.0f} s: "
          f"{n / DURATION_S:.0f} requests/s, p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, errors {errors}")

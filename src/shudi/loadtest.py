"""HTTP throughput and latency of /v1/classify against uvicorn on loopback (for `make bench`).

The load generator runs on the same 2-core machine as the server, so every CPU cycle it spends is
taken from the server.  It therefore speaks HTTP/1.1 over raw asyncio streams with pre-encoded
requests and keep-alive (the way wrk does) instead of a full client library: an httpx client
spends about as much CPU per request as the server does, and would measure itself."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .devserver import running_server
from .evaluate import load_gold

DURATION_S = 10.0
WARMUP_S = 2.0
# A county hotline centre has a few dozen operators, each sending a request every few seconds at
# most; 8 connections in closed loop is already a much heavier load than that.
CONCURRENCY = 8


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    duration_s: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    def percentile(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


def _request(host: str, path: str, body: dict) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    return head + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def drive(base: str, path: str, bodies: list[dict], duration: float, concurrency: int) -> LoadResult:
    url = urlsplit(base)
    requests = [_request(url.netloc, path, b) for b in bodies]
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def connection(k: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        i = k
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                writer.write(requests[i % len(requests)])
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += status != 200
                i += concurrency
        finally:
            writer.close()

    t_start = time.perf_counter()
    await asyncio.gather(*(connection(k) for k in range(concurrency)))
    return LoadResult(len(latencies), errors, time.perf_counter() - t_start, latencies)


def bench_http(root: Path, workers: int = 1, concurrency: int = CONCURRENCY) -> LoadResult:
    bodies = [{"text": c.text[:500]} for c in load_gold(root / "tests" / "data")] or [{"text": "小区楼顶加盖违章建筑"}]
    with running_server(root, workers=workers) as (base, _):
        asyncio.run(drive(base, "/v1/classify", bodies, WARMUP_S, concurrency))
        result = asyncio.run(drive(base, "/v1/classify", bodies, DURATION_S, concurrency))
    print(f"HTTP /v1/classify, uvicorn {workers} worker(s), {concurrency} keep-alive connections, "
          f"{DURATION_S:.0f} s: {result.rps:.0f} requests/s, p50 {statistics.median(result.latencies_ms):.1f} ms, "
          f"p99 {result.percentile(0.99):.1f} ms, errors {result.errors}")
    return result

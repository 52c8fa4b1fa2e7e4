"""`shudi classify --batch`: one message per line in, one JSON answer per line out, in input order,
streamed (a year of a province's work orders never sits in memory).

Three ways to run the same job, with the same answers:

- one process (``processes=1``);
- every core of one machine (``processes=N``, the default all cores): the engine is loaded and
  warmed once, then N processes are forked from it, sharing the loaded list copy-on-write;
- a Dask cluster across machines (``dask=SCHEDULER`` address, or ``cluster="local:N"`` for N local
  worker processes): each Dask worker loads the engine once from the KB root (the same KB must be
  at that path on every machine) and answers chunks of lines; at most a few chunks per worker are
  in flight, so memory stays flat however long the input is.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .contract import ClassifyRequest

if TYPE_CHECKING:
    from .engine import Engine

CHUNK = 256  # lines per task: large enough that scheduling costs little beside classifying them


def answer(engine: "Engine", n: int, line: str, top_k: int, county: str) -> str:
    """The output line for input line number n."""
    import json

    try:
        req = ClassifyRequest(text=line.rstrip("\n"), top_k=top_k)
    except ValidationError as exc:
        return json.dumps({"line": n, "error": exc.errors()[0]["msg"]}, ensure_ascii=False)
    return engine.classify(req.text, req.top_k, county).model_dump_json()


# The engine a forked worker answers from: set in the parent just before forking, so every child
# inherits the loaded list instead of loading its own (fork passes no arguments to an initializer
# cheaper than memory it already shares).
_FORKED: tuple["Engine", int, str] | None = None


def _forked_chunk(chunk: list[tuple[int, str]]) -> list[str]:
    assert _FORKED is not None
    engine, top_k, county = _FORKED
    return [answer(engine, n, line, top_k, county) for n, line in chunk]


def _chunks(lines: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    numbered = enumerate(lines, 1)
    while chunk := list(itertools.islice(numbered, CHUNK)):
        yield chunk


def run_local(engine: "Engine", lines: Iterable[str], top_k: int, county: str,
              processes: int | None = None) -> Iterator[str]:
    """Answers in input order, from `processes` forked processes (default: every core)."""
    global _FORKED  # noqa: PLW0603 - see _FORKED
    processes = processes or os.cpu_count() or 1
    if processes == 1:
        for n, line in enumerate(lines, 1):
            yield answer(engine, n, line, top_k, county)
        return
    engine.classify("道路积水", 1, county)  # load everything lazy now, once, before the fork shares it
    _FORKED = (engine, top_k, county)
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for out in pool.imap(_forked_chunk, _chunks(lines)):  # imap: in order, as they come
                yield from out
    finally:
        _FORKED = None


@lru_cache(maxsize=4)  # one engine per Dask worker process and KB, loaded on its first chunk
def _worker_engine(root: str, county: str) -> "Engine":
    from .engine import Engine

    return Engine(Path(root), default_county=county)


def _dask_chunk(root: str, county: str, top_k: int, chunk: list[tuple[int, str]]) -> list[str]:
    engine = _worker_engine(root, county)
    return [answer(engine, n, line, top_k, county) for n, line in chunk]


def run_dask(root: Path, lines: Iterable[str], top_k: int, county: str,
             scheduler: str | None = None, cluster: str | None = None) -> Iterator[str]:
    """Answers in input order from a Dask cluster: an existing scheduler's address, or
    ``local:N`` for a cluster of N worker processes started here."""
    from distributed import Client, LocalCluster

    local = None
    if cluster is not None:
        kind, _, count = cluster.partition(":")
        if kind != "local" or not count.isdigit() or int(count) < 1:
            raise ValueError(f"unknown cluster {cluster!r}: use local:N")
        local = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=40)
    try:
        with Client(local if local is not None else scheduler) as client:
            window = 2 * max(1, len(client.scheduler_info()["workers"]))
            pending = []
            for chunk in _chunks(lines):
                pending.append(client.submit(_dask_chunk, str(root), county, top_k, chunk, pure=False))
                if len(pending) >= window:  # keep a few chunks per worker in flight, no more
                    yield from pending.pop(0).result()
            for future in pending:
                yield from future.result()
    finally:
        if local is not None:
            local.close()

"""Read-only SPARQL 1.1 over the KB graph, with a per-query time limit, a row cap and a
per-client concurrency limit.

Every query is first checked by `sparql_guard` (rdflib's parser and algebra): updates, SERVICE and
FROM / FROM NAMED are refused before any engine runs.  Two engines sit behind one interface
(`SparqlService.run`), chosen by the settings' sparql_engine; both run in worker processes, which
are killed when a query overruns (408) and replaced in the background:

- ``oxigraph`` (default): pyoxigraph, 10-100x faster than rdflib on the reviewers' queries
  (`make bench`).  Oxigraph cannot interrupt a query; the kill is its only limit.
- ``rdflib``: pure Python; its regexes hold the GIL, so in-process a single catastrophic pattern
  would freeze the service (see `rdflib_worker`).

A worker loads a county's graph before its first query of that county, and that load is bounded
separately (sparql_load_timeout): the query's own limit holds on a fresh worker too.  One client
(the caller's address) runs at most sparql_per_client queries at once; its further queries
queue behind its own for at most one time limit (then 429); a query waits
for a free worker at most one time limit, then is refused (503) instead of piling up.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from collections.abc import Callable
from contextlib import contextmanager
from collections.abc import Iterator

from . import oxigraph_worker, rdflib_worker
from .kb import LoadedKB
from .settings import Settings
from .oxigraph_worker import FORMATS
from .sparql_guard import NS, SparqlError, check_query

__all__ = ["SparqlAnswer", "SparqlError", "SparqlService", "check_query"]

BUSY = SparqlError(503, "sparql_busy", "查询繁忙(有查询超时仍在运行),请稍后再试。", "SPARQL workers busy; retry later.")


def _timeout(seconds: float) -> SparqlError:
    return SparqlError(408, "sparql_timeout", f"查询超过{seconds:g}秒时限,请缩小查询范围。",
                       f"The query exceeded the {seconds:g}s time limit.")


def _not_acceptable() -> SparqlError:
    return SparqlError(406, "not_acceptable", "SELECT/ASK 结果可返回 JSON 或 CSV,不能返回 Turtle。",
                       "SELECT/ASK results are available as SPARQL JSON or CSV, not Turtle.")


def _client_busy(limit: int) -> SparqlError:
    return SparqlError(429, "sparql_client_busy", f"同一来源最多同时运行{limit}个查询,前面的查询仍未结束,请稍后再试。",
                       f"At most {limit} concurrent SPARQL queries per client, and the earlier ones are still running.")


@dataclass(frozen=True)
class SparqlAnswer:
    body: bytes
    media_type: str
    truncated: bool  # SELECT rows were cut at the row cap


class SparqlService:
    """The one SPARQL entry point of the service and the CLI; see the module docstring."""

    def __init__(self, timeout: float = 5.0, max_rows: int = 10000, workers: int = 2, engine: str = "oxigraph",
                 per_client: int = 1, load_timeout: float = 120.0) -> None:
        if engine not in ("oxigraph", "rdflib"):
            raise ValueError(f"unknown SPARQL engine {engine!r}: use oxigraph or rdflib")
        self.timeout = timeout
        self.max_rows = max_rows
        self.engine = engine
        self.per_client = per_client
        self._slots = threading.BoundedSemaphore(workers)
        self._running: Counter[str] = Counter()
        self._clients = threading.Condition()
        target = oxigraph_worker.serve if engine == "oxigraph" else rdflib_worker.serve
        self._backend = _ProcessPool(target, timeout, load_timeout, workers)

    @classmethod
    def from_settings(cls, settings: "Settings | None" = None) -> "SparqlService":
        s = settings or Settings()
        return cls(s.sparql_timeout, s.sparql_max_rows, workers=s.sparql_workers, engine=s.sparql_engine,
                   per_client=s.sparql_per_client)

    @contextmanager
    def _client_slot(self, client: str | None) -> Iterator[None]:
        """One of the client's own slots: its further queries queue behind its running ones (at
        most one time limit, then 429), never in front of other clients'."""
        if client is None:  # the CLI and tests: no one to be fair to
            yield
            return
        with self._clients:
            if not self._clients.wait_for(lambda: self._running[client] < self.per_client, timeout=self.timeout):
                raise _client_busy(self.per_client)
            self._running[client] += 1
        try:
            yield
        finally:
            with self._clients:
                self._running[client] -= 1
                if not self._running[client]:
                    del self._running[client]
                self._clients.notify_all()

    def run(self, loaded: LoadedKB, query: str, accept: str, client: str | None = None) -> SparqlAnswer:
        checked = check_query(query)  # refused before any worker is involved
        with self._client_slot(client):
            # queue for a worker as long as one query may run; refuse only when that wait fails
            if not self._slots.acquire(timeout=self.timeout):
                raise BUSY
            try:
                fmt, body, truncated = self._backend.run(loaded, checked.text, accept, self.max_rows)
            finally:
                self._slots.release()
        return SparqlAnswer(body, FORMATS[fmt], truncated)

    def close(self) -> None:
        self._backend.close()


@dataclass
class _Worker:
    proc: multiprocessing.process.BaseProcess
    conn: object
    stores: set[str]  # county graphs this worker has loaded


class _ProcessPool:
    """Worker processes (`target` is a worker's main loop); a worker whose query overruns is
    killed, and a replacement with the same graph loaded is started in the background."""

    def __init__(self, target: Callable[..., None], timeout: float, load_timeout: float, size: int) -> None:
        self.timeout = timeout
        self.size = size
        self.load_timeout = load_timeout
        self._target = target
        self._ctx = multiprocessing.get_context("spawn")  # a clean child: no threads or locks of ours
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._dir: tempfile.TemporaryDirectory[str] | None = None  # created on first use, again after close()
        self._dumps: dict[str, str] = {}
        self._generation = 0  # bumped by close(): a worker warmed for an older pool is stopped

    def _dump(self, loaded: LoadedKB) -> tuple[str, str]:
        """The county graph as an N-Triples file for the workers (written once per list version)."""
        key = f"{loaded.kb.county}-{loaded.fingerprint or id(loaded)}"
        with self._lock:
            path = self._dumps.get(key)
            if path is None:
                if self._dir is None:
                    self._dir = tempfile.TemporaryDirectory(prefix="shudi-sparql-")
                path = os.path.join(self._dir.name, f"{key}.nt")
                loaded.graph.serialize(destination=path, format="nt", encoding="utf-8")
                self._dumps[key] = path
                # the first query's worker is started by run(); the others get ready meanwhile, so
                # a second client is not made to wait for a worker to start and load
                for _ in range(self.size - 1):
                    self._replace(key, path)
        return key, path

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=self._target, args=(child,), daemon=True, name="shudi-sparql")
        proc.start()
        child.close()
        return _Worker(proc, parent, set())

    def _worker(self, key: str) -> _Worker:
        with self._lock:
            for i, w in enumerate(self._idle):  # prefer one that has this county loaded
                if key in w.stores:
                    return self._idle.pop(i)
            if self._idle:
                return self._idle.pop()
        return self._spawn()

    @staticmethod
    def _kill(worker: _Worker) -> None:
        worker.proc.kill()
        worker.proc.join()

    def _exchange(self, worker: _Worker, request: tuple, budget: float) -> tuple | None:
        """Send one request; the reply, or None when the worker overran `budget` or died."""
        try:
            worker.conn.send(request)
            return worker.conn.recv() if worker.conn.poll(budget) else None
        except (EOFError, OSError):
            return None

    def _load(self, worker: _Worker, key: str, path: str) -> bool:
        if key in worker.stores:
            return True
        reply = self._exchange(worker, ("load", key, path), self.load_timeout)
        if reply != ("loaded",):
            return False
        worker.stores.add(key)
        return True

    def _replace(self, key: str, path: str) -> None:
        """A fresh worker with this county loaded, ready before the next query needs it (started
        in the background; the caller may hold the lock)."""
        generation = self._generation

        def warm() -> None:
            worker = self._spawn()
            if not self._load(worker, key, path):
                self._kill(worker)
                return
            with self._lock:
                if generation == self._generation:
                    self._idle.append(worker)
                    return
            worker.conn.send(None)

        threading.Thread(target=warm, daemon=True, name="shudi-sparql-warm").start()

    def run(self, loaded: LoadedKB, query: str, accept: str, max_rows: int) -> tuple[str, bytes, bool]:
        key, path = self._dump(loaded)
        worker = self._worker(key)
        if not self._load(worker, key, path):
            self._kill(worker)
            raise SparqlError(503, "sparql_worker_failed", "查询进程未能加载知识库,请稍后重试。",
                              "The SPARQL worker could not load the graph; retry.")
        # the query alone gets the time limit (plus a little for the round trip)
        reply = self._exchange(worker, ("query", key, query, NS, accept, max_rows, self.timeout), self.timeout + 0.5)
        if reply is None or reply[0] == "timeout":
            if reply is None:  # overran, or died: a worker in an unknown state is never reused
                self._kill(worker)
                self._replace(key, path)
            else:
                with self._lock:
                    self._idle.append(worker)
            raise _timeout(self.timeout)
        with self._lock:
            self._idle.append(worker)
        status, *rest = reply
        if status == "ok":
            fmt, body, truncated = rest
            if not fmt:
                raise _not_acceptable()
            return fmt, body, truncated
        if status == "syntax":
            raise SparqlError(400, "sparql_malformed", f"SPARQL 语法错误:{rest[0]}", f"Malformed SPARQL: {rest[0]}")
        raise SparqlError(400, "sparql_error", f"查询执行出错:{rest[0]}", f"Query evaluation failed: {rest[0]}")

    def close(self) -> None:
        """Stop the idle workers and drop the dumps; the pool stays usable (an app may be started again)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
            tmp, self._dir, self._dumps = self._dir, None, {}
        for w in idle:
            try:
                w.conn.send(None)
            except OSError:
                pass
            w.proc.join(2)
            if w.proc.is_alive():
                w.proc.kill()
        if tmp is not None:
            tmp.cleanup()

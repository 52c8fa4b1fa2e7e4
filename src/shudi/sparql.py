"""Read-only SPARQL 1.1 over the KB graph, with a per-query time limit and a row cap.

Two engines sit behind one interface (`SparqlService.run`), chosen by the settings' sparql_engine:

- ``oxigraph`` (default): pyoxigraph, 10-100x faster than rdflib on the reviewers' queries
  (`make bench`).  Oxigraph cannot interrupt a query, so it runs in worker processes that are
  killed when a query overruns (408) and replaced on the next query.
- ``rdflib``: rdflib has no time-out either, so a query is evaluated over a view of the KB's store
  whose every triple-pattern access checks a deadline; past it, evaluation raises (408).

A query waits for a worker at most one time limit, then is refused (503) instead of piling up.
Limits: sparql_timeout (seconds, default 5) and sparql_max_rows (10000) in the settings.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pyparsing import ParseException
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery, prepareUpdate
from rdflib.query import Result

from . import oxigraph_worker
from .errors import ShudiError
from .kb import LoadedKB
from .settings import Settings
from .oxigraph_worker import FORMATS, negotiate
from .stats import PREFIXES


class SparqlError(ShudiError):
    """A query refused, malformed, too slow, or not answerable in the format asked for."""


READ_ONLY = SparqlError(403, "sparql_read_only", "本端点只读,不接受 SPARQL UPDATE(INSERT/DELETE/LOAD/CLEAR 等)。",
                        "This endpoint is read-only; SPARQL UPDATE is refused.")
BUSY = SparqlError(503, "sparql_busy", "查询繁忙(有查询超时仍在运行),请稍后再试。", "SPARQL workers busy; retry later.")


def _timeout(seconds: float) -> SparqlError:
    return SparqlError(408, "sparql_timeout", f"查询超过{seconds:g}秒时限,请缩小查询范围。",
                       f"The query exceeded the {seconds:g}s time limit.")


def _not_acceptable() -> SparqlError:
    return SparqlError(406, "not_acceptable", "SELECT/ASK 结果可返回 JSON 或 CSV,不能返回 Turtle。",
                       "SELECT/ASK results are available as SPARQL JSON or CSV, not Turtle.")


def _is_update(query: str) -> bool:
    try:
        prepareUpdate(query)
    except Exception:  # noqa: BLE001 - any failure means: not an update
        return False
    return True


def check_query(query: str) -> object:
    """Parse a SPARQL query; refuse updates and malformed text with a clear message."""
    try:
        return prepareQuery(query, initNs=_NS)
    except ParseException as exc:
        if _is_update(query):
            raise READ_ONLY from exc
        raise SparqlError(400, "sparql_malformed", f"SPARQL 语法错误:第{exc.lineno}行第{exc.col}列附近。",
                          f"Malformed SPARQL near line {exc.lineno}, column {exc.col}: {exc.msg}") from exc
    except Exception as exc:  # noqa: BLE001 - rdflib raises assorted errors for bad algebra
        raise SparqlError(400, "sparql_malformed", f"SPARQL 查询无效:{exc}", f"Invalid SPARQL query: {exc}") from exc


def _namespaces() -> dict[str, str]:
    out = {}
    for line in PREFIXES.strip().splitlines():
        _, prefix, iri = line.split()
        out[prefix.rstrip(":")] = iri.strip("<>")
    return out


_NS = _namespaces()


class QueryTimeout(Exception):
    pass


class _DeadlineGraph(Graph):
    """The KB graph's store, read through a deadline checked on every pattern and every 1,000
    triples, so that a runaway query stops itself."""

    def __init__(self, source: Graph, deadline: float) -> None:
        super().__init__(store=source.store, identifier=source.identifier, namespace_manager=source.namespace_manager)
        self._deadline = deadline

    def triples(self, triple, *args, **kwargs):  # noqa: ANN001, ANN201 - rdflib signature
        if time.monotonic() > self._deadline:
            raise QueryTimeout
        for n, t in enumerate(super().triples(triple, *args, **kwargs)):
            if n % 1000 == 999 and time.monotonic() > self._deadline:
                raise QueryTimeout
            yield t


@dataclass(frozen=True)
class SparqlAnswer:
    body: bytes
    media_type: str
    truncated: bool  # SELECT rows were cut at the row cap


class SparqlService:
    """The one SPARQL entry point of the service and the CLI; see the module docstring."""

    def __init__(self, timeout: float = 5.0, max_rows: int = 10000, workers: int = 2, engine: str = "oxigraph") -> None:
        if engine not in ("oxigraph", "rdflib"):
            raise ValueError(f"unknown SPARQL engine {engine!r}: use oxigraph or rdflib")
        self.timeout = timeout
        self.max_rows = max_rows
        self.engine = engine
        self._slots = threading.BoundedSemaphore(workers)
        self._backend = _OxigraphPool(timeout) if engine == "oxigraph" else _RdflibPool(timeout, workers)

    @classmethod
    def from_settings(cls, settings: "Settings | None" = None) -> "SparqlService":
        from .settings import Settings

        s = settings or Settings()
        return cls(s.sparql_timeout, s.sparql_max_rows, engine=s.sparql_engine)

    def run(self, loaded: LoadedKB, query: str, accept: str) -> SparqlAnswer:
        # queue for a worker as long as one query may run; refuse only when that wait fails
        if not self._slots.acquire(timeout=self.timeout):
            raise BUSY
        try:
            fmt, body, truncated = self._backend.run(loaded, query, accept, self.max_rows)
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


class _OxigraphPool:
    """Worker processes answering from Oxigraph stores; a worker whose query overruns is killed."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")  # a clean child: no threads or locks of ours
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._dir: tempfile.TemporaryDirectory[str] | None = None  # created on first use, again after close()
        self._dumps: dict[str, str] = {}

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
        return key, path

    def _worker(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=oxigraph_worker.serve, args=(child,), daemon=True, name="shudi-oxigraph")
        proc.start()
        child.close()
        return _Worker(proc, parent, set())

    def run(self, loaded: LoadedKB, query: str, accept: str, max_rows: int) -> tuple[str, bytes, bool]:
        key, path = self._dump(loaded)
        worker = self._worker()
        # a worker loads a county's store on its first query; that load is not the query's time
        budget = self.timeout + (0 if key in worker.stores else 30)
        try:
            worker.conn.send((key, path, query, _NS, accept, max_rows))
            timed_out = not worker.conn.poll(budget)
            reply = None if timed_out else worker.conn.recv()
        except (EOFError, OSError):
            timed_out, reply = False, None
        if reply is None:  # overran, or died: a worker in an unknown state is never reused
            worker.proc.kill()
            worker.proc.join()
            if timed_out:
                raise _timeout(self.timeout)
            raise SparqlError(503, "sparql_worker_failed", "查询进程异常退出,请稍后重试。", "The SPARQL worker failed; retry.")
        worker.stores.add(key)
        with self._lock:
            self._idle.append(worker)
        status, *rest = reply
        if status == "ok":
            fmt, body, truncated = rest
            if not fmt:
                raise _not_acceptable()
            return fmt, body, truncated
        if status == "syntax":
            if _is_update(query):
                raise READ_ONLY
            raise SparqlError(400, "sparql_malformed", f"SPARQL 语法错误:{rest[0]}", f"Malformed SPARQL: {rest[0]}")
        raise SparqlError(400, "sparql_error", f"查询执行出错:{rest[0]}", f"Query evaluation failed: {rest[0]}")

    def close(self) -> None:
        """Stop the idle workers and drop the dumps; the pool stays usable (an app may be started again)."""
        with self._lock:
            idle, self._idle = self._idle, []
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


class _RdflibPool:
    """rdflib in threads, each query over a deadline-checked view of the graph."""

    def __init__(self, timeout: float, workers: int) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sparql")

    def _execute(self, loaded: LoadedKB, prepared: object, max_rows: int) -> Result:
        view = _DeadlineGraph(loaded.graph, time.monotonic() + self.timeout)
        result = view.query(prepared)
        if result.type == "SELECT":
            # evaluate lazily and stop one row past the cap: a huge result is never built
            gen = result._genbindings or iter(())  # noqa: SLF001 - rdflib keeps the lazy rows here
            result._genbindings = None  # noqa: SLF001
            result.bindings = list(itertools.islice(gen, max_rows + 1))
        else:
            len(result)  # evaluate now, inside the deadline
        return result

    def run(self, loaded: LoadedKB, query: str, accept: str, max_rows: int) -> tuple[str, bytes, bool]:
        prepared = check_query(query)
        future = self._pool.submit(self._execute, loaded, prepared, max_rows)
        try:
            result = future.result(timeout=self.timeout + 1)
        except (FutureTimeout, QueryTimeout) as exc:
            raise _timeout(self.timeout) from exc
        except Exception as exc:  # noqa: BLE001 - evaluation errors are the query's fault
            raise SparqlError(400, "sparql_error", f"查询执行出错:{exc}", f"Query evaluation failed: {exc}") from exc
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            fmt = negotiate("graph", accept)
            return fmt, result.serialize(format=fmt), False
        fmt = negotiate("boolean" if result.type == "ASK" else "solutions", accept)
        if not fmt:
            raise _not_acceptable()
        truncated = result.type == "SELECT" and len(result.bindings) > max_rows
        if truncated:
            result.bindings = result.bindings[:max_rows]
        if fmt == "csv" and result.type == "ASK":
            return fmt, b"_askResult\r\n" + (b"true" if result.askAnswer else b"false") + b"\r\n", False
        return fmt, result.serialize(format=fmt), truncated

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

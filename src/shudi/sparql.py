"""Read-only SPARQL 1.1 over the KB graph, with a per-query time limit and a row cap.

rdflib has no query time-out, so a query is evaluated over a view of the KB's store whose every
triple-pattern access checks a deadline: past it, evaluation raises and the worker is freed
(408).  Queries run on a small pool; a query waits for a worker at most one time limit, then is
refused (503) instead of piling up.  Limits: SHUDI_SPARQL_TIMEOUT (seconds, default 5),
SHUDI_SPARQL_MAX_ROWS (10000).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pyparsing import ParseException
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery, prepareUpdate
from rdflib.query import Result

from .kb import LoadedKB
from .stats import PREFIXES


@dataclass
class SparqlError(Exception):
    status: int
    code: str
    zh: str
    en: str


def check_query(query: str) -> object:
    """Parse a SPARQL query; refuse updates and malformed text with a clear message."""
    try:
        return prepareQuery(query, initNs=_NS)
    except ParseException as exc:
        try:
            prepareUpdate(query)
        except Exception:  # noqa: BLE001 - not an update either: report the query's own error
            raise SparqlError(400, "sparql_malformed", f"SPARQL 语法错误:第{exc.lineno}行第{exc.col}列附近。",
                              f"Malformed SPARQL near line {exc.lineno}, column {exc.col}: {exc.msg}") from exc
        raise SparqlError(403, "sparql_read_only", "本端点只读,不接受 SPARQL UPDATE(INSERT/DELETE/LOAD/CLEAR 等)。",
                          "This endpoint is read-only; SPARQL UPDATE is refused.") from exc
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


class SparqlService:
    def __init__(self, timeout: float = 5.0, max_rows: int = 10000, workers: int = 2) -> None:
        self.timeout = timeout
        self.max_rows = max_rows
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sparql")
        self._slots = threading.BoundedSemaphore(workers)

    @classmethod
    def from_env(cls) -> SparqlService:
        return cls(float(os.environ.get("SHUDI_SPARQL_TIMEOUT", "5")), int(os.environ.get("SHUDI_SPARQL_MAX_ROWS", "10000")))

    def _execute(self, loaded: LoadedKB, prepared: object) -> Result:
        try:
            view = _DeadlineGraph(loaded.graph, time.monotonic() + self.timeout)
            result = view.query(prepared)
            if result.type == "SELECT":
                # evaluate lazily and stop one row past the cap: a huge result is never built
                gen = result._genbindings or iter(())  # noqa: SLF001 - rdflib keeps the lazy rows here
                result._genbindings = None  # noqa: SLF001
                result.bindings = list(itertools.islice(gen, self.max_rows + 1))
            else:
                len(result)  # evaluate now, inside the deadline
            return result
        finally:
            self._slots.release()

    def query(self, loaded: LoadedKB, query: str) -> tuple[Result, bool]:
        prepared = check_query(query)
        # queue for a worker as long as one query may run; refuse only when that wait fails
        if not self._slots.acquire(timeout=self.timeout):
            raise SparqlError(503, "sparql_busy", "查询繁忙(有查询超时仍在运行),请稍后再试。", "SPARQL workers busy; retry later.")
        future = self._pool.submit(self._execute, loaded, prepared)
        try:
            result = future.result(timeout=self.timeout + 1)
        except (FutureTimeout, QueryTimeout) as exc:
            raise SparqlError(408, "sparql_timeout", f"查询超过{self.timeout:g}秒时限,请缩小查询范围。",
                              f"The query exceeded the {self.timeout:g}s time limit.") from exc
        except SparqlError:
            raise
        except Exception as exc:  # noqa: BLE001 - evaluation errors are the query's fault
            raise SparqlError(400, "sparql_error", f"查询执行出错:{exc}", f"Query evaluation failed: {exc}") from exc
        truncated = result.type == "SELECT" and len(result.bindings) > self.max_rows
        if truncated:
            result.bindings = result.bindings[: self.max_rows]
        return result, truncated

    def run(self, loaded: LoadedKB, query: str, accept: str) -> tuple[bytes, str]:
        result, _ = self.query(loaded, query)
        accept = accept.lower()
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            if "n-triples" in accept:
                return result.serialize(format="nt"), "application/n-triples"
            return result.serialize(format="turtle"), "text/turtle; charset=utf-8"
        if "text/csv" in accept:
            if result.type == "ASK":
                return (b"_askResult\r\n" + (b"true" if result.askAnswer else b"false") + b"\r\n"), "text/csv; charset=utf-8"
            return result.serialize(format="csv"), "text/csv; charset=utf-8"
        if "turtle" in accept and "json" not in accept:
            raise SparqlError(406, "not_acceptable", "SELECT/ASK 结果可返回 JSON 或 CSV,不能返回 Turtle。",
                              "SELECT/ASK results are available as SPARQL JSON or CSV, not Turtle.")
        return result.serialize(format="json"), "application/sparql-results+json"

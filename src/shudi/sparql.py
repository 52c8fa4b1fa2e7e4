"""Read-only SPARQL 1.1 over the KB graph, with a per-query time limit and a row cap.

rdflib cannot interrupt a running query, so each query runs on a small dedicated pool and the
caller stops waiting at the time limit (408); a runaway query keeps at most one of the pool's
workers busy until it ends, and when all are busy new queries are refused (503) instead of
piling up.  Limits: SHUDI_SPARQL_TIMEOUT (seconds, default 5), SHUDI_SPARQL_MAX_ROWS (10000).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pyparsing import ParseException
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
            result = loaded.graph.query(prepared)
            if result.type == "SELECT":
                result.bindings = result.bindings[: self.max_rows + 1]  # materialise, one past the cap
            return result
        finally:
            self._slots.release()

    def query(self, loaded: LoadedKB, query: str) -> tuple[Result, bool]:
        prepared = check_query(query)
        if not self._slots.acquire(blocking=False):
            raise SparqlError(503, "sparql_busy", "查询繁忙(有查询超时仍在运行),请稍后再试。", "SPARQL workers busy; retry later.")
        future = self._pool.submit(self._execute, loaded, prepared)
        try:
            result = future.result(timeout=self.timeout)
        except FutureTimeout as exc:
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

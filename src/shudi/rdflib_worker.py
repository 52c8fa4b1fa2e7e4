"""The process that evaluates SPARQL with rdflib.

rdflib runs a query in pure Python and its regular expressions in `re`, which holds the GIL: a
catastrophic pattern (``^(a+)+$`` on thirty characters) would freeze every thread of the service,
/healthz included.  So rdflib answers here, in a process the service kills when a query overruns.
The graph is read through a deadline checked on every triple pattern, so most slow queries stop
themselves (the worker and its loaded graph survive); only what the deadline cannot reach (a regex
inside one FILTER) costs the process.  Same protocol as `oxigraph_worker` (see `serve` there)."""

from __future__ import annotations

import itertools
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from .oxigraph_worker import loop, negotiate


class QueryTimeout(Exception):
    pass


def _no_network(event: str, _args: tuple[Any, ...]) -> None:
    # second line of defence behind the query check (sparql_guard): this process never connects out
    if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        raise PermissionError("network access is disabled in the SPARQL worker")


def _deadline_graph(source: Any, deadline: float) -> Any:
    from rdflib import Graph

    class DeadlineGraph(Graph):
        def triples(self, triple, *args, **kwargs):  # noqa: ANN001, ANN201 - rdflib signature
            if time.monotonic() > deadline:
                raise QueryTimeout
            for n, t in enumerate(super().triples(triple, *args, **kwargs)):
                if n % 1000 == 999 and time.monotonic() > deadline:
                    raise QueryTimeout
                yield t

    return DeadlineGraph(store=source.store, identifier=source.identifier, namespace_manager=source.namespace_manager)


def answer(graph: Any, query: str, prefixes: dict[str, str], accept: str, max_rows: int, timeout: float) -> tuple[str, bytes, bool]:
    """(format, body, truncated) of a query over `graph`; format '' when `accept` cannot be met."""
    from rdflib.plugins.sparql import prepareQuery

    prepared = prepareQuery(query, initNs=prefixes)
    result = _deadline_graph(graph, time.monotonic() + timeout).query(prepared)
    if result.type == "SELECT":
        # evaluate lazily and stop one row past the cap: a huge result is never built
        gen = result._genbindings or iter(())  # noqa: SLF001 - rdflib keeps the lazy rows here
        result._genbindings = None  # noqa: SLF001
        result.bindings = list(itertools.islice(gen, max_rows + 1))
    else:
        len(result)  # evaluate now, inside the deadline
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        fmt = negotiate("graph", accept)
        return fmt, result.serialize(format=fmt), False
    fmt = negotiate("boolean" if result.type == "ASK" else "solutions", accept)
    if not fmt:
        return fmt, b"", False
    truncated = result.type == "SELECT" and len(result.bindings) > max_rows
    if truncated:
        result.bindings = result.bindings[:max_rows]
    if fmt == "csv" and result.type == "ASK":
        return fmt, b"_askResult\r\n" + (b"true" if result.askAnswer else b"false") + b"\r\n", False
    return fmt, result.serialize(format=fmt), truncated


def _load(path: str) -> Any:
    from rdflib import Graph

    g = Graph()
    g.parse(path, format="nt")
    return g


def serve(conn: Connection) -> None:
    """The rdflib worker (see `oxigraph_worker.loop`); a query stopped by its deadline is
    answered ('timeout', …) and the worker lives on."""
    sys.addaudithook(_no_network)
    loop(conn, _load, answer, (QueryTimeout, "timeout"))

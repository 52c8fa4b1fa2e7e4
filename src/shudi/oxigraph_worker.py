"""The process that evaluates SPARQL with Oxigraph (pyoxigraph).

Oxigraph cannot interrupt a query, so queries run in this separate process, which the service
kills when a query overruns its time limit.  It imports nothing of shudi's heavy modules: it
loads a county's graph from an N-Triples file once, then answers (query → serialised bytes) over a
pipe until it is told to stop."""

from __future__ import annotations

import csv
import io
import json
from multiprocessing.connection import Connection
from collections.abc import Callable
from typing import Any

FORMATS = {
    "json": "application/sparql-results+json",
    "csv": "text/csv; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "nt": "application/n-triples",
}


def negotiate(kind: str, accept: str) -> str:
    """The result format for a query kind ('solutions', 'boolean', 'graph') and an Accept header;
    '' when the header asks for a form this kind has not."""
    accept = accept.lower()
    if kind == "graph":
        return "nt" if "n-triples" in accept else "turtle"
    if "text/csv" in accept:
        return "csv"
    if "turtle" in accept and "json" not in accept:
        return ""
    return "json"


def _term_json(term: Any) -> dict[str, str]:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def _term_csv(term: Any) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def serialise(result: Any, accept: str, max_rows: int) -> tuple[str, bytes, bool]:
    """(format, body, truncated) of a pyoxigraph result; SELECT rows are capped at max_rows."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate("boolean", accept)
        if fmt == "csv":
            return fmt, ("_askResult\r\n" + ("true" if bool(result) else "false") + "\r\n").encode(), False
        return fmt, json.dumps({"head": {}, "boolean": bool(result)}).encode(), False
    if isinstance(result, ox.QueryTriples):
        fmt = negotiate("graph", accept)
        rdf = ox.RdfFormat.N_TRIPLES if fmt == "nt" else ox.RdfFormat.TURTLE
        return fmt, result.serialize(format=rdf), False
    fmt = negotiate("solutions", accept)
    if not fmt:
        return fmt, b"", False
    names = [v.value for v in result.variables]
    rows = []
    for solution in result:
        if len(rows) == max_rows:
            return fmt, _solutions(fmt, names, rows), True
        rows.append([solution[n] for n in names])
    return fmt, _solutions(fmt, names, rows), False


def _solutions(fmt: str, names: list[str], rows: list[list[Any]]) -> bytes:
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows([_term_csv(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    bindings = [{n: _term_json(t) for n, t in zip(names, row) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False).encode()


def loop(conn: Connection, load: Callable[[str], Any], answer: Callable[..., tuple],
         known: tuple[type[BaseException], str] | None = None) -> None:
    """A worker's main loop.  Requests: ('load', key, ntriples_path) → ('loaded',), so that loading
    a county's graph is never counted against a query's time; ('query', key, query, prefixes,
    accept, max_rows, timeout) → ('ok', format, body, truncated), (status,) for an exception named
    in `known`, or ('error', message); None → stop."""
    graphs: dict[str, Any] = {}
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            if request[0] == "load":
                _, key, path = request
                if key not in graphs:
                    graphs[key] = load(path)
                conn.send(("loaded",))
                continue
            _, key, query, prefixes, accept, max_rows, timeout = request
            conn.send(("ok", *answer(graphs[key], query, prefixes, accept, max_rows, timeout)))
        except Exception as exc:  # noqa: BLE001 - reported to the caller as the query's error
            if known is not None and isinstance(exc, known[0]):
                conn.send((known[1], str(exc)))
            else:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _load(path: str) -> Any:
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    return store


def _answer(store: Any, query: str, prefixes: dict[str, str], accept: str, max_rows: int, _timeout: float) -> tuple:
    return serialise(store.query(query, prefixes=prefixes), accept, max_rows)  # Oxigraph cannot stop itself


def serve(conn: Connection) -> None:
    """The Oxigraph worker (see `loop`); a syntax error is answered ('syntax', message)."""
    loop(conn, _load, _answer, (SyntaxError, "syntax"))

"""What a SPARQL query may do, decided before any engine sees it.

Every query, whichever engine answers it, is parsed here with rdflib's SPARQL parser and translated
to its algebra; the engines then get the text rdflib parsed (with its \\u escapes expanded, as the
SPARQL grammar does before parsing), so no spelling can mean one thing to this check and another to
the engine.  Refused before execution:

- updates (INSERT, DELETE, LOAD, CLEAR, …): 403 ``sparql_read_only``;
- any access beyond the KB graph: ``SERVICE`` anywhere in the query (sub-selects, EXISTS, OPTIONAL,
  SILENT, with a variable), and dataset clauses ``FROM`` / ``FROM NAMED`` (rdflib fetches their
  IRIs from the web; the KB is one graph, so no dataset clause can name anything local): 403
  ``sparql_remote_refused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyparsing import ParseException
from rdflib.plugins.sparql import prepareQuery, prepareUpdate
from rdflib.plugins.sparql.parser import expandUnicodeEscapes
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query

from .errors import ShudiError
from .stats import PREFIXES


class SparqlError(ShudiError):
    """A query refused, malformed, too slow, or not answerable in the format asked for."""


READ_ONLY = SparqlError(403, "sparql_read_only", "本端点只读,不接受 SPARQL UPDATE(INSERT/DELETE/LOAD/CLEAR 等)。",
                        "This endpoint is read-only; SPARQL UPDATE is refused.")
REMOTE = SparqlError(403, "sparql_remote_refused",
                     "本端点只查询本知识库,不访问其他地址(不支持 SERVICE、FROM、FROM NAMED)。",
                     "Queries may read only the KB graph: SERVICE, FROM and FROM NAMED are refused.")


def _namespaces() -> dict[str, str]:
    out = {}
    for line in PREFIXES.strip().splitlines():
        _, prefix, iri = line.split()
        out[prefix.rstrip(":")] = iri.strip("<>")
    return out


NS = _namespaces()


@dataclass(frozen=True)
class CheckedQuery:
    text: str  # what the engine runs: the query as parsed here
    prepared: Query


def _is_update(query: str) -> bool:
    try:
        prepareUpdate(query)
    except Exception:  # noqa: BLE001 - any failure means: not an update
        return False
    return True


def _services(node: Any) -> bool:
    """Whether a SERVICE pattern occurs anywhere in this algebra (expressions included)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, CompValue):
            if n.name == "ServiceGraphPattern":
                return True
            stack.extend(n.values())
        elif isinstance(n, (list, tuple)):
            stack.extend(n)
    return False


def check_query(query: str) -> CheckedQuery:
    """Parse a SPARQL query; refuse updates, remote access and malformed text with a clear message."""
    text = expandUnicodeEscapes(query)
    try:
        prepared = prepareQuery(text, initNs=NS)
    except ParseException as exc:
        if _is_update(text):
            raise READ_ONLY from exc
        raise SparqlError(400, "sparql_malformed", f"SPARQL 语法错误:第{exc.lineno}行第{exc.col}列附近。",
                          f"Malformed SPARQL near line {exc.lineno}, column {exc.col}: {exc.msg}") from exc
    except Exception as exc:  # noqa: BLE001 - rdflib raises assorted errors for bad algebra
        raise SparqlError(400, "sparql_malformed", f"SPARQL 查询无效:{exc}", f"Invalid SPARQL query: {exc}") from exc
    if prepared.algebra.get("datasetClause") or _services(prepared.algebra):
        raise REMOTE
    return CheckedQuery(text, prepared)

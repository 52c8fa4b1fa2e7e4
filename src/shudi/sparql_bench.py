"""rdflib vs Oxigraph (pyoxigraph) on the queries a legal reviewer runs (for `make bench`)."""

from __future__ import annotations

import statistics
import time

from .engine import Engine
from .stats import PREFIXES

REVIEWER_QUERIES = {
    "duties resting on an article": """
        SELECT ?item ?label ?text WHERE {
          ?item a sd:Item ; skos:prefLabel ?label ; sd:hasCitation ?c .
          ?c sd:article ?a ; sd:citedText ?text .
          ?a sd:articleNumber 77 ; eli:is_part_of/sd:versionOf <https://w3id.org/shudi/id/law/land-administration-law> .
        }""",
    "citations to superseded texts": """
        SELECT ?owner ?label WHERE {
          ?owner sd:hasCitation ?c . ?c rdfs:label ?label ; sd:article/eli:is_part_of ?v .
          { ?v sd:supersededBy ?n } UNION { ?v sd:versionOf/sd:supersededBy ?o }
        }""",
    "primary parties per domain": """
        SELECT ?domain ?party (COUNT(DISTINCT ?item) AS ?n) WHERE {
          ?item sd:inDomain/skos:notation ?domain ; sd:hasResponsibility ?r .
          ?r sd:role sd:Primary ; sd:party/skos:notation ?party .
        } GROUP BY ?domain ?party ORDER BY ?domain DESC(?n)""",
    "articles cited by no item (current versions)": """
        SELECT (COUNT(?a) AS ?n) WHERE {
          ?law sd:currentVersion ?v . ?a eli:is_part_of ?v .
          FILTER NOT EXISTS { ?c sd:article ?a }
        }""",
}


def _time(fn, repeat: int = 5) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1000
    if first > 2000:  # a slow engine is timed once rather than holding the bench for minutes
        return first
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_sparql(engine: Engine) -> None:
    import pyoxigraph

    graph = engine.county().loaded.graph
    t0 = time.perf_counter()
    store = pyoxigraph.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    load_ms = (time.perf_counter() - t0) * 1000
    print(f"SPARQL: Oxigraph store built from the graph in {load_ms:.0f} ms ({len(graph)} triples)")
    print(f"  {'query':46} {'rdflib ms':>10} {'oxigraph ms':>12} {'rows':>6}")
    for name, body in REVIEWER_QUERIES.items():
        q = PREFIXES + body
        rd_rows = len(list(graph.query(q)))
        ox_rows = len(list(store.query(q)))
        rd = _time(lambda q=q: list(graph.query(q)))
        ox = _time(lambda q=q: list(store.query(q)))
        flag = "" if rd_rows == ox_rows else f"  (row counts differ: {rd_rows} vs {ox_rows})"
        print(f"  {name:46} {rd:10.1f} {ox:12.2f} {rd_rows:6d}{flag}")

"""rdflib vs Oxigraph (pyoxigraph) on the queries a legal reviewer runs (for `make bench`)."""

from __future__ import annotations

import json
import statistics
import time

from shudi.engine import Engine
from shudi.sparql import SparqlService
from shudi.stats import PREFIXES

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
    """Both engines through the same `SparqlService.run` the endpoint uses (parse, evaluate,
    serialise; for Oxigraph also the round trip to its worker process)."""
    loaded = engine.county().loaded
    services = {name: SparqlService(timeout=120, engine=name) for name in ("rdflib", "oxigraph")}
    try:
        t0 = time.perf_counter()
        services["oxigraph"].run(loaded, "ASK { ?s ?p ?o }", "")
        print(f"SPARQL (served engine: {SparqlService.from_settings().engine}): Oxigraph worker started and store "
              f"loaded in {(time.perf_counter() - t0) * 1000:.0f} ms ({len(loaded.graph)} triples)")
        print(f"  {'query':46} {'rdflib ms':>10} {'oxigraph ms':>12} {'rows':>6}")
        for name, body in REVIEWER_QUERIES.items():
            q = PREFIXES + body
            rows = {k: len(json.loads(svc.run(loaded, q, "").body)["results"]["bindings"]) for k, svc in services.items()}
            ms = {k: _time(lambda svc=svc, q=q: svc.run(loaded, q, "")) for k, svc in services.items()}
            flag = "" if rows["rdflib"] == rows["oxigraph"] else f"  (row counts differ: {rows})"
            print(f"  {name:46} {ms['rdflib']:10.1f} {ms['oxigraph']:12.2f} {rows['oxigraph']:6d}{flag}")
    finally:
        for svc in services.values():
            svc.close()

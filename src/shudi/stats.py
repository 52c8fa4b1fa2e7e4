"""KB statistics, counted with SPARQL on the served graph (so they describe what is served)."""

from __future__ import annotations

from rdflib import RDF, Graph

from .graph import SD

PREFIXES = """
PREFIX sd: <https://w3id.org/shudi/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

_COUNTS = {
    "domains": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Domain }",
    "items": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Item }",
    "scenarios": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Scenario }",
    "departments": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Department }",
    "stationed_agencies": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:StationedAgency }",
    "laws": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Law }",
    "law_versions": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:LawVersion }",
    "articles": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a sd:Article }",
    "cited_articles": "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?c a sd:Citation ; sd:article ?a }",
    "citations": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a sd:Citation }",
    "superseded_citations": """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?c a sd:Citation ; sd:article/eli:is_part_of ?v .
        { ?v sd:supersededBy ?newer } UNION { ?v sd:versionOf/sd:supersededBy ?other } }""",
    "triggers": "SELECT (COUNT(*) AS ?n) WHERE { ?s a sd:Scenario ; sd:trigger ?t }",
    "procedure_steps": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a sd:ProcedureStep }",
    "time_limits": "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a sd:TimeLimit }",
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
}


def kb_stats(g: Graph) -> dict[str, int]:
    stats = {key: int(next(iter(g.query(PREFIXES + q)))[0]) for key, q in _COUNTS.items()}
    # These two are counted by walking the graph: rdflib's SPARQL takes tens of seconds on the
    # equivalent joins (it evaluates them per citation / per responsibility).
    articles = set(g.subjects(RDF.type, SD.Article))
    stats["unresolved_citations"] = sum(
        1 for c in g.subjects(RDF.type, SD.Citation) if g.value(c, SD.article) not in articles
    )
    township_level = set(g.subjects(SD.level, SD.Township))
    stats["township_primary_items"] = len({
        item for item, resp in g.subject_objects(SD.hasResponsibility)
        if (resp, SD.role, SD.Primary) in g and g.value(resp, SD.party) in township_level and (item, RDF.type, SD.Item) in g
    })
    return stats


def per_domain(g: Graph) -> list[dict[str, object]]:
    q = PREFIXES + """
    SELECT ?d ?label (COUNT(DISTINCT ?i) AS ?items) (COUNT(DISTINCT ?s) AS ?scenarios) WHERE {
      ?d a sd:Domain ; skos:notation ?label .
      OPTIONAL { ?i sd:inDomain ?d . OPTIONAL { ?s sd:scenarioOf ?i } }
    } GROUP BY ?d ?label ORDER BY ?label"""
    return [{"domain": str(r.label), "items": int(r.items), "scenarios": int(r.scenarios)} for r in g.query(q)]

"""Compile a resolved knowledge base into the RDF graph that is served (SPARQL, validation)."""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, ORG, PROV, SKOS

from .model import Citation, KnowledgeBase

SD = Namespace("https://w3id.org/shudi/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
ID = Namespace("https://w3id.org/shudi/id/")
ZH = "zh"
LEVELS = {"county": SD.County, "township": SD.Township, "village": SD.Village}


def domain_uri(domain_id: str) -> URIRef:
    return ID[f"domain/{domain_id}"]


def item_uri(item_id: str) -> URIRef:
    return ID[f"item/{item_id}"]


def scenario_uri(scenario_id: str) -> URIRef:
    return ID[f"scenario/{scenario_id}"]


def org_uri(org_id: str) -> URIRef:
    return ID[f"org/{org_id}"]


def law_uri(law_id: str) -> URIRef:
    return ID[f"law/{law_id}"]


def version_uri(law_id: str, version: str) -> URIRef:
    return ID[f"law/{law_id}/{version}"]


def article_uri(law_id: str, version: str, key: str) -> URIRef:
    return ID[f"law/{law_id}/{version}/art/{key}"]


def bind_prefixes(g: Graph) -> None:
    for prefix, ns in (("sd", SD), ("eli", ELI), ("id", ID), ("skos", SKOS), ("org", ORG), ("dcterms", DCTERMS), ("prov", PROV)):
        g.bind(prefix, ns)


class TurtleError(ValueError):
    """A Turtle file that does not parse; the message names the file and line."""


def parse_turtle(path: Path, into: Graph | None = None) -> Graph:
    g = into if into is not None else Graph()
    try:
        g.parse(path, format="turtle")
    except FileNotFoundError as exc:
        raise TurtleError(f"{path}: file not found") from exc
    except Exception as exc:  # noqa: BLE001 - rdflib raises BadSyntax and assorted errors
        line = getattr(exc, "lines", None)
        where = f":{line + 1}" if isinstance(line, int) else ""
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise TurtleError(f"{path}{where}: Turtle syntax error: {message}") from exc
    return g


def compile_graph(kb: KnowledgeBase) -> Graph:
    g = Graph()
    bind_prefixes(g)
    add = g.add
    lst = ID[f"list/{kb.county}"]
    add((lst, RDF.type, SD.List))
    add((lst, SKOS.prefLabel, Literal(f"{kb.county} 属地管理事项主体责任和配合责任清单", lang=ZH)))

    for sid, title in kb.sources.items():
        s = ID[f"source/{sid}"]
        add((s, RDF.type, PROV.Entity))
        add((s, DCTERMS.title, Literal(title, lang=ZH)))
        add((s, DCTERMS.identifier, Literal(sid)))

    for did, name in kb.domains.items():
        d = domain_uri(did)
        add((d, RDF.type, SD.Domain))
        add((d, SKOS.prefLabel, Literal(name, lang=ZH)))
        add((d, SKOS.notation, Literal(did)))
        add((d, SKOS.inScheme, lst))

    for dept in kb.departments.values():
        o = org_uri(dept.id)
        add((o, RDF.type, SD.StationedAgency if dept.is_agency else SD.Department))
        add((o, RDF.type, ORG.OrganizationalUnit if dept.is_agency else ORG.Organization))
        add((o, SKOS.prefLabel, Literal(dept.name, lang=ZH)))
        add((o, SKOS.notation, Literal(dept.id)))
        for alt in dept.alt:
            add((o, SKOS.altLabel, Literal(alt, lang=ZH)))
        add((o, SD.level, LEVELS[dept.level]))
        if dept.parent:
            add((o, ORG.unitOf, org_uri(dept.parent)))
            add((org_uri(dept.parent), ORG.hasUnit, o))
            for handled in dept.handles:
                add((o, SD.mayHandle, item_uri(handled)))

    lb = kb.lawbook
    for law_id, versions in lb.versions.items():
        law = lb.laws[law_id]
        lw = law_uri(law_id)
        add((lw, RDF.type, SD.Law))
        add((lw, ELI.title, Literal(versions[-1].full_title, lang=ZH)))
        add((lw, ELI.title_short, Literal(law.title, lang=ZH)))
        add((lw, SKOS.notation, Literal(law_id)))
        add((lw, SD.lawLevel, Literal(law.level)))
        add((lw, SD.currentVersion, version_uri(law_id, versions[-1].version.isoformat())))
        if law.replaced_by:
            add((lw, SD.supersededBy, law_uri(law.replaced_by)))
        for older, newer in zip(versions, versions[1:]):
            add((version_uri(law_id, older.version.isoformat()), SD.supersededBy, version_uri(law_id, newer.version.isoformat())))
        for v in versions:
            vd = v.version.isoformat()
            vu = version_uri(law_id, vd)
            add((vu, RDF.type, SD.LawVersion))
            add((vu, SD.versionOf, lw))
            add((vu, ELI.version_date, Literal(vd, datatype=XSD.date)))
            add((vu, ELI.title, Literal(v.full_title, lang=ZH)))
            add((vu, DCTERMS.source, Literal(f"kb/laws/{v.path.parent.name}/{v.path.name}")))
            for art in v.articles.values():
                au = article_uri(law_id, vd, art.key)
                add((au, RDF.type, SD.Article))
                add((au, ELI.is_part_of, vu))
                add((au, ELI.number, Literal(art.label)))
                add((au, SD.articleNumber, Literal(art.number)))
                add((au, SD.paragraphCount, Literal(len(art.paragraphs))))
                add((au, SD.articleText, Literal(art.text, lang=ZH)))

    def cite(owner: URIRef, owner_id: str, k: int, c: Citation) -> None:
        cu = ID[f"citation/{owner_id}/{k}"]
        add((owner, SD.hasCitation, cu))
        add((cu, RDF.type, SD.Citation))
        add((cu, SD.article, article_uri(c.law_id, c.version.isoformat(), c.article_key)))
        add((cu, SD.citedText, Literal(c.text, lang=ZH)))
        add((cu, RDFS.label, Literal(c.label, lang=ZH)))
        if c.paragraph:
            add((cu, SD.paragraph, Literal(c.paragraph)))
        if c.clause:
            add((cu, SD.clause, Literal(c.clause)))
        if c.note:
            add((cu, RDFS.comment, Literal(c.note, lang=ZH)))

    for item in kb.items.values():
        iu = item_uri(item.id)
        add((iu, RDF.type, SD.Item))
        add((iu, SKOS.prefLabel, Literal(item.name, lang=ZH)))
        add((iu, SKOS.notation, Literal(item.id)))
        add((iu, SKOS.inScheme, lst))
        for alt in item.alt_names:
            add((iu, SKOS.altLabel, Literal(alt, lang=ZH)))
        add((iu, SD.inDomain, domain_uri(item.domain)))
        add((iu, SD.itemType, Literal(item.type)))
        add((iu, SD.countyDuties, Literal(item.county_duties, lang=ZH)))
        add((iu, SD.townshipDuties, Literal(item.township_duties, lang=ZH)))
        add((iu, DCTERMS.source, ID[f"source/{item.source}"]))
        add((iu, PROV.wasDerivedFrom, ID[f"source/{item.source}"]))
        for role, parties in ((SD.Primary, item.primary), (SD.Supporting, item.supporting)):
            for k, p in enumerate(parties):
                ru = ID[f"resp/{item.id}/{'primary' if role == SD.Primary else 'supporting'}/{k}"]
                add((iu, SD.hasResponsibility, ru))
                add((ru, RDF.type, SD.Responsibility))
                add((ru, SD.role, role))
                add((ru, SD.party, org_uri(p.party)))
                add((ru, SD.duties, Literal(p.duties, lang=ZH)))
                dept = kb.departments.get(p.party)
                if dept:
                    add((ru, SD.level, LEVELS[dept.level]))
                add((ru, DCTERMS.source, ID[f"source/{item.source}"]))
                for n, c in enumerate(p.citations):
                    cite(ru, f"{item.id}/{'primary' if role == SD.Primary else 'supporting'}/{k}", n, c)
        for step in item.procedure:
            su = ID[f"item/{item.id}/step/{step.order}"]
            add((iu, SD.hasStep, su))
            add((su, RDF.type, SD.ProcedureStep))
            add((su, SD.order, Literal(step.order)))
            add((su, RDFS.label, Literal(step.step, lang=ZH)))
            add((su, SD.actor, org_uri(step.actor)))
            add((su, DCTERMS.description, Literal(step.text, lang=ZH)))
        for n, tl in enumerate(item.time_limits):
            tu = ID[f"item/{item.id}/limit/{n}"]
            add((iu, SD.hasTimeLimit, tu))
            add((tu, RDF.type, SD.TimeLimit))
            add((tu, RDFS.label, Literal(tl.what, lang=ZH)))
            add((tu, SD.limitText, Literal(tl.limit, lang=ZH)))
            for prop, value in ((SD.workingDays, tl.working_days), (SD.calendarDays, tl.days), (SD.hours, tl.hours)):
                if value is not None:
                    add((tu, prop, Literal(value)))
            if tl.basis:
                cite(tu, f"{item.id}/limit/{n}", 0, tl.basis)
            if tl.source:
                add((tu, SD.basis, ID[f"source/{tl.source}"]))
        for k, c in enumerate(item.citations):
            cite(iu, item.id, k, c)
        for sc in item.scenarios:
            su = scenario_uri(sc.id)
            add((su, RDF.type, SD.Scenario))
            add((su, SKOS.prefLabel, Literal(sc.name, lang=ZH)))
            add((su, SKOS.notation, Literal(sc.id)))
            add((su, SD.scenarioOf, iu))
            add((su, SKOS.inScheme, lst))
            for party in sc.primary_override:
                add((su, SD.overridesPrimary, org_uri(party)))
            for key, value in sc.facts.items():
                add((su, SD.fact, Literal(f"{key}={str(value).lower() if isinstance(value, bool) else value}")))
            for t in sc.triggers:
                add((su, SD.trigger, Literal(t, lang=ZH)))
            for t in kb.examples.get(sc.id, ()):
                add((su, SKOS.example, Literal(t, lang=ZH)))  # 示例来电, invented
            for k, c in enumerate(sc.citations):
                cite(su, sc.id, k, c)
    return g

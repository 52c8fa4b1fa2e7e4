"""The resolved knowledge base of one county: items, scenarios, parties and citations with their
article text, as immutable objects.  Built from the KB source files (shudi.source) together
with the statute texts; the RDF graph (shudi.graph) is compiled from the same objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from .lawbook import Lawbook, ResolvedCitation
from .source import DOMAINS, CitationSrc, ExamplesFile, ItemSrc
from .sourcecheck import KBSource


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    alt: tuple[str, ...]
    level: str  # county / township / village
    parent: str | None = None  # the department of a stationed agency
    handles: tuple[str, ...] = ()

    @property
    def is_agency(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True)
class Citation:
    law_id: str
    law_title: str  # full title, e.g. 中华人民共和国土地管理法
    law_level: str
    version: date
    article: int
    article_suffix: int
    article_label: str  # 第七十七条
    paragraph: int | None
    clause: int | None
    label: str  # 《…》第七十七条第一款
    text: str  # the designated article / 款 / 项 text, from the vendored file
    superseded: bool
    note: str | None = None

    @property
    def article_key(self) -> str:
        return f"{self.article}" + (f"-{self.article_suffix}" if self.article_suffix else "")


@dataclass(frozen=True)
class Party:
    party: str
    duties: str
    citations: tuple[Citation, ...] = ()  # the articles this duty rests on


@dataclass(frozen=True)
class Step:
    order: int
    step: str
    actor: str
    text: str


@dataclass(frozen=True)
class TimeLimit:
    what: str
    limit: str
    working_days: int | None
    days: int | None
    hours: int | None
    basis: Citation | None
    source: str | None


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    item_id: str
    primary_override: tuple[str, ...]
    citations: tuple[Citation, ...]
    facts: dict[str, str | bool]
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    alt_names: tuple[str, ...]
    domain: str
    type: str
    county_duties: str
    township_duties: str
    primary: tuple[Party, ...]
    supporting: tuple[Party, ...]
    procedure: tuple[Step, ...]
    time_limits: tuple[TimeLimit, ...]
    citations: tuple[Citation, ...]
    scenarios: tuple[Scenario, ...]
    source: str

    def primary_for(self, scenario: Scenario | None) -> tuple[str, ...]:
        if scenario is not None and scenario.primary_override:
            return scenario.primary_override
        return tuple(p.party for p in self.primary)


@dataclass
class KnowledgeBase:
    county: str
    domains: dict[str, str]
    items: dict[str, Item]
    departments: dict[str, Department]
    sources: dict[str, str]
    lawbook: Lawbook
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # 示例来电 per scenario id
    out_of_scope_examples: tuple[str, ...] = ()  # near-misses that are on no item of the list
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scenarios = {s.id: s for i in self.items.values() for s in i.scenarios}

    def department_name(self, dept_id: str) -> str:
        dept = self.departments.get(dept_id)
        return dept.name if dept else dept_id

    def agencies_of(self, dept_id: str) -> list[Department]:
        return [d for d in self.departments.values() if d.parent == dept_id]

    def all_citations(self) -> list[tuple[str, Citation]]:
        """(item or scenario id, citation) for every citation in the list."""
        out: list[tuple[str, Citation]] = []
        for item in self.items.values():
            out += [(item.id, c) for c in item.citations]
            for sc in item.scenarios:
                out += [(sc.id, c) for c in sc.citations]
        return out


class UnresolvedCitation(ValueError):
    pass


def make_citation(lawbook: Lawbook, c: CitationSrc, where: str) -> Citation:
    r = lawbook.resolve(c)
    if isinstance(r, str):
        raise UnresolvedCitation(f"{where}: {r}")
    return citation_from(r, c.note)


def citation_from(r: ResolvedCitation, note: str | None = None) -> Citation:
    return Citation(
        law_id=r.law.id,
        law_title=r.version.full_title,
        law_level=r.law.level,
        version=r.version.version,
        article=r.article.number,
        article_suffix=r.article.suffix,
        article_label=r.article.label,
        paragraph=r.paragraph,
        clause=r.clause,
        label=r.label,
        text=r.text,
        superseded=r.superseded,
        note=note,
    )


def build_item(src: ItemSrc, domain: str, default_source: str, lawbook: Lawbook) -> Item:
    def cites(cs: list[CitationSrc], where: str) -> tuple[Citation, ...]:
        return tuple(make_citation(lawbook, c, where) for c in cs)

    scenarios = tuple(
        Scenario(
            id=s.id,
            name=s.name,
            item_id=src.id,
            primary_override=tuple(s.primary or ()),
            citations=cites(s.citations, s.id),
            facts=dict(s.facts),
            triggers=tuple(dict.fromkeys(t.strip() for t in s.triggers if t.strip())),
        )
        for s in src.scenarios
    )
    limits = tuple(
        TimeLimit(
            what=t.what,
            limit=t.limit,
            working_days=t.working_days,
            days=t.days,
            hours=t.hours,
            basis=make_citation(lawbook, t.source, src.id) if isinstance(t.source, CitationSrc) else None,
            source=t.source if isinstance(t.source, str) else None,
        )
        for t in src.time_limits
    )
    return Item(
        id=src.id,
        name=src.name,
        alt_names=tuple(src.alt_names),
        domain=domain,
        type=src.type,
        county_duties=src.county_duties,
        township_duties=src.township_duties,
        primary=tuple(Party(p.party, p.duties, cites(p.citations, src.id)) for p in src.primary),
        supporting=tuple(Party(p.party, p.duties, cites(p.citations, src.id)) for p in src.supporting),
        procedure=tuple(Step(i + 1, s.step, s.actor, s.text) for i, s in enumerate(src.procedure)),
        time_limits=limits,
        citations=cites(src.citations, src.id),
        scenarios=scenarios,
        source=src.source or default_source,
    )


def build_departments(kb: KBSource) -> dict[str, Department]:
    out: dict[str, Department] = {}
    for d in kb.departments.departments:
        out[d.id] = Department(d.id, d.name, tuple(d.alt), d.level)
        for a in d.agencies:
            out[a.id] = Department(a.id, a.name, tuple(a.alt), "township", parent=d.id, handles=tuple(a.handles))
    return out


def build_knowledge_base(
    county: str, kb: KBSource, items: list[tuple[str, str, ItemSrc]], lawbook: Lawbook, examples: Sequence[ExamplesFile] = (),
) -> KnowledgeBase:
    """`items` are (domain, default source, item source) after the county's list is resolved."""
    built = {src.id: build_item(src, domain, default, lawbook) for domain, default, src in items}
    scenario_ids = {s.id for i in built.values() for s in i.scenarios}
    by_scenario: dict[str, list[str]] = {}
    for ex in examples:
        for group in ex.examples:
            if group.scenario in scenario_ids:
                by_scenario.setdefault(group.scenario, []).extend(group.texts)
    return KnowledgeBase(
        examples={k: tuple(dict.fromkeys(v)) for k, v in by_scenario.items()},
        out_of_scope_examples=tuple(dict.fromkeys(t for ex in examples for t in ex.out_of_scope)),
        county=county,
        domains=dict(DOMAINS),
        items=built,
        departments=build_departments(kb),
        sources={s.id: s.title for s in kb.sources.sources},
        lawbook=lawbook,
    )

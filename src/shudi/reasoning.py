"""What the pre-check (两呼两不呼) and the delegation check (职责下沉准入) do alike: find the
township, recognise the list item a description speaks of, and take a decision from a first-match
rule table, each step leaving a Reason the operator can read."""

from __future__ import annotations

from dataclasses import dataclass

from .contract import Reason
from .engine import Engine
from .errors import NotFound
from .model import Item, KnowledgeBase, Scenario
from .rules import RuleSpec
from .source import CitationSrc, CountyFile

LIST_SOURCE = "《属地管理事项主体责任和配合责任清单》"


def source_label(kb: KnowledgeBase, source: CitationSrc | str) -> str:
    if isinstance(source, str):
        return kb.sources.get(source, source)
    resolved = kb.lawbook.resolve(source)
    return resolved if isinstance(resolved, str) else resolved.label


def find_township(county: CountyFile, township: str) -> str:
    key = township.strip()
    for t in county.townships:
        if key == t.id or key == t.name or key in t.alt:
            return t.id
    raise NotFound(f"未知乡镇(街道) {township}", f"unknown township {township!r} in county {county.id}",
                   (f"{t.id}({t.name})" for t in county.townships))


@dataclass(frozen=True)
class Recognised:
    item: Item | None
    scenario: Scenario | None
    reason: Reason
    normalized: str  # the text as the classifier read it (for the text cues)


def recognise(engine: Engine, text: str, county: str | None, principle: str, found: str, missing: str) -> Recognised:
    """The best list item for a description.  `found` is a template over {item}, {scenario}
    ("/「情形」" or "") and {evidence}; `missing` is said when nothing on the list matches."""
    kb = engine.county(county).kb
    result = engine.classify(text, top_k=1, county=county)
    if not result.matched:
        return Recognised(None, None, Reason(rule="classify", principle=principle, why=missing, source=LIST_SOURCE), result.normalized)
    top = result.candidates[0]
    item = kb.items[top.item.id]
    scenario = kb.scenarios.get(top.scenario.id) if top.scenario else None
    why = found.format(item=item.name, scenario=f"/「{scenario.name}」" if scenario else "", evidence="、".join(top.evidence[:4]))
    return Recognised(item, scenario, Reason(rule="classify", principle=principle, why=why, source=LIST_SOURCE), result.normalized)


def decide(engine: Engine, kb: KnowledgeBase, ruleset: str, facts: dict[str, str],
           why: str | None = None) -> tuple[RuleSpec, Reason]:
    """The deciding row of a first-match table, and the reason that quotes it with the facts
    (`why`: the facts as the caller words them for a reader)."""
    rule = engine.rules.decide(ruleset, facts)
    why = why or "事实:" + "、".join(f"{k}={v}" for k, v in facts.items())
    return rule, Reason(rule=rule.id, principle=rule.statement, why=why, source=source_label(kb, rule.source))

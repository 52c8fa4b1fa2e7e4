"""Each rule beside what it rests on (`shudi rules explain`): its statement, its conditions and
outcome in plain Chinese (from the rule file's `wording`, KB ids named from the KB), its place in
the precedence, and the text of its source — the article as parsed from the vendored statute
(kb/laws/, through the law book), or the report's title and summary (kb/sources.yaml)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .model import KnowledgeBase
from .rules import Cell, RuleFile, RuleSpec, Wording
from .source import CitationSrc, SourcesFile, read_model


class RuleExplanation(BaseModel):
    id: str
    statement: str
    conditions: list[str]  # all must hold; empty: always
    precedence: str | None  # why an earlier or more special rule goes first, if one can
    outcome: str
    source: str  # the article's label or the report's title
    source_text: str  # the article's text (parsed from the statute) or the report's summary
    superseded: bool = False  # the cited text has a newer version or was repealed


class RulesetExplanation(BaseModel):
    ruleset: str
    description: str
    first_match: bool
    rules: list[RuleExplanation]


class MissingWording(ValueError):
    pass


def _name(kb: KnowledgeBase, refers_to: str | None, value: str, rf: RuleFile) -> str | None:
    if refers_to == "item" and value in kb.items:
        return f"「{kb.items[value].name}」"
    if refers_to == "scenario" and value in kb.scenarios:
        return f"「{kb.scenarios[value].name}」"
    if refers_to == "party" and value in kb.departments:
        return kb.department_name(value)
    if refers_to == "fact" and value in rf.wording:
        return f"「{rf.wording[value].label}」"
    return None


def say(kb: KnowledgeBase, rf: RuleFile, key: str, value: Any, outcome: bool = False) -> str:  # noqa: ANN401 - a YAML scalar
    """One value of a column (or, outcome=True, of a `then` key) as a reader reads it; never
    the raw id.  A value worded "" has nothing to add and is left out by the caller."""
    table = rf.outcome_wording if outcome else rf.wording
    w: Wording | None = table.get(key)
    if w is None:
        raise MissingWording(f"rules/{rf.ruleset}.yaml: no wording for {key!r}")
    text = w.values[str(value)] if str(value) in w.values else _name(kb, w.refers_to, str(value), rf)
    if text is None:
        raise MissingWording(f"rules/{rf.ruleset}.yaml: no wording for {key}={value!r}")
    return text


def _condition(kb: KnowledgeBase, rf: RuleFile, key: str, cell: Cell) -> str:
    w = rf.wording.get(key)
    if w is None:
        raise MissingWording(f"rules/{rf.ruleset}.yaml: no wording for {key!r}")
    if isinstance(cell, dict):
        excluded = cell["not"] if isinstance(cell["not"], list) else [cell["not"]]
        rest = [v for v in w.values if v not in excluded]
        if w.refers_to is None and rest:  # a closed set of values: say which remain ("否或不明", not "不是是")
            return f"{w.label}为{'或'.join(say(kb, rf, key, v) for v in rest)}"
        return f"{w.label}不是{'或'.join(say(kb, rf, key, v) for v in excluded)}"
    values = cell if isinstance(cell, list) else [cell]
    return f"{w.label}为{'或'.join(say(kb, rf, key, v) for v in values)}"


def _outcome(kb: KnowledgeBase, rf: RuleFile, rule: RuleSpec) -> str:
    out = ""
    for key, value in rule.then.items():
        text = say(kb, rf, key, value, outcome=True)
        w = rf.outcome_wording[key]
        if text:
            out += (w.glue if out else "") + w.label + text
    return out


def _precedence(rf: RuleFile, index: int, rule: RuleSpec) -> str | None:
    if rf.first_match:
        return "前面各行均不适用时,才看本行。" if index else "首先判断本行。"
    overridden = [r.id for r in rf.rules if r.exception_of == rule.id]
    notes = []
    if rule.exception_of:
        notes.append(f"是 {rule.exception_of} 的特别规定,两者条件都满足时只适用本条。")
    if overridden:
        notes.append(f"{'、'.join(overridden)} 适用时本条不适用。")
    return "".join(notes) or None


def _source(kb: KnowledgeBase, docs: SourcesFile, source: CitationSrc | str) -> tuple[str, str, bool]:
    if isinstance(source, CitationSrc):
        resolved = kb.lawbook.resolve(source)
        if isinstance(resolved, str):  # never at run time: tests/test_rules.py resolves every source
            return resolved, "", False
        return resolved.label, resolved.text, resolved.superseded
    doc = next((d for d in docs.sources if d.id == source), None)
    if doc is None:
        return source, "", False
    return doc.title, doc.note or "(该文献未收录摘要)", False


def explain(kb: KnowledgeBase, rf: RuleFile, docs: SourcesFile) -> RulesetExplanation:
    rules = []
    for i, rule in enumerate(rf.rules):
        label, text, superseded = _source(kb, docs, rule.source)
        rules.append(RuleExplanation(
            id=rule.id, statement=rule.statement,
            conditions=[_condition(kb, rf, k, c) for k, c in rule.when.items()],
            precedence=_precedence(rf, i, rule), outcome=_outcome(kb, rf, rule),
            source=label, source_text=text, superseded=superseded,
        ))
    return RulesetExplanation(ruleset=rf.ruleset, description=rf.description, first_match=rf.first_match, rules=rules)


def load_sources(kb_dir: Any) -> SourcesFile:  # noqa: ANN401 - a Path
    return read_model(kb_dir / "sources.yaml", SourcesFile)


def render(ex: RulesetExplanation) -> str:
    """Plain text for the terminal: each rule, then the source's text indented beneath it."""
    head = f"规则集 {ex.ruleset}:{ex.description}" + ("(按顺序判断,第一条适用的规则决定结论)" if ex.first_match else "")
    out = [head, "=" * 40]
    for n, r in enumerate(ex.rules, 1):
        out += [f"{n}. [{r.id}] {r.statement}",
                f"   条件:{';'.join(r.conditions) if r.conditions else '无(总是适用)'}"]
        if r.precedence:
            out.append(f"   顺序:{r.precedence}")
        out += [f"   结论:{r.outcome}",
                f"   依据:{r.source}" + ("(该文本已被修订或废止)" if r.superseded else "")]
        out += ["   │ " + line for line in r.source_text.splitlines() if line.strip()]
        out.append("")
    return "\n".join(out)

"""Rule sets as data (rules/*.yaml), compiled at load into durable_rules rules run by one owned
durable_rules host.

A rule file:
    ruleset: precheck
    columns: [emergency, within_township_authority, ...]   # the facts its rules read
    first_match: true        # an ordered decision table: the first row that matches decides
    rules:
      - id: call.emergency
        statement: 遇到突发事件,可以"呼叫"。        # plain Chinese
        source: src.lanling-report | {law: ..., article: N}
        when: {emergency: "true", item: [a, b], homestead: {not: "true"}}
        then: {action: decide, decision: call, mode: urgent}
      - id: ...
        exception_of: call.emergency   # (files without first_match) this rule overrides that one
    wording:                 # plain Chinese for readers (`shudi rules explain`): each column
      emergency: {label: 紧急情况, values: {"true": 是, "false": 否}}
      item: {label: 事项, refers_to: item}   # values that are KB ids are named from the KB
    outcome_wording:         # and each key of `then` (label "" : the value says it all)
      decision: {values: {call: 可以"呼叫"}}
`when` maps a fact to a value (equality), a list (any of) or {not: value-or-list}.

Precedence is declared, never negated by hand (Catala's `exception`): in a first-match table a
row is compiled with the negation of every row above it; a rule with `exception_of: base` makes
`base` compiled with the negation of the exception.  `precedence_conditions` derives these
conditions as a plain, engine-neutral expression; only `RulesEngine` turns them into
durable_rules' JSON, so the rule files say nothing about the engine that runs them.  `matching`
reads the same declarations directly (no negation at all): tests check the compiled rules against
it.  Python only binds the actions: each firing is recorded as (rule, fact index) and
interpreted by the caller.

durable_rules keeps its state in a process-wide C engine that fails under concurrent posts
(upstream jruizgit/rules #291, "error code 307"), so all access goes through one lock, each
evaluation uses its own session id, and that session's state is deleted afterwards so memory
does not grow with the number of requests.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from durable import engine as dr
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .source import CitationSrc, KBSourceError, read_model

_SEEN = "_shudi_seen"  # internal catch-all rule, see RulesEngine.__init__

# A cell of `when`: one value, any of several, or none of several.
Cell = Union[str, list[str], dict[str, Union[str, list[str]]]]
# An engine-neutral condition (hashable, so equal guards can be compared):
# ("eq", fact, value) | ("ne", fact, value) | ("all", (expr, ...)) | ("any", (expr, ...))
Expr = tuple[Any, ...]


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    statement: str = Field(min_length=4)
    source: CitationSrc | str
    when: dict[str, Cell]
    then: dict[str, Any]
    exception_of: str | None = None


class Wording(BaseModel):
    """How a reader is told one fact (a column) or one key of `then`, and its values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = ""
    values: dict[str, str] = {}
    refers_to: Literal["item", "scenario", "party", "fact"] | None = None  # values are KB ids / a column
    glue: str = ";"  # (outcome) what joins this part to the one before it


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str
    description: str = ""
    columns: list[str] = Field(min_length=1)
    first_match: bool = False
    rules: list[RuleSpec]
    fallback_item: str | None = None  # precheck: whom an emergency call goes to when no item is recognised
    wording: dict[str, Wording] = {}
    outcome_wording: dict[str, Wording] = {}

    @model_validator(mode="after")
    def _consistent(self) -> RuleFile:
        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule ids {dup}")
        for r in self.rules:
            unknown = sorted(set(r.when) - set(self.columns))
            if unknown:
                raise ValueError(f"rule {r.id}: facts {unknown} are not among columns {self.columns}")
            if isinstance(r.when, dict) and any(isinstance(c, dict) and set(c) != {"not"} for c in r.when.values()):
                raise ValueError(f"rule {r.id}: a cell is a value, a list or {{not: ...}}")
            if r.exception_of is not None:
                if self.first_match:
                    raise ValueError(f"rule {r.id}: exception_of has no meaning in a first-match table (order decides)")
                if r.exception_of not in ids or r.exception_of == r.id:
                    raise ValueError(f"rule {r.id}: exception_of {r.exception_of!r} is not another rule of this file")
        return self


@dataclass(frozen=True)
class Firing:
    rule: RuleSpec
    fact_index: int


def _values(cell: Cell) -> list[str]:
    if isinstance(cell, dict):
        v = cell["not"]
        return v if isinstance(v, list) else [v]
    return cell if isinstance(cell, list) else [cell]


def cell_holds(cell: Cell, value: Any) -> bool:
    """The meaning of a `when` cell for one fact value."""
    inside = value in _values(cell)
    return not inside if isinstance(cell, dict) else inside


def _term(key: str, cell: Cell, negate: bool) -> Expr:
    """One cell as an expression, or its negation (De Morgan: any-of ↔ none-of)."""
    is_not = isinstance(cell, dict)
    if is_not != negate:  # "none of": every value differs
        return ("all", tuple(("ne", key, v) for v in _values(cell)))
    return ("any", tuple(("eq", key, v) for v in _values(cell)))


def _guard(rule: RuleSpec, other: RuleSpec) -> Expr | None:
    """not(other.when), simplified by what `rule` already fixes; None when always true there.

    A fact `rule` pins to one value decides the other's cell outright; a cell identical to the
    rule's own cannot be the one that differs."""
    alternatives: list[Expr] = []
    for key, cell in other.when.items():
        mine = rule.when.get(key)
        if isinstance(mine, str):
            if cell_holds(cell, mine):
                continue  # this cell of `other` holds wherever `rule` fires: not where they differ
            return None  # `other` can never match where `rule` does
        if mine == cell:
            continue
        alternatives.append(_term(key, cell, negate=True))
    return ("any", tuple(alternatives))


def precedence_conditions(rf: RuleFile) -> dict[str, Expr]:
    """Each rule's condition with the precedence of its file made explicit (engine-neutral)."""
    out: dict[str, Expr] = {}
    for n, rule in enumerate(rf.rules):
        if rf.first_match:
            beaten_by = rf.rules[:n]
        else:
            beaten_by = [r for r in rf.rules if r.exception_of == rule.id]
        guards: list[tuple[Expr, ...]] = []
        for other in beaten_by:
            guard = _guard(rule, other)
            if guard is None:
                continue
            if not guard[1]:
                raise KBSourceError(f"rules/{rf.ruleset}: rule {rule.id} can never apply: {other.id} always takes precedence")
            guards.append(guard[1])
        # a guard whose alternatives include another guard's is implied by it: keep the stronger
        kept = [g for g in guards if not any(h != g and set(h) <= set(g) for h in guards)]
        kept = [g for n, g in enumerate(kept) if g not in kept[:n]]
        terms = [_term(k, c, negate=False) for k, c in rule.when.items()]
        out[rule.id] = ("all", tuple(terms) + tuple(("any", g) for g in kept))
    return out


def matching(rf: RuleFile, facts: dict[str, Any]) -> list[RuleSpec]:
    """The rules that apply to one fact set, read straight off the declarations (first match, or
    every match not overridden by a matching exception), without the compiled negations."""
    hits = [r for r in rf.rules if all(cell_holds(c, facts.get(k)) for k, c in r.when.items())]
    if rf.first_match:
        return hits[:1]
    overridden = {r.exception_of for r in hits}
    return [r for r in hits if r.id not in overridden]


def _durable(expr: Expr) -> dict[str, Any]:
    op = expr[0]
    if op == "eq":
        return {expr[1]: expr[2]}
    if op == "ne":
        return {"$neq": {expr[1]: expr[2]}}
    parts = [_durable(x) for x in expr[1]]
    if len(parts) == 1:
        return parts[0]
    return {"$and" if op == "all" else "$or": parts}


def to_durable(expr: Expr) -> dict[str, Any]:
    """An engine-neutral condition as a durable_rules rule condition over one fact."""
    return {"all": [{"m": _durable(expr)}]}


def load_rule_file(path: Path) -> RuleFile:
    rf = read_model(path, RuleFile)
    precedence_conditions(rf)  # an unreachable rule is an error of the file, found at load
    return rf


class _Host(dr.Host):
    def __init__(self, owner: RulesEngine) -> None:
        self._owner = owner
        super().__init__()

    def get_action(self, action_name: str):  # noqa: ANN201 - durable_rules callback
        owner = self._owner

        def act(c: Any) -> None:
            owner._record(action_name, c.m)

        return act


class RulesEngine:
    """The one durable_rules host of the process, and the rule files it runs."""

    _instances = itertools.count()

    def __init__(self, rule_files: list[Path]) -> None:
        self._lock = threading.Lock()
        self._fired: dict[str, list[tuple[str, int]]] = {}
        self._seq = itertools.count()
        # rule set names are global in the C engine: make them unique per RulesEngine instance
        self._suffix = f"_{next(self._instances)}"
        self.files: dict[str, RuleFile] = {}
        self.specs: dict[str, RuleSpec] = {}
        definitions: dict[str, dict[str, Any]] = {}
        for path in rule_files:
            rf = load_rule_file(path)
            self.files[rf.ruleset] = rf
            definition: dict[str, Any] = {}
            for rule_id, expr in precedence_conditions(rf).items():
                definition[rule_id] = {**to_durable(expr), "run": rule_id}
            self.specs.update((r.id, r) for r in rf.rules)
            # Every evaluation must match some rule: durable_rules segfaults in delete_state for a
            # session in which no rule matched (its state was never created).
            definition[_SEEN] = {"all": [{"m": {"$ex": {"_index": 1}}}], "run": _SEEN}
            definitions[rf.ruleset + self._suffix] = definition
        self._host = _Host(self)
        self._host.set_rulesets(definitions)

    def _record(self, rule_id: str, fact: Any) -> None:
        fired = self._fired.setdefault(fact["sid"], [])
        if rule_id != _SEEN:
            fired.append((rule_id, int(fact["_index"])))

    def evaluate(self, ruleset: str, facts: list[dict[str, Any]]) -> list[Firing]:
        """Fire `ruleset` on these facts; firings in the order the rules are written."""
        if ruleset not in self.files:
            raise KeyError(f"unknown rule set {ruleset!r}")
        name = ruleset + self._suffix
        with self._lock:
            sid = f"e{next(self._seq)}"
            payload = [{**f, "sid": sid, "_index": i} for i, f in enumerate(facts)]
            try:
                if payload:
                    self._host.assert_facts(name, payload)
            except dr.MessageNotHandledException:
                pass
            finally:
                fired = self._fired.pop(sid, [])
                self._host.delete_state(name, sid)
        # durable_rules fires once per alternative of an "or" that holds: a rule either applies to
        # a fact or not, so count it once
        fired = list(dict.fromkeys(fired))
        order = {r.id: n for n, r in enumerate(self.files[ruleset].rules)}
        fired.sort(key=lambda f: (order[f[0]], f[1]))
        return [Firing(self.specs[rid], idx) for rid, idx in fired]

    def decide(self, ruleset: str, facts: dict[str, str]) -> RuleSpec:
        """The deciding row of a first-match table for one fact set."""
        if not self.files[ruleset].first_match:
            raise ValueError(f"rule set {ruleset!r} is not a decision table")
        firings = self.evaluate(ruleset, [facts])
        if len(firings) != 1:
            raise ValueError(f"rule set {ruleset!r}: {len(firings)} rows for {facts} (the table must decide exactly once)")
        return firings[0].rule

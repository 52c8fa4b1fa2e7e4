"""Rule sets as data (rules/*.yaml), compiled to durable_rules' JSON form and run by one owned
durable_rules host.

A rule file:
    ruleset: precheck
    rules:
      - id: call.emergency
        statement: 遇到突发事件,可以"呼叫"。        # plain Chinese
        source: src.lanling-report | {law: ..., article: N}
        when: {emergency: "true", within_township_authority: {not: "true"}, item: [a, b]}
        then: {action: decide, decision: call, mode: urgent}
`when` maps a fact to a value (equality), a list (any of) or {not: value}; `when_json` may
give a raw durable_rules condition instead.  Python only binds the actions: each firing is
recorded as (rule, fact index, then-arguments) and interpreted by the caller.

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
from typing import Any

from durable import engine as dr
from pydantic import BaseModel, ConfigDict, Field

from .source import CitationSrc, KBSourceError, read_model


_SEEN = "_shudi_seen"  # internal catch-all rule, see RulesEngine.__init__


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    statement: str = Field(min_length=4)
    source: CitationSrc | str
    when: dict[str, Any] | None = None
    when_json: dict[str, Any] | None = None
    then: dict[str, Any]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str
    description: str = ""
    rules: list[RuleSpec]
    truth_table: list[dict[str, Any]] = []
    truth_table_columns: list[str] = []
    fallback_item: str | None = None  # precheck: whom an emergency call goes to when no item is recognised


@dataclass(frozen=True)
class Firing:
    rule: RuleSpec
    fact_index: int


def compile_condition(when: dict[str, Any]) -> dict[str, Any]:
    terms: list[dict[str, Any]] = []
    for key, v in when.items():
        if isinstance(v, list):
            terms.append({"$or": [{key: x} for x in v]})
        elif isinstance(v, dict) and set(v) == {"not"}:
            nots = v["not"] if isinstance(v["not"], list) else [v["not"]]
            terms.extend({"$neq": {key: x}} for x in nots)
        else:
            terms.append({key: v})
    cond = terms[0] if len(terms) == 1 else {"$and": terms}
    return {"all": [{"m": cond}]}


def load_rule_file(path: Path) -> RuleFile:
    rf = read_model(path, RuleFile)
    ids = [r.id for r in rf.rules]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise KBSourceError(f"{path}: duplicate rule ids {sorted(dup)}")
    for r in rf.rules:
        if (r.when is None) == (r.when_json is None):
            raise KBSourceError(f"{path}: rule {r.id}: give exactly one of when / when_json")
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
            for r in rf.rules:
                cond = r.when_json if r.when_json is not None else compile_condition(r.when or {})
                definition[r.id] = {**cond, "run": r.id}
                self.specs[r.id] = r
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
        order = {r.id: n for n, r in enumerate(self.files[ruleset].rules)}
        fired.sort(key=lambda f: (order[f[0]], f[1]))
        return [Firing(self.specs[rid], idx) for rid, idx in fired]

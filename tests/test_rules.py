from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from shudi.engine import Engine
from shudi.kb import project_root
from shudi.lawbook import Lawbook
from shudi.rules import RulesEngine, load_rule_file
from shudi.source import CitationSrc

ROOT = project_root()
VALUES = ("true", "false", "unknown")
FACTS = ("emergency", "within_township_authority", "dispatched_agency_can_solve", "studied_cannot_solve")


def table_decision(table: list[dict], facts: dict[str, str]) -> tuple[str, str | None]:
    for row in table:
        if all(row[k] == "*" or row[k] == facts[k] for k in FACTS):
            return row["decision"], row["mode"]
    raise AssertionError(f"truth table has no row for {facts}")


def test_truth_table_is_written_down() -> None:
    rf = load_rule_file(ROOT / "rules" / "precheck.yaml")
    assert rf.truth_table, "rules/precheck.yaml must carry the truth table"
    assert set(rf.truth_table_columns) >= set(FACTS) | {"decision", "mode"}


@pytest.mark.parametrize("combo", list(itertools.product(VALUES, repeat=4)), ids=lambda c: "-".join(c))
def test_precheck_rules_match_truth_table(engine: Engine, combo: tuple[str, ...]) -> None:
    facts = dict(zip(FACTS, combo))
    table = engine.rules.files["precheck"].truth_table
    expected = table_decision(table, facts)
    firings = engine.rules.evaluate("precheck", [facts])
    assert len(firings) == 1, f"exactly one decision rule must fire for {facts}: {[f.rule.id for f in firings]}"
    then = firings[0].rule.then
    assert (then["decision"], then.get("mode")) == expected


def test_required_rows() -> None:
    """The five rows the reform states, read straight off the table."""
    table = load_rule_file(ROOT / "rules" / "precheck.yaml").truth_table
    u = "unknown"
    assert table_decision(table, dict(zip(FACTS, ("true", "true", "true", "false")))) == ("call", "urgent")
    assert table_decision(table, dict(zip(FACTS, (u, "true", u, u)))) == ("no_call", None)
    assert table_decision(table, dict(zip(FACTS, ("false", "false", "true", "true")))) == ("no_call", None)
    assert table_decision(table, dict(zip(FACTS, ("false", "false", "false", "true")))) == ("call", "normal")
    assert table_decision(table, dict(zip(FACTS, (u, u, u, u)))) == ("study_first", None)


CASE_FILES = sorted((ROOT / "rules" / "tests").glob("*.yaml"))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_rule_cases(engine: Engine, path: Path) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for case in spec["cases"]:
        fired = [f.rule.id for f in engine.rules.evaluate(spec["ruleset"], [case["facts"]])]
        assert fired == case["fires"], case["name"]


def test_every_rule_has_a_resolvable_source() -> None:
    lawbook = Lawbook.load(ROOT / "kb" / "laws" / "registry.yaml", ROOT / "kb" / "laws")
    sources = {s["id"] for s in yaml.safe_load((ROOT / "kb" / "sources.yaml").read_text(encoding="utf-8"))["sources"]}
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data.get("rules", []) + data.get("cues", [])
        for entry in entries:
            src = entry["source"]
            if isinstance(src, str):
                assert src in sources, f"{path.name}: {entry.get('id', entry.get('fact'))}: unknown source {src}"
            else:
                resolved = lawbook.resolve(CitationSrc(**src))
                assert not isinstance(resolved, str), f"{path.name}: {entry.get('id', entry.get('fact'))}: {resolved}"


def test_rules_engine_state_is_cleaned_up() -> None:
    """Per-evaluation sessions are deleted: nothing accumulates across evaluations."""
    rules = RulesEngine([ROOT / "rules" / "precheck.yaml"])
    for _ in range(200):
        rules.evaluate("precheck", [dict.fromkeys(FACTS, "unknown")])
    assert rules._fired == {}


@pytest.mark.parametrize("ruleset", ["delegation"])
def test_decision_rules_are_exhaustive_and_exclusive(engine: Engine, ruleset: str) -> None:
    combos = itertools.product(["true", "false"], ["primary", "supporting", "none"], ["primary", "supporting", "none"], ["true", "false", "unknown"])
    for on, dept, town, approved in combos:
        facts = {"on_list": on, "department_role": dept, "township_role": town, "approved": approved}
        fired = engine.rules.evaluate(ruleset, [facts])
        assert len(fired) == 1, (facts, [f.rule.id for f in fired])


def test_facts_matching_no_rule_do_not_crash() -> None:
    """Regression: durable_rules segfaults deleting a session in which no rule matched; the engine
    adds an internal catch-all rule so that never happens."""
    rules = RulesEngine([ROOT / "rules" / "determination.yaml"])
    facts = {"item": "none", "scenario": "", "scenario_primary": "", "planning_area": "unknown",
             "homestead": "unknown", "licensed": "unknown", "emergency": "unknown"}
    for _ in range(50):
        assert rules.evaluate("determination", [facts, dict(facts, item="other")]) == []

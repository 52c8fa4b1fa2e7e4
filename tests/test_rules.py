from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from shudi.engine import Engine
from shudi.kb import project_root
from shudi.lawbook import Lawbook
from shudi.rules import RulesEngine, load_rule_file, matching
from shudi.source import CitationSrc, KBSourceError

ROOT = project_root()
VALUES = ("true", "false", "unknown")
FACTS = ("emergency", "within_township_authority", "dispatched_agency_can_solve", "studied_cannot_solve")


def decide(engine: Engine, facts: dict[str, str]) -> tuple[str, str | None]:
    then = engine.rules.decide("precheck", facts).then
    return then["decision"], then.get("mode")


@pytest.mark.parametrize("ruleset", ["precheck", "delegation"])
def test_decision_tables_are_ordered(engine: Engine, ruleset: str) -> None:
    assert engine.rules.files[ruleset].first_match, f"rules/{ruleset}.yaml must be a first-match decision table"


@pytest.mark.parametrize("combo", list(itertools.product(VALUES, repeat=4)), ids=lambda c: "-".join(c))
def test_precheck_compiled_rules_follow_the_table(engine: Engine, combo: tuple[str, ...]) -> None:
    """All 81 fact combinations: the durable_rules rules compiled from the table (with the derived
    negations) decide exactly as reading the table top-down does."""
    facts = dict(zip(FACTS, combo))
    rf = engine.rules.files["precheck"]
    expected = matching(rf, facts)
    firings = engine.rules.evaluate("precheck", [facts])
    assert len(expected) == 1, f"the table has no row for {facts}"
    assert [f.rule.id for f in firings] == [expected[0].id], facts


def test_required_rows(engine: Engine) -> None:
    """The five rows the reform states."""
    u = "unknown"
    assert decide(engine, dict(zip(FACTS, ("true", "true", "true", "false")))) == ("call", "urgent")
    assert decide(engine, dict(zip(FACTS, (u, "true", u, u)))) == ("no_call", None)
    assert decide(engine, dict(zip(FACTS, ("false", "false", "true", "true")))) == ("no_call", None)
    assert decide(engine, dict(zip(FACTS, ("false", "false", "false", "true")))) == ("call", "normal")
    assert decide(engine, dict(zip(FACTS, (u, u, u, u)))) == ("study_first", None)


def test_precedence_is_derived_not_written(tmp_path: Path) -> None:
    """A later row is compiled with the negation of the earlier ones; an exception beats its base;
    a row that an earlier one always shadows is refused at load."""
    table = tmp_path / "t.yaml"
    table.write_text("""ruleset: t
columns: [a, b]
first_match: true
rules:
  - {id: r1, statement: 甲成立时适用, source: s, when: {a: "true"}, then: {d: one}}
  - {id: r2, statement: 乙成立时适用, source: s, when: {b: "true"}, then: {d: two}}
  - {id: r3, statement: 其余情形适用, source: s, when: {a: [x, "false"]}, then: {d: three}}
""", encoding="utf-8")
    exceptions = tmp_path / "e.yaml"
    exceptions.write_text("""ruleset: e
columns: [a, b]
rules:
  - {id: base, statement: 一般规定适用, source: s, when: {a: "true"}, then: {d: base}}
  - {id: special, statement: 特别规定优先, source: s, when: {a: "true", b: "true"}, exception_of: base, then: {d: special}}
  - {id: other, statement: 另一规定并行, source: s, when: {b: "true"}, then: {d: other}}
""", encoding="utf-8")
    rules = RulesEngine([table, exceptions])
    assert [f.rule.id for f in rules.evaluate("t", [{"a": "true", "b": "true"}])] == ["r1"]
    assert [f.rule.id for f in rules.evaluate("t", [{"a": "false", "b": "true"}])] == ["r2"]
    assert [f.rule.id for f in rules.evaluate("t", [{"a": "x", "b": "false"}])] == ["r3"]
    assert [f.rule.id for f in rules.evaluate("e", [{"a": "true", "b": "true"}])] == ["special", "other"]
    assert [f.rule.id for f in rules.evaluate("e", [{"a": "true", "b": "no"}])] == ["base"]
    shadowed = tmp_path / "s.yaml"
    shadowed.write_text(table.read_text(encoding="utf-8").replace("ruleset: t", "ruleset: s") +
                        '  - {id: r4, statement: 永远轮不到, source: s, when: {a: "true", b: "x"}, then: {d: four}}\n',
                        encoding="utf-8")
    with pytest.raises(KBSourceError, match="r4 can never apply"):
        load_rule_file(shadowed)


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
        assert fired[0].rule == matching(engine.rules.files[ruleset], facts)[0], facts


def test_facts_matching_no_rule_do_not_crash() -> None:
    """Regression: durable_rules segfaults deleting a session in which no rule matched; the engine
    adds an internal catch-all rule so that never happens."""
    rules = RulesEngine([ROOT / "rules" / "determination.yaml"])
    facts = {"item": "none", "scenario": "", "scenario_primary": "", "planning_area": "unknown",
             "homestead": "unknown", "licensed": "unknown", "emergency": "unknown"}
    for _ in range(50):
        assert rules.evaluate("determination", [facts, dict(facts, item="other")]) == []


def test_case_files_report_what_does_not_hold(engine: Engine) -> None:
    """The case-file collector (tests/case_files.py) fails a case on a wrong field, an unknown
    field and a matter that must be absent, naming the case; every county folder is a county."""
    from tests.case_files import CaseFailed, CaseFile, check_case

    spec = CaseFile.model_validate({"kind": "precheck", "cases": [
        {"name": "错的", "request": {"township": "东关镇", "item_id": "kw.rural-living-environment"}, "expect": {"decision": "call"}},
        {"name": "没有的字段", "request": {"township": "东关镇", "item_id": "kw.rural-living-environment"}, "expect": {"colour": "red"}},
    ]})
    with pytest.raises(CaseFailed, match="错的: decision: expected 'call', got 'no_call'"):
        check_case(engine, spec, spec.cases[0], None)
    with pytest.raises(CaseFailed, match=r"没有的字段: no answer field \['colour'\]"):
        check_case(engine, spec, spec.cases[1], None)
    absent = CaseFile.model_validate({"kind": "classify", "cases": [
        {"name": "网吧", "request": {"text": "网吧里有未成年人通宵上网"}, "absent_items": ["ct.internet-cafes"]}]})
    with pytest.raises(CaseFailed, match="网吧: candidate_items"):
        check_case(engine, absent, absent.cases[0], None)
    check_case(engine, absent, absent.cases[0], "example-a")
    with pytest.raises(ValueError, match="ruleset"):
        CaseFile.model_validate({"kind": "rules", "cases": [{"name": "x", "facts": {}, "fires": []}]})
    folders = {p.name for p in (ROOT / "rules" / "tests").iterdir() if p.is_dir()}
    assert folders <= {p.name for p in (ROOT / "kb" / "counties").iterdir()}
    kinds = {CaseFile.model_validate(yaml.safe_load(p.read_text(encoding="utf-8"))).kind
             for p in (ROOT / "rules" / "tests").rglob("*.yaml")}
    assert kinds == {"rules", "classify", "precheck", "delegation"}


def test_rules_explain_puts_each_rule_beside_its_source(engine: Engine) -> None:
    """`shudi rules explain`: every rule of every rule set, its conditions and outcome worded in
    plain Chinese (no ids, no fact=value), beside the article text parsed from the statute or the
    report's summary."""
    import re

    from typer.testing import CliRunner

    from shudi.cli import app
    from shudi.explain import explain, load_sources

    kb = engine.county().kb
    docs = load_sources(ROOT / "kb")
    for name, rf in engine.rules.files.items():
        ex = explain(kb, rf, docs)
        assert [r.id for r in ex.rules] == [r.id for r in rf.rules]
        for r, spec in zip(ex.rules, rf.rules):
            words = " ".join(r.conditions + [r.outcome])
            assert not re.search(r"[a-z_]{3,}|=", words), (name, r.id, words)
            assert r.source_text, (name, r.id)
            if isinstance(spec.source, CitationSrc):
                assert r.source_text == kb.lawbook.resolve(spec.source).text
    homestead = next(r for r in explain(kb, engine.rules.files["determination"], docs).rules if r.id == "det.villager-homestead")
    assert homestead.source == "《中华人民共和国土地管理法》第七十八条" and "非法占用土地建住宅" in homestead.source_text
    assert "农村村民建住宅为是" in homestead.conditions
    other = next(r for r in explain(kb, engine.rules.files["determination"], docs).rules if r.id == "det.other-land-occupation")
    assert "农村村民建住宅为否或不明" in other.conditions  # a negated cell names the values that remain

    runner = CliRunner()
    out = runner.invoke(app, ["rules", "explain", "precheck"])
    assert out.exit_code == 0, out.output
    for spec in engine.rules.files["precheck"].rules:
        assert f"[{spec.id}] {spec.statement}" in out.output
    assert "兰陵县" in out.output and "结论:可以\"呼叫\";呼叫方式:紧急方式" in out.output
    bad = runner.invoke(app, ["rules", "explain", "nonsense"])
    assert bad.exit_code == 1 and "未知规则集" in bad.output

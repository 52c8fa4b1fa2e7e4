from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shudi import kb as kb_mod
from shudi.cli import app
from shudi.engine import Engine
from shudi.stats import kb_stats
from shudi.validate import validate_kb

ROOT_DIR = Path(__file__).resolve().parents[1]

DEPARTMENTS = [
    "county.natural-resources", "county.ecology-environment", "county.housing-construction",
    "county.comprehensive-enforcement", "county.emergency-management", "county.fire-rescue",
    "county.market-regulation", "county.agriculture-rural", "county.water-resources",
    "county.public-security", "county.transport", "county.culture-tourism", "county.health",
    "township", "village",
]
# the domains as kb/domains.yaml writes them (read here as data, not through shudi.source)
DOMAINS = [d["id"] for d in yaml.safe_load((ROOT_DIR / "kb" / "domains.yaml").read_text(encoding="utf-8"))["domains"]]
runner = CliRunner()


def test_kb_validates(root: Path) -> None:
    report = validate_kb("template", root)
    assert report.ok, "\n".join(report.errors[:30])


def test_cli_validate_exit_code() -> None:
    result = runner.invoke(app, ["kb", "validate"])
    assert result.exit_code == 0, result.output


def test_stats_meet_targets() -> None:
    result = runner.invoke(app, ["kb", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    for key in ("domains", "items", "scenarios", "departments", "laws", "articles", "citations",
                "unresolved_citations", "township_primary_items", "triggers"):
        assert isinstance(stats[key], int), key
    assert stats["domains"] == 8
    assert stats["items"] >= 60
    assert stats["scenarios"] >= 200
    assert stats["triggers"] >= 1000
    assert stats["unresolved_citations"] == 0
    assert stats["township_primary_items"] >= 1


def test_every_domain_and_department_exists(engine: Engine) -> None:
    kb = engine.county().kb
    assert sorted(kb.domains) == sorted(DOMAINS)
    for d in DEPARTMENTS:
        assert d in kb.departments, d
    assert {i.domain for i in kb.items.values()} == set(DOMAINS)
    agencies = [d for d in kb.departments.values() if d.is_agency]
    assert agencies and all(a.parent in kb.departments for a in agencies)


def test_items_complete(engine: Engine) -> None:
    kb = engine.county().kb
    for item in kb.items.values():
        assert item.primary and item.supporting and item.citations, item.id
        assert item.procedure, f"{item.id} has no procedure steps"
        assert len(item.scenarios) >= 3, item.id
        for sc in item.scenarios:
            assert len(sc.triggers) >= 5, sc.id


def test_required_matters_are_covered(engine: Engine) -> None:
    names = " ".join(f"{i.name} {' '.join(i.alt_names)} {' '.join(s.name for s in i.scenarios)}" for i in engine.county().kb.items.values())
    for needle in ["占", "卫片", "采矿", "采砂", "地质灾害", "盗伐", "秸秆", "畜禽", "散乱污", "违法建设", "燃气", "消防",
                   "烟花爆竹", "危险化学品", "小作坊", "特种设备", "无证", "广告", "占道", "渣土", "烧烤", "焚烧", "市容",
                   "网吧", "娱乐场所", "演出", "文物", "旅行社", "导游", "出版物", "景区"]:
        assert needle in names, needle


def test_fire_safety_scenarios(engine: Engine) -> None:
    item = engine.county().kb.items["em.fire-safety"]
    names = " ".join(s.name for s in item.scenarios)
    for needle in ("安全出口", "消防设施", "消防验收"):
        assert needle in names
    acceptance = next(s for s in item.scenarios if "消防验收" in s.name)
    assert item.primary_for(acceptance) == ("county.housing-construction",)


def test_rural_construction_is_township_primary(engine: Engine) -> None:
    item = engine.county().kb.items["urc.illegal-construction-rural"]
    assert [p.party for p in item.primary] == ["township"]
    assert any(c.law_id == "urban-rural-planning-law" and c.article == 65 for c in item.citations)


def test_homestead_scenario_moves_primary(engine: Engine) -> None:
    item = engine.county().kb.items["nr.illegal-land-occupation"]
    homestead = [s for s in item.scenarios if s.primary_override == ("county.agriculture-rural",)]
    assert homestead and any(c.article == 78 for s in homestead for c in s.citations)
    assert any(c.article == 77 for c in item.citations)


def test_sample_of_citations_match_statute_files(engine: Engine, root: Path) -> None:
    """Article text served is the vendored file's text."""
    kb = engine.county().kb
    cites = [c for _, c in kb.all_citations()]
    rng = random.Random(7)
    for c in rng.sample(cites, min(40, len(cites))):
        version = next(v for v in kb.lawbook.versions[c.law_id] if v.version == c.version)
        raw = version.path.read_text(encoding="utf-8")
        assert version.path.is_relative_to(root / "kb" / "laws")
        heading = re.search(rf"^{c.article_label}[\s\u3000]", raw, re.M)
        assert heading, f"{c.label}: heading not in {version.path.name}"
        for line in c.text.splitlines():
            assert line in raw, f"{c.label}: text not in file"


def test_superseded_citations_are_warnings_not_errors(root: Path) -> None:
    report = validate_kb("template", root)
    assert report.ok
    for w in report.warnings:
        assert "superseded" in w or "scenarios" in w


# -- error paths on the mini KB -------------------------------------------------------------

def test_mini_kb_loads(mini_root: Path) -> None:
    loaded = kb_mod.load(root=mini_root, use_cache=False)
    assert len(loaded.kb.items) == 1
    assert kb_stats(loaded.graph)["unresolved_citations"] == 0


def test_malformed_yaml_names_file_and_line(mini_root: Path) -> None:
    f = mini_root / "kb" / "baseline" / "natural-resources.yaml"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5] + " : : ["
    f.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(kb_mod.KBLoadError, match=r"natural-resources\.yaml:\d+"):
        kb_mod.load(root=mini_root, use_cache=False)


def test_schema_error_names_line(mini_root: Path) -> None:
    f = mini_root / "kb" / "baseline" / "natural-resources.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("type: 行政处罚", "type: 罚款"), encoding="utf-8")
    with pytest.raises(kb_mod.KBLoadError, match=r"natural-resources\.yaml:3: items\.0\.type"):
        kb_mod.load(root=mini_root, use_cache=False)


def test_dangling_citation_is_reported(mini_root: Path) -> None:
    f = mini_root / "kb" / "baseline" / "natural-resources.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("article: 77, paragraph: 1", "article: 977"), encoding="utf-8")
    report = validate_kb("template", mini_root)
    assert not report.ok
    assert any("no article 977" in e for e in report.errors)


def test_malformed_turtle_is_reported(mini_root: Path) -> None:
    (mini_root / "ontologies" / "shapes.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nsh:x sh:y \"open .\n", encoding="utf-8")
    report = validate_kb("template", mini_root)
    assert not report.ok
    assert "shapes.ttl:2" in report.errors[0]


def test_shacl_catches_what_the_loader_cannot(mini_root: Path) -> None:
    """A citation node pointing at no article is a SHACL violation of the compiled graph."""
    from rdflib import URIRef

    from shudi.graph import SD
    from shudi.validate import shacl_problems

    loaded = kb_mod.load(root=mini_root, use_cache=False)
    g = loaded.graph
    cit = next(g.subjects(predicate=SD.article))
    g.set((cit, SD.article, URIRef("https://w3id.org/shudi/id/law/none/2000-01-01/art/1")))
    problems = shacl_problems(g, mini_root)
    assert any("引用未指向" in p for p in problems)
    assert kb_stats(g)["unresolved_citations"] == 1


def test_cache_is_never_stale(mini_root: Path) -> None:
    first = kb_mod.load(root=mini_root)
    again = kb_mod.load(root=mini_root)
    assert again.fingerprint == first.fingerprint
    f = mini_root / "kb" / "baseline" / "natural-resources.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("name: 非法占用土地", "name: 非法占用土地(改)"), encoding="utf-8")
    changed = kb_mod.load(root=mini_root)
    assert changed.fingerprint != first.fingerprint
    assert changed.kb.items["nr.illegal-land-occupation"].name == "非法占用土地(改)"


def test_unknown_county(mini_root: Path) -> None:
    with pytest.raises(kb_mod.UnknownCounty, match="nowhere"):
        kb_mod.load("nowhere", root=mini_root)


def test_example_calls_cover_the_list_and_name_real_scenarios() -> None:
    from shudi.kb import load
    from shudi.source import ExamplesFile, ScenarioExamplesSrc
    from shudi.sourcecheck import check_examples

    kb = load("template").kb
    assert set(kb.examples) == set(kb.scenarios), "every scenario has example calls (kb/examples/)"
    assert min(len(v) for v in kb.examples.values()) >= 8 and len(kb.out_of_scope_examples) >= 100
    bad = ExamplesFile(domain="key-work", examples=[ScenarioExamplesSrc(scenario="kw.no-such", texts=["示例", "示例"])])
    problems = check_examples([(Path("kw.yaml"), bad)], set(kb.scenarios))
    assert [p.level for p in problems] == ["error", "warning"]
    assert "kw.no-such" in problems[0].message
    # a call both on and off the list teaches both answers; a file of off-list calls has no domain
    sid, text = next((k, v[0]) for k, v in kb.examples.items())
    clash = ExamplesFile(domain=None, out_of_scope=[text])
    on_list = ExamplesFile(domain="key-work", examples=[ScenarioExamplesSrc(scenario=sid, texts=[text])])
    problems = check_examples([(Path("a.yaml"), on_list), (Path("off.yaml"), clash)], set(kb.scenarios))
    assert [p.level for p in problems] == ["error"] and "off.yaml" in problems[0].where
    with pytest.raises(ValueError, match="domain"):
        ExamplesFile(domain=None, examples=[ScenarioExamplesSrc(scenario=sid, texts=["示例"])])

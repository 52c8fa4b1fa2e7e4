from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from typer.testing import CliRunner

from shudi.classifier import LEARNED_MARK
from shudi.cli import app
from shudi.contract import ClassifyResult, PrecheckRequest
from shudi.engine import Engine
from shudi.errors import NotFound
from shudi.normalize import clean, normalize
from shudi.precheck import precheck

runner = CliRunner()
OUT_OF_SCOPE = [
    "我想问一下孩子上小学的学位怎么申请",
    "退休以后养老金什么时候到账",
    "医保报销比例是多少",
    "快递一直不派送怎么办",
    "你好,在吗",
    "How do I renew my passport?",
    "12345678",
]


def test_normalize_debris_width_traditional() -> None:
    assert clean("a_x000D_\\nb&nbsp;c！！！") == "a b c!"
    assert normalize("違章建築，ＡＢＣ") == "违章建筑,abc"


def test_contract_shape(engine: Engine) -> None:
    r = engine.classify("小区楼顶有人私搭乱建,盖了一间房")
    assert isinstance(r, ClassifyResult)
    assert r.matched
    c = r.candidates[0]
    assert 0 <= c.score <= 1
    assert c.domain.id in engine.county().kb.domains
    assert c.primary and all(p.id in engine.county().kb.departments for p in c.primary)
    assert c.supporting and all(s.duties for s in c.supporting)
    assert c.citations and all(x.text and x.article.startswith("第") for x in c.citations)
    assert c.evidence


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_abstains_outside_the_list(engine: Engine, text: str) -> None:
    r = engine.classify(text)
    assert not r.matched and r.candidates == []


def test_rural_construction_goes_to_township(engine: Engine) -> None:
    r = engine.classify("我们村里有人没办手续私自盖楼,违章建筑越盖越高")
    top = r.candidates[0]
    assert top.item.id == "urc.illegal-construction-rural"
    assert [p.id for p in top.primary] == ["township"]


def test_urban_construction_goes_to_enforcement(engine: Engine) -> None:
    r = engine.classify("小区楼顶加盖违章建筑")
    assert r.candidates[0].item.id == "urc.illegal-construction-urban"
    assert [p.id for p in r.candidates[0].primary] == ["county.comprehensive-enforcement"]


def test_homestead_goes_to_agriculture(engine: Engine) -> None:
    r = engine.classify("村民老王没审批就在自家承包的耕地上盖房子")
    top = r.candidates[0]
    assert top.item.id in ("nr.illegal-land-occupation", "urc.illegal-construction-rural")
    ids = [c.item.id for c in r.candidates]
    assert "nr.illegal-land-occupation" in ids
    land = next(c for c in r.candidates if c.item.id == "nr.illegal-land-occupation")
    assert [p.id for p in land.primary] == ["county.agriculture-rural"]
    assert any("78" in str(x.article_number) for x in land.citations)


def test_two_matters_surface_together(engine: Engine) -> None:
    r = engine.classify("路口天天有小贩占道经营摆摊,旁边还有人私搭乱建违章建筑")
    ids = [c.item.id for c in r.candidates[:3]]
    assert "ce.street-vending" in ids
    assert any(i.startswith("urc.illegal-construction") for i in ids)


def test_typo_and_traditional(engine: Engine) -> None:
    assert engine.classify("小區樓頂違章建築").candidates[0].item.id == "urc.illegal-construction-urban"
    assert engine.classify("楼顶有违章见筑").candidates[0].item.id.startswith("urc.illegal-construction")


def test_deterministic(engine: Engine) -> None:
    text = "饭店门口露天烧烤油烟呛人"
    assert engine.classify(text).model_dump() == engine.classify(text).model_dump()


def test_thousand_threads_match_sequential(engine: Engine) -> None:
    texts = ["小区楼顶加盖违章建筑", "液化气罐泄漏了", "网吧让未成年人进去上网", "养老金什么时候发", "渣土车一路撒漏"] * 200
    sequential = [engine.classify(t).model_dump_json() for t in texts[:5]]
    pre = PrecheckRequest(text="液化气罐泄漏了", township="东关镇", at=datetime(2026, 9, 30, 10))
    expected_pre = precheck(engine, pre).model_dump_json()

    def work(i: int) -> tuple[str, str]:
        return engine.classify(texts[i]).model_dump_json(), precheck(engine, pre).model_dump_json()

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(work, range(len(texts))))
    for i, (c, p) in enumerate(results):
        assert c == sequential[i % 5]
        assert p == expected_pre


# -- pre-check ------------------------------------------------------------------------------

def test_emergency_calls_urgently(engine: Engine) -> None:
    r = precheck(engine, PrecheckRequest(text="小区里液化气罐泄漏了,味道很大", township="东关镇", at=datetime(2026, 9, 30, 10)))
    assert r.decision == "call" and r.mode == "urgent"
    assert r.facts["emergency"] is True and "emergency" in r.derived
    assert r.call_departments
    assert r.deadlines[-1].working_days == 5
    # 5 working days after 2026-09-30 skip the National Day holiday (10-01..10-08)
    assert r.deadlines[-1].due.isoformat() == "2026-10-15" or r.deadlines[-1].due > datetime(2026, 10, 8).date()


def test_township_primary_is_no_call(engine: Engine) -> None:
    r = precheck(engine, PrecheckRequest(item_id="urc.illegal-construction-rural", township="dongguan"))
    assert r.decision == "no_call"
    assert r.facts["within_township_authority"] is True
    assert any(x.rule == "no-call.within-authority" for x in r.reasons)


def test_stationed_agency_is_coordinated(engine: Engine) -> None:
    r = precheck(engine, PrecheckRequest(item_id="nr.illegal-land-occupation", township="东关镇"))
    assert r.decision == "no_call"
    assert [a.id for a in r.coordinate_agencies] == ["county.natural-resources.station"]


def test_studied_cannot_solve_calls_normally(engine: Engine) -> None:
    r = precheck(engine, PrecheckRequest(item_id="ee.water-pollution", township="东关镇", facts={"studied_cannot_solve": True}))
    assert r.decision == "call" and r.mode == "normal"
    assert [d.id for d in r.call_departments] == ["county.ecology-environment"]


def test_nothing_known_is_study_first(engine: Engine) -> None:
    r = precheck(engine, PrecheckRequest(item_id="ee.water-pollution", township="东关镇"))
    assert r.decision == "study_first"


def test_unknown_township_is_named(engine: Engine) -> None:
    with pytest.raises(NotFound, match="火星镇"):
        precheck(engine, PrecheckRequest(item_id="ee.water-pollution", township="火星镇"))


def test_unknown_item_is_named(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no.such-item"):
        precheck(engine, PrecheckRequest(item_id="no.such-item", township="东关镇"))


# -- CLI --------------------------------------------------------------------------------------

def test_cli_classify_json() -> None:
    result = runner.invoke(app, ["classify", "--json", "渣土车一路撒漏泥土"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["matched"] and data["candidates"][0]["item"]["id"] == "ce.construction-waste"


def test_cli_batch(tmp_path) -> None:
    f = tmp_path / "orders.txt"
    f.write_text("渣土车一路撒漏泥土\n养老金什么时候发\n\n小区楼顶违章建筑\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", "--json", "--batch", str(f)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.strip().splitlines()]
    assert len(lines) == 4
    assert lines[0]["matched"] and not lines[1]["matched"]
    assert "error" in lines[2]
    assert lines[3]["matched"]


def test_cli_precheck() -> None:
    result = runner.invoke(app, ["precheck", "--json", "--township", "东关镇", "--item", "ee.water-pollution", "--studied-cannot-solve"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["decision"] == "call"


def test_cached_classifier_index_answers_like_a_fresh_one(engine: Engine, tmp_path) -> None:
    from shudi.classifier import Classifier

    kb, params = engine.county().kb, engine.params
    cache = tmp_path / "clf.pickle"
    fresh = Classifier(kb, params, cache)
    assert cache.is_file()
    again = Classifier(kb, params, cache)  # from the cache: no tokenising of phrases and examples
    assert again.tokenizer.total == fresh.tokenizer.total
    for text in ("小区楼顶有人私搭乱建,盖了一间房", "違章見築", "村里有人往河里倒垃圾还烧秸秆", *OUT_OF_SCOPE):
        a, b = again.match(text)[1], fresh.match(text)[1]
        assert [(m.scenario.id, round(m.raw, 9), round(m.strength, 9), round(m.margin, 6), m.evidence) for m in a] == \
               [(m.scenario.id, round(m.raw, 9), round(m.strength, 9), round(m.margin, 6), m.evidence) for m in b]
    cache.write_bytes(b"not a pickle")  # a damaged cache is rebuilt, never used
    assert Classifier(kb, params, cache).match("违章建筑")[1][0].scenario.id == fresh.match("违章建筑")[1][0].scenario.id
    assert cache.stat().st_size > 1000


def test_explaining_when_no_shown_scenario_has_a_word_hit(engine: Engine) -> None:
    import numpy as np

    clf = engine.county().classifier
    matches = clf.match("违章建筑")[1]
    best = matches[0]
    other = next(s for s in clf.scenarios if s.item_id != best.item.id)
    before = list(best.evidence)
    # a word that hit only a scenario of another item, which is not in the shown list
    clf._explain([best], ["示例词"], [np.array([clf.index[other.id]])], [np.array([1.0])])
    assert best.evidence == before


def test_learned_vectors_are_the_fitted_vectorizers(engine: Engine) -> None:
    import dataclasses

    import numpy as np

    from shudi.classifier import Classifier

    full = engine.county().kb
    kb = dataclasses.replace(full, items={i: full.items[i] for i in ("urc.illegal-construction-urban", "ce.street-vending")})
    learned = Classifier(kb, engine.params).learned  # freshly trained: a cached model drops its vectorizer
    for text in ("小区楼顶有人私搭乱建,盖了一间房", "违章建筑违章建筑", "a  b\tc", "", "hello 你好 hello", normalize("違章見築、垃圾！！")):
        feats, weights = learned.vector(text)
        ref = learned.vectorizer.transform([text]).toarray()[0]
        mine = np.zeros_like(ref)
        mine[feats] = weights
        assert np.allclose(mine, ref, atol=1e-6), text


def test_learned_model_is_reused_while_its_training_data_is_unchanged(engine: Engine, tmp_path) -> None:
    import dataclasses

    from shudi.classifier import Classifier

    full = engine.county().kb
    keep = ["urc.illegal-construction-urban", "ce.street-vending", "ee.straw-burning"]  # small: quick to train
    kb = dataclasses.replace(full, items={i: full.items[i] for i in keep})
    first = Classifier(kb, engine.params, tmp_path / "a.pickle")
    models = list(tmp_path.glob("learned-*.pickle"))
    assert len(models) == 1
    stamp = models[0].stat().st_mtime_ns
    # another list whose scenarios, phrases, duties and calls are the same: another index, the same model
    second = Classifier(dataclasses.replace(kb, county="other"), engine.params, tmp_path / "b.pickle")
    assert [m.stat().st_mtime_ns for m in tmp_path.glob("learned-*.pickle")] == [stamp]
    assert (tmp_path / "b.pickle").is_file()
    for text in ("楼顶加盖了一间房", "马路上摆摊卖菜", "地里烧秸秆"):
        assert [m.scenario.id for m in second.match(text)[1]] == [m.scenario.id for m in first.match(text)[1]]
    # other example calls teach another model
    fewer = {k: v[:-1] for k, v in kb.examples.items()}
    Classifier(dataclasses.replace(kb, examples=fewer), engine.params, tmp_path / "c.pickle")
    assert len(list(tmp_path.glob("learned-*.pickle"))) == 2


def test_learned_evidence_names_words_of_the_message(engine: Engine) -> None:
    result = engine.classify("俺家楼顶让邻居偷着盖了一间彩钢房")
    learned = [e for c in result.candidates for e in c.evidence if e.endswith(LEARNED_MARK)]
    assert all(e.removesuffix(LEARNED_MARK) in normalize("俺家楼顶让邻居偷着盖了一间彩钢房") for e in learned)


def test_classifier_parameters_come_only_from_rules(root, tmp_path) -> None:
    """rules/classifier.yaml is the one source of the classifier's parameters: the model has no
    default of its own to disagree with it, and a value missing from the file is an error."""
    import yaml
    from pydantic import ValidationError

    from shudi.classifier import ClassifierParams, load_params

    assert all(f.is_required() for f in ClassifierParams.model_fields.values())
    data = yaml.safe_load((root / "rules" / "classifier.yaml").read_text(encoding="utf-8"))
    assert load_params(root / "rules" / "classifier.yaml").model_dump() == data["params"]
    del data["params"]["abstain_below"]
    broken = tmp_path / "classifier.yaml"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValidationError, match="abstain_below"):
        load_params(broken)

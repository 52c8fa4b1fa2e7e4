"""`shudi learn`: a county's model learned from a (synthetic) orders file, used from then on."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shudi.cli import app
from shudi.countymodel import OFF, CountyModel, learned_dir
from shudi.engine import Engine
from shudi.errors import BadInput
from shudi.learning import learn, read_orders, save

# invented work orders of a county: what, where, and who handled them (never real messages)
PLACES = ["东关村", "西河村", "南街社区", "北岭村", "大王庄", "李家湾", "城南新区", "石桥镇"]
LAND = ["有人在{p}耕地上占地建厂房,推土机天天在干", "{p}一家企业圈地建厂,没有批文", "{p}的农田被人铺了水泥当停车场",
        "{p}有人把基本农田硬化了搞堆场", "{p}那边未批先建,厂房都快盖好了"]
HOME = ["{p}村民在承包地里盖房子,超出宅基地好多", "{p}有户人家占耕地建住宅,两层楼", "{p}有人宅基地超占,把路都占了"]
SCHOOL = ["{p}小学老师太少,一个老师带三个班", "{p}的学校食堂收费太贵了,家长有意见", "孩子在{p}幼儿园入学难,学位不够",
          "{p}中学补课收费,学生周末也要上课"]


def _orders(n_each: int, seed: int) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    rows = []
    for templates, dept in ((LAND, "县自然资源局"), (HOME, "county.agriculture-rural"), (SCHOOL, "县教育局")):
        for _ in range(n_each):
            rows.append({"内容": rnd.choice(templates).format(p=rnd.choice(PLACES)), "承办单位": dept})
    rnd.shuffle(rows)
    return rows


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_orders_read_by_department_name_id_item_or_off_list(mini_root: Path, tmp_path: Path) -> None:
    kb = Engine(mini_root).county().kb
    rows = [{"text": "占地建厂", "department": "县自然资源局", "item": ""},
            {"text": "宅基地超占", "department": "county.agriculture-rural", "item": ""},
            {"text": "硬化耕地", "department": "", "item": "nr.illegal-land-occupation"},
            {"text": "学校老师少", "department": "县教育局", "item": ""},  # an office that owns no item
            {"text": "不知道", "department": "", "item": ""}]  # nothing to learn from: skipped
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    got = [(o.text, o.dept) for o in read_orders(path, kb)]
    assert got == [("占地建厂", "county.natural-resources"), ("宅基地超占", "county.agriculture-rural"),
                   ("硬化耕地", "county.natural-resources"), ("学校老师少", OFF)]
    bad = _write_csv(tmp_path / "bad.csv", [{"标题": "x", "备注": "y"}])
    with pytest.raises(BadInput):
        read_orders(bad, kb)


def test_learn_improves_the_county_and_is_used_from_then_on(mini_root: Path, tmp_path: Path) -> None:
    engine = Engine(mini_root)
    cid = engine.default_county
    orders = read_orders(_write_csv(tmp_path / "orders.csv", _orders(30, seed=1)), engine.county().kb)
    learned, before, after = learn(engine, cid, orders, folds=3)
    # the one-item KB knows only its trigger phrases: the county's words teach it the rest
    assert before.answered_right < 0.5
    assert after.answered_right > before.answered_right + 0.3
    assert after.off_list_abstained >= 0.9
    assert after.top1_dept >= before.top1_dept
    assert [lv["level"] for lv in after.levels][0] == "高"
    folder = save(engine, cid, learned)
    assert folder == learned_dir(mini_root, cid)
    # weights only: the artifact holds no text of any order
    blob = b"".join(f.read_bytes() for f in folder.iterdir())
    assert "老师".encode() not in blob and "耕地".encode() not in blob
    assert CountyModel.load(folder) is not None
    # a new engine (another worker) uses the county's model; the KB still explains the answer
    fresh = Engine(mini_root)
    assert fresh.county().county_model is not None
    school = fresh.classify("北岭村小学老师太少了,一个老师带三个班,孩子没人管")
    assert not school.matched and school.off_list_topic and school.off_list_topic.startswith("学校教育")
    land = fresh.classify("西河村有人占用耕地建厂房,推土机一直在推地")
    assert land.matched and land.level in ("高", "中", "低")
    assert land.candidates[0].item.id == "nr.illegal-land-occupation"
    assert land.candidates[0].citations and land.candidates[0].evidence
    assert land.unsure == (land.level == "低")


def test_learn_cli_refuses_a_file_without_the_needed_columns(tmp_path: Path) -> None:
    bad = _write_csv(tmp_path / "bad.csv", [{"标题": "x", "备注": "y"}])
    res = CliRunner().invoke(app, ["learn", "--county", "template", "--orders", str(bad)])
    assert res.exit_code == 2
    assert "内容" in res.output and "Traceback" not in res.output

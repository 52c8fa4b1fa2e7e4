"""Test data for the Excel import (shudi.excel): a synthetic baseline KB, and a realistic, messy
county workbook — the kind counties actually publish.

`build_synthetic_root(dest)` writes a self-contained project root (kb/, ontologies/, rules/)
whose baseline has ~50 items over the 8 domains, citing real articles of the vendored statutes.

`make_messy_workbook(path, root, county)` writes a workbook for the list of `county` in `root`
(the synthetic one or a copy of the real KB): a title row and a subtitle above the header,
header-name variants (责任领域, 主体责任单位, 配合单位, 县直部门职责, 乡镇（街道）职责, 法律依据,
an unmappable 备注 column), merged 领域 cells and a section-heading row, department-name variants
(县自然资源和规划局, 县城管局, 镇政府, 住建局, 村委会 …), citation variants (full and short titles,
Chinese and arabic numerals, 款/项, several per cell, version years), new items with their
scenarios on a 情形 sheet and their procedure on a 程序时限 sheet, a changed primary party, two
baseline items left out, a note row — and deliberately bad entries: an unknown department
(县宇宙管理局), a nonexistent article (《土地管理法》第九百条), an unknown law (《火星法》第一条),
an empty 主体责任, a new item without scenarios.  It returns what a correct import must report.

    python tests/make_workbook.py OUT.xlsx [--root ROOT] [--county COUNTY] [--clean]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shudi.kb import load, project_root
from shudi.lawbook import Lawbook
from shudi.model import Citation, Item, KnowledgeBase
from shudi.excel.text import DOMAIN_PREFIX
from shudi.source import DOMAINS, CitationSrc
from shudi.statutes import int_to_cn, parse_file_name

PROJECT = project_root()
MINIKB = Path(__file__).parent / "fixtures" / "minikb"

# ---------------------------------------------------------------------------------------------
# Synthetic baseline

NR, EE, URC, EM, MR, CE, KW, CT = DOMAINS
LAND = "land-administration-law"
# (domain, slug, name, alt names, type, primary, other supporting parties, citations)
# citation: (law, article, paragraph, clause, version)
_ITEMS: list[tuple[str, str, str, list[str], str, str, list[str], list[tuple]]] = [
    (NR, "illegal-land-occupation", "非法占用土地", ["违法占地", "违法用地"], "行政处罚", "county.natural-resources", ["county.natural-resources.station"], [(LAND, 77, 1, None, None), (LAND, 77, 2, None, None)]),
    (NR, "farmland-destruction", "破坏耕地", ["毁坏耕地"], "行政处罚", "county.natural-resources", [], [(LAND, 75, None, None, None)]),
    (NR, "illegal-mining", "无证采矿", ["非法采矿", "盗采矿产"], "行政处罚", "county.natural-resources", ["county.public-security"], [("mineral-resources-law", 39, 1, None, date(2009, 8, 27))]),
    (NR, "illegal-logging", "盗伐林木", ["偷砍树木"], "行政处罚", "county.natural-resources", ["county.public-security"], [("forest-law", 76, None, None, None)]),
    (NR, "forest-damage", "毁坏林木", ["毁林开垦"], "行政处罚", "county.natural-resources", [], [("forest-law", 74, 1, None, None)]),
    (NR, "land-trading", "非法转让土地", ["买卖土地"], "行政处罚", "county.natural-resources", [], [(LAND, 74, None, None, None)]),
    (NR, "rural-homestead", "农村村民非法占地建住宅", ["违法建房占地"], "行政处罚", "county.agriculture-rural", ["county.natural-resources"], [(LAND, 78, 1, None, None)]),
    (EE, "straw-burning", "露天焚烧秸秆", ["烧秸秆"], "行政处罚", "county.ecology-environment", [], [("air-pollution-law", 119, 1, None, None)]),
    (EE, "waste-burning", "露天焚烧垃圾", ["烧垃圾"], "行政处罚", "county.ecology-environment", [], [("air-pollution-law", 119, 2, None, None)]),
    (EE, "cooking-fumes", "餐饮油烟污染", ["油烟扰民"], "行政处罚", "county.comprehensive-enforcement", [], [("air-pollution-law", 118, 1, None, None)]),
    (EE, "water-pollution", "违法排放水污染物", ["偷排污水"], "行政处罚", "county.ecology-environment", [], [("water-pollution-law", 83, 1, 3, None)]),
    (EE, "livestock-pollution", "畜禽养殖污染", ["养殖场臭味"], "行政处罚", "county.ecology-environment", ["county.agriculture-rural"], [("livestock-pollution-regulations", 38, None, None, None)]),
    (EE, "social-noise", "社会生活噪声扰民", ["噪音扰民"], "行政处罚", "county.public-security", [], [("noise-pollution-law", 87, 1, None, None)]),
    (URC, "urban-illegal-construction", "城镇规划区违法建设", ["违章建筑", "违建"], "行政处罚", "county.comprehensive-enforcement", ["county.housing-construction"], [("urban-rural-planning-law", 64, None, None, None)]),
    (URC, "rural-illegal-construction", "乡村规划区违法建设", ["农村违建"], "行政处罚", "township", ["county.natural-resources"], [("urban-rural-planning-law", 65, None, None, None)]),
    (URC, "construction-quality", "建设工程质量问题", ["工程质量"], "行政检查", "county.housing-construction", [], [("construction-quality-regulations", 64, None, None, None)]),
    (URC, "gas-safety", "燃气安全隐患", ["液化气泄漏"], "行政检查", "county.housing-construction", ["county.fire-rescue"], [("sd-gas-regulations", 50, None, None, None)]),
    (URC, "property-management", "物业安全防范", ["物业纠纷"], "其他", "county.housing-construction", [], [("property-management-regulations", 46, None, None, None)]),
    (URC, "construction-safety", "建设工程安全隐患", ["工地安全"], "行政检查", "county.housing-construction", ["county.emergency-management"], [("construction-safety-regulations", 58, None, None, None)]),
    (EM, "fire-exits", "占用堵塞消防通道", ["堵塞安全出口"], "行政处罚", "county.fire-rescue", [], [("fire-protection-law", 60, 1, 3, None), ("fire-protection-law", 60, 1, 4, None)]),
    (EM, "fireworks-business", "非法经营烟花爆竹", ["私卖鞭炮"], "行政处罚", "county.emergency-management", ["county.public-security"], [("fireworks-safety-regulations", 36, 1, None, None)]),
    (EM, "hazardous-chemicals", "危险化学品安全隐患", ["危化品隐患"], "行政检查", "county.emergency-management", [], [("hazardous-chemicals-regulations", 80, None, None, None)]),
    (EM, "work-safety", "生产经营单位安全隐患", ["安全生产隐患"], "行政检查", "county.emergency-management", [], [("work-safety-law", 99, None, None, None)]),
    (EM, "flood-obstruction", "河道内违法设障", ["河道设障"], "行政处罚", "county.water-resources", [], [("water-law", 65, 1, None, None)]),
    (EM, "fireworks-discharge", "禁放区域燃放烟花爆竹", ["乱放鞭炮"], "行政处罚", "county.public-security", [], [("air-pollution-law", 119, 3, None, None)]),
    (MR, "unlicensed-food", "无证经营食品", ["黑作坊"], "行政处罚", "county.market-regulation", ["county.market-regulation.station"], [("food-safety-law", 122, 1, None, None)]),
    (MR, "unlicensed-business", "无照经营", ["无证摊贩"], "行政处罚", "county.market-regulation", [], [("unlicensed-business-measures", 13, None, None, None)]),
    (MR, "consumer-rights", "侵害消费者权益", ["消费欺诈"], "行政处罚", "county.market-regulation", [], [("consumer-rights-law", 56, None, None, None)]),
    (MR, "product-quality", "生产销售伪劣产品", ["假冒伪劣"], "行政处罚", "county.market-regulation", [], [("product-quality-law", 50, None, None, None)]),
    (MR, "special-equipment", "特种设备安全隐患", ["电梯故障"], "行政检查", "county.market-regulation", [], [("special-equipment-safety-law", 83, None, None, None)]),
    (MR, "false-advertising", "发布虚假广告", ["虚假宣传"], "行政处罚", "county.market-regulation", [], [("advertising-law", 55, 1, None, None)]),
    (CE, "street-vending", "占道经营", ["乱摆摊"], "行政处罚", "county.comprehensive-enforcement", ["county.comprehensive-enforcement.squad"], [("city-appearance-sanitation-regulations", 36, 1, 2, None)]),
    (CE, "construction-waste", "乱倒建筑垃圾", ["偷倒渣土"], "行政处罚", "county.comprehensive-enforcement", [], [("solid-waste-law", 111, 1, 3, None)]),
    (CE, "open-air-bbq", "露天烧烤", ["路边烧烤"], "行政处罚", "county.comprehensive-enforcement", [], [("air-pollution-law", 118, 3, None, None)]),
    (CE, "garbage-sorting", "未分类投放生活垃圾", ["垃圾不分类"], "行政处罚", "county.comprehensive-enforcement", [], [("solid-waste-law", 111, 3, None, None)]),
    (CE, "green-space", "擅自占用城市绿地", ["毁坏绿地"], "行政处罚", "county.comprehensive-enforcement", [], [("urban-greening-regulations", 27, None, None, None)]),
    (CE, "outdoor-advertising", "违规设置户外广告", ["乱挂广告牌"], "行政处罚", "county.comprehensive-enforcement", [], [("city-appearance-sanitation-regulations", 36, 1, 1, None)]),
    (KW, "animal-epidemic", "动物疫病防控", ["病死畜禽"], "行政检查", "county.agriculture-rural", ["county.agriculture-rural.veterinary-station"], [("animal-epidemic-law", 98, 1, None, None)]),
    (KW, "water-abstraction", "违法取水", ["私自打井"], "行政处罚", "county.water-resources", [], [("water-law", 69, None, None, None)]),
    (KW, "wildlife", "非法猎捕野生动物", ["偷猎"], "行政处罚", "county.natural-resources", ["county.public-security"], [("wildlife-protection-law", 48, None, None, None)]),
    (KW, "petition", "信访事项办理", ["上访"], "其他", "township", [], [("petition-work-regulations", 32, None, None, None)]),
    (KW, "road-damage", "损坏公路设施", ["破坏公路"], "行政处罚", "county.transport", [], [("highway-law", 76, None, None, None)]),
    (KW, "river-sand", "河道非法采砂", ["偷挖河沙"], "行政处罚", "county.water-resources", ["county.public-security"], [("water-law", 65, 1, None, None), ("flood-control-law", 55, None, None, None)]),
    (CT, "internet-cafes", "网吧违规接纳未成年人", ["网吧进未成年人"], "行政处罚", "county.culture-tourism", [], [("internet-cafe-regulations", 31, None, None, None)]),
    (CT, "entertainment-venues", "娱乐场所违规经营", ["KTV违规"], "行政处罚", "county.culture-tourism", ["county.public-security"], [("entertainment-venues-regulations", 43, None, None, None)]),
    (CT, "travel-agencies", "未经许可经营旅行社业务", ["黑导游"], "行政处罚", "county.culture-tourism", ["county.market-regulation"], [("tourism-law", 95, 1, None, None)]),
    (CT, "cultural-relics", "损毁文物", ["破坏文物"], "行政处罚", "county.culture-tourism", ["county.public-security"], [("cultural-relics-law", 66, 1, None, date(2017, 11, 4))]),
    (CT, "performances", "未经批准举办营业性演出", ["违规演出"], "行政处罚", "county.culture-tourism", [], [("commercial-performance-regulations", 44, None, None, None)]),
    (CT, "publications", "非法出版物", ["盗版书"], "行政处罚", "county.culture-tourism", [], [("publishing-regulations", 61, None, None, None)]),
]
_TRIGGER_TAILS = ["", "了", "没人管", "的问题", "怎么办", "谁来管"]
_SCENARIO_KINDS = [("general", "一般情形"), ("repeat", "屡查屡犯"), ("serious", "情节严重")]


def law_sources() -> list[Path]:
    """Where statute texts can be found: the project's vendored kb/laws, ../shared/laws, the
    mini KB's single statute."""
    return [PROJECT / "kb" / "laws", PROJECT.parent / "shared" / "laws", MINIKB / "kb" / "laws"]


def copy_laws(dest_laws: Path, titles: set[str] | None = None) -> None:
    """Copy statute texts (all versions of each title, or of all) from the first folder of
    law_sources() that has them."""
    for src in law_sources():
        files = sorted(src.glob("*/*.md"))
        if not files:
            continue
        for f in files:
            title, _ = parse_file_name(f)
            if titles is not None and title not in titles:
                continue
            if any(p.name == f.name for p in dest_laws.glob(f"*/{f.name}")):
                continue
            target = dest_laws / f.parent.name / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
        if titles is None or any(dest_laws.glob("*/*.md")):
            return


def _dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096)


def build_synthetic_root(dest: Path) -> Path:
    """A project root (kb/, ontologies/, rules/) with a synthetic baseline of ~50 items."""
    kb = dest / "kb"
    (kb / "baseline").mkdir(parents=True)
    (kb / "laws").mkdir(parents=True)
    shutil.copytree(PROJECT / "ontologies", dest / "ontologies")
    shutil.copytree(PROJECT / "rules", dest / "rules")
    shutil.copyfile(PROJECT / "kb" / "sources.yaml", kb / "sources.yaml")
    shutil.copyfile(PROJECT / "kb" / "domains.yaml", kb / "domains.yaml")
    shutil.copyfile(PROJECT / "kb" / "laws" / "registry.yaml", kb / "laws" / "registry.yaml")
    registry = yaml.safe_load((kb / "laws" / "registry.yaml").read_text(encoding="utf-8"))["laws"]
    titles = {law["id"]: law["title"] for law in registry}
    copy_laws(kb / "laws", {titles[c[0]] for it in _ITEMS for c in it[7]} | {titles[LAND]})
    lawbook = Lawbook.load(kb / "laws" / "registry.yaml", kb / "laws")

    def citation(c: tuple) -> dict:
        law, article, paragraph, clause, version = c
        src = CitationSrc(law=law, article=article, paragraph=paragraph, clause=clause, version=version)
        if isinstance(lawbook.resolve(src), str):  # statute text not available here
            src = CitationSrc(law=LAND, article=77, paragraph=1)
        return src.model_dump(exclude_none=True, exclude_defaults=True)

    files: dict[str, list[dict]] = {d: [] for d in DOMAINS}
    for domain, slug, name, alts, typ, primary, others, cites in _ITEMS:
        prefix = DOMAIN_PREFIX[domain]
        iid = f"{prefix}.{slug}"
        supporting = [{"party": p, "duties": "负责职责范围内的配合工作,提供专业支持。"} for p in others]
        if primary != "township":
            supporting.insert(0, {"party": "township", "duties": "负责日常巡查,及时发现、劝阻、制止并报告,配合调查处置。"})
        supporting.append({"party": "village", "duties": "发现后及时劝阻并报告乡镇(街道)。"})
        item = {
            "id": iid,
            "name": name,
            "alt_names": alts,
            "type": typ,
            "county_duties": f"负责{name}的调查处理,依法查处(县级部门)。",
            "township_duties": f"负责辖区内{name}的日常巡查,及时发现、制止并报告(乡镇(街道))。",
            "primary": [{"party": primary, "duties": f"负责{name}的调查、处理和依法查处。"}],
            "supporting": supporting,
            "procedure": [
                {"step": "发现", "actor": "township", "text": f"乡镇(街道)巡查发现{name}。"},
                {"step": "处置", "actor": primary, "text": "依法调查处理。"},
            ],
            "citations": [citation(c) for c in cites],
            "scenarios": [
                {
                    "id": f"{iid}.{kind}",
                    "name": f"{name}({label})",
                    "triggers": [f"{alts[0]}{tail}" if k % 2 else f"{name}{tail}" for tail in _TRIGGER_TAILS],
                }
                for k, (kind, label) in enumerate(_SCENARIO_KINDS)
            ],
        }
        if slug in ("illegal-land-occupation", "straw-burning", "fire-exits"):
            item["time_limits"] = [{"what": "县直部门接到呼叫后反馈", "limit": "5个工作日内反馈", "working_days": 5,
                                    "source": "src.lanling-report"}]
        if slug == "illegal-land-occupation":
            item["scenarios"][2]["primary"] = ["county.agriculture-rural"]
            item["scenarios"][2]["citations"] = [citation((LAND, 78, None, None, None))]
            item["scenarios"][2]["facts"] = {"planning_area": "rural"}
        files[domain].append(item)
    ids = {f"{it['id']}" for items in files.values() for it in items}
    for domain, items in files.items():
        (kb / "baseline" / f"{domain}.yaml").write_text(
            f"# 合成测试基线:{DOMAINS[domain]}\n" + _dump({"domain": domain, "source": "src.template-list", "items": items}),
            encoding="utf-8")
    deps = yaml.safe_load((PROJECT / "kb" / "departments.yaml").read_text(encoding="utf-8"))
    for d in deps["departments"]:
        for a in d.get("agencies", []):
            a["handles"] = [h for h in a.get("handles", []) if h in ids]
    (kb / "departments.yaml").write_text(_dump(deps), encoding="utf-8")
    county = kb / "counties" / "template"
    county.mkdir(parents=True)
    shutil.copyfile(MINIKB / "kb" / "counties" / "template" / "county.yaml", county / "county.yaml")
    return dest


def copy_real_root(dest: Path) -> Path:
    """A writable copy of the project's kb/, ontologies/, rules/ (statute texts added from
    ../shared/laws when kb/laws has not been vendored yet)."""
    shutil.copytree(PROJECT / "kb", dest / "kb")
    shutil.copytree(PROJECT / "ontologies", dest / "ontologies")
    shutil.copytree(PROJECT / "rules", dest / "rules")
    if not any((dest / "kb" / "laws").glob("*/*.md")):
        copy_laws(dest / "kb" / "laws")
    return dest


# ---------------------------------------------------------------------------------------------
# The messy workbook

SHEET = "属地管理清单"
HEADERS = ["序号", "责任领域", "事项名称", "事项类型", "主体责任单位", "配合单位", "县直部门职责", "乡镇（街道）职责", "法律依据", "备注"]
COL = {h: chr(ord("A") + i) for i, h in enumerate(HEADERS)}
DOMAIN_LABELS = {NR: "自然资源", EE: "生态环境领域", URC: "城乡建设类", EM: "应急管理", MR: "市场监管领域",
                 CE: "综合执法", KW: "重点工作", CT: "文化和旅游市场"}
SECTION_DOMAIN = KW  # this domain gets a heading row instead of a merged 领域 cell
NAME_VARIANTS = {
    "county.natural-resources": ["县自然资源和规划局", "县自然资源局", "自然资源局"],
    "county.comprehensive-enforcement": ["县城管局", "县综合行政执法局", "综合执法局"],
    "township": ["镇政府", "乡镇人民政府", "街道办事处", "乡镇（街道）"],
    "county.housing-construction": ["住建局", "县住建局", "县住房和城乡建设局"],
    "village": ["村委会", "村（居）民委员会", "居委会"],
}
SEPARATORS = ["、", "，", "；", "\n"]

# new items: (domain, name, type, primary, supporting, citations, county duties, township duties)
NEW_ITEMS = [
    (NR, "擅自占用耕地挖塘养鱼", "行政处罚", "县自然资源和规划局", "镇政府、村委会",
     "《中华人民共和国土地管理法》第七十五条", "负责对擅自占用耕地挖塘养鱼行为的查处。", "负责巡查发现、劝阻并报告。"),
    (NR, "违法占用永久基本农田", "行政处罚",
     "县自然资源和规划局：负责占用永久基本农田行为的立案查处，责令恢复原状。",
     "乡镇人民政府：负责日常巡查，发现后立即制止并报告。\n村委会：发现后及时劝阻并报告。",
     "《土地管理法》第35条第1款\n《土地管理法》第七十七条第1款", "负责永久基本农田保护的监督检查和违法行为查处。", "负责日常巡查。"),
    (KW, "集体土地违法出租用于非农建设", "处罚", "县自然资源局", "镇政府；村委会；县农业农村局",
     "土地管理法第82条", "负责对擅自出租集体土地用于非农建设的查处。", "负责摸排发现并报告。"),
    (URC, "临时用地到期未恢复种植条件", "行政检查", "县自然资源局", "住建局、镇政府、村委会",
     "《土地管理法》第七十六条（拒不履行复垦义务）", "负责监督临时用地复垦。", "负责督促用地单位复垦并报告。"),
]
NEW_SCENARIOS = {  # item name → [(scenario name, primary override, citations, triggers)]
    "擅自占用耕地挖塘养鱼": [
        ("在耕地上挖鱼塘", "", "", "耕地里挖鱼塘、地里挖坑养鱼、把麦田挖成鱼塘、占耕地建鱼池、农田改鱼塘"),
        ("在耕地上挖藕池", "", "", "耕地挖藕池、地里种藕挖坑、农田改藕塘、麦地挖成藕池、占耕地挖荷塘"),
        ("挖塘取土破坏耕地", "", "《土地管理法》第七十五条", "挖塘取土、耕地里挖土卖、地里挖大坑、取土破坏耕地、耕地被挖坏"),
    ],
    "违法占用永久基本农田": [
        ("占用基本农田建房", "", "", "基本农田上盖房、保护田里建房子、基本农田里起房子、占基本农田盖厂房、永久基本农田建设"),
        ("占用基本农田种树挖塘", "", "", "基本农田里种树、基本农田挖鱼塘、保护田改种苗木、基本农田栽树、基本农田里挖坑"),
        ("占用基本农田堆放杂物", "镇政府", "", "基本农田堆东西、保护田里堆垃圾、基本农田堆建材、基本农田放杂物、农田里堆沙子"),
    ],
    "集体土地违法出租": [  # the item's name written shorter, as people do
        ("村集体土地出租建厂", "", "", "村里把地租给厂子、集体土地租出去盖厂房、村委会出租土地建厂、村里卖地建厂、集体地租给老板"),
        ("集体土地出租建仓库", "", "", "集体土地建仓库、村里租地建仓库、集体地盖库房、村里把地租出去建仓库、集体土地搞物流园"),
        ("集体土地出租搞经营", "", "", "集体土地开饭店、村里租地搞农家乐、集体地开厂子、村里把地租给人做生意、集体土地出租经营"),
    ],
    "临时用地到期未恢复种植条件": [
        ("工程临时用地到期未复垦", "", "", "临时用地没复垦、工地用完地不还、施工占地不恢复、临时用地到期不退、修路占地没复耕"),
        ("临时用地改为永久建设", "", "", "临时用地盖永久房、临时用地不拆、临时板房变永久、临时用地建厂房、临时用地长期占用"),
        ("临时用地堆放建筑垃圾", "", "", "临时用地堆垃圾、占地堆渣土、工地垃圾不清理、临时用地乱堆、用完地不清场"),
    ],
    "违规在耕地上建设光伏设施": [  # its item has no primary party
        ("耕地上建光伏板", "", "", "耕地里装光伏板、农田建光伏、麦地里架光伏、耕地上建发电板、占耕地搞光伏"),
        ("基本农田建光伏", "", "", "基本农田装光伏、保护田建光伏、基本农田架电板、基本农田建光伏电站、光伏占基本农田"),
        ("光伏板下耕地撂荒", "", "", "光伏板下面荒了、光伏下面不种地、光伏占地撂荒、光伏板下长草、光伏下耕地荒废"),
    ],
    "擅自在河道管理范围内建房": [  # its item cites an unknown law
        ("河道里盖房", "", "", "河道里盖房子、河边违建、河滩上建房、河道里起房子、河堤上盖房"),
        ("河道里建养殖场", "", "", "河道里建猪圈、河滩建养殖场、河道里养鸡、河边建牛棚、河道里建鸭棚"),
        ("河道里建厂房", "", "", "河道里建厂、河滩盖厂房、河道里建仓库、河边建厂子、河道里搭厂棚"),
    ],
}


@dataclass
class MessySpec:
    """What the import of the messy workbook must report."""

    sheet: str = SHEET
    rows: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # cell → a word the message must contain
    new_items: list[str] = field(default_factory=list)  # clean new item names
    bad_new_items: list[str] = field(default_factory=list)
    # new matters without scenarios: imported with one 待细化 scenario (issue 15), a warning
    pending_items: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # baseline ids left out → removed
    override: tuple[str, list[str], list[str]] | None = None  # (item id, primary ids, supporting ids)
    bad_baseline: list[str] = field(default_factory=list)  # baseline rows with errors: kept as they were
    unmapped_column: str = COL["备注"]
    note_row: int = 0


def _variant(party: str, k: int, kb: KnowledgeBase) -> str:
    names = NAME_VARIANTS.get(party)
    if names:
        return names[k % len(names)]
    dept = kb.departments[party]
    return dept.alt[0] if dept.alt and k % 2 else dept.name


def _citation_text(c: Citation, style: int, lawbook: Lawbook) -> str:
    """One citation as a county might write it."""
    current = lawbook.current(c.law_id)
    short = lawbook.laws[c.law_id].title
    title = f"《{c.law_title}》" if style == 0 else f"《{short}》"
    if current is not None and current.version != c.version:
        title += f"（{c.version.year}年修正）" if style else f"（{c.version.isoformat()}）"
    num = (lambda n: str(n)) if style == 1 else int_to_cn
    text = f"{title}第{num(c.article)}条" + (f"之{num(c.article_suffix)}" if c.article_suffix else "")
    if c.paragraph:
        text += f"第{num(c.paragraph)}款"
    if c.clause:
        text += [f"第（{int_to_cn(c.clause)}）项", f"第({c.clause})项", f"第{int_to_cn(c.clause)}项"][style]
    return text


def _citations_cell(item: Item, style: int, lawbook: Lawbook) -> str:
    sep = ["\n", "；", "、"][style]
    return sep.join(_citation_text(c, style, lawbook) for c in item.citations)


def _parties_cell(parties: list[str], k: int, kb: KnowledgeBase) -> str:
    return SEPARATORS[k % len(SEPARATORS)].join(_variant(p, k + n, kb) for n, p in enumerate(parties))


def _pick(items: list[Item], used: set[str], want: callable) -> Item:  # type: ignore[valid-type]
    for it in items:
        if it.id not in used and want(it):
            used.add(it.id)
            return it
    raise LookupError("no suitable item in the KB")


def make_messy_workbook(path: Path, root: Path, county: str = "template", *, bad: bool = True) -> MessySpec:
    kb = load(county, root).kb
    lawbook = kb.lawbook
    spec = MessySpec()
    order = list(DOMAINS)
    items = sorted(kb.items.values(), key=lambda i: order.index(i.domain))
    by_domain = {d: [i for i in items if i.domain == d] for d in DOMAINS}
    used: set[str] = set()
    # two baseline items left out → removed
    for d in (MR, CT):
        if len(by_domain[d]) >= 2:
            spec.omitted.append(by_domain[d][-1].id)
            used.add(by_domain[d][-1].id)
    # a changed primary: township becomes primary
    ov = _pick(items, used, lambda i: len(i.primary) == 1 and i.primary[0].party != "township"
               and any(p.party == "township" for p in i.supporting) and len(i.supporting) >= 2)
    ov_primary = ["township"]
    ov_supporting = [ov.primary[0].party] + [p.party for p in ov.supporting if p.party != "township"]
    spec.override = (ov.id, ov_primary, ov_supporting)
    bad_party = _pick(items, used, lambda i: i.domain != ov.domain and len(i.supporting) >= 1) if bad else None
    bad_article = _pick(items, used, lambda i: i.domain not in (ov.domain,)) if bad else None
    if bad:
        spec.bad_baseline = [bad_party.id, bad_article.id]  # type: ignore[union-attr]

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    last_col = len(HEADERS)
    ws.cell(row=1, column=1, value="某某县“属地管理”事项主体责任和配合责任清单（2024年版）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    ws.cell(row=1, column=1).font = Font(bold=True, size=16)
    ws.cell(row=2, column=1, value="编制单位：县委机构编制委员会办公室　　　　　　　　　更新时间：2024年5月")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)
    for c, h in enumerate(HEADERS, 1):
        ws.cell(row=3, column=c, value=h).font = Font(bold=True)
    r = 4
    seq = 0
    k = 0

    def put(values: dict[str, str | int]) -> int:
        nonlocal r
        for h, v in values.items():
            ws.cell(row=r, column=HEADERS.index(h) + 1, value=v).alignment = Alignment(wrap_text=True)
        r += 1
        return r - 1

    for domain in DOMAINS:
        rows_here = [i for i in by_domain[domain] if i.id not in spec.omitted]
        new_here = [n for n in NEW_ITEMS if n[0] == domain]
        if not rows_here and not new_here:
            continue
        if domain == SECTION_DOMAIN:
            ws.cell(row=r, column=1, value=f"{int_to_cn(order.index(domain) + 1)}、{DOMAIN_LABELS[domain]}领域")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last_col)
            r += 1
        start = r
        for item in rows_here:
            seq += 1
            k += 1
            name = item.name
            if k % 4 == 0 and item.alt_names:
                name = item.alt_names[0]
            elif k % 4 == 1 and not name.endswith("行为"):
                name = f"{name}行为"
            elif k % 4 == 2:
                name = name.replace("(", "（").replace(")", "）")
            type_text = {"行政处罚": "处罚", "行政检查": "检查类"}.get(item.type, item.type) if k % 3 == 0 else item.type
            primary = [p.party for p in item.primary]
            supporting = [p.party for p in item.supporting]
            if item.id == ov.id:
                primary, supporting = ov_primary, ov_supporting
            row = {
                "序号": seq,
                "事项名称": name,
                "事项类型": type_text,
                "主体责任单位": _parties_cell(primary, k, kb),
                "配合单位": _parties_cell(supporting, k + 1, kb),
                "县直部门职责": item.county_duties.replace("(", "（").replace(")", "）") if k % 2 else item.county_duties,
                "乡镇（街道）职责": item.township_duties,
                "法律依据": _citations_cell(item, k % 3, lawbook),
            }
            if k % 7 == 0:
                row["备注"] = "2023年调整"
            if bad_party is not None and item.id == bad_party.id:
                row["配合单位"] = "镇政府、县宇宙管理局"
            if bad_article is not None and item.id == bad_article.id:
                row["法律依据"] = row["法律依据"] + "；《土地管理法》第九百条"
            rr = put(row)
            if bad_party is not None and item.id == bad_party.id:
                spec.errors[f"{COL['配合单位']}{rr}"] = "县宇宙管理局"
            if bad_article is not None and item.id == bad_article.id:
                spec.errors[f"{COL['法律依据']}{rr}"] = "第九百条"
        for dom, name, typ, primary, supporting, cites, cduties, tduties in new_here:
            seq += 1
            put({"序号": seq, "事项名称": name, "事项类型": typ, "主体责任单位": primary, "配合单位": supporting,
                 "县直部门职责": cduties, "乡镇（街道）职责": tduties, "法律依据": cites, "备注": "本县新增"})
            spec.new_items.append(name)
        if bad and domain == NR:
            seq += 1
            rr = put({"序号": seq, "事项名称": "擅自在河道管理范围内建房", "事项类型": "行政处罚",
                      "主体责任单位": "县水利局", "配合单位": "镇政府、村委会", "县直部门职责": "负责查处。",
                      "乡镇（街道）职责": "负责巡查报告。", "法律依据": "《火星法》第一条"})
            spec.errors[f"{COL['法律依据']}{rr}"] = "火星法"
            spec.bad_new_items.append("擅自在河道管理范围内建房")
            seq += 1
            rr = put({"序号": seq, "事项名称": "违规在耕地上建设光伏设施", "事项类型": "行政处罚",
                      "主体责任单位": "", "配合单位": "镇政府", "县直部门职责": "负责查处。",
                      "乡镇（街道）职责": "负责巡查报告。", "法律依据": "《土地管理法》第七十七条"})
            spec.errors[f"{COL['主体责任单位']}{rr}"] = "主体责任"
            spec.bad_new_items.append("违规在耕地上建设光伏设施")
        if bad and domain == URC:
            seq += 1
            rr = put({"序号": seq, "事项名称": "农村建房未批先建", "事项类型": "行政处罚",
                      "主体责任单位": "镇政府", "配合单位": "住建局、村委会", "县直部门职责": "负责指导。",
                      "乡镇（街道）职责": "负责审批和查处。", "法律依据": "《城乡规划法》第六十五条" if "urban-rural-planning-law" in lawbook.versions else "《土地管理法》第七十八条"})
            spec.pending_items.append("农村建房未批先建")
        if domain != SECTION_DOMAIN and r - 1 > start:
            ws.cell(row=start, column=2, value=DOMAIN_LABELS[domain])
            ws.merge_cells(start_row=start, start_column=2, end_row=r - 1, end_column=2)
        elif domain != SECTION_DOMAIN:
            ws.cell(row=start, column=2, value=DOMAIN_LABELS[domain])
    spec.note_row = r
    ws.cell(row=r, column=1, value="注：本清单所称“乡镇”含街道办事处；法律法规修订的，以修订后的规定为准。")
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last_col)
    spec.rows = seq

    sc = wb.create_sheet("情形")
    for c, h in enumerate(["事项名称", "情形", "主体责任", "依据", "关键词"], 1):
        sc.cell(row=1, column=c, value=h).font = Font(bold=True)
    rr = 2
    for item_name, scenarios in NEW_SCENARIOS.items():
        if not bad and item_name in ("擅自在河道管理范围内建房", "违规在耕地上建设光伏设施"):
            continue
        for name, primary, cites, triggers in scenarios:
            for c, v in enumerate([item_name, name, primary, cites, triggers], 1):
                sc.cell(row=rr, column=c, value=v or None)
            rr += 1

    pr = wb.create_sheet("程序时限")
    for c, h in enumerate(["事项名称", "类别", "环节", "实施主体", "内容", "工作日", "依据"], 1):
        pr.cell(row=1, column=c, value=h).font = Font(bold=True)
    rows = [
        ["擅自占用耕地挖塘养鱼", "程序", "发现", "镇政府", "乡镇(街道)巡查发现并制止。", None, None],
        ["擅自占用耕地挖塘养鱼", "程序", "处置", "县自然资源和规划局", "立案查处,责令恢复种植条件。", None, None],
        ["擅自占用耕地挖塘养鱼", "时限", "县直部门接到呼叫后反馈", None, "5个工作日内反馈", 5, "src.lanling-report"],
    ]
    for i, values in enumerate(rows, 2):
        for c, v in enumerate(values, 1):
            pr.cell(row=i, column=c, value=v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return spec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--root", type=Path, default=None, help="project root (default: a synthetic KB in a temp dir)")
    ap.add_argument("--county", default="template")
    ap.add_argument("--clean", action="store_true", help="leave out the deliberately bad entries")
    args = ap.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or build_synthetic_root(Path(tmp) / "root")
        spec = make_messy_workbook(args.out, root, args.county, bad=not args.clean)
    print(f"{args.out}: {spec.rows} rows; expected errors at {', '.join(sorted(spec.errors))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

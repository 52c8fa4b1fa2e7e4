"""A county's list as counties publish it, for the acceptance test of issue 15.

The published form is one sheet of nine columns — 序号, 领域, 事项类型, 事项名称, 县级部门职责,
乡镇(街道)职责, 法律法规及文件依据, 主体责任, 配合责任 — under a merged title row and a merged
subtitle row, the 领域 cell merged over each domain's rows, no 情形 sheet, no item ids.  The
matters are named as counties name them (对非法占用土地行为的查处, 违法采砂), the departments by
their abbreviations (自然资源局, 县住建局, 生态环境分局), the laws by their short titles.  The
duty texts and articles are the baseline item's own (read from the KB, never retyped).  Three
rows are bad on purpose; the table says where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from shudi.kb import load, project_root
from shudi.model import Citation, KnowledgeBase
from shudi.source import DOMAINS
from shudi.statutes import int_to_cn

SHEET = "属地管理事项清单"
HEADERS = ["序号", "领域", "事项类型", "事项名称", "县级部门职责", "乡镇(街道)职责", "法律法规及文件依据", "主体责任", "配合责任"]
COLUMN = {h: chr(ord("A") + i) for i, h in enumerate(HEADERS)}

# baseline item → the matter as a county's table names it
COUNTY_NAMES: dict[str, str] = {
    "nr.illegal-land-occupation": "对非法占用土地行为的查处",
    "nr.illegal-sand-mining": "违法采砂",
    "nr.illegal-mining": "对无证开采矿产资源行为的处罚",
    "nr.farmland-destruction": "对破坏耕地行为的查处",
    "nr.illegal-logging": "对盗伐、滥伐林木行为的查处",
    "nr.forest-land-occupation": "对毁林开垦和擅自改变林地用途行为的处罚",
    "nr.wildlife": "对非法猎捕、出售野生动物行为的查处",
    "nr.geological-hazard": "地质灾害隐患排查与防治",
    "nr.satellite-patches": "卫片执法违法用地图斑核查",
    "ee.water-pollution": "对违法排放水污染物行为的查处",
    "ee.air-pollution": "对超标排放大气污染物行为的查处",
    "ee.soil-pollution": "土壤污染防治监督管理",
    "ee.scattered-polluting": "“散乱污”企业综合整治",
    "ee.livestock-pollution": "对畜禽养殖场污染环境行为的查处",
    "ee.straw-burning": "对露天焚烧秸秆行为的查处",
    "ee.noise": "对工业噪声污染行为的处罚",
    "ee.solid-waste": "对非法倾倒、处置危险废物行为的查处",
    "urc.illegal-construction-urban": "对城镇规划区内违法建设行为的查处",
    "urc.illegal-construction-rural": "对乡村规划区内未取得乡村建设规划许可证进行建设的查处",
    "urc.construction-safety": "建筑施工安全生产监督检查",
    "urc.gas-safety": "城镇燃气安全监督检查",
    "urc.housing-safety": "农村危房和经营性自建房安全排查",
    "urc.property-management": "住宅小区物业服务监督管理",
    "urc.construction-quality": "对建设工程质量违法行为的查处",
    "urc.drainage": "城镇排水设施监督检查",
    "urc.historic-towns": "对破坏传统村落和历史建筑行为的查处",
    "urc.construction-market": "对建筑工程转包、违法分包行为的查处",
    "em.fire-safety": "消防安全监督检查",
    "em.fireworks": "对非法生产、经营烟花爆竹行为的查处",
    "em.hazardous-chemicals": "对无证经营危险化学品行为的查处",
    "em.work-safety": "工贸行业企业安全生产监督检查",
    "em.flood-control": "防汛抗旱及河道行洪安全",
    "em.emergency-response": "突发事件信息报告和先期处置",
    "em.forest-fire": "森林防火监督检查",
    "mr.food-small-businesses": "食品小作坊、小餐饮、小食杂店监督管理",
    "mr.special-equipment": "电梯等特种设备安全监督检查",
    "mr.unlicensed-business": "对无照经营行为的查处",
    "mr.false-advertising": "对发布虚假广告行为的查处",
    "mr.product-quality": "对生产销售假冒伪劣产品行为的查处",
    "mr.consumer-rights": "消费者权益保护和消费纠纷调解",
    "mr.food-safety": "对生产经营过期变质食品行为的查处",
    "mr.agricultural-product-quality": "食用农产品农药残留监督抽查",
    "ce.street-vending": "对占道经营、流动摊贩行为的查处",
    "ce.outdoor-advertising": "对擅自设置户外广告行为的查处",
    "ce.construction-waste": "对随意倾倒建筑垃圾行为的处罚",
    "ce.open-air-bbq": "对露天烧烤行为的查处",
    "ce.open-burning-waste": "对露天焚烧垃圾行为的查处",
    "ce.city-appearance": "对违反市容环境卫生管理规定行为的处罚",
    "ce.green-space": "对损毁城市绿地、树木行为的查处",
    "ce.construction-noise": "对建筑施工噪声扰民行为的查处",
    "kw.river-lake-chaos": "河湖“四乱”问题整治",
    "kw.water-abstraction": "对未经批准擅自取水行为的查处",
    "kw.animal-epidemic": "对随意抛弃病死畜禽行为的查处",
    "kw.road-administration": "对擅自占用公路行为的查处",
    "kw.illegal-transport": "对非法营运行为的查处",
    "kw.wetland": "对破坏湿地行为的查处",
    "ct.internet-cafes": "网吧监督检查",
    "ct.cultural-relics": "对破坏文物行为的查处",
}
# departments as counties abbreviate them
ABBREVIATIONS: dict[str, str] = {
    "county.natural-resources": "自然资源局",
    "county.ecology-environment": "生态环境分局",
    "county.housing-construction": "县住建局",
    "county.comprehensive-enforcement": "综合执法局",
    "county.emergency-management": "应急局",
    "county.fire-rescue": "消防救援大队",
    "county.market-regulation": "市场监管局",
    "county.agriculture-rural": "农业农村局",
    "county.water-resources": "水利局",
    "county.public-security": "公安局",
    "county.transport": "交通运输局",
    "county.culture-tourism": "文旅局",
    "county.health": "卫健局",
    "township": "各镇(街道)",
    "village": "村委会",
}


@dataclass
class PublishedSpec:
    """What the import must find: each good row's baseline item, and where the bad cells are."""

    sheet: str = SHEET
    truth: dict[int, str] = field(default_factory=dict)  # row number → baseline item id
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)  # row → (column letter, word in the message)
    omitted: list[str] = field(default_factory=list)  # baseline items the table does not list

    @property
    def rows(self) -> int:
        return len(self.truth) + len(self.bad)


def _party(p: str, kb: KnowledgeBase) -> str:
    return ABBREVIATIONS.get(p) or kb.departments[p].name


def _citation(c: Citation, kb: KnowledgeBase) -> str:
    """The article as a county writes it: the law's short title, the numbers in Chinese."""
    text = f"《{kb.lawbook.laws[c.law_id].title}》第{int_to_cn(c.article)}条"
    if c.article_suffix:
        text += f"之{int_to_cn(c.article_suffix)}"
    if c.paragraph:
        text += f"第{int_to_cn(c.paragraph)}款"
    if c.clause:
        text += f"第（{int_to_cn(c.clause)}）项"
    return text


def make_published_table(path: Path, root: Path | None = None, county: str = "template") -> PublishedSpec:
    kb = load(county, root or project_root()).kb
    spec = PublishedSpec()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["某县“属地管理”事项主体责任和配合责任清单"])
    ws.append(["(2024年版,共计事项以本表为准)"])
    ws.append(HEADERS)
    ws.merge_cells("A1:I1")
    ws.merge_cells("A2:I2")
    order = list(DOMAINS)
    chosen = sorted((kb.items[i] for i in COUNTY_NAMES), key=lambda i: order.index(i.domain))
    bad_at = {5: "unknown-party", 23: "bad-article", 41: "no-primary"}  # positions in the table
    r, n, block = 4, 0, None
    for item in chosen:
        n += 1
        if block is None or block[0] != item.domain:
            if block is not None and r - 1 > block[1]:
                ws.merge_cells(f"B{block[1]}:B{r - 1}")
            block = (item.domain, r)
        primary = "、".join(_party(p.party, kb) for p in item.primary)
        cites = "\n".join(_citation(c, kb) for c in item.citations)
        name = COUNTY_NAMES[item.id]
        fault = bad_at.get(n)
        if fault == "unknown-party":
            primary = "县宇宙管理局"
            spec.bad[r] = (COLUMN["主体责任"], "县宇宙管理局")
        elif fault == "bad-article":
            cites = f"《{kb.lawbook.laws[item.citations[0].law_id].title}》第九百九十九条"
            spec.bad[r] = (COLUMN["法律法规及文件依据"], "没有第九百九十九条")
        elif fault == "no-primary":
            primary = ""
            spec.bad[r] = (COLUMN["主体责任"], "主体责任为空")
        else:
            spec.truth[r] = item.id
        ws.append([n, DOMAINS[item.domain] if block[1] == r else None, item.type, name, item.county_duties,
                   item.township_duties, cites, primary, "、".join(_party(p.party, kb) for p in item.supporting)])
        r += 1
    if block is not None and r - 1 > block[1]:
        ws.merge_cells(f"B{block[1]}:B{r - 1}")
    spec.omitted = sorted(set(kb.items) - set(COUNTY_NAMES))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return spec

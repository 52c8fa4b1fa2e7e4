"""Each duty of each party may cite the articles it rests on (issue 15): the citations are the
item's own articles, resolve to the vendored statute text, are in the compiled graph (SPARQL)
and in the item sheet of the Excel export."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from shudi.engine import Engine
from shudi.excel import export_workbook
from shudi.graph import SD


def _duties(engine: Engine):  # noqa: ANN202
    kb = engine.county().kb
    for item in kb.items.values():
        for role, parties in (("primary", item.primary), ("supporting", item.supporting)):
            for k, p in enumerate(parties):
                yield item, role, k, p


def test_duty_citations_resolve_to_articles_the_item_cites(engine: Engine) -> None:
    cited = [(item, p) for item, _, _, p in _duties(engine) if p.citations]
    assert len(cited) >= 5
    for item, p in cited:
        own = {(c.law_id, c.article) for c in item.citations}
        for c in p.citations:
            assert (c.law_id, c.article) in own, (item.id, p.party, c.label)
            assert c.text and len(c.text) > 10  # the article's text, from kb/laws


def test_sparql_names_the_article_of_a_duty(engine: Engine) -> None:
    query = f"""
    PREFIX sd: <{SD}>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    SELECT ?item ?label WHERE {{
        ?i sd:hasResponsibility ?r ; skos:notation ?item .
        ?r sd:role sd:Primary ; sd:hasCitation ?c .
        ?c a sd:Citation ; <http://www.w3.org/2000/01/rdf-schema#label> ?label .
    }}"""
    rows = {(str(a), str(b)) for a, b in engine.county().loaded.graph.query(query)}
    expected = {(item.id, c.label) for item, role, _, p in _duties(engine) if role == "primary" for c in p.citations}
    assert rows == expected and ("nr.illegal-land-occupation", "《中华人民共和国土地管理法》第七十七条") in rows


def test_the_item_sheet_shows_each_duty_s_articles(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    export_workbook(engine.root, "template", out)
    ws = load_workbook(out)["清单"]
    header = [c.value for c in ws[2]]
    col = header.index("职责依据") + 1
    rows = {ws.cell(row=r, column=10).value: ws.cell(row=r, column=col).value for r in range(3, ws.max_row + 1)}
    assert rows["nr.illegal-land-occupation"].startswith("县自然资源局(主体责任):《中华人民共和国土地管理法》第七十七条")
    assert not rows["urc.drainage"]


def test_item_sheet_cli_and_handbook_show_each_duty_s_articles(engine: Engine) -> None:
    """A legal reviewer reads a duty's article where the duty stands: in the item's 说明书 over the
    API, in `shudi item` text mode and in the printed handbook."""
    from shudi import catalog
    from shudi.handbook import render

    ctx = engine.county()
    detail = catalog.item_detail(ctx.kb, ctx.loaded.county, "nr.illegal-land-occupation")
    primary = detail.primary[0]
    assert [c.label for c in primary.citations] == ["《中华人民共和国土地管理法》第七十七条"]
    assert primary.citations[0].text  # the article's own words, from the vendored statute
    assert all(not p.citations for p in catalog.item_detail(ctx.kb, ctx.loaded.county, "urc.drainage").primary)
    lines = catalog.item_text(detail)
    assert any(line.startswith("主体责任 县自然资源局:") and line.endswith("(依据 《中华人民共和国土地管理法》第七十七条)")
               for line in lines), lines
    html = render(ctx.loaded)
    section = html[html.index("<section class='item' id='item-nr-illegal-land-occupation'>"):]
    assert "依据:《中华人民共和国土地管理法》第七十七条" in section.split("<h4>具体情形</h4>")[0]

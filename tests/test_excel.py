"""Excel import/export of a county's list (shudi.excel).

Every test works on a temporary project root: a synthetic ~50-item baseline (tests/make_workbook.py)
and a copy of the project's kb/ (the real baseline, with its statute texts)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SKOS

from shudi.excel import (
    CitationParser,
    DomainMatcher,
    PartyMatcher,
    export_workbook,
    import_workbook,
    parse_parties,
)
from shudi.diff import diff_loaded
from shudi.graph import ID
from shudi.kb import LoadedKB, counties, load, project_root
from shudi.lawbook import Lawbook
from shudi.source import DepartmentsFile, read_model
from shudi.validate import validate_kb

from .make_workbook import COL, SHEET, build_synthetic_root, copy_real_root, make_messy_workbook

ROOT = project_root()


@pytest.fixture(scope="session")
def synthetic_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_root(tmp_path_factory.mktemp("synthetic") / "root")


@pytest.fixture
def synth(tmp_path: Path, synthetic_template: Path) -> Path:
    """A writable synthetic project root."""
    dest = tmp_path / "root"
    shutil.copytree(synthetic_template, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


@pytest.fixture(scope="session")
def real_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's kb/ (with statute texts); it must load as it is."""
    root = copy_real_root(tmp_path_factory.mktemp("real") / "root")
    load("template", root)
    return root


def _real_root(tmp_path: Path, real_template: Path) -> Path:
    dest = tmp_path / "real"
    shutil.copytree(real_template, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


@pytest.fixture(params=["synthetic", "real"])
def any_root(request: pytest.FixtureRequest, tmp_path: Path, synthetic_template: Path, real_template: Path) -> Path:
    if request.param == "real":
        return _real_root(tmp_path, real_template)
    dest = tmp_path / "root"
    shutil.copytree(synthetic_template, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "kb").rglob("*")) if p.is_file()}


_LAW = str(ID["law/"])
_LIST = URIRef(str(ID["list/"]) + "x")


def _list_graph(loaded: LoadedKB) -> Graph:
    """The compiled graph without the statute texts (the same files for every county), with the
    list node named alike."""
    lst = ID[f"list/{loaded.kb.county}"]
    g = Graph()
    for s, p, o in loaded.graph:
        if str(s).startswith(_LAW) or (s == lst and p == SKOS.prefLabel):
            continue
        g.add((_LIST if s == lst else s, p, _LIST if o == lst else o))
    return g


def _assert_same_list(a: LoadedKB, b: LoadedKB) -> None:
    """Items, parties, duties, citations (with their article text), scenarios, procedures, time
    limits: equal models and isomorphic compiled graphs."""
    assert sorted(a.kb.items) == sorted(b.kb.items)
    for iid, item in a.kb.items.items():
        assert b.kb.items[iid] == item, iid
    assert isomorphic(_list_graph(a), _list_graph(b))


# ---------------------------------------------------------------------------------------------
# Pieces: citations, departments, domains


@pytest.fixture(scope="session")
def lawbook(synthetic_template: Path) -> Lawbook:
    kb = synthetic_template / "kb"
    return Lawbook.load(kb / "laws" / "registry.yaml", kb / "laws")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("《中华人民共和国土地管理法》第七十七条", [("land-administration-law", 77, None, None)]),
        ("《土地管理法》第77条第1款", [("land-administration-law", 77, 1, None)]),
        ("土地管理法第七十七条第二款", [("land-administration-law", 77, 2, None)]),
        ("《土地管理法》第七十七条、第七十八条第一款", [("land-administration-law", 77, None, None), ("land-administration-law", 78, 1, None)]),
        ("《土地管理法》第77、78条", [("land-administration-law", 77, None, None), ("land-administration-law", 78, None, None)]),
        ("《土地管理法》第七十七条第一款、第二款", [("land-administration-law", 77, 1, None), ("land-administration-law", 77, 2, None)]),
        ("依据《土地管理法》第七十七条：未经批准……", [("land-administration-law", 77, None, None)]),
    ],
)
def test_citation_variants(lawbook: Lawbook, text: str, expected: list[tuple]) -> None:
    cites, errors, _ = CitationParser(lawbook).parse(text)
    assert errors == []
    assert [(c.law, c.article, c.paragraph, c.clause) for c in cites] == expected


def test_citation_clause_note_and_version(lawbook: Lawbook) -> None:
    parser = CitationParser(lawbook)
    if "fire-protection-law" in lawbook.versions:
        for text in ("《消防法》第六十条第一款第（三）项", "《中华人民共和国消防法》第60条第1款第(3)项", "《消防法》第六十条第一款第三项"):
            cites, errors, _ = parser.parse(text)
            assert errors == [] and [(c.article, c.paragraph, c.clause) for c in cites] == [(60, 1, 3)], text
        cites, errors, warnings = parser.parse("《消防法》第六十条第（三）项、第（四）项")
        assert errors == [] and [(c.paragraph, c.clause) for c in cites] == [(1, 3), (1, 4)]
        assert any("按第一款理解" in w for w in warnings)
    cites, errors, _ = parser.parse("《中华人民共和国土地管理法》第七十七条第一款（非法占地的查处主体）")
    assert errors == [] and cites[0].note == "非法占地的查处主体"
    cites, errors, _ = parser.parse("《中华人民共和国土地管理法》（2019-08-26）第七十七条")
    assert errors == [] and str(cites[0].version) == "2019-08-26"
    _, errors, _ = parser.parse("《土地管理法》（1998年修订）第七十七条")
    assert errors and "1998" in errors[0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("《土地管理法》第九百条", "没有第九百条"),
        ("《火星法》第一条", "未知的法律法规《火星法》"),
        ("《土地管理法》", "未写明具体条款"),
        ("《土地管理法》第七十七条第五款", "没有第五款"),
        ("第七十七条", "未写明法律法规名称"),
        ("见有关文件", "未能识别出法律依据"),
    ],
)
def test_citation_errors(lawbook: Lawbook, text: str, fragment: str) -> None:
    _, errors, _ = CitationParser(lawbook).parse(text)
    assert any(fragment in e for e in errors), errors


@pytest.fixture(scope="session")
def matcher(synthetic_template: Path) -> PartyMatcher:
    return PartyMatcher(read_model(synthetic_template / "kb" / "departments.yaml", DepartmentsFile))


@pytest.mark.parametrize(
    ("name", "party"),
    [
        ("县自然资源和规划局", "county.natural-resources"),
        ("县自然资源规划局", "county.natural-resources"),
        ("县城管局", "county.comprehensive-enforcement"),
        ("镇政府", "township"),
        ("乡镇人民政府", "township"),
        ("街道办事处", "township"),
        ("乡镇（街道）", "township"),
        ("乡镇人民政府(街道办事处)", "township"),
        ("住建局", "county.housing-construction"),
        ("村委会", "village"),
        ("村（居）民委员会", "village"),
        ("自然资源所", "county.natural-resources.station"),
        ("县自然资源局等", "county.natural-resources"),
    ],
)
def test_department_variants(matcher: PartyMatcher, name: str, party: str) -> None:
    assert matcher.match(name) == party


def test_party_cells(matcher: PartyMatcher) -> None:
    parties, errors = parse_parties("镇政府、县宇宙管理局", matcher)
    assert [p.party for p in parties] == ["township"] and len(errors) == 1 and "县宇宙管理局" in errors[0]
    for sep in ("、", "，", ",", "；", ";", "\n"):
        parties, errors = parse_parties(sep.join(["镇政府", "村委会", "住建局"]), matcher)
        assert errors == [] and [p.party for p in parties] == ["township", "village", "county.housing-construction"]
    parties, errors = parse_parties("县自然资源局：负责查处；负责恢复原状。\n乡镇人民政府(街道办事处)：负责巡查；村委会：报告", matcher)
    assert errors == []
    assert [(p.party, p.duties) for p in parties] == [
        ("county.natural-resources", "负责查处；负责恢复原状。"), ("township", "负责巡查"), ("village", "报告")]
    parties, errors = parse_parties("县自然资源局负责调查处理", matcher)
    assert errors == [] and parties[0].party == "county.natural-resources" and parties[0].duties == "负责调查处理"


@pytest.mark.parametrize(
    ("label", "domain"),
    [("自然资源", "natural-resources"), ("一、自然资源领域", "natural-resources"), ("生态环境领域", "ecology-environment"),
     ("城乡建设类", "urban-rural-construction"), ("文化和旅游", "culture-tourism"), ("（三）应急管理", "emergency-management"),
     ("火星领域", None)],
)
def test_domain_labels(label: str, domain: str | None) -> None:
    assert DomainMatcher().match(label) == domain


# ---------------------------------------------------------------------------------------------
# The messy workbook


def test_messy_workbook_is_messy(synth: Path, tmp_path: Path) -> None:
    spec = make_messy_workbook(tmp_path / "messy.xlsx", synth)
    assert spec.rows >= 50
    ws = load_workbook(tmp_path / "messy.xlsx")[SHEET]
    assert ws["A1"].value and "清单" in ws["A1"].value
    assert ws["B3"].value == "责任领域"
    assert any(r.min_col == 2 and r.max_row > r.min_row for r in ws.merged_cells.ranges)


def test_messy_import_reports_each_bad_cell_and_writes_nothing(any_root: Path, tmp_path: Path) -> None:
    spec = make_messy_workbook(tmp_path / "messy.xlsx", any_root)
    before = _snapshot(any_root)
    report = import_workbook(tmp_path / "messy.xlsx", any_root, "messy", name="测试县(示例)")
    assert not report.ok and not report.written and report.files == []
    assert _snapshot(any_root) == before
    assert not (any_root / "kb" / "counties" / "messy").exists()
    found = {e.cell: e for e in report.errors}
    assert set(found) == set(spec.errors), "\n".join(str(e) for e in report.errors)
    for cell, word in spec.errors.items():
        err = found[cell]
        assert err.sheet == SHEET and err.row == int(cell[1:]) and err.column == cell[0]
        assert word in err.message, str(err)
    assert "县宇宙管理局" in found[f"{COL['配合单位']}{_row_of(spec, '县宇宙管理局')}"].message
    # the unmappable 备注 column and the note under the table are reported, not dropped silently
    assert any(w.cell == f"{spec.unmapped_column}3" and "备注" in w.message for w in report.warnings)
    assert any(w.row == spec.note_row and "说明行" in w.message for w in report.warnings)
    assert {r.name for r in report.rejected_rows} >= set(spec.bad_new_items)
    assert "未写入" in report.to_text()


def _row_of(spec, word: str) -> int:  # type: ignore[no-untyped-def]
    return next(int(c[1:]) for c, w in spec.errors.items() if w == word)


def test_messy_partial_import_writes_a_valid_county(any_root: Path, tmp_path: Path) -> None:
    spec = make_messy_workbook(tmp_path / "messy.xlsx", any_root)
    report = import_workbook(tmp_path / "messy.xlsx", any_root, "messy", name="测试县(示例)", partial=True, example=True)
    assert report.ok and report.written, report.to_text()
    assert {e.cell for e in report.errors} == set(spec.errors)  # still reported
    assert "kb/counties/messy/county.yaml" in report.files
    cdir = any_root / "kb" / "counties" / "messy"
    assert not [p for p in cdir.iterdir() if p.name.startswith(".")]  # no temporary files left
    loaded = load("messy", any_root, use_cache=True)
    kb = loaded.kb
    assert loaded.county.example and loaded.county.name == "测试县(示例)"
    base = load("template", any_root, use_cache=True).kb
    names = {i.name: i for i in kb.items.values()}
    for name in spec.new_items:
        item = names[name]
        assert item.id not in base.items and ".x-" in item.id
        assert len(item.scenarios) == 3 and all(len(s.triggers) >= 5 for s in item.scenarios)
    for name in spec.bad_new_items:
        assert name not in names
    # issue 15: --partial never removes; the baseline items the table leaves out are kept, and named
    for iid in spec.omitted:
        assert kb.items[iid] == base.items[iid]
    assert report.removed == [] and sorted(report.kept_missing) == sorted(spec.omitted)
    for name in spec.pending_items:  # a new matter without scenarios: one scenario 待细化, a warning
        assert [s.name for s in names[name].scenarios] == ["待细化"] and len(names[name].scenarios[0].triggers) >= 5
        assert any(name in w.message and "待细化" in w.message for w in report.warnings)
    ov_id, primary, supporting = spec.override  # type: ignore[misc]
    assert [p.party for p in kb.items[ov_id].primary] == primary
    assert [p.party for p in kb.items[ov_id].supporting] == supporting
    assert loaded.county.overrides[0].reason == "导入自 messy.xlsx"
    for iid in spec.bad_baseline:  # rows with errors leave the baseline item as it was
        assert kb.items[iid] == base.items[iid]
    # the untouched baseline items are the baseline's
    kept = set(base.items) - {ov_id}
    assert all(kb.items[i] == base.items[i] for i in kept)
    pond = names["擅自占用耕地挖塘养鱼"]
    assert [s.step for s in pond.procedure] == ["发现", "处置"] and pond.time_limits[0].working_days == 5
    report2 = validate_kb("messy", any_root)
    assert report2.ok, report2.errors[:5]


def test_clean_workbook_imports_whole(synth: Path, tmp_path: Path) -> None:
    any_root = synth
    spec = make_messy_workbook(tmp_path / "clean.xlsx", any_root, bad=False)
    report = import_workbook(tmp_path / "clean.xlsx", any_root, "clean", name="干净县(示例)")
    assert report.ok and report.written and report.errors == [], report.to_text()
    statuses = [r.status for r in report.rows]
    assert statuses.count("new") == len(spec.new_items) == len(report.new_items)
    assert statuses.count("override") == 1 and "rejected" not in statuses
    kb = load("clean", any_root, use_cache=True).kb
    assert {n for n in spec.new_items} <= {i.name for i in kb.items.values()}


# ---------------------------------------------------------------------------------------------
# Export and round trip


def test_export_layout(synth: Path, tmp_path: Path) -> None:
    report = export_workbook(synth, "template", tmp_path / "out.xlsx")
    wb = load_workbook(tmp_path / "out.xlsx")
    assert wb.sheetnames[:3] == ["清单", "情形", "程序时限"]
    ws = wb["清单"]
    assert "清单" in ws["A1"].value
    assert [c.value for c in ws[2]][:9] == ["序号", "领域", "事项类型", "事项名称", "县级部门职责", "乡镇(街道)职责",
                                            "法律法规及文件依据", "主体责任", "配合责任"]
    assert ws.column_dimensions["J"].hidden
    assert report.items == ws.max_row - 2 and report.scenarios == wb["情形"].max_row - 1
    cites = [ws.cell(row=r, column=7).value for r in range(3, ws.max_row + 1)]
    assert all(c.startswith("《") and "第" in c for c in cites)
    assert any("《中华人民共和国土地管理法》第七十七条第一款" in c for c in cites)
    assert any(r.min_col == 2 and r.max_row > r.min_row for r in ws.merged_cells.ranges)


def _round_trip(root: Path, source: str, tmp_path: Path, again: bool = False) -> None:
    out = tmp_path / f"{source}.xlsx"
    export_workbook(root, source, out)
    # a fresh county that is to equal the source: what the table leaves out goes (--replace-list)
    report = import_workbook(out, root, "roundtrip", name="往返县(示例)", replace_list=True)
    assert report.ok and report.errors == [], report.to_text()
    assert report.warnings == [], "\n".join(str(w) for w in report.warnings)
    _assert_same_list(load(source, root), load("roundtrip", root))
    if again:  # importing it again changes nothing
        before = _snapshot(root)
        second = import_workbook(out, root, "roundtrip")
        assert second.ok and not second.written and second.files == []
        assert _snapshot(root) == before


def test_round_trip_of_an_imported_county(any_root: Path, tmp_path: Path) -> None:
    make_messy_workbook(tmp_path / "messy.xlsx", any_root)
    assert import_workbook(tmp_path / "messy.xlsx", any_root, "messy", name="测试县(示例)", partial=True).ok
    _round_trip(any_root, "messy", tmp_path, again=True)


def test_round_trip_of_the_baseline(synth: Path, tmp_path: Path) -> None:
    any_root = synth
    _round_trip(any_root, "template", tmp_path)
    profile = load("roundtrip", any_root).county
    assert profile.overrides == [] and profile.remove_items == []
    assert not (any_root / "kb" / "counties" / "roundtrip" / "items").exists()


def test_round_trip_of_example_counties(tmp_path: Path, real_template: Path) -> None:
    root = _real_root(tmp_path, real_template)
    for county in ("example-a", "example-b"):
        _round_trip(root, county, tmp_path / county)
        shutil.rmtree(root / "kb" / "counties" / "roundtrip")


def test_reimport_into_the_same_county_is_a_no_op(synth: Path, tmp_path: Path) -> None:
    spec = make_messy_workbook(tmp_path / "messy.xlsx", synth)
    assert import_workbook(tmp_path / "messy.xlsx", synth, "messy", partial=True).ok
    before = _snapshot(synth)
    export_workbook(synth, "messy", tmp_path / "again.xlsx")
    report = import_workbook(tmp_path / "again.xlsx", synth, "messy")
    assert report.ok and not report.written
    # the county's own items, matched by id (the 待细化 matters too, since issue 15)
    assert [r.status for r in report.rows].count("county") == 4 + len(spec.pending_items)
    assert _snapshot(synth) == before


def test_dry_run_writes_nothing(synth: Path, tmp_path: Path) -> None:
    make_messy_workbook(tmp_path / "clean.xlsx", synth, bad=False)
    before = _snapshot(synth)
    report = import_workbook(tmp_path / "clean.xlsx", synth, "clean", dry_run=True)
    assert report.ok and not report.written
    assert _snapshot(synth) == before


def test_existing_county_profile_keeps_its_comments(synth: Path, tmp_path: Path) -> None:
    cfile = synth / "kb" / "counties" / "template" / "county.yaml"
    cfile.write_text("# 县级清单(示例)\n" + cfile.read_text(encoding="utf-8"), encoding="utf-8")
    make_messy_workbook(tmp_path / "clean.xlsx", synth, bad=False)
    report = import_workbook(tmp_path / "clean.xlsx", synth, "template", replace_list=True)
    assert report.ok and report.written
    text = cfile.read_text(encoding="utf-8")
    assert text.startswith("# 县级清单(示例)\n") and "townships:" in text and "remove_items:" in text
    assert load("template", synth, use_cache=True).county.townships


# ---------------------------------------------------------------------------------------------
# Header layouts


def _write(path: Path, rows: list[list[object]], merges: list[str] = ()) -> Path:  # type: ignore[assignment]
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


def test_two_row_header_and_sheet_domain(synth: Path, tmp_path: Path) -> None:
    base = load("template", synth).kb.items["nr.illegal-land-occupation"]
    path = _write(tmp_path / "two.xlsx", [
        ["自然资源领域清单"],
        ["编号", "事项", "类型", "责任主体", None, "依据"],
        [None, None, None, "主体责任", "配合责任", None],
        [1, base.name, base.type, "县自然资源局", "乡镇、自然资源所、村委会", "《土地管理法》第七十七条第一款、第二款"],
    ], ["A1:F1", "D2:E2", "A2:A3", "B2:B3", "C2:C3", "F2:F3"])
    report = import_workbook(path, synth, "two", name="二县(示例)", dry_run=True)
    assert report.header[ws_name(path)] == {"A": "序号", "B": "事项名称", "C": "事项类型", "D": "主体责任", "E": "配合责任",
                                            "F": "法律法规及文件依据"}
    assert [(r.item_id, r.status) for r in report.rows] == [("nr.illegal-land-occupation", "unchanged")]
    assert report.errors == [], report.to_text()


def ws_name(path: Path) -> str:
    return load_workbook(path).worksheets[0].title


def test_unreadable_workbook(synth: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    report = import_workbook(bad, synth, "x")
    assert not report.ok and report.errors and report.errors[0].sheet is None
    empty = _write(tmp_path / "empty.xlsx", [["随便写点什么"]])
    report = import_workbook(empty, synth, "x")
    assert not report.ok and any("没有找到清单表" in e.message for e in report.errors)


def test_edited_export_becomes_overrides(synth: Path, tmp_path: Path) -> None:
    """The county's workflow: export, edit the table in Excel, import."""
    out = tmp_path / "edit.xlsx"
    export_workbook(synth, "template", out)
    wb = load_workbook(out)
    ws = wb["清单"]
    rows = {ws.cell(row=r, column=10).value: r for r in range(3, ws.max_row + 1)}
    r = rows["ee.straw-burning"]
    ws.cell(row=r, column=8).value = "镇政府：负责本辖区秸秆禁烧的组织实施，发现火点及时扑灭并报告。"
    ws.cell(row=r, column=9).value = "县生态环境分局、村委会"  # names only: duties they already have
    # another item: the township's duties reworded, the basis replaced by another item's
    r2 = rows["urc.rural-illegal-construction"]
    ws.cell(row=r2, column=6).value = "示例:负责村庄规划区内违法建设的日常巡查,发现后当场制止并在24小时内报告。"
    cite_text = ws.cell(row=rows["nr.illegal-land-occupation"], column=7).value
    ws.cell(row=r2, column=7).value = cite_text
    ws.delete_rows(rows["ct.publications"])
    wb.save(out)
    before = load("template", synth)
    report = import_workbook(out, synth, "template", shacl=True, replace_list=True)  # the deleted row: removed
    assert report.ok and report.written, report.to_text()
    assert report.overridden == ["ee.straw-burning", "urc.rural-illegal-construction"] and report.removed == ["ct.publications"]
    assert report.warnings == [], report.to_text()
    after = load("template", synth)
    item = after.kb.items["ee.straw-burning"]
    assert [(p.party, p.duties) for p in item.primary] == [("township", "负责本辖区秸秆禁烧的组织实施，发现火点及时扑灭并报告。")]
    assert [p.party for p in item.supporting] == ["county.ecology-environment", "village"]
    assert item.supporting[0].duties.startswith("负责露天焚烧秸秆")  # its primary duties, carried over
    ic = after.kb.items["urc.rural-illegal-construction"]
    assert ic.township_duties.startswith("示例:负责村庄规划区内违法建设")
    assert {(c.law_id, c.article) for c in ic.citations} == {(c.law_id, c.article) for c in after.kb.items["nr.illegal-land-occupation"].citations}
    assert ic.county_duties == before.kb.items["urc.rural-illegal-construction"].county_duties  # untouched column stays the baseline's
    changes = {c.item: c.changes for c in diff_loaded(before, after, "旧", "新").changed}
    assert "乡镇(街道)职责表述调整" in changes["urc.rural-illegal-construction"]
    assert any(c.startswith("新增依据:") for c in changes["urc.rural-illegal-construction"])
    assert any(c.startswith("删除依据:") for c in changes["urc.rural-illegal-construction"])
    # and the edited county survives its own round trip unchanged
    again = tmp_path / "again.xlsx"
    export_workbook(synth, "template", again)
    snapshot = _snapshot(synth)
    second = import_workbook(again, synth, "template")
    assert second.ok and not second.written and second.warnings == [], second.to_text()
    assert _snapshot(synth) == snapshot


@pytest.mark.parametrize("county", counties(ROOT))
def test_every_shipped_county_reimports_as_a_no_op(tmp_path: Path, real_template: Path, county: str) -> None:
    """Export → import of each county in kb/counties changes nothing: no change set, no file,
    no warning — the 乡镇 and 联系方式 sheets (office hours included) come back as they were."""
    root = _real_root(tmp_path, real_template)
    out = tmp_path / f"{county}.xlsx"
    export_workbook(root, county, out)
    hours = [row[4].value for row in load_workbook(out)["联系方式"].iter_rows(min_row=2)]
    assert hours and all(hours), hours  # every office's hours, written out
    before = _snapshot(root)
    report = import_workbook(out, root, county)
    assert report.ok and not report.written and report.ops == [] and report.warnings == [], report.to_text()
    assert _snapshot(root) == before


def test_office_hours_come_in_with_the_contacts(tmp_path: Path, real_template: Path) -> None:
    synth = _real_root(tmp_path, real_template)
    out = tmp_path / "t.xlsx"
    export_workbook(synth, "template", out)
    wb = load_workbook(out)
    ws = wb["联系方式"]
    assert [c.value for c in ws[1]][:5] == ["单位", "责任科室", "联系人", "电话", "办公时间"]
    for n, row in enumerate(ws.iter_rows(min_row=2)):
        row[4].value = "周一至周五 9:00—17:00(示例)" if n else "24小时值班(示例)"
    wb.save(out)
    report = import_workbook(out, synth, "template")
    assert report.ok and report.written, report.to_text()
    county = load("template", synth).county
    assert county.office_hours == "周一至周五 9:00—17:00(示例)"
    assert [c.hours for c in county.contacts][0] == "24小时值班(示例)"
    assert all(c.hours is None for c in county.contacts[1:])

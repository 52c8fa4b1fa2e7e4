"""The `shudi` command line (typer).  Every command that answers from the list takes --county."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .clihelp import CountyOpt, PlainGroup, emit as _emit, fail as _fail
from .kb import KBLoadError, load, project_root
from .source import KBSourceError
from .sourcecheck import read_kb_source

if TYPE_CHECKING:
    from .engine import Engine

# plain click help (shudi.clihelp): no typer type labels (<str>, <bool>), no rich boxes cutting names
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=PlainGroup,
                  help="属地管理 rules engine and knowledge base.")
kb_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=PlainGroup, help="Knowledge-base maintenance: validate, stats, vendor statutes.")
app.add_typer(kb_app, name="kb")
rules_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=PlainGroup, help="The rule sets of rules/: each rule beside the text it rests on.")
app.add_typer(rules_app, name="rules")
from .listcli import list_app  # noqa: E402 - a county's list: diff, proposals, import, export (shudi list …)
from .platform.cli import call_app  # noqa: E402 - the response platform's commands (shudi call …)

app.add_typer(list_app, name="list")
app.add_typer(call_app, name="call")


@kb_app.command("validate")
def kb_validate(county: str = CountyOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Check the KB: schema, identifiers, citations, SHACL shapes.  Exit 1 on any violation."""
    from .validate import validate_kb

    report = validate_kb(county)
    if as_json:
        _emit({"ok": report.ok, "errors": report.errors, "warnings": report.warnings})
    else:
        for line in report.errors:
            typer.echo(f"✗ {line}")
        for line in report.warnings:
            typer.echo(f"! {line}")
        typer.echo(f"KB {'valid' if report.ok else 'INVALID'}: {len(report.errors)} errors, {len(report.warnings)} warnings")
    raise typer.Exit(0 if report.ok else 1)


@kb_app.command("stats")
def kb_stats_cmd(county: str = CountyOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of domains, items, scenarios, departments, laws, articles, citations, triggers."""
    from .stats import kb_stats, per_domain

    try:
        loaded = load(county)
    except KBLoadError as exc:
        _fail(f"KB does not load:\n{exc}")
    stats = kb_stats(loaded.graph)
    if as_json:
        typer.echo(json.dumps(stats, ensure_ascii=False))
    else:
        for key, value in stats.items():
            typer.echo(f"{key:24} {value}")
        for row in per_domain(loaded.graph):
            typer.echo(f"  {row['domain']:28} items {row['items']:3}  scenarios {row['scenarios']:3}")


@kb_app.command("vendor-laws")
def kb_vendor_laws(
    from_dir: Path = typer.Option(Path("../shared/laws"), "--from", help="folder of official statute texts"),
) -> None:
    """Copy every version of each statute the KB cites into kb/laws/<category>/."""
    from .source import DomainFile, LawRegistryFile, read_model
    from .sourcecheck import cited_law_ids
    from .statutes import parse_file_name

    root = project_root()
    try:
        source = read_kb_source(root / "kb")
        registry = read_model(root / "kb" / "laws" / "registry.yaml", LawRegistryFile)
    except KBSourceError as exc:
        _fail(str(exc))
    county_files = [read_model(p, DomainFile) for p in sorted((root / "kb" / "counties").glob("*/items/*.yaml"))]
    cited = cited_law_ids([d for _, d in source.domains] + county_files)
    by_id = {law.id: law for law in registry.laws}
    # a repealed law's successor is vendored too, so reviewers can read what replaced it
    cited |= {by_id[c].replaced_by for c in list(cited) if c in by_id and by_id[c].replaced_by}
    wanted = {by_id[c].title: by_id[c] for c in cited if c in by_id}
    copied = 0
    for path in sorted(from_dir.glob("*/*.md")):
        title, _ = parse_file_name(path)
        law = wanted.get(title)
        if law is None:
            continue
        target = root / "kb" / "laws" / law.category / path.name
        if any(t.name == path.name for t in (root / "kb" / "laws").glob(f"*/{path.name}")):
            continue  # the same text filed under two categories upstream
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
    unknown = sorted(c for c in cited if c not in by_id)
    typer.echo(f"{len(wanted)} laws cited; {copied} files copied into kb/laws")
    if unknown:
        _fail("unknown law ids cited: " + ", ".join(unknown))


def _engine(county: str) -> "Engine":
    from .engine import Engine

    try:
        return Engine(default_county=county)
    except KBLoadError as exc:
        _fail(f"KB does not load:\n{exc}")
    raise AssertionError("unreachable")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    county: str = CountyOpt,
    workers: int = typer.Option(1, "--workers", help="uvicorn worker processes"),
) -> None:
    """Start the HTTP service (OpenAPI at /docs, operator page at /)."""
    import os

    import uvicorn

    if workers == 1:
        from .api import create_app
        from .settings import Settings

        uvicorn.run(create_app(Settings(county=county)), host=host, port=port, log_level="info",
                    backlog=4096, timeout_keep_alive=30)
        return
    # worker processes import the app themselves: the county reaches them in their environment
    os.execvpe(sys.executable, [sys.executable, "-m", "uvicorn", "shudi.api:app_factory", "--factory",
                                "--host", host, "--port", str(port), "--workers", str(workers),
                                "--backlog", "4096", "--timeout-keep-alive", "30"],
               {**os.environ, "SHUDI_COUNTY": county})


@app.command("classify")
def classify(
    text: Optional[str] = typer.Argument(None, help="the caller's words"),
    top_k: int = typer.Option(3, "--top-k", min=1, max=20),
    as_json: bool = typer.Option(False, "--json"),
    batch: Optional[str] = typer.Option(None, "--batch", help="FILE or - : one message per line, one JSON result per line"),
    processes: Optional[int] = typer.Option(None, "--processes", min=1, help="--batch: processes on this machine (default: every core)"),
    dask: Optional[str] = typer.Option(None, "--dask", help="--batch: run on the Dask cluster at this scheduler address"),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="--batch: run on a local Dask cluster, local:N workers"),
    county: str = CountyOpt,
) -> None:
    """Which matter is this, who is primary, who supports, on which article."""
    if batch is not None:
        from .batch import run_dask, run_local

        stream = sys.stdin if batch == "-" else open(batch, encoding="utf-8", errors="replace")  # noqa: SIM115
        with stream:
            if dask or cluster:
                try:
                    answers = run_dask(project_root(), stream, top_k, county, scheduler=dask, cluster=cluster)
                    for out in answers:
                        typer.echo(out)
                except ValueError as exc:
                    _fail(f"{exc} / 集群参数无效", 2)
                return
            for out in run_local(_engine(county), stream, top_k, county, processes):
                typer.echo(out)
        return
    engine = _engine(county)
    if not text or not text.strip():
        _fail("text is empty / 文本为空 (give TEXT or --batch FILE)", 2)
    result = engine.classify(text, top_k, county)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if not result.matched:
        typer.echo("未匹配到清单事项(no match)。")
        if result.off_list_topic:
            typer.echo(f"像是清单外的事项: {result.off_list_topic}")
        return
    if result.level:
        share = f",同一把握的答案部门正确率 {result.level_share_correct:.0%}" if result.level_share_correct is not None else ""
        typer.echo(f"把握: {result.level}{share}")
    if result.unsure:
        typer.echo("注意:识别把握不大,请人工核对事项后再派单。")
    for n, c in enumerate(result.candidates, 1):
        typer.echo(f"{n}. {c.item.name} / {c.scenario.name if c.scenario else '一般情形'}  匹配度 {c.score:.0%}")
        typer.echo(f"   主体责任: {'、'.join(p.name for p in c.primary)}")
        typer.echo(f"   配合责任: {'、'.join(p.name for p in c.supporting) or '无'}")
        for cit in c.citations[:2]:
            typer.echo(f"   依据: {cit.label}")
        typer.echo(f"   识别依据: {'、'.join(c.evidence[:6])}")
        for r in c.rules:
            typer.echo(f"   适用规则: {r.partition(': ')[2] or r}")  # the statement; the rule id is in --json


@app.command("precheck")
def precheck_cmd(
    township: str = typer.Option(..., "--township", help="township id or name"),
    text: Optional[str] = typer.Option(None, "--text"),
    item_id: Optional[str] = typer.Option(None, "--item"),
    emergency: Optional[bool] = typer.Option(None, "--emergency/--no-emergency"),
    studied_cannot_solve: Optional[bool] = typer.Option(None, "--studied-cannot-solve/--studied-can-solve"),
    within_township_authority: Optional[bool] = typer.Option(None, "--within-authority/--not-within-authority"),
    dispatched_agency_can_solve: Optional[bool] = typer.Option(None, "--agency-can-solve/--agency-cannot-solve"),
    at: Optional[str] = typer.Option(None, "--at", help="ISO datetime of the call"),
    as_json: bool = typer.Option(False, "--json"),
    county: str = CountyOpt,
) -> None:
    """两呼两不呼: may the township call the county, whom, how urgently, by when."""
    from pydantic import ValidationError

    from .contract import PrecheckRequest
    from .errors import NotFound
    from .precheck import precheck

    engine = _engine(county)
    try:
        req = PrecheckRequest(
            text=text, item_id=item_id, township=township, at=at, county=county,
            facts={"emergency": emergency, "studied_cannot_solve": studied_cannot_solve,
                   "within_township_authority": within_township_authority,
                   "dispatched_agency_can_solve": dispatched_agency_can_solve},
        )
        if not req.text and not req.item_id:
            _fail("give --text or --item / 请提供事件描述或事项编号", 2)
        result = precheck(engine, req)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 2)
    except NotFound as exc:
        _fail(str(exc), 2)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    label = {"call": "可以呼叫", "no_call": "不应呼叫", "study_first": "先研究论证"}[result.decision]
    typer.echo(f"结论: {label}" + (f"({'紧急' if result.mode == 'urgent' else '普通'})" if result.mode else ""))
    if result.item:
        typer.echo(f"事项: {result.item.name}")
    for d in result.call_departments:
        typer.echo(f"呼叫: {d.name}")
    for a in result.coordinate_agencies:
        typer.echo(f"协调派驻机构: {a.name}")
    for d in result.deadlines:
        typer.echo(f"时限: {d.what} — {d.due}" + (f"({d.note})" if d.note else ""))
    for r in result.reasons:
        typer.echo(f"理由: {r.principle} {r.why}(来源:{r.source})")


@app.command("delegation")
def delegation_cmd(
    department: str = typer.Option(..., "--department", help="county department id"),
    township: str = typer.Option(..., "--township", help="township id or name"),
    task: Optional[str] = typer.Option(None, "--task", help="the task to hand down"),
    item_id: Optional[str] = typer.Option(None, "--item"),
    approved: Optional[bool] = typer.Option(None, "--approved/--not-approved", help="admission procedure approved it"),
    as_json: bool = typer.Option(False, "--json"),
    county: str = CountyOpt,
) -> None:
    """职责下沉准入: may a department hand this task to a township?"""
    from pydantic import ValidationError

    from .delegation import DelegationRequest, check_delegation
    from .errors import NotFound

    engine = _engine(county)
    try:
        result = check_delegation(engine, DelegationRequest(
            department=department, township=township, task=task, item_id=item_id, approved=approved, county=county))
    except (ValidationError, NotFound, ValueError) as exc:
        _fail(str(exc), 2)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    label = {"admitted": "准入", "refused": "不予准入", "needs_admission": "须履行准入程序"}[result.decision]
    typer.echo(f"结论: {label}" + (f"  事项: {result.item.name}" if result.item else "  (清单外事项)"))
    for r in result.reasons:
        typer.echo(f"理由: {r.principle} {r.why}(来源:{r.source})")


@app.command("item")
def item_cmd(
    item: str = typer.Argument(..., metavar="ITEM", help="the matter's name (非法占用土地) or id"),
    county: str = CountyOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The full 说明书 of one matter: duties, scenarios, procedure, time limits, contacts, articles."""
    from . import catalog
    from .errors import NotFound

    ctx = _engine(county).county(county)
    try:
        detail = catalog.item_detail(ctx.kb, ctx.loaded.county, catalog.resolve_item(ctx.kb, item))
    except NotFound as exc:
        _fail(str(exc), 2)
    if as_json:
        _emit(detail.model_dump(mode="json"))
        return
    for line in catalog.item_text(detail):
        typer.echo(line)


@app.command("law")
def law_cmd(
    law_id: str = typer.Argument(..., metavar="LAW", help="the law's title (土地管理法, 中华人民共和国土地管理法) or id"),
    article: Optional[str] = typer.Argument(None, metavar="ARTICLE", help="article number, e.g. 77 or 七十七"),
    version: Optional[str] = typer.Option(None, "--version"),
    county: str = CountyOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A law's versions, or one article's text and who cites it."""
    from . import catalog
    from .errors import NotFound
    from .views import ArticleView, LawDetail

    kb = _engine(county).county(county).kb
    detail: ArticleView | LawDetail
    try:
        detail = catalog.article_detail(kb, law_id, article, version) if article else catalog.law_detail(kb, law_id)
    except NotFound as exc:
        _fail(str(exc), 2)
    if as_json:
        _emit(detail.model_dump(mode="json"))
        return
    if isinstance(detail, LawDetail):
        typer.echo(f"《{detail.title}》({detail.level})" + ("" if not detail.replaced_by else ",已废止"))
        for v in detail.versions:
            typer.echo(f"  {v.version} 版{'(现行)' if v.current else ''}:{v.articles} 条")
        typer.echo("清单引用的条文:" + ("、".join(detail.cited_articles) or "无"))
        return
    typer.echo(f"《{detail.law.title}》({detail.version}{'' if detail.current else ',已被取代'}) {detail.article}")
    typer.echo(detail.text)
    for c in detail.cited_by:
        typer.echo(f"  被引用: {c.name}")


@app.command("sparql")
def sparql_cmd(
    query: Optional[str] = typer.Argument(None),
    file: Optional[Path] = typer.Option(None, "--file"),
    accept: str = typer.Option("application/sparql-results+json", "--accept"),
    county: str = CountyOpt,
) -> None:
    """Run a read-only SPARQL query over the KB graph."""
    from .sparql import SparqlError, SparqlService

    if file is not None:
        query = file.read_text(encoding="utf-8")
    if not query:
        _fail("give a QUERY or --file / 请提供查询", 2)
    loaded = _engine(county).county(county).loaded
    service = SparqlService.from_settings()
    try:
        answer = service.run(loaded, query, accept)
    except SparqlError as exc:
        _fail(f"{exc.zh} / {exc.en}", 2)
    finally:
        service.close()
    sys.stdout.write(answer.body.decode("utf-8"))
    sys.stdout.write("\n")
    if answer.truncated:
        typer.echo(f"(结果已截断为前 {service.max_rows} 行 / truncated at {service.max_rows} rows)", err=True)


@app.command("handbook")
def handbook_cmd(
    county: str = CountyOpt,
    out: Path = typer.Option(Path("handbook"), "--out", help="output folder"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also print a PDF with headless Chromium when available"),
) -> None:
    """Render the printable 工作手册 (HTML, and PDF where Chromium is available)."""
    from .handbook import write_handbook

    try:
        loaded = load(county)
    except KBLoadError as exc:
        _fail(f"KB does not load:\n{exc}")
    files = write_handbook(loaded, out, pdf=pdf)
    typer.echo(f"HTML: {files['html']}")
    typer.echo(f"PDF:  {files['pdf'] or '(not printed: no Chromium found)'}")


@rules_app.command("explain")
def rules_explain(
    ruleset: Optional[str] = typer.Argument(None, help="precheck, delegation or determination; default: all"),
    county: str = CountyOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Each rule: statement, conditions and outcome in plain Chinese, beside the article (from the
    vendored statute) or the report it rests on."""
    from .explain import explain, load_sources, render

    engine = _engine(county)
    files = engine.rules.files
    if ruleset is not None and ruleset not in files:
        _fail(f"未知规则集 {ruleset} / unknown rule set {ruleset!r}; known: {', '.join(sorted(files))}")
    docs = load_sources(engine.root / "kb")
    kb = engine.county().kb
    out = [explain(kb, files[name], docs) for name in ([ruleset] if ruleset else list(files))]
    if as_json:
        _emit([e.model_dump() for e in out])
    else:
        typer.echo("\n".join(render(e) for e in out))


@app.command("learn")
def learn_cmd(
    county: str = typer.Option(..., "--county", help="county profile id (kb/counties/<id>)"),
    orders: Path = typer.Option(..., "--orders", help="CSV, Excel (.xlsx) or JSONL: text plus department or item"),
    folds: int = typer.Option(5, "--folds", min=2, max=20),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Learn the county's model from its work orders (cross-validated figures before and after)."""
    from .errors import ShudiError
    from .learning import learn, read_orders, save

    engine = _engine(county)
    if not orders.is_file():
        _fail(f"找不到工单文件 / orders file not found: {orders.name}", 2)
    try:
        rows = read_orders(orders, engine.county(county).kb)
        learned, before, after = learn(engine, county, rows, folds)
    except ShudiError as exc:
        _fail(f"{exc.zh} / {exc.en}", 2)
    folder = save(engine, county, learned)
    if as_json:
        _emit({"county": county, "orders": len(rows), "before": before.__dict__, "after": after.__dict__,
               "model": str(folder.relative_to(engine.root))})
        return
    typer.echo(f"已学习 {len(rows)} 条工单(清单内 {after.in_scope} 条,清单外 {after.off_list} 条),{folds} 折交叉验证:")
    for name, f in (("学习前", before), ("学习后", after)):
        typer.echo(f"  {name}: 首选部门正确 {f.top1_dept:.1%},清单内答对 {f.answered_right:.1%},清单外不匹配 {f.off_list_abstained:.1%}")
    for lv in after.levels:
        typer.echo(f"  把握{lv['level']}: {lv['answers']} 条,部门正确 {lv['share_correct']:.1%}")
    typer.echo(f"模型已保存到 {folder.relative_to(engine.root)},该县的识别从下一次请求起使用它。")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

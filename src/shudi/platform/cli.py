"""`shudi call …`: the platform from the command line, over the same store as the service.
Who acts is the platform token (--token or SHUDI_PLATFORM_TOKEN), as on the HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..clihelp import PlainGroup, emit
from .deadlines import CHINA

call_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=PlainGroup, help="乡呼县应 response platform: file, task, report, list, show, act, assess, sweep.")
TokenOpt = typer.Option(None, "--token", envvar="SHUDI_PLATFORM_TOKEN", help="platform token (role + unit)")
JsonOpt = typer.Option(False, "--json", help="machine-readable output")


def _pf():  # noqa: ANN202 - Platform (imported lazily: loading the KB takes a second)
    from ..engine import Engine
    from ..kb import DEFAULT_COUNTY
    from .service import Platform

    return Platform(Engine(default_county=DEFAULT_COUNTY))


def _run(fn):  # noqa: ANN001, ANN202
    from .errors import PlatformError

    try:
        return fn()
    except PlatformError as exc:
        typer.echo(f"✗ {exc.zh}\n  ({exc.code}: {exc.en})", err=True)
        for d in exc.details if isinstance(exc.details, list) else []:
            if isinstance(d, dict) and d.get("principle"):
                typer.echo(f"  · {d['principle']}{d.get('why', '') if 'why' in d and '=' not in d['why'] else ''}", err=True)
        raise typer.Exit(2 if exc.status < 500 else 1) from exc


def _t(dt) -> str:  # noqa: ANN001
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _emit(model) -> None:  # noqa: ANN001
    emit(model.model_dump(mode="json"))


def _show_text(d, pf=None) -> None:  # noqa: ANN001
    typer.echo(f"第{d.id}号 {d.flow_label}  {d.state_label}{'  【超期】' if d.overdue else ''}{'  【可能乱呼叫】' if d.flagged else ''}"
               f"{'  【示例】' if d.example else ''}")
    typer.echo(f"  事项:{d.item_name or '未识别'}  乡镇:{d.township_name}  责任单位:{d.department_name or '待研判'}"
               f"{'(' + d.agency_name + ')' if d.agency_name else ''}")
    typer.echo(f"  内容:{d.text}")
    if getattr(d, "deadlines", None):
        typer.echo("  时限:")
        zh = {"open": "进行中", "met": "按时", "late": "超时完成", "overdue": "已超期"}
        for s in d.deadlines:
            typer.echo(f"    {s.what}:应于 {_t(s.due_at)} 前,{zh[s.status]}{'(完成于 ' + _t(s.done_at) + ')' if s.done_at else ''}")
    if getattr(d, "events", None):
        typer.echo("  经过:")
        for e in d.events:
            typer.echo(f"    {_t(e.at)} {e.actor} {e.action_label}{':' + e.reason if e.reason else ''}")
    if d.allowed_actions:  # the label a person reads, the action word `shudi call act` takes
        labels = {t.action: t.label for t in pf.rules.flows[d.flow].transitions} if pf else {}
        typer.echo(f"  可进行:{'、'.join(f'{labels.get(a, a)}({a})' for a in d.allowed_actions)}")


@call_app.command("file")
def file_cmd(text: Optional[str] = typer.Option(None, "--text"), item: Optional[str] = typer.Option(None, "--item"),
             township: Optional[str] = typer.Option(None, "--township"), county: Optional[str] = typer.Option(None, "--county"),
             urgent: bool = typer.Option(False, "--urgent"), studied: bool = typer.Option(False, "--studied", help="已研究论证,确定无法独立解决"),
             no_agency: bool = typer.Option(False, "--no-agency", help="协调派驻机构也无法解决"),
             complexity: Optional[str] = typer.Option(None, "--complexity", help="simple / complex"),
             reason: Optional[str] = typer.Option(None, "--reason", help="预检结论为不应呼叫时必填"),
             token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """A township files a call (the pre-check runs first)."""
    from ..contract import CallFacts
    from .models import CallIn
    from .views import detail

    pf = _pf()

    def go():  # noqa: ANN202
        p = pf.principal(token)
        body = CallIn(county=county, township=township, text=text, item_id=item, urgency="urgent" if urgent else "normal",
                      complexity=complexity, reason=reason, facts=CallFacts(studied_cannot_solve=True if studied else None,
                                                                      dispatched_agency_can_solve=False if no_agency else None))
        return detail(pf, p, pf.file_call(p, body))
    d = _run(go)
    _emit(d) if as_json else _show_text(d, pf)


@call_app.command("task")
def task_cmd(township: str = typer.Option(..., "--township", help="乡镇(街道)名称或编号"),
             task: Optional[str] = typer.Option(None, "--task", help="交办的事情"),
             item: Optional[str] = typer.Option(None, "--item", help="清单事项编号"),
             county: Optional[str] = typer.Option(None, "--county"), token: Optional[str] = TokenOpt,
             as_json: bool = JsonOpt) -> None:
    """双向派单: a department hands a township a matter that is the township's duty on the list."""
    from .models import TaskIn
    from .views import detail

    pf = _pf()

    def go():  # noqa: ANN202
        p = pf.principal(token)
        return detail(pf, p, pf.file_task(p, TaskIn(county=county, township=township, task=task, item_id=item)))
    d = _run(go)
    _emit(d) if as_json else _show_text(d, pf)


@call_app.command("report")
def report_cmd(found_at: str = typer.Option(..., "--found-at", help="发现时间, e.g. 2026-02-13T09:00"),
               text: Optional[str] = typer.Option(None, "--text", help="发现的情况"),
               item: Optional[str] = typer.Option(None, "--item", help="清单事项编号"),
               township: Optional[str] = typer.Option(None, "--township"), county: Optional[str] = typer.Option(None, "--county"),
               token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """双向派单: a street reports a list matter it found that a county department owns."""
    from datetime import datetime

    from .models import ReportIn
    from .views import detail

    pf = _pf()
    try:
        found = datetime.fromisoformat(found_at)
    except ValueError as exc:
        typer.echo(f"✗ 发现时间格式不对:{found_at}(例如 2026-02-13T09:00)", err=True)
        raise typer.Exit(2) from exc

    def go():  # noqa: ANN202
        p = pf.principal(token)
        body = ReportIn(county=county, township=township, text=text, item_id=item, found_at=found)
        return detail(pf, p, pf.file_report(p, body))
    d = _run(go)
    _emit(d) if as_json else _show_text(d, pf)


@call_app.command("list")
def list_cmd(county: Optional[str] = typer.Option(None, "--county"), state: Optional[str] = typer.Option(None, "--state"),
             township: Optional[str] = typer.Option(None, "--township"), department: Optional[str] = typer.Option(None, "--department"),
             overdue: Optional[bool] = typer.Option(None, "--overdue/--not-overdue"), limit: int = typer.Option(50, "--limit"),
             supervision: bool = typer.Option(False, "--supervision", help="督办:超期、被退回、可能乱呼叫的事项"),
             token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """Calls visible to the token, newest first."""
    from .views import list_calls

    pf = _pf()
    out = _run(lambda: list_calls(pf, pf.principal(token), county=county, state=state, township=township,
                                  department=department, overdue=overdue, supervision=supervision, limit=limit))
    if as_json:
        _emit(out)
        return
    typer.echo(f"共 {out.total} 件")
    for c in out.calls:
        typer.echo(f"  第{c.id}号 {_t(c.created_at)} {c.township_name} → {c.department_name or '待研判'}  {c.item_name or '未识别'}  "
                   f"[{c.state_label}]{' 超期' if c.overdue else ''}{' 可能乱呼叫' if c.flagged else ''}")


@call_app.command("show")
def show_cmd(call_id: int, token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """One call with its events and deadlines."""
    from .views import detail

    pf = _pf()
    d = _run(lambda: detail(pf, pf.principal(token), call_id))
    _emit(d) if as_json else _show_text(d, pf)


@call_app.command("act")
def act_cmd(call_id: int, action: str, reason: Optional[str] = typer.Option(None, "--reason"),
            department: Optional[str] = typer.Option(None, "--department"), agency: Optional[str] = typer.Option(None, "--agency"),
            complexity: Optional[str] = typer.Option(None, "--complexity"), result: Optional[str] = typer.Option(None, "--result"),
            speed: Optional[str] = typer.Option(None, "--speed", help="及时 / 响应慢 / 不响应"),
            effect: Optional[str] = typer.Option(None, "--effect", help="好 / 较好 / 一般 / 差"),
            cooperation: Optional[str] = typer.Option(None, "--cooperation"),
            expected_version: Optional[int] = typer.Option(None, "--expected-version"),
            token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """Take an action: accept, assess, dispatch, sign, return, feedback, rate, reopen, close, rate_township, handover."""
    from pydantic import ValidationError

    from .models import EventIn
    from .views import detail

    pf = _pf()
    try:
        body = EventIn(action=action, reason=reason, department=department, agency=agency, complexity=complexity,  # type: ignore[arg-type]
                       result=result, speed=speed, effect=effect, cooperation=cooperation, expected_version=expected_version)  # type: ignore[arg-type]
    except ValidationError as exc:
        typer.echo(f"✗ 参数不符合要求:{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from exc

    def go():  # noqa: ANN202
        p = pf.principal(token)
        pf.act(p, call_id, body)
        return detail(pf, p, call_id)
    d = _run(go)
    _emit(d) if as_json else _show_text(d, pf)


@call_app.command("sweep")
def sweep_cmd(county: Optional[str] = typer.Option(None, "--county"), as_json: bool = JsonOpt) -> None:
    """Raise 督办 on every overdue step now (what the service does every minute)."""
    pf = _pf()
    raised = pf.sweep(county=county)
    if as_json:
        emit(raised)
    else:
        typer.echo(f"新督办 {len(raised)} 件")
        for r in raised:
            typer.echo(f"  第{r['call_id']}号 {r['label']}:{r['what']}")


@call_app.command("assess")
def assess_cmd(period: str = typer.Option(..., "--period", help="2026 / 2026-Q1 / 2026-02"),
               county: Optional[str] = typer.Option(None, "--county"),
               out: Optional[Path] = typer.Option(None, "--out", help=".csv / .xlsx / .html file to write"),
               token: Optional[str] = TokenOpt, as_json: bool = JsonOpt) -> None:
    """A period's 考评 per department and stationed agency; --out writes CSV, Excel or printable HTML."""
    from . import assessment as asm

    pf = _pf()

    def go():  # noqa: ANN202
        p = pf.principal(token)
        if p.role not in ("supervisor", "dispatcher"):
            from .errors import PlatformError
            raise PlatformError(403, "role_not_allowed", "考评只对督查、平台开放。", "needs supervisor or dispatcher")
        return asm.assess(pf, pf.county_id(p, county), period)
    a = _run(go)
    if out:
        suffix = out.suffix.lower()
        if suffix == ".csv":
            out.write_text(asm.to_csv(a), encoding="utf-8")
        elif suffix == ".xlsx":
            out.write_bytes(asm.to_xlsx(a))
        elif suffix in (".html", ".htm"):
            out.write_text(asm.to_html(a, pf.engine.county(a.county).loaded.county.name), encoding="utf-8")
        else:
            typer.echo("✗ --out 只支持 .csv / .xlsx / .html", err=True)
            raise typer.Exit(2)
    if as_json:
        _emit(a)
        return
    typer.echo(f"{pf.engine.county(a.county).loaded.county.name} 考评 {a.period}(依据:{a.source})")
    for row in asm.table(a):
        typer.echo("  " + " | ".join(str(x) for x in row))
    if out:
        typer.echo(f"已写入 {out}")

"""HTTP routes of the platform (one APIRouter), the pages, and the example-session helper.
Hooked into the service by `install(app)` (see shudi.api)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel

from . import assessment as asm
from . import views
from .auth import Principal, example_token
from .errors import PlatformError
from .models import CallDetail, CallIn, CallList, Dashboard, EventIn, ReportIn, SweepOut, TaskIn
from .service import Platform, kb_errors

log = logging.getLogger("shudi.platform")
router = APIRouter(prefix="/v1", tags=["platform"])
pages = APIRouter(include_in_schema=False)
WEB = Path(__file__).resolve().parents[1] / "web"
Q64 = Annotated[str | None, Query(max_length=64)]
_lock = threading.Lock()


def platform_of(app: FastAPI) -> Platform:
    pf = getattr(app.state, "platform", None)
    if pf is not None:
        return pf
    engine = getattr(app.state, "engine", None)
    if engine is None:
        raise PlatformError(503, "not_ready", "知识库尚未加载完成,请稍后再试。", "The knowledge base is still loading.")
    with _lock:
        if getattr(app.state, "platform", None) is None:
            pf = Platform(engine, settings=app.state.settings)
            from .seed import seed_examples

            try:
                seeded = seed_examples(pf, engine.default_county)
                if seeded:
                    log.info("seeded %d 示例 calls for example county %s", seeded, engine.default_county)
            except PlatformError as exc:  # an example seed must never keep the service down
                log.warning("example seed skipped: %s", exc.en)
            _start_sweeper(pf)
            app.state.platform = pf
    return app.state.platform


def _start_sweeper(pf: Platform) -> None:
    """督办 in the background: every settings.sweep_seconds (SHUDI_SWEEP_SECONDS; default 60; 0 = off)."""
    every = pf.settings.sweep_seconds
    if every <= 0:
        return

    def loop() -> None:
        while True:
            time.sleep(every)
            try:
                pf.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
                log.exception("督办 sweep failed")

    threading.Thread(target=loop, daemon=True, name="platform-sweep").start()


def who(request: Request) -> Principal:
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else request.headers.get("x-api-token")
    return platform_of(request.app).principal(token)


def _roles(p: Principal, *roles: str) -> None:
    if p.role not in roles:
        raise PlatformError(403, "role_not_allowed", "当前角色无此权限。", f"needs role {' or '.join(roles)}")


@router.post("/calls", status_code=201, response_model=CallDetail)
def file_call(request: Request, body: CallIn) -> CallDetail:
    p, pf = who(request), platform_of(request.app)
    return views.detail(pf, p, pf.file_call(p, body))


@router.get("/calls", response_model=CallList)
def list_calls(request: Request, county: Q64 = None, township: Q64 = None,
               department: Annotated[str | None, Query(max_length=128)] = None, state: Q64 = None,
               flow: Annotated[Literal["call", "down", "up"] | None, Query()] = None, overdue: bool | None = None,
               flagged: bool | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0) -> CallList:
    p, pf = who(request), platform_of(request.app)
    return views.list_calls(pf, p, county=county, township=township, department=department, state=state, flow=flow,
                            overdue=overdue, flagged=flagged, limit=limit, offset=offset)


@router.get("/calls/{call_id}", response_model=CallDetail)
def get_call(request: Request, call_id: int) -> CallDetail:
    p, pf = who(request), platform_of(request.app)
    return views.detail(pf, p, call_id)


@router.post("/calls/{call_id}/events", response_model=CallDetail)
def add_event(request: Request, call_id: int, body: EventIn) -> CallDetail:
    p, pf = who(request), platform_of(request.app)
    pf.act(p, call_id, body)
    return views.detail(pf, p, call_id)


@router.post("/tasks", status_code=201, response_model=CallDetail, summary="双向派单:部门向乡镇(街道)派单")
def file_task(request: Request, body: TaskIn) -> CallDetail:
    p, pf = who(request), platform_of(request.app)
    return views.detail(pf, p, pf.file_task(p, body))


@router.post("/reports", status_code=201, response_model=CallDetail, summary="双向派单:街道发现事项报告县级")
def file_report(request: Request, body: ReportIn) -> CallDetail:
    p, pf = who(request), platform_of(request.app)
    return views.detail(pf, p, pf.file_report(p, body))


@router.get("/supervision", response_model=CallList, summary="督办:超期、被退回、可能乱呼叫的事项")
def supervision(request: Request, county: Q64 = None, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> CallList:
    p, pf = who(request), platform_of(request.app)
    _roles(p, "supervisor", "dispatcher")
    return views.list_calls(pf, p, county=county, supervision=True, limit=limit)


@router.post("/supervision/sweep", response_model=SweepOut, summary="立即检查超期并督办")
def sweep(request: Request, county: Q64 = None) -> SweepOut:
    p, pf = who(request), platform_of(request.app)
    _roles(p, "supervisor", "dispatcher")
    return SweepOut(raised=pf.sweep(county=pf.county_id(p, county)))


@router.get("/dashboard", response_model=Dashboard)
def dashboard(request: Request, county: Q64 = None) -> Dashboard:
    p, pf = who(request), platform_of(request.app)
    return views.dashboard(pf, p, county or p.county or pf.engine.default_county)


@router.get("/assessments", response_model=asm.Assessment,
            responses={200: {"content": {"text/csv": {}, "text/html": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def assessments(request: Request, period: Annotated[str, Query(max_length=10, description="2026 / 2026-Q1 / 2026-02")],
                county: Q64 = None, format: Literal["json", "csv", "xlsx", "html"] = "json") -> Response:  # noqa: A002
    p, pf = who(request), platform_of(request.app)
    _roles(p, "supervisor", "dispatcher")
    cid = pf.county_id(p, county)
    a = asm.assess(pf, cid, period)
    name = f"assessment-{cid}-{period}"
    if format == "csv":
        return Response(asm.to_csv(a), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "xlsx":
        return Response(asm.to_xlsx(a), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    if format == "html":
        return HTMLResponse(asm.to_html(a, pf.engine.county(cid).loaded.county.name))
    return Response(a.model_dump_json(), media_type="application/json")


class Unit(BaseModel):
    id: str
    name: str


class ExampleLogin(BaseModel):
    label: str
    role: str
    unit: str | None
    token: str


class Session(BaseModel):
    county: str
    county_name: str
    example: bool
    townships: list[Unit]
    departments: list[Unit]
    states: dict[str, dict[str, str]]
    actions: dict[str, dict[str, str]]
    example_logins: list[ExampleLogin]


@router.get("/platform/session", response_model=Session, summary="页面所需:乡镇、部门、状态名;示例县的示例登录")
async def session(request: Request, county: Q64 = None) -> Session:
    pf = await run_in_threadpool(platform_of, request.app)
    with kb_errors():
        ctx = pf.engine.county(county)
    cf, kb = ctx.loaded.county, ctx.kb
    towns = [Unit(id=t.id, name=t.name) for t in cf.townships]
    depts = [Unit(id=d.id, name=d.name) for d in kb.departments.values() if d.level == "county"]
    logins: list[ExampleLogin] = []
    if cf.example and not pf.tokens:  # 示例 logins only for an example county with no real tokens
        logins += [ExampleLogin(label=f"{t.name}", role="township", unit=t.id, token=example_token("township", t.id, cf.id)) for t in towns]
        logins += [ExampleLogin(label="响应平台(调度)", role="dispatcher", unit=None, token=example_token("dispatcher", None, cf.id)),
                   ExampleLogin(label="督查室", role="supervisor", unit=None, token=example_token("supervisor", None, cf.id))]
        logins += [ExampleLogin(label=d.name, role="department", unit=d.id, token=example_token("department", d.id, cf.id)) for d in depts]
    states = {f: {s: v.label for s, v in flow.states.items()} for f, flow in pf.rules.flows.items()}
    actions = {f: {t.action: t.label for t in flow.transitions} for f, flow in pf.rules.flows.items()}
    return Session(county=cf.id, county_name=cf.name, example=cf.example, townships=towns, departments=depts,
                   states=states, actions=actions, example_logins=logins)


@pages.get("/platform")
def platform_page() -> FileResponse:
    return FileResponse(WEB / "platform.html", media_type="text/html; charset=utf-8")


def install(app: FastAPI) -> None:
    """Everything the service needs for the platform: its routes and its pages."""
    app.include_router(router)
    app.include_router(pages)

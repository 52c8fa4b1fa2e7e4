"""The HTTP service (FastAPI).  One Engine per app, in app.state; every error is a specific 4xx
with a Chinese and an English message — never a traceback."""

import logging
import re
import threading
import os
from contextlib import asynccontextmanager
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import catalog
from .contract import ClassifyRequest, ClassifyResult, PrecheckRequest, PrecheckResult
from .delegation import DelegationRequest, DelegationResult, check_delegation
from .diff import RevisionError, diff_versions
from .engine import Engine, NotFound
from .proposals import ListChanges, PermissionDenied, Principal, ProposalIn, ProposalInvalid, ProposalOut, authorize
from .store import Store
from .kb import KBLoadError, UnknownCounty
from .precheck import precheck
from .sparql import SparqlError, SparqlService

log = logging.getLogger("shudi.api")
County = Annotated[str | None, Query(max_length=64, description="county id; default: the template county")]
CountyPath = Annotated[str, Path(max_length=64)]
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~^/-]{0,99}$")  # a git revision, never an option
WEB_DIR = FsPath(__file__).parent / "web"


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, details: Any = None) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.details = status, code, zh, en, details


def _error(status: int, code: str, zh: str, en: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message_zh": zh, "message_en": en}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(status_code=status, content=body)


def _ready(app: FastAPI) -> Engine:
    engine = getattr(app.state, "engine", None)
    if engine is None:
        raise ApiError(503, "not_ready", "知识库尚未加载完成,请稍后再试。", "The knowledge base is still loading; retry shortly.")
    return engine


def create_app(root: FsPath | None = None, county: str | None = None, engine: Engine | None = None) -> FastAPI:
    default_county = county or os.environ.get("SHUDI_COUNTY", "template")

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if getattr(app.state, "engine", None) is None:
            app.state.engine = await run_in_threadpool(Engine, root, default_county)
            app.state.sparql = SparqlService.from_env()
        # read the RDF graph in the background: only SPARQL and the stats need it
        threading.Thread(target=lambda: app.state.engine.county().loaded.graph, daemon=True).start()
        yield
        app.state.sparql.close()

    app = FastAPI(
        title="shudi 属地管理 API",
        version="0.1.0",
        description="谁来管:属地管理事项识别、主体/配合责任确定、乡呼县应呼叫预检,以及法律依据查询。",
        lifespan=lifespan,
    )
    if engine is not None:
        app.state.engine = engine
        app.state.sparql = SparqlService.from_env()

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.zh, exc.en, exc.details)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        # messages are written "english / 中文[; known: ...]": give each language its half
        en, _, zh = str(exc).partition(" / ")
        zh, _, known = (zh or en).partition("; known:")
        if known:
            en, zh = f"{en}; known:{known}", f"{zh};可选:{known}"
        return _error(404, "not_found", zh, en)

    @app.exception_handler(UnknownCounty)
    async def _unknown_county(_: Request, exc: UnknownCounty) -> JSONResponse:
        return _error(404, "unknown_county", f"未知的县(区):{exc}", str(exc))

    @app.exception_handler(KBLoadError)
    async def _kb_error(_: Request, exc: KBLoadError) -> JSONResponse:
        return _error(503, "kb_invalid", "该县清单无法加载,请联系清单维护人员。", "This county's list cannot be loaded.", str(exc).splitlines()[:20])

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        if any(d["type"] == "json_invalid" for d in details):
            return _error(400, "invalid_json", "请求体不是有效的 JSON(或不是 UTF-8 编码)。", "The request body is not valid JSON (or not UTF-8).", details)
        return _error(422, "invalid_request", "请求参数不符合要求:" + ";".join(d["msg"] for d in details),
                      "Invalid request: " + "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh = {
            400: ("invalid_body", "请求体无法解析:请发送 UTF-8 编码的有效 JSON。"),
            404: ("not_found", "资源不存在。"),
            405: ("method_not_allowed", "不支持该请求方法。"),
        }.get(exc.status_code, ("http_error", "请求无法处理。"))
        return _error(exc.status_code, code, zh, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - last resort
        log.exception("unexpected error")
        return _error(500, "internal", "服务内部错误,已记录。", "Internal error; it has been logged.")

    # -- health ---------------------------------------------------------------------------
    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], responses={503: {"description": "still loading"}})
    def readyz(request: Request) -> dict[str, Any]:
        engine = _ready(request.app)
        ctx = engine.county()
        from .stats import kb_stats

        stats = getattr(request.app.state, "stats", None)
        if stats is None:
            stats = request.app.state.stats = kb_stats(ctx.loaded.graph)
        return {"status": "ready", "county": ctx.kb.county, "kb": stats}

    # -- engine ---------------------------------------------------------------------------
    @app.post("/v1/classify", response_model=ClassifyResult, tags=["engine"])
    async def classify(request: Request, body: ClassifyRequest) -> Response:
        # The hot path of the hotline.  Classification is a few milliseconds of pure CPU under the
        # GIL, so a threadpool hop buys no parallelism and costs latency; the result is already a
        # validated model, so it is serialised once here instead of being re-validated by FastAPI.
        engine = _ready(request.app)
        if not engine.is_loaded(body.county):
            await run_in_threadpool(engine.county, body.county)  # seconds of loading: off the event loop
        result = engine.classify(body.text, body.top_k, body.county)
        return Response(result.model_dump_json(), media_type="application/json")

    @app.post("/v1/calls/precheck", response_model=PrecheckResult, tags=["engine"])
    def calls_precheck(request: Request, body: PrecheckRequest) -> PrecheckResult:
        if not body.text and not body.item_id:
            raise ApiError(422, "invalid_request", "请提供事件描述 text 或事项编号 item_id。", "Give either text or item_id.")
        return precheck(_ready(request.app), body)

    @app.post("/v1/delegations/check", response_model=DelegationResult, tags=["engine"])
    def delegations_check(request: Request, body: DelegationRequest) -> DelegationResult:
        if not body.task and not body.item_id:
            raise ApiError(422, "invalid_request", "请提供交办事项描述 task 或事项编号 item_id。", "Give either task or item_id.")
        return check_delegation(_ready(request.app), body)

    # -- the list -------------------------------------------------------------------------
    @app.get("/v1/domains", tags=["list"])
    def domains(request: Request, county: County = None) -> list[dict[str, Any]]:
        return catalog.domains(_ready(request.app).county(county).kb)

    @app.get("/v1/departments", tags=["list"])
    def departments(request: Request, county: County = None) -> list[dict[str, Any]]:
        return catalog.departments(_ready(request.app).county(county).kb)

    @app.get("/v1/departments/{dept_id}/items", tags=["list"])
    def department_items(request: Request, dept_id: str, county: County = None) -> dict[str, Any]:
        return catalog.department_items(_ready(request.app).county(county).kb, dept_id)

    @app.get("/v1/items", tags=["list"])
    def items(
        request: Request,
        county: County = None,
        domain: Annotated[str | None, Query(max_length=64)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
    ) -> list[dict[str, Any]]:
        return catalog.items(_ready(request.app).county(county).kb, domain, q)

    @app.get("/v1/items/{item_id}", tags=["list"])
    def item(request: Request, item_id: str, county: County = None) -> dict[str, Any]:
        ctx = _ready(request.app).county(county)
        return catalog.item_detail(ctx.kb, ctx.loaded.county, item_id)

    # -- legal review ---------------------------------------------------------------------
    @app.get("/v1/laws", tags=["legal"])
    def laws(request: Request, county: County = None) -> list[dict[str, Any]]:
        return catalog.laws(_ready(request.app).county(county).kb)

    @app.get("/v1/laws/{law_id}", tags=["legal"])
    def law(request: Request, law_id: str, county: County = None) -> dict[str, Any]:
        return catalog.law_detail(_ready(request.app).county(county).kb, law_id)

    @app.get("/v1/laws/{law_id}/articles/{number}", tags=["legal"])
    def article(
        request: Request,
        law_id: str,
        number: str,
        county: County = None,
        version: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD; default current")] = None,
    ) -> dict[str, Any]:
        return catalog.article_detail(_ready(request.app).county(county).kb, law_id, number, version)

    @app.get("/v1/citations/check", tags=["legal"])
    def citations_check(request: Request, county: County = None) -> dict[str, Any]:
        return catalog.citations_check(_ready(request.app).county(county).kb)

    # -- list management (清单动态管理) ------------------------------------------------------
    def _changes(app_: FastAPI) -> ListChanges:
        changes = getattr(app_.state, "changes", None)
        if changes is None:
            changes = app_.state.changes = ListChanges(_ready(app_), Store.for_root(_ready(app_).root))
        return changes

    def _principal(request: Request, allowed: tuple[str, ...]) -> Principal:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else request.headers.get("x-api-token")
        try:
            return authorize(token, allowed)
        except PermissionDenied as exc:
            status = 401 if "token" in str(exc) else 403
            raise ApiError(status, "forbidden", str(exc).split(" / ")[-1], str(exc).split(" / ")[0]) from exc

    def _proposal_call(fn, *args):  # noqa: ANN001, ANN202
        try:
            return fn(*args)
        except ProposalInvalid as exc:
            raise ApiError(422, "proposal_invalid", "变更后清单校验不通过:" + ";".join(exc.problems[:3]),
                           "The list would not validate after this change.", exc.problems[:50]) from exc

    @app.post("/v1/lists/{county}/proposals", status_code=201, response_model=ProposalOut, tags=["list management"])
    def propose(request: Request, county: CountyPath, body: ProposalIn) -> ProposalOut:
        who = _principal(request, ("proposer", "reviewer"))
        return _proposal_call(_changes(request.app).propose, county, body, who)

    @app.get("/v1/lists/{county}/proposals", response_model=list[ProposalOut], tags=["list management"])
    def proposals(request: Request, county: CountyPath,
                  status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None) -> list[ProposalOut]:
        _ready(request.app).county(county)
        return _changes(request.app).list(county, status)

    @app.post("/v1/lists/{county}/proposals/{pid}/approve", response_model=ProposalOut, tags=["list management"])
    def approve(request: Request, county: CountyPath, pid: int, note: Annotated[str | None, Query(max_length=500)] = None) -> ProposalOut:
        who = _principal(request, ("reviewer",))
        return _proposal_call(_changes(request.app).decide, county, pid, who, True, note)

    @app.post("/v1/lists/{county}/proposals/{pid}/reject", response_model=ProposalOut, tags=["list management"])
    def reject(request: Request, county: CountyPath, pid: int, note: Annotated[str | None, Query(max_length=500)] = None) -> ProposalOut:
        who = _principal(request, ("reviewer",))
        return _proposal_call(_changes(request.app).decide, county, pid, who, False, note)

    @app.get("/v1/lists/{county}/versions", tags=["list management"])
    def versions(request: Request, county: CountyPath) -> list[dict[str, Any]]:
        _ready(request.app).county(county)
        return _changes(request.app).versions(county)

    @app.get("/v1/lists/{county}/diff", tags=["list management"])
    def list_diff(request: Request, county: CountyPath,
                  from_: Annotated[str, Query(alias="from", max_length=100, description="git revision, e.g. HEAD~1")],
                  to: Annotated[str, Query(max_length=100, description="git revision, or WORKTREE for the files as they are")] = "WORKTREE") -> dict[str, Any]:
        engine = _ready(request.app)
        engine.county(county)

        def spec(v: str) -> str:
            if v == "WORKTREE":
                return str(engine.root)
            if not _REVISION.match(v):
                raise ApiError(422, "invalid_revision", "版本标识无效。", f"invalid revision {v!r}")
            return v
        try:
            d = diff_versions(engine.root, county, spec(from_), spec(to))
        except (RevisionError, KBLoadError) as exc:
            raise ApiError(422, "invalid_revision", f"无法读取该版本的清单:{exc}", str(exc)) from exc
        return {**d.model_dump(), "text": d.to_text()}

    @app.get("/v1/lists/{county}/handbook", tags=["list management"], response_class=Response,
             responses={200: {"content": {"text/html": {}}}})
    def handbook(request: Request, county: CountyPath) -> Response:
        from .handbook import render

        return Response(render(_ready(request.app).county(county).loaded), media_type="text/html; charset=utf-8")

    @app.get("/v1/audit", tags=["list management"])
    def audit(request: Request, county: County = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        return _changes(request.app).store.audit_log(county, limit)

    # -- SPARQL ---------------------------------------------------------------------------
    def _sparql(request: Request, query: str | None, county: str | None) -> Response:
        if not query or not query.strip():
            raise ApiError(400, "sparql_missing", "缺少 SPARQL 查询(query 参数)。", "Missing SPARQL query (query parameter).")
        engine = _ready(request.app)
        ctx = engine.county(county)
        try:
            answer = request.app.state.sparql.run(ctx.loaded, query, request.headers.get("accept", ""))
        except SparqlError as exc:
            raise ApiError(exc.status, exc.code, exc.zh, exc.en) from exc
        # a capped result says so: a reviewer must not mistake the first rows for all of them
        headers = {"X-Result-Truncated": "true"} if answer.truncated else {}
        return Response(content=answer.body, media_type=answer.media_type, headers=headers)

    @app.get("/sparql", tags=["legal"], response_class=Response)
    def sparql_get(request: Request, query: Annotated[str | None, Query(max_length=20000)] = None, county: County = None) -> Response:
        return _sparql(request, query, county)

    @app.post("/sparql", tags=["legal"], response_class=Response)
    async def sparql_post(request: Request, county: County = None) -> Response:
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "invalid_utf8", "请求体不是 UTF-8 编码。", "The request body is not UTF-8.") from exc
        ctype = request.headers.get("content-type", "").split(";")[0].strip()
        if ctype == "application/sparql-update" or (ctype == "application/x-www-form-urlencoded" and "update" in parse_form_keys(text)):
            raise ApiError(403, "sparql_read_only", "本端点只读,不接受 SPARQL UPDATE。", "This endpoint is read-only; SPARQL UPDATE is refused.")
        if ctype == "application/sparql-query":
            query = text
        elif ctype == "application/x-www-form-urlencoded":
            query = (parse_qs(text).get("query") or [None])[0]
        else:
            raise ApiError(415, "unsupported_media_type", "请使用 application/sparql-query 或表单提交查询。",
                           "Use application/sparql-query or application/x-www-form-urlencoded.")
        return await run_in_threadpool(_sparql, request, query, county)

    # -- response platform (乡呼县应): routes, pages, its error type ---------------------------
    from .platform.routes import install as install_platform

    install_platform(app)

    # -- operator page --------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")

    return app


def parse_form_keys(text: str) -> set[str]:
    try:
        return set(parse_qs(text))
    except ValueError:
        return set()



def app_factory() -> FastAPI:
    """uvicorn entry (`shudi serve`): the county comes from SHUDI_COUNTY."""
    return create_app()

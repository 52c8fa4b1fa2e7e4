"""Legal review: statute versions, article texts and who cites them, superseded citations, SPARQL."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from .. import catalog
from ..engine import CountyContext
from ..errors import ShudiError
from ..sparql import SparqlService
from ..views import ArticleDetail, CitationsCheck, LawDetail, LawSummary
from .deps import CountyDep, SparqlDep

router = APIRouter(tags=["legal"])


@router.get("/v1/laws", response_model=list[LawSummary])
def laws(ctx: CountyDep) -> list[LawSummary]:
    """清单引用的法律法规及其各个版本。"""
    return catalog.laws(ctx.kb)


@router.get("/v1/laws/{law_id}", response_model=LawDetail)
def law(law_id: str, ctx: CountyDep) -> LawDetail:
    """一部法律法规:各版本,以及清单引用了它的哪些条;law_id 可用编号、中文全称或简称。"""
    return catalog.law_detail(ctx.kb, law_id)


@router.get("/v1/laws/{law_id}/articles/{number}", response_model=ArticleDetail)
def article(
    law_id: str,
    number: str,
    ctx: CountyDep,
    version: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD; default current")] = None,
) -> ArticleDetail:
    """某一条的原文(取自收录的官方文本),默认现行版本;version 指定日期时给出当日有效的版本。"""
    return catalog.article_detail(ctx.kb, law_id, number, version)


@router.get("/v1/citations/check", response_model=CitationsCheck)
def citations_check(ctx: CountyDep) -> CitationsCheck:
    """法律依据核查:引用了已被新版本取代的条文、收录了却没有事项引用的法律、只以总则或附则为依据的事项。"""
    return catalog.citations_check(ctx.kb)


def _run(service: SparqlService, ctx: CountyContext, query: str | None, request: Request) -> Response:
    if not query or not query.strip():
        raise ShudiError(400, "sparql_missing", "缺少 SPARQL 查询(query 参数)。", "Missing SPARQL query (query parameter).")
    client = request.client.host if request.client else "unknown"  # the per-client concurrency limit
    answer = service.run(ctx.loaded, query, request.headers.get("accept", ""), client)
    # a capped result says so: a reviewer must not mistake the first rows for all of them
    headers = {"X-Result-Truncated": "true"} if answer.truncated else {}
    return Response(content=answer.body, media_type=answer.media_type, headers=headers)


@router.get("/sparql", response_class=Response)
def sparql_get(request: Request, ctx: CountyDep, service: SparqlDep,
               query: Annotated[str | None, Query(max_length=20000)] = None) -> Response:
    return _run(service, ctx, query, request)


def _form_keys(text: str) -> set[str]:
    try:
        return set(parse_qs(text))
    except ValueError:
        return set()


@router.post("/sparql", response_class=Response)
async def sparql_post(request: Request, ctx: CountyDep, service: SparqlDep) -> Response:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ShudiError(400, "invalid_utf8", "请求体不是 UTF-8 编码。", "The request body is not UTF-8.") from exc
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    if ctype == "application/sparql-update" or (ctype == "application/x-www-form-urlencoded" and "update" in _form_keys(text)):
        raise ShudiError(403, "sparql_read_only", "本端点只读,不接受 SPARQL UPDATE。", "This endpoint is read-only; SPARQL UPDATE is refused.")
    if ctype == "application/sparql-query":
        query = text
    elif ctype == "application/x-www-form-urlencoded":
        query = (parse_qs(text).get("query") or [None])[0]
    else:
        raise ShudiError(415, "unsupported_media_type", "请使用 application/sparql-query 或表单提交查询。",
                         "Use application/sparql-query or application/x-www-form-urlencoded.")
    return await run_in_threadpool(_run, service, ctx, query, request)

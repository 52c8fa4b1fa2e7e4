"""Typed dependencies of the routes: the loaded engine, the county a request names, the caller's
role, the list-change service and the SPARQL service — each taken from app.state, where the app
factory put the one instance of each."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from ..engine import CountyContext, Engine
from ..errors import ShudiError
from ..proposals import ListChanges, Principal, authorize
from ..sparql import SparqlService

COUNTY_QUERY = Query(max_length=64, description="county id; default: the template county")
CountyPath = Annotated[str, Path(max_length=64)]


def engine(request: Request) -> Engine:
    loaded = getattr(request.app.state, "engine", None)
    if loaded is None:
        startup = getattr(request.app.state, "startup", None)
        raise ShudiError(503, "not_ready", "知识库尚未加载完成,请稍后再试。", "The knowledge base is still loading; retry shortly.",
                         startup.progress() if startup is not None else None)
    return loaded


EngineDep = Annotated[Engine, Depends(engine)]


def county(eng: EngineDep, county: Annotated[str | None, COUNTY_QUERY] = None) -> CountyContext:
    return eng.county(county)


CountyDep = Annotated[CountyContext, Depends(county)]


def changes(request: Request, eng: EngineDep) -> ListChanges:
    # built on first use: the store is opened only by the routes that need it
    service = getattr(request.app.state, "changes", None)
    if service is None:
        service = request.app.state.changes = ListChanges(eng)
    return service


ChangesDep = Annotated[ListChanges, Depends(changes)]


def sparql(request: Request) -> SparqlService:
    return request.app.state.sparql


SparqlDep = Annotated[SparqlService, Depends(sparql)]


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    return request.headers.get("x-api-token")


def role(*allowed: str):  # noqa: ANN201 - returns a FastAPI dependency
    """A dependency that admits only callers whose token has one of these roles."""

    def check(request: Request, service: ChangesDep) -> Principal:
        return authorize(service.tokens, _token(request), allowed)

    return check


Proposer = Annotated[Principal, Depends(role("proposer", "reviewer"))]
Reviewer = Annotated[Principal, Depends(role("reviewer"))]

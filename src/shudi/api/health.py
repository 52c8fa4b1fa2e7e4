"""Liveness and readiness: /healthz answers as soon as the process is up, /readyz once the list is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..stats import kb_stats
from ..views import Health, Ready
from .deps import EngineDep

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses={503: {"description": "still loading"}})
def readyz(request: Request, engine: EngineDep) -> Ready:
    ctx = engine.county()
    stats = getattr(request.app.state, "stats", None)
    if stats is None:
        stats = request.app.state.stats = kb_stats(ctx.loaded.graph)
    return Ready(status="ready", county=ctx.kb.county, county_name=ctx.loaded.county.name, kb=stats)

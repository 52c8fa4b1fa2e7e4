"""12345 hotline: caller text → the matter, its owner, the article, with evidence."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from ..contract import ClassifyRequest, ClassifyResult
from .deps import EngineDep

router = APIRouter(tags=["engine"])


@router.post("/v1/classify", response_model=ClassifyResult)
async def classify(body: ClassifyRequest, engine: EngineDep) -> Response:
    # The hot path of the hotline.  Classification is a few milliseconds of pure CPU under the
    # GIL, so a threadpool hop buys no parallelism and costs latency; the result is already a
    # validated model, so it is serialised once here instead of being re-validated by FastAPI.
    if not engine.is_loaded(body.county):
        await run_in_threadpool(engine.county, body.county)  # seconds of loading: off the event loop
    result = engine.classify(body.text, body.top_k, body.county)
    return Response(result.model_dump_json(), media_type="application/json")

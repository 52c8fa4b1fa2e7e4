"""The bare-framework comparison for bench/speed.py: a FastAPI POST endpoint that parses the same
request body and answers a fixed body of BARE_BYTES bytes (the size of shudi's answer)."""

from __future__ import annotations

import os

from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()
BODY = ('{"pad":"' + "x" * max(0, int(os.environ.get("BARE_BYTES", "2000")) - 10) + '"}').encode()


class Req(BaseModel):
    text: str
    top_k: int = 3


@app.post("/v1/classify")
async def classify(body: Req) -> Response:
    return Response(BODY, media_type="application/json")


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}

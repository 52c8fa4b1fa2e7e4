"""One rendering of every error: `{"error": {"code", "message_zh", "message_en", "details"?}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ShudiError
from ..kb import KBLoadError, UnknownCounty
from .hygiene import scrub

log = logging.getLogger("shudi.api")
MAX_LISTED_FIELDS = 20  # a body with thousands of bad keys must not get an answer thousands of lines long


def _render(exc: ShudiError, request: Request) -> JSONResponse:
    # no server path in any answer: a list's load error names its files relative to the KB root
    return JSONResponse(status_code=exc.status, content=scrub(exc.body(), request.app.state.settings.root))


def _validation(exc: RequestValidationError) -> ShudiError:
    errors = exc.errors()
    details = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors[:MAX_LISTED_FIELDS]
    ]
    if any(d["type"] == "json_invalid" for d in details):
        return ShudiError(400, "invalid_json", "请求体不是有效的 JSON(或不是 UTF-8 编码)。",
                          "The request body is not valid JSON (or not UTF-8).", details)
    more = len(errors) - len(details)
    tail_zh, tail_en = (f";另有{more}处", f"; and {more} more") if more > 0 else ("", "")
    return ShudiError(422, "invalid_request", "请求参数不符合要求:" + ";".join(d["msg"] for d in details) + tail_zh,
                      "Invalid request: " + "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details) + tail_en,
                      details)


_HTTP = {
    400: ("invalid_body", "请求体无法解析:请发送 UTF-8 编码的有效 JSON。"),
    404: ("not_found", "资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ShudiError)
    async def _shudi(request: Request, exc: ShudiError) -> JSONResponse:
        return _render(exc, request)

    @app.exception_handler(UnknownCounty)
    async def _unknown_county(request: Request, exc: UnknownCounty) -> JSONResponse:
        return _render(ShudiError(404, "unknown_county", f"未知的县(区):{exc}", str(exc)), request)

    @app.exception_handler(KBLoadError)
    async def _kb_error(request: Request, exc: KBLoadError) -> JSONResponse:
        return _render(ShudiError(503, "kb_invalid", "该县清单无法加载,请联系清单维护人员。",
                                  "This county's list cannot be loaded.", str(exc).splitlines()[:20]), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _render(_validation(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh = _HTTP.get(exc.status_code, ("http_error", "请求无法处理。"))
        return _render(ShudiError(exc.status_code, code, zh, str(exc.detail)), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - last resort
        log.exception("unexpected error")
        return _render(ShudiError(500, "internal", "服务内部错误,已记录。", "Internal error; it has been logged."), request)

"""The platform's one error type, rendered with the service's error body shape
({"error": {"code", "message_zh", "message_en", "details"?}})."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class PlatformError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, details: Any = None) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.details = status, code, zh, en, details


def bad(code: str, zh: str, en: str, details: Any = None) -> PlatformError:
    return PlatformError(422, code, zh, en, details)


def body(exc: PlatformError) -> dict[str, Any]:
    out: dict[str, Any] = {"error": {"code": exc.code, "message_zh": exc.zh, "message_en": exc.en}}
    if exc.details is not None:
        out["error"]["details"] = exc.details
    return out


async def platform_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    return JSONResponse(status_code=exc.status, content=body(exc))

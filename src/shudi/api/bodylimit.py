"""Request bodies are bounded before anything parses them.

An 8 MB JSON body with 500,000 keys used to block the event loop for seconds and cost hundreds of
megabytes; now a body over `max_body_bytes` is answered 413 at once — from its Content-Length when
it declares one, else as soon as the bytes received pass the limit (chunked uploads)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ShudiError


def too_large(limit: int) -> ShudiError:
    kib = limit / 1024
    return ShudiError(413, "body_too_large", f"请求体过大:最多{kib:g} KB。",
                      f"The request body is too large: at most {kib:g} KiB.", {"max_bytes": limit})


class _TooLarge(Exception):
    """Raised into the app by the body it reads, to stop reading."""


async def send_error(send: Send, exc: ShudiError, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with the project's one error shape from ASGI middleware (outside FastAPI's handlers)."""
    body = json.dumps(exc.body(), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": exc.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send_error(send, too_large(self.max_bytes))
            return
        received = 0
        overflow = started = False

        async def counted() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    overflow = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            # whatever the app answers once the limit was passed (FastAPI turns a failed body read
            # into a 400) is replaced by the 413
            nonlocal started
            if not overflow:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            pass
        if overflow and not started:
            await send_error(send, too_large(self.max_bytes))

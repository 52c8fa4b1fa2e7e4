"""HTTP hygiene: security headers on every answer, CORS closed unless origins are configured, and
no server path in any error.

The pages (web/*.html) run one inline script each; the Content-Security-Policy allows exactly
those scripts by their SHA-256 (computed from the files when the app is built), nothing inline
otherwise, and nothing from another origin.  Inline styles stay allowed: the pages set `style`
attributes from script.  The API docs (/docs, /redoc: Swagger UI and ReDoc from fastapi-offline)
build their inline script from the app's settings, so those two pages alone allow inline scripts;
they show no request data.  Non-HTML answers get `default-src 'none'`."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .pages import WEB_DIR

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
DOCS_PATHS = ("/docs", "/redoc")


def script_hashes(web_dir: Path = WEB_DIR) -> list[str]:
    out = []
    for page in sorted(web_dir.glob("*.html")):
        for body in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            out.append(f"'sha256-{digest}'")
    return out


def _policy(scripts: str) -> bytes:
    return ("default-src 'self'; " f"script-src 'self' {scripts}; " "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'").encode()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.page_csp = _policy(" ".join(script_hashes()))
        self.docs_csp = _policy("'unsafe-inline'")
        self.api_csp = b"default-src 'none'; frame-ancestors 'none'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                csp = (self.docs_csp if docs else self.page_csp) if ctype.startswith(b"text/html") else self.api_csp
                headers += [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                            (b"cross-origin-opener-policy", b"same-origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Cross-origin browser access only from the configured origins (none by default)."""
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Token", "Accept"],
                           expose_headers=["X-Result-Truncated", "Retry-After"])


# an absolute path: a slash not preceded by a word, ':' or '/' (so URLs are left alone), then at
# least two segments
_ABS_PATH = re.compile(r"(?<![\w:/.\-])/(?:[\w.\-~]+/)+[\w.\-~]*")


def scrub(value: Any, root: Path) -> Any:
    """The value with server paths removed: paths under the KB root become relative, any other
    absolute path is reduced to its last part."""
    if isinstance(value, str):
        value = value.replace(str(root.resolve()) + "/", "").replace(str(root) + "/", "")
        return _ABS_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or "…", value)
    if isinstance(value, dict):
        return {k: scrub(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, root) for v in value]
    return value

"""Rate limits per client address on what is costly or changes state: writes (proposals, decisions,
the platform's calls and events), SPARQL, and list diffs (3–4 s of CPU each).

Limits are the settings' rate_writes / rate_sparql / rate_diff in the `limits` package's notation
("30/minute", "5/second;100/hour"); an empty value switches that limit off.  Counted in memory per
service process (a moving window), so with N workers a client gets up to N times the limit.
Past the limit: 429 ``rate_limited`` with Retry-After."""

from __future__ import annotations

import math
import re
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import ShudiError
from ..settings import Settings
from .bodylimit import send_error

# POSTs that only read: they answer a question and store nothing
READING_POSTS = frozenset({"/v1/classify", "/v1/calls/precheck", "/v1/delegations/check", "/sparql"})
_DIFF = re.compile(r"^/v1/lists/[^/]+/diff/?$")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LABELS = {"writes": ("提交与审核操作", "writes"), "sparql": ("SPARQL 查询", "SPARQL queries"),
          "diff": ("清单版本比较", "list diffs")}


def bucket(method: str, path: str) -> str | None:
    """Which limit a request counts against, if any."""
    if path.rstrip("/") == "/sparql":
        return "sparql"
    if method == "GET" and _DIFF.match(path):
        return "diff"
    if method in WRITE_METHODS and path.rstrip("/") not in READING_POSTS:
        return "writes"
    return None


def _limited(name: str, retry: int) -> ShudiError:
    zh, en = LABELS[name]
    return ShudiError(429, "rate_limited", f"{zh}过于频繁,请{retry}秒后再试。",
                      f"Too many {en} from this client; retry in {retry} s.", {"retry_after": retry})


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.items: dict[str, list[RateLimitItem]] = {
            name: parse_many(value) for name, value in
            (("writes", settings.rate_writes), ("sparql", settings.rate_sparql), ("diff", settings.rate_diff))
            if value.strip()
        }
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = bucket(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if name in self.items:
            client = (scope.get("client") or ("unknown", 0))[0]
            for item in self.items[name]:
                if not self.limiter.hit(item, name, client):
                    reset = self.limiter.get_window_stats(item, name, client).reset_time
                    retry = max(1, math.ceil(reset - time.time()))
                    await send_error(send, _limited(name, retry), [(b"retry-after", str(retry).encode())])
                    return
        await self.app(scope, receive, send)

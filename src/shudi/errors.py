"""The one error type.  Everything a caller can get wrong, or a list that cannot load, is a
`ShudiError` with an HTTP status, a stable code, a Chinese and an English message and optional
details; the API renders it in one handler and the CLI prints it, so the two never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ShudiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, details: Any = None) -> None:
        super().__init__(f"{en} / {zh}")
        self.status, self.code, self.zh, self.en, self.details = status, code, zh, en, details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message_zh": self.zh, "message_en": self.en}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class NotFound(ShudiError, LookupError):
    """An id the caller gave does not exist; `known` lists what would have been accepted."""

    def __init__(self, zh: str, en: str, known: Iterable[str] = (), code: str = "not_found") -> None:
        known = list(known)
        if known:
            zh, en = f"{zh};可选:{', '.join(known)}", f"{en}; known: {', '.join(known)}"
        super().__init__(404, code, zh, en)


class BadInput(ShudiError, ValueError):
    """A value the caller gave is not of the accepted form (not an unknown id: a malformed one)."""

    def __init__(self, zh: str, en: str, code: str = "invalid_request", details: Any = None) -> None:
        super().__init__(422, code, zh, en, details)


class PermissionDenied(ShudiError, PermissionError):
    """401 when no valid credential was given, 403 when the credential's role may not act."""

    @classmethod
    def unauthenticated(cls) -> PermissionDenied:
        return cls(401, "unauthenticated", "缺少或无效的访问令牌。", "Missing or unknown API token.")

    @classmethod
    def forbidden(cls, role: str, allowed: Iterable[str]) -> PermissionDenied:
        need = " or ".join(allowed)
        return cls(403, "forbidden", f"当前角色({role})无此权限。", f"Role {role} may not do this (needs {need}).")


class Conflict(ShudiError):
    def __init__(self, zh: str, en: str, code: str = "conflict", details: Any = None) -> None:
        super().__init__(409, code, zh, en, details)

"""The platform raises the service's one error type (shudi.errors.ShudiError), under the name the
platform's modules use; `bad` is its 422."""

from __future__ import annotations

from typing import Any

from ..errors import ShudiError as PlatformError

__all__ = ["PlatformError", "bad"]


def bad(code: str, zh: str, en: str, details: Any = None) -> PlatformError:
    return PlatformError(422, code, zh, en, details)

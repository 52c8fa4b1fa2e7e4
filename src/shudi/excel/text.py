"""Names of the sheets, and cell text helpers shared by the readers and matchers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from ..normalize import compact
from ..source import DOMAIN_LIST

__all__ = ["compact", "cell_text", "split_list"]

LIST_SHEET = "清单"
SCENARIO_SHEET = "情形"
PROCEDURE_SHEET = "程序时限"
TOWNSHIP_SHEET = "乡镇"
CONTACT_SHEET = "联系方式"
DOMAIN_PREFIX: dict[str, str] = {d.id: d.prefix for d in DOMAIN_LIST}  # kb/domains.yaml
ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$")
SEPS = "、，,；;。"


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def split_list(text: str) -> list[str]:
    """Split a cell listing several things: by line when it has line breaks, else by 、，,；;."""
    parts = text.split("\n") if "\n" in text else re.split(r"[、，,；;]", text)
    return [p.strip() for p in parts if p.strip()]


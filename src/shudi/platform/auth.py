"""Platform tokens: like the list-management tokens (shudi.proposals), configured outside the
repository, but each bound to a role AND a unit — a township id or a department id — and
optionally a county.  SHUDI_PLATFORM_TOKENS="tok1=township:huanghe:张三;tok2=department:
county.natural-resources:李四@example-a;tok3=dispatcher::王五" or SHUDI_PLATFORM_TOKENS_FILE
(YAML: tokens: [{token, role, unit, name, county}]).

Kept apart from SHUDI_TOKENS, whose reader accepts only proposer/reviewer roles."""

from __future__ import annotations


import yaml
from pydantic import BaseModel

from ..settings import Settings

from .errors import PlatformError
from .lifecycle import ROLE_ZH, Role

PLATFORM_ROLES = ("township", "dispatcher", "department", "supervisor")


class Principal(BaseModel):
    name: str
    role: Role
    unit: str | None = None  # township id (township) or department / stationed agency id (department)
    county: str | None = None  # None: any county
    example: bool = False  # a built-in 示例 token of an example county


def load_tokens(settings: Settings) -> dict[str, Principal]:
    out: dict[str, Principal] = {}
    for part in filter(None, (p.strip() for p in settings.platform_tokens.split(";"))):
        token, _, who = part.partition("=")
        who, _, county = who.partition("@")
        role, _, rest = who.partition(":")
        unit, _, name = rest.partition(":")
        if role.strip() in PLATFORM_ROLES:
            out[token.strip()] = Principal(name=name.strip() or role.strip(), role=role.strip(),  # type: ignore[arg-type]
                                           unit=unit.strip() or None, county=county.strip() or None)
    path = settings.platform_tokens_file
    if path and path.is_file():
        for row in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tokens", []):
            if row.get("role") in PLATFORM_ROLES:
                out[str(row["token"])] = Principal(name=row.get("name", row["role"]), role=row["role"],
                                                   unit=row.get("unit"), county=row.get("county"))
    return out


def example_token(role: str, unit: str | None, county: str) -> str:
    return f"example:{county}:{role}:{unit or ''}"


def parse_example_token(token: str) -> Principal | None:
    """The pages of an example county (示例) work without configured tokens: a token
    `example:<county>:<role>:<unit>` is accepted for that example county only, and only while no
    platform token is configured (see Platform.principal)."""
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != "example" or parts[2] not in PLATFORM_ROLES:
        return None
    return Principal(name=f"示例{ROLE_ZH[parts[2]]}经办人", role=parts[2], unit=parts[3] or None, county=parts[1], example=True)  # type: ignore[arg-type]


def unauthorized() -> PlatformError:
    return PlatformError(401, "unauthorized", "缺少或无效的访问令牌。", "missing or unknown platform token")

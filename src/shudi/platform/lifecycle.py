"""The state machines of rules/platform.yaml: which action may move a call from which state, and
who may take it.  Nothing here knows a state by name except through the data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..source import read_model
from .errors import PlatformError

Role = Literal["township", "dispatcher", "department", "supervisor", "system"]
ROLE_ZH = {"township": "乡镇(街道)", "dispatcher": "响应平台", "department": "县直部门", "supervisor": "督查", "system": "系统"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StateDef(Strict):
    label: str
    final: bool = False


class FileDef(Strict):
    action: str
    label: str
    roles: list[Role]


class Transition(Strict):
    action: str
    label: str
    from_: list[str] = Field(alias="from")
    to: str | None  # None: recorded on the call without moving it
    roles: list[Role]
    reason: Literal["required", "optional"] = "optional"
    result: Literal["required", "optional"] = "optional"
    when: str | None = None
    once: bool = False
    note: str | None = None


class StepDeadlineDef(Strict):
    step: str
    what: str
    anchor: list[str]
    working_days: int
    complexity: str | None = None


class Flow(Strict):
    label: str
    source: str
    initial: str
    file: FileDef
    states: dict[str, StateDef]
    transitions: list[Transition]
    deadlines: list[StepDeadlineDef] | None = None  # None: the county's response profile decides

    def transition(self, action: str, state: str) -> Transition:
        known = [t for t in self.transitions if t.action == action]
        if not known:
            raise PlatformError(422, "unknown_action", f"该类事项没有「{action}」这一操作。",
                                f"action {action!r} does not exist for a {self.label} item",
                                {"actions": sorted({t.action for t in self.transitions})})
        for t in known:
            if state in t.from_:
                return t
        allowed = [t.label for t in self.transitions if state in t.from_]
        raise PlatformError(409, "illegal_transition",
                            f"当前状态「{self.states[state].label}」下不能{known[0].label}。可进行:{'、'.join(allowed) or '无'}。",
                            f"{action} is not allowed in state {state}",
                            {"state": state, "allowed": [t.action for t in self.transitions if state in t.from_]})

    def check(self) -> None:
        for t in self.transitions:
            for s in [*t.from_, *([t.to] if t.to else [])]:
                if s not in self.states:
                    raise ValueError(f"flow {self.label}: transition {t.action} names unknown state {s}")
        if self.initial not in self.states:
            raise ValueError(f"flow {self.label}: unknown initial state {self.initial}")


class Supervision(Strict):
    source: str
    escalate_after_working_days: int
    note: str | None = None
    levels: dict[int, str]


class PlatformRules(Strict):
    source: str
    note: str | None = None
    flows: dict[str, Flow]
    supervision: Supervision


@lru_cache(maxsize=8)
def load_rules(path: Path) -> PlatformRules:
    rules = read_model(path, PlatformRules)
    for flow in rules.flows.values():
        flow.check()
    return rules


def authorize_action(t: Transition | FileDef, role: str) -> None:
    if role not in t.roles:
        raise PlatformError(403, "role_not_allowed",
                            f"{ROLE_ZH.get(role, role)}不能{t.label},需由{'或'.join(ROLE_ZH[r] for r in t.roles)}操作。",
                            f"role {role} may not {t.action}; needs {' or '.join(t.roles)}")

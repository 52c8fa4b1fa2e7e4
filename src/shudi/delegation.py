"""职责下沉准入: may a county department hand a task to a township?  Decided by the
`delegation` rule set (rules/delegation.yaml) from the department's and the township's roles on
the list item the task matches."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .contract import MAX_TEXT, Reason, Ref
from .engine import Engine
from .errors import NotFound
from .reasoning import decide, find_township, recognise


class DelegationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=100)
    township: str = Field(min_length=1, max_length=100)
    task: str | None = Field(None, max_length=MAX_TEXT, description="description of the task to hand down")
    item_id: str | None = None
    approved: bool | None = Field(None, description="the admission procedure (准入程序) approved this delegation")
    county: str | None = None


class DelegationResult(BaseModel):
    decision: Literal["admitted", "refused", "needs_admission"]
    department: Ref
    township: str
    item: Ref | None
    department_role: str
    township_role: str
    reasons: list[Reason]
    county: str


def _role(parties: set[str], primary: set[str], who: str) -> str:
    return "primary" if who in primary else ("supporting" if who in parties else "none")


def check_delegation(engine: Engine, req: DelegationRequest) -> DelegationResult:
    ctx = engine.county(req.county)
    kb = ctx.kb
    if req.department not in kb.departments or kb.departments[req.department].level != "county":
        raise NotFound(f"未知县直部门 {req.department}", f"unknown county department {req.department!r}")
    township_id = find_township(ctx.loaded.county, req.township)
    if not req.task and not req.item_id:
        raise ValueError("give task or item_id / 请提供交办事项描述或事项编号")
    reasons: list[Reason] = []
    item = engine.item(req.item_id, req.county) if req.item_id else None
    scenario = None
    if item is None and req.task:
        found = recognise(engine, req.task, req.county, "将交办事项与清单比对。",
                          found="交办事项对应清单事项「{item}」(依据:{evidence})", missing="交办事项不在清单内。")
        item, scenario = found.item, found.scenario
        reasons.append(found.reason)
    if item is not None:
        primary = set(item.primary_for(scenario))
        parties = primary | {p.party for p in item.supporting}
        dept_role = _role(parties, primary, req.department)
        town_role = _role(parties, primary, "township")
    else:
        dept_role = town_role = "none"
    facts = {
        "on_list": "true" if item is not None else "false",
        "department_role": dept_role,
        "township_role": town_role,
        "approved": "unknown" if req.approved is None else str(req.approved).lower(),
    }
    rule, reason = decide(engine, kb, "delegation", facts)
    reasons.append(reason)
    return DelegationResult(
        decision=rule.then["decision"],
        department=Ref(id=req.department, name=kb.department_name(req.department)),
        township=township_id,
        item=Ref(id=item.id, name=item.name) if item else None,
        department_role=dept_role,
        township_role=town_role,
        reasons=reasons,
        county=kb.county,
    )

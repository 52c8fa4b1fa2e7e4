"""Townships: may we call the county (两呼两不呼), and may a department hand us this task (准入)."""

from __future__ import annotations

from fastapi import APIRouter

from ..contract import PrecheckRequest, PrecheckResult
from ..delegation import DelegationRequest, DelegationResult, check_delegation
from ..errors import BadInput
from ..precheck import precheck
from .deps import EngineDep

router = APIRouter(tags=["engine"])


@router.post("/v1/calls/precheck", response_model=PrecheckResult)
def calls_precheck(body: PrecheckRequest, engine: EngineDep) -> PrecheckResult:
    if not body.text and not body.item_id:
        raise BadInput("请提供事件描述 text 或事项编号 item_id。", "Give either text or item_id.")
    return precheck(engine, body)


@router.post("/v1/delegations/check", response_model=DelegationResult)
def delegations_check(body: DelegationRequest, engine: EngineDep) -> DelegationResult:
    if not body.task and not body.item_id:
        raise BadInput("请提供交办事项描述 task 或事项编号 item_id。", "Give either task or item_id.")
    return check_delegation(engine, body)

"""清单动态管理: change proposals, review, versions, diffs, the printed handbook and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ..diff import WORKTREE, RevisionError, diff_versions, parse_spec
from ..errors import BadInput
from ..handbook import render
from ..proposals import ProposalIn, ProposalOut
from ..views import AuditEntry, DiffOut, VersionOut
from .deps import COUNTY_QUERY, ChangesDep, CountyPath, EngineDep, Proposer, Reviewer

router = APIRouter(tags=["list management"])


@router.post("/v1/lists/{county}/proposals", status_code=201, response_model=ProposalOut)
def propose(county: CountyPath, body: ProposalIn, who: Proposer, changes: ChangesDep) -> ProposalOut:
    return changes.propose(county, body, who)


@router.get("/v1/lists/{county}/proposals", response_model=list[ProposalOut])
def proposals(county: CountyPath, engine: EngineDep, changes: ChangesDep,
              status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None) -> list[ProposalOut]:
    engine.county(county)
    return changes.list(county, status)


@router.post("/v1/lists/{county}/proposals/{pid}/approve", response_model=ProposalOut)
def approve(county: CountyPath, pid: int, who: Reviewer, changes: ChangesDep,
            note: Annotated[str | None, Query(max_length=500)] = None) -> ProposalOut:
    return changes.decide(county, pid, who, True, note)


@router.post("/v1/lists/{county}/proposals/{pid}/reject", response_model=ProposalOut)
def reject(county: CountyPath, pid: int, who: Reviewer, changes: ChangesDep,
           note: Annotated[str | None, Query(max_length=500)] = None) -> ProposalOut:
    return changes.decide(county, pid, who, False, note)


@router.get("/v1/lists/{county}/versions", response_model=list[VersionOut])
def versions(county: CountyPath, engine: EngineDep, changes: ChangesDep) -> list[dict[str, Any]]:
    engine.county(county)
    return changes.versions(county)


@router.get("/v1/lists/{county}/diff", response_model=DiffOut)
def list_diff(county: CountyPath, engine: EngineDep,
              from_: Annotated[str, Query(alias="from", max_length=100, description="a version number of /versions (e.g. 2), a git revision (e.g. HEAD~1), or WORKTREE")],
              to: Annotated[str, Query(max_length=100, description="as from; default WORKTREE, the list as it is now")] = WORKTREE,
              ) -> DiffOut:
    engine.county(county)
    try:
        # the specs are checked (cheaply) before anything is loaded; never a path
        specs = [parse_spec(v, engine.root, folders=False) for v in (from_, to)]
        d = diff_versions(engine.root, county, *specs)
    except RevisionError as exc:
        raise BadInput(str(exc), "invalid version: a version number, a git revision or WORKTREE; never a path",
                       code="invalid_revision") from exc
    return DiffOut(**d.model_dump(), text=d.to_text())


@router.get("/v1/lists/{county}/handbook", response_class=Response, responses={200: {"content": {"text/html": {}}}})
def handbook(county: CountyPath, engine: EngineDep) -> Response:
    return Response(render(engine.county(county).loaded), media_type="text/html; charset=utf-8")


@router.get("/v1/audit", response_model=list[AuditEntry])
def audit(changes: ChangesDep, county: Annotated[str | None, COUNTY_QUERY] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    return changes.store.audit_log(county, limit)

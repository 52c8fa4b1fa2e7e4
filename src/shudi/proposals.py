"""Change proposals for a county's list (清单动态管理: add / remove / adjust an item).

A proposal is validated against the schema and the SHACL shapes on a scratch copy of kb/ with
the change applied, then recorded as pending.  Only a reviewer's approval applies it to the
county's files (kb/counties/<id>/), as a new numbered version; every write is in the audit log.
Roles come from API tokens configured outside the repository (settings `tokens` / `tokens_file`,
i.e. SHUDI_TOKENS or SHUDI_TOKENS_FILE), read once when the service starts.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from . import listhistory
from .countyfiles import (
    AdjustItem,
    ChangeOp,
    ChangeSet,
    Op,
    PutItem,
    RemoveItem,
    RestoreItem,
    SetProfile,
    baseline_ids,
    file_version,
    tree_files,
    write_county,
)
from .engine import Engine
from .errors import Conflict, NotFound, PermissionDenied, ShudiError
from .kb import KBLoadError, counties, load
from .settings import Settings
from .source import DOMAINS, OVERRIDABLE, CitationSrc, ItemSrc, PartySrc
from .store import ProposalRow, Store, VersionRow, now
from .validate import shacl_problems

Role = Literal["proposer", "reviewer"]


class Principal(BaseModel):
    name: str
    role: Role


class ProposalInvalid(ShudiError, ValueError):
    """The list would not load or validate with the change applied; `problems` says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(422, "proposal_invalid", "变更后清单校验不通过:" + ";".join(problems[:3]),
                         "The list would not validate after this change.", problems[:50])
        self.problems = problems


def load_tokens(settings: Settings) -> dict[str, Principal]:
    """tokens "tok1=reviewer:张三;tok2=proposer:李四" and/or tokens_file (YAML: tokens: [{token,
    role, name}]).  No tokens configured → every write is refused."""
    out: dict[str, Principal] = {}
    for part in filter(None, (p.strip() for p in settings.tokens.split(";"))):
        token, _, who = part.partition("=")
        role, _, name = who.partition(":")
        out[token.strip()] = Principal(name=name.strip() or role.strip(), role=role.strip())  # type: ignore[arg-type]
    path = settings.tokens_file
    if path and path.is_file():
        for row in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tokens", []):
            out[str(row["token"])] = Principal(name=row.get("name", row["role"]), role=row["role"])
    return out


def authorize(tokens: dict[str, Principal], token: str | None, allowed: tuple[str, ...]) -> Principal:
    principal = tokens.get(token or "")
    if principal is None:
        raise PermissionDenied.unauthenticated()
    if principal.role not in allowed:
        raise PermissionDenied.forbidden(principal.role, allowed)
    return principal


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["add", "remove", "adjust", "changes"]
    item_id: str = Field("", max_length=128, description="the item added, removed or adjusted (not for changes)")
    domain: str | None = Field(None, description="for add: the domain id")
    item: dict[str, Any] | None = Field(None, description="for add: the item in the kb/ YAML schema")
    primary: list[PartySrc] | None = Field(None, description="for adjust: new primary parties")
    supporting: list[PartySrc] | None = Field(None, description="for adjust: new supporting parties")
    county_duties: str | None = Field(None, min_length=2, max_length=5000, description="for adjust: 县级部门职责")
    township_duties: str | None = Field(None, min_length=2, max_length=5000, description="for adjust: 乡镇(街道)职责")
    citations: list[CitationSrc] | None = Field(None, min_length=1, max_length=50, description="for adjust: 法律依据")
    ops: list[ChangeOp] | None = Field(None, max_length=5000, description="for changes: a change set (e.g. an Excel import)")
    reason: str = Field(min_length=4, max_length=2000)

    @model_validator(mode="after")
    def _target(self) -> ProposalIn:
        if self.kind == "changes" and not self.ops:
            raise ValueError("changes needs ops / 变更集为空")
        if self.kind != "changes" and len(self.item_id) < 3:
            raise ValueError("item_id is required / 须指明事项编码")
        return self


class ProposalOut(BaseModel):
    id: int
    county: str
    kind: str
    item_id: str
    reason: str
    proposer: str
    status: Literal["pending", "approved", "rejected"]
    created_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    version: int | None
    payload: dict[str, Any]


def _out(r: ProposalRow) -> ProposalOut:
    return ProposalOut(
        id=r.id, county=r.county, kind=r.kind, item_id=r.item_id, reason=r.reason, proposer=r.proposer,
        status=r.status, created_at=r.created_at.isoformat(), decided_by=r.decided_by,  # type: ignore[arg-type]
        decided_at=r.decided_at.isoformat() if r.decided_at else None, decision_note=r.decision_note,
        version=r.version, payload=r.payload,
    )


def change_ops(p: ProposalIn) -> list[Op]:
    """A proposal as the change set the county writer applies (an Excel import already is one)."""
    if p.kind == "changes":
        return list(p.ops or [])
    if p.kind == "add":
        if p.domain not in DOMAINS or p.item is None:
            raise ProposalInvalid([f"add needs domain (one of {len(DOMAINS)} ids) and item / 新增事项须提供领域和事项内容"])
        return [PutItem(domain=p.domain, item={**p.item, "id": p.item_id}), RestoreItem(item=p.item_id)]
    if p.kind == "remove":
        return [RemoveItem(item=p.item_id)]
    fields = {f: _plain(getattr(p, f)) for f in OVERRIDABLE if getattr(p, f) is not None}
    if not fields:
        raise ProposalInvalid(["adjust needs primary, supporting, duties or citations / 调整须提供主体责任、配合责任、职责或法律依据"])
    return [AdjustItem(item=p.item_id, fields=fields, reason=p.reason)]


def _plain(value: object) -> object:
    """A proposal field as it is written to YAML."""
    if isinstance(value, list):
        return [v.model_dump(mode="json", exclude_none=True, exclude_defaults=True) if isinstance(v, BaseModel) else v for v in value]
    return value


def apply_change(kb_root: Path, county: str, p: ProposalIn, baseline_ids: set[str], version: int | None = None) -> None:
    """Apply a proposal to the county files under kb_root/kb/counties/<county>/, through the one
    county writer (layout and comments kept, the tree swapped in at once).  With a version, the
    files are numbered as that version and kept for diffs (shudi.listhistory)."""
    ops = change_ops(p)
    if version is not None:
        before = tree_files(kb_root / "kb" / "counties" / county)
        old = file_version(kb_root, county)
        if before and old is not None:
            listhistory.keep(kb_root, county, old, before, replace=False)
        ops.append(SetProfile(field="version", value=version))
    try:
        files, _ = write_county(kb_root, county, ops, baseline_ids)
    except KeyError as exc:
        raise ProposalInvalid([f"unknown item {exc.args[0]} / 未知事项"]) from exc
    except ValueError as exc:
        raise ProposalInvalid([str(exc)]) from exc
    if version is not None:
        listhistory.keep(kb_root, county, version, files)


def _creates_county(p: ProposalIn) -> bool:
    """A change set that names a new county (an import of a county not yet in kb/counties/)."""
    return p.kind == "changes" and any(isinstance(op, SetProfile) and op.field == "name" for op in p.ops or [])


class ListChanges:
    def __init__(self, engine: Engine, store: Store | None = None) -> None:
        self.engine = engine
        self.store = store or Store(engine.settings.store_url())
        self.tokens = load_tokens(engine.settings)

    def _baseline_ids(self) -> set[str]:
        return baseline_ids(self.engine.root)

    def check(self, county: str, p: ProposalIn) -> None:
        """Validate the list as it would be after the change, on a scratch copy."""
        if county not in counties(self.engine.root) and not _creates_county(p):
            raise NotFound(f"未知县(区) {county}", f"unknown county {county!r}", code="unknown_county")
        if p.kind == "add":
            try:
                ItemSrc.model_validate({**(p.item or {}), "id": p.item_id})
            except ValueError as exc:
                raise ProposalInvalid([str(exc)]) from exc
        with tempfile.TemporaryDirectory(prefix="shudi-proposal-") as tmp:
            scratch = Path(tmp)
            shutil.copytree(self.engine.root / "kb", scratch / "kb")
            shutil.copytree(self.engine.root / "ontologies", scratch / "ontologies")
            apply_change(scratch, county, p, self._baseline_ids())
            try:
                loaded = load(county, scratch, use_cache=False)
            except KBLoadError as exc:
                raise ProposalInvalid(str(exc).splitlines()) from exc
            problems = shacl_problems(loaded.graph, scratch)
            if problems:
                raise ProposalInvalid(problems)

    def propose(self, county: str, p: ProposalIn, who: Principal) -> ProposalOut:
        self.check(county, p)
        with self.store.session() as s, s.begin():
            row = ProposalRow(county=county, kind=p.kind, item_id=p.item_id, payload=p.model_dump(mode="json"),
                              reason=p.reason, proposer=who.name, status="pending", created_at=now())
            s.add(row)
            s.flush()
            self.store.audit(s, who.name, who.role, "proposal.create", county, {"proposal": row.id, "kind": p.kind, "item": p.item_id, "reason": p.reason})
            return _out(row)

    def propose_changes(self, county: str, changes: ChangeSet, reason: str, who: Principal) -> ProposalOut:
        """A change set (an Excel import) as a proposal: checked and recorded like any other,
        applied only when a reviewer approves it."""
        return self.propose(county, ProposalIn(kind="changes", ops=changes.ops, reason=reason), who)

    def get(self, county: str, pid: int) -> ProposalRow:
        with self.store.session() as s:
            row = s.get(ProposalRow, pid)
            if row is None or row.county != county:
                raise NotFound(f"未知变更申请 {pid}", f"unknown proposal {pid} for county {county}")
            return row

    def list(self, county: str, status: str | None = None) -> list[ProposalOut]:
        with self.store.session() as s:
            q = select(ProposalRow).where(ProposalRow.county == county).order_by(ProposalRow.id)
            if status:
                q = q.where(ProposalRow.status == status)
            return [_out(r) for r in s.scalars(q)]

    def versions(self, county: str) -> list[dict[str, Any]]:
        with self.store.session() as s:
            q = select(VersionRow).where(VersionRow.county == county).order_by(VersionRow.version)
            return [{"version": v.version, "proposal": v.proposal_id, "fingerprint": v.fingerprint, "at": v.created_at.isoformat()} for v in s.scalars(q)]

    def decide(self, county: str, pid: int, who: Principal, approve: bool, note: str | None = None) -> ProposalOut:
        row = self.get(county, pid)
        if row.status != "pending":
            raise Conflict(f"该申请已处理({row.status}),不能再次决定。", f"proposal {pid} is already {row.status}",
                           code="already_decided")
        p = ProposalIn.model_validate(row.payload)
        version = None
        if approve:
            self.check(county, p)  # the list may have changed since it was proposed
            version = (file_version(self.engine.root, county) or 0) + 1  # a county an import creates: 1
            apply_change(self.engine.root, county, p, self._baseline_ids(), version=version)
            self.engine.invalidate(county)
            fingerprint = load(county, self.engine.root).fingerprint
        with self.store.session() as s, s.begin():
            row = s.get(ProposalRow, pid)
            assert row is not None
            row.status = "approved" if approve else "rejected"
            row.decided_by, row.decided_at, row.decision_note, row.version = who.name, now(), note, version
            if approve:
                s.add(VersionRow(county=county, version=version, proposal_id=pid, fingerprint=fingerprint, created_at=now()))
            self.store.audit(s, who.name, who.role, "proposal.approve" if approve else "proposal.reject", county,
                             {"proposal": pid, "version": version, "note": note})
            return _out(row)

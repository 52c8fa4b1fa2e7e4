"""清单动态管理: what changed in a county's list between two versions.

A version is a git revision of the project (its kb/ is read with `git archive`), or a folder that
holds a kb/ tree.  The report names, in Chinese, items added and removed, parties that changed
(including primary ↔ supporting), duties, citations, scenarios, time limits and the county's
response-time policy."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from pydantic import BaseModel

from .kb import LoadedKB, load
from .model import Item, KnowledgeBase


class ItemChange(BaseModel):
    item: str
    name: str
    changes: list[str]


class ListDiff(BaseModel):
    county: str
    old: str
    new: str
    added: list[dict[str, str]]
    removed: list[dict[str, str]]
    changed: list[ItemChange]
    policy: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.policy)

    def to_text(self) -> str:
        lines = [f"清单变更:{self.county}  {self.old} → {self.new}"]
        if self.empty:
            return "\n".join([*lines, "无变化。"])
        lines += [f"新增事项:{a['name']} [{a['id']}]" for a in self.added]
        lines += [f"取消事项:{r['name']} [{r['id']}]" for r in self.removed]
        for ch in self.changed:
            lines.append(f"调整事项:{ch.name} [{ch.item}]")
            lines += [f"  - {c}" for c in ch.changes]
        lines += [f"响应时限政策:{p}" for p in self.policy]
        return "\n".join(lines)


class RevisionError(ValueError):
    pass


def _names(kb: KnowledgeBase, ids: list[str] | set[str]) -> str:
    return "、".join(kb.department_name(i) for i in sorted(ids)) or "无"


def item_changes(old: Item, new: Item, okb: KnowledgeBase, nkb: KnowledgeBase) -> list[str]:
    out: list[str] = []
    if old.name != new.name:
        out.append(f"名称:{old.name} → {new.name}")
    if old.domain != new.domain:
        out.append(f"领域:{okb.domains[old.domain]} → {nkb.domains[new.domain]}")
    if old.type != new.type:
        out.append(f"事项类型:{old.type} → {new.type}")
    op, np_ = {p.party for p in old.primary}, {p.party for p in new.primary}
    os_, ns = {p.party for p in old.supporting}, {p.party for p in new.supporting}
    for party in sorted((op & ns) - np_):
        out.append(f"{nkb.department_name(party)}:主体责任 → 配合责任")
    for party in sorted((os_ & np_) - op):
        out.append(f"{nkb.department_name(party)}:配合责任 → 主体责任")
    moved = ((op & ns) - np_) | ((os_ & np_) - op)
    if (op - moved) != (np_ - moved):
        out.append(f"主体责任:{_names(okb, op)} → {_names(nkb, np_)}")
    if (os_ - moved) != (ns - moved):
        out.append(f"配合责任:{_names(okb, os_)} → {_names(nkb, ns)}")
    old_duties = {(p.party, "主体" if p in old.primary else "配合"): p.duties for p in (*old.primary, *old.supporting)}
    new_duties = {(p.party, "主体" if p in new.primary else "配合"): p.duties for p in (*new.primary, *new.supporting)}
    for key in sorted(old_duties.keys() & new_duties.keys()):
        if old_duties[key] != new_duties[key]:
            out.append(f"{nkb.department_name(key[0])}({key[1]}责任)职责调整:{new_duties[key]}")
    if old.county_duties != new.county_duties:
        out.append("县级部门职责表述调整")
    if old.township_duties != new.township_duties:
        out.append("乡镇(街道)职责表述调整")
    oc = {c.label for c in old.citations} | {c.label for s in old.scenarios for c in s.citations}
    nc = {c.label for c in new.citations} | {c.label for s in new.scenarios for c in s.citations}
    out += [f"新增依据:{c}" for c in sorted(nc - oc)]
    out += [f"删除依据:{c}" for c in sorted(oc - nc)]
    ot = {(t.what, t.limit) for t in old.time_limits}
    nt = {(t.what, t.limit) for t in new.time_limits}
    out += [f"时限新增/调整:{w} {lim}" for w, lim in sorted(nt - ot)]
    out += [f"时限删除:{w} {lim}" for w, lim in sorted(ot - nt)]
    osc = {s.id: s for s in old.scenarios}
    nsc = {s.id: s for s in new.scenarios}
    out += [f"新增情形:{nsc[i].name}" for i in sorted(nsc.keys() - osc.keys())]
    out += [f"删除情形:{osc[i].name}" for i in sorted(osc.keys() - nsc.keys())]
    for i in sorted(osc.keys() & nsc.keys()):
        if osc[i].primary_override != nsc[i].primary_override:
            out.append(f"情形「{nsc[i].name}」主体责任:{_names(okb, set(osc[i].primary_override)) if osc[i].primary_override else '随事项'}"
                       f" → {_names(nkb, set(nsc[i].primary_override)) if nsc[i].primary_override else '随事项'}")
    return out


def diff_loaded(old: LoadedKB, new: LoadedKB, old_label: str, new_label: str) -> ListDiff:
    okb, nkb = old.kb, new.kb
    added = [{"id": i, "name": nkb.items[i].name} for i in sorted(nkb.items.keys() - okb.items.keys())]
    removed = [{"id": i, "name": okb.items[i].name} for i in sorted(okb.items.keys() - nkb.items.keys())]
    changed = []
    for i in sorted(okb.items.keys() & nkb.items.keys()):
        ch = item_changes(okb.items[i], nkb.items[i], okb, nkb)
        if ch:
            changed.append(ItemChange(item=i, name=nkb.items[i].name, changes=ch))
    policy = []
    if old.county.policy.response_profile != new.county.policy.response_profile:
        policy.append(f"{old.county.policy.response_profile} → {new.county.policy.response_profile}")
    return ListDiff(county=nkb.county, old=old_label, new=new_label, added=added, removed=removed, changed=changed, policy=policy)


def materialize_revision(root: Path, rev: str, into: Path) -> Path:
    """Extract kb/ of git revision `rev` of the project at `root` into `into`."""
    try:
        data = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", rev, "kb"],
                              check=True, capture_output=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        raise RevisionError(f"not a git revision of {root}: {rev!r} ({err.decode(errors='replace').strip()})") from exc
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def load_version(root: Path, spec: str, county: str, workdir: Path) -> LoadedKB:
    path = Path(spec)
    if path.is_dir():
        base = path if (path / "kb").is_dir() else path.parent
        return load(county, base, use_cache=False)
    target = workdir / spec.replace("/", "_").replace("~", "-").replace("^", "-")
    target.mkdir(parents=True, exist_ok=True)
    return load(county, materialize_revision(root, spec, target), use_cache=False)


def diff_versions(root: Path, county: str, old: str, new: str) -> ListDiff:
    with tempfile.TemporaryDirectory(prefix="shudi-diff-") as tmp:
        work = Path(tmp)
        return diff_loaded(load_version(root, old, county, work), load_version(root, new, county, work), old, new)

"""清单动态管理: what changed in a county's list between two versions.

A version is one of (Spec):
- a numbered version of the store, as /v1/lists/{county}/versions lists them (`3` or `v3`): the
  county's files as that approval wrote them (shudi.listhistory), over the project's baseline;
- a git revision of the project (`HEAD~1`, a tag, a commit): its kb/ read with `git archive`;
  a county that revision does not have yet is an empty list (everything added);
- the working tree (`WORKTREE`);
- on the command line only, a folder: a county folder (kb/counties/example-a, or any folder
  with a county.yaml: that county over the project's baseline) or a folder holding kb/.
The HTTP endpoint takes no folders: a spec that names a path is refused before anything is read.
The report names, in Chinese, items added and removed, parties that changed (including primary ↔
supporting), duties, citations, scenarios, time limits and the county's response-time policy.
No answer names a path of the server."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from typing import Literal

from pydantic import BaseModel

from .countyfiles import COUNTY_ID, file_version, tree_files
from .kb import KBLoadError, LoadedKB, load
from .listhistory import files_of, kept
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


def diff_loaded(old: LoadedKB | None, new: LoadedKB | None, old_label: str, new_label: str) -> ListDiff:
    """The change from `old` to `new`; None is a list that does not exist (yet, or any more)."""
    if old is None or new is None:
        side = new or old
        assert side is not None, "two empty lists"
        listed = [{"id": i, "name": it.name} for i, it in sorted(side.kb.items.items())]
        return ListDiff(county=side.kb.county, old=old_label, new=new_label, added=listed if old is None else [],
                        removed=listed if new is None else [], changed=[], policy=[])
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


SpecKind = Literal["store", "git", "worktree", "folder"]
WORKTREE = "WORKTREE"
_STORE_VERSION = re.compile(r"^v?(\d{1,6})$")
_GIT_REVISION = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._~^/@{}-]{1,100}$")  # never an option, never ..


class Spec(BaseModel):
    kind: SpecKind
    value: str = ""

    @property
    def label(self) -> str:
        return {"store": f"版本 {self.value}", "worktree": "当前清单"}.get(self.kind, self.value)


def parse_spec(text: str, root: Path, *, folders: bool = False) -> Spec:
    """What a version spec names; with folders=False (HTTP) a path is never one.  Checks are
    cheap (a regex, a file lookup, `git rev-parse`): nothing is loaded for a spec that is wrong."""
    text = text.strip()
    if text == WORKTREE:
        return Spec(kind="worktree")
    m = _STORE_VERSION.match(text)
    if m:
        return Spec(kind="store", value=str(int(m.group(1))))
    if folders and (text == "." or Path(text).is_dir()):
        return Spec(kind="folder", value=text)
    if not _GIT_REVISION.match(text):
        raise RevisionError(f"版本标识「{text[:40]}」无效:应为版本号(如 3)、git 修订(如 HEAD~1)或 WORKTREE"
                            + ("" if folders else ";不接受路径"))
    try:
        subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--end-of-options", f"{text}^{{commit}}"],
                       check=True, capture_output=True, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        raise RevisionError(f"没有这个 git 修订:{text[:40]}(或本项目不在 git 中)") from exc
    return Spec(kind="git", value=text)


def check_store_version(root: Path, county: str, spec: Spec) -> None:
    if spec.kind == "store" and files_of(root, county, int(spec.value)) is None and file_version(root, county) != int(spec.value):
        kept_ = "、".join(str(v) for v in kept(root, county)) or "无"
        raise RevisionError(f"{county} 没有保存版本 {spec.value}(已保存的版本:{kept_})")


def materialize_revision(root: Path, rev: str, into: Path) -> Path:
    """Extract kb/ of git revision `rev` of the project at `root` into `into`."""
    try:
        data = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", "--end-of-options", rev, "kb"],
                              check=True, capture_output=True, timeout=60).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        raise RevisionError(f"无法读取 git 修订 {rev[:40]} 的清单") from exc
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _with_county(root: Path, into: Path, county: str, files: dict[str, str]) -> Path:
    """A project root in `into`: the project's kb/ without its counties, and this one county."""
    shutil.copytree(root / "kb", into / "kb", ignore=lambda d, names: ["counties"] if Path(d) == root / "kb" else [])
    cdir = into / "kb" / "counties" / county
    for rel, text in files.items():
        (cdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (cdir / rel).write_text(text, encoding="utf-8")
    return into


def _load_or_none(county: str, base: Path) -> LoadedKB | None:
    if not (base / "kb" / "counties" / county / "county.yaml").is_file():
        return None  # the county is not in that version (yet): an empty list
    return load(county, base, use_cache=False)


def load_version(root: Path, spec: Spec, county: str, workdir: Path) -> tuple[LoadedKB | None, str]:
    """The list a spec names, and the label the answer shows for it (never a server path)."""
    target = workdir / f"v{len(list(workdir.iterdir()))}"
    target.mkdir()
    if spec.kind == "worktree":
        return _load_or_none(county, root), spec.label
    if spec.kind == "store":
        files = files_of(root, county, int(spec.value))
        if files is None:  # the version the files are at now, never approved through the store
            return _load_or_none(county, root), spec.label
        return load(county, _with_county(root, target, county, files), use_cache=False), spec.label
    if spec.kind == "git":
        return _load_or_none(county, materialize_revision(root, spec.value, target)), spec.label
    path = Path(spec.value).resolve()
    if (path / "county.yaml").is_file():  # a county folder: that county over the project's baseline
        name = path.name if COUNTY_ID.match(path.name) else county
        base = path.parents[2] if path.parent.name == "counties" and path.parents[1].name == "kb" else \
            _with_county(root, target, name, tree_files(path))
        return load(name, base, use_cache=False), name
    base = path if (path / "kb").is_dir() else path.parent
    return _load_or_none(county, base), path.name or "."


def diff_versions(root: Path, county: str, old: str | Spec, new: str | Spec, *, folders: bool = True) -> ListDiff:
    """The diff between two versions (specs as text are parsed, folders allowed unless told)."""
    specs = [s if isinstance(s, Spec) else parse_spec(s, root, folders=folders) for s in (old, new)]
    for s in specs:
        check_store_version(root, county, s)
    with tempfile.TemporaryDirectory(prefix="shudi-diff-") as tmp:
        work = Path(tmp)
        try:
            (a, la), (b, lb) = (load_version(root, s, county, work) for s in specs)
        except KBLoadError as exc:
            raise RevisionError("该版本的清单无法读取:" + _no_paths(str(exc), root, work)) from exc
        if a is None and b is None:
            raise RevisionError(f"两个版本中都没有县(区) {county}")
        return diff_loaded(a, b, la, lb)


def _no_paths(text: str, *folders: Path) -> str:
    for f in folders:
        text = text.replace(str(f.resolve()) + "/", "").replace(str(f) + "/", "").replace(str(f), "")
    return text.splitlines()[0][:300] if text else text

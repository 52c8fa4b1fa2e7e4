"""The one writer of a county's files (kb/counties/<id>/county.yaml and items/<domain>.yaml).

Every change to a county list — an API proposal (add / remove / adjust), an Excel import — is a
list of ChangeOps applied here.  Files are edited with ruamel.yaml round-trip, in place: an entry
that changes keeps its position, the others and every comment stay as they were, so an approved
one-field change is a one- or two-line diff.

A change is written atomically for the whole county: the new county tree is built beside the
live one (kb/counties/.<id>.next-<n>) and swapped in with one rename (renameat2 RENAME_EXCHANGE
where the kernel has it).  A reader sees the old list or the new one, never half of each.

SHUDI_CRASH_AT=<step> kills the process (SIGKILL) at a named step — for the crash tests only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import difflib
import fcntl
import hashlib
import io
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .source import DOMAINS, ItemOverrideSrc, ItemSrc

COUNTY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
OVERRIDE_FIELDS = ("primary", "supporting", "county_duties", "township_duties", "citations")


class CountyIdError(ValueError):
    pass


def check_county_id(county: str) -> str:
    """A county id is a plain slug: nothing is ever written outside kb/counties/."""
    if not COUNTY_ID.match(county):
        raise CountyIdError(f"县(区)编码「{county[:40]}」无效:只能用小写字母、数字和连字符 / "
                            f"invalid county id {county[:40]!r}: lower-case letters, digits and hyphens only")
    return county


def crashpoint(step: str) -> None:
    """Die here, as kill -9 would, when SHUDI_CRASH_AT names this step (crash tests)."""
    if os.environ.get("SHUDI_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# Change operations


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetOverride(_Op):
    """The county's override of a baseline item: exactly these fields (None: no override)."""

    op: Literal["override"] = "override"
    item: str
    fields: dict[str, Any] | None
    reason: str = "调整"


class AdjustItem(_Op):
    """Change some fields of an item, the others as they are: of a baseline item, the county's
    override (fields it already overrides stay); of the county's own item, the item itself."""

    op: Literal["adjust"] = "adjust"
    item: str
    fields: dict[str, Any]
    reason: str = "调整"


class RemoveItem(_Op):
    """Remove an item: a baseline item goes to remove_items, the county's own item is deleted."""

    op: Literal["remove"] = "remove"
    item: str


class RestoreItem(_Op):
    """A removed baseline item comes back (leaves remove_items)."""

    op: Literal["restore"] = "restore"
    item: str


class PutItem(_Op):
    """Add or replace one of the county's own items (items/<domain>.yaml)."""

    op: Literal["put"] = "put"
    domain: str
    item: dict[str, Any]


class SetProfile(_Op):
    op: Literal["profile"] = "profile"
    field: Literal["name", "example", "note", "townships", "office_hours", "contacts", "version"]
    value: Any


Op = SetOverride | AdjustItem | RemoveItem | RestoreItem | PutItem | SetProfile
ChangeOp = Annotated[Op, Field(discriminator="op")]


class ChangeSet(BaseModel):
    """What a proposal changes, whichever way it came (API or Excel)."""

    model_config = ConfigDict(extra="forbid")
    ops: list[ChangeOp]


# ---------------------------------------------------------------------------------------------
# YAML round trip


def _yaml() -> YAML:
    y = YAML()
    y.allow_unicode = True
    y.width = 4096
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def styled(value: Any) -> Any:
    """Plain data → ruamel nodes in the layout of the shipped files: small mappings and lists of
    scalars on one line ({party: …, duties: …}), everything else in block style."""
    if isinstance(value, dict):
        m = CommentedMap((k, styled(v)) for k, v in value.items())
        if all(_scalar(v) for v in value.values()) and sum(len(str(k)) + len(str(v)) for k, v in value.items()) < 150:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(styled(v) for v in value)
        if all(isinstance(v, (str, int)) for v in value) and sum(len(str(v)) + 2 for v in value) < 110:
            s.fa.set_flow_style()
        return s
    return value


def _plain(node: Any) -> Any:
    """ruamel nodes → plain JSON-like data (dates as ISO text), for comparing with new values."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if hasattr(node, "isoformat"):
        return node.isoformat()
    return node


def _update_map(target: CommentedMap, new: dict[str, Any], keep: tuple[str, ...] = ()) -> bool:
    """Make `target` hold `new` (keys in `keep` stay when absent from `new`), touching only the
    values that differ — inside nested mappings and same-length lists too, so one changed duty
    text is one changed line and the rest keeps its layout; True when anything changed."""
    changed = False
    for k in [k for k in target if k not in new and k not in keep]:
        del target[k]
        changed = True
    for k, v in new.items():
        if k not in target:
            target[k] = styled(v)
            changed = True
        else:
            changed |= _update_in(target, k, v)
    return changed


def _update_in(container: CommentedMap | CommentedSeq, key: Any, v: Any) -> bool:
    old = container[key]
    if _plain(old) == _plain(v):
        return False
    if isinstance(old, CommentedMap) and isinstance(v, dict):
        return _update_map(old, v)
    if isinstance(old, CommentedSeq) and isinstance(v, list) and len(old) == len(v) and len(v) > 0:
        return any([_update_in(old, n, x) for n, x in enumerate(v)])
    container[key] = styled(v)
    return True


class CountyTree:
    """A county folder opened for editing; `save` writes the files that changed."""

    def __init__(self, cdir: Path, county: str) -> None:
        self.cdir = cdir
        self.county = county
        self.y = _yaml()
        path = cdir / "county.yaml"
        self.original: dict[str, str] = {}  # relative path → text as read
        if path.is_file():
            self.original["county.yaml"] = path.read_text(encoding="utf-8")
        self.profile: CommentedMap = self.y.load(self.original["county.yaml"]) if path.is_file() else CommentedMap(
            [("id", county), ("name", county), ("example", False)])
        self.items: dict[str, CommentedMap] = {}
        for f in sorted((cdir / "items").glob("*.yaml")):
            self.original[f"items/{f.name}"] = f.read_text(encoding="utf-8")
            self.items[f.name] = self.y.load(self.original[f"items/{f.name}"])
        self.dirty: set[str] = set()
        self.new_county = not path.is_file()
        if self.new_county:
            self.dirty.add("county.yaml")

    def _owner(self, item_id: str) -> tuple[str, CommentedSeq, int] | None:
        for fname, data in self.items.items():
            for n, it in enumerate(data.get("items") or []):
                if it.get("id") == item_id:
                    return fname, data["items"], n
        return None

    def _profile_list(self, key: str) -> CommentedSeq:
        if key not in self.profile or self.profile[key] is None:
            self.profile[key] = CommentedSeq()
        return self.profile[key]

    def apply(self, op: Op, baseline: set[str]) -> None:
        if isinstance(op, SetOverride):
            self._override(op)
        elif isinstance(op, AdjustItem):
            self._adjust(op, baseline)
        elif isinstance(op, RemoveItem):
            owner = self._owner(op.item)
            if owner is not None:
                fname, seq, n = owner
                del seq[n]
                self.dirty.add(f"items/{fname}")
            elif op.item in baseline:
                removes = self._profile_list("remove_items")
                if op.item not in removes:
                    removes.append(op.item)
                    self.dirty.add("county.yaml")
            else:
                raise KeyError(op.item)
        elif isinstance(op, RestoreItem):
            removes = self.profile.get("remove_items") or []
            if op.item in removes:
                removes.remove(op.item)
                if not removes:
                    del self.profile["remove_items"]
                self.dirty.add("county.yaml")
        elif isinstance(op, PutItem):
            self._put(op)
        else:
            if _plain(self.profile.get(op.field)) != op.value:
                if op.value in (None, []) and op.field in self.profile:
                    del self.profile[op.field]
                elif op.value not in (None, []):
                    self.profile[op.field] = styled(op.value)
                self.dirty.add("county.yaml")

    def _override(self, op: SetOverride) -> None:
        overrides = self.profile.get("overrides") or CommentedSeq()
        at = next((n for n, o in enumerate(overrides) if o.get("item") == op.item), None)
        if op.fields is None:
            if at is not None:
                del overrides[at]
                if not overrides:
                    del self.profile["overrides"]
                self.dirty.add("county.yaml")
            return
        new = {"item": op.item, **{k: op.fields[k] for k in OVERRIDE_FIELDS if op.fields.get(k) is not None}}
        if at is None:
            if "overrides" not in self.profile:
                self.profile["overrides"] = overrides
            overrides.append(styled({**new, "reason": op.reason}))
            self.dirty.add("county.yaml")
            return
        if _update_map(overrides[at], new, keep=("reason",)):
            # the reason written with the override says why the county departs from the
            # baseline and stays; why each later change was made is in its proposal and the log
            self.dirty.add("county.yaml")

    def _adjust(self, op: AdjustItem, baseline: set[str]) -> None:
        unknown = set(op.fields) - set(OVERRIDE_FIELDS)
        if unknown or not op.fields:
            raise ValueError(f"adjust changes {', '.join(OVERRIDE_FIELDS)}; not {', '.join(sorted(unknown)) or 'nothing'}")
        owner = self._owner(op.item)
        if owner is not None:
            fname, seq, n = owner
            if _update_map(seq[n], {**_plain(seq[n]), **op.fields}):
                self.dirty.add(f"items/{fname}")
            return
        if op.item not in baseline:
            raise KeyError(op.item)
        current = next((o for o in (self.profile.get("overrides") or []) if o.get("item") == op.item), None)
        if current is None:
            self._override(SetOverride(item=op.item, fields=op.fields, reason=op.reason))
        elif _update_map(current, {**_plain(current), **op.fields}):
            self.dirty.add("county.yaml")  # the override's reason stays, as in _override

    def _put(self, op: PutItem) -> None:
        if op.domain not in DOMAINS:
            raise ValueError(f"unknown domain {op.domain!r}")
        fname = f"{op.domain}.yaml"
        owner = self._owner(op.item["id"])
        if owner is not None and owner[0] != fname:  # the item moved to another domain
            del owner[1][owner[2]]
            self.dirty.add(f"items/{owner[0]}")
            owner = None
        if owner is None:
            data = self.items.get(fname)
            if data is None:
                data = self.items[fname] = CommentedMap([("domain", op.domain), ("source", "src.template-list"), ("items", CommentedSeq())])
                data.yaml_set_start_comment(f"{DOMAINS[op.domain]}领域的本县事项:不在省级基线清单中的事项。")
            data["items"].append(styled(op.item))
            self.dirty.add(f"items/{fname}")
            return
        _, seq, n = owner
        if _update_map(seq[n], op.item):
            self.dirty.add(f"items/{fname}")

    def render(self) -> dict[str, str | None]:
        """Relative path → new text (None: delete) of the files that changed."""
        out: dict[str, str | None] = {}
        for rel in sorted(self.dirty):
            data = self.profile if rel == "county.yaml" else self.items[rel.split("/", 1)[1]]
            if rel != "county.yaml" and not (data.get("items") or []):
                out[rel] = None  # an items file with no items left
                continue
            new = self._dump(data)
            if rel in self.original:
                new = patch_text(self.original[rel], self._dump(self.y.load(self.original[rel])), new)
            out[rel] = new
        return out

    def _dump(self, data: Any) -> str:
        buf = io.StringIO()
        self.y.dump(data, buf)
        return buf.getvalue()


def patch_text(original: str, old_render: str, new_render: str) -> str:
    """Carry the change between two renders of a file over to the file as it was written.

    ruamel keeps comments and order but not every layout choice (a flow list wrapped by hand is
    emitted on one line): the lines that differ between the render of the file as read and the
    render after the change are the change, and only those replace lines of the original.  Where
    a change falls inside text ruamel re-laid-out, the new render is taken whole."""
    if original == old_render:
        return new_render
    old, new, orig = old_render.splitlines(True), new_render.splitlines(True), original.splitlines(True)
    at: dict[int, int] = {}  # line of the old render → the same line in the original
    for a, b, size in difflib.SequenceMatcher(None, old, orig, autojunk=False).get_matching_blocks():
        at.update({a + k: b + k for k in range(size)})
    out = list(orig)
    for tag, i1, i2, j1, j2 in reversed(difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()):
        if tag == "equal":
            continue
        if i1 < i2:
            if not all(i in at for i in range(i1, i2)) or at[i2 - 1] - at[i1] != i2 - 1 - i1:
                return new_render
            o1, o2 = at[i1], at[i2 - 1] + 1
        elif i1 in at:
            o1 = o2 = at[i1]
        elif i1 - 1 in at or i1 == 0:
            o1 = o2 = at[i1 - 1] + 1 if i1 else 0
        else:
            return new_render
        out[o1:o2] = new[j1:j2]
    return "".join(out)


def apply_ops(cdir: Path, county: str, ops: list[Any], baseline: set[str]) -> dict[str, str | None]:
    """Apply the ops to the county folder `cdir` (a staged or scratch copy); the files written."""
    tree = CountyTree(cdir, county)
    for op in ops:
        tree.apply(op, baseline)
    changed = tree.render()
    for rel, text in changed.items():
        path = cdir / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    if (cdir / "items").is_dir() and not any((cdir / "items").iterdir()):
        (cdir / "items").rmdir()
    return changed


def staged_files(root: Path, county: str, ops: list[Any], baseline: set[str]) -> tuple[dict[str, str], list[str]]:
    """The county folder's files after the ops (computed on a temporary copy), and the relative
    paths the ops changed."""
    with tempfile.TemporaryDirectory(prefix="shudi-county-") as tmp:
        cdir = Path(tmp) / county
        live = counties_dir(root) / county
        if live.is_dir():
            shutil.copytree(live, cdir, ignore=shutil.ignore_patterns(".*"))
        else:
            cdir.mkdir()
        changed = apply_ops(cdir, county, ops, baseline)
        return tree_files(cdir), sorted(changed)


def write_county(root: Path, county: str, ops: list[Any], baseline: set[str]) -> tuple[dict[str, str], list[str]]:
    """Apply the ops to the live county folder, atomically (staged tree, one swap): every change
    to a county's files goes through here.  Returns the county's files as they now are, and the
    paths the ops changed (relative to the county folder)."""
    with county_lock(root, county):
        if not ops:
            return tree_files(counties_dir(root) / county), []
        files, changed = staged_files(root, county, ops, baseline)
        if changed:
            write_tree(root, county, files)
        return files, changed


def tree_files(cdir: Path) -> dict[str, str]:
    """The county folder's YAML files, relative path → text (what a version stores)."""
    if not cdir.is_dir():
        return {}
    return {str(p.relative_to(cdir)): p.read_text(encoding="utf-8")
            for p in sorted(cdir.rglob("*.yaml")) if not any(part.startswith(".") for part in p.relative_to(cdir).parts)}


def tree_hash(files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel].encode() + b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Atomic swap of a whole county folder


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2); False where unsupported."""
    fn = getattr(_libc, "renameat2", None)
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL / ENOSYS / EOPNOTSUPP: the file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def counties_dir(root: Path) -> Path:
    return root / "kb" / "counties"


@contextmanager
def county_lock(root: Path, county: str) -> Iterator[None]:
    """One writer per county at a time, across threads and processes (flock on a lock file)."""
    d = counties_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f".{check_county_id(county)}.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_tree(root: Path, county: str, files: dict[str, str]) -> None:
    """Make kb/counties/<county>/ hold exactly `files`: staged beside it, swapped in at once.
    The caller holds county_lock."""
    d = counties_dir(root)
    live = d / check_county_id(county)
    staged = d / f".{county}.next-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    for rel, text in files.items():
        path = staged / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    if live.is_dir():  # keep what is not YAML (examples' notes, READMEs) as it was
        for p in live.rglob("*"):
            rel = p.relative_to(live)
            if p.is_file() and p.suffix != ".yaml" and not (staged / rel).exists():
                (staged / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, staged / rel)
    crashpoint("tree.staged")
    if not live.exists():
        staged.rename(live)
    elif _exchange(staged, live):
        crashpoint("tree.swapped")
        shutil.rmtree(staged)  # it now holds the old tree
    else:
        old = d / f".{county}.old-{os.getpid()}"
        live.rename(old)
        crashpoint("tree.half-swapped")
        staged.rename(live)
        shutil.rmtree(old)
    _fsync_dir(d)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(root: Path, county: str) -> list[str]:
    """After a crash: staged trees that were never swapped in are dropped, a county left without
    its folder mid-swap gets its old one back.  The caller holds county_lock.  Returns what was
    done, for the log."""
    d = counties_dir(root)
    live = d / county
    done: list[str] = []
    for old in sorted(d.glob(f".{county}.old-*")):
        if not live.exists():
            old.rename(live)
            done.append("restored the folder left mid-swap")
        else:
            shutil.rmtree(old)
    for staged in sorted(d.glob(f".{county}.next-*")):
        shutil.rmtree(staged)
        done.append("dropped a staged tree that was never swapped in")
    return done


def file_version(root: Path, county: str) -> int | None:
    """The version county.yaml says it is (None: no county folder)."""
    path = counties_dir(root) / county / "county.yaml"
    if not path.is_file():
        return None
    data = _yaml().load(path.read_text(encoding="utf-8")) or {}
    return int(data.get("version", 1))


def baseline_ids(root: Path) -> set[str]:
    y = YAML(typ="safe")
    ids: set[str] = set()
    for f in sorted((root / "kb" / "baseline").glob("*.yaml")):
        ids |= {i["id"] for i in (y.load(f.read_text(encoding="utf-8")) or {}).get("items", [])}
    return ids


def override_fields(ov: ItemOverrideSrc) -> dict[str, Any]:
    return {k: v for k, v in ov.model_dump(mode="json", exclude_none=True, exclude_defaults=True).items() if k in OVERRIDE_FIELDS}


def item_data(item: ItemSrc) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude_defaults=True, exclude_none=True)

"""The planned import as change operations (shudi.countyfiles), tried on a scratch copy, written.

An import changes a county through the same ChangeOps as an API proposal, and the same writer
applies them; here the plan (rows → overrides, county items, removals) becomes those ops, each
only where the county's files say something else today, so a re-import of an unchanged table
produces no op and writes nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..countyfiles import (
    Op,
    PutItem,
    RemoveItem,
    RestoreItem,
    SetOverride,
    SetProfile,
    apply_ops,
    item_data,
    override_fields,
    write_county,
)
from ..kb import KBLoadError, load
from ..source import ContactSrc, KBSourceError, TownshipSrc
from .context import Context
from .plan import Plan, same_override


def plan_ops(
    plan: Plan,
    ctx: Context,
    file_name: str,
    name: str | None,
    example: bool,
    townships: list[TownshipSrc] | None = None,
    contacts: list[ContactSrc] | None = None,
    office_hours: str | None = None,
) -> list[Op]:
    ops: list[Op] = []
    cf = ctx.county_file
    if cf is None:  # a new county: its profile
        ops += [SetProfile(field="name", value=name or ctx.county), SetProfile(field="example", value=example),
                SetProfile(field="note", value=f"由 {file_name} 导入生成。")]
    existing = {o.item: o for o in (cf.overrides if cf else [])}
    wanted = {iid: ov for iid, (ov, _) in plan.overrides.items()}
    for iid in ctx.baseline:
        old, new = existing.get(iid), wanted.get(iid)
        if new is None and old is not None:
            ops.append(SetOverride(item=iid, fields=None))
        elif new is not None and (old is None or not same_override(old, new, ctx.lawbook)):
            ops.append(SetOverride(item=iid, fields=override_fields(new), reason=new.reason))
    before = set(cf.remove_items) if cf else set()
    after = set(plan.removed)
    ops += [RemoveItem(item=i) for i in ctx.baseline if i in after - before]
    ops += [RestoreItem(item=i) for i in ctx.baseline if i in before - after]
    for iid in plan.dropped_county:
        ops.append(RemoveItem(item=iid))
    for iid, (domain, item, _) in plan.county_items.items():
        old_entry = ctx.county_items.get(iid)
        if old_entry is None or old_entry.item != item or old_entry.domain != domain:
            ops.append(PutItem(domain=domain, item=item_data(item)))
    for fld, value in (("townships", townships), ("contacts", contacts)):
        if value is None:
            continue
        current = [x.model_dump(exclude_none=True, exclude_defaults=True) for x in (getattr(cf, fld) if cf else [])]
        new_value = [x.model_dump(exclude_none=True, exclude_defaults=True) for x in value]
        if current != new_value:
            ops.append(SetProfile(field=fld, value=new_value))  # type: ignore[arg-type]
    # the office hours come with the 联系方式 sheet (its 办公时间 column); a sheet that gives none
    # leaves them as they are
    if contacts is not None and office_hours is not None and office_hours != (cf.office_hours if cf else None):
        ops.append(SetProfile(field="office_hours", value=office_hours))
    return ops


def trial_load(ops: list[Any], ctx: Context, shacl: bool) -> list[str]:
    """Load the county from a temporary copy of kb/ with the ops applied; the errors, if any."""
    with tempfile.TemporaryDirectory(prefix="shudi-import-") as tmp:
        troot = Path(tmp)
        shutil.copytree(ctx.root / "kb", troot / "kb", ignore=shutil.ignore_patterns(".*"))
        if shacl and (ctx.root / "ontologies").is_dir():
            shutil.copytree(ctx.root / "ontologies", troot / "ontologies")
        cdir = troot / "kb" / "counties" / ctx.county
        cdir.mkdir(parents=True, exist_ok=True)
        try:
            apply_ops(cdir, ctx.county, ops, set(ctx.baseline))
            loaded = load(ctx.county, troot, use_cache=False)
        except (KBLoadError, KBSourceError, KeyError, ValueError) as exc:
            return str(exc).splitlines()
        if shacl and (troot / "ontologies").is_dir():
            from ..validate import shacl_problems

            return shacl_problems(loaded.graph, troot)
    return []


def write_ops(root: Path, county: str, ops: list[Any], baseline: set[str]) -> list[str]:
    """Apply the ops to the live county folder (the one writer, atomically)."""
    _, changed = write_county(root, county, ops, baseline)
    return [f"kb/counties/{county}/{rel}" for rel in changed]

"""Rendering the planned county files, trying them on a scratch copy, writing them."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..kb import KBLoadError, load
from ..source import DOMAINS, ItemSrc, KBSourceError
from .context import Context
from .plan import Plan

class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, date))


class _Block(dict):  # type: ignore[type-arg]
    """A mapping always written in block style (top level of a file)."""


def _repr_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = (not isinstance(data, _Block) and all(_scalar(v) for v in data.values())
            and sum(len(str(k)) + len(str(v)) for k, v in data.items()) < 150)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _repr_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(v, (str, int)) for v in data) and sum(len(str(v)) + 2 for v in data) < 110
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _repr_dict)
_Dumper.add_representer(_Block, _repr_dict)
_Dumper.add_representer(list, _repr_list)


def dump_yaml(data: Any) -> str:
    if isinstance(data, dict):
        data = _Block(data)
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)


def _domain_yaml(domain: str, source: str, items: list[ItemSrc], file_name: str) -> str:
    body = {"domain": domain, "source": source, "items": [i.model_dump(exclude_defaults=True, exclude_none=True) for i in items]}
    head = f"# {DOMAINS[domain]}领域的本县事项(导入自 {file_name});不在省级基线清单中的事项。\n"
    return head + dump_yaml(body)


def _set_block(text: str, key: str, value: Any) -> str:
    """Replace a top-level key of a YAML file, keeping every other line (and its comments)."""
    block = dump_yaml({key: value}) if value else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*:", ln)), None)
    if start is None:
        if not block:
            return text
        if text and not text.endswith("\n"):
            text += "\n"
        return text + block
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


@dataclass
class Files:
    county_yaml: str | None  # new text, None = unchanged
    items: dict[str, str]  # file name → text (the whole new items folder)
    items_changed: bool


def render(plan: Plan, ctx: Context, file_name: str, name: str | None, example: bool) -> Files:
    overrides = [ov.model_dump(exclude_none=True) for ov, _ in plan.overrides.values()]
    order = list(ctx.baseline)
    overrides.sort(key=lambda o: order.index(o["item"]) if o["item"] in order else len(order))
    removed = list(plan.removed)
    if ctx.county_text is None:
        head = f"# {name or ctx.county}:由 {file_name} 导入生成的县级清单。\n"
        data: dict[str, Any] = {"id": ctx.county, "name": name or ctx.county, "example": example,
                                "note": f"由 {file_name} 导入生成。"}
        text = head + dump_yaml(data)
        text = _set_block(text, "remove_items", removed)
        county_yaml: str | None = _set_block(text, "overrides", overrides)
    else:
        cf = ctx.county_file
        assert cf is not None
        same = (set(cf.remove_items) == set(removed)
                and {o.item: o.model_dump(exclude_none=True) for o in cf.overrides} == {o["item"]: o for o in overrides})
        if same:
            county_yaml = None
        else:
            text = _set_block(ctx.county_text, "remove_items", removed)
            county_yaml = _set_block(text, "overrides", overrides)
    by_domain: dict[str, list[ItemSrc]] = {}
    for domain, item, _ in plan.county_items.values():
        by_domain.setdefault(domain, []).append(item)
    items: dict[str, str] = {}
    existing = {p.name: d for p, d in ctx.county_item_files.items()}
    changed = False
    for domain in DOMAINS:
        if domain not in by_domain:
            continue
        fname = f"{domain}.yaml"
        old = existing.get(fname)
        source = old.source if old else ctx.default_source()
        if old is not None and old.domain == domain and old.items == by_domain[domain]:
            items[fname] = (ctx.root / "kb" / "counties" / ctx.county / "items" / fname).read_text(encoding="utf-8")
        else:
            items[fname] = _domain_yaml(domain, source, by_domain[domain], file_name)
            changed = True
    if set(items) != set(existing):
        changed = True
    return Files(county_yaml, items, changed)


def apply_files(files: Files, root: Path, county: str) -> list[str]:
    """Write through temporary files and renames, so a failure never leaves a half-written list."""
    cdir = root / "kb" / "counties" / county
    cdir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    tmp_items = tmp_county = None
    try:
        if files.items_changed:
            tmp_items = Path(tempfile.mkdtemp(prefix=".items-", dir=cdir))
            for fname, text in files.items.items():
                (tmp_items / fname).write_text(text, encoding="utf-8")
        if files.county_yaml is not None:
            fd, tmp = tempfile.mkstemp(prefix=".county-", suffix=".yaml", dir=cdir)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(files.county_yaml)
            tmp_county = Path(tmp)
        # everything is on disk: swap it in
        if tmp_items is not None:
            items_dir = cdir / "items"
            old = None
            if items_dir.exists():
                old = cdir / f".items-old-{os.getpid()}"
                items_dir.rename(old)
            tmp_items.rename(items_dir)
            tmp_items = None
            if old is not None:
                shutil.rmtree(old)
            written += [f"kb/counties/{county}/items/{f}" for f in files.items]
        if tmp_county is not None:
            os.replace(tmp_county, cdir / "county.yaml")
            tmp_county = None
            written.insert(0, f"kb/counties/{county}/county.yaml")
    finally:
        if tmp_items is not None:
            shutil.rmtree(tmp_items, ignore_errors=True)
        if tmp_county is not None:
            tmp_county.unlink(missing_ok=True)
    return written


def trial_load(files: Files, ctx: Context, shacl: bool) -> list[str]:
    """Load the county from a temporary copy of kb/ with the new files; the errors, if any."""
    with tempfile.TemporaryDirectory(prefix="shudi-import-") as tmp:
        troot = Path(tmp)
        shutil.copytree(ctx.root / "kb", troot / "kb", ignore=shutil.ignore_patterns(".*"))
        if shacl and (ctx.root / "ontologies").is_dir():
            shutil.copytree(ctx.root / "ontologies", troot / "ontologies")
        cdir = troot / "kb" / "counties" / ctx.county
        cdir.mkdir(parents=True, exist_ok=True)
        if files.county_yaml is not None:
            (cdir / "county.yaml").write_text(files.county_yaml, encoding="utf-8")
        if files.items_changed:
            shutil.rmtree(cdir / "items", ignore_errors=True)
            (cdir / "items").mkdir()
            for fname, text in files.items.items():
                (cdir / "items" / fname).write_text(text, encoding="utf-8")
        try:
            loaded = load(ctx.county, troot, use_cache=False)
        except (KBLoadError, KBSourceError) as exc:
            return str(exc).splitlines()
        if shacl and (troot / "ontologies").is_dir():
            from ..validate import shacl_problems

            return shacl_problems(loaded.graph, troot)
    return []

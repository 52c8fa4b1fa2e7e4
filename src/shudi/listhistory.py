"""The county files of each numbered list version, kept so that any two versions can be diffed.

A version (the numbers /v1/lists/{county}/versions returns) is written by the one county writer
(shudi.countyfiles) when a proposal is approved; its files — relative path → text — are kept
under <root>/.data/list-versions/<county>/<version>.json beside the store's database.  The
version a county had before its first approval is kept too, when that approval writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .countyfiles import check_county_id


def _path(root: Path, county: str, version: int) -> Path:
    return root / ".data" / "list-versions" / check_county_id(county) / f"{int(version)}.json"


def keep(root: Path, county: str, version: int, files: dict[str, str], *, replace: bool = True) -> None:
    """Keep the files of a version (written whole, then renamed: never half a version)."""
    path = _path(root, county, version)
    if path.is_file() and not replace:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".v-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(files, fh, ensure_ascii=False)
    os.replace(tmp, path)


def files_of(root: Path, county: str, version: int) -> dict[str, str] | None:
    path = _path(root, county, version)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def kept(root: Path, county: str) -> list[int]:
    d = root / ".data" / "list-versions" / check_county_id(county)
    return sorted(int(p.stem) for p in d.glob("*.json")) if d.is_dir() else []

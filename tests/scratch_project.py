"""A writable copy of the project for tests that change a county's files (proposals, imports)."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_project(root: Path, dest: Path) -> Path:
    """kb/, ontologies/ and rules/ copied; the classifier index is keyed by the list's content,
    which the copy shares: reused (the proposals still validate on a cold load of the KB)."""
    for name in ("kb", "ontologies", "rules"):
        shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns(".cache"))
    (dest / ".cache").mkdir()
    for index in (root / ".cache").glob("clf-*.pickle"):
        shutil.copy2(index, dest / ".cache" / index.name)
    return dest

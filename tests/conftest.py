from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from shudi.engine import Engine
from shudi.kb import project_root

ROOT = project_root()
FIXTURES = Path(__file__).parent / "fixtures"
# scratch copies of the KB (proposals, imports) share the learned models of the real one: they are
# keyed by exactly what they were trained on, so sharing never changes an answer, only saves seconds
os.environ.setdefault("SHUDI_MODEL_CACHE", str(ROOT / ".cache"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine over the real KB, shared by the whole session (loading costs ~1 s)."""
    return Engine(ROOT)


@pytest.fixture
def mini_root(tmp_path: Path) -> Path:
    """A writable copy of a one-item KB with the project's ontology and rules, for tests that
    break files on purpose."""
    dest = tmp_path / "mini"
    shutil.copytree(FIXTURES / "minikb", dest)
    shutil.copytree(ROOT / "ontologies", dest / "ontologies")
    shutil.copytree(ROOT / "rules", dest / "rules")
    return dest

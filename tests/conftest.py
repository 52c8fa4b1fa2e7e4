from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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


# -- the response platform (tests/test_platform_*.py) ----------------------------------------------
@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (started from Debian's binaries)."""
    from tests.platform_support import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path):  # noqa: ANN201
    """The platform over a fresh store: SQLite in a temp dir, and a fresh database on PostgreSQL."""
    from shudi.platform.service import Platform
    from shudi.platform.store import PlatformStore

    if request.param == "sqlite":
        store = PlatformStore(f"sqlite:///{tmp_path / 'platform.sqlite'}")
    else:
        import uuid

        from sqlalchemy import create_engine, text

        base = request.getfixturevalue("pg_url")
        name = "t_" + uuid.uuid4().hex[:12]
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        store = PlatformStore(base.rsplit("/", 1)[0] + "/" + name)
    pf = Platform(engine, store)
    yield pf
    store.close()

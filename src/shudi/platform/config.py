"""Where the platform keeps its data: one function, so the service's Settings can take it over."""

from __future__ import annotations

import os
from pathlib import Path


def db_url(root: Path) -> str:
    """SHUDI_DB_URL (any SQLAlchemy URL, e.g. postgresql+psycopg://user@host/shudi), else SQLite
    at <root>/.data/shudi.sqlite — the same rule as shudi.store.Store.for_root."""
    url = os.environ.get("SHUDI_DB_URL")
    if url:
        return url
    (root / ".data").mkdir(exist_ok=True)
    return f"sqlite:///{root / '.data' / 'shudi.sqlite'}"

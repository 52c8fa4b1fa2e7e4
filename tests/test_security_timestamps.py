"""Finding 16 (time zones): a timestamp read back from the store keeps its zone."""

from __future__ import annotations

from pathlib import Path

from shudi.store import AuditRow, Store


def test_audit_time_is_aware_when_read_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    with store.session() as s, s.begin():
        store.audit(s, "张三", "reviewer", "test", "template", {})
    with store.session() as s:
        row = s.query(AuditRow).one()
        assert row.at.tzinfo is not None and row.at.utcoffset().total_seconds() == 0
    assert store.audit_log()[0]["at"].endswith("+00:00")

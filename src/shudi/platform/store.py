"""The platform's storage: an append-only event table (who, when, what, why) and a projection
row per call holding its current state, updated in the same transaction as the event it follows.

A transition is a compare-and-set on the projection's version: `UPDATE … WHERE version = v`
— of two concurrent transitions on one call exactly one matches, the other gets a 409.  The
(call_id, seq) uniqueness of the events backs that up at the database level.  Schema changes are
Alembic migrations (migrations/), applied when the store opens."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint,
                        create_engine, event, func, insert, select, update)
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .errors import PlatformError

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    __tablename__ = "platform_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(8))  # call / down / up (rules/platform.yaml flows)
    township: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(128), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(128), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    item_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(8))
    complexity: Mapped[str | None] = mapped_column(String(8), nullable=True)
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    found_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in China time, for the dashboard
    next_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)
    supervised_step: Mapped[str | None] = mapped_column(String(80), nullable=True)
    speed: Mapped[str | None] = mapped_column(String(8), nullable=True)
    effect: Mapped[str | None] = mapped_column(String(8), nullable=True)
    satisfied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    cooperation: Mapped[str | None] = mapped_column(String(8), nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    deadlines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # pre-check / delegation summary

    # the indexes are the migrations' (0002: chosen by measurement, bench/platform_bench.py);
    # the schema is only ever made by them, never by metadata.create_all


class EventRow(Base):
    __tablename__ = "platform_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("platform_calls.id"))
    seq: Mapped[int] = mapped_column(Integer)  # the call's version after this event
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(128), nullable=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(24), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_pevents_call_seq"),)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (they were stored in UTC): make them aware again."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=timezone.utc)


def utc(dt: datetime) -> datetime:
    """A timestamp for a SQL comparison: UTC, like every stored one (SQLite compares text)."""
    return dt.astimezone(timezone.utc)


def _utc(values: dict[str, Any]) -> dict[str, Any]:
    """Every timestamp goes in as UTC: SQLite keeps no offset, so all rows must share one zone."""
    return {k: (v.astimezone(timezone.utc) if isinstance(v, datetime) else v) for k, v in values.items()}


def migrate(engine: SqlEngine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class PlatformStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        # JSON in UTF-8, not \u escapes: a call's pre-check reasons are Chinese, and escaped they
        # doubled the row (≈ 2.2 kB → overflow pages on SQLite, read by every dashboard query)
        kwargs: dict[str, Any] = {"json_serializer": lambda o: json.dumps(o, ensure_ascii=False)}
        if self.sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: SqlEngine = create_engine(url, **kwargs)
        if self.sqlite:
            @event.listens_for(self.engine, "connect")
            def _connect(dbapi_conn, _):  # noqa: ANN001 - SQLAlchemy event signature
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _begin(conn):  # noqa: ANN001
                # take the write lock up front: a deferred transaction that reads and then writes
                # fails at once with "database is locked" when another writer got in between
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- writes ---------------------------------------------------------------------------------
    def create(self, call: dict[str, Any], ev: dict[str, Any]) -> int:
        with self.engine.begin() as conn:
            call_id = conn.execute(insert(CallRow).values(**_utc(call), version=1).returning(CallRow.id)).scalar_one()
            conn.execute(insert(EventRow).values(**_utc(ev), call_id=call_id, seq=1))
        return call_id

    def append(self, call_id: int, expected_version: int, ev: dict[str, Any], changes: dict[str, Any]) -> int:
        """Record one event and move the projection, if the call is still at `expected_version`.
        Returns the new version; raises a 409 PlatformError when someone else got there first."""
        new = expected_version + 1
        try:
            with self.engine.begin() as conn:
                hit = conn.execute(
                    update(CallRow).where(CallRow.id == call_id, CallRow.version == expected_version)
                    .values(**_utc(changes), version=new)
                ).rowcount
                if hit != 1:
                    raise _conflict(call_id, expected_version)
                conn.execute(insert(EventRow).values(**_utc(ev), call_id=call_id, seq=new))
        except IntegrityError as exc:  # the (call_id, seq) key: a concurrent writer of the same version
            raise _conflict(call_id, expected_version) from exc
        except OperationalError as exc:
            if "deadlock" in str(exc).lower() or "could not serialize" in str(exc).lower():
                raise _conflict(call_id, expected_version) from exc
            raise
        return new

    # -- reads ----------------------------------------------------------------------------------
    def call(self, call_id: int) -> CallRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(CallRow).where(CallRow.id == call_id)).first()
        return _call(row) if row else None

    def events(self, call_id: int) -> list[EventRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(EventRow).where(EventRow.call_id == call_id).order_by(EventRow.seq)).all()
        out = []
        for r in rows:
            e = EventRow(**r._mapping)
            e.at = aware(e.at)  # type: ignore[assignment]
            out.append(e)
        return out

    def calls(self, where: list[Any], limit: int = 200, offset: int = 0) -> tuple[list[CallRow], int]:
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(CallRow).where(*where)).scalar_one()
            rows = conn.execute(select(CallRow).where(*where).order_by(CallRow.id.desc()).limit(limit).offset(offset)).all()
        return [_call(r) for r in rows], total

    def count(self, county: str | None = None) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).select_from(CallRow)
            if county:
                q = q.where(CallRow.county == county)
            return conn.execute(q).scalar_one()


def _call(row: Any) -> CallRow:
    c = CallRow(**row._mapping)
    for f in ("found_at", "created_at", "updated_at", "next_due"):
        setattr(c, f, aware(getattr(c, f)))
    return c


def _conflict(call_id: int, version: int) -> PlatformError:
    return PlatformError(409, "conflict", "该事项刚被他人处理过,请刷新后再操作。",
                         f"call {call_id} changed since version {version}; reload and retry",
                         {"call_id": call_id, "expected_version": version})

"""`make bench` platform figures (issue 13): 100,000 calls in the store, the dashboard's and the
pages' list queries, and one call's transition, on SQLite beside a real PostgreSQL server (a
throw-away cluster from Debian's binaries, as the tests start one).  Printed, never asserted;
the targets are ≤ 200 ms per dashboard and ≤ 20 ms p99 per transition on SQLite.

How the store is filled: a few hundred calls go through the real platform (pre-check, every
step of their life up to a chosen state, deadlines on the working-day calendar), then each is
copied with its events, shifted by whole weeks over a year and moved to another township of its
county, until the store holds --calls of them.  The copies keep the shapes the real code writes.

With --explain the plan of every query (EXPLAIN QUERY PLAN / EXPLAIN) is printed, so the
indexes in the migrations can be checked against what the planner does.

    python bench/platform_bench.py [--calls 100000] [--skip-postgres] [--explain]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from sqlalchemy import event, func, insert, select, text  # noqa: E402

from shudi.contract import CallFacts  # noqa: E402
from shudi.engine import Engine  # noqa: E402
from shudi.kb import counties  # noqa: E402
from shudi.platform.auth import Principal  # noqa: E402
from shudi.platform.deadlines import CHINA  # noqa: E402
from shudi.platform.errors import PlatformError  # noqa: E402
from shudi.platform.models import CallIn, EventIn  # noqa: E402
from shudi.platform.service import Platform  # noqa: E402
from shudi.platform.store import CallRow, EventRow, PlatformStore  # noqa: E402
from shudi.platform.views import dashboard, list_calls  # noqa: E402

STUDIED = CallFacts(studied_cannot_solve=True, dispatched_agency_can_solve=False)
DISPATCHER = Principal(name="调度员", role="dispatcher")
SUPERVISOR = Principal(name="督查员", role="supervisor")
# the call's life as (role, action, extra): a template stops after 0…len(LIFE) of these steps
LIFE: list[tuple[str, str, dict[str, Any]]] = [
    ("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "simple"}),
    ("dispatcher", "dispatch", {}), ("department", "sign", {}),
    ("department", "feedback", {"result": "已处理。"}), ("township", "rate", {"speed": "及时", "effect": "好"}),
    ("dispatcher", "close", {}),
]
RETURNED = LIFE[:3] + [("department", "return", {"reason": "不属本部门职责。"})]
TRANSITIONS = ["accept", "assess", "dispatch", "sign"]
OPEN_WEEKS, STALE = 8, 0.03


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# -- filling the store ---------------------------------------------------------------------------
def templates(pf: Platform, rng: random.Random, per_county: int) -> None:
    """File `per_county` calls per county through the real platform, each stopped at a random
    step of its life (some through 退回), over the last weeks."""
    base = datetime.now(timezone.utc) - timedelta(days=60)
    for county in counties(pf.engine.root):
        ctx = pf.engine.county(county)
        if not ctx.loaded.county.example:
            continue
        towns = [t.id for t in ctx.loaded.county.townships]
        items = sorted(i for i, it in ctx.kb.items.items() if it.primary_for(None))
        done = 0
        while done < per_county:
            item = rng.choice(items)
            t = rng.choice(towns)
            clock = base + timedelta(hours=rng.randrange(0, 24 * 40))
            town = Principal(name="经办人", role="township", unit=t, county=county)
            try:
                cid = pf.file_call(town, CallIn(county=county, item_id=item, facts=STUDIED), now=clock)
            except PlatformError:
                continue  # the pre-check refuses this matter outright (no call): pick another
            steps = RETURNED if rng.random() < 0.08 else LIFE[: rng.randrange(0, len(LIFE) + 1)]
            for role, action, extra in steps:
                clock += timedelta(hours=rng.randrange(1, 30))
                owner = pf.store.call(cid).department
                who = {"dispatcher": DISPATCHER, "township": town,
                       "department": Principal(name="经办人", role="department", unit=owner, county=county)}[role]
                if action == "rate":
                    extra = {"speed": rng.choice(["及时", "及时", "响应慢"]), "effect": rng.choice(["好", "较好", "一般", "差"])}
                try:
                    pf.act(who, cid, EventIn(action=action, **extra), now=clock)  # type: ignore[arg-type]
                except PlatformError:
                    break
            done += 1


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, datetime):
        return value + delta
    if isinstance(value, dict):
        return {k: (_shift_iso(v, delta) if k.endswith("_at") and isinstance(v, str) else _shift(v, delta)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    return value


def _shift_iso(value: str, delta: timedelta) -> str:
    try:
        return (datetime.fromisoformat(value) + delta).isoformat()
    except ValueError:
        return value


def fill(pf: Platform, total: int, rng: random.Random, batch: int = 2000) -> None:
    """Copy the template calls (with their events) until the store holds `total` calls."""
    store = pf.store
    cols = [c.name for c in CallRow.__table__.columns]
    ecols = [c.name for c in EventRow.__table__.columns if c.name not in ("id",)]
    with store.engine.connect() as conn:
        tpl = [dict(r._mapping) for r in conn.execute(select(CallRow))]
        evs: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(EventRow).order_by(EventRow.call_id, EventRow.seq)):
            evs.setdefault(r.call_id, []).append({k: r._mapping[k] for k in ecols})
        next_id = conn.execute(select(func.max(CallRow.id))).scalar_one() + 1
    towns = {c: [t.id for t in pf.engine.county(c).loaded.county.townships] for c in {t["county"] for t in tpl}}
    now = datetime.now(timezone.utc)
    # as on a platform in use, the open calls are recent: a copy moved back further than
    # OPEN_WEEKS is a closed call, but for a few stale ones (overdue, 督办)
    closed = [t for t in tpl if t["state"] == "closed"] or tpl
    have = len(tpl)
    while have < total:
        calls, events = [], []
        for _ in range(min(batch, total - have)):
            delta = -timedelta(weeks=rng.randrange(0, 52))
            old = -delta > timedelta(weeks=OPEN_WEEKS) and rng.random() > STALE
            src = rng.choice(closed if old else tpl)
            row = {k: src[k] for k in cols}
            row = {**row, **{k: _shift(row[k], delta) for k in ("created_at", "updated_at", "next_due", "found_at", "deadlines")}}
            created = row["created_at"] if row["created_at"].tzinfo else row["created_at"].replace(tzinfo=timezone.utc)
            row.update(id=next_id, township=rng.choice(towns[row["county"]]),
                       month=created.astimezone(CHINA).strftime("%Y-%m"))
            if row["next_due"] is not None and row["next_due"].tzinfo is None:
                row["next_due"] = row["next_due"].replace(tzinfo=timezone.utc)
            for k in ("created_at", "updated_at", "next_due", "found_at"):
                if isinstance(row[k], datetime):
                    row[k] = (row[k] if row[k].tzinfo else row[k].replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
            calls.append(row)
            for e in evs[src["id"]]:
                at = e["at"] if e["at"].tzinfo else e["at"].replace(tzinfo=timezone.utc)
                events.append({**e, "call_id": next_id, "at": min(at + delta, now)})
            next_id += 1
        with store.engine.begin() as conn:
            conn.execute(insert(CallRow), calls)
            conn.execute(insert(EventRow), events)
        have += len(calls)
    if not store.sqlite:  # ids were given explicitly: move the sequence past them
        with store.engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('platform_calls', 'id'), (SELECT max(id) FROM platform_calls))"))
        # what autovacuum does on a live server: without the visibility map no scan is index-only
        # and the planner reads the whole table for every dashboard query
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# -- measuring -----------------------------------------------------------------------------------
@contextmanager
def recorded(store: PlatformStore) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run inside the block, with their parameters (for EXPLAIN)."""
    seen: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)


def explain(store: PlatformStore, statements: list[tuple[str, Any]]) -> None:
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for sql, params in statements:
            cur = raw.cursor()
            cur.execute(("EXPLAIN QUERY PLAN " if store.sqlite else "EXPLAIN ") + sql, params)
            plan = [" ".join(str(x) for x in r[3:]) if store.sqlite else r[0] for r in cur.fetchall()]
            cur.close()
            short = " ".join(sql.split())
            print(f"      {short[:150]}{'…' if len(short) > 150 else ''}")
            for line in plan:
                print(f"        {line}")


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm the caches and the connection pool
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def queries(pf: Platform, county: str) -> dict[str, Callable[[], Any]]:
    """What the pages ask the store for: the dashboard and the lists of each role."""
    kb = pf.engine.county(county).kb
    town = pf.engine.county(county).loaded.county.townships[0].id
    with pf.store.engine.connect() as conn:
        dept = conn.execute(select(CallRow.department).where(CallRow.county == county, CallRow.department.is_not(None))
                            .group_by(CallRow.department).order_by(func.count().desc()).limit(1)).scalar_one()
    assert dept in kb.departments
    township = Principal(name="经办人", role="township", unit=town, county=county)
    department = Principal(name="经办人", role="department", unit=dept, county=county)
    return {
        "dashboard (supervisor, whole county)": lambda: dashboard(pf, SUPERVISOR, county),
        "dashboard (one department)": lambda: dashboard(pf, department, county),
        "supervisor's view (overdue/returned/flagged)": lambda: list_calls(pf, SUPERVISOR, county=county, supervision=True),
        "overdue list": lambda: list_calls(pf, SUPERVISOR, county=county, overdue=True),
        "dispatcher's queue (submitted)": lambda: list_calls(pf, DISPATCHER, county=county, state="submitted"),
        "department's inbox (dispatched)": lambda: list_calls(pf, department, state="dispatched"),
        "township's calls": lambda: list_calls(pf, township),
    }


def transitions(pf: Platform, county: str, n: int) -> list[float]:
    """n transitions (accept → assess → dispatch → sign on n/4 submitted calls), one at a time,
    on the real clock: each a compare-and-set that reads the call's log and recomputes its deadlines."""
    with pf.store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(CallRow.id).where(CallRow.county == county, CallRow.state == "submitted")
                                          .order_by(CallRow.id.desc()).limit(n // 4))]
    out = []
    for cid in ids:
        for action in TRANSITIONS:
            c = pf.store.call(cid)
            who = Principal(name="经办人", role="department", unit=c.department, county=county) if action == "sign" else DISPATCHER
            t0 = time.perf_counter()
            pf.act(who, cid, EventIn(action=action, expected_version=c.version))  # type: ignore[arg-type]
            out.append((time.perf_counter() - t0) * 1000)
    return out


def run(name: str, url: str, engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(13)
    store = PlatformStore(url)
    pf = Platform(engine, store)
    t0 = time.perf_counter()
    templates(pf, rng, args.templates)
    t1 = time.perf_counter()
    fill(pf, args.calls, rng)
    t2 = time.perf_counter()
    with store.engine.connect() as conn:
        n_calls = conn.execute(select(func.count()).select_from(CallRow)).scalar_one()
        n_events = conn.execute(select(func.count()).select_from(EventRow)).scalar_one()
    print(f"\n{name}: {n_calls:,} calls, {n_events:,} events "
          f"(templates through the platform {t1 - t0:.1f} s, copies {t2 - t1:.1f} s)")
    figures: dict[str, Any] = {}
    county = max(counties(engine.root), key=store.count)
    print(f"  county {county}: {store.count(county):,} calls; ms over {args.repeat} runs: median / p95 / max")
    for label, fn in queries(pf, county).items():
        ms = timed(fn, args.repeat)
        figures[label] = ms
        print(f"    {label:48s} {statistics.median(ms):7.1f} {pct(ms, 0.95):7.1f} {max(ms):7.1f}")
        if args.explain:
            with recorded(store) as seen:
                fn()
            explain(store, seen)
    ms = transitions(pf, county, args.transitions)
    figures["transition"] = ms
    print(f"    {'transition (' + str(len(ms)) + ', one at a time)':48s} p50 {pct(ms, 0.5):.1f}  p99 {pct(ms, 0.99):.1f}  max {max(ms):.1f}")
    store.close()
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--templates", type=int, default=150, help="calls per example county filed through the platform")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--transitions", type=int, default=1000)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--explain", action="store_true", help="print each query's plan")
    args = ap.parse_args()
    engine = Engine(ROOT)
    print(f"platform bench: {args.calls:,} calls per store; targets on SQLite: dashboard ≤ 200 ms, transition p99 ≤ 20 ms")
    sqlite = None
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="shudi-bench-") as tmp:
            sqlite = run("SQLite", f"sqlite:///{Path(tmp) / 'platform.sqlite'}", engine, args)
    pg = None
    if args.skip_postgres:
        print("\nPostgreSQL: skipped (--skip-postgres)")
    else:
        from tests.platform_support import pg_bin, postgres_server

        if pg_bin() is None:
            print("\nPostgreSQL: server binaries missing, skipped (`make postgres` installs them; root needed)")
        else:
            with postgres_server() as url:
                pg = run("PostgreSQL", url, engine, args)
    print("\nsummary (median ms; transition p99)")
    print(f"  {'':48s} {'SQLite':>9s} {'PostgreSQL':>11s}")
    for label in sqlite or pg or {}:
        q = 0.99 if label == "transition" else 0.5
        cells = [f"{pct(f[label], q):{w}.1f}" if f else f"{'—':>{w}s}" for f, w in ((sqlite, 9), (pg, 11))]
        print(f"  {label:48s} {' '.join(cells)}")


if __name__ == "__main__":
    main()

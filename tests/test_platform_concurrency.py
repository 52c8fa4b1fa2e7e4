"""Concurrency and durability of the platform store, on SQLite and on a real PostgreSQL server:
200 simultaneous transitions on 50 calls lose nothing and never produce an illegal state; a
writer killed with SIGKILL mid-write loses no event it had acknowledged, and neither does the
service killed with SIGKILL while answering HTTP requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from shudi.contract import CallFacts
from shudi.platform.errors import PlatformError
from shudi.platform.models import CallIn, EventIn
from shudi.platform.service import Platform
from shudi.platform.store import CallRow, EventRow, PlatformStore
from tests.platform_support import DISPATCHER, dept, town

FACTS = CallFacts(studied_cannot_solve=True, dispatched_agency_can_solve=False)
PATH = ["accept", "assess", "dispatch", "sign"]  # the linear start of a call's life
NR = dept("county.natural-resources", "example-a")


def _calls(pf: Platform, n: int) -> list[int]:
    t = town("huanghe", "example-a")
    return [pf.file_call(t, CallIn(county="example-a", item_id="nr.illegal-land-occupation", facts=FACTS)) for _ in range(n)]


def _check_log(pf: Platform, ids: list[int]) -> None:
    """Every call's log replays legally: contiguous seqs, each event leaving the state the one
    before it reached, each transition allowed by the flow; the projection equals the replay."""
    flow = pf.rules.flows["call"]
    for cid in ids:
        events = pf.store.events(cid)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        state = events[0].to_state
        for e in events[1:]:
            assert e.from_state == state
            t = flow.transition(e.action, state)  # raises on an illegal step
            state = t.to or state
        row = pf.store.call(cid)
        assert row.state == state and row.version == len(events)


def test_200_simultaneous_transitions_on_50_calls(platform: Platform) -> None:
    pf = platform
    ids = _calls(pf, 50)
    start = threading.Barrier(200)
    wins: Counter[int] = Counter()
    conflicts = Counter()
    lock = threading.Lock()

    def worker(cid: int) -> None:
        start.wait()
        while True:  # take the call's next step; on a conflict re-read and try again
            c = pf.store.call(cid)
            action = PATH[PATH.index({"submitted": "accept", "accepted": "assess", "assessed": "dispatch",
                                      "dispatched": "sign"}[c.state])]
            who = NR if action == "sign" else DISPATCHER
            try:
                pf.act(who, cid, EventIn(action=action, expected_version=c.version))  # type: ignore[arg-type]
            except PlatformError as exc:
                assert exc.status == 409, exc.en
                with lock:
                    conflicts[cid] += 1
                continue
            with lock:
                wins[cid] += 1
            return

    with ThreadPoolExecutor(max_workers=200) as pool:
        list(pool.map(worker, [cid for cid in ids for _ in range(4)]))
    assert sum(wins.values()) == 200 and set(wins.values()) == {4}
    assert sum(conflicts.values()) > 0  # they really did collide
    with pf.store.engine.connect() as conn:
        assert conn.execute(select(EventRow.id)).all().__len__() == 50 + 200
        assert {r.state for r in conn.execute(select(CallRow.state))} == {"in_progress"}
    _check_log(pf, ids)


def test_same_version_exactly_one_wins(platform: Platform) -> None:
    pf = platform
    ids = _calls(pf, 50)
    start = threading.Barrier(200)
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(cid: int) -> None:
        start.wait()
        try:
            pf.act(DISPATCHER, cid, EventIn(action="accept", expected_version=1))
            status = 200
        except PlatformError as exc:
            status = exc.status
        with lock:
            results.append((cid, status))

    with ThreadPoolExecutor(max_workers=200) as pool:
        list(pool.map(worker, [cid for cid in ids for _ in range(4)]))
    per_call = Counter(cid for cid, s in results if s == 200)
    assert len(results) == 200 and set(per_call.values()) == {1} and len(per_call) == 50
    assert {s for _, s in results} == {200, 409}
    _check_log(pf, ids)


WRITER = r"""
import sys
from datetime import datetime, timezone
from shudi.platform.store import PlatformStore
store = PlatformStore(sys.argv[1])
now = lambda: datetime.now(timezone.utc)
base = {"county": "example-a", "flow": "call", "township": "huanghe", "text": "kill test", "urgency": "normal",
        "state": "submitted", "month": "2026-12", "deadlines": [], "detail": {}, "supervision_level": 0}
ev = lambda a, f, t: {"at": now(), "actor": "writer", "role": "dispatcher", "unit": None, "action": a,
                      "from_state": f, "to_state": t, "reason": None, "data": {"pad": "x" * 200}}
i = 0
while True:
    cid = store.create({**base, "created_at": now(), "updated_at": now()}, ev("file", None, "submitted"))
    print(f"ACK {cid} 1", flush=True)
    v = 1
    for a, f, t in (("accept", "submitted", "accepted"), ("assess", "accepted", "assessed")):
        v = store.append(cid, v, ev(a, f, t), {"state": t, "updated_at": now()})
        print(f"ACK {cid} {v}", flush=True)
"""


def _kill_mid_write(url: str) -> None:
    PlatformStore(url).close()  # migrate first, so the writer only writes
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True, env=env)
    acked: list[tuple[int, int]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        _, cid, seq = line.split()
        acked.append((int(cid), int(seq)))
        if len(acked) >= 600:
            os.kill(proc.pid, signal.SIGKILL)  # mid-write: it is inside its next transaction or about to be
            break
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    store = PlatformStore(url)
    try:
        with store.engine.connect() as conn:
            stored = {(r.call_id, r.seq) for r in conn.execute(select(EventRow.call_id, EventRow.seq))}
            versions = {r.id: r.version for r in conn.execute(select(CallRow.id, CallRow.version))}
        assert set(acked) <= stored, f"lost acknowledged events: {sorted(set(acked) - stored)[:5]}"
        # the projection moved in the same transaction as its event: never ahead, never behind
        top: dict[int, int] = {}
        for cid, seq in stored:
            top[cid] = max(top.get(cid, 0), seq)
        assert top == versions
    finally:
        store.close()


def test_kill_9_loses_no_acknowledged_event_sqlite(tmp_path: Path) -> None:
    _kill_mid_write(f"sqlite:///{tmp_path / 'kill.sqlite'}")


def test_kill_9_loses_no_acknowledged_event_postgresql(pg_url: str) -> None:
    _kill_mid_write(pg_url.rsplit("/", 1)[0] + "/postgres")


def test_kill_9_of_the_server_loses_no_acknowledged_event(tmp_path: Path) -> None:
    """The real service (uvicorn, SQLite store) under four clients filing and moving calls over
    HTTP, killed with SIGKILL while requests are in flight: every answered request's event is in
    the store afterwards, and every call's projection matches its log."""
    from unittest import mock

    import httpx

    from bench.devserver import running_server
    from shudi.kb import project_root

    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    town, disp = "example:template:township:chengguan", "example:template:dispatcher:"
    acked: list[tuple[int, int]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as h:
            while not stop.is_set():
                try:
                    r = h.post("/v1/calls", headers={"Authorization": f"Bearer {town}"},
                               json={"item_id": "nr.illegal-land-occupation",
                                     "facts": {"studied_cannot_solve": True, "dispatched_agency_can_solve": False}})
                    assert r.status_code == 201, r.text
                    cid, v = r.json()["id"], r.json()["version"]
                    with lock:
                        acked.append((cid, v))
                    for action in ("accept", "assess"):
                        r = h.post(f"/v1/calls/{cid}/events", headers={"Authorization": f"Bearer {disp}"},
                                   json={"action": action, "expected_version": v})
                        assert r.status_code == 200, r.text
                        v = r.json()["version"]
                        with lock:
                            acked.append((cid, v))
                except httpx.HTTPError:
                    return  # the server is gone

    env = {"SHUDI_DB_URL": url, "SHUDI_SWEEP_SECONDS": "0", "SHUDI_COUNTY": "template"}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("SHUDI_PLATFORM_TOKENS", None)
        os.environ.pop("SHUDI_PLATFORM_TOKENS_FILE", None)
        # four clients write faster than the per-client write limit allows: lifted here
        with running_server(project_root(), timeout=300, env={"SHUDI_RATE_WRITES": ""}) as (base, proc):
            threads = [threading.Thread(target=client, args=(base,)) for _ in range(4)]
            for t in threads:
                t.start()
            while len(acked) < 150 and all(t.is_alive() for t in threads):
                threading.Event().wait(0.05)
            os.kill(proc.pid, signal.SIGKILL)  # four clients are mid-request
            proc.wait(30)
            stop.set()
            for t in threads:
                t.join(60)
    assert len(acked) >= 150
    store = PlatformStore(url)
    try:
        with store.engine.connect() as conn:
            stored = {(r.call_id, r.seq) for r in conn.execute(select(EventRow.call_id, EventRow.seq))}
            versions = {r.id: r.version for r in conn.execute(select(CallRow.id, CallRow.version))}
        assert set(acked) <= stored, f"lost acknowledged events: {sorted(set(acked) - stored)[:5]}"
        top: dict[int, int] = {}
        for cid, seq in stored:
            top[cid] = max(top.get(cid, 0), seq)
        assert top == versions
    finally:
        store.close()

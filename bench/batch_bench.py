"""`make bench`: batch classification throughput (`shudi classify --batch`), messages per second
and per core, for 1 and 2 forked processes and a local two-worker Dask cluster.  The engines are
loaded and warmed before timing; printed, never asserted.

    python -m bench.batch_bench [--messages 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from shudi.batch import run_dask, run_local
from shudi.engine import Engine
from shudi.kb import project_root

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data"


def messages(n: int) -> list[str]:
    texts = [" ".join(json.loads(line)["text"].split()) for f in sorted(GOLD.glob("gold-part*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [texts[i % len(texts)] for i in range(n)]


def _rate(run: Callable[[Iterable[str]], Iterator[str]], lines: list[str]) -> float:
    for _ in run(lines[:50]):  # warm: engines loaded, lazy parts built
        pass
    t0 = time.perf_counter()
    count = sum(1 for _ in run(lines))
    assert count == len(lines)
    return count / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    root, county = project_root(), "template"
    engine = Engine(root)
    lines = messages(args.messages)
    print(f"batch classification, {len(lines)} messages (gold texts repeated)")
    print(f"  {'how':28} {'messages/s':>11} {'per core':>9}")
    for procs in (1, 2):
        rate = _rate(lambda ls, p=procs: run_local(engine, ls, 3, county, p), lines)
        print(f"  {f'{procs} process(es), forked':28} {rate:11.0f} {rate / procs:9.0f}")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40) as cluster:
        rate = _rate(lambda ls: run_dask(root, ls, 3, county, scheduler=cluster.scheduler_address), lines)
    print(f"  {'Dask local cluster, 2 workers':28} {rate:11.0f} {rate / 2:9.0f}")


if __name__ == "__main__":
    main()

"""`make bench`: accuracy on the gold set, cross-validation on the example calls, in-process
latency, engine load time and (unless --skip-sparql) rdflib vs Oxigraph.  HTTP throughput is
measured by wrk, in bench/speed.py.

    python -m bench.figures [--errors N] [--skip-sparql]

Figures are printed, not asserted: the targets are in the issues and the README."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.crossval import cross_validate
from bench.evaluate import calibrate, format_report, load_gold, run_cases, score
from shudi.contract import PrecheckRequest
from shudi.engine import Engine
from shudi.kb import project_root
from shudi.precheck import precheck


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_accuracy(engine: Engine, data: Path, show_errors: int) -> float:
    """Prints the figures; returns the abstention threshold calibrated on the tune half."""
    cases = load_gold(data)
    outcomes = run_cases(engine, cases)
    for split in ("tune", "holdout"):
        print(format_report(f"gold set, {split} half", score([o for o in outcomes if o.case.split == split])))
        print()
    report = score(outcomes)
    print(format_report("gold set, all", report))
    tune = [o for o in outcomes if o.case.split == "tune"]
    if show_errors:
        print(f"\nfirst {show_errors} in-scope errors (gold item / primary → predicted):")
        for o in report.errors[:show_errors]:
            print(f"  [{o.case.item} / {o.case.primary}] → {o.items[:2]} {o.primary[:1]} confidence={o.confidence:.2f} :: {o.case.text[:70]}")
        wrong_oos = [o for o in outcomes if o.case.oos and o.matched]
        print(f"out-of-scope messages answered ({len(wrong_oos)}):")
        for o in wrong_oos[:show_errors]:
            print(f"  → {o.items[:1]} confidence={o.confidence:.2f} :: {o.case.text[:70]}")
    return calibrate(tune)


def bench_latency(engine: Engine, data: Path) -> None:
    cases = load_gold(data)
    texts = [c.text[:500] for c in cases]
    for t in texts[:20]:
        engine.classify(t)  # warm caches
    times = []
    for _ in range(3):
        for t in texts:
            t0 = time.perf_counter()
            engine.classify(t)
            times.append((time.perf_counter() - t0) * 1000)
    long_texts = [t for t in texts if len(t) >= 150]
    long_times = []
    for t in long_texts:
        t0 = time.perf_counter()
        engine.classify(t)
        long_times.append((time.perf_counter() - t0) * 1000)
    township = engine.county().loaded.county.townships[0].id
    ptimes = []
    for t in texts[:300]:
        t0 = time.perf_counter()
        precheck(engine, PrecheckRequest(text=t, township=township))
        ptimes.append((time.perf_counter() - t0) * 1000)
    print(f"classify latency over {len(times)} calls: p50 {statistics.median(times):.2f} ms, p99 {_pct(times, 0.99):.2f} ms, max {max(times):.2f} ms")
    if long_times:
        print(f"classify latency, {len(long_times)} messages of 150–500 chars: p50 {statistics.median(long_times):.2f} ms, p99 {_pct(long_times, 0.99):.2f} ms")
    print(f"precheck latency over {len(ptimes)} calls: p50 {statistics.median(ptimes):.2f} ms, p99 {_pct(ptimes, 0.99):.2f} ms")


def bench_load(root: Path) -> None:
    t0 = time.perf_counter()
    Engine(root, use_cache=False)
    cold = time.perf_counter() - t0
    Engine(root)  # fills the caches if the list or the code changed since the last run
    t0 = time.perf_counter()
    Engine(root)
    warm = time.perf_counter() - t0
    print(f"engine load: {cold:.2f} s without cache (parse statutes, compile graph), {warm:.2f} s from cache")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="shudi benchmarks")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--errors", type=int, default=0, help="list this many misclassified messages")
    ap.add_argument("--skip-sparql", action="store_true")
    args = ap.parse_args(argv)
    root = project_root()
    data = args.data or root / "tests" / "data"
    bench_load(root)
    engine = Engine(root)
    tune_threshold = bench_accuracy(engine, data, args.errors)
    print()
    cv = cross_validate(engine.county().kb, engine.params, cues=engine.cues)
    print(cv.report())
    # the rule of docs/classifier.md: ≥90 % "no match" on both kinds of off-list messages
    print(f"abstention threshold now {engine.params.abstain_below}; calibrated for ≥90% no match on the tune half's "
          f"out-of-scope messages: {tune_threshold}, on the cross-validated off-list example calls: {cv.threshold()}; "
          f"the rule takes the larger: {max(tune_threshold, cv.threshold())}")
    print()
    bench_latency(engine, data)
    if not args.skip_sparql:
        from bench.sparql import bench_sparql

        bench_sparql(engine)


if __name__ == "__main__":
    main()

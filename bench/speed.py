"""`make bench` speed figures (issue 18), each beside its comparison in the same run; printed,
never asserted.

  in-process  p50/p99 of Engine.classify at 20 / 200 / 1,000 / 3,000 / 5,000 characters beside a
              plain TF-IDF + LinearSVC trained here on the KB's own example calls
  answer      size of the default /v1/classify answer on the gold messages
  HTTP        wrk on /v1/classify, uvicorn with 1 and 2 workers, 8 and 64 connections, beside a
              bare FastAPI endpoint answering the same body size (bench/bare_app.py)
  start       first start (empty .cache, in a scratch copy of the KB) and warm start to /readyz

    python bench/speed.py [--skip-http] [--skip-start] [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.answers_snapshot import example_calls, letters  # noqa: E402

LENGTHS = (20, 200, 1000, 3000, 5000)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def gold_texts() -> list[str]:
    out = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        out += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def texts_of_length(length: int, n: int = 60) -> list[str]:
    """n messages of exactly `length` characters: gold and example texts cut to it where they are
    long enough, otherwise letters joined from example calls (bench/answers_snapshot.py)."""
    pool = [t[:length] for t in gold_texts() + [t for _, t in example_calls()] if len(t) >= length]
    if len(pool) < n:
        pool += [t[:length] for _, t in letters([t for _, t in example_calls()]) if len(t) >= length]
        while len(pool) < n:
            calls = [t for _, t in example_calls()]
            pool.append(("".join(calls[len(pool) * 7 % len(calls):]) * 2)[:length])
    step = max(1, len(pool) // n)
    return pool[::step][:n]


def baseline():
    """Plain TF-IDF (character 1-2 grams) + LinearSVC on the KB's example calls, by scenario."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    calls = example_calls()
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    x = vec.fit_transform([t for _, t in calls])
    svm = LinearSVC(C=0.5, random_state=0).fit(x, [w for w, _ in calls])

    def classify(text: str) -> str:
        return svm.classes_[svm.decision_function(vec.transform([text])).argmax()]

    return classify


def timed(fn, texts: list[str], rounds: int) -> list[float]:
    for t in texts[:10]:
        fn(t)
    out = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            fn(t)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_inprocess() -> None:
    from shudi.engine import Engine

    engine = Engine(ROOT)
    base = baseline()
    print("in-process classify (ms)      shudi p50 / p99     TF-IDF+LinearSVC p50 / p99     ratio p50 / p99")
    for length in LENGTHS:
        texts = texts_of_length(length)
        rounds = 5 if length <= 1000 else 2
        ours = timed(lambda t: engine.classify(t), texts, rounds)
        theirs = timed(base, texts, rounds)
        a50, a99, b50, b99 = pct(ours, .5), pct(ours, .99), pct(theirs, .5), pct(theirs, .99)
        print(f"  {length:>5} chars (n={len(ours):>3})        {a50:6.2f} / {a99:6.2f}        {b50:6.2f} / {b99:6.2f}"
              f"                  {a50 / b50:4.1f}x / {a99 / b99:4.1f}x")


def answer_sizes() -> float:
    from fastapi.testclient import TestClient

    from shudi.api import create_app
    from shudi.settings import Settings

    with TestClient(create_app(Settings(root=ROOT))) as client:
        sizes = [len(client.post("/v1/classify", json={"text": t}).content) for t in gold_texts()[::5]]
        full = [len(client.post("/v1/classify", json={"text": t, "include": ["article_text"]}).content) for t in gold_texts()[::5]]
    print(f"default answer: median {statistics.median(sizes) / 1024:.1f} KB, p95 {pct(sizes, .95) / 1024:.1f} KB, "
          f"max {max(sizes) / 1024:.1f} KB (n={len(sizes)}); with article texts (include=[article_text]): "
          f"median {statistics.median(full) / 1024:.1f} KB")
    return statistics.median(sizes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200 and json.loads(r.read()).get("status") == "ready":
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("not ready in time")


def start(app: str, workers: int, env: dict[str, str], factory: bool = True) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, *(["--factory"] if factory else []), "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--backlog", "4096"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, start_new_session=True)
    wait_ready(port, proc)
    return proc, port, time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local n = 0
request = function()
  n = n %% #bodies + 1
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"}, bodies[n])
end
"""


def wrk(port: int, connections: int, duration: int, script: Path) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms)."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        v, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    if "Non-2xx" in out or "Socket errors" in out:
        print("   wrk:", " ".join(l.strip() for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l))
    return rps, ms("50%"), ms("99%")


def bench_http(duration: int, body_bytes: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="shudi-wrk-"))
    bodies = tmp / "bodies.txt"
    bodies.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in gold_texts()), encoding="utf-8")
    script = tmp / "post.lua"
    script.write_text(LUA % bodies)
    env = {"SHUDI_ROOT": str(ROOT), "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    print(f"HTTP /v1/classify, wrk {duration}s per run, gold messages in turn (bare: FastAPI answering {body_bytes} bytes)")
    print("  workers conns    shudi req/s  p50 ms  p99 ms      bare req/s  p50 ms  p99 ms     ratio req/s")
    for workers in (1, 2):
        procs = {}
        try:
            procs["shudi"] = start("shudi.api:app_factory", workers, env)
            procs["bare"] = start("bench.bare_app:app", workers, {**env, "BARE_BYTES": str(body_bytes)}, factory=False)
            for conns in (8, 64):
                ours = wrk(procs["shudi"][1], conns, duration, script)
                bare = wrk(procs["bare"][1], conns, duration, script)
                print(f"  {workers:>7} {conns:>5}    {ours[0]:11.0f} {ours[1]:7.1f} {ours[2]:7.1f}     {bare[0]:11.0f} "
                      f"{bare[1]:7.1f} {bare[2]:7.1f}     {ours[0] / bare[0]:11.2f}")
        finally:
            for proc, _, _ in procs.values():
                stop(proc)
    shutil.rmtree(tmp, ignore_errors=True)


def bench_start() -> None:
    """First start: a scratch copy of the KB with an empty .cache (jieba's own dictionary cache
    in the system temp folder stays as it is); warm start: the same copy again."""
    tmp = Path(tempfile.mkdtemp(prefix="shudi-start-"))
    for name in ("kb", "rules", "ontologies"):
        shutil.copytree(ROOT / name, tmp / name)
    env = {"SHUDI_ROOT": str(tmp), "SHUDI_MODEL_CACHE": str(tmp / ".cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    warm = ROOT / "Makefile"
    figures = []
    for label in ("first start (empty .cache)", "warm start", "warm start"):
        proc, _, seconds = start("shudi.api:app_factory", 1, env)
        stop(proc)
        figures.append((label, seconds))
    bare, _, bare_s = start("bench.bare_app:app", 1, env, factory=False)
    stop(bare)
    for label, seconds in figures:
        print(f"{label:<28} to /readyz: {seconds:5.2f} s   (bare FastAPI {bare_s:.2f} s, {seconds / bare_s:.1f}x)")
    shutil.rmtree(tmp, ignore_errors=True)
    del warm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-start", action="store_true")
    ap.add_argument("--skip-inprocess", action="store_true")
    ap.add_argument("--duration", type=int, default=10)
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores")
    if not args.skip_inprocess:
        bench_inprocess()
    size = answer_sizes()
    if not args.skip_http:
        bench_http(args.duration, int(size))
    if not args.skip_start:
        bench_start()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()

"""Issue 17, "Growth": `shudi classify --batch` uses every core of one machine (processes forked
from one loaded engine) and runs the same job on a Dask cluster; every way gives the same answers,
in input order, as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shudi.kb import project_root

ROOT = project_root()
GOLD = Path(__file__).parent / "data" / "gold-part1.jsonl"


def _batch(tmp_path: Path, *options: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", "from shudi.cli import app; app()", "classify", "--batch",
                           str(tmp_path / "in.txt"), *options],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.rstrip("\n").split("\n")  # an answer may hold U+2028: only \n ends a line


def test_every_way_gives_the_answers_of_one_process(tmp_path: Path) -> None:
    texts = [" ".join(json.loads(line)["text"].split("\n")) for line in GOLD.read_text(encoding="utf-8").split("\n")[:200:4]]
    lines = texts[:20] + ["", "   "] + texts[20:]  # bad lines are answered in place too
    # more lines than one chunk, so the order across processes is really tested
    lines = lines * 5
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    one = _batch(tmp_path, "--processes", "1")
    assert len(one) == len(lines)
    errors = [a for a in map(json.loads, one) if "error" in a]
    assert {e["line"] for e in errors} == {n for n, t in enumerate(lines, 1) if not t.strip()}
    assert one == _batch(tmp_path, "--processes", "2")
    assert one == _batch(tmp_path)  # the default: every core
    assert one == _batch(tmp_path, "--cluster", "local:2")


def test_a_bad_cluster_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("道路积水\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", "from shudi.cli import app; app()", "classify", "--batch",
                           str(tmp_path / "in.txt"), "--cluster", "moon:2"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "local:N" in done.stderr

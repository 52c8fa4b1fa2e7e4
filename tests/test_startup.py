"""Start-up as an operator sees it: the port opens at once, /healthz answers 200 and /readyz 503
with what is being loaded, and the log says what a first start does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.devserver import free_port
from shudi.kb import project_root

ROOT = project_root()
pytestmark = pytest.mark.slow


def test_port_opens_before_the_engine_is_ready(tmp_path: Path) -> None:
    # a fresh copy of the KB without .cache: a real first start (index built, model trained)
    root = tmp_path / "kb-copy"
    for part in ("kb", "rules", "ontologies"):
        shutil.copytree(ROOT / part, root / part)
    env = {k: v for k, v in os.environ.items() if k != "SHUDI_MODEL_CACHE"}
    env["SHUDI_ROOT"] = str(root)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "shudi.api:app_factory", "--factory", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            started = time.monotonic()
            health = None
            while health is None:
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() - started < 30, "the port did not open within 30 s"
                try:
                    health = httpx.get(f"{base}/healthz", timeout=2)
                except httpx.HTTPError:
                    time.sleep(0.1)
            assert health.status_code == 200
            loading = httpx.get(f"{base}/readyz", timeout=5)
            assert loading.status_code == 503, "the engine was ready before the port opened"
            details = loading.json()["error"]["details"]
            assert details["status"] == "loading" and details["stage"] and details["elapsed_s"] >= 0
            # an engine request meanwhile says "still loading", it does not hang or fail
            early = httpx.post(f"{base}/v1/classify", json={"text": "河里有人偷偷排污水"}, timeout=5)
            assert early.status_code == 503 and early.json()["error"]["code"] == "not_ready"

            while (ready := httpx.get(f"{base}/readyz", timeout=30)).status_code != 200:
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() - started < 240, "the engine did not load within 240 s"
                time.sleep(0.5)
            assert ready.json()["status"] == "ready"
            assert httpx.post(f"{base}/v1/classify", json={"text": "河里有人偷偷排污水"}, timeout=30).json()["matched"]
        finally:
            proc.terminate()
            proc.wait(20)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "首次启动" in text and "正在构建索引并训练模型" in text, text[-2000:]
    assert "知识库已就绪" in text
    assert "Building prefix dict" not in text and "Loading model cost" not in text  # jieba kept quiet

"""Start-up of the service: the port opens at once and the engine loads in a background thread.

Loading takes seconds (13–21 s on a first start, when the classifier index is built and the
model trained); meanwhile /healthz answers 200 and /readyz 503 with what is being done, so a
load balancer, an operator and `make serve` all see that the service is alive and loading
rather than a refused connection."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .engine import BUILDING, Engine
from .settings import Settings

log = logging.getLogger("shudi.startup")


def _say(message: str, *args: object) -> None:
    """Log at WARNING when nothing configured the `shudi` loggers (plain `uvicorn`), so that the
    start-up messages reach the console through Python's last-resort handler; INFO otherwise."""
    configured = logging.getLogger("shudi").handlers or logging.getLogger().handlers
    log.log(logging.INFO if configured else logging.WARNING, message, *args)


class Startup:
    """One background load of the engine.  `progress()` is what /readyz shows while it runs."""

    def __init__(self, settings: Settings, on_ready: Callable[[Engine], None]) -> None:
        self.settings = settings
        self.county = settings.county
        self.on_ready = on_ready
        self.started = time.monotonic()
        self.stage = "正在启动"
        self.error: str | None = None
        self.done = False
        self.first_start = False  # the classifier index is built and the model trained: 15–30 s

    def start(self) -> None:
        threading.Thread(target=self._run, name="shudi-startup", daemon=True).start()

    def _stage(self, stage: str) -> None:
        self.stage = stage
        if stage == BUILDING and not self.first_start:
            self.first_start = True
            _say("首次启动(或清单已变更):正在构建索引并训练模型…约需 15–30 秒,此后启动只需数秒;"
                 "端口已开放,/readyz 显示进度")
        else:
            _say("%s…", stage)

    def _run(self) -> None:
        _say("正在加载知识库(县:%s)…", self.county)
        try:
            engine = Engine(settings=self.settings, progress=self._stage)
        except Exception as exc:  # noqa: BLE001 - shown by /readyz and logged, never a silent hang
            self.error = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
            self.stage = "加载失败"
            log.exception("知识库加载失败")
            return
        self.on_ready(engine)
        self.done = True
        self.stage = "已就绪"
        _say("知识库已就绪(用时 %.1f 秒)", time.monotonic() - self.started)

    def progress(self) -> dict[str, Any]:
        return {
            "status": "failed" if self.error else ("ready" if self.done else "loading"),
            "stage": self.stage,
            "first_start": self.first_start,
            "elapsed_s": round(time.monotonic() - self.started, 1),
            "error": self.error,
        }

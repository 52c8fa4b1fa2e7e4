"""The HTTP service (FastAPI): one router per user group (`health`, `hotline`, `township`,
`browse`, `legal`, `lists`, `pages`), their dependencies in `deps`, one error rendering in
`handlers`.  One Engine per app, in app.state; every error is a specific 4xx with a Chinese and
an English message — never a traceback."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from ..engine import Engine
from ..settings import Settings
from ..sparql import SparqlService
from ..platform.routes import install as install_platform
from ..startup import Startup
from . import browse, handlers, health, hotline, legal, lists, pages, township
from .bodylimit import BodyLimit
from .hygiene import SecurityHeaders, install_cors
from .ratelimit import RateLimit

ROUTERS = (health, hotline, township, browse, legal, lists, pages)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or (engine.settings if engine is not None else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def ready(loaded: Engine) -> None:
            app.state.engine = loaded
            # read the RDF graph in the background: only SPARQL and the stats need it
            threading.Thread(target=lambda: loaded.county().loaded.graph, daemon=True).start()

        if getattr(app.state, "engine", None) is None:
            # the port opens at once; the engine loads in the background (/readyz: 503 with progress)
            app.state.startup = Startup(settings, ready)
            app.state.startup.start()
        else:
            ready(app.state.engine)
        yield
        app.state.sparql.close()

    app = FastAPIOffline(  # /docs and /redoc from the package's own Swagger UI and ReDoc files, no CDN
        title="shudi 属地管理 API",
        version="0.1.0",
        description="谁来管:属地管理事项识别、主体/配合责任确定、乡呼县应呼叫预检,以及法律依据查询。",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sparql = SparqlService.from_settings(settings)
    if engine is not None:
        app.state.engine = engine
    handlers.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    install_platform(app)  # 乡呼县应: calls, dispatch, 督办, ratings, assessment, and its pages
    # outermost last: every answer (a 413 or 429 too) carries the security headers
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, settings=settings)
    install_cors(app, settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    return app


def app_factory() -> FastAPI:
    """uvicorn entry (`shudi serve`): settings from the SHUDI_* environment."""
    return create_app()

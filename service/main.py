"""The FastAPI app: wiring only.

Run with ``minyi serve`` or ``uvicorn --factory service.main:create_app``.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from nlp import MinyiError, __version__
from service.deps import _reader, _store
from service.jobs import requeue_orphans
from service.keys import KeyRing
from service.metrics import Metrics
from service.middleware import Guard
from service.routes import audit, batches, classify, clusters, health, opinions
from service.settings import Settings, get_settings, load_settings
from service.worker import Supervisor

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _private(url: str) -> None:
    """Make a SQLite database's files readable by their owner only."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            with suppress(OSError):
                os.chmod(path + suffix, 0o600)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` replaces the environment's (tests pass their own)."""
    config = settings or load_settings()
    database = _store(config.database, config.secret).engine  # migrates, makes the service's tables
    _private(config.database)
    keys = KeyRing(_reader(config.database, config.secret).engine, config.keys)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Jobs of a server that died are queued again; workers run them in processes of
        # their own.
        requeued = requeue_orphans(database)
        if requeued:
            log.info("%d batch job(s) of a stopped server queued again", requeued)
        workers = [Supervisor(config, database) for _ in range(config.batch_workers)]
        for worker in workers:
            worker.start()
        yield
        for worker in workers:
            worker.stop()

    # Swagger UI and ReDoc from files that ship in fastapi-offline: no outside URL in /docs.
    app = FastAPIOffline(
        title="Minyi 民意 API",
        version=__version__,
        description=(
            "Classify citizens' opinions (意见分类), store them and group them into same-issue "
            "clusters (问题聚类), draft deputy suggestions (建议草稿) and score whole exports in "
            "the background (批量). Every /v1 call needs `Authorization: Bearer <key>`: read "
            "keys may GET and classify, write keys may also store and upload, admin keys may do "
            "everything."
        ),
        lifespan=lifespan,
    )
    if settings is not None:

        async def given() -> Settings:
            return settings

        app.dependency_overrides[get_settings] = given
    app.state.metrics = metrics
    app.add_middleware(
        Guard,
        keys=keys,
        metrics=metrics,
        body_limit=config.max_body_bytes,
        upload_limit=config.max_upload_bytes,
        per_minute=config.rate_limit_per_minute,
        failures_per_minute=config.auth_failures_per_minute,
    )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        body = {"error": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        error = f"invalid request: {where}: {first.get('msg', 'bad value')}"
        return JSONResponse({"error": error}, status_code=422)

    @app.exception_handler(MinyiError)
    async def minyi_error(request: Request, exc: MinyiError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

    for module in (health, classify, opinions, clusters, batches, audit):
        app.include_router(module.router)
    return app

"""The FastAPI app: wiring only. Run with ``minyi serve`` or ``uvicorn --factory service.main:create_app``."""

from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nlp import MinyiError, __version__
from service.deps import _store, _stored_pipeline
from service.jobs import BatchWorker, requeue_orphans
from service.routes import batches, classify, clusters, health, opinions
from service.settings import Settings, get_settings, load_settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class LimitsAndMetrics:
    """Refuse bodies over the limit (413) and count requests and time per route (pure ASGI,
    cheaper than a ``BaseHTTPMiddleware``)."""

    def __init__(self, app, stats: dict, limit: int, upload_limit: int):
        self.app, self.stats, self.limit, self.upload_limit = app, stats, limit, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        size = next((v.decode() for k, v in scope["headers"] if k == b"content-length"), "")
        # Uploads get room for the multipart envelope.
        allowed = self.upload_limit + 65536 if scope["path"] == "/v1/batches" else self.limit
        if size.isdigit() and int(size) > allowed:
            response = JSONResponse({"error": f"request body of {size} bytes is over the limit of {allowed}"}, status_code=413)
            return await response(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.stats["count"][(path, status[0])] += 1
            self.stats["seconds"][path] += time.perf_counter() - start


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` replaces the environment's (tests pass their own)."""
    config = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Opening the database runs the library's migrations and makes the service's tables;
        # jobs of a server that died are queued again.
        database = _store(config.database).engine
        requeued = requeue_orphans(database)
        if requeued:
            log.info("%d batch job(s) of a stopped server queued again", requeued)
        pipeline = _stored_pipeline(config.database, config.taxonomy, config.model, config.mask_pii, "auto")
        lease = config.job_lease_seconds
        workers = [BatchWorker(database, pipeline, lease) for _ in range(config.batch_workers)]
        for worker in workers:
            worker.start()
        yield
        for worker in workers:
            worker.stop()

    app = FastAPI(
        title="Minyi 民意 API",
        version=__version__,
        description=(
            "Classify citizens' opinions (意见分类), store them and group them into same-issue clusters (问题聚类), "
            "draft deputy suggestions (建议草稿) and score whole exports in the background (批量). "
            "Every /v1 call needs `Authorization: Bearer <key>`."
        ),
        lifespan=lifespan,
    )
    if settings is not None:

        async def given() -> Settings:
            return settings

        app.dependency_overrides[get_settings] = given
    limit, upload_limit = config.max_body_bytes, config.max_upload_bytes
    app.state.stats = {"count": Counter(), "seconds": Counter()}

    app.add_middleware(LimitsAndMetrics, stats=app.state.stats, limit=limit, upload_limit=upload_limit)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"invalid request: {where}: {first.get('msg', 'bad value')}"}, status_code=422)

    @app.exception_handler(MinyiError)
    async def minyi_error(request: Request, exc: MinyiError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

    for module in (health, classify, opinions, clusters, batches):
        app.include_router(module.router)
    return app

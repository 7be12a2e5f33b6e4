"""The FastAPI app: wiring only. Run with ``minyi serve`` or ``uvicorn --factory service.main:create_app``."""

from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nlp import MinyiError, Pipeline, PipelineConfig, __version__

from . import jobs
from .deps import _pipeline, _store
from .routes import batches, classify, clusters, health, opinions
from .settings import Settings, get_settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` replaces the environment's (tests pass their own)."""
    config = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Opening the database runs its migrations; jobs of a server that died are queued again.
        store = _store(config.database)
        requeued = jobs.requeue_orphans(store)
        if requeued:
            log.info("%d batch job(s) of a stopped server queued again", requeued)
        shared = _pipeline(config.taxonomy, config.model)
        batch_config = PipelineConfig(taxonomy=config.taxonomy, classifier=config.model or "lexicon", mask_pii=config.mask_pii)
        pipeline = Pipeline(batch_config, store=store, classifier=shared.classifier, taxonomy=shared.taxonomy, tokenizer=shared.tokenizer)
        workers = [jobs.BatchWorker(store, pipeline, lease_seconds=config.job_lease_seconds) for _ in range(config.batch_workers)]
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
        app.dependency_overrides[get_settings] = lambda: settings
    limit, upload_limit = config.max_body_bytes, config.max_upload_bytes
    app.state.stats = {"count": Counter(), "seconds": Counter()}

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next):
        size = request.headers.get("content-length")
        allowed = upload_limit + 65536 if request.url.path == "/v1/batches" else limit  # room for the multipart envelope
        if size and size.isdigit() and int(size) > allowed:
            return JSONResponse({"error": f"request body of {size} bytes is over the limit of {allowed}"}, status_code=413)
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.stats["count"][(path, response.status_code)] += 1
        app.state.stats["seconds"][path] += time.perf_counter() - start
        return response

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

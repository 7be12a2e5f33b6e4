"""The FastAPI app: wiring only. Run with ``minyi serve`` or ``uvicorn --factory service.main:create_app``."""

from __future__ import annotations

import logging
import time
from collections import Counter

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nlp import MinyiError, __version__

from .routes import classify, health
from .settings import Settings, get_settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` replaces the environment's (tests pass their own)."""
    app = FastAPI(
        title="Minyi 民意 API",
        version=__version__,
        description="Classify citizens' opinions (意见分类) and route them to responsible bodies (承办单位). Every /v1 call needs `Authorization: Bearer <key>`.",
    )
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    limit = (settings or get_settings()).max_body_bytes
    app.state.stats = {"count": Counter(), "seconds": Counter()}

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next):
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > limit:
            return JSONResponse({"error": f"request body of {size} bytes is over the limit of {limit}"}, status_code=413)
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

    app.include_router(health.router)
    app.include_router(classify.router)
    return app

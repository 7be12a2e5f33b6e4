"""GET /healthz, /readyz and /metrics (Prometheus); no key needed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from service.deps import PipelineDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="The process is up (touches neither the database nor the models)")
async def healthz() -> dict:
    # async: answered on the event loop, even when every thread of the pool is busy.
    return {"status": "ok"}


@router.get("/readyz", summary="The models are loaded and a text can be classified")
async def readyz(pipeline: PipelineDep):
    try:
        await run_in_threadpool(pipeline.classify, ["暖气不热"])
    except Exception:  # a broken model or taxonomy: not ready; the reason goes to the log only
        log.exception("not ready")
        return JSONResponse({"status": "not ready"}, status_code=503)
    return {"status": "ready"}


@router.get("/metrics", summary="Request counts and latency (Prometheus text format)")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

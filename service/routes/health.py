"""GET /healthz, /readyz and /metrics (Prometheus text format); no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from service.deps import PipelineDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="The models are loaded and a text can be classified")
def readyz(pipeline: PipelineDep):
    try:
        pipeline.classify(["暖气不热"])
    except Exception as e:  # a broken model or taxonomy: not ready, and say why
        return JSONResponse({"status": "not ready", "error": f"{type(e).__name__}: {e}"}, status_code=503)
    return {"status": "ready"}


@router.get("/metrics", response_class=PlainTextResponse, summary="Request counts and latency (Prometheus)")
def metrics(request: Request) -> str:
    stats = request.app.state.stats
    lines = ["# TYPE minyi_requests_total counter"]
    for (path, status), count in sorted(stats["count"].items()):
        lines.append(f'minyi_requests_total{{path="{path}",status="{status}"}} {count}')
    lines.append("# TYPE minyi_request_seconds_sum counter")
    for path, seconds in sorted(stats["seconds"].items()):
        lines.append(f'minyi_request_seconds_sum{{path="{path}"}} {seconds:.6f}')
    return "\n".join(lines) + "\n"

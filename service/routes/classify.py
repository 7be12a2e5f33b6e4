"""POST /v1/classify."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from service.deps import CallerDep, PipelineDep, SettingsDep
from service.schemas import ClassifyRequest, ClassifyResponse, ErrorResponse

router = APIRouter(prefix="/v1", tags=["classify"])

INLINE_CHARS = 2000  # requests this small are classified on the event loop


@router.post(
    "/classify",
    response_model=ClassifyResponse,
    responses={code: {"model": ErrorResponse} for code in (401, 413, 422, 429)},
    summary="Classify opinions (分类) and route them to a responsible body (承办单位)",
)
async def classify(
    body: ClassifyRequest, pipeline: PipelineDep, settings: SettingsDep, _caller: CallerDep
) -> ClassifyResponse:
    """Classes, confidence, alternatives, department and keywords for each text, in order."""
    if len(body.texts) > settings.max_texts:
        raise HTTPException(
            413, f"{len(body.texts)} texts in one request; the limit is {settings.max_texts}"
        )
    too_long = [i for i, t in enumerate(body.texts) if len(t) > settings.max_text_chars]
    if too_long:
        raise HTTPException(
            422, f"text {too_long[0]} is longer than {settings.max_text_chars} characters"
        )
    # Classifying a few short texts costs less than handing them to the thread pool.
    if sum(len(t) for t in body.texts) <= INLINE_CHARS:
        return ClassifyResponse(results=pipeline.classify(body.texts))
    return ClassifyResponse(results=await run_in_threadpool(pipeline.classify, body.texts))

"""POST /v1/opinions: store opinions as they arrive and assign them to clusters."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, HTTPException

from nlp import InputTable
from nlp.core.ids import content_key, external_key
from nlp.io.columns import Columns
from service.audit import record
from service.deps import CallerDep, SettingsDep, StoredPipelineDep
from service.schemas import (
    ErrorResponse,
    OpinionIn,
    OpinionResult,
    OpinionsRequest,
    OpinionsResponse,
)

router = APIRouter(prefix="/v1", tags=["opinions"])

_FIELDS = ("external_id", "text", "title", "source", "time", "place", "user")
_COLUMNS = Columns(
    text="text",
    id="external_id",
    title="title",
    source="source",
    time="time",
    place="place",
    user="user",
)


def opinion_key(item: OpinionIn) -> str:
    """The store key of a received opinion: its external id, or its content without one."""
    if item.external_id:
        return external_key(item.external_id)
    return content_key(*(getattr(item, f) or "" for f in _FIELDS[1:]))


@router.post(
    "/opinions",
    response_model=OpinionsResponse,
    responses={code: {"model": ErrorResponse} for code in (401, 403, 413, 422, 429)},
    summary="Store opinions (意见入库) and assign each to a same-issue cluster (问题聚类)",
)
def add_opinions(
    body: OpinionsRequest, pipeline: StoredPipelineDep, settings: SettingsDep, caller: CallerDep
) -> OpinionsResponse:
    """Opinions are masked, classified and joined to stored clusters (or start new ones), in order.
    Idempotent: an opinion sent again (same external id, or same content without one) returns its
    stored result with ``created: false``."""
    items = body.opinions
    if len(items) > settings.max_texts:
        raise HTTPException(
            413, f"{len(items)} opinions in one request; the limit is {settings.max_texts}"
        )
    too_long = [i for i, o in enumerate(items) if len(o.text) > settings.max_text_chars]
    if too_long:
        raise HTTPException(
            422, f"opinion {too_long[0]} is longer than {settings.max_text_chars} characters"
        )
    keys = [opinion_key(o) for o in items]
    store = pipeline.store
    with store.transaction():
        stored = store.stored_keys(keys)
        first_of: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in stored:
                first_of.setdefault(k, i)
        todo = list(first_of.values())
        fresh: dict[str, dict] = {}
        if todo:
            frame = pd.DataFrame({f: [getattr(items[i], f) or "" for i in todo] for f in _FIELDS})
            result = pipeline.run(
                InputTable.from_frame(frame, source="POST /v1/opinions"),
                _COLUMNS,
                keys=[keys[i] for i in todo],
            )
            for i, row in zip(todo, result.opinions.to_dict("records")):
                fresh[keys[i]] = row
    results, answered = [], set()
    for item, key in zip(items, keys):
        if key in stored:
            results.append(
                OpinionResult(
                    external_id=item.external_id, key=key, created=False, status="ok", **stored[key]
                )
            )
            continue
        row = fresh[key]
        first = key not in answered  # a key repeated in one request is created once
        answered.add(key)
        results.append(
            OpinionResult(
                external_id=item.external_id,
                key=key,
                created=first and row["status"] == "ok",
                status=row["status"],
                error=row["error"],
                cluster=row["cluster"],
                level1=row["level1"],
                level2=row["level2"],
                department=row["department"],
            )
        )
    created = sum(r.created for r in results)
    record(store.engine, caller.name, "opinions.store", f"{created} new of {len(results)}")
    return OpinionsResponse(results=results)

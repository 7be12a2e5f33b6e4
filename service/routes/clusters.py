"""GET /v1/clusters, GET /v1/clusters/{id}, POST /v1/clusters/{id}/draft."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from nlp.clustering.describe import STATUSES
from nlp.clustering.store import ClusterFilter
from nlp.core.ids import parse_weekly_counts
from nlp.outputs.drafts import write_docx
from nlp.summarize.draft import ExtractiveDrafter
from service.audit import record
from service.deps import CallerDep, ReaderDep, StoredPipelineDep
from service.schemas import (
    ClusterDetail,
    ClusterPage,
    DraftResponse,
    ErrorResponse,
    Member,
    TrendPoint,
)

router = APIRouter(prefix="/v1", tags=["clusters"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 429)}
_MAX_MEMBERS = 500
_MEMBER_FIELDS = ("text", "title", "time", "source", "place", "level1", "level2")


@router.get(
    "/clusters",
    response_model=ClusterPage,
    responses=_ERRORS,
    summary="List same-issue clusters (问题列表), hottest first",
)
def list_clusters(
    reader: ReaderDep,
    _caller: CallerDep,
    level1: Annotated[str | None, Query(max_length=64, examples=["交通运输"])] = None,
    level2: Annotated[str | None, Query(max_length=64, examples=["道路破损/改道"])] = None,
    department: Annotated[str | None, Query(max_length=128, examples=["交通运输局"])] = None,
    place: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A place named by the cluster's opinions.",
            examples=["青石村"],
        ),
    ] = None,
    since: Annotated[
        date | None, Query(description="Clusters with an opinion on or after this day.")
    ] = None,
    until: Annotated[
        date | None, Query(description="Clusters with an opinion on or before this day.")
    ] = None,
    min_heat: Annotated[
        float | None, Query(ge=0, le=1, description="Lowest heat score (0–1).")
    ] = None,
    min_size: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
    status: Annotated[Literal[STATUSES] | None, Query(description="Review status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ClusterPage:
    where = ClusterFilter(
        level1=level1,
        level2=level2,
        department=department,
        place=place,
        since=since,
        until=until,
        min_heat=min_heat,
        min_size=min_size,
        status=status,
    )
    total, items = reader.list_clusters(where, limit=limit, offset=offset)
    return ClusterPage(total=total, limit=limit, offset=offset, items=items)


def _found(store, cluster_id: str) -> dict:
    cluster = store.cluster(cluster_id)
    if cluster is None:
        raise HTTPException(404, f"no cluster {cluster_id!r}")
    return cluster


@router.get(
    "/clusters/{cluster_id}",
    response_model=ClusterDetail,
    responses=_ERRORS,
    summary="One cluster: members, scores, weekly trend",
)
def get_cluster(cluster_id: str, reader: ReaderDep, _caller: CallerDep) -> ClusterDetail:
    cluster = _found(reader, cluster_id)
    members, _, _ = reader.members([cluster_id])
    rows = members.tail(_MAX_MEMBERS).to_dict("records")
    weekly = parse_weekly_counts(cluster.get("weekly_counts"))
    trend = [TrendPoint(week=week, count=count) for week, count in weekly.items()]
    return ClusterDetail(**cluster, members=[_member(r) for r in rows], trend=trend)


def _member(row: dict) -> Member:
    """A member as the API shows it; a value missing from the table (NaN: an opinion of a batch
    without an id column, say) is empty, or ``None`` for the external id."""
    ext = row["external_id"]
    fields = {k: row[k] if isinstance(row[k], str) else "" for k in _MEMBER_FIELDS}
    return Member(external_id=ext if isinstance(ext, str) else None, **fields)


@router.post(
    "/clusters/{cluster_id}/draft",
    response_model=DraftResponse,
    responses={
        **_ERRORS,
        409: {"model": ErrorResponse},
        200: {"content": {"application/json": {}, DOCX: {}}},
    },
    summary="Draft a deputy suggestion (代表建议草稿) from a cluster; .docx with Accept: " + DOCX,
)
def draft_cluster(
    cluster_id: str,
    request: Request,
    pipeline: StoredPipelineDep,
    reader: ReaderDep,
    caller: CallerDep,
):
    _found(reader, cluster_id)
    # As it stands now, with a reviewer's title and classes (nlp.clustering.review) on top.
    described, members = reader.described(cluster_id, pipeline.scorer)
    if described is None:
        raise HTTPException(409, f"cluster {cluster_id!r} has no stored opinions to draft from")
    draft = (pipeline.drafter or ExtractiveDrafter()).draft(described, members)
    record(pipeline.store.engine, caller.name, "cluster.draft", cluster_id)
    if DOCX in request.headers.get("accept", ""):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "draft.docx"
            write_docx(draft, path)
            content = path.read_bytes()
        return Response(
            content,
            media_type=DOCX,
            headers={"Content-Disposition": f'attachment; filename="{cluster_id}.docx"'},
        )
    return draft.to_dict()

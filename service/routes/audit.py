"""GET /v1/audit (admin keys only): who did what, when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from service.audit import read_audit
from service.deps import CallerDep, ReaderDep
from service.schemas import AuditPage, ErrorResponse

router = APIRouter(prefix="/v1", tags=["audit"])

_ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 429)}


@router.get(
    "/audit",
    response_model=AuditPage,
    responses=_ERRORS,
    summary="The audit log: every write, batch and review decision, with the key's name",
)
def list_audit(
    reader: ReaderDep,
    caller: CallerDep,
    who: Annotated[str | None, Query(max_length=128, description="Only this key's name.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    if not caller.admin:  # the middleware refuses it first; this keeps the route safe alone
        raise HTTPException(403, f"key {caller.name!r} has scope {caller.scope}; this needs admin")
    items = read_audit(reader.engine, who=who, limit=limit, offset=offset)
    return AuditPage(limit=limit, offset=offset, items=items)

"""POST /v1/batches, GET /v1/batches, GET and DELETE /v1/batches/{id}, and its files.

A batch is visible only to the key that uploaded it and to admin keys; others get 404.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile
from fastapi.responses import FileResponse

from service.audit import record
from service.deps import CallerDep, DatabaseDep, ReaderDep, SettingsDep
from service.jobs import delete_batch, find_batch, list_batches, new_folder, queue_batch
from service.keys import Caller
from service.schemas import Batch, BatchFile, BatchPage, ErrorResponse

router = APIRouter(prefix="/v1", tags=["batches"])

FORMATS = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".jsonl", ".json", ".parquet")
_ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 413, 422, 429)}
_CHUNK = 1 << 20
_FIELDS = ("id", "status", "filename", "stage", "done", "total", "attempts", "error")


def _describe(job: dict) -> Batch:
    out = Path(job["folder"]) / "out"
    files = []
    if job["status"] == "done" and out.is_dir():
        for p in sorted(out.iterdir()):
            if p.is_file():
                url = f"/v1/batches/{job['id']}/files/{p.name}"
                files.append(BatchFile(name=p.name, url=url, bytes=p.stat().st_size))
    fields = {k: job[k] for k in (*_FIELDS, "created_at", "updated_at")}
    return Batch(**fields, summary=json.loads(job["summary"] or "{}"), files=files)


@router.post(
    "/batches",
    response_model=Batch,
    status_code=202,
    responses=_ERRORS,
    summary="Upload a whole export (批量导入) to be scored in the background",
)
def create_batch(
    settings: SettingsDep,
    database: DatabaseDep,
    caller: CallerDep,
    file: Annotated[
        UploadFile, File(description="CSV, TSV, TXT, XLSX/XLS, JSONL/JSON or Parquet.")
    ],
    text_column: Annotated[
        str | None,
        Form(
            max_length=200,
            description="The text column; guessed from common names when empty.",
            examples=["留言详情"],
        ),
    ] = None,
    id_column: Annotated[str | None, Form(max_length=200)] = None,
    time_column: Annotated[str | None, Form(max_length=200)] = None,
    sheet: Annotated[str | None, Form(max_length=200)] = None,
) -> Batch:
    """The job is queued and runs in a worker process; poll ``GET /v1/batches/{id}`` for
    progress and the output files. Jobs survive a restart of the server. The uploaded file is
    deleted once the job has ended (unless ``MINYI_KEEP_UPLOADS=true``)."""
    name = PurePath(file.filename or "").name
    if not name.lower().endswith(FORMATS):
        raise HTTPException(422, f"file {name or '(no name)'!r} is not one of {', '.join(FORMATS)}")
    folder = new_folder(settings.data_folder)
    written = 0
    try:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as target:
            while chunk := file.file.read(_CHUNK):
                written += len(chunk)
                if written > settings.max_upload_bytes:
                    limit = settings.max_upload_bytes
                    raise HTTPException(413, f"upload is over the limit of {limit} bytes")
                target.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    options = {"text": text_column or None, "id": id_column or None}
    options.update(time=time_column or None, sheet=sheet or None)
    job = queue_batch(database, folder, name, options, created_by=caller.name)
    record(database, caller.name, "batch.create", job, f"{name} ({written} bytes)")
    return _describe(find_batch(database, job))


def _visible(database, batch_id: str, caller: Caller) -> dict:
    """The job, if ``caller`` may see it; 404 otherwise (as if it did not exist)."""
    job = find_batch(database, batch_id) if batch_id.isalnum() else None
    if job is None or not (caller.admin or job["created_by"] == caller.name):
        raise HTTPException(404, f"no batch {batch_id!r}")
    return job


@router.get(
    "/batches",
    response_model=BatchPage,
    responses=_ERRORS,
    summary="Batch jobs, newest first: the caller's own (an admin key's: all of them)",
)
def get_batches(
    reader: ReaderDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> BatchPage:
    jobs = list_batches(reader.engine, None if caller.admin else caller.name, limit, offset)
    return BatchPage(limit=limit, offset=offset, items=[_describe(j) for j in jobs])


@router.get(
    "/batches/{batch_id}",
    response_model=Batch,
    responses=_ERRORS,
    summary="A batch job's progress and output files",
)
def get_batch(batch_id: str, reader: ReaderDep, caller: CallerDep) -> Batch:
    return _describe(_visible(reader.engine, batch_id, caller))


@router.delete(
    "/batches/{batch_id}",
    status_code=204,
    responses={**_ERRORS, 409: {"model": ErrorResponse}},
    summary="Delete a batch job with its upload and its outputs (its owner or an admin key)",
)
def remove_batch(batch_id: str, database: DatabaseDep, caller: CallerDep) -> Response:
    _visible(database, batch_id, caller)
    if not delete_batch(database, batch_id):
        raise HTTPException(409, f"batch {batch_id} is running; delete it once it has ended")
    record(database, caller.name, "batch.delete", batch_id)
    return Response(status_code=204)


@router.get(
    "/batches/{batch_id}/files/{name}",
    responses=_ERRORS,
    summary="Download one output file of a finished batch",
)
def get_file(batch_id: str, name: str, reader: ReaderDep, caller: CallerDep) -> FileResponse:
    job = _visible(reader.engine, batch_id, caller)
    out = Path(job["folder"]) / "out"
    path = out / PurePath(name).name
    if job["status"] != "done" or PurePath(name).name != name or not path.is_file():
        raise HTTPException(404, f"batch {batch_id} has no file {name!r}")
    return FileResponse(path, filename=name)

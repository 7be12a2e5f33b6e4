"""POST /v1/batches, GET /v1/batches/{id}, GET /v1/batches/{id}/files/{name}."""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse

from service.deps import ApiKey, DatabaseDep, SettingsDep
from service.jobs import find_batch, new_folder, queue_batch
from service.schemas import Batch, BatchFile, ErrorResponse

router = APIRouter(prefix="/v1", tags=["batches"])

FORMATS = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".jsonl", ".json", ".parquet")
_ERRORS = {401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 429: {"model": ErrorResponse}}
_CHUNK = 1 << 20


def _describe(job: dict) -> Batch:
    out = Path(job["folder"]) / "out"
    files = []
    if job["status"] == "done" and out.is_dir():
        files = [BatchFile(name=p.name, url=f"/v1/batches/{job['id']}/files/{p.name}", bytes=p.stat().st_size) for p in sorted(out.iterdir()) if p.is_file()]
    fields = {k: job[k] for k in ("id", "status", "filename", "stage", "done", "total", "attempts", "error", "created_at", "updated_at")}
    return Batch(**fields, summary=json.loads(job["summary"] or "{}"), files=files)


@router.post("/batches", response_model=Batch, status_code=202, responses=_ERRORS, summary="Upload a whole export (批量导入) to be scored in the background")
def create_batch(
    settings: SettingsDep,
    database: DatabaseDep,
    _key: ApiKey,
    file: Annotated[UploadFile, File(description="CSV, TSV, TXT, XLSX/XLS, JSONL/JSON or Parquet.")],
    text_column: Annotated[str | None, Form(max_length=200, description="The text column; guessed from common names when empty.", examples=["留言详情"])] = None,
    id_column: Annotated[str | None, Form(max_length=200)] = None,
    time_column: Annotated[str | None, Form(max_length=200)] = None,
    sheet: Annotated[str | None, Form(max_length=200)] = None,
) -> Batch:
    """The job is queued and runs in the background; poll ``GET /v1/batches/{id}`` for progress
    and the output files. Jobs survive a restart of the server."""
    name = PurePath(file.filename or "").name
    if not name.lower().endswith(FORMATS):
        raise HTTPException(422, f"file {name or '(no name)'!r} is not one of {', '.join(FORMATS)}")
    folder = new_folder(settings.data_folder)
    written = 0
    try:
        with open(folder / name, "wb") as target:
            while chunk := file.file.read(_CHUNK):
                written += len(chunk)
                if written > settings.max_upload_bytes:
                    raise HTTPException(413, f"upload is over the limit of {settings.max_upload_bytes} bytes")
                target.write(chunk)
    except HTTPException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    options = {"text": text_column or None, "id": id_column or None, "time": time_column or None, "sheet": sheet or None}
    job = queue_batch(database, folder, name, options)
    return _describe(find_batch(database, job))


def _job(database, batch_id: str) -> dict:
    job = find_batch(database, batch_id) if batch_id.isalnum() else None
    if job is None:
        raise HTTPException(404, f"no batch {batch_id!r}")
    return job


@router.get("/batches/{batch_id}", response_model=Batch, responses=_ERRORS, summary="A batch job's progress and output files")
def get_batch(batch_id: str, database: DatabaseDep, _key: ApiKey) -> Batch:
    return _describe(_job(database, batch_id))


@router.get("/batches/{batch_id}/files/{name}", responses=_ERRORS, summary="Download one output file of a finished batch")
def get_file(batch_id: str, name: str, database: DatabaseDep, _key: ApiKey) -> FileResponse:
    job = _job(database, batch_id)
    out = Path(job["folder"]) / "out"
    path = out / PurePath(name).name
    if job["status"] != "done" or PurePath(name).name != name or not path.is_file():
        raise HTTPException(404, f"batch {batch_id} has no file {name!r}")
    return FileResponse(path, filename=name)

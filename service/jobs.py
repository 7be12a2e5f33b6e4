"""Batch jobs: an uploaded export is scored in the background; the job's state lives in the
database, so a job whose server stopped (restart, crash, power loss) is taken up again.

Jobs run in worker processes (:mod:`service.worker`), never in the API process: a file that
crashes its reader or exhausts memory fails its own job, with a reason, and the server answers
on. A job is claimed by one worker at a time (an atomic update on its row, the worker's own
``host:pid`` as owner) and holds a lease that the worker renews while it runs. A job whose lease
ran out, or whose owner process on this host is gone, goes back to the queue and is run again
from its input file; outputs are written to a temporary folder and moved into place only when
complete.

The jobs' table is the service's own (:mod:`service.db`); this module is the one that writes it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nlp.core.ids import now
from service.db import batches

__all__ = [
    "MAX_ATTEMPTS",
    "claim",
    "delete_batch",
    "fail_jobs_of",
    "find_batch",
    "list_batches",
    "new_folder",
    "queue_batch",
    "requeue_orphans",
    "update",
]

MAX_ATTEMPTS = 3


def queue_batch(
    database: Engine, folder: Path, filename: str, options: dict, created_by: str = ""
) -> str:
    """Record a queued job whose input is already in ``folder``."""
    job = uuid.uuid4().hex
    text = json.dumps(options, ensure_ascii=False)
    values = {"status": "queued", "filename": filename, "folder": str(folder), "options": text}
    values.update(created_by=created_by, created_at=now(), updated_at=now())
    with database.begin() as conn:
        conn.execute(batches.insert().values(id=job, **values))
    return job


def new_folder(root: Path) -> Path:
    """A new folder (0700) for one job's upload and outputs."""
    parent = root / "batches"
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = parent / uuid.uuid4().hex
    folder.mkdir(mode=0o700)
    return folder


def find_batch(database: Engine, job: str) -> dict | None:
    """A job's row, or ``None``."""
    with database.connect() as conn:
        row = conn.execute(sa.select(batches).where(batches.c.id == job)).mappings().first()
    return dict(row) if row else None


def list_batches(database: Engine, created_by: str | None, limit: int, offset: int) -> list[dict]:
    """Jobs, newest first: those of ``created_by``, or all of them with ``None``."""
    query = sa.select(batches).order_by(batches.c.created_at.desc()).limit(limit).offset(offset)
    if created_by is not None:
        query = query.where(batches.c.created_by == created_by)
    with database.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def delete_batch(database: Engine, job: str) -> bool:
    """Remove a job that is not running, with its upload and outputs; ``False`` if running."""
    b = batches.c
    with database.begin() as conn:
        row = conn.execute(sa.select(b.folder, b.status).where(b.id == job)).first()
        if row is None:
            return True
        if row.status == "running":
            return False
        conn.execute(batches.delete().where(b.id == job, b.status != "running"))
    shutil.rmtree(row.folder, ignore_errors=True)
    return True


def requeue_orphans(database: Engine) -> int:
    """Put back in the queue the running jobs whose owner process on this host is gone."""
    b = batches.c
    host = socket.gethostname()
    with database.begin() as conn:
        running = conn.execute(sa.select(b.id, b.owner).where(b.status == "running")).all()
        gone = [r.id for r in running if _gone(r.owner, host)]
        if gone:
            back = batches.update().where(b.id.in_(gone), b.status == "running")
            conn.execute(back.values(status="queued", owner="", lease_until=0, updated_at=now()))
    return len(gone)


def fail_jobs_of(database: Engine, owner: str, reason: str) -> list[str]:
    """Mark failed the running jobs of the worker ``owner`` (whose process ended)."""
    b = batches.c
    with database.begin() as conn:
        ids = conn.execute(sa.select(b.id).where(b.owner == owner, b.status == "running"))
        ids = list(ids.scalars())
        if ids:
            mine = batches.update().where(b.id.in_(ids), b.status == "running")
            conn.execute(mine.values(status="failed", error=reason, updated_at=now()))
    return ids


def claim(database: Engine, owner: str, lease: float) -> dict | None:
    """Take the oldest free job for ``owner``: queued, or running with its lease run out."""
    b = batches.c
    clock = time.time()
    free = sa.or_(b.status == "queued", sa.and_(b.status == "running", b.lease_until < clock))
    with database.begin() as conn:
        first = sa.select(b.id).where(free).order_by(b.created_at).limit(1)
        candidate = conn.execute(first).scalar()
        if candidate is None:
            return None
        take = batches.update().where(b.id == candidate, free)
        values = {"status": "running", "owner": owner, "lease_until": clock + lease}
        values.update(attempts=b.attempts + 1, updated_at=now())
        if conn.execute(take.values(**values)).rowcount != 1:
            return None
        claimed = conn.execute(sa.select(batches).where(b.id == candidate))
        return dict(claimed.mappings().first())


def update(database: Engine, job: str, owner: str, lease: float, **values) -> None:
    """Record progress or the end of ``job``, if ``owner`` still holds it; renews the lease."""
    b = batches.c
    with database.begin() as conn:
        mine = batches.update().where(b.id == job, b.owner == owner)
        conn.execute(mine.values(updated_at=now(), lease_until=time.time() + lease, **values))


def _gone(owner: str, host: str) -> bool:
    """Whether the process ``owner`` (host:pid) ran on ``host`` and has stopped."""
    where, _, pid = owner.partition(":")
    return where == host and not _alive(int(pid or 0) if pid.isdigit() else 0)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

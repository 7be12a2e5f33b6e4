"""Batch jobs: an uploaded export is scored in the background; the job's state lives in the
database, so a job whose server stopped (restart, crash, power loss) is taken up again.

A job is claimed by one process at a time (an atomic update on its row) and holds a lease that
its worker renews while it runs. A job whose lease ran out, or whose owner process on this host is
gone, goes back to the queue and is run again from its input file; outputs are written to a
temporary folder and moved into place only when complete.

The jobs' table is the service's own (:mod:`service.db`); this module is the one that writes it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nlp import MinyiError, Pipeline
from nlp.core.ids import now
from nlp.io import read_table, resolve_columns
from nlp.outputs import write_outputs
from service.db import batches

__all__ = ["BatchWorker", "find_batch", "new_folder", "queue_batch", "requeue_orphans"]

log = logging.getLogger(__name__)
OWNER = f"{socket.gethostname()}:{os.getpid()}"
MAX_ATTEMPTS = 3


def queue_batch(database: Engine, folder: Path, filename: str, options: dict) -> str:
    """Record a queued job whose input is already in ``folder``."""
    job = uuid.uuid4().hex
    text = json.dumps(options, ensure_ascii=False)
    values = {"status": "queued", "filename": filename, "folder": str(folder), "options": text}
    with database.begin() as conn:
        conn.execute(batches.insert().values(id=job, created_at=now(), updated_at=now(), **values))
    return job


def new_folder(root: Path) -> Path:
    folder = root / "batches" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def find_batch(database: Engine, job: str) -> dict | None:
    """A job's row, or ``None``."""
    with database.begin() as conn:
        row = conn.execute(sa.select(batches).where(batches.c.id == job)).mappings().first()
    return dict(row) if row else None


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


def _gone(owner: str, host: str) -> bool:
    """Whether the process ``owner`` (host:pid) ran on ``host`` and has stopped."""
    where, _, pid = owner.partition(":")
    return where == host and not _alive(int(pid or 0))


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


class BatchWorker(threading.Thread):
    """Runs queued jobs one after another until :meth:`stop`."""

    def __init__(
        self,
        database: Engine,
        pipeline: Pipeline,
        lease_seconds: float = 60.0,
        poll_seconds: float = 0.5,
    ):
        super().__init__(name="minyi-batch", daemon=True)
        self.database, self.pipeline = database, pipeline
        self.lease, self.poll = lease_seconds, poll_seconds
        self._stop = threading.Event()
        self._progress: dict = {}

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._claim()
            except sa.exc.SQLAlchemyError:
                log.exception("cannot claim a batch job")
                job = None
            if job is None:
                self._stop.wait(self.poll)
                continue
            self._run(job)

    def _claim(self) -> dict | None:
        b = batches.c
        clock = time.time()
        free = sa.or_(b.status == "queued", sa.and_(b.status == "running", b.lease_until < clock))
        with self.database.begin() as conn:
            first = sa.select(b.id).where(free).order_by(b.created_at).limit(1)
            candidate = conn.execute(first).scalar()
            if candidate is None:
                return None
            claim = batches.update().where(b.id == candidate, free)
            values = {"status": "running", "owner": OWNER, "lease_until": clock + self.lease}
            values.update(attempts=b.attempts + 1, updated_at=now())
            if conn.execute(claim.values(**values)).rowcount != 1:
                return None
            claimed = conn.execute(sa.select(batches).where(b.id == candidate))
            return dict(claimed.mappings().first())

    def _update(self, job: str, **values) -> None:
        b = batches.c
        lease = time.time() + self.lease
        with self.database.begin() as conn:
            mine = batches.update().where(b.id == job, b.owner == OWNER)
            conn.execute(mine.values(updated_at=now(), lease_until=lease, **values))

    def _run(self, job: dict) -> None:
        folder = Path(job["folder"])
        if job["attempts"] > MAX_ATTEMPTS:
            self._update(job["id"], status="failed", error=f"gave up after {MAX_ATTEMPTS} attempts")
            return
        options = json.loads(job["options"] or "{}")
        beat = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(job["id"], beat), daemon=True)
        heart.start()

        def finish(**values) -> None:
            beat.set()
            heart.join()
            self._update(job["id"], **values)

        try:
            table = read_table(folder / job["filename"], sheet=options.get("sheet"), encoding=options.get("encoding"))
            columns = resolve_columns(list(table.frame.columns), **{k: options.get(k) for k in ("text", "id", "time", "source", "place", "title", "user")})
            self._progress = {"stage": "read", "done": 0, "total": len(table.frame)}
            result = self.pipeline.run(table, columns, progress=self._report)
            staging = folder / "out.partial"
            shutil.rmtree(staging, ignore_errors=True)
            write_outputs(result, staging, ["csv", "xlsx"])
            shutil.rmtree(folder / "out", ignore_errors=True)
            staging.rename(folder / "out")
            n = len(table.frame)
            finish(status="done", stage="done", done=n, total=n, error="", summary=json.dumps(result.summary, ensure_ascii=False, default=str))
        except MinyiError as e:
            finish(status="failed", error=str(e))
        except Exception as e:  # the job fails; the server and the other jobs go on
            log.exception("batch %s failed", job["id"])
            finish(status="failed", error=f"internal error ({type(e).__name__}); see the server log")

    def _report(self, stage: str, done: int, total: int) -> None:
        self._progress = {"stage": stage, "done": done, "total": total}

    def _heartbeat(self, job: str, finished: threading.Event) -> None:
        """Renew the lease and publish progress from a thread of its own: the pipeline may hold
        the database's write lock for a while, and this thread simply waits for it."""
        while not finished.wait(1.0):
            try:
                self._update(job, **self._progress)
            except sa.exc.SQLAlchemyError:
                log.warning("could not record progress of batch %s", job)

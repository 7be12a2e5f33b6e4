"""Worker processes that run batch jobs (``python -m service.worker``, started by the server).

Each API process keeps ``MINYI_BATCH_WORKERS`` of them. A worker claims jobs under its own
``host:pid``, renews their leases and records their progress; an exception in any step fails that
job and the worker goes on. When a worker process ends while it runs a job (a crash, the memory
limit ``MINYI_JOB_MEMORY_MB``, the kernel's OOM killer), its supervisor thread in the server marks
the job failed with the reason and starts another worker. A worker whose server is gone stops.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from nlp import MinyiError, Pipeline
from service.jobs import MAX_ATTEMPTS, claim, fail_jobs_of, update
from service.settings import Settings

__all__ = ["Supervisor", "Worker", "main"]

log = logging.getLogger(__name__)

BATCH_NICENESS = 10
"""How much lower than the server's the scheduling priority of a batch worker is: a batch that
clusters or self-trains for minutes must not slow the requests answered meanwhile."""


class Worker:
    """Runs queued jobs one after another, in the process it was made in, while ``parent``
    (the server's pid) lives."""

    def __init__(
        self,
        database: Engine,
        pipeline: Pipeline,
        lease: float = 60.0,
        keep_uploads: bool = False,
        poll: float = 0.5,
    ):
        self.database, self.pipeline, self.lease, self.poll = database, pipeline, lease, poll
        self.keep_uploads = keep_uploads
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._progress: dict = {}

    def run(self, parent: int) -> None:
        while os.getppid() == parent:
            try:
                job = claim(self.database, self.owner, self.lease)
                if job is None:
                    time.sleep(self.poll)
                    continue
                self._run(job, parent)
            except Exception:  # the worker survives any step's failure, recording included
                log.exception("batch worker %s: a step failed; going on", self.owner)
                time.sleep(self.poll)

    def _update(self, job: str, **values) -> None:
        update(self.database, job, self.owner, self.lease, **values)

    def _run(self, job: dict, parent: int) -> None:
        from nlp.io import read_table, resolve_columns
        from nlp.outputs import write_outputs

        folder = Path(job["folder"])
        upload = folder / job["filename"]
        if job["attempts"] > MAX_ATTEMPTS:
            self._update(job["id"], status="failed", error=f"gave up after {MAX_ATTEMPTS} attempts")
            self._forget(upload)
            return
        options = json.loads(job["options"] or "{}")
        beat = threading.Event()
        heart = threading.Thread(
            target=self._heartbeat, args=(job["id"], beat, parent), daemon=True
        )
        heart.start()
        try:
            table = read_table(upload, sheet=options.get("sheet"), encoding=options.get("encoding"))
            names = ("text", "id", "time", "source", "place", "title", "user")
            chosen = {k: options.get(k) for k in names}
            columns = resolve_columns(list(table.frame.columns), **chosen)
            n = len(table.frame)
            self._progress = {"stage": "read", "done": 0, "total": n}
            result = self.pipeline.run(table, columns, progress=self._report)
            staging = folder / "out.partial"
            shutil.rmtree(staging, ignore_errors=True)  # of an attempt that did not finish
            write_outputs(result, staging, ["csv", "xlsx"])
            shutil.rmtree(folder / "out", ignore_errors=True)
            staging.rename(folder / "out")
            summary = json.dumps(result.summary, ensure_ascii=False, default=str)
            end = {"status": "done", "stage": "done", "done": n, "total": n, "error": ""}
            end["summary"] = summary
        except MinyiError as e:  # the caller sees the file's name, not where the server keeps it
            end = {"status": "failed", "error": str(e).replace(f"{folder}{os.sep}", "")}
        except MemoryError:
            end = {"status": "failed", "error": "the job ran out of memory (MINYI_JOB_MEMORY_MB)"}
        except Exception as e:  # the job fails; the worker and the other jobs go on
            log.exception("batch %s failed", job["id"])
            end = {"status": "failed", "error": f"internal error ({type(e).__name__}); see the log"}
        finally:
            beat.set()
            heart.join()
        self._update(job["id"], **end)
        self._forget(upload)

    def _forget(self, upload: Path) -> None:
        """Delete the uploaded file once its job has ended, unless uploads are kept."""
        if not self.keep_uploads:
            upload.unlink(missing_ok=True)

    def _report(self, stage: str, done: int, total: int) -> None:
        self._progress = {"stage": stage, "done": done, "total": total}

    def _heartbeat(self, job: str, finished: threading.Event, parent: int) -> None:
        """Renew the lease and publish progress from a thread of its own (the pipeline may hold
        the database's write lock for a while, and this thread simply waits for it); stop the
        process when its server is gone, so that a new server takes the job up again."""
        while not finished.wait(1.0):
            if os.getppid() != parent:
                os._exit(3)
            try:
                self._update(job, **self._progress)
            except Exception:
                log.warning("could not record progress of batch %s", job)


def _ended(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the worker process running this job was killed by {name}{hint}"
    return f"the worker process running this job exited with status {code}"


class Supervisor(threading.Thread):
    """Keeps one worker process running for the server; fails the job of a worker that ends."""

    def __init__(self, settings: Settings, database: Engine, restart_after: float = 1.0):
        super().__init__(name="minyi-batch-supervisor", daemon=True)
        self.settings, self.database, self.restart_after = settings, database, restart_after
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None

    def stop(self) -> None:
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def run(self) -> None:
        config = self.settings.model_dump(mode="json", exclude={"api_keys"})
        config["parent"] = os.getpid()
        while not self._stop.is_set():
            cmd = [sys.executable, "-m", "service.worker"]
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
            self._proc = proc
            proc.stdin.write(json.dumps(config).encode() + b"\n")
            proc.stdin.close()
            code = proc.wait()
            if self._stop.is_set():
                return
            reason = _ended(code)
            try:
                failed = fail_jobs_of(self.database, f"{socket.gethostname()}:{proc.pid}", reason)
            except Exception:
                log.exception("cannot record the end of worker %d", proc.pid)
                failed = []
            log.warning("batch worker %d ended (%s); failed: %s", proc.pid, reason, failed)
            self._stop.wait(self.restart_after)


def main() -> None:
    """Entry point of a worker process: its settings arrive as one JSON line on stdin."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = json.loads(sys.stdin.readline())
    parent = config.pop("parent")
    settings = Settings(**config)
    os.umask(0o077)  # files the worker writes: 0600, folders 0700
    try:  # a batch job yields the processor to the server's requests
        os.nice(BATCH_NICENESS)
    except OSError:
        pass
    if settings.job_memory_mb > 0:
        limit = settings.job_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from service.deps import _store, _stored_pipeline

    database = _store(settings.database, settings.secret).engine
    pipeline = _stored_pipeline(
        settings.database,
        settings.taxonomy,
        settings.model,
        settings.mask_pii,
        "auto",
        settings.secret,
    )
    Worker(database, pipeline, settings.job_lease_seconds, settings.keep_uploads).run(parent)


if __name__ == "__main__":
    main()

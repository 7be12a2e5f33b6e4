"""Where the per-row stages run: in this process, in local worker processes, or on Dask.

The unit of work is a block of ``config.block_size`` rows (:meth:`nlp.Pipeline.row_stages`). Every
engine cuts the input into the same blocks and each worker builds its pipeline from the same
config, so the results do not depend on the engine or on the number of workers (the sentence
encoder pads each batch, so they do depend on the block size, which is part of the config).
The stages that need all rows at once (duplicates, clusters) run in the calling process; an
engine's workers also make the drafts (``Engine.starmap``, see :meth:`nlp.Pipeline.draft`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from nlp.core.errors import ConfigError, NotInstalledError

if TYPE_CHECKING:
    from nlp.core.config import PipelineConfig
    from nlp.pipeline import RowBlock

__all__ = ["DaskEngine", "Engine", "ProcessEngine", "make_engine", "run_block"]

Job = tuple[list[str], list[str], dict[int, str], list[int]]  # texts, titles, row errors, repeats of one block

_PIPELINES: dict[str, object] = {}  # one pipeline per config in each worker process


def run_block(config: dict, texts: list[str], titles: list[str], errors: dict[int, str], repeats: list[int] | None = None) -> RowBlock:
    """The per-row stages of one block, with this process's pipeline for ``config``."""
    from nlp.core.config import PipelineConfig
    from nlp.pipeline import Pipeline

    key = json.dumps(config, sort_keys=True, default=str)
    if key not in _PIPELINES:
        # One ONNX thread per worker process: the workers already fill the cores.
        os.environ.setdefault("MINYI_ONNX_THREADS", "1")
        _PIPELINES[key] = Pipeline(PipelineConfig(**config))
    return _PIPELINES[key].row_stages(texts, titles, errors, repeats)


def _exit_with_parent() -> None:
    """In a worker: leave as soon as the process that started it is gone (a killed ``minyi``
    must not leave workers holding their models' memory)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="minyi-parent-watch").start()


def _in_order(submit, jobs: Iterable, window: int) -> Iterator:
    """Submit jobs with at most ``window`` waiting (memory stays bounded however long the input)
    and yield their results in the order of the jobs."""
    pending = []
    for job in jobs:
        pending.append(submit(job))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


class Engine:
    """Runs blocks; ``map`` yields their results in the order of the jobs."""

    name = "engine"

    def map(self, config: PipelineConfig, jobs: Iterable[Job]) -> Iterator[RowBlock]:
        settings = config.to_dict()
        return self.starmap(run_block, ((settings, *job) for job in jobs))

    def starmap(self, function: Callable, jobs: Iterable[tuple]) -> Iterator:
        """``function(*job)`` for each job on the workers (a module-level function, so that a
        worker can import it), the results in the order of the jobs."""
        raise NotImplementedError

    def close(self) -> None:
        return None


class ProcessEngine(Engine):
    """Worker processes on this machine (started fresh, so no model state is shared by fork)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or min(os.cpu_count() or 1, 2)
        self._pool = None

    def starmap(self, function, jobs):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent)
        return _in_order(lambda job: self._pool.submit(function, *job), jobs, 2 * self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskEngine(Engine):
    """Blocks as Dask tasks: on a ``LocalCluster`` of ``workers`` processes, or on the scheduler
    at ``scheduler`` (``tcp://host:8786``), whose workers need Minyi installed."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise NotInstalledError("--engine dask", "distributed", "dask") from e
        self._cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self._cluster = LocalCluster(n_workers=workers or min(os.cpu_count() or 1, 2), threads_per_worker=1, processes=True, dashboard_address=None)
            self.client = Client(self._cluster)

    def starmap(self, function, jobs):
        window = 2 * max(len(self.client.scheduler_info().get("workers", {})), 1)
        return _in_order(lambda job: self.client.submit(function, *job, pure=False), jobs, window)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(name: str, *, workers: int | None = None, scheduler: str | None = None) -> Engine | None:
    """``inline`` (None: in this process), ``local`` (worker processes) or ``dask``."""
    if name == "inline" or (name == "local" and workers == 1):
        return None
    if name == "local":
        return ProcessEngine(workers)
    if name == "dask":
        return DaskEngine(scheduler, workers)
    raise ConfigError(f"engine {name!r} is not 'local', 'inline' or 'dask'")

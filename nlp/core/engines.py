"""Ordered executors: a module-level function mapped over items, in this process, on local worker
processes or on Dask, the results in the order of the items.

An engine knows nothing of what it runs. The caller sends a function that a worker can import by
name and arguments that can be pickled; a worker that needs heavy state (models, say) builds it
on its first item and keeps it for the next ones. A large value that every item needs (a model
learnt in the caller, say) is sent once with :meth:`Engine.send`, not with every item: the jobs
pass what ``send`` returned, and the function reads the value with :func:`received`. At most a
window of items waits on the workers at a time, so memory stays bounded however many items there
are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from nlp.core.errors import ConfigError, NotInstalledError

__all__ = ["DaskEngine", "Engine", "ProcessEngine", "Sent", "make_engine", "received"]

_SENT: dict[str, object] = {}  # in a worker process: what its engine sent every worker, by name


@dataclass(frozen=True)
class Sent:
    """What a job passes for a value that a :class:`ProcessEngine` sent its workers once."""

    name: str


def received(value: object) -> object:
    """In a worker: the value that a job's argument stands for (what :meth:`Engine.send`
    sent), or the argument itself."""
    return _SENT[value.name] if isinstance(value, Sent) else value


def _start_worker(sent: dict[str, object]) -> None:
    """In a new worker process: keep what the engine sends every worker, and leave with the
    parent."""
    _SENT.update(sent)
    _exit_with_parent()


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


def _in_order(submit: Callable, jobs: Iterable, window: int) -> Iterator:
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
    """Runs a function over items; the results come in the order of the items."""

    name = "engine"

    def map(self, function: Callable, items: Iterable) -> Iterator:
        """``function(item)`` for each item on the workers (a module-level function, so that a
        worker can import it), the results in the order of the items."""
        return self.starmap(function, ((item,) for item in items))

    def starmap(self, function: Callable, jobs: Iterable[tuple]) -> Iterator:
        """``function(*job)`` for each job on the workers, the results in the order of the
        jobs."""
        raise NotImplementedError

    def send(self, value: object) -> object:
        """Make ``value`` known to every worker once; returns what a job passes in its place
        (the function gets the value back with :func:`received`)."""
        return value

    def close(self) -> None:
        return None


class ProcessEngine(Engine):
    """Worker processes on this machine (started fresh, so no model state is shared by fork)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or min(os.cpu_count() or 1, 2)
        self._pool = None
        self._sent: dict[str, object] = {}
        self._count = 0

    def send(self, value: object) -> Sent:
        """Workers started from now on receive ``value`` as they start (a pool already running
        is closed first); what an earlier call sent is let go."""
        self._count += 1
        name = f"sent-{self._count}"
        self._sent = {name: value}
        self.close()
        return Sent(name)

    def starmap(self, function, jobs):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(dict(self._sent),),
            )
        return _in_order(lambda job: self._pool.submit(function, *job), jobs, 2 * self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskEngine(Engine):
    """Items as Dask tasks: on a ``LocalCluster`` of ``workers`` processes, or on the scheduler
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
            self._cluster = LocalCluster(
                n_workers=workers or min(os.cpu_count() or 1, 2),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self._cluster)

    def send(self, value: object) -> object:
        """Scattered to every worker once; a job that passes the returned future receives
        ``value`` itself."""
        # In a list, with a key of its own: a dict would be scattered as named values, and a
        # value equal to an earlier one would share its key.
        [future] = self.client.scatter([value], broadcast=True, hash=False)
        return future

    def starmap(self, function, jobs):
        window = 2 * max(len(self.client.scheduler_info().get("workers", {})), 1)
        return _in_order(lambda job: self.client.submit(function, *job, pure=False), jobs, window)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(
    name: str, *, workers: int | None = None, scheduler: str | None = None
) -> Engine | None:
    """``inline`` (None: in this process), ``local`` (worker processes) or ``dask``."""
    if name == "inline" or (name == "local" and workers == 1):
        return None
    if name == "local":
        return ProcessEngine(workers)
    if name == "dask":
        return DaskEngine(scheduler, workers)
    raise ConfigError(f"engine {name!r} is not 'local', 'inline' or 'dask'")

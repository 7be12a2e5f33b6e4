"""Run the service in a child process on a free loopback port (for tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["running_server", "start_server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    log: str | Path | None = None, access_log: bool = True, wait: str = "/healthz", **settings
) -> tuple[subprocess.Popen, str]:
    """Start ``uvicorn --factory service.main:create_app`` with ``MINYI_<NAME>`` settings and
    return the process and base URL once ``wait`` answers 200 (see :func:`running_server`)."""
    import httpx

    port = _free_port()
    env = {**os.environ, **{f"MINYI_{k.upper()}": str(v) for k, v in settings.items()}}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "service.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if not access_log:
        cmd.append("--no-access-log")
    if log:
        with open(log, "a") as out:  # the child keeps its own handle
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    else:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(
                f"the service exited with {proc.returncode}" + (f"; see {log}" if log else "")
            )
        try:
            if httpx.get(f"{base}{wait}", timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the service did not start on {base}" + (f"; see {log}" if log else ""))


@contextmanager
def running_server(
    log: str | Path | None = None, access_log: bool = True, wait: str = "/healthz", **settings
) -> Iterator[str]:
    """Start ``uvicorn --factory service.main:create_app`` with ``MINYI_<NAME>`` settings.

    Yields the base URL once ``wait`` answers 200; stops the server on exit.

    Args:
        log: File for the server's output (discarded when ``None``).
        access_log: Let uvicorn log each request.
        wait: Path polled until the server is up (``/readyz`` also waits for the models).
        **settings: Service settings, for example ``api_keys="k1,k2"``.
    """
    proc, base = start_server(log, access_log, wait, **settings)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

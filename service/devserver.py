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

__all__ = ["running_server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(log: str | Path | None = None, access_log: bool = True, wait: str = "/healthz", **settings) -> Iterator[str]:
    """Start ``uvicorn --factory service.main:create_app`` with ``MINYI_<NAME>`` settings.

    Yields the base URL once ``wait`` answers 200; stops the server on exit.

    Args:
        log: File for the server's output (discarded when ``None``).
        access_log: Let uvicorn log each request.
        wait: Path polled until the server is up (``/readyz`` also waits for the models).
        **settings: Service settings, for example ``api_keys="k1,k2"``.
    """
    import httpx

    port = _free_port()
    env = {**os.environ, **{f"MINYI_{k.upper()}": str(v) for k, v in settings.items()}}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "service.main:create_app", "--host", "127.0.0.1", "--port", str(port)]
    if not access_log:
        cmd.append("--no-access-log")
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}{wait}", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the service did not start on {base}" + (f"; see {log}" if log else ""))
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if log:
            out.close()

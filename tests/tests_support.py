"""Helpers shared by tests that are not fixtures."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the project, or ``None`` when it is absent."""
    path = ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; run it as the "postgres" user where there is one.
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL server: ``MINYI_TEST_DATABASE_URL`` when set, else a cluster started
    from the local ``initdb``/``pg_ctl`` in a temporary folder, else ``None`` (tests skip)."""
    given = os.environ.get("MINYI_TEST_DATABASE_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="minyi-pg-"))
    os.chmod(folder, 0o777)
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", "minyi", "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True, timeout=120)
        opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"]), check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError):
        shutil.rmtree(folder, ignore_errors=True)
        yield None
        return
    try:
        yield f"postgresql+psycopg://minyi@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), check=False, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)

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


def _postgres_tool(name: str) -> str | None:
    """``name`` on the PATH, or from Debian's versioned folder (``/usr/lib/postgresql/N/bin``)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3])
    return str(versions[-1]) if versions else None


def _missing_in_ci(why: str) -> None:
    if os.environ.get("CI"):
        raise RuntimeError(f"PostgreSQL is required in CI: {why}")


@contextmanager
def postgres_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL server: ``MINYI_TEST_DATABASE_URL`` when set, else a cluster started
    from the local ``initdb``/``pg_ctl`` in a temporary folder, else ``None`` (tests skip).

    In CI (``CI`` set) a server that cannot be started is an error, not a skip: the PostgreSQL
    tests must run there (``.ci/run`` installs the server).
    """
    given = os.environ.get("MINYI_TEST_DATABASE_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _postgres_tool("initdb"), _postgres_tool("pg_ctl")
    if not (initdb and pg_ctl):
        _missing_in_ci("no initdb/pg_ctl found")
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="minyi-pg-"))
    os.chmod(folder, 0o777)
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        subprocess.run(
            _as_postgres_user(
                [initdb, "-D", str(data), "-U", "minyi", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres_user(
                [pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        _missing_in_ci(f"the server did not start ({e})")
        yield None
        return
    try:
        yield f"postgresql+psycopg://minyi@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)

"""Files written whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes"]


def atomic_write(path: Path, write: Callable[[Path], None], *, durable: bool = False) -> None:
    """``write(tmp)`` to a temporary name beside ``path``, then rename it to ``path``.

    The file is whole or absent, even if the process is killed while writing. With ``durable`` the
    data is flushed to the disk before the rename, so it also survives a crash of the machine
    (a resumed run trusts what it finds). The file is readable by its owner only (0600): what
    Minyi writes holds opinions.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.chmod(tmp, 0o600)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_write`)."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data), durable=durable)

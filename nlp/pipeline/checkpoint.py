"""Saved blocks of a run's per-row stages, so that a killed run resumes where it stopped.

``minyi score --resume`` keeps them in ``OUT/.minyi-work/``: one file per block of
``block_size`` distinct rows, each written to a temporary name and renamed when complete, so a
block is either whole or absent, whatever moment the process dies. A manifest ties the blocks
to the input (its size and content hash) and to the config; blocks of another input or config
are never reused. The folder is removed once the outputs are written.

A block holds the rows' texts before masking (near duplicates are found on them), so it is
encrypted (AES-256-GCM, keyed from the secret of :mod:`nlp.core.secrets`) and readable by its
owner only: a block another key wrote, or one changed on disk, does not decrypt and is computed
again.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

from nlp.core.files import atomic_write_bytes
from nlp.core.secrets import private_folder, subkey, user_secret

__all__ = ["Checkpoint", "fingerprint"]

# 2: blocks hold distinct rows (repeats of a row are not stored); 3: predictions have slots;
# 4: blocks are nlp.pipeline.stages.RowBlock; 5: encrypted; 6: a point is its sentence vector
# and its words, and blocks hold each row's length.
FORMAT = "minyi-checkpoint/6"
_NONCE = 12


def fingerprint(path: str | Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB pieces)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


class Checkpoint:
    """Blocks of one run in ``folder``.

    Args:
        folder: Where the blocks live (created if missing).
        identity: What the blocks belong to (input fingerprint, config, version): when the folder
            holds blocks of another identity they are discarded.
        secret: The key the blocks are encrypted with is derived from it; this user's secret
            when ``None``.
    """

    def __init__(self, folder: str | Path, identity: dict, secret: bytes | None = None):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.folder = Path(folder)
        self.identity = {"format": FORMAT, **identity}
        self._cipher = AESGCM(subkey(secret or user_secret(), "checkpoint"))
        manifest = self.folder / "manifest.json"
        try:
            same = json.loads(manifest.read_text(encoding="utf-8")) == json.loads(
                json.dumps(self.identity, default=str)
            )
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(self.folder, ignore_errors=True)
            private_folder(self.folder)
            atomic_write_bytes(
                manifest,
                json.dumps(self.identity, ensure_ascii=False, default=str).encode(),
                durable=True,
            )
        self.reused = 0  # blocks found and loaded
        self.computed = 0  # blocks saved by this run

    def _path(self, number: int) -> Path:
        return self.folder / f"block-{number:06d}.pickle"

    def has(self, number: int) -> bool:
        """Whether block ``number`` is saved (it may still turn out unreadable: see
        :meth:`load`)."""
        return self._path(number).is_file()

    def load(self, number: int):
        """Block ``number`` as saved, or ``None``."""
        path = self._path(number)
        if not path.is_file():
            return None
        from cryptography.exceptions import InvalidTag

        try:
            data = path.read_bytes()
            plain = self._cipher.decrypt(data[:_NONCE], data[_NONCE:], path.name.encode())
            block = pickle.loads(plain)
        except (OSError, EOFError, ValueError, InvalidTag, pickle.UnpicklingError):
            return None
        self.reused += 1
        return block

    def save(self, number: int, block) -> None:
        self.computed += 1
        path = self._path(number)
        plain = pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL)
        nonce = os.urandom(_NONCE)
        data = nonce + self._cipher.encrypt(nonce, plain, path.name.encode())
        atomic_write_bytes(path, data, durable=True)

    def blocks(self) -> int:
        """How many blocks are saved."""
        return sum(1 for _ in self.folder.glob("block-*.pickle"))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

"""The secret behind keyed hashes: stored keys, user pseudonyms and the key of saved blocks.

Nothing personal is stored in the clear: where two opinions must match exactly (the same text,
the same sender) the database holds an HMAC of them under this secret, never the text. Without
the secret the hashes cannot be checked against a guess (a phone number, a name), and the same
secret keeps them matching run after run, quarter after quarter.

A secret is 32 random bytes in a file readable by its owner only: ``minyi.secret`` beside a
SQLite state, or one per user in the user data folder. A caller may give its own (the CLI and
the service read ``MINYI_SECRET``); the library reads no environment variable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from nlp.core.errors import ConfigError

__all__ = [
    "SECRET_FILE",
    "keyed_hash",
    "load_secret",
    "parse_secret",
    "private_folder",
    "pseudonym",
    "subkey",
    "user_secret",
]

SECRET_FILE = "minyi.secret"
_SIZE = 32


def keyed_hash(secret: bytes, text: str) -> str:
    """HMAC-SHA256 of ``text`` under ``secret``, as 64 hex digits."""
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(secret: bytes, person: str) -> str:
    """The same person, always the same stand-in: ``用户-3f9a0c12d4`` (40 bits: a handful of
    collisions only beyond a million people). Blank stays blank."""
    person = str(person).strip()
    if not person:
        return ""
    return "用户-" + keyed_hash(secret, "user\x1f" + person)[:10]


def subkey(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` (such as encrypting saved blocks), derived from the
    secret so that no key serves two uses."""
    return hmac.new(secret, b"minyi/" + purpose.encode(), hashlib.sha256).digest()


def parse_secret(text: str) -> bytes:
    """A secret given as text (``MINYI_SECRET``): 64 hex digits, or any passphrase of at least
    16 characters (hashed to 32 bytes).

    Raises:
        ConfigError: It is shorter than 16 characters.
    """
    text = text.strip()
    if len(text) == 2 * _SIZE:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    if len(text) < 16:
        raise ConfigError(
            "the secret is too short: give 64 hex digits (python -c 'import secrets; "
            "print(secrets.token_hex(32))') or a passphrase of at least 16 characters"
        )
    return hashlib.sha256(b"minyi-secret\x1f" + text.encode()).digest()


def load_secret(path: str | Path) -> bytes:
    """The secret in ``path``, made (32 random bytes, mode 0600, its folder 0700) when the file
    does not exist yet.

    Raises:
        ConfigError: The file exists but does not hold a secret.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        private_folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another process meanwhile
            data = path.read_bytes()
        else:
            data = secrets.token_bytes(_SIZE)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return data
    if len(data) != _SIZE:
        raise ConfigError(
            f"{path} does not hold a Minyi secret ({len(data)} bytes, not {_SIZE}); restore it "
            "from a backup: without it stored keys and pseudonyms no longer match"
        )
    return data


def user_secret() -> bytes:
    """This user's secret, in the user data folder (``~/.local/share/minyi/minyi.secret`` on
    Linux): pseudonyms made without a state stay the same from one run to the next."""
    from platformdirs import user_data_dir

    return load_secret(Path(user_data_dir("minyi", appauthor=False)) / SECRET_FILE)


def private_folder(path: str | Path) -> Path:
    """``path`` made if missing, readable by its owner only (0700) when this call made it."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path

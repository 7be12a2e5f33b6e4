"""API keys with names and scopes, stored hashed in the service's database.

``read`` keys may call the GET routes and ``POST /v1/classify``; ``write`` keys may also store
opinions, draft and upload batches; ``admin`` keys may do everything, see every batch and read the
audit log. Keys given in ``MINYI_API_KEYS`` are admin keys named ``env-1``, ``env-2`` …
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nlp.core.ids import now
from service.db import api_keys

__all__ = ["SCOPES", "Caller", "KeyStoreError", "KeyRing", "add_key", "list_keys", "revoke_key"]

SCOPES = ("read", "write", "admin")


class KeyStoreError(ValueError):
    """A key cannot be added or revoked; the message says why."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's name and scope."""

    name: str
    scope: str

    def may(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    @property
    def admin(self) -> bool:
        return self.scope == "admin"


def _hash(key: str) -> str:
    # Keys are 32 random bytes: a plain digest is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def add_key(engine: Engine, name: str, scope: str) -> str:
    """Make a key named ``name``; returns it (only its hash is stored)."""
    if scope not in SCOPES:
        raise KeyStoreError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    if not name or len(name) > 128 or name.startswith("env-"):
        raise KeyStoreError(f"name {name!r}: use 1–128 characters, not starting with 'env-'")
    key = "mk_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        taken = conn.execute(sa.select(api_keys.c.name).where(api_keys.c.name == name)).first()
        if taken:
            raise KeyStoreError(f"a key named {name!r} exists; revoke it or choose another name")
        row = {"name": name, "hash": _hash(key), "scope": scope, "created_at": now()}
        conn.execute(api_keys.insert().values(**row))
    return key


def list_keys(engine: Engine) -> list[dict]:
    """Every key's name, scope, creation and revocation time (never the key)."""
    k = api_keys.c
    query = sa.select(k.name, k.scope, k.created_at, k.revoked_at).order_by(k.created_at)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def revoke_key(engine: Engine, name: str) -> None:
    """Revoke the key named ``name``; it is refused from then on (within a few seconds)."""
    k = api_keys.c
    with engine.begin() as conn:
        done = conn.execute(
            api_keys.update().where(k.name == name, k.revoked_at.is_(None)).values(revoked_at=now())
        )
    if done.rowcount != 1:
        raise KeyStoreError(f"no active key named {name!r}; see `minyi keys list`")


class KeyRing:
    """Finds the caller of a bearer key: the keys of ``MINYI_API_KEYS`` (admin), then the
    database's, read again at most every ``refresh`` seconds."""

    def __init__(self, engine: Engine, env_keys: list[str], refresh: float = 2.0):
        self.engine, self.refresh = engine, refresh
        self._env = [(k.encode(), Caller(f"env-{i}", "admin")) for i, k in enumerate(env_keys, 1)]
        self._stored: dict[str, Caller] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def stale(self) -> bool:
        return time.monotonic() - self._loaded > self.refresh

    def load(self) -> None:
        """Read the active keys from the database (blocking: call it from a thread)."""
        with self._lock:
            if not self.stale():
                return
            k = api_keys.c
            query = sa.select(k.hash, k.name, k.scope).where(k.revoked_at.is_(None))
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            self._stored = {r.hash: Caller(r.name, r.scope) for r in rows}
            self._loaded = time.monotonic()

    def find(self, given: str) -> Caller | None:
        """The caller whose key is ``given``, or ``None`` (load first when :meth:`stale`)."""
        raw = given.encode()
        # Compare against every key so that timing does not tell which one nearly matched.
        found = [c for k, c in self._env if hmac.compare_digest(k, raw)]
        if found:
            return found[0]
        return self._stored.get(_hash(given))

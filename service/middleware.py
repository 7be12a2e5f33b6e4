"""Limits before work, as a pure ASGI middleware: on ``/v1`` the key is checked first, then the
body's size as it streams (chunked bodies included), so that nothing is read for a caller that
will be refused. Refusals (401, 403, 413, 429) are sent at once, with ``Connection: close``, and
the rest of the body is never read.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque

import anyio
import sqlalchemy as sa

from service.keys import Caller, KeyRing
from service.metrics import Metrics

__all__ = ["Guard", "required_scope"]

log = logging.getLogger(__name__)

UPLOADS = "/v1/batches"
ENVELOPE = 65536  # room for the multipart envelope around an upload


def required_scope(method: str, path: str) -> str:
    """The scope a call needs: ``read`` for GET and classifying, ``admin`` for the audit log,
    ``write`` for everything else."""
    if path.startswith("/v1/audit"):
        return "admin"
    if method in ("GET", "HEAD") or (method == "POST" and path == "/v1/classify"):
        return "read"
    return "write"


class Window:
    """Events per name in the last minute."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._seen: dict[str, deque] = defaultdict(deque)

    def full(self, name: str) -> bool:
        seen = self._seen.get(name)
        if not seen:
            return False
        clock = time.monotonic()
        while seen and clock - seen[0] > 60:
            seen.popleft()
        if not seen:
            del self._seen[name]  # addresses seen once do not pile up
            return False
        return len(seen) >= self.per_minute

    def add(self, name: str) -> None:
        self._seen[name].append(time.monotonic())


async def _refuse(send, status: int, error: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    head.append((b"connection", b"close"))
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Key, scope, rate and size checks in front of the app, and metrics around it.

    Args:
        app: The ASGI app.
        keys: Finds the caller of a key.
        metrics: Where requests are counted.
        body_limit: Most bytes of a request body (``upload_limit`` on ``POST /v1/batches``).
        per_minute: Calls a minute for one key.
        failures_per_minute: Failed authentications a minute from one address before 429.
    """

    def __init__(
        self,
        app,
        keys: KeyRing,
        metrics: Metrics,
        body_limit: int,
        upload_limit: int,
        per_minute: int,
        failures_per_minute: int,
    ):
        self.app, self.keys, self.metrics = app, keys, metrics
        self.body_limit, self.upload_limit = body_limit, upload_limit + ENVELOPE
        self.calls, self.failures = Window(per_minute), Window(failures_per_minute)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def noting(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, noting)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(path, status[0], time.perf_counter() - start)

    async def _caller(self, scope) -> Caller | None:
        given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        kind, _, key = given.decode("latin-1").partition(" ")
        if kind.lower() != "bearer" or not key.strip():
            return None
        if self.keys.stale():
            try:
                await anyio.to_thread.run_sync(self.keys.load)
            except sa.exc.SQLAlchemyError:
                log.warning("cannot read the API keys; the keys read before stay in use")
        return self.keys.find(key.strip())

    async def _guarded(self, scope, receive, send):
        path, method = scope["path"], scope["method"]
        if not path.startswith("/v1/"):
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("unknown",))[0]
        if self.failures.full(address):
            self.metrics.refused.labels("auth-failures").inc()
            error = "too many failed authentications from this address; retry in a minute"
            return await _refuse(send, 429, error, {"retry-after": "60"})
        caller = await self._caller(scope)
        if caller is None:
            self.failures.add(address)
            self.metrics.auth_failures.inc()
            error = "missing or invalid API key"
            return await _refuse(send, 401, error, {"www-authenticate": "Bearer"})
        needed = required_scope(method, path)
        if not caller.may(needed):
            self.metrics.refused.labels("scope").inc()
            error = f"key {caller.name!r} has scope {caller.scope}; this call needs {needed}"
            return await _refuse(send, 403, error)
        if self.calls.full(caller.name):
            self.metrics.refused.labels("rate").inc()
            error = f"rate limit of {self.calls.per_minute} requests a minute reached; retry later"
            return await _refuse(send, 429, error, {"retry-after": "60"})
        self.calls.add(caller.name)
        scope.setdefault("state", {})["caller"] = caller
        uploading = method == "POST" and path == UPLOADS
        limit = self.upload_limit if uploading else self.body_limit
        size = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if size.isdigit() and int(size) > limit:
            self.metrics.refused.labels("size").inc()
            error = f"request body of {int(size)} bytes is over the limit of {limit}"
            return await _refuse(send, 413, error)
        await self._counted(scope, receive, send, limit, uploading)

    async def _counted(self, scope, receive, send, limit: int, uploading: bool):
        """Run the app, counting the body as it arrives; past ``limit``, answer 413 and tell
        the app that the client went away (its own answer to that is dropped)."""
        received, refused, started = 0, False, False

        async def counting():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                chunk = len(message.get("body", b""))
                received += chunk
                if uploading:
                    self.metrics.upload_bytes.inc(chunk)
                if received > limit:
                    refused = True
                    self.metrics.refused.labels("size").inc()
                    if not started:
                        error = f"request body is over the limit of {limit} bytes"
                        await _refuse(send, 413, error)
                    return {"type": "http.disconnect"}
            return message

        async def sending(message):
            nonlocal started
            if refused:
                return
            started = True
            await send(message)

        await self.app(scope, counting, sending)

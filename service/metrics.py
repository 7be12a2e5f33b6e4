"""Prometheus metrics of one app (prometheus-client, in a registry of the app's own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["Metrics"]

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Requests by route and status, their latency, bytes uploaded and refused keys."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "minyi_requests", "Requests answered", ["path", "status"], registry=self.registry
        )
        self.seconds = Histogram(
            "minyi_request_seconds",
            "Time to answer",
            ["path"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "minyi_upload_bytes", "Bytes of batch uploads received", registry=self.registry
        )
        self.auth_failures = Counter(
            "minyi_auth_failures",
            "Requests refused for a missing or wrong key",
            registry=self.registry,
        )
        self.refused = Counter(
            "minyi_refused", "Requests refused before the app", ["reason"], registry=self.registry
        )

    def observe(self, path: str, status: int, seconds: float) -> None:
        self.requests.labels(path, str(status)).inc()
        self.seconds.labels(path).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

"""Names made in one place: cluster ids, the keys opinions are stored under, timestamps, and the
``weekly_counts`` text that cluster tables carry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

__all__ = [
    "cluster_id",
    "content_key",
    "external_key",
    "format_weekly_counts",
    "now",
    "opinion_key",
    "parse_cluster_id",
    "parse_weekly_counts",
]


def cluster_id(period: str, number: int) -> str:
    """The id of cluster ``number`` of ``period``: ``cluster_id("2024Q3", 17)`` → ``C2024Q3-0017``."""
    return f"C{period}-{number:04d}"


def parse_cluster_id(cluster: str) -> tuple[str, int]:
    """``C2024Q3-0017`` → ``("2024Q3", 17)``."""
    period, _, number = cluster[1:].rpartition("-")
    return period, int(number)


def opinion_key(row_id: object, when: object, text: str) -> str:
    """The key a scored row is stored under: a hash of its id, time and text."""
    return content_key(row_id, when, text)


def external_key(external_id: str) -> str:
    """The key of an opinion that its sender named: ``ext:<external id>``, so that the same
    opinion sent again finds its stored result whatever else changed."""
    return f"ext:{external_id}"


def content_key(*fields: object) -> str:
    """The key of an opinion known only by its content: a hash of ``fields`` (as text) in order."""
    return "sha1:" + hashlib.sha1("\x1f".join(map(str, fields)).encode()).hexdigest()


def now() -> str:
    """The current time as stored: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_weekly_counts(counts: Mapping[str, int]) -> str:
    """``{"2024-W31": 2, "2024-W32": 1}`` → ``"2024-W31:2 2024-W32:1"``, weeks in order."""
    return " ".join(f"{week}:{count}" for week, count in sorted(counts.items()))


def parse_weekly_counts(text: str | None) -> dict[str, int]:
    """The ``weekly_counts`` text as ``{week: count}``, weeks in order; blanks and stray parts
    are skipped."""
    pairs: Iterable[tuple[str, str, str]] = (p.rpartition(":") for p in str(text or "").split())
    return {week: int(count) for week, _, count in sorted(pairs) if week and count.isdigit()}

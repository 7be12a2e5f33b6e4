"""Names made in one place: cluster ids, the keys opinions are stored under, timestamps, and the
``weekly_counts`` text that cluster tables carry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

__all__ = [
    "cluster_id",
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


def opinion_key(row_id: str, when: str, text: str) -> str:
    """The key an opinion is stored under: a hash of its id, time and text."""
    return "sha1:" + hashlib.sha1(f"{row_id}\x1f{when}\x1f{text}".encode()).hexdigest()


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

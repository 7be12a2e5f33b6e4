"""Exact duplicates: opinions whose normalised text is the same."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["dedupe_key", "exact_duplicates"]

_SPACE = re.compile(r"\s+")


def dedupe_key(text: str) -> str:
    """Key under which two normalised texts count as the same: no spaces, lower case."""
    return _SPACE.sub("", text).lower()


def exact_duplicates(texts: Sequence[str | None]) -> list[int | None]:
    """For each text, the position of the first earlier text with the same key, else ``None``.

    ``None`` or empty texts are never duplicates.
    """
    first: dict[str, int] = {}
    out: list[int | None] = []
    for i, text in enumerate(texts):
        key = dedupe_key(text) if text else ""
        if not key:
            out.append(None)
            continue
        if key in first:
            out.append(first[key])
        else:
            first[key] = i
            out.append(None)
    return out

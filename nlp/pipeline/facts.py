"""What the clusters are told of each scored row beyond its vector: its near-duplicate group,
what it names (places, organisations, bus or metro lines) and the place staff recorded it at."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlp.clustering.describe import specific_places

__all__ = ["anchors", "duplicate_groups", "named"]

_NOTHING: frozenset[str] = frozenset()


def duplicate_groups(near_of: Sequence[int | None], ok: Sequence[int], n: int) -> list[int | None]:
    """For each row of ``ok``, the position in ``ok`` of the first row of its near-duplicate
    group (``near_of[i]``, a row number), or ``None``."""
    position = np.full(n, -1, dtype=np.int64)  # each scored row's place among them
    position[ok] = np.arange(len(ok))
    return [
        int(position[near_of[i]]) if near_of[i] is not None and position[near_of[i]] >= 0 else None
        for i in ok
    ]


def named(
    ok: Sequence[int],
    source: Sequence[int],
    given_place: Sequence[str],
    places: Sequence[Sequence[str]],
    orgs: Sequence[Sequence[str]],
    routes: Sequence[frozenset[str]],
) -> list[frozenset[str]]:
    """What each row of ``ok`` names: the specific places in the place it was recorded at and
    in its text, the organisations, and the lines (``routes``, by distinct row ``source[i]``).

    Rows that name nothing share one empty set, and a repeat recorded at the same place shares
    its first row's set.
    """
    made: list[tuple[str, frozenset[str]] | None] = [None] * len(routes)
    where = []
    for i in ok:
        first = made[source[i]]
        if first is None or first[0] != given_place[i]:
            found = specific_places(" ".join([given_place[i], *places[i]]))
            about = frozenset(found | set(orgs[i]) | routes[source[i]]) or _NOTHING
            first = made[source[i]] = (given_place[i], about)
        where.append(first[1])
    return where


def anchors(ok: Sequence[int], given_place: Sequence[str]) -> list[str]:
    """The place staff recorded each row of ``ok`` at (the export's place column), or empty."""
    return [given_place[i].strip() for i in ok]

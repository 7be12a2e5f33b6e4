"""Incremental clustering: a run's opinions clustered against the clusters of earlier runs.

With stored state an opinion seen before keeps its cluster; a new one joins the closest stored
cluster when it is close enough and names no other place; the rest are clustered among
themselves and their clusters numbered after the last id of their quarter. Without state every
opinion is clustered afresh and numbering starts at 1. The same input and state give the same
ids, run after run.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nlp.clustering.describe import summarize_clusters
from nlp.clustering.semantic import cluster_vectors, compatible
from nlp.core.ids import cluster_id

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore
    from nlp.summarize import ClusterScorer

__all__ = ["Assignment", "Opinions", "assign_clusters", "describe_stored"]

_NOTHING: frozenset[str] = frozenset()
_CANDIDATES = 5  # stored clusters tried per opinion, closest first
_SLICE = 4096  # opinions compared with the stored clusters at a time


@dataclass
class Opinions:
    """What clustering knows of a run's scored opinions, beyond their vectors.

    Attributes:
        point_of: Opinion ``k``'s vector is row ``point_of[k]`` of the centred vectors (opinions
            with the same text and title share one).
        keys: Each opinion's key in the store (unused without one).
        places: What each opinion names: places, organisations, bus or metro lines.
        groups: The first opinion of each one's near-duplicate group, or ``None``.
        anchors: The place staff recorded each opinion at, or empty.
    """

    point_of: np.ndarray
    keys: Sequence[str]
    places: Sequence[Set[str]]
    groups: Sequence[int | None]
    anchors: Sequence[str]


@dataclass
class Assignment:
    """Each opinion's cluster id (one string per cluster, shared by its opinions), how many
    clusters are new, and the stored clusters that opinions joined."""

    ids: list[str]
    new: int = 0
    earlier: set[str] = field(default_factory=set)


def assign_clusters(
    centred: np.ndarray,
    opinions: Opinions,
    period: str,
    *,
    threshold: float,
    neighbours: int,
    store: ClusterStore | None = None,
) -> Assignment:
    """Cluster ids for ``opinions``, carried over from ``store`` where there is one.

    Args:
        centred: The opinions' distinct points, centred and of unit length.
        opinions: What else is known of each opinion.
        period: The quarter new clusters are numbered in (``2024Q3``).
        threshold: Cosine at which two clusters merge, or an opinion joins a stored cluster.
        neighbours: Nearest neighbours of each point considered for merging.
        store: Stored state: the new opinions' clusters are added to it.
    """
    point_of, keys = opinions.point_of, opinions.keys
    where, groups = opinions.places, opinions.groups
    n = len(point_of)
    ids: list[str | None] = [None] * n
    known: dict[str, str] = {}
    stored: set[str] = set()
    if store is not None:
        known = store.known(keys)
        ids = [known.get(key) for key in keys]
        stored_ids, centroids, stored_places = store.clusters()
        stored = set(stored_ids)
        todo = [k for k, c in enumerate(ids) if c is None]
        for lo in range(0, len(todo) if stored_ids else 0, _SLICE):
            part = todo[lo : lo + _SLICE]
            sims = centred[point_of[part]].astype(np.float32) @ centroids.T
            for k, row in zip(part, sims):
                for j in np.argsort(-row, kind="stable")[:_CANDIDATES]:
                    if row[j] < threshold:
                        break
                    if compatible(where[k], stored_places[j]):
                        ids[k] = stored_ids[j]
                        break
    # Members of a duplicate group follow whichever member already has a cluster.
    for k, g in enumerate(groups):
        if g is not None and ids[k] is None and ids[g] is not None:
            ids[k] = ids[g]
    todo = [k for k, c in enumerate(ids) if c is None]
    new = 0
    if todo:
        labels, point = _cluster_points(centred, opinions, todo, threshold, neighbours)
        first = store.next_number(period) if store is not None else 1
        names: dict[int, str] = {}  # one id string per cluster, shared by its opinions
        for pos, k in enumerate(todo):
            label = int(labels[point[pos]])
            if label not in names:
                names[label] = cluster_id(period, first + len(names))
            ids[k] = names[label]
        new = len(names)
    earlier: set[str] = set()
    if store is not None:
        fresh: dict[str, tuple] = {}
        for k, key in enumerate(keys):
            if key not in known and key not in fresh:
                fresh[key] = (ids[k], key, centred[point_of[k]], where[k])
        store.add_many(list(fresh.values()))
        earlier = {c for c in ids if c in stored}
    return Assignment(ids, new, earlier)


def _cluster_points(
    centred: np.ndarray, opinions: Opinions, todo: list[int], threshold: float, neighbours: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the opinions ``todo`` by their points (the distinct texts among them, each
    standing for its repeats, which share its places, anchors and duplicate group): the points'
    labels, and each of ``todo``'s point among them."""
    point_of, where = opinions.point_of, opinions.places
    groups, anchors = opinions.groups, opinions.anchors
    used, point = np.unique(point_of[todo], return_inverse=True)
    m = len(used)
    weights = np.bincount(point, minlength=m)
    places: list = [_NOTHING] * m
    given: list = [""] * m  # a point's anchor, or the set of them where its repeats differ
    linked: list[int | None] = [None] * m
    point_at = np.full(len(point_of), -1, dtype=np.int64)  # each opinion's point, for todo's
    point_at[todo] = point
    for pos, k in enumerate(todo):
        j = point[pos]
        if where[k] and where[k] is not places[j]:
            places[j] = where[k] if not places[j] else places[j] | where[k]
        a, held = anchors[k], given[j]
        if a and a != held:
            if not held:
                given[j] = a
            else:
                given[j] = frozenset((held, a)) if isinstance(held, str) else held | {a}
        g = point_at[groups[k]] if groups[k] is not None else -1
        if g >= 0 and g != j and linked[j] is None:
            linked[j] = int(g)
    labels = cluster_vectors(
        centred if m == len(centred) else centred[used],
        threshold,
        neighbours,
        places=places,
        groups=linked,
        weights=weights,
        anchors=given,
    )
    return labels, point


def describe_stored(
    store: ClusterStore, clusters: pd.DataFrame, earlier: Set[str], scorer: ClusterScorer
) -> None:
    """Describe a run's clusters in ``store`` (the run's opinions stored first); a cluster that
    also holds opinions of earlier runs (``earlier``) is described again from all of its stored
    opinions."""
    store.describe(clusters[~clusters["cluster"].isin(earlier)])
    if earlier:
        members, member_vectors, member_words = store.members(sorted(earlier))
        store.describe(summarize_clusters(members, member_words, member_vectors, scorer))

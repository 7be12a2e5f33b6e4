"""Incremental clustering: a run's opinions clustered against the clusters of earlier runs.

With stored state an opinion seen before keeps its cluster; a new one joins the closest stored
cluster that passes the merge rule (:class:`~nlp.clustering.evidence.MergeRule`, with the opinion's
topic, length and places against the cluster's) and shares a place with each of its members that
names one; the rest are clustered among themselves and their clusters numbered after the last id
of their quarter. Without state every opinion is clustered afresh and numbering starts at 1. The
same input and state give the same ids, run after run.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nlp.clustering.describe import summarize_clusters
from nlp.clustering.evidence import FITTED_RULE, MergeRule, shortness
from nlp.clustering.places import agree, bare_areas, keyed, place_names, spots
from nlp.clustering.semantic import cluster_vectors
from nlp.core.ids import cluster_id

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore, StoredClusters
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
        topics: Each point's level-2 class ('' for none); no topics when ``None``.
        confidence: The classifier's confidence in each point's class.
        lengths: How long what each point says is, in characters (see
            :func:`~nlp.clustering.evidence.shortness`); every point a post when ``None``.
        search_dims: The leading dimensions of the points that neighbours are searched by in
            a large batch (their sentence vectors; see
            :func:`~nlp.clustering.semantic.top_neighbours`); all when ``None``.
    """

    point_of: np.ndarray
    keys: Sequence[str]
    places: Sequence[Set[str]]
    groups: Sequence[int | None]
    anchors: Sequence[str]
    topics: Sequence[str] | None = None
    confidence: Sequence[float] | np.ndarray | None = None
    lengths: Sequence[int] | np.ndarray | None = None
    search_dims: int | None = None


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
    threshold: float | None = None,
    neighbours: int = 10,
    store: ClusterStore | None = None,
) -> Assignment:
    """Cluster ids for ``opinions``, carried over from ``store`` where there is one.

    Args:
        centred: The opinions' distinct points, centred and of unit length.
        opinions: What else is known of each opinion.
        period: The quarter new clusters are numbered in (``2024Q3``).
        threshold: The merge rule's threshold for posts (the fragments' moves with it); the
            fitted rule's when ``None``. Also what a new opinion must reach to join a stored
            cluster.
        neighbours: Nearest neighbours of each point considered for merging.
        store: Stored state: the new opinions' clusters are added to it.
    """
    rule = FITTED_RULE.with_threshold(threshold)
    point_of, keys = opinions.point_of, opinions.keys
    where, groups = opinions.places, opinions.groups
    n = len(point_of)
    ids: list[str | None] = [None] * n
    known: dict[str, str] = {}
    stored: set[str] = set()
    if store is not None:
        known = store.known(keys)
        ids = [known.get(key) for key in keys]
        found = store.joinable()
        stored = set(found.ids)
        todo = [k for k, c in enumerate(ids) if c is None]
        if found.ids and todo:
            _join_stored(centred, opinions, todo, found, rule, ids)
    # Members of a duplicate group follow whichever member already has a cluster, unless they
    # are about another place.
    for k, g in enumerate(groups):
        if (
            g is not None
            and ids[k] is None
            and ids[g] is not None
            and not _clash(where[k], [where[g]])
        ):
            ids[k] = ids[g]
    todo = [k for k, c in enumerate(ids) if c is None]
    new = 0
    if todo:
        labels, point = _cluster_points(centred, opinions, todo, rule, neighbours)
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


def _join_stored(
    centred: np.ndarray,
    opinions: Opinions,
    todo: list[int],
    stored: StoredClusters,
    rule: MergeRule,
    ids: list[str | None],
) -> None:
    """Give each opinion of ``todo`` the stored cluster it joins, if any: of the closest
    ``_CANDIDATES`` by cosine, the first that passes ``rule`` and whose places do not clash with
    the opinion's (:func:`_clash`: member by member, as two clusters of one run). The rule's
    terms are read as for two clusters (:meth:`MergeRule.margin`): the linkage is the opinion's
    mean cosine with the cluster's members (its vector times their mean), the cluster's topic is
    its level-2 class, held as surely as the opinion holds its own, its places are those its
    members name, and its own mean cosine within sets the bar of the relative test."""
    point_of, where = opinions.point_of, opinions.places
    topics, sure = opinions.topics, opinions.confidence
    lengths = opinions.lengths
    for lo in range(0, len(todo), _SLICE):
        part = todo[lo : lo + _SLICE]
        points = point_of[part]
        cosines = centred[points].astype(np.float32) @ stored.centroids.T
        short = (
            shortness(np.asarray(lengths)[points]) if lengths is not None else np.zeros(len(part))
        )
        for pos, (k, row) in enumerate(zip(part, cosines)):
            p = point_of[k]
            topic = topics[p] if topics is not None else ""
            conf = float(sure[p]) ** 2 if topics is not None and topic else 0.0
            for j in np.argsort(-row, kind="stable")[:_CANDIDATES]:
                theirs = stored.level2[j]
                same = conf if topic and theirs == topic else 0.0
                differ = conf if topic and theirs and theirs != topic else 0.0
                lone = float(bool(where[k]) != bool(stored.places[j]))
                bare = float(not where[k] and not stored.places[j])
                linked = float(row[j]) * stored.scale[j]
                tight = float(stored.within[j]) if stored.within[j] > -1 else None
                short_k = float(short[pos])
                passed = rule.margin(linked, same, differ, lone, short_k, tight, bare=bare) >= 0
                if passed and not _clash(where[k], stored.place_sets[j]):
                    ids[k] = stored.ids[j]
                    break


def _clash(named: Set[str], sets: Sequence[Set[str]]) -> bool:
    """Whether an opinion that names ``named`` is about another place than a stored cluster whose
    members name ``sets`` (each member's places apart): some member names places and none of them
    agrees with the opinion's (:func:`~nlp.clustering.places.agree`: 江北区金苗幼儿园 agrees
    with 金苗幼儿园, 幸福小区3栋 with 幸福小区, not 恒大江湾 with 恒大国际广场). An opinion or a
    cluster that names no specific place clashes with nothing."""
    if not named:
        return False
    # A member that names one of its places that give keys, as a spot on both sides (not the
    # neighbourhood or line around one: :func:`~nlp.clustering.places.spots`), agrees on it:
    # when every member does, nothing needs keying.
    bare = bare_areas(named.union(*sets))
    own = spots(named)
    if all(any(keyed(p) and p not in bare for p in own & spots(s)) for s in sets):
        return False
    (mine, *theirs), (given, *told) = place_names([named, *sets])
    return bool(mine) and any(k and not agree(mine, given, k, n) for k, n in zip(theirs, told))


def _cluster_points(
    centred: np.ndarray, opinions: Opinions, todo: list[int], rule: MergeRule, neighbours: int
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
        None,
        neighbours,
        places=places,
        groups=linked,
        weights=weights,
        anchors=given,
        topics=None if opinions.topics is None else [opinions.topics[u] for u in used],
        confidence=None if opinions.confidence is None else np.asarray(opinions.confidence)[used],
        lengths=None if opinions.lengths is None else np.asarray(opinions.lengths)[used],
        rule=rule,
        search_dims=opinions.search_dims,
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

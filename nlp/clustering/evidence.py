"""What two clusters share beyond their sentence vectors: the classifier's level-2 topic, how
long their texts are, and the places, organisations and lines their members name.

A fragment heard at a reception day ("暖气不热，屋里才十五度") has few words: its vector says
less surely what it is about than a long post's does, and its topic from the classifier says
more. So the merge rule weighs the evidence by length: each point has a *shortness* (1 for a text
of ``SHORT_CHARS`` characters or fewer, 0 from ``LONG_CHARS`` on, linear between), and each
weight of :class:`MergeRule` lies between its value for fragments and its value for posts.

Places are judged member by member (:mod:`nlp.clustering.places` says when two opinions'
places agree). A cluster's places are the keys that at least ``place_share`` of its naming
members name, not their union, so a stray place in one member does not open the cluster to
clusters at other places, however large it grows. Two clusters whose places do not agree never
merge, nor do two of which two members, one from each, name places that do not agree
(:meth:`Evidence.clash`): one member's place is not outvoted by the others'.

The weights are fitted on the project's gold set (``corpora/same_issue/``) by
``benchmarks/fit_cluster.py``, which prints its cross-validation table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from nlp.clustering.places import agree

__all__ = ["MergeRule", "FITTED_RULE", "shortness", "Evidence"]

SHORT_CHARS = 40
"""Texts this short or shorter count as fragments (reception days, QR forms, group chats)."""
LONG_CHARS = 120
"""Texts this long or longer count as posts (message boards, letters)."""


@dataclass(frozen=True)
class MergeRule:
    """When two clusters are one issue.

    Two clusters A and B merge when

        V + topic * same - other * differ - lone * unplaced - unnamed * bare >= threshold

    where V is the vectors' linkage (``"average"``: the mean cosine over the pairs of members, one
    from each; ``"centroid"``: the cosine of the two centroids), and over the same pairs ``same``
    is the mean of ``confidence_a * confidence_b`` where both have the same level-2 topic,
    ``differ`` the same where they have different ones, ``unplaced`` the share of pairs where
    one names a place and the other names none, and ``bare`` the share where neither names one.
    Each weight has a value for fragments (``*_short``) and one for posts (``*_long``); a pair of
    clusters takes the point between that their mean shortness gives.

    Pairs whose places conflict (both clusters name places, none in common) never merge, nor do
    clusters of which two members, one from each, name places and none in common. So the
    threshold is what two posts that name one place must reach; two that name none must reach
    it plus ``unnamed``, and one naming a place and one naming none it plus ``lone`` (with
    :data:`FITTED_RULE`, posts: 0.15, 0.44 and 0.52). A place in common earns no bonus beyond
    that: different problems at one place are different issues.

    With average linkage a further test (``relative_*``, 0: none): V must also reach ``relative``
    times the tighter cluster's own mean cosine (over pairs of its members with different texts;
    a cluster of one text has none). A cluster whose members say one thing in near the same words
    (城东医院挂号排队) then takes in only what is about as close to them as they are to each
    other, not the next matter at the same place (城东医院停车费), while loose paraphrases
    (暖气不热 / 屋里冻得伸不出手) still gather at the threshold.
    """

    threshold_long: float
    threshold_short: float
    topic_long: float = 0.0
    topic_short: float = 0.0
    other_long: float = 0.0
    other_short: float = 0.0
    lone_long: float = 0.0
    lone_short: float = 0.0
    unnamed_long: float = 0.0
    unnamed_short: float = 0.0
    relative_long: float = 0.0
    relative_short: float = 0.0
    place_share: float = 0.5
    linkage: str = "average"

    def shifted(self, delta: float) -> MergeRule:
        """The same rule with both thresholds moved by ``delta`` (coarser issues when < 0). At a
        coarser setting each relative factor moves down in proportion to its threshold, so that
        tight clusters gather more readily too; at a finer one it stays (raised, it would soon
        pass 1: a cluster could take in nothing less close than its own members)."""

        def scaled(relative: float, threshold: float) -> float:
            if threshold <= 0 or delta >= 0:
                return relative
            return relative * max(0.0, threshold + delta) / threshold

        return replace(
            self,
            threshold_long=self.threshold_long + delta,
            threshold_short=self.threshold_short + delta,
            relative_long=scaled(self.relative_long, self.threshold_long),
            relative_short=scaled(self.relative_short, self.threshold_short),
        )

    def with_threshold(self, threshold: float | None) -> MergeRule:
        """The rule with its posts' threshold at ``threshold`` (the fragments' moved as much);
        this rule when ``None``."""
        return self if threshold is None else self.shifted(threshold - self.threshold_long)

    def margin(
        self,
        linked: float,
        same: float,
        differ: float,
        lone: float,
        short: float,
        tight: float | None = None,
        bonus: float = 0.0,
        bare: float = 0.0,
    ) -> float:
        """By how much two clusters pass the rule (< 0: they stay apart), given their linkage,
        the terms of :meth:`Evidence.terms`, their mean shortness and the tighter one's mean
        cosine within (``None``: neither holds two texts); ``bonus`` lowers the threshold, not
        the relative test's bar; ``bare`` is :meth:`Evidence.bare`. (For a new opinion and a
        stored cluster too: the linkage is then the opinion's vector times the cluster's sum of
        vectors over its size, and the terms are read from the cluster's members.)"""
        t, p, o, n, u = self.at(short)
        found = linked + p * same - o * differ - n * lone - u * bare - t + bonus
        if tight is None or self.linkage != "average":
            return found
        r = self.relative_long + short * (self.relative_short - self.relative_long)
        return min(found, linked - r * tight) if r else found

    def at(self, short: np.ndarray | float) -> tuple:
        """``(threshold, topic, other, lone, unnamed)`` at the given shortness."""
        return tuple(
            long + short * (shorter - long)
            for long, shorter in (
                (self.threshold_long, self.threshold_short),
                (self.topic_long, self.topic_short),
                (self.other_long, self.other_short),
                (self.lone_long, self.lone_short),
                (self.unnamed_long, self.unnamed_short),
            )
        )


# Fitted on the project's gold set (corpora/same_issue/: 458 fragments in 132 groups, 646 posts
# in 323 groups, 441 of them the hard cases of long_hard.csv, long_policy.csv, long_single.csv,
# long_adjacent.csv and long_board.csv), with the topics of the default classifier self-trained
# on each band as its own batch, as a run does, by benchmarks/fit_cluster.py, which prints the
# cross-validation table.
FITTED_RULE = MergeRule(
    threshold_long=0.15,
    threshold_short=0.24,
    topic_long=0.017,
    topic_short=0.095,
    other_long=0.142,
    other_short=0.271,
    lone_long=0.37,
    lone_short=0.139,
    unnamed_long=0.288,
    unnamed_short=0.013,
    relative_short=0.6,
)
"""The rule :func:`~nlp.clustering.semantic.cluster_vectors` uses unless told otherwise."""


def shortness(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """1 for a text of ``SHORT_CHARS`` characters or fewer, 0 from ``LONG_CHARS`` on."""
    lengths = np.asarray(lengths, dtype=np.float64)
    return np.clip((LONG_CHARS - lengths) / (LONG_CHARS - SHORT_CHARS), 0.0, 1.0)


class Evidence:
    """Each cluster's topics, length and places, kept up to date as clusters merge.

    A point still alone is read from the arrays; a cluster keeps sums of its own only once it
    has merged, so points that never merge cost nothing beyond the arrays.

    Args:
        weights: Opinions each point stands for.
        topics: Each point's level-2 topic as an integer code, -1 for none.
        confidence: The classifier's confidence in each point's topic.
        short: Each point's shortness.
        keys: Each point's place keys.
        place_share: See :class:`MergeRule`.
        names: The names among each point's keys that it gives itself (:func:`~nlp.clustering.places.place_names`);
            all its keys when ``None``.
    """

    def __init__(self, weights, topics, confidence, short, keys, place_share: float, names=None):
        self.weight = np.asarray(weights, dtype=np.float64).copy()
        self.short_sum = self.weight * short
        self.topics = topics
        self.mass = self.weight * confidence  # a point's topic weight while it is alone
        self.keys = keys
        self.names = keys if names is None else names
        self.place_share = place_share
        self.mix: dict[int, dict[int, float]] = {}  # cluster -> topic -> summed weight x conf
        self.counts: dict[int, dict[str, float]] = {}  # cluster -> key -> weight naming it
        self.named: dict[int, float] = {}  # cluster -> weight of the members naming a key
        self.core: dict[int, frozenset[str]] = {}  # cluster -> its places
        self.given: dict[int, frozenset[str]] = {}  # cluster -> the names its members give
        # cluster -> the distinct (keys, names) of its members that name places (few: members
        # agree)
        self.sets: dict[int, set[tuple[frozenset[str], frozenset[str]]]] = {}

    def short(self, a: int) -> float:
        return self.short_sum[a] / self.weight[a]

    def places(self, a: int) -> frozenset[str]:
        found = self.core.get(a)
        return found if found is not None else self.keys[a]

    def _core_names(self, a: int) -> frozenset[str]:
        found = self.core.get(a)
        return found & self.given[a] if found is not None else self.names[a]

    def apart(self, a: int, b: int) -> bool:
        """Whether both clusters have places and they do not agree (:func:`~nlp.clustering.places.agree`)."""
        # Asked of every candidate pair: places() written out, and b's read only when a has some.
        core = self.core
        pa = core.get(a)
        if pa is None:
            pa = self.keys[a]
        if not pa:
            return False
        pb = core.get(b)
        if pb is None:
            pb = self.keys[b]
        if not pb or pa.isdisjoint(pb):
            return bool(pb)
        return not agree(pa, self._core_names(a), pb, self._core_names(b))

    def clash(self, a: int, b: int) -> bool:
        """Whether two members, one from each cluster, both name places that do not agree."""
        sa, sb = self._sets(a), self._sets(b)
        if not sa or not sb:
            return False
        return any(not agree(ka, na, kb, nb) for ka, na in sa for kb, nb in sb)

    def terms(self, a: int, b: int) -> tuple[float, float, float]:
        """Over the pairs of members, one from each: the mean of confidence x confidence where
        the topics agree and where they differ, and the share where one names a place and the
        other none."""
        wa, wb = self.weight[a], self.weight[b]
        na, nb = self._named(a), self._named(b)
        lone = (na * (wb - nb) + (wa - na) * nb) / (wa * wb)
        ma, mb = self._mix(a), self._mix(b)
        if not ma or not mb:
            return 0.0, 0.0, lone
        if len(ma) > len(mb):
            ma, mb = mb, ma
        same = sum(m * mb.get(t, 0.0) for t, m in ma.items())
        every = sum(ma.values()) * sum(mb.values())
        return same / (wa * wb), (every - same) / (wa * wb), lone

    def bare(self, a: int, b: int) -> float:
        """The share of the pairs of members, one from each, where neither names a place."""
        wa, wb = self.weight[a], self.weight[b]
        return (wa - self._named(a)) * (wb - self._named(b)) / (wa * wb)

    def join(self, a: int, b: int) -> None:
        """Cluster ``b`` joins cluster ``a``. (The larger side's sums are added to in place:
        they are ``a``'s or ``b``'s own, or made afresh for a point alone.)"""
        ma, mb = self._mix(a), self._mix(b)
        if len(ma) < len(mb):
            ma, mb = mb, ma
        for t, m in mb.items():
            ma[t] = ma.get(t, 0.0) + m
        self.mix[a] = ma
        self.mix.pop(b, None)
        if self._named(a) or self._named(b):  # else neither names a place: nothing to count
            self._join_places(a, b)
        self.weight[a] += self.weight[b]
        self.short_sum[a] += self.short_sum[b]

    def _join_places(self, a: int, b: int) -> None:
        (ca, na), (cb, nb) = self._counts(a), self._counts(b)
        kept = self.places(a) if len(ca) >= len(cb) else self.places(b)
        if len(ca) < len(cb):
            ca, cb = cb, ca
        for key, w in cb.items():
            ca[key] = ca.get(key, 0.0) + w
        named = na + nb
        # Only a key counted again, or one of the larger side's places, can be a place now:
        # any other key kept its count while the count needed grew.
        floor = self.place_share * named - 1e-9
        self.core[a] = frozenset(k for k in kept.union(cb) if ca[k] >= floor)
        self.core.pop(b, None)
        self.given[a] = self._given(a) | self._given(b)
        self.given.pop(b, None)
        self.counts[a], self.named[a] = ca, named
        self.counts.pop(b, None)
        self.named.pop(b, None)
        sa, sb = self._sets(a), self._sets(b)
        if len(sa) < len(sb):
            sa, sb = sb, sa
        sa |= sb  # the larger side's own set (or one made afresh for a point alone)
        self.sets[a] = sa
        self.sets.pop(b, None)

    def _given(self, a: int) -> frozenset[str]:
        found = self.given.get(a)
        return found if found is not None else self.names[a]

    def _mix(self, a: int) -> dict[int, float]:
        found = self.mix.get(a)
        if found is not None:
            return found
        t = int(self.topics[a])
        return {t: float(self.mass[a])} if t >= 0 else {}

    def _named(self, a: int) -> float:
        found = self.named.get(a)
        if found is not None:
            return found
        return float(self.weight[a]) if self.keys[a] else 0.0

    def _sets(self, a: int) -> set[tuple[frozenset[str], frozenset[str]]]:
        found = self.sets.get(a)
        if found is not None:
            return found
        return {(self.keys[a], self.names[a])} if self.keys[a] else set()

    def _counts(self, a: int) -> tuple[dict[str, float], float]:
        found = self.counts.get(a)
        if found is not None:
            return found, self.named[a]
        w = float(self.weight[a])
        return dict.fromkeys(self.keys[a], w), self._named(a)

"""What two clusters share beyond their sentence vectors: the classifier's level-2 topic, how
long their texts are, and the places, organisations and lines their members name.

A fragment heard at a reception day ("暖气不热，屋里才十五度") has few words: its vector says
less surely what it is about than a long post's does, and its topic from the classifier says
more. So the merge rule weighs the evidence by length: each point has a *shortness* (1 for a text
of ``SHORT_CHARS`` characters or fewer, 0 from ``LONG_CHARS`` on, linear between), and each
weight of :class:`MergeRule` lies between its value for fragments and its value for posts.

Places are judged member by member. Each point's places become *keys*: the places finer than a
town that it names, and the other places of the batch that begin them (幸福里小区 and 幸福里 agree,
as do 柳树沟村口 and 柳树沟) or begin another name of theirs (河湾镇卫生院 is also 河湾卫生院,
江北区金苗幼儿园 金苗幼儿园 where the batch names no 金苗幼儿园 in another district, 幸福小区3栋
幸福小区, and a long name with its characters in another order, 中央郡美, 中央美郡); a bus
or metro line agrees only with itself, however it is written (12路, 十二路). Two points' places
*agree* (:func:`agree`) when a name one gives is a key of the other: one names the other's place,
or a place it lies in; a name behind a brand also gives the name alone (万科魅力之城小区 gives
魅力之城小区, which agrees with it; 金地魅力之城小区 does not). Two names that only begin alike
do not agree, even where the batch names what they begin with: 恒大国际广场 and 恒大江湾 are two
estates though someone writes 恒大 alone, and 黄兴路 and 黄兴大道 two roads. Nor is the bare name
of a county or district the batch names (A7 of A7县) a key, nor that of a province or city
(长沙, 浏阳; :func:`bare_areas`): it is the area, not a spot in it. A
cluster's places are the keys that at least ``place_share`` of its naming members name, not
their union, so a stray place in one member does not open the cluster to clusters at other
places, however large it grows. And two clusters merge only when every two of their members, one
from each, that both name places agree (:meth:`Evidence.clash`): one member's place is not
outvoted by the others'.

The weights are fitted on the project's gold set (``corpora/same_issue/``) by
``benchmarks/fit_cluster.py``, which prints its cross-validation table.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

__all__ = [
    "MergeRule",
    "FITTED_RULE",
    "shortness",
    "place_keys",
    "place_names",
    "agree",
    "bare_areas",
    "keyed",
    "named_lines",
    "Evidence",
]

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
    clusters of which two members, one from each, name places and none in common. A place in
    common adds nothing: different problems at one place are different issues.

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


# Fitted on the project's gold set (corpora/same_issue/: 458 fragments in 132 groups, 536 posts
# in 233 groups, 331 of them the hard cases of long_hard.csv, long_policy.csv, long_single.csv
# and long_adjacent.csv), with the topics of the default
# classifier self-trained on each band as its own batch, as a run does, by
# benchmarks/fit_cluster.py, which prints the cross-validation table.
FITTED_RULE = MergeRule(
    threshold_long=0.21,
    threshold_short=0.24,
    topic_long=0.079,
    topic_short=0.095,
    other_long=0.051,
    other_short=0.271,
    lone_long=0.122,
    lone_short=0.139,
    unnamed_long=0.071,
    unnamed_short=0.013,
    relative_short=0.6,
)
"""The rule :func:`~nlp.clustering.semantic.cluster_vectors` uses unless told otherwise."""


def shortness(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """1 for a text of ``SHORT_CHARS`` characters or fewer, 0 from ``LONG_CHARS`` on."""
    lengths = np.asarray(lengths, dtype=np.float64)
    return np.clip((LONG_CHARS - lengths) / (LONG_CHARS - SHORT_CHARS), 0.0, 1.0)


# Areas that hold many spots (provinces, cities, districts, counties, towns, street offices) and
# the government bodies an opinion is addressed to: two opinions that name the same district or
# write to the same bureau may be about different things, and one that names only those may be
# about any spot in them.
_AREA = re.compile(
    r"^(?:.{1,6}(?<![社小园景校片街营厂矿库])[省市区县旗镇乡]|.{0,6}街道(?:办事处|办)?"
    r"|中国|全国|国家|本[市县区镇]|我[市县区镇]|[市县区镇村]里|社区|小区|村委会?|居委会?)$"
)
_BODY = re.compile(r"(?:政府|委员会|[局委厅办署]|办公室|办事处|国务院|信访[局办]?)$")
_LINE = re.compile(r"(?<![\dA-Za-z])[A-Za-z]?\d{1,4}(?:路|号线)")
# A route named by its number before the bus (405公交, x117公交车): the same route as 405路.
_BUS_NUMBER = re.compile(r"(?<![\dA-Za-z])([A-Za-z]?\d{1,4})(?=公交|公共汽车|巴士)")
# A route written with 线 (X112线路, 112线): the same route as X112路.
_LINE_XIAN = re.compile(r"(?<![\dA-Za-z])([A-Za-z]?\d{1,4})线(?!城市)")
# A line named in Chinese numerals (三路公交, 坐十二路, 二号线): 一路 and 两路 alone are words
# ("一路颠簸"), and 三路口 is a junction, so a route needs a bus after it or a ride before it.
_WRITTEN_LINE = re.compile(
    r"(?<![一二三四五六七八九十百零两])([一二三四五六七八九十百零]{1,5})"
    r"(?:号线|路(?=公交|公共汽车|汽车|班车|车|末班|首班|线路))"
    r"|(?<=[坐乘搭])([一二三四五六七八九十百零]{1,5})路"
)
_DIGITS = {c: d for d, c in enumerate("零一二三四五六七八九")}
_NO_LINES: frozenset[str] = frozenset()


def _number(written: str) -> int | None:
    """A number under a thousand written in Chinese numerals (十二 → 12, 一百零八 → 108)."""
    total = digit = 0
    for c in written:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c == "十":
            total += (digit or 1) * 10
            digit = 0
        elif c == "百":
            total += digit * 100
            digit = 0
    total += digit
    return total or None


def named_lines(text: str) -> frozenset[str]:
    """The bus routes and metro lines a text names (121路, X2路, 4号线), those named in Chinese
    numerals written as digits (三路公交 → 3路, 二号线 → 2号线), those written with 线 as routes
    (X112线路 → X112路) and those named by a number before the bus (405公交 → 405路; x117公交 →
    X117路), so that they agree."""
    if "路" not in text and "线" not in text and "公" not in text and "巴士" not in text:
        return _NO_LINES
    found = [line[0].upper() + line[1:] for line in _LINE.findall(text)]
    found.extend(f"{route.upper()}路" for route in _LINE_XIAN.findall(text))
    found.extend(f"{route.upper()}路" for route in _BUS_NUMBER.findall(text))
    for m in _WRITTEN_LINE.finditer(text):
        metro = m.group().endswith("号线")
        if m.group(1) == "一" and not metro:
            continue  # 一路车 runs on ("一路车流不断")
        number = _number(m.group(1) or m.group(2))
        if number:
            found.append(f"{number}{'号线' if metro else '路'}")
    return frozenset(found)


def keyed(place: str) -> bool:
    """Whether a name gives place keys: two or more characters, not an area that holds many
    spots (江北区, 本市, 社区) nor a government body."""
    return len(place) >= 2 and not _AREA.match(place) and not _BODY.search(place)


# A place named with the city, district or county it lies in (A市, 江北区, 七星县; not a 小区,
# 社区, 园区, 城市, 超市 or 菜市场).
_IN_AREA = re.compile(
    r"^([^省市区县]{1,6}(?<![社小园景校片街营厂矿库城都超菜门集])[省市区县])(?!场)(.{2,})$"
)
# 河湾镇卫生院 is also called 河湾卫生院, and 红旗村小学 红旗小学.
_TOWNSHIP = re.compile(r"^(.{2,4}?)[镇乡村](.{2,})$")
# A building, unit or phase of an estate (幸福小区3栋, 花都五期, 楚商世纪鑫城1幢): the estate is
# the place.
_UNIT = re.compile(
    r"(?:(?:\d{1,3}|[A-Za-z]|[一二三四五六七八九十]{1,3})(?:栋|幢|号楼|单元|期|座))+$"
)
_SWAPPED_MIN = 4
_SUFFIX_MIN = 4
# What ends a city, district, county, township or village (a place without it is the place in
# that area, which _in_areas and _TOWNSHIP judge).
_AREA_END = re.compile(r"(?:[省市区县镇乡村]|街道)$")
_NUMERAL = re.compile(r"[\d一二三四五六七八九十百零两]")


def _estate(place: str) -> str:
    """The estate a building, unit or phase is in (幸福小区3栋 → 幸福小区), or ''."""
    estate = _UNIT.sub("", place)
    return estate if estate != place and keyed(estate) else ""


def _may_be_misspelt(name: str) -> bool:
    return len(name) >= _SWAPPED_MIN and not _NUMERAL.search(name)


# A verb of going that a tagger took into a place ("通柳树沟的公交", "到马家岭").
_GOING = "通到去往在从至"


def _in_areas(place: str) -> list[tuple[str, str]]:
    """``(area, rest)`` for each city, district or county that ``place`` begins with, outer
    first: 重庆市江北区金苗幼儿园 gives (重庆市, 江北区金苗幼儿园) and (江北区, 金苗幼儿园)."""
    out = []
    found = _IN_AREA.match(place)
    while found:
        out.append((found.group(1), found.group(2)))
        found = _IN_AREA.match(found.group(2))
    return out


def _other_names(place: str, vocabulary: Set[str], without_areas: list[str]) -> list[str]:
    """What else ``place`` may be called: ``without_areas`` (its names without the cities,
    districts or counties it begins with that may stand for it: 江北区金苗幼儿园 is 金苗幼儿园),
    any of these without the 镇, 乡 or 村 inside its name, and ``place`` without a verb of going
    in front of a place of the batch."""
    out = list(without_areas)
    for name in (place, *out):
        found = _TOWNSHIP.match(name)
        if found:
            out.append(found.group(1) + found.group(2))
    if place[0] in _GOING and place[1:] in vocabulary:
        out.append(place[1:])
    return out


def bare_areas(names: Set[str]) -> set[str]:
    """The provinces, cities, districts and counties among ``names`` without their 省, 市, 区 or
    县: an opinion that names one so names the area, not a spot in it, and it gives no key.

    Such a name is an area where ``names`` also name it with its 省, 市, 区 or 县 (A7 of A7县,
    江北 of 江北区), or where it is the short name of a province or of a city, prefecture-level
    or county-level, in China's administrative divisions (长沙, 广东, 浏阳): letters to a city's
    deputies name the city all the time ("来长沙工作三年"), and as a key it made every two of
    them agree on a place. (Where a tagger cut a spot's name short at a city's name, 中山 of
    中山宿舍, the spot's name is lost to that opinion.)"""
    found = {a[:-1] for a in names if len(a) >= 3 and a[-1] in "省市区县" and _AREA.match(a)}
    return found | (names & _city_names())


@cache
def _city_names() -> frozenset[str]:
    """Short names (and full names) of the provinces and of the prefecture-level and
    county-level cities in jionlp's table of China's administrative divisions. Not those of
    districts and counties: 北辰, 龙湖, 南山 and 河西 are as often estates or parts of a city."""
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        import jionlp

    out: set[str] = set()

    def walk(level: dict, depth: int) -> None:
        for key, item in level.items():
            if key.startswith("_"):
                continue
            full = item["_full_name"]
            if depth < 2 or full.endswith("市"):
                alias = item.get("_alias") or []
                out.update([full, *([alias] if isinstance(alias, str) else alias)])
            if depth < 2:
                walk(item, depth + 1)

    walk(jionlp.china_location_loader(detail=False), 0)
    return frozenset(name for name in out if len(name) >= 2)


def place_keys(
    places: Sequence[Set[str]], *, bare_areas_keyed: bool = False
) -> list[frozenset[str]]:
    """Each point's place keys (see the module's docstring); points that name no specific place
    share one empty set, and points that name the same places share one set.

    Args:
        places: What each point names: places, organisations, bus and metro lines.
        bare_areas_keyed: Keep the bare names of areas (A7 of A7县) as keys, as the clusters did
            before December 2026 (the families of ``benchmarks/fit_cluster.py``'s folds).
    """
    return place_names(places, bare_areas_keyed=bare_areas_keyed)[0]


def place_names(
    places: Sequence[Set[str]], *, bare_areas_keyed: bool = False
) -> tuple[list[frozenset[str]], list[frozenset[str]]]:
    """Each point's place keys and the names among them that it gives itself (see
    :func:`agree`): the places it names and their other names (金苗幼儿园 of 江北区金苗幼儿园,
    幸福小区 of 幸福小区3栋), not the shorter places of the batch that begin them.

    Args:
        places: What each point names: places, organisations, bus and metro lines.
        bare_areas_keyed: See :func:`place_keys`.
    """
    empty: frozenset[str] = frozenset()
    named_anywhere = {p for named in places for p in named}
    bare = set() if bare_areas_keyed else bare_areas(named_anywhere)
    vocabulary = {p for p in named_anywhere if keyed(p) and p not in bare}
    in_areas = {p: _in_areas(p) for p in vocabulary}
    areas: dict[str, set[str]] = {}  # what a place is called without an area -> the areas
    for found in in_areas.values():
        for area, rest in found:
            areas.setdefault(rest, set()).add(area)
    # A name without its area stands for the place where the batch names it in one area only
    # (not 实验小学 where it names 江北区实验小学 and 渝北区实验小学).
    without_areas = {
        p: [rest for _, rest in found if len(areas[rest]) == 1] for p, found in in_areas.items()
    }
    # The estate of a building, unit or phase: a key whether or not the batch names it alone.
    estates = {p: _estate(p) for p in vocabulary}
    # Names written with their characters in another order (中央美郡 and 中央郡美, 聚利人 and
    # 利聚人): one place misspelt, where the name is long enough that two places seldom share its
    # characters, and holds no number (第十二中学 and 第二十中学 are two schools).
    spellings: dict[str, set[str]] = {}
    for name in {*vocabulary, *filter(None, estates.values())}:
        if _may_be_misspelt(name):
            spellings.setdefault("".join(sorted(name)), set()).add(name)
    keys_of: dict[str, frozenset[str]] = {}
    names_of: dict[str, frozenset[str]] = {}
    for p in vocabulary:
        line = _LINE.search(p)
        if line:  # a line, or a place that names one (地铁6号线): the line alone
            keys_of[p] = names_of[p] = frozenset((line.group(),))
            continue
        # Itself and its other names, and the places of the batch that begin any of them.
        called = [p, *_other_names(p, vocabulary, without_areas[p])]
        estate = estates[p]
        if estate:
            called.append(estate)
        for name in (p, estate):
            if name and _may_be_misspelt(name):
                called += [q for q in spellings["".join(sorted(name))] if q != name]
        keys_of[p] = frozenset(
            q[:j] for q in called for j in range(2, len(q) + 1) if q[:j] in vocabulary
        )
        # A place of the batch it ends with, behind a brand or a qualifier (魅力之城小区 of
        # 万科魅力之城小区): a name it gives, not a key, so that two brands' estates of one name
        # do not agree through it.
        called += [
            p[i:]
            for i in range(1, len(p) - _SUFFIX_MIN + 1)
            if p[i:] in vocabulary and not _AREA_END.search(p[:i])
        ]
        names_of[p] = frozenset(called)
        if estate:
            keys_of[p] |= {estate}
    keys: list[frozenset[str]] = []
    names: list[frozenset[str]] = []
    seen: dict[frozenset[str], tuple[frozenset[str], frozenset[str]]] = {}
    for named in places:
        if not named:
            keys.append(empty)
            names.append(empty)
            continue
        named = named if isinstance(named, frozenset) else frozenset(named)
        found = seen.get(named)
        if found is None:
            k = frozenset().union(*(keys_of[p] for p in named if p in keys_of))
            n = frozenset().union(*(names_of[p] for p in named if p in names_of))
            found = seen[named] = (k, n) if k else (empty, empty)
        keys.append(found[0])
        names.append(found[1])
    return keys, names


def agree(keys_a: Set[str], names_a: Set[str], keys_b: Set[str], names_b: Set[str]) -> bool:
    """Whether two points' places agree: a name one gives is a key of the other's, so one
    names the other's place or a place its place lies in (幸福里 and 幸福里小区3栋). Two places
    that only begin alike (恒大国际广场 and 恒大江湾, 黄兴路 and 黄兴大道) do not agree, even
    where the batch names what they begin with (恒大)."""
    return not names_a.isdisjoint(keys_b) or not keys_a.isdisjoint(names_b)


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
        names: The names among each point's keys that it gives itself (:func:`place_names`);
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
        """Whether both clusters have places and they do not agree (:func:`agree`)."""
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

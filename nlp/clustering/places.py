"""The places, organisations and lines opinions name, as the clusters judge them.

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
(长沙, 浏阳; :func:`bare_areas`): it is the area, not a spot in it. And the names an opinion
gives are its spots (:func:`spots`), not the neighbourhood or metro line around one: 梅溪青秀 and
梅溪湖正荣府 do not agree through 梅溪, nor an exit at one station of 3号线 and works at another
through the line.

How clusters of opinions agree on places (the share of a cluster's members that must name a key,
and every two members one from each) is :class:`~nlp.clustering.evidence.Evidence`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from functools import cache

from nlp.core.resources import jionlp

__all__ = ["place_keys", "place_names", "agree", "bare_areas", "keyed", "named_lines", "spots"]


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
    中山宿舍, the spot's name is lost to that opinion.) A name of either kind with a verb of
    going the tagger took in front (在长沙, 到A7 where the batch names A7县) is the area too."""
    found = {a[:-1] for a in names if len(a) >= 3 and a[-1] in "省市区县" and _AREA.match(a)}
    cities = _city_names()
    found |= names & cities
    # The same with a verb of going the tagger took in ("在长沙", "到浏阳").
    return found | {
        p for p in names if len(p) > 2 and p[0] in _GOING and (p[1:] in found or p[1:] in cities)
    }


@cache
def _city_names() -> frozenset[str]:
    """The names of the provinces and of the prefecture-level and county-level cities (自治州,
    地区 and 盟 among them) in jionlp's table of China's administrative divisions, full and short.
    Not those of districts and counties (北辰, 龙湖, 南山 and 河西 are as often estates or parts
    of a city), nor a short name that jieba's dictionary knows as a word but not as a place
    name (东方, 合作, 灯塔, 海伦)."""
    import jieba

    tags: dict[str, str] = {}
    with jieba.get_dict_file() as f:  # lines of "word count tag"
        for line in f:
            word, _, rest = line.decode("utf-8").partition(" ")
            tags[word] = rest.rpartition(" ")[2].strip()
    out: set[str] = set()

    def walk(level: dict, depth: int) -> None:
        for key, item in level.items():
            if key.startswith("_") or "直辖" in key:
                continue
            full = item["_full_name"]
            if depth < 2 or full.endswith("市"):
                alias = item.get("_alias") or []
                short = [alias] if isinstance(alias, str) else alias
                out.update([full, *(a for a in short if tags.get(a, "ns") == "ns")])
            if depth < 2:
                walk(item, depth + 1)

    walk(jionlp().china_location_loader(detail=False), 0)
    return frozenset(name for name in out if len(name) >= 2)


def place_keys(
    places: Sequence[Set[str]], *, bare_areas_keyed: bool = False
) -> list[frozenset[str]]:
    """Each point's place keys (see the module's docstring); points that name no specific place
    share one empty set, and points that name the same places share one set.

    Args:
        places: What each point names: places, organisations, bus and metro lines.
        bare_areas_keyed: Keep the bare names of areas (A7 of A7县, and the short names of
            provinces and cities) as keys, as the clusters did before December 2026 (the
            families of ``benchmarks/fit_cluster.py``'s folds).
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
            n = spots(frozenset().union(*(names_of[p] for p in named if p in names_of)))
            found = seen[named] = (k, n) if k else (empty, empty)
        keys.append(found[0])
        names.append(found[1])
    return keys, names


# What may follow a spot's name in another name of the same spot: the sort of spot, its
# property company or owners' group, a gate or car park of it (锦绣华庭 and 锦绣华庭小区,
# 锦绣华庭物业公司, 锦绣华庭东门; a building or phase is _UNIT's).
_SAME_SPOT = re.compile(
    r"^(?:小区|社区|花园|家园|新村|新城|公寓|大厦|广场|物业(?:服务)?(?:公司|中心)?|公司|业委会"
    r"|业主委员会|业主群|[东南西北正大侧后]?门|门口|出入口|(?:地下)?(?:停车场|车库))+$"
)
# The end of a name that says it is a spot itself, not a neighbourhood (幸福小区 stays a spot
# beside 幸福小区东门 and 幸福小区停车场).
_SPOT_END = re.compile(
    r"(?:小区|花园|家园|新村|公寓|大厦|广场|苑|府|庭|城|园|[小中大]学|学校|幼儿园|医院|卫生院"
    r"|市场|公司|站)$"
)


def spots(names: Set[str]) -> frozenset[str]:
    """The names an opinion gives that say where its matter is, less the neighbourhoods and
    lines around them: a name that begins another it gives, with a name of its own after it, is
    the neighbourhood that spot lies in (梅溪 of 梅溪青秀), and through it the estate would agree
    with 梅溪湖正荣府, another estate there. A name followed only by the sort of spot, a gate or a
    building (锦绣华庭 of 锦绣华庭小区 or 锦绣华庭东门, 幸福小区 of 幸福小区3栋), or one that ends
    as a spot's name does (幸福小区 of 幸福小区停车场), is the same spot and stays. An opinion
    that names the neighbourhood alone still agrees with its spots.

    A metro line named beside a spot is the line that spot is on, as a neighbourhood is: an
    exit at one station and works at another are two matters though both letters say 3号线 (on
    the public hot-issue set, 2 of 15 judged pairs that shared only a metro line were one
    issue). This holds beside any other name, an organisation's too (3号线 and 轨道集团). A bus
    route stays: letters about one route are mostly about the route itself."""
    names = frozenset(names)
    if len(names) < 2:
        return names
    kept = frozenset(
        x
        for x in names
        if _SPOT_END.search(x)
        or not any(
            y != x
            and y.startswith(x)
            and not _SAME_SPOT.match(y[len(x) :])
            and not _UNIT.fullmatch(y[len(x) :])
            for y in names
        )
    )
    return frozenset(x for x in kept if not x.endswith("号线")) or kept


def agree(keys_a: Set[str], names_a: Set[str], keys_b: Set[str], names_b: Set[str]) -> bool:
    """Whether two points' places agree: a name one gives is a key of the other's, so one
    names the other's place or a place its place lies in (幸福里 and 幸福里小区3栋). Two places
    that only begin alike (恒大国际广场 and 恒大江湾, 黄兴路 and 黄兴大道) do not agree, even
    where the batch names what they begin with (恒大)."""
    return not names_a.isdisjoint(keys_b) or not keys_a.isdisjoint(names_b)

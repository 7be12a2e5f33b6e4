"""Where a cluster's opinions are about: each one's spot, the cluster's spread, its shared scope.

A same-issue cluster can gather one problem at many sites (night work at five building sites in
four districts) or several problems. A draft must say so: :func:`spread` finds the spot each
opinion is about (a named estate, site, school, company, line or road, else its district),
groups spots that name the same thing (君悦新天地工地 and 伍家岭君悦新天地工地), counts the
opinions of each, names the scope all of them really share, and says whether one spot holds
most of them. Pure functions of the texts, so a draft made on a worker process from ids and
texts alone is the one made here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Spot", "Spread", "spots", "spread"]

# Named things, most specific kind first: an opinion is about the site more than the estate its
# writer lives in, the estate more than the company, and any of them more than a road.
_KINDS = (
    (
        "site",
        (
            r"工地|项目部?|搅拌站|搅拌厂|加工厂|工厂|厂|市场|超市|酒吧|KTV|ktv|酒店|餐厅|饭店|门面"
            r"|幼儿园|小学|中学|学校|医院|卫生院|派出所|地铁站|火车站|高铁站|站"
        ),
    ),
    (
        "estate",
        (
            r"小区|花园|家园|新村|新城|公寓|大厦|广场|山庄|庄园|府邸|华府|公馆|名苑|花苑|雅苑|御园|华庭"
            r"|国际城|社区|苑|园"
        ),
    ),
    # Lines pass many estates: an opinion about one names the estate it troubles first.
    ("line", r"[\d一二三四五六七八九十]+号线|\d+路公交|\d+路车|联络线|高铁|高速|立交桥|大桥|隧道"),
    ("company", r"公司|集团|平台|车贷|贷|网"),
    ("road", r"大道|路|街(?!道)|巷"),
    ("village", r"村|组|镇|乡|街道"),
)
# Characters that never sit inside a place's name here, so a name starts after the last of them.
_NOT_NAME = (
    "的了着过们我你他她它这那哪谁是在把被让给向从对与及或但而就都也还又很太最更已将要会能可应请想看到每说"
    "旁有处受来于即仅座该此其等个以距问和搞为现经送读求改管至修"
)
_ANY_SUFFIX = "|".join(suffix for _, suffix in _KINDS)
_NAME_CHAR = rf"(?:(?![{_NOT_NAME}])[A-Za-z0-9\u4e00-\u9fa5])"
# A name, with the estate words that may follow its kind's word (丽发新城小区, 中海国际社区三期).
_KIND_PATTERNS = [
    (
        kind,
        re.compile(rf"{_NAME_CHAR}{{2,12}}?(?:{suffix})(?:小区|社区|[一二三四五六七八九十\d]+期)*"),
    )
    for kind, suffix in _KINDS
]
# Any kind's word at the end of a name, the longest first (幼儿园 before 园).
_KIND_END = re.compile(rf"(?:{_ANY_SUFFIX})$")
_TRAILING = re.compile(
    rf"(?:{_ANY_SUFFIX}|临街|周边|附近|内|旁|东|南|西|北|[东南西北]面|[东南西北]门)$"
)
# Words that stand before a name in a sentence and are not part of it: the name starts after
# the last of them, and after any of the single characters at its start.
_CUT = re.compile(
    r".*(?:位于|居住于|居住|家住|地处|靠近|紧邻|紧挨|毗邻|关于|投诉|反映|举报|咨询|请求|希望|建议|要求|关注|导致"
    r"|影响|严重|深受|例如|比如|包括|以及|就是|其中|作为|当初|上周|近期|长期|目前|现在|今年|去年|前年|开始"
    r"|周围|周边|附近|旁边|对面|隔壁|整个|所有|其他|一些|一处|一家|一个|几个|多个|仅仅|成功|穿越|重复|出入口"
    r"|受理|感谢|谢谢|新建|修建|违建|兴建|建设|搬迁|考察|一下|获悉|假如|然后|造成|外面|放入|由于|因为|统一"
    r"|迁入|转入|世居|其次|网络上|问题|手续|城管称|打击|取缔|整治|发文|范围内|侧面|改造|开展|办成|就读|入读|地方|搞)"
)
_LEAD = re.compile(
    r"^(?:[一二两几数多某本该此其各每这那省市县区镇乡村组街路和及与或并变离接议次题月年日号近旁内边]|\d+)+"
)
# Coded districts of anonymised exports (A3区), and named ones after their province or city.
_DISTRICT = re.compile(
    r"[A-Z]\d{0,2}[区县]|(?:(?<=^)|(?<=[省市]))[\u4e00-\u9fa5]{2,3}?(?:新区|区|县)"
)
_CITY = re.compile(r"[A-Z]\d{0,2}市|(?:(?<=^)|(?<=[省，。、；：\s（(]))[\u4e00-\u9fa5]{2,3}?市")
_NOT_DISTRICT = re.compile(
    rf"[{_NOT_NAME}]|(?:小|社|城|园|景|校|片|辖|市|郊|山|老城|新城|禁|管|学|商|厂|矿|保护|示范|功能|开发|居民"
    r"|住宅|集中|居住|安置|地|个|我|本)[区县]$"
)
_COARSE = re.compile(r"^(?:[A-Z]\d{0,2}[市省]|.{1,3}[省市])$")
# Administrative names before a name: 西地省, A市, A3区, 天顶街道, 北山镇.
_PREFIX = re.compile(
    r"^(?:(?:[A-Z]\d{0,2}|[\u4e00-\u9fa5]{2,3})[省市]|[A-Z]\d{0,2}[区县]"
    r"|[\u4e00-\u9fa5]{2,4}?(?:街道|镇|乡))(?=.{3})"
)
# Common words: a name made only of them (建筑工地, 物业公司) says nothing about which one it is.
_GENERIC = frozenset(
    [
        "建筑",
        "施工",
        "工程",
        "物业",
        "自来水",
        "供水",
        "燃气",
        "电力",
        "供电",
        "热力",
        "供热",
        "供暖",
        "房地产",
        "开发",
        "建设",
        "安置",
        "配套",
        "临街",
        "居民",
        "业主",
        "楼盘",
        "公交",
        "地铁",
        "学校",
        "社区",
        "城市",
        "商业",
        "私立",
        "公立",
        "民办",
        "公办",
        "普惠",
        "普惠性",
        "大型",
        "特大型",
        "小型",
        "非法",
        "违建",
        "违规",
        "黑",
        "混凝土",
        "搅拌",
        "沥青",
        "水泥",
        "周边",
        "这家",
        "附近",
        "所在",
        "我们",
        "我家",
        "本",
        "该",
        "此",
        "这",
        "那",
        "其他",
        "各",
        "新",
        "老",
        "大",
        "小",
        "省",
        "市",
        "县",
        "区",
        "乡",
        "镇",
        "村",
        "组",
        "全",
        "城区",
        "市区",
        "县城",
        "道路",
        "马路",
        "主干",
        "主",
        "支",
        "公共",
        "公众",
        "网络",
        "网上",
        "金融",
        "投资",
        "科技",
        "担保",
        "中介",
        "贷款",
        "借贷",
        "集团",
        "母",
        "子",
        "总",
        "分",
        "医疗",
        "教育",
        "培训",
        "餐饮",
        "娱乐",
        "公立医",
        "人民",
        "中心",
        "中心城",
        "一号",
        "二号",
        "三号",
        "号",
        "期",
        "二期",
        "三期",
        "四期",
        "网贷",
        "P2P",
        "p2p",
        "平台",
        "中学",
        "小学",
        "幼儿",
        "校外",
        "快递",
        "物流",
        "工业",
        "产业",
        "农贸",
        "菜",
        "超",
        "夜宵",
        "烧烤",
        "快速",
        "高速",
        "城际",
        "铁路",
        "农村",
        "重点",
        "普惠制",
        "无一所",
        "一所",
        "入读",
        "顺利",
        "商品房",
        "限价",
        "定向",
        "保障性",
        "职工",
        "诈骗",
        "集资",
        "购物",
        "生活",
        "孩子",
        "小孩",
        "上",
        "读",
        "入",
        "能",
        "办成",
        "由",
        "当",
        "应当",
        "委托",
        "普惠性民办",
        "教育",
        "行政",
        "部门",
        "不开",
        "迟迟",
        "级",
        "调整",
        "至",
        "全体",
        "住宅",
        "车辆",
        "占用",
        "许多",
        "建议",
        "楼",
        "一楼",
        "二楼",
        "三楼",
        "互联",
        "互联网",
        "公积金",
        "人社",
        "首末",
        "首",
        "末",
        "巴士",
        "线路",
        "车站",
        "公交车",
        "汽车",
        "站台",
        "城镇",
        "所",
        "面",
        "边",
        "里",
        "外",
        "内",
        "家",
        "户",
        "光伏",
        "发电",
        "光伏发电",
        "污水",
        "垃圾",
    ]
)


@dataclass(frozen=True)
class Spot:
    """A named thing an opinion is about: ``name`` as written (with the district written before
    it), ``key`` (the name without city and district) and its ``kind``."""

    name: str
    key: str
    kind: str


def _generic(stem: str) -> bool:
    """Whether ``stem`` is made only of common words."""
    if not stem:
        return True
    ends = {0}
    for i in range(len(stem)):
        if i in ends:
            for j in range(i + 1, min(len(stem), i + 4) + 1):
                if stem[i:j] in _GENERIC:
                    ends.add(j)
    return len(stem) in ends


def spots(text: str) -> list[Spot]:
    """Named things ``text`` speaks of, most specific kind first, then in order of appearance;
    each key once. Two estate names written one after the other are one (伊景园滨河苑)."""
    found: list[tuple[int, int, Spot]] = []  # (start, end, spot)
    for kind, pattern in _KIND_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(s < end and start < e for s, e, _ in found):
                continue
            name = match.group()
            cut = _CUT.match(name)
            name = name[cut.end() :] if cut else name
            name = name[_LEAD.match(name).end() if _LEAD.match(name) else 0 :]
            key = name
            while (cut := _PREFIX.match(key)) is not None:
                key = key[cut.end() :]
            end_word = _KIND_END.search(key)
            stem = key[: end_word.start()] if end_word else key
            if len(stem) < 2 or _generic(stem) or _DISTRICT.fullmatch(stem):
                continue
            found.append((end - len(name), end, Spot(name, key, kind)))
    found.sort(key=lambda item: item[0])
    joined: list[tuple[int, int, Spot]] = []
    for start, end, spot in found:
        if joined and joined[-1][1] == start and joined[-1][2].kind == spot.kind == "estate":
            first = joined[-1][2]
            spot = Spot(first.name + spot.name, first.key + spot.key, spot.kind)
            start = joined.pop()[0]
        joined.append((start, end, spot))
    kinds = [kind for kind, _ in _KINDS]
    out: dict[str, Spot] = {}
    for _, _, spot in sorted(joined, key=lambda item: (kinds.index(item[2].kind), item[0])):
        out.setdefault(spot.key, spot)
    return list(out.values())


def districts(text: str) -> list[str]:
    """Districts and counties ``text`` names, in order."""
    out = [m.group() for m in _DISTRICT.finditer(text) if not _NOT_DISTRICT.search(m.group())]
    return list(dict.fromkeys(out))


def cities(text: str) -> list[str]:
    """Cities ``text`` names, in order."""
    return list(dict.fromkeys(m.group() for m in _CITY.finditer(text)))


@dataclass
class Spread:
    """How a cluster's opinions spread over spots.

    Attributes:
        where: Each opinion's place: the name of its spot's group, else its district, else "".
        counts: Place → its opinions, most first (ties: first named first).
        scope: The place the title can name: the spot that holds most opinions, else a
            district or city that nearly all of them name, else "".
        members: Positions of the opinions within ``scope`` (all when it is "").
        dominant: Whether one place holds at least half of the opinions.
        several: Whether the opinions name several places with none holding half of them.
    """

    where: list[str]
    counts: list[tuple[str, int]]
    scope: str
    members: list[int]
    dominant: bool
    several: bool
    districts: list[str] = field(default_factory=list)


def _core(key: str) -> str:
    """``key`` without the kind words at its end (魅力之城小区临街门面 → 魅力之城)."""
    while (end := _TRAILING.search(key)) is not None and end.start() >= 2:
        key = key[: end.start()]
    return key


def _group(keys: Counter) -> dict[str, str]:
    """Each key → the key of its group, the commonest of them. Keys join when the core of one
    (:func:`_core`, three characters or more) is written in the other, or their cores are one."""
    order = sorted(keys, key=lambda k: (-keys[k], len(k), k))
    cores = {key: _core(key) for key in order}
    head = {key: key for key in order}

    def find(key: str) -> str:
        while head[key] != key:
            key = head[key]
        return key

    for i, a in enumerate(order):
        for b in order[:i]:
            ca, cb = cores[a], cores[b]
            if ca == cb or len(ca) >= 3 and ca in b or len(cb) >= 3 and cb in a:
                ra, rb = find(a), find(b)
                if ra != rb:
                    # The group is named by its commonest key: the one earlier in ``order``.
                    first, second = sorted((ra, rb), key=order.index)
                    head[second] = first
    return {key: find(key) for key in order}


def spread(
    texts: Sequence[str], majority: float = 0.5, shared: float = 0.8, read: int = 400
) -> Spread:
    """The spread of a cluster's opinions over places (see :class:`Spread`).

    Args:
        texts: The opinions' texts.
        majority: Share of the opinions one place must hold to be the cluster's place.
        shared: Share of the opinions that must name a district or city for the title to.
        read: Characters of each text read: an opinion names what it is about early.
    """
    texts = [text[:read] for text in texts]
    found = [spots(text) for text in texts]
    named = [districts(text) for text in texts]
    group = _group(Counter(spot.key for spot_list in found for spot in spot_list))
    kinds = [kind for kind, _ in _KINDS]
    naming = Counter(g for spot_list in found for g in {group[s.key] for s in spot_list})
    # An opinion is about the group most opinions name among its spots, the most specific kind
    # first when as many name them.
    chosen = [
        group[max(spot_list, key=lambda s: (naming[group[s.key]], -kinds.index(s.kind))).key]
        if spot_list
        else ""
        for spot_list in found
    ]
    # A group is shown by its key, after the district its opinions name most.
    display = {}
    for head in set(chosen) - {""}:
        around = Counter(d for g, ds in zip(chosen, named) if g == head for d in ds[:1])
        district = around.most_common(1)[0][0] if around else ""
        display[head] = head if not district or district in head else district + head
    where = [display[g] if g else (ds[0] if ds else "") for g, ds in zip(chosen, named)]
    n = len(texts)
    counts = Counter(w for w in where if w)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], where.index(kv[0])))
    top, top_count = ordered[0] if ordered else ("", 0)
    dominant = n > 0 and top_count / n >= majority
    several = len(ordered) >= 3 and not dominant
    district_counts = Counter(d for ds in named for d in ds)
    city_counts = Counter(c for text in texts for c in cities(text) if _COARSE.match(c))
    if dominant:
        scope = top
        members = [i for i, w in enumerate(where) if w == top]
    else:
        scope = ""
        for name, count in district_counts.most_common(1) + city_counts.most_common(1):
            if count / max(n, 1) >= shared:
                scope = name
                break
        # The opinions that name the district or city the title names; all when it names none.
        members = [i for i, text in enumerate(texts) if scope in text] if scope else list(range(n))
    return Spread(
        where,
        ordered,
        scope,
        members,
        dominant,
        several,
        [d for d, _ in district_counts.most_common()],
    )

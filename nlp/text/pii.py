"""Mask personal data and collect the places an opinion names.

Phones, ID-card numbers and e-mail addresses are found with jionlp's extractors, bank cards and
chat accounts with patterns checked here (Luhn for cards), personal names with LAC's ``PER`` tag
(but for a word that begins with no surname and runs into a business's kind, such as 鑫达 in
鑫达建筑: the business is kept as an organisation).
Places (LAC ``LOC`` plus the coded district names of anonymised exports such as ``A3区``) and
organisations (``ORG``) are kept: they are evidence for clusters and drafts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nlp.core.resources import jionlp

if TYPE_CHECKING:
    from nlp.text.lac import LacTagger

__all__ = ["MASKS", "SURNAMES", "Masked", "PiiMasker"]

MASKS = {
    "phone": "[电话]",
    "id_card": "[身份证]",
    "email": "[邮箱]",
    "bank_card": "[银行卡]",
    "account": "[账号]",
    "name": "[姓名]",
}

# Common Chinese surnames (the 百家姓's common ones and modern ones such as 付, 肖, 覃).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤费"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍"
    "涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党"
)

# What follows a business's name (鑫达建筑, 力美健身, 百川电子厂): a word the tagger calls a name,
# that begins with no surname and runs into one of these, is the business, not a person.
_BUSINESS = re.compile(
    r"建筑|公司|集团|健身|超市|物业|地产|置业|科技|电子|商贸|饭店|酒店|宾馆|驾校|培训|餐饮|药房|药店"
    r"|诊所|幼儿园|商场|工厂|快递|物流|汽修|装饰|装修|建材|矿业|煤矿|养殖场|合作社|网吧|美容|厂"
)
_CARD = re.compile(r"(?<![\d.])(?:\d[ -]?){15,18}\d(?![\d.])")
_ACCOUNT = re.compile(r"((?:QQ|qq|微信|微信号|vx|VX|wx)[号码]?[:：\s]*)([A-Za-z0-9_-]{5,20})")
# Long bare digit runs that jionlp's phone pattern leaves (for example 1381234 5678 typed with a
# space inside): any 11-digit run starting 1[3-9] is treated as a mobile number.
_LOOSE_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
# Landlines typed without a dash (073184567890), and bare local numbers right after a word that
# says "phone" (电话:87654321).
_LOOSE_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)")
_CUED_LOCAL = re.compile(
    r"(?:电话|手机|座机|联系方式|联系电话|号码|tel|TEL|Tel)[号码是为:：\s]{0,3}(\d{7,8})(?!\d)"
)
_CODED_PLACE = re.compile(r"[A-Z]\d{0,2}(?:省|市|区|县|镇|乡|村|街道)")
_PLACE_LABELS = {"LOC"}
# A spot the tagger reads as nouns before a common word for its kind (魅力/之/城/小区, 英祥/春天/
# 小区, 泉星/社区): the nouns and the kind together name it. Not where the nouns only say what
# sort of spot it is (老旧小区, 农村社区, 附近小学).
_SPOT_KINDS = frozenset(
    "小区 社区 花园 家园 新村 公寓 大厦 广场 小学 中学 幼儿园 医院 卫生院 公园 菜市场".split()
)
_SPOT_PARTS = frozenset(("n", "nz", "LOC", "ORG", "TIME", "m"))
# A name made only of words that say what sort of spot it is (安置小区, 住宅小区, 公办幼儿园,
# 普惠性幼儿园, 商住, 一单元) names no spot: two opinions that both say 公办幼儿园 may be about
# two kindergartens, and it is not kept as a place or an organisation.
_SORT_WORDS = (
    "安置 回迁 拆迁 还建 保障性 保障 商品房 商品 住宅 商住 综合 两用 普惠性 普惠制 普惠 公办 民办"
    " 私立 公立 公益性 公益 专科 老旧 新建 在建 高档 高层 多层 农村 街道 社区 乡镇 周边 附近"
    " 美食 用地 职工 员工 单位 部分 小型 大型 民营 国有 个体 临时 成本 当地 本地"
).split()
_SORT_KINDS = _SPOT_KINDS | frozenset(
    "学校 市场 楼 大楼 住宅 住房 用地 房 综合 两用楼 门面 商铺".split()
)
_SORT = re.compile(
    "^(?:" + "|".join(sorted(_SORT_WORDS, key=len, reverse=True)) + ")+"
    "(?:" + "|".join(sorted(_SORT_KINDS, key=len, reverse=True)) + ")?$"
    r"|^(?:\d{1,3}|[一二三四五六七八九十]{1,3})(?:栋|幢|号楼|单元|期|座)$"
)


def _names_a_spot(name: str) -> bool:
    """Whether a place or organisation the tagger found names a spot, not only a sort of spot
    (安置小区, 公办幼儿园, 商住, 三单元)."""
    return not _SORT.match(name)


_NOT_A_NAME = frozenset(
    "农村 城市 城区 城镇 乡镇 老旧 周边 附近 整个 商品房 安置 回迁 拆迁 物业 高档 新建 公办 民办"
    " 私立 公立 社区 小区 居民 业主 孩子 学生 家长 老人 政府 市民 村民 所在 各个 多个 几个 部分"
    " 一些 全市 全县 全区 市区 县城 镇上 村里 我们 家里 门口 旁边 对面 学校 单位 地方 大部分"
    " 所有 很多 许多 好几个 全部 其他 其它 周围 多数 少数 两个 三个 每个 这些 那些".split()
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass
class Masked:
    """One text after masking."""

    text: str
    places: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    orgs: list[str] = field(default_factory=list)


class PiiMasker:
    """Replace personal data with placeholders such as ``[电话]`` and ``[姓名]``.

    Args:
        names: Mask personal names (needs the LAC model; places are found in the same pass).
        tagger: A :class:`~nlp.text.lac.LacTagger`; built on first use when ``None``.
        keep: Domain words never to take for names, even inside a longer ``PER`` word: LAC
            reads 林权 (forest rights) or 林权办 as a person called 林.
    """

    def __init__(
        self,
        names: bool = True,
        tagger: LacTagger | None = None,
        keep: frozenset[str] = frozenset(),
    ):
        self.names = names
        self.tagger = tagger
        self.keep = keep

    def _tagger(self) -> LacTagger:
        if self.tagger is None:
            from nlp.text.lac import LacTagger

            self.tagger = LacTagger()
        return self.tagger

    def mask_patterns(self, text: str, counts: Counter | None = None) -> str:
        """Mask phones, ID cards, e-mail, bank cards and chat accounts (no names)."""
        if not text or not any(ch.isdigit() or ch == "@" for ch in text):
            return text
        counts = Counter() if counts is None else counts
        jio = jionlp()
        spans: list[tuple[int, int, str]] = []
        for kind, found in (
            ("id_card", jio.extract_id_card(text, detail=True)),
            ("email", jio.extract_email(text, detail=True)),
            ("phone", jio.extract_phone_number(text, detail=True)),
        ):
            spans.extend((s["offset"][0], s["offset"][1], kind) for s in found)
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 16 <= len(digits) <= 19 and _luhn_ok(digits):
                spans.append((m.start(), m.end(), "bank_card"))
        for pattern in (_LOOSE_MOBILE, _LOOSE_LANDLINE):
            spans.extend((m.start(), m.end(), "phone") for m in pattern.finditer(text))
        spans.extend((m.start(1), m.end(1), "phone") for m in _CUED_LOCAL.finditer(text))
        for m in _ACCOUNT.finditer(text):
            spans.append((m.start(2), m.end(2), "account"))
        return _replace_spans(text, spans, counts)

    def mask_many(self, texts: list[str]) -> list[Masked]:
        """Mask every text; names and places need one LAC pass over all of them."""
        out = []
        for text in texts:
            counts: Counter = Counter()
            out.append(Masked(self.mask_patterns(text, counts), counts=counts))
        if not self.names:
            for item in out:
                item.places = _coded_places(item.text)
            return out
        for item, words in zip(out, self._tagger().tag([m.text for m in out])):
            item.text, item.places, businesses = _mask_names(words, item.counts, self.keep)
            item.orgs = list(
                dict.fromkeys(
                    [
                        w.strip()
                        for w, label in words
                        if label == "ORG" and len(w.strip()) >= 3 and _names_a_spot(w.strip())
                    ]
                    + businesses
                )
            )
            for place in _coded_places(item.text):
                if place not in item.places:
                    item.places.append(place)
        return out


def _replace_spans(text: str, spans: list[tuple[int, int, str]], counts: Counter) -> str:
    if not spans:
        return text
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    parts, pos = [], 0
    for start, end, kind in spans:
        if start < pos:  # overlaps a span already masked (an ID card also looks like a phone)
            continue
        parts.append(text[pos:start])
        parts.append(MASKS[kind])
        counts[kind] += 1
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _is_domain_word(word: str, keep: frozenset[str]) -> bool:
    n = len(word)
    return any(word[i:j] in keep for i in range(n) for j in range(i + 2, n + 1))


def _mask_names(
    words: list[tuple[str, str]], counts: Counter, keep: frozenset[str]
) -> tuple[str, list[str], list[str]]:
    """The text with the tagger's names masked, the places it names, and the businesses the
    tagger took for names (see :func:`_business`)."""
    parts, places, businesses = [], [], []
    for k, (word, label) in enumerate(words):
        # Placeholders already in the text are tagged by LAC as anything; keep them intact.
        if (
            label == "PER"
            and len(word.strip()) >= 2
            and not word.startswith("[")
            and not _is_domain_word(word, keep)
        ):
            business = _business(word.strip(), "".join(w for w, _ in words[k + 1 : k + 3]))
            if business is None:
                parts.append(MASKS["name"])
                counts["name"] += 1
                continue
            businesses.append(business)
        parts.append(word)
        if label in _PLACE_LABELS:
            place = word.strip(" ，。、,.")
            if len(place) >= 2 and place not in places and _names_a_spot(place):
                places.append(place)
        elif word in _SPOT_KINDS:
            spot = _spot(words, k)
            if spot and spot not in places and _names_a_spot(spot):
                places.append(spot)
    return "".join(parts), places, businesses


def _spot(words: list[tuple[str, str]], k: int) -> str | None:
    """The spot the kind ``words[k]`` (小区) closes, named by the nouns before it (at most three,
    之 between them), or ``None``."""
    start = k
    while start > 0 and k - start < 3:
        word, label = words[start - 1]
        if word in _NOT_A_NAME:
            break
        if label in _SPOT_PARTS and not word.startswith("[") or (word == "之" and start < k):
            start -= 1
        else:
            break
    while start < k and words[start][0] == "之":
        start += 1
    if start == k or (k - start == 1 and words[start][1] in ("m", "TIME")):
        return None
    name = "".join(w for w, _ in words[start:k])
    return name + words[k][0] if len(name) >= 2 and not name.isdigit() else None


def _business(word: str, after: str) -> str | None:
    """The business whose name a word the tagger calls a person's begins, or ``None``: only a
    word that begins with no surname and runs into a business's kind (鑫达 before 建筑, 力美健
    before 身 in 力美健身). A name that begins with a surname stays a name (张建国 in
    张建国建筑队)."""
    if not word or word[0] in SURNAMES:
        return None
    found = _BUSINESS.match(after)
    if found:
        return word + found.group()
    found = _BUSINESS.match(word[-1] + after)
    if found and len(found.group()) > 1:
        return word[:-1] + found.group()
    return None


def _coded_places(text: str) -> list[str]:
    return list(dict.fromkeys(_CODED_PLACE.findall(text)))

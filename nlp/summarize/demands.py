"""What residents ask for: demand clauses, merged into a few canonical demands with counts.

An opinion's request often ends a sentence that begins with the problem ("路面全是坑，希望尽快修").
:func:`units` cuts such a sentence before the clause that opens with a request; the role model
(:mod:`nlp.summarize.roles`) then says which units are demands. :func:`canonical` keeps the action
of a demand ("希望有关部门尽快制止夜间施工，还我们一个安静的环境" → "尽快制止夜间施工"), and
:func:`merge_demands` groups the actions that ask for the same thing and counts the opinions
behind each. :func:`suggestion` words an action as a clause of a 代表建议 addressed to the
responsible body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Demand", "actionable", "canonical", "merge_demands", "requests", "suggestion", "units"]

_REQUEST = (
    r"(?:强烈要求|强烈建议|强烈呼吁|恳请|请求|敬请|烦请|特请|诚请|请|希望|望(?![仙城江湖路月])|要求|建议|呼吁|盼望"
    r"|期盼|期望|盼(?![盼路])|能否"
    r"|能不能|可否|是否可以|是否能|可不可以|麻烦)"
)
_SPEAKER = (
    r"(?:[（(]?[一二三四五六七八九十\d]+[）)、.．:：]\s*)?(?:因此|所以|故|现|特此|在此|为此|同时|另外|此外|最后|并且"
    r"|综上)?[，,]?(?:我们|我|俺们|俺|本人|业主们|居民们|村民们|大家|广大业主|全体业主)?(?:在此|再次|特此)?"
    r"(?:强烈|诚恳|恳切|迫切|真诚|衷心|郑重)?(?:地)?"
)
_OPENS = re.compile(rf"^{_SPEAKER}{_REQUEST}")
_LISTED = re.compile(r"^[：:\s]*[（(]?[一二三四五六七八九十\d]+[）)、.．]\s*")
_CLAUSE = re.compile(r"(?<=[，,；;：:])")
_ADDRESSEE = re.compile(
    r"^(?!对|将|把|在|为|给|按|依|根据|从|向|让|使|与|和|尽快|立即)"
    r"(?:[^，,。；;]{0,14}?(?:政府|部门|领导|机关|单位|机构|局|委|办公室|办事处|大队|中队|公司|物业|街道|社区|村委会"
    r"|村委|交警|城管|经侦|派出所|法院|检察院|书记|市长|县长|区长|主任|集团|平台|代表|工作人员|人员))"
    r"(?:的领导|领导|们)?"
    r"(?:[，,、]?(?:特别是|尤其是|包括|以及)[^，,。；;]{0,16}(?:局|委|部门|政府|办|公司|单位))?"
    r"(?:能够|能|可以|予以|帮忙|出面|帮助|给予|尽早能|务必)*"
)
_MODAL = re.compile(
    r"^(?:能够|能|可以|予以|帮忙|出面|帮助|给予|务必|你们|您|自己"
    r"|[帮替](?:我们|我)(?:这些?|这里的)?(?:居民|业主|村民|老百姓|群众)?)+"
)
# A clause that only gives the grounds of a demand ("按照《刑法》的相关规定"), or a list number.
_GROUNDS = re.compile(
    r"^(?:按照|依照|依据|根据|结合|遵照|参照|按规定|依法依规)[^，,]*$|^[（(][一二三四五六七八九十\d]+[）)]"
)
# A clause from which the rest of a demand is its purpose, thanks or feelings.
_PURPOSE = re.compile(
    r"^(?:还(?:我们|我|居民|业主|大家|老百姓|群众|百姓|小区|社会|周边|受害人|广大|[\u4e00-\u9fa5]{0,6}一个)"
    r"|给(?:我们|老百姓|群众|业主|居民|大家|受害人)|让(?:我们|群众|老百姓|居民|业主|受害人|大家|百姓|人民)"
    r"|以(?:免|便|正|保|维护|保障)|避免|防止|为(?:了)?(?:老百姓|群众|民|人民|小区|居民|业主|我们|孩子)|维护"
    r"|保障[^，,]*权益|谢谢|感谢"
    r"|不胜感激|为盼|为感|否则|因为|由于|毕竟|相信|切实维护)"
)
# A clause that only sets the scene of the deed that follows ("外围停车位改造项目中", "在拆迁过程中").
# A deed that ends a clause ("尽快启动改造") sets no scene.
_FRAME = re.compile(
    r"(?:期间|今后|以后|项目里|工程里)$|(?<![集其高初之空])中$|(?<![按及同临随准暂适当平有小])时$"
)
# A request asked as a question: "补偿款什么时候发放" asks to pay it.
_WHEN = re.compile(
    r"^(?:请问|问一?下|问)?(?P<what>[^，,？?]{2,24}?)(?:到底)?(?:什么时候|啥时候|何时|几时)(?:才|能|才能|可以|可)?"
    r"(?P<deed>发放|兑现|到位|到账|支付|发|退还|退|修|修好|修复|开通|通|解决|办|办理|动工|开工|完工|拆|拆除|补发)"
    r"(?:下来|好|完)?(?:啊|呢|呀|嘛)?[？?]?$"
)
# The deed a when-question asks for, where its verb is not the deed itself ("到位" → "落实").
_ASKED_DEED = {"到位": "落实", "到账": "发放", "通": "开通", "发": "发放", "退": "退还"}
_END = re.compile(
    r"(?:[。！!？?…~～\s]|为盼|为感|为谢|吧|啊|呀|哦|呢|了吧|好吗|可以吗|行吗|谢谢|！)+$"
)
_MINE = re.compile(r"(?:我们|我|俺们|俺|咱们|咱)(?=小区|村|组|楼|单元|社区|家|这|那)")
_FIRST_PERSON = re.compile(r"(?:我们|俺们|咱们|我|俺|咱)(?:的)?")
# Clauses a 代表建议 can open with: a verb, an adverb of manner or time, or a preposition.
_ACTION = re.compile(
    r"^(?:尽快|尽早|立即|马上|及时|早日|依法|严格|严肃|切实|彻底|加快|加强|加大|进一步|全面|重新|定期|统一|合理"
    r"|认真|适当|督促|责令|要求|协调|组织|安排|对|将|把|在|为|给|从|沿|按|按照|依照|依据|根据|结合|针对|由|与|会同"
    r"|增设|增加|设置|调整|延长|缩短|修|维修|修复|整修|硬化|拓宽|改造|更换|安装|加装|拆除|取缔|关停|查处|查办"
    r"|制止|整治|清理|清运|疏通|恢复|开通|公开|公示|公布|退还|补发|发放|支付|兑付|追缴|冻结|查封|立案|审批|核实"
    r"|核查|调查|彻查|研究|出台|制定|完善|建立|建设|新建|规划|纳入|收回|移交|办理|解决|落实|保障|保证|允许|取消"
    r"|降低|减少|放宽|简化|开放|开设|开展|推动|推进|监管|监督|处理|严查|处罚|停止|叫停|搬迁|搬离|禁止|明确|打击"
    r"|予以|给予|让|使|确保|提高|优化|改善|改为|变更|撤销|重视|管理|管控|治理|限制|规范|核定|认定|补缴|补办|补偿"
    r"|介入|接手|成立|追回|返还|赔偿|收取|减免|免除|协助|督查|启动|支持|考虑|取缔|施划|划定"
    r"|退|拆|装|建|设|派|查|管|清|换|改|移|搬|铺|挪|开|关|停|罚|补|发)"
)
# A demand says what to do: it names a deed, not only handling or attention.
_DOES = re.compile(
    r"增设|增加|设置|调整|延长|缩短|修|硬化|拓宽|改造|更换|安装|加装|拆|取缔|关停|关闭|查封|冻结|扣押|立案|追缴"
    r"|制止|清理|清运|疏通|恢复|开通|公开|公示|公布|退还|退费|补发|发放|支付|兑付|赔偿|审批|出台|制定|建立|建设"
    r"|新建|规划|纳入|收回|移交|办理|保障|保证|允许|取消|降低|减少|放宽|简化|开放|开设|停止|叫停|搬迁|搬离|迁离"
    r"|禁止|限制|核定|认定|补缴|补办|补偿|撤销|改为|变更|划入|划转|配建|建成|开园|转为|办成|通报|公交|末班|班次"
    r"|红绿灯|信号灯|护栏|隔音|路灯|站牌|通道|出入口|车位|停车位|摄像|天桥|人行道|车道|站点|线路|延伸|南延|北延"
    r"|接入|连通|打通|硬化|铺设|清淤|除臭|检测|监测|体检|检修|维修|整修|补贴|减免|退还|返还|追回|惩处|处罚|罚款"
    r"|责令|停工|停业|吊销|取消资格|移出|安置|转学|入学|就读|学位|报名|招生|开园|普惠|公办|铲除|挡停|迁出|撤走"
)
# Handling, attention or a reply, with no object or one that names nothing: "尽快处理此事".
_VAGUE = re.compile(
    r"^(?:尽快|尽早|及时|立即|马上|早日|依法|依规|严格|彻底|认真|切实|严肃|妥善|一定要?|给予|予以|进行|帮忙|帮助|出面"
    r"|出来|来|好好|赶紧|抓紧|加以|[，,、和并及与])*"
    r"(?:处理|解决|整治|整改|处置|落实|查处|彻查|调查|核实|核查|监督|监管|管理|管管?|执法|介入|重视|关注|督办|协调"
    r"|回复|答复|考虑|研究|治理|制止|干预|帮助|查办|查看|过问|做主|主持公道|[，,、和并及与])+"
    r"(?:一下|此事|这件事|该事|此案|该问题|此问题|这个问题|这一问题|以上问题|上述问题|问题|我们的问题|我的问题)?$"
)
# Attention, a reply or justice asked for, whatever else is named with them.
_ATTENTION = re.compile(r"百忙|关注|重视|过问|回复|答复|说法|公道|做主|主持")
# Handling of a named thing: "查办搅拌厂", "严格查处该施工项目".
_HANDLES = re.compile(
    r"(?:查处|查办|彻查|严查|处理|整治|监管|执法|检查|核查|调查|推进|推动|加快|完善|优化|提高|改善|加强|规范)"
    r"(?!此事|这件事|该事|该问题|此问题|这个问题|以上问题|上述问题|问题|一下)[\u4e00-\u9fa5A-Za-z0-9]{3,}"
)
# What a deed is done to: verbs of one kind are one deed when comparing demands.
_DEEDS = (
    ("除", r"关闭|关停|取缔|搬迁|搬离|迁离|迁出|撤销|撤走|拆除|铲除|取消|拆|撤|搬"),
    ("除", r"制止|停止|叫停|禁止|停工|挡停|不要"),
    ("修", r"修复|维修|整修|修好|修缮|修建|硬化|修"),
    ("增", r"增设|增加|设置|安装|加装|新建|建设|配建|开通|开设|建"),
    ("查", r"查处|查办|彻查|调查|立案|侦查|处罚|惩处|严查|检查|核查"),
    ("退", r"退还|退费|返还|追回|追缴|兑付|赔偿|补偿|补发|发放"),
    ("公", r"公开|公示|公布|通报"),
)
_DEED = re.compile("|".join(f"(?P<d{k}>{words})" for k, (_, words) in enumerate(_DEEDS)))
_FILLER = re.compile(
    r"尽快|尽早|及时|立即|马上|早日|依法|严格|彻底|切实|一定|进行|予以|给予|对|把|将|在|该|这个|这|那个|此|其|的|了"
    r"|一下|[，,、。！!？?]"
)


@dataclass
class Demand:
    """A canonical demand: its action, the opinions behind it and how many they are."""

    text: str
    sources: list[str]
    count: int
    variants: list[str] = field(default_factory=list)


def units(sentence: str) -> list[str]:
    """``sentence`` cut before each clause that opens with a request, each request without the
    purpose or thanks that follow it: "路面全是坑，希望尽快修，还我们一条好路，请领导重视" →
    ["路面全是坑", "希望尽快修", "请领导重视"]."""
    clauses = [c for c in _CLAUSE.split(sentence) if c]
    opens = [k for k, clause in enumerate(clauses) if _OPENS.match(clause.strip())]
    if not opens:
        return [sentence]
    out = []
    head = "".join(clauses[: opens[0]]).strip("，,；;：: ")
    if head:
        if len(head) < 4:
            return [sentence]
        out.append(head)
    for k, end in zip(opens, [*opens[1:], len(clauses)]):
        request = clauses[k:end]
        for j in range(1, len(request)):
            if _PURPOSE.match(request[j].strip()):
                request = request[:j]
                break
        out.append("".join(request).strip("，,；;：: "))
    return out


def canonical(demand: str, max_chars: int = 40) -> str:
    """The action a demand asks for: request words, addressee, purpose clauses, first person
    and closing particles taken off; at most two clauses and ``max_chars`` characters unless
    the first clause alone is longer."""
    text = _LISTED.sub("", _OPENS.sub("", demand.strip(), count=1))
    while True:
        joined = 1 if text[:1] in "和与及、" else 0
        addressee = _ADDRESSEE.match(text[joined:])
        if addressee is None or not addressee.end():
            break
        text = text[joined + addressee.end() :]
    text = _MODAL.sub("", text)
    kept: list[str] = []
    clauses = _CLAUSE.split(text)
    if len(clauses) > 1 and _VAGUE.match(clauses[0].strip("，,；;：: ")):
        clauses = clauses[1:]  # "协调，将此小区…": the deed follows
    for clause in clauses:
        core = clause.strip("，,；;：: ")
        asked = _WHEN.match(core)
        if asked:
            core = f"尽快{_ASKED_DEED.get(asked['deed'], asked['deed'])}{asked['what']}"
            clause = core + clause[len(clause.rstrip("，,；;：: ")) :]
        if _GROUNDS.match(core):
            if kept:
                break
            continue
        if not core or _PURPOSE.match(core):
            break
        # A second clause stays only when it is a second deed ("依法查处，责令停工").
        framed = len(kept) == 1 and _FRAME.search(kept[0].strip("，,；;：: "))
        if (
            kept
            and not framed
            and (not _ACTION.match(core) or len("".join(kept) + core) > max_chars)
        ):
            break
        kept.append(clause)
        if len(kept) == 2:
            break
    text = "".join(kept).strip("，,；;：: ")
    text = _MINE.sub("", text)
    text = _END.sub("", text)
    # A bracket the cut left open or closed alone goes.
    for left, right in ("（）", "()", "《》", "“”"):
        if text.count(left) != text.count(right):
            text = text.replace(left, "").replace(right, "")
    return text


def _signature(action: str) -> tuple[frozenset[str], str]:
    """The kinds of deed an action names and what they are done to."""
    deeds = frozenset(_DEEDS[int(m.lastgroup[1:])][0] for m in _DEED.finditer(action))
    return deeds, _FILLER.sub("", _DEED.sub("", action))


def _same(a: tuple[frozenset[str], str], b: tuple[frozenset[str], str]) -> bool:
    """Whether two signatures ask for the same thing: a deed of one kind (or none named) done
    to the same thing (one's words mostly written in the other's)."""
    (deeds_a, object_a), (deeds_b, object_b) = a, b
    if deeds_a and deeds_b and not deeds_a & deeds_b:
        return False
    if not object_a or not object_b:
        return bool(deeds_a & deeds_b) and not object_a and not object_b
    if len(object_a) <= 2 or len(object_b) <= 2:
        short, long_ = sorted((object_a, object_b), key=len)
        return all(ch in long_ for ch in short) and bool(deeds_a & deeds_b)
    pairs_a = {object_a[i : i + 2] for i in range(len(object_a) - 1)}
    pairs_b = {object_b[i : i + 2] for i in range(len(object_b) - 1)}
    return len(pairs_a & pairs_b) / min(len(pairs_a), len(pairs_b)) >= 0.5


def merge_demands(
    actions: Sequence[str], sources: Sequence[str], max_chars: int = 30
) -> list[Demand]:
    """Group actions that ask for the same thing (:func:`_same`, each joining the first group
    whose first action it matches) and name each group by the action most of its others match,
    the shorter first, no longer than ``max_chars`` where one is. Groups come most opinions
    first."""
    if not actions:
        return []
    signatures = [_signature(a) for a in actions]
    groups: list[list[int]] = []
    for i, signature in enumerate(signatures):
        for members in groups:
            if _same(signatures[members[0]], signature):
                members.append(i)
                break
        else:
            groups.append([i])
    out = []
    for members in groups:
        agree = {i: sum(_same(signatures[i], signatures[j]) for j in members) for i in members}
        # The name: not too long, naming what the deed is done to ("该站" names little), the
        # one most others match, the shorter.
        best = min(
            members,
            key=lambda i: (
                len(actions[i]) > max_chars,
                len(signatures[i][1]) < 2,
                -agree[i],
                len(actions[i]),
                i,
            ),
        )
        names = list(dict.fromkeys(sources[i] for i in members))
        out.append(Demand(actions[best], names, len(names), [actions[i] for i in members]))
    first = {id(d): min(sources.index(s) for s in d.sources) for d in out}
    out.sort(key=lambda d: (-d.count, first[id(d)]))
    return out


def requests(unit: str) -> bool:
    """Whether ``unit`` opens with a request (请, 希望, 要求, 能否 …)."""
    return bool(_OPENS.match(unit.strip()))


# What points ahead to what follows, and words of how much or to whom that name no object.
_AHEAD = re.compile(r"如下|以下几点")
# "要求一不发立案公告，二不对外宣传": what someone else laid down, counted off, not a request.
_COUNTED_OFF = re.compile(r"^[一二三四五]不")
_WHOLE = re.compile(
    r"都|应当|应该|应|必须|悉数|全部|全额|全数|统统|一律|与众|于众|到位|一下|好|掉|[了吧啊呀]"
)


def actionable(action: str) -> bool:
    """Whether ``action`` asks for something to be done: it names a deed, or handling of a named
    thing, not only handling, attention or a reply ("尽快处理此事" asks for nothing in particular),
    and is not a condition someone imposes ("必须交房入住业主才能报名", "一不发立案公告")."""
    if _VAGUE.match(action) or _ATTENTION.search(action):
        return False
    if ("必须" in action and not _ACTION.match(action)) or _COUNTED_OFF.match(action):
        return False
    if _AHEAD.search(action) or not _WHOLE.sub("", _signature(action)[1]):
        return False  # "路线图如下"; "修复", "悉数追回": of what, it does not say
    return bool(_DOES.search(action) or _HANDLES.search(action))


def suggestion(action: str, department: str) -> str | None:
    """An action worded as a clause of a 代表建议 addressed to ``department``; ``None`` when it
    cannot be worded so (it does not open with a deed and is not a short object and deed)."""
    text = _FIRST_PERSON.sub("", _MINE.sub("该", action)).strip("，,；;：: ")
    if len(_FILLER.sub("", text)) < 4:
        return None  # "尽快维修": of what, the 建议 cannot say
    if not _ACTION.match(text):
        if len(text) > 16 or re.search(r"[，,]", text) or not actionable(text):
            return None
        text = "推动" + text
    return f"请{department}{text}。"

"""Titles of issues without the greetings and closings their opinions open and end with.

An issue's title is often an opinion's first words or the title its writer gave it, and those
start with whom it is addressed to ("领导好，东关社区门口的路改道以后绕好远", "尊敬的市长：您好！")
and end with thanks and a phone number. :func:`plain_title` keeps what is said about the matter.
"""

from __future__ import annotations

import re

__all__ = ["plain_title"]

# A clause that only greets, addresses, thanks, apologises, asks for a reply or gives a phone
# number. Whole clauses only, and only at the start or the end of a title.
_WHO = r"(?:领导|代表|书记|市长|县长|镇长|主任|同志|邻居|老师|干部|政府|大家|各位)"
_POLITE = re.compile(
    r"^(?:"
    # greetings and addresses: 领导好, 代表您好, 各位邻居晚上好, 尊敬的张县长, 王代表, @代表
    rf"(?:尊敬的|亲爱的)?(?:各位)?[\u4e00-\u9fa5]{{0,2}}{_WHO}们?(?:同志)?(?:您|你)?们?"
    r"(?:好|早上好|上午好|下午好|晚上好)(?:啊|呀)?"
    r"|(?:(?:您|你)们?好)+|(?:早上|上午|下午|晚上)好"
    rf"|尊敬的[^，。！？]{{1,14}}|(?:各位)?{_WHO}们?|[\u4e00-\u9fa5]{{1,2}}(?:代表|书记|市长|县长|主任)"
    r"|@\S{0,6}"
    # asking to be heard: 俺来反映个事, 我想反映一个问题, 现将有关情况反映如下
    r"|(?:俺|我|我们|俺们)?(?:想|来|要)?(?:反映|说|讲)(?:个|一个|一下|几个)?(?:事|事情|问题|情况)"
    r"|(?:现将)?(?:有关|具体)?情况(?:反映)?如下|我代表.{0,8}反映以下情况|特此反映|就(?:这个|这)事"
    # who is writing: 我是3号楼的, 联系人：刘女士
    r"|(?:我|俺)是[^，。！？]{0,12}|(?:联系人|反映人|留言人)[:：][^，。！？]{0,12}"
    # thanks, apologies, courtesy: 谢谢了, 辛苦各位了, 打扰了, 麻烦您了, 拜托拜托, 此致敬礼
    r"|(?:先|再次|十分|万分|衷心|在此)?(?:谢谢|感谢|多谢|谢过)[^，。！？]{0,16}"
    r"|(?:又来?)?(?:您|你)?(?:辛苦|麻烦|打扰|拜托|有劳|叨扰|给您添麻烦)[^，。！？]{0,6}"
    r"|不好意思[^，。！？]{0,8}|冒昧[^，。！？]{0,10}|此致|敬礼|此致敬礼|祝[^，。！？]{0,10}"
    r"|(?:俺|我)?说完了|就说这么多|先这样|以上[^，。！？]{0,10}属实|[^，。！？]{0,6}句句属实"
    # asking for an answer or for attention: 盼回复, 望尽快回复为盼, 请领导重视一下
    r"|(?:盼|望|期待|期盼|请|恳请|希望)[^，。！？]{0,10}"
    r"(?:回复|答复|回音|回话|回电|回信|消息)(?:为盼|为感)?|盼复(?:为感)?"
    r"|(?:请|恳请|敬请|希望|望|还望|要求)(?:各位|相关|有关|上级|贵)?(?:领导|部门|单位|政府)?"
    r"[^，。！？]{0,12}(?:重视|关注|关心|费心|过问|督办|批示|明察|处理|解决|办理|落实|核实|协调"
    r"|跟进|说法|帮助|支持|受理)(?:一下|为盼|为谢)?"
    # contact details: 电话[电话], 联系电话13900001257
    r"|[^，。！？]{0,6}(?:电话|手机|联系方式)[:：]?\s*(?:\[电话\]|\d{7,12})|\[电话\]|\d{11}"
    r")[!！。，,～~]*$"
)
_CLAUSE = re.compile(r"([，。！？；：,.!?;:\n]+)")
_EDGE = " \t，,、：:；;。！？!?“”\"'…"


def plain_title(text: str, width: int | None = None) -> str:
    """``text`` without the greetings, addresses, thanks and contact details that open or close
    it; ``text`` itself (stripped) when nothing else is left.

    Args:
        text: A title or an opinion.
        width: Cut the result to this many characters (whole clauses where they fit).

    Example:
        >>> plain_title("领导好，东关社区门口的路改道以后绕好远，谢谢了")
        '东关社区门口的路改道以后绕好远'
    """
    parts = _CLAUSE.split(text.strip())
    clauses = parts[::2]
    marks = parts[1::2] + [""]
    start, end = 0, len(clauses)
    while start < end and (not clauses[start].strip() or _polite(clauses[start])):
        start += 1
    while end > start and (not clauses[end - 1].strip() or _polite(clauses[end - 1])):
        end -= 1
    if start == end:
        return text.strip(_EDGE) or text.strip()
    kept = "".join(c + m for c, m in zip(clauses[start:end], marks[start:end])).strip(_EDGE)
    if width is not None and len(kept) > width:
        head = ""
        for clause in clauses[start:end]:
            clause = clause.strip()
            if head and len(head) + 1 + len(clause) > width:
                break
            head = f"{head}，{clause}" if head else clause
        kept = head[:width]
    return kept


def _polite(clause: str) -> bool:
    return bool(_POLITE.match(clause.strip()))

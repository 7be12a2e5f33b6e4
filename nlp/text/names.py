"""Names that slip past the tagger that masks opinions: LAC misses names after a title
(创始人费刚志, CEO于xiang), names typed half in pinyin, and names in a list beside masked ones.
Rules for text that more people read than its writer meant, such as the quotes of a draft.
"""

from __future__ import annotations

import re

from nlp.text.pii import MASKS, SURNAMES

__all__ = ["NAME_MASK", "mask_names"]

NAME_MASK = MASKS["name"]
_TITLE = (
    r"(?:创始人|董事长|副董事长|总经理|副总经理|经理|法定代表人|法人代表|法人|实控人|实际控制人|负责人|CEO|ceo|CFO"
    r"|总裁|副总裁|老板|股东|财务总监|总监|校长|园长|院长|主任|局长|所长|队长|组长|民警|警官|律师|医生|老师|会计"
    r"|出纳|村长|支书|书记|业务员|员工|包工头|项目经理|工头|同学|先生|女士|化名)"
)
_NAME_END = r"(?=[，,、。；;：:（(）)\s”\"和与及等的在是被将把向对从也都已于]|$)"
# A title, then a surname with one or two characters or with pinyin: 创始人费刚志、CEO于xiang.
_AFTER_TITLE = re.compile(
    rf"({_TITLE}[:：]?\s?)([{SURNAMES}](?:[\u4e00-\u9fa5]{{1,2}}|[A-Za-z]{{2,10}})){_NAME_END}"
)
# A surname typed with pinyin anywhere: 于xiang, 张Wei.
_PINYIN = re.compile(
    rf"([{SURNAMES}])(?!(?:ceo|cfo|cto|app|pos|vip|atm|wifi|ktv|pdf|ppt|com|www|http)(?![A-Za-z]))"
    r"([a-z]{3,8}|[A-Z][a-z]{2,7})(?![A-Za-z])",
    re.IGNORECASE,
)
# A name before a title: 张建国书记, 李局长.
_ORG = "委局办处科厅部院所站队组村镇乡县市区省党政副总正大中小公司厂店"
_BEFORE_TITLE = re.compile(
    rf"(?<![\u4e00-\u9fa5A-Za-z])([{SURNAMES}](?:(?![{_ORG}])[\u4e00-\u9fa5]){{1,2}})"
    r"(?=书记|局长|市长|县长|区长|镇长|乡长|主任|经理|董事长|总经理|老师|警官|所长|队长|院长|校长|园长)"
)
_LISTED = re.compile(r"(?<=[、，,])([\u4e00-\u9fa5]{2,3})(?=[、，,])")


def mask_names(text: str) -> str:
    """``text`` with the names :mod:`nlp.text.pii` leaves replaced by ``[姓名]``."""
    if not text:
        return text
    text = _AFTER_TITLE.sub(lambda m: m.group(1) + NAME_MASK, text)
    text = _PINYIN.sub(NAME_MASK, text)
    text = _BEFORE_TITLE.sub(NAME_MASK, text)
    if NAME_MASK in text:
        # In a list of masked names, the items the tagger missed are names too.
        def listed(match: re.Match) -> str:
            word = match.group(1)
            around = text[max(0, match.start() - 6) : match.end() + 6]
            return NAME_MASK if word[0] in SURNAMES and around.count(NAME_MASK) >= 1 else word

        text = _LISTED.sub(listed, text)
    return text

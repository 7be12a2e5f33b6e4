"""Which input column plays which role (text, id, time, source, place, title, user)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from nlp.core.errors import InputError

__all__ = ["ROLES", "Columns", "header_looks_like_data", "resolve_columns"]

# Common names in exports of liaison stations, hotlines and message boards, best first.
_GUESSES: dict[str, list[str]] = {
    "text": [
        "留言详情",
        "留言内容",
        "意见内容",
        "意见",
        "内容",
        "诉求内容",
        "反映内容",
        "问题描述",
        "来信内容",
        "工单内容",
        "详情",
        "正文",
        "描述",
        "text",
        "content",
        "opinion",
        "message",
        "body",
    ],
    "id": ["留言编号", "编号", "工单号", "工单编号", "意见编号", "序号", "id", "ID", "Id", "no"],
    "time": [
        "留言时间",
        "反映时间",
        "受理时间",
        "提交时间",
        "登记时间",
        "时间",
        "日期",
        "time",
        "date",
        "created_at",
    ],
    "source": ["来源", "渠道", "来源渠道", "收集渠道", "反映渠道", "source", "channel"],
    "place": [
        "地点",
        "地址",
        "所在地",
        "区域",
        "所属区域",
        "村社区",
        "place",
        "location",
        "address",
    ],
    "title": ["留言主题", "主题", "标题", "title", "subject"],
    "user": ["留言用户", "反映人编号", "用户", "user", "user_id"],
    "likes": ["点赞数", "点赞", "支持数", "附议数", "likes", "votes"],
}
ROLES = tuple(_GUESSES)
_KNOWN = {name.lower() for names in _GUESSES.values() for name in names}

# Cells no header holds: phone and ID numbers, e-mail addresses, dates and times, numbers.
_DATA = re.compile(
    r"(?:\+?86[- ]?)?1[3-9]\d{9}"  # mobile phone
    r"|0\d{2,3}-?\d{7,8}"  # landline
    r"|\d{17}[\dXx]|\d{15}"  # ID card
    r"|[^@\s]+@[^@\s]+\.\w+"  # e-mail
    r"|\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"  # date, time
    r"|[-+]?\d+(?:\.\d+)?"  # number
)
_NUMBERED = re.compile(r"column_(\d+)")  # the names of columns without a header


@dataclass
class Columns:
    """Input column names by role; ``None`` where the input has no such column."""

    text: str | None = None
    id: str | None = None
    time: str | None = None
    source: str | None = None
    place: str | None = None
    title: str | None = None
    user: str | None = None
    likes: str | None = None

    def used(self) -> set[str]:
        """The input columns given a role."""
        return {v for v in asdict(self).values() if v}

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def header_looks_like_data(cells: list[str]) -> bool:
    """Whether a file's first row is data rather than a header: a cell holds a phone or ID
    number, an e-mail address, a date or a number, and none is a column name Minyi knows."""
    cells = [c.strip() for c in cells]
    if any(c.lower() in _KNOWN for c in cells):
        return False
    return any(_DATA.fullmatch(c) for c in cells if c)


def resolve_columns(available: list[str], **given: str | None) -> Columns:
    """Match roles to columns: the ones given by name or number, others guessed from common names.

    Args:
        available: Column names of the input.
        **given: Role → column chosen by the user: its name (``text="留言详情"``), or its number
            counting from 1 (``text="3"``: the third column) where no column has that name.

    Raises:
        InputError: A given column is missing, or no text column can be found; the message
            lists the columns there are (by number where a name looks like data).
    """
    listing = _listing(available)
    chosen: dict[str, str | None] = {}
    for role, name in given.items():
        if role not in _GUESSES:
            raise InputError(f"unknown column role {role!r}; roles are {', '.join(ROLES)}")
        if name is not None and name not in available:
            if not name.strip().isdigit():
                raise InputError(
                    f"the input has no column {name!r} (for --{role}-column); its columns are: "
                    f"{listing}"
                )
            number = int(name)
            if not 1 <= number <= len(available):
                raise InputError(
                    f"--{role}-column {name}: the input has {len(available)} column(s), "
                    f"numbered from 1; its columns are: {listing}"
                )
            name = available[number - 1]
        chosen[role] = name
    folded = {c.strip().lower(): c for c in available}
    taken = {v for v in chosen.values() if v}
    for role, names in _GUESSES.items():
        if chosen.get(role):
            continue
        match = next(
            (
                folded[n.lower()]
                for n in names
                if n.lower() in folded and folded[n.lower()] not in taken
            ),
            None,
        )
        chosen[role] = match
        if match:
            taken.add(match)
    if not chosen["text"] and len(available) == 1:
        chosen["text"] = available[0]
    if not chosen["text"]:
        if available and all(_NUMBERED.fullmatch(c) for c in available):
            raise InputError(
                "cannot tell which column holds the opinion text: the file's first row looks like"
                f" data, not a header, so its {len(available)} columns have no names. Pass the"
                " text column's number, such as --text-column 3 for the third column, or add a"
                " header row naming the columns (留言编号, 留言详情, …)"
            )
        raise InputError(
            "cannot tell which column holds the opinion text; pass --text-column with its name or"
            f" its number (--text-column 2 for the second column). The columns are: {listing}"
        )
    return Columns(**chosen)


def _listing(available: list[str]) -> str:
    """The column names for a message; a name that looks like data (a phone number, a date …)
    is shown by its number, never as it is."""
    names = [
        f"#{i} (looks like data)" if _DATA.fullmatch(name.strip()) else name
        for i, name in enumerate(available, 1)
    ]
    return ", ".join(names) if names else "(none)"

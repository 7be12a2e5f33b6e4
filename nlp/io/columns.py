"""Which input column plays which role (text, id, time, source, place, title, user)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nlp.core.errors import InputError

__all__ = ["Columns", "resolve_columns", "ROLES"]

# Common names in exports of liaison stations, hotlines and message boards, best first.
_GUESSES: dict[str, list[str]] = {
    "text": ["留言详情", "留言内容", "意见内容", "意见", "内容", "诉求内容", "反映内容", "问题描述", "来信内容",
             "工单内容", "详情", "正文", "描述", "text", "content", "opinion", "message", "body"],
    "id": ["留言编号", "编号", "工单号", "工单编号", "意见编号", "序号", "id", "ID", "Id", "no"],
    "time": ["留言时间", "反映时间", "受理时间", "提交时间", "登记时间", "时间", "日期", "time", "date", "created_at"],
    "source": ["来源", "渠道", "来源渠道", "收集渠道", "反映渠道", "source", "channel"],
    "place": ["地点", "地址", "所在地", "区域", "所属区域", "村社区", "place", "location", "address"],
    "title": ["留言主题", "主题", "标题", "title", "subject"],
    "user": ["留言用户", "反映人编号", "用户", "user", "user_id"],
    "likes": ["点赞数", "点赞", "支持数", "附议数", "likes", "votes"],
}
ROLES = tuple(_GUESSES)


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


def resolve_columns(available: list[str], **given: str | None) -> Columns:
    """Match roles to columns: the ones given by name, others guessed from common names.

    Args:
        available: Column names of the input.
        **given: Role → column name chosen by the user (``text="留言详情"``).

    Raises:
        InputError: A given column is missing, or no text column can be found; the message
            lists the columns there are.
    """
    listing = ", ".join(available) if available else "(none)"
    chosen: dict[str, str | None] = {}
    for role, name in given.items():
        if role not in _GUESSES:
            raise InputError(f"unknown column role {role!r}; roles are {', '.join(ROLES)}")
        if name is not None and name not in available:
            raise InputError(f"the input has no column {name!r} (for --{role}-column); its columns are: {listing}")
        chosen[role] = name
    folded = {c.strip().lower(): c for c in available}
    taken = {v for v in chosen.values() if v}
    for role, names in _GUESSES.items():
        if chosen.get(role):
            continue
        match = next((folded[n.lower()] for n in names if n.lower() in folded and folded[n.lower()] not in taken), None)
        chosen[role] = match
        if match:
            taken.add(match)
    if not chosen["text"] and len(available) == 1:
        chosen["text"] = available[0]
    if not chosen["text"]:
        raise InputError(f"cannot tell which column holds the opinion text; pass --text-column. The columns are: {listing}")
    return Columns(**chosen)

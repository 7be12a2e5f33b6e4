"""One fact sheet per cluster: the numbers every part of a draft states, computed once.

基本情况, 分布, the reason given for 广泛性, the title and the optional model rewrite all read
the same :class:`FactSheet`, so a draft never says five places in one section and ninety-seven
in another. It is made from the cluster's row (people, dates, channels, class) and its opinions'
texts (how many, and the places they are about, :func:`nlp.summarize.scope.spread`); channels
are stated only when the export has them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from nlp.summarize.scope import Spread, spread

__all__ = ["FactSheet", "fact_sheet"]


def _pairs(value: object) -> list[tuple[str, int]]:
    """``"a:3 b:1"`` → ``[("a", 3), ("b", 1)]``."""
    out = []
    for part in str(value or "").split():
        name, _, count = part.rpartition(":")
        if name and count.isdigit():
            out.append((name, int(count)))
    return out


@dataclass
class FactSheet:
    """What a draft states about its cluster.

    Attributes:
        places: Each place the opinions are about and its opinions, most first.
        channels: Each channel the opinions came by and its opinions (empty when the export
            has no channel column).
        scope: The place the title names, "" when the opinions share none.
        several: The opinions are about several places, none holding half of them.
    """

    opinions: int
    people: int
    places: list[tuple[str, int]] = field(default_factory=list)
    channels: list[tuple[str, int]] = field(default_factory=list)
    first_seen: str = ""
    last_seen: str = ""
    weekly: list[tuple[str, int]] = field(default_factory=list)
    level1: str = ""
    level2: str = ""
    department: str = ""
    scope: str = ""
    several: bool = False
    unplaced: int = 0

    @property
    def place_count(self) -> int:
        return len(self.places)

    @property
    def level(self) -> str:
        return "/".join(x for x in (self.level1, self.level2) if x)

    def situation(self) -> str:
        """The 基本情况 paragraph."""
        period = f"{self.first_seen}至{self.last_seen}，" if self.first_seen else ""
        by = f"通过{'、'.join(c for c, _ in self.channels)}等渠道" if self.channels else ""
        where = ""
        if self.places:
            shown = "、".join(p for p, _ in self.places[:3])
            more = "等" if self.place_count > 3 else ""
            where = f"、{self.place_count}个地点（{shown}{more}）"
        kind = f"该问题属于“{self.level}”类。" if self.level else ""
        return f"{period}{by}共收到相关意见{self.opinions}条，涉及{self.people}人{where}。{kind}"

    def distribution(self, top: int = 8) -> list[str]:
        """The 分布 lines: each place and its opinions, the rest summed up."""
        lines = [f"{place} {count}条" for place, count in self.places[:top]]
        rest = sum(count for _, count in self.places[top:])
        if rest:
            lines.append(f"其他{self.place_count - top}个地点 {rest}条")
        if self.unplaced:
            lines.append(f"未写明地点 {self.unplaced}条")
        return lines

    def lines(self) -> list[str]:
        """The sheet as short lines, for a language model's prompt."""
        out = [f"意见数：{self.opinions}", f"涉及人数：{self.people}"]
        if self.first_seen:
            out.append(f"时间：{self.first_seen}至{self.last_seen}")
        if self.channels:
            out.append("渠道：" + "、".join(f"{c}{n}条" for c, n in self.channels))
        if self.places:
            out.append(
                f"地点（{self.place_count}个）：" + "、".join(f"{p}{n}条" for p, n in self.places)
            )
        if self.level:
            out.append(f"类别：{self.level}")
        if self.department:
            out.append(f"承办单位：{self.department}")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def fact_sheet(cluster: Mapping, texts: Sequence[str], where: Spread | None = None) -> FactSheet:
    """The fact sheet of ``cluster`` (a row of the clusters table) and its opinions' ``texts``;
    ``where`` is their :func:`~nlp.summarize.scope.spread`, computed when ``None``."""
    where = where if where is not None else spread(texts)
    opinions = len(texts)
    people = int(cluster.get("people") or opinions)
    return FactSheet(
        opinions=opinions,
        people=min(people, opinions) if opinions else people,
        places=list(where.counts),
        channels=_pairs(cluster.get("sources")),
        first_seen=str(cluster.get("first_seen") or ""),
        last_seen=str(cluster.get("last_seen") or ""),
        weekly=_pairs(cluster.get("weekly_counts")),
        level1=str(cluster.get("level1") or ""),
        level2=str(cluster.get("level2") or ""),
        department=str(cluster.get("department") or "有关部门"),
        scope=where.scope,
        several=where.several,
        unplaced=sum(1 for w in where.where if not w),
    )

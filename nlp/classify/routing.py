"""Routing table: which body (承办单位) answers a class of opinion in a given place.

A CSV or XLSX with the columns ``level1``, ``level2``, ``place`` and ``department`` (or their
Chinese names 一级分类, 二级分类, 地点, 承办单位). An empty cell matches anything. The most
specific matching rule wins (a rule naming a place beats one that does not, level-2 beats
level-1 only), then the first in the file; with no match the taxonomy's default body is kept.

Example rows::

    level1,level2,place,department
    城乡建设,供暖,,市供热办
    交通运输,道路破损/改道,石桥镇,石桥镇人民政府
    ,,开发区,开发区管委会
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nlp.core.errors import InputError

__all__ = ["RoutingTable", "Rule"]

_ALIASES = {"一级分类": "level1", "二级分类": "level2", "地点": "place", "承办单位": "department"}


@dataclass(frozen=True)
class Rule:
    level1: str
    level2: str
    place: str
    department: str

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (bool(self.place), bool(self.level2), bool(self.level1))


class RoutingTable:
    """Rules from a file; :meth:`department` picks the body for one opinion."""

    def __init__(self, rules: list[Rule]):
        # Stable sort: among equally specific rules the file's order decides.
        self.rules = sorted(rules, key=lambda r: r.specificity, reverse=True)

    @classmethod
    def load(cls, path: str | Path) -> RoutingTable:
        """Read a routing table.

        Raises:
            InputError: The file cannot be read, lacks a column, or has a rule without a department.
        """
        from nlp.io import read_table

        frame = read_table(path).frame.rename(
            columns=lambda c: _ALIASES.get(str(c).strip(), str(c).strip())
        )
        missing = {"level1", "level2", "place", "department"} - set(frame.columns)
        if missing:
            raise InputError(
                f"routing table {path} lacks the column(s) {', '.join(sorted(missing))}; it needs level1, level2, place, department"
            )
        rules = []
        for n, row in enumerate(frame.to_dict("records"), start=2):
            values = {k: str(row[k]).strip() for k in ("level1", "level2", "place", "department")}
            if not values["department"]:
                raise InputError(f"routing table {path}, line {n}: the department is empty")
            rules.append(Rule(**values))
        return cls(rules)

    def department(self, level1: str, level2: str, places: str, default: str) -> str:
        """The body for an opinion of class ``level1``/``level2`` naming ``places`` (space-separated)."""
        for rule in self.rules:
            if rule.level1 and rule.level1 != level1:
                continue
            if rule.level2 and rule.level2 != level2:
                continue
            if rule.place and rule.place not in places:
                continue
            return rule.department
        return default

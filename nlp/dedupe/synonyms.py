"""Rewrite domain synonyms to one form (暖气, 供热, 取暖 → 供暖) before matching texts."""

from __future__ import annotations

import re
from pathlib import Path

from nlp.core.resources import corpus_path

__all__ = ["Synonyms"]


class Synonyms:
    """Groups of words that mean the same in opinions; the first of a group is canonical.

    Args:
        groups: Lists of words, canonical first.
    """

    def __init__(self, groups: list[list[str]]):
        self.groups = groups
        mapping = {}
        for group in groups:
            for word in group[1:]:
                mapping.setdefault(word, group[0])
        self.mapping = mapping
        # Longest first, so that 取暖费 is rewritten before 取暖.
        words = sorted(mapping, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    @classmethod
    def load(cls, path: str | Path | None = None) -> Synonyms:
        """Read a synonym file (one group a line, ``#`` comments); the project's by default."""
        path = Path(path) if path else corpus_path("synonyms.txt")
        groups = []
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                groups.append(words)
        return cls(groups)

    def rewrite(self, text: str) -> str:
        """``text`` with every synonym replaced by its canonical word."""
        if not self._pattern:
            return text
        return self._pattern.sub(lambda m: self.mapping[m.group()], text)

"""The two-level class tree with keywords, descriptions and responsible bodies (承办单位)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from nlp.core.errors import ConfigError
from nlp.core.resources import corpus_path

__all__ = ["TaxonomyClass", "Taxonomy", "ABSTAIN"]

ABSTAIN = "待人工"
"""Label of an opinion the classifier will not decide; a person sorts it."""


@dataclass(frozen=True)
class TaxonomyClass:
    """One class; ``parent`` is empty for level-1 classes."""

    name: str
    parent: str = ""
    description: str = ""
    department: str = ""
    keywords: dict[str, float] = field(default_factory=dict)

    @property
    def level(self) -> int:
        return 2 if self.parent else 1


class Taxonomy:
    """Level-1 classes and their level-2 children.

    Args:
        classes: Every class, level-1 and level-2.
        version: Name and version of the taxonomy, recorded with each run.
        keyword_temperature: How the keyword rules' scores become a confidence (see
            :class:`~nlp.classify.lexicon.LexiconClassifier`); 1 leaves them as they are.
    """

    def __init__(
        self, classes: list[TaxonomyClass], version: str = "", keyword_temperature: float = 1.0
    ):
        self.version = version
        self.keyword_temperature = keyword_temperature
        self.classes = classes
        self.level1 = [c for c in classes if not c.parent]
        names = {c.name for c in self.level1}
        self._children: dict[str, list[TaxonomyClass]] = {n: [] for n in names}
        for c in classes:
            if c.parent:
                if c.parent not in names:
                    raise ConfigError(
                        f"level-2 class {c.name!r} names an unknown parent {c.parent!r}"
                    )
                self._children[c.parent].append(c)
        self._by_key = {(c.parent, c.name): c for c in classes}

    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """Read a taxonomy YAML file; the project's ``corpora/taxonomy.yaml`` when ``None``.

        The file holds ``version``, optionally ``keyword_temperature`` and ``classes``: a list of level-1 classes, each with
        ``name``, ``description``, ``department``, ``keywords`` and ``children`` (level-2 classes
        with the same fields). Keywords are a list of words, or a mapping of word to weight.
        """
        path = Path(path) if path else corpus_path("taxonomy.yaml")
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read the taxonomy {path}: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
            raise ConfigError(f"taxonomy {path} must be a mapping with a 'classes' list")
        classes = []
        for top in data["classes"]:
            classes.append(_parse_class(top, "", path))
            for child in top.get("children") or []:
                classes.append(_parse_class(child, top["name"], path, inherit=top))
        temperature = data.get("keyword_temperature", 1.0)
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 < temperature <= 10
        ):
            raise ConfigError(
                f"taxonomy {path}: keyword_temperature must be a number above 0 and at most 10, not {temperature!r}"
            )
        return cls(
            classes,
            version=str(data.get("version", path.name)),
            keyword_temperature=float(temperature),
        )

    @cached_property
    def keywords(self) -> frozenset[str]:
        """Every class's keywords: words that say what a matter is (热力公司, 维保公司), not
        where it happens."""
        return frozenset(word for c in self.classes for word in c.keywords)

    def children(self, level1: str) -> list[TaxonomyClass]:
        """Level-2 classes under ``level1``."""
        return self._children.get(level1, [])

    def get(self, level1: str, level2: str = "") -> TaxonomyClass | None:
        """The class named by ``level1`` and optionally ``level2``."""
        return self._by_key.get((level1, level2) if level2 else ("", level1))

    def department(self, level1: str, level2: str = "") -> str:
        """Responsible body of a class: the level-2 one's, else its parent's."""
        cls = self.get(level1, level2) or self.get(level1)
        return cls.department if cls else ""


def _parse_class(item: dict, parent: str, path: Path, inherit: dict | None = None) -> TaxonomyClass:
    if not isinstance(item, dict) or not item.get("name"):
        raise ConfigError(f"taxonomy {path}: every class needs a name, got {item!r}")
    raw = item.get("keywords") or []
    if isinstance(raw, dict):
        keywords = {str(k): float(v) for k, v in raw.items()}
    elif isinstance(raw, list):
        keywords = {str(k): 1.0 for k in raw}
    else:
        raise ConfigError(
            f"taxonomy {path}: keywords of {item['name']!r} must be a list or mapping"
        )
    department = item.get("department") or (inherit or {}).get("department", "")
    return TaxonomyClass(
        name=str(item["name"]),
        parent=parent,
        description=str(item.get("description", "")),
        department=str(department),
        keywords=keywords,
    )

"""What every classifier returns, and the small interface the pipeline calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Prediction", "Classifier"]


@dataclass(slots=True)  # a run holds one per row: no __dict__ each
class Prediction:
    """The class of one opinion.

    Attributes:
        level1: Level-1 class, or ``待人工`` when the classifier will not decide.
        level2: Level-2 class, empty when the model has none.
        confidence: Probability-like score of ``level1`` in [0, 1].
        keywords: Words that drove the decision.
        alternatives: Best level-1 classes with their scores, best first.
    """

    level1: str
    level2: str = ""
    confidence: float = 0.0
    keywords: list[str] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)


class Classifier(Protocol):
    """Classifies opinions from their normalised text and their words."""

    def predict(self, texts: list[str], tokens: list[list[str]]) -> list[Prediction]: ...

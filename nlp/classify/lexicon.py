"""Cold-start classification from the taxonomy's keywords.

Each level-2 class scores the weights of its keywords found among an opinion's words; a level-1
class scores its own keywords plus its children's. The best level-1 class wins, then its best
child. With no keyword found the opinion is left to a person (``待人工``).

Scores become a confidence as ``s^(1/T) / (Σ s^(1/T) + prior^(1/T))``. The default taxonomy's
temperature ``T`` is fitted on the project's labeled corpus (:func:`fit_keyword_temperature`,
``python corpora/calibrate_keywords.py``) so that confidence reads as a probability; the order of
the classes never depends on it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from nlp.classify.base import Prediction
from nlp.classify.taxonomy import ABSTAIN, Taxonomy
from nlp.core.errors import NotFittedError

__all__ = ["LexiconClassifier", "fit_keyword_temperature"]


class LexiconClassifier:
    """Keyword-rule classifier over a :class:`~nlp.classify.taxonomy.Taxonomy`.

    Args:
        taxonomy: The class tree; the project's default when ``None``.
        prior: Pseudo-score added to the denominator of ``confidence`` so that one keyword
            alone is not certainty: ``confidence = top / (sum of scores + prior)``, each raised to
            the power ``1 / temperature``.
        abstain_below: Below this confidence the opinion is marked ``待人工``.
        temperature: Sharpens (below 1) or softens the scores' shares; the taxonomy's
            ``keyword_temperature`` when ``None``.
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        prior: float = 1.0,
        abstain_below: float = 0.0,
        temperature: float | None = None,
    ):
        self.taxonomy = taxonomy
        self.prior = prior
        self.abstain_below = abstain_below
        self.temperature = temperature

    def fit(self, texts=None, y=None) -> LexiconClassifier:
        """Index the taxonomy's keywords (no training data needed); returns ``self``."""
        taxonomy = self.taxonomy or Taxonomy.load()
        index: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
        for cls in taxonomy.classes:
            level1 = cls.parent or cls.name
            level2 = cls.name if cls.parent else ""
            for word, weight in cls.keywords.items():
                index[word].append((level1, level2, weight))
        self.taxonomy_ = taxonomy
        self.temperature_ = self.temperature or taxonomy.keyword_temperature
        self.index_ = dict(index)
        self.order_ = {c.name: i for i, c in enumerate(taxonomy.level1)}
        self.longest_ = max((len(w) for w in index), default=0)
        return self

    @property
    def vocabulary(self) -> list[str]:
        """Every keyword, so that a tokenizer can keep them whole."""
        if not hasattr(self, "index_"):
            self.fit()
        return list(self.index_)

    def predict(self, texts: list[str], tokens: list[list[str]]) -> list[Prediction]:
        """Classify opinions from their words (``texts`` is unused, kept for the interface)."""
        if not hasattr(self, "index_"):
            raise NotFittedError("LexiconClassifier is not fitted; call fit() first")
        return [self._predict_one(words) for words in tokens]

    def _expand(self, words: list[str]) -> list[str]:
        """The words and the keywords inside longer words (医保报销 → 医保报销, 医保, 报销)."""
        out = []
        for word in words:
            out.append(word)
            n = len(word)
            if n < 3:
                continue
            for size in range(min(n - 1, self.longest_), 1, -1):
                for start in range(n - size + 1):
                    part = word[start : start + size]
                    if part in self.index_:
                        out.append(part)
        return out

    def _scores(self, words: list[str]):
        level1_score: dict[str, float] = defaultdict(float)
        level2_score: dict[tuple[str, str], float] = defaultdict(float)
        hits: dict[str, list[str]] = defaultdict(list)
        for word in dict.fromkeys(self._expand(words)):  # each keyword counts once per opinion
            for level1, level2, weight in self.index_.get(word, ()):
                level1_score[level1] += weight
                if level2:
                    level2_score[(level1, level2)] += weight
                hits[level1].append(word)
        return level1_score, level2_score, hits

    def _ranked(
        self, level1_score: dict[str, float], hits: dict[str, list[str]]
    ) -> list[tuple[str, float]]:
        """Level-1 classes by score; ties go to the class with more distinct keywords, then to the taxonomy's order."""
        return sorted(
            level1_score.items(), key=lambda kv: (-kv[1], -len(hits[kv[0]]), self.order_[kv[0]])
        )

    def _predict_one(self, words: list[str]) -> Prediction:
        level1_score, level2_score, hits = self._scores(words)
        if not level1_score:
            return Prediction(ABSTAIN)
        ranked = self._ranked(level1_score, hits)
        power = 1.0 / self.temperature_
        total = sum(s**power for s in level1_score.values()) + self.prior**power
        best, score = ranked[0]
        confidence = score**power / total
        alternatives = [(name, round(s**power / total, 4)) for name, s in ranked[:3]]
        if confidence < self.abstain_below:
            return Prediction(ABSTAIN, confidence=confidence, alternatives=alternatives)
        children = [(l2, s) for (l1, l2), s in level2_score.items() if l1 == best]
        level2 = max(children, key=lambda kv: kv[1])[0] if children else ""
        return Prediction(best, level2, round(confidence, 4), hits[best][:8], alternatives)


def fit_keyword_temperature(
    classifier: LexiconClassifier, tokens: list[list[str]], labels: list[str]
) -> float:
    """The temperature whose confidences best match how often the top class is right (least
    squared error over opinions with a keyword; the top class itself does not depend on it)."""
    from scipy.optimize import minimize_scalar

    top, right = [], []
    for words, label in zip(tokens, labels):
        level1_score, _, hits = classifier._scores(words)
        if level1_score:  # a keyword was found
            best = classifier._ranked(level1_score, hits)[0][0]
            top.append((np.array(list(level1_score.values())), level1_score[best]))
            right.append(best == label)
    if not top:
        raise ValueError("no opinion holds a keyword: nothing to fit the temperature on")
    truth = np.array(right, dtype=float)

    def error(t: float) -> float:
        p = 1.0 / t
        confidence = np.array(
            [best**p / ((scores**p).sum() + classifier.prior**p) for scores, best in top]
        )
        return float(np.mean((confidence - truth) ** 2))

    return float(minimize_scalar(error, bounds=(0.05, 5.0), method="bounded").x)

"""Residents' sentences quoted in a draft, chosen to cover the cluster.

:func:`cover` picks the problems a draft quotes by maximal marginal relevance: the most central
sentence first, then each next one central but unlike those already chosen, and from a place not
yet quoted while there is one. Quotes are masked once more with :func:`nlp.text.names.mask_names`
(a quote is read by more people than the opinion it comes from).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nlp.text.names import mask_names

__all__ = ["cover", "mask_names"]


def cover(
    sentences: Sequence[str],
    places: Sequence[str] | None = None,
    k: int = 3,
    diversity: float = 0.6,
    max_chars: int = 100,
    matrix=None,
) -> list[int]:
    """Indexes of ``k`` sentences that cover the cluster, in order of choice.

    Each step takes the sentence with the best ``(1 - diversity) * centrality - diversity *
    (its highest cosine to a chosen one)``, longer ones than ``max_chars`` penalised, and while
    some place of ``places`` (one per sentence, "" for none) is not yet quoted, only sentences of
    such places. ``matrix``: the sentences as rows of unit length (character TF-IDF), when
    already made (:meth:`nlp.summarize.roles.SentenceRoles.grams`).
    """
    n = len(sentences)
    if n == 0:
        return []
    if matrix is None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        matrix = vectorizer.fit_transform(sentences)
    centre = np.asarray(matrix.mean(axis=0)).ravel()
    # Elementwise, not a BLAS dot: the vector is as long as the vocabulary, and BLAS threads
    # cost more than they save on a busy machine.
    centre /= math.sqrt(float(np.square(centre).sum())) or 1.0
    length = np.array([len(s) for s in sentences], dtype=float)
    base = (1 - diversity) * (matrix @ centre) - 0.2 * np.maximum(length - max_chars, 0) / max_chars
    base -= 0.2 * (length < 12)
    closest = np.zeros(n)
    places = list(places) if places is not None else [""] * n
    quoted: set[str] = set()
    chosen: list[int] = []
    for _ in range(min(k, n)):
        score = base - diversity * closest
        score[chosen] = -np.inf
        fresh = np.array([p not in quoted for p in places])
        if fresh.any() and np.isfinite(score[fresh]).any():
            score = np.where(fresh, score, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        chosen.append(best)
        quoted.add(places[best])
        closest = np.maximum(closest, (matrix @ matrix[best].T).toarray().ravel())
    return chosen

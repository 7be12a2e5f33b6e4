"""Other matters: the level-1 classes of further issues one opinion raises besides its main one
(a message about a road that also asks about medical insurance)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nlp.classify import ABSTAIN
from nlp.summarize.sentences import sentence_spans

if TYPE_CHECKING:
    from nlp.classify import LexiconClassifier, Prediction

__all__ = ["OTHER_MATTER_CONFIDENCE", "other_matters"]

OTHER_MATTER_CONFIDENCE = 0.6


def other_matters(
    lexicon: LexiconClassifier,
    ok: Sequence[int],
    text: Sequence[str],
    joined: Mapping[int, str],
    tokens: Mapping[int, list[str]],
    predictions: Mapping[int, Prediction],
) -> dict[int, list[str]]:
    """Level-1 classes of other matters the rows ``ok`` raise: a sentence whose own keywords
    point firmly (at least two keywords, confidence ≥ :data:`OTHER_MATTER_CONFIDENCE` under
    ``lexicon``, the keyword rules at temperature 1) to a class other than the row's.

    Only rows whose words hold keywords of two classes or more are split into sentences, whose
    words are taken from the row's words (not segmented again). ``joined[i]``: the title and
    text that row ``i``'s ``tokens`` were segmented from.
    """
    whole = lexicon.predict([text[i] for i in ok], [tokens[i] for i in ok])
    rows, sentences, words = [], [], []
    for i, p in zip(ok, whole):
        spans = sentence_spans(text[i]) if len(p.alternatives) >= 2 else []
        if len(spans) >= 2:
            rows.extend([i] * len(spans))
            sentences.extend(text[i][a:b] for a, b in spans)
            offset = len(joined[i]) - len(text[i])  # the title and its 。 come first
            shifted = [(a + offset, b + offset) for a, b in spans]
            words.extend(words_by_span(joined[i], tokens[i], shifted))
    if not sentences:
        return {}
    found: dict[int, list[str]] = {}
    for i, p in zip(rows, lexicon.predict(sentences, words)):
        main = predictions[i].level1
        if (
            p.level1 not in (ABSTAIN, main)
            and main != ABSTAIN
            and len(p.keywords) >= 2
            and p.confidence >= OTHER_MATTER_CONFIDENCE
        ):
            found.setdefault(i, [])
            if p.level1 not in found[i]:
                found[i].append(p.level1)
    return found


def words_by_span(joined: str, words: list[str], spans: list[tuple[int, int]]) -> list[list[str]]:
    """The words of each span of ``joined`` (the text the words were segmented from), found in
    order; words outside every span (a title's) are left out."""
    out: list[list[str]] = [[] for _ in spans]
    k = position = 0
    for word in words:
        at = joined.find(word, position)
        if at < 0:
            continue
        position = at + len(word)
        while k < len(spans) and at >= spans[k][1]:
            k += 1
        if k == len(spans):
            break
        if at >= spans[k][0]:
            out[k].append(word)
    return out

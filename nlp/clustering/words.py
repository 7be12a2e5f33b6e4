"""The words a post uses, beside its sentence vector, in the space that clusters are found in.

A sentence encoder reads a long message-board post as its policy area: 社保缴纳, 工龄计算 and 购房资格
come out close, as do a city railway's timetable and one of its stops. Staff hold those apart, and
what tells them apart is the nouns the posts share. So a clustered point is its sentence vector
followed by a vector of its words (TF-IDF, hashed into :data:`WORD_DIMS` buckets), each part scaled
so that the cosine of two posts is ``SENTENCE_SHARE`` × their sentences' cosine + the rest × their
words' cosine. One-line fragments keep their sentence vector alone: they say one thing in a few
words, and two people seldom choose the same ones (暖气不热 / 屋里冻得伸不出手).

A post's title is its writer's own line on what the matter is ("咨询A市退休年龄问题", "请问工龄怎么
计算"), where the body wanders through the policy around it: a word of the title weighs
``TITLE_WEIGHT`` times as much as the same word in the body alone, unless it is part of a place or
organisation the post names. Places are judged on their own (:mod:`nlp.clustering.places`), and
different problems at one estate are different issues: its name in two titles says nothing more
about the matter than in two bodies.

A word's weight is its IDF from jieba's own document frequencies (general text), times how rare it
is among opinions: the share of the project's training opinions it is absent from, on a log scale
(:func:`_opinion_rarity`, from ``corpora/opinion_words.txt``). General text does not know that
诉求, 恳请, 小区, 建设 or 加快 are in every other letter to a congress deputy; two posts that share
them are not the more likely to raise one matter, while two that share 商转公 or 闸机 are.

The word vector depends only on the text: the buckets come from a fixed hash of each word and the
weights from those two fixed tables (shipped with jieba and the project), so a vector stored by one
run meets the next run's in the same space.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files

import numpy as np

from nlp.clustering.evidence import shortness
from nlp.core.resources import corpus_path

__all__ = [
    "SENTENCE_SHARE",
    "SPACE_SUFFIX",
    "TITLE_WEIGHT",
    "WORD_DIMS",
    "blend",
    "blended_mean",
    "points",
    "sentence_part",
    "word_vectors",
]

WORD_DIMS = 512  # buckets of the hashed word vector
# A post's share of its sentence vector in its cosines (the rest is its words'), where what it
# says is LONG_CHARS or longer; a fragment's is 1, and lengths between move in proportion.
# Fitted with the posts' merge threshold by benchmarks/fit_cluster.py.
SENTENCE_SHARE = 0.2
# A word found in a post's title (not in a name it gives) weighs this many times its weight
# elsewhere. Measured on the public hot-issue set's judged pairs: see benchmarks/data/README.md.
TITLE_WEIGHT = 3.0
SPACE_SUFFIX = f"+words{WORD_DIMS}"  # the name of this space after the encoder's


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's inverse document frequencies, and their median for words it lacks."""
    weights: dict[str, float] = {}
    with files("jieba").joinpath("analyse", "idf.txt").open(encoding="utf-8") as f:
        for line in f:
            word, _, value = line.rstrip().rpartition(" ")
            if word:
                weights[word] = float(value)
    return weights, float(np.median(np.fromiter(weights.values(), dtype=np.float64)))


@lru_cache(maxsize=1)
def _opinion_counts() -> tuple[dict[str, int], int]:
    """In how many of the project's training opinions each word occurs, and how many there are
    (``corpora/opinion_words.txt``, built by ``corpora/build_opinion_words.py``)."""
    counts: dict[str, int] = {}
    total = 0
    with corpus_path("opinion_words.txt").open(encoding="utf-8") as f:
        for line in f:
            word, _, value = line.rstrip("\n").rpartition(" ")
            if word == "# opinions":
                total = int(value)
            elif word:
                counts[word] = int(value)
    return counts, total


def _opinion_rarity(word: str) -> float:
    """``log((N + 1) / (n + 1)) / log(N + 1)`` for a word found in n of the N training opinions:
    1 for a word in none of them, 0 for one in all."""
    counts, total = _opinion_counts()
    if not total:
        return 1.0
    return math.log((total + 1) / (counts.get(word, 0) + 1)) / math.log(total + 1)


@lru_cache(maxsize=200_000)
def _bucket(word: str) -> tuple[int, float]:
    """A word's bucket, and its signed weight: its IDF times its rarity among opinions (the sign
    from another bit of the same hash, so that words sharing a bucket cancel rather than add up,
    on average)."""
    weights, median = _idf()
    code = zlib.crc32(word.encode("utf-8"))
    sign = 1.0 if code & 0x8000_0000 else -1.0
    return code % WORD_DIMS, sign * weights.get(word, median) * _opinion_rarity(word)


def word_vectors(
    tokens: Sequence[Sequence[str]],
    titles: Sequence[str] | None = None,
    names: Sequence[Sequence[str]] | None = None,
) -> np.ndarray:
    """Unit-length hashed TF-IDF vectors of texts' words (single characters and numbers left
    out; each word weighs 1 + log of its count × its IDF × its rarity among opinions, times
    ``TITLE_WEIGHT`` where it is found in the text's title and in none of its ``names``); zeros
    for a text with none.

    Args:
        tokens: Each text's words (its title's among them).
        titles: Each text's title ('' for none); no titles when ``None``.
        names: The places and organisations each text names; none when ``None``.
    """
    out = np.zeros((len(tokens), WORD_DIMS), dtype=np.float32)
    for row, words in enumerate(tokens):
        counts = Counter(w for w in words if len(w) > 1 and not w.isdigit())
        if not counts:
            continue
        at, weight = zip(*(_bucket(w) for w in counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), np.float64, len(counts))
        title = titles[row] if titles is not None else ""
        if title:
            named = names[row] if names is not None else ()
            tf *= np.fromiter(
                (
                    TITLE_WEIGHT if w in title and not any(w in n for n in named) else 1.0
                    for w in counts
                ),
                np.float64,
            )
        vector = np.bincount(at, weights=tf * np.asarray(weight), minlength=WORD_DIMS)
        norm = np.linalg.norm(vector)
        if norm > 0:
            out[row] = vector / norm
    return out


def blend(sentences: np.ndarray, words: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """Each row's sentence vector and word vector side by side, scaled by its length (see the
    module's docstring): unit length where both are."""
    return _side_by_side(sentences, words, _sentence_share(lengths))


def points(
    sentences: np.ndarray,
    tokens: Sequence[Sequence[str]],
    lengths: Sequence[int],
    titles: Sequence[str] | None = None,
    names: Sequence[Sequence[str]] | None = None,
) -> np.ndarray:
    """Texts' points: :func:`blend` of their sentence vectors and the word vectors of their
    ``tokens`` (with their ``titles`` and ``names``, see :func:`word_vectors`), computed only
    for the texts whose words weigh (not for fragments)."""
    share = _sentence_share(lengths)
    words = np.zeros((len(tokens), WORD_DIMS), dtype=np.float32)
    posts = np.flatnonzero(share < 1.0)
    if len(posts):
        words[posts] = word_vectors(
            [tokens[i] for i in posts],
            None if titles is None else [titles[i] for i in posts],
            None if names is None else [names[i] for i in posts],
        )
    return _side_by_side(sentences, words, share)


def _sentence_share(lengths: Sequence[int]) -> np.ndarray:
    return SENTENCE_SHARE + (1.0 - SENTENCE_SHARE) * shortness(lengths)


def _side_by_side(sentences: np.ndarray, words: np.ndarray, share: np.ndarray) -> np.ndarray:
    return np.hstack(
        [np.sqrt(share)[:, None] * sentences, np.sqrt(1.0 - share)[:, None] * words]
    ).astype(np.float32)


def sentence_part(vectors: np.ndarray) -> np.ndarray:
    """The sentence vectors back out of blended ones, at unit length (for a state built before
    words were part of the space)."""
    part = np.asarray(vectors[:, :-WORD_DIMS], dtype=np.float32)
    norm = np.linalg.norm(part, axis=1, keepdims=True)
    return (part / np.where(norm > 0, norm, 1.0)).astype(vectors.dtype)


def blended_mean(sentence_mean: np.ndarray, tokens: Sequence[Sequence[str]], lengths) -> np.ndarray:
    """The mean point of texts whose sentence vectors' mean is ``sentence_mean`` (each text's
    sentence part taken as that mean: exact for fragments, whose sentence share is 1)."""
    sentences = np.broadcast_to(sentence_mean, (len(tokens), len(sentence_mean)))
    return points(sentences, tokens, lengths).mean(axis=0)

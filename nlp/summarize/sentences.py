"""Sentences and key sentences: split texts, score sentences by how central they are, pick a few.

Pure functions over strings. ``key_sentences`` is the extractive selector used in drafts; ``lead``
and ``textrank`` are the baselines it is measured against (benchmarks/summarize.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "sentence_spans",
    "split_sentences",
    "strip_filler",
    "core_text",
    "key_sentences",
    "lead",
    "textrank",
]

_STRIP = " \t，,、：:“”\"'…"

# Greetings, self-introductions and closings that say nothing about the matter.
_FILLER = re.compile(
    r"(?:各位|尊敬的)?(?:代表|领导|书记|市长)?(?:您好|你好)|尊敬的[^，。！？]{0,10}|反映个?问题|请问"
    r"|我是[^，。！？]{0,12}?(?:住户|村民|居民|业主)|我是\[姓名\]|本人"
    r"|麻烦领导重视一下|希望尽快解决|盼回复|谢谢|大家意见都很大"
)


# "联系电话[电话]" and the like: contact details, not part of the matter.
_CONTACT = re.compile(
    r"(?:联系电话|联系方式|我的电话|我电话|电话|手机|座机|微信|邮箱)?[:：是]?\[(?:电话|邮箱|账号|身份证|银行卡)\]"
)


def strip_filler(text: str) -> str:
    """``text`` with greetings, self-introductions and closings replaced by a comma."""
    return _FILLER.sub("，", text)


# Punctuation left where a closing was taken out: a comma before a sentence's end ("打不通，。"
# of "打不通，盼回复。"), a second end ("请尽快修。！" of "请尽快修。谢谢！").
_DANGLING = re.compile(r"[，,、；;：:]+(?=[。！？!?])")
_TWICE = re.compile(r"(?<=[。！？!?])[。！？!?]+")


def core_text(text: str) -> str:
    """What an opinion says about its matter: no greetings, closings or contact details."""
    text = _DANGLING.sub("", _CONTACT.sub("", strip_filler(text)))
    return _TWICE.sub("", text).strip(_STRIP)


_END = re.compile(r"(?<=[。！？!?；;])|\n+")


def split_sentences(text: str, min_chars: int = 4) -> list[str]:
    """Sentences of ``text`` (split after 。！？；!?; and at line breaks), shorter ones dropped."""
    out = []
    for part in _END.split(text or ""):
        part = part.strip(_STRIP)
        if len(part) >= min_chars:
            out.append(part)
    return out


def sentence_spans(text: str, min_chars: int = 4) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence :func:`split_sentences` returns, in ``text``."""
    out = []
    position = 0
    for match in _END.finditer(text or ""):
        out.append((position, match.start()))
        position = match.end()
    out.append((position, len(text or "")))
    spans = []
    for start, end in out:
        part = text[start:end]
        left = len(part) - len(part.lstrip(_STRIP))
        right = len(part.rstrip(_STRIP))
        if right - left >= min_chars:
            spans.append((start + left, start + right))
    return spans


def _tfidf(sentences: Sequence[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True).fit_transform(
        sentences
    )


def key_sentences(
    sentences: Sequence[str],
    k: int = 3,
    positions: Sequence[int] | None = None,
    max_chars: int = 80,
    redundancy: float = 0.5,
) -> list[int]:
    """Indexes of the ``k`` most central, least redundant sentences, in order of choice.

    Centrality is the cosine of a sentence's character TF-IDF to the mean of all sentences; a
    sentence early in its text gets a small bonus; a candidate too similar (cosine above
    ``redundancy``) to one already chosen is skipped (maximal marginal relevance).

    Args:
        sentences: Candidate sentences.
        k: How many to pick.
        positions: Position of each sentence in its own text (0 = first); all 0 when ``None``.
        max_chars: Longer sentences are penalised in proportion.
        redundancy: Cosine above which a candidate repeats a chosen sentence.
    """
    n = len(sentences)
    if n == 0:
        return []
    if n == 1:
        return [0]
    matrix = _tfidf(sentences)
    centre = np.asarray(matrix.mean(axis=0)).ravel()
    centre /= np.linalg.norm(centre) or 1.0
    central = matrix @ centre
    position = np.asarray(positions if positions is not None else [0] * n, dtype=float)
    length = np.array([len(s) for s in sentences], dtype=float)
    score = central + 0.1 / (1.0 + position) - 0.1 * np.maximum(length - max_chars, 0) / max_chars
    # A candidate is compared with the few sentences chosen so far only (the cosines of every pair
    # of a cluster's thousands of sentences would be a dense matrix of gigabytes).
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        if not chosen or (matrix[i] @ matrix[chosen].T).toarray().max() <= redundancy:
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def lead(sentences: Sequence[str], k: int = 1) -> list[int]:
    """Baseline: the first ``k`` sentences."""
    return list(range(min(k, len(sentences))))


def textrank(
    sentences: Sequence[str], k: int = 1, damping: float = 0.85, iterations: int = 50
) -> list[int]:
    """Baseline: PageRank over the sentence-similarity graph (character TF-IDF cosine)."""
    n = len(sentences)
    if n <= 1:
        return list(range(n))
    matrix = _tfidf(sentences)
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, 0.0)
    totals = sims.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    transition = sims / totals
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        rank = (1 - damping) / n + damping * transition.T @ rank
    return [int(i) for i in np.argsort(-rank, kind="stable")[:k]]

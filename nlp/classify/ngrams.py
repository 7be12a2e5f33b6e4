"""TF-IDF of character and word n-grams, counted with numpy and stored as plain arrays.

The built-in model reads every row of an export twice over (its corpus features and, after
self-training, the batch's); scikit-learn's vectorisers look each n-gram up in a Python dict, about
0.4 ms for a 400-character message. Here a text's code points are packed into one integer per
n-gram (21 bits a character), so that all the n-grams of a block are looked up at once with
``np.searchsorted`` (about ten times faster), and the fitted state is a few arrays that load
without pickles, whatever the installed scikit-learn.

Weights as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``: ``1 + log(count)`` times the
smoothed idf ``1 + log((1 + n) / (1 + df))``, each row scaled to unit length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix

from nlp.core.errors import NotFittedError

__all__ = ["CharNgrams", "WordNgrams"]

_BITS = 21  # every Unicode code point fits
_SEPARATOR = 0  # between texts: no n-gram crosses it (normalised texts hold no NUL)
_SEP = "\x1f"  # between stored words (never part of a normalised text)


class CharNgrams:
    """Character n-grams of each text padded with a space at both ends.

    Args:
        max_n: The longest n-gram (at most 3: three characters fill 63 bits).
        min_df: Keep n-grams found in at least this many texts when fitting.
    """

    def __init__(self, max_n: int = 3, min_df: int = 1):
        if not 1 <= max_n <= 3:
            raise ValueError(f"max_n must be 1, 2 or 3, not {max_n}")
        self.max_n = max_n
        self.min_df = min_df

    def _codes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every n-gram's code and the row it comes from."""
        if not len(texts):
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        joined = "\0".join(f" {t} " for t in texts).lower()
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        row = np.cumsum(points == _SEPARATOR)
        codes, rows = [], []
        for n in range(1, self.max_n + 1):
            if len(points) < n:
                break
            code = points[: len(points) - n + 1].copy()
            inside = code != _SEPARATOR
            for k in range(1, n):
                nxt = points[k : len(points) - n + 1 + k]
                code = (code << np.uint64(_BITS)) | nxt
                inside &= nxt != _SEPARATOR
            codes.append(code[inside])
            rows.append(row[: len(points) - n + 1][inside])
        return np.concatenate(codes), np.concatenate(rows)

    def fit(self, texts: Sequence[str]) -> CharNgrams:
        codes, rows = self._codes(texts)
        # Each (text, n-gram) once, found by sorting on both keys (np.unique over the pairs
        # compares them as bytes, about ten times slower); then each n-gram's texts counted.
        order = np.lexsort((rows, codes))
        codes, rows = codes[order], rows[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (codes[1:] != codes[:-1]) | (rows[1:] != rows[:-1])
        vocabulary, df = np.unique(codes[first], return_counts=True)
        keep = df >= self.min_df
        self.codes_ = vocabulary[keep]
        self.idf_ = 1.0 + np.log((1 + len(texts)) / (1 + df[keep]))
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        if not hasattr(self, "codes_"):
            raise NotFittedError("CharNgrams is not fitted; call fit() first")
        codes, rows = self._codes(texts)
        if not len(self.codes_) or not len(codes):
            return _tfidf(rows[:0], rows[:0], len(texts), self.idf_)
        # Each distinct n-gram looked up once, in order (a sorted search is far kinder to the cache).
        distinct, inverse = np.unique(codes, return_inverse=True)
        where = np.minimum(np.searchsorted(self.codes_, distinct), len(self.codes_) - 1)
        known = (self.codes_[where] == distinct)[inverse]
        return _tfidf(rows[known], where[inverse][known], len(texts), self.idf_)

    def fit_transform(self, texts: Sequence[str]) -> csr_matrix:
        return self.fit(texts).transform(texts)

    @property
    def size(self) -> int:
        return len(self.codes_)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}codes": self.codes_,
            f"{prefix}idf": self.idf_,
            f"{prefix}max_n": np.array(self.max_n),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> CharNgrams:
        self = cls(int(arrays[f"{prefix}max_n"]))
        self.codes_, self.idf_ = (
            np.asarray(arrays[f"{prefix}codes"], dtype=np.uint64),
            np.asarray(arrays[f"{prefix}idf"], dtype=np.float64),
        )
        return self


class WordNgrams:
    """Word n-grams of texts given as their words.

    Args:
        max_n: 1 for words, 2 for words and pairs of neighbouring words.
        min_df: Keep n-grams found in at least this many texts when fitting.
    """

    def __init__(self, max_n: int = 1, min_df: int = 1):
        self.max_n = max_n
        self.min_df = min_df

    def _grams(self, words: Sequence[str]) -> list[str]:
        grams = list(words)
        if self.max_n >= 2:
            grams += [f"{a} {b}" for a, b in zip(words, words[1:])]
        return grams

    def fit(self, tokens: Sequence[Sequence[str]]) -> WordNgrams:
        df: dict[str, int] = {}
        for words in tokens:
            for gram in set(self._grams(words)):
                df[gram] = df.get(gram, 0) + 1
        names = sorted(g for g, c in df.items() if c >= self.min_df)
        self.vocabulary_ = {g: i for i, g in enumerate(names)}
        self.idf_ = 1.0 + np.log(
            (1 + len(tokens)) / (1 + np.array([df[g] for g in names], dtype=np.float64))
        )
        return self

    def transform(self, tokens: Sequence[Sequence[str]]) -> csr_matrix:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("WordNgrams is not fitted; call fit() first")
        vocabulary = self.vocabulary_
        rows, cols = [], []
        for k, words in enumerate(tokens):
            found = [vocabulary[g] for g in self._grams(words) if g in vocabulary]
            cols += found
            rows += [k] * len(found)
        return _tfidf(
            np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), len(tokens), self.idf_
        )

    def fit_transform(self, tokens: Sequence[Sequence[str]]) -> csr_matrix:
        return self.fit(tokens).transform(tokens)

    @property
    def size(self) -> int:
        return len(self.vocabulary_)

    @property
    def names(self) -> list[str]:
        return sorted(self.vocabulary_, key=self.vocabulary_.get)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}names": np.array(_SEP.join(self.names)),
            f"{prefix}idf": self.idf_,
            f"{prefix}max_n": np.array(self.max_n),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> WordNgrams:
        self = cls(int(arrays[f"{prefix}max_n"]))
        text = str(arrays[f"{prefix}names"])
        self.vocabulary_ = {g: i for i, g in enumerate(text.split(_SEP))} if text else {}
        self.idf_ = np.asarray(arrays[f"{prefix}idf"], dtype=np.float64)
        return self


def _tfidf(rows: np.ndarray, cols: np.ndarray, n: int, idf: np.ndarray) -> csr_matrix:
    """Rows of sublinear TF-IDF, each of unit length, from the (row, feature) of every occurrence."""
    width = max(len(idf), 1)
    pairs, count = np.unique(rows.astype(np.int64) * width + cols, return_counts=True)
    row, col = np.divmod(pairs, width)
    indptr = np.searchsorted(row, np.arange(n + 1))
    counts = csr_matrix(((1.0 + np.log(count)) * idf[col], col, indptr), shape=(n, len(idf)))
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    counts.data /= np.repeat(norms, np.diff(counts.indptr))
    return counts

"""Per-row results of a whole run, held without a Python object per row.

A run of a million rows holds every row's vector and words until its clusters are described. As
a dict of lists or of array views each row costs hundreds of bytes of object headers and pointers
on top of its data; these mappings keep the data in a few arrays and build a row's value when it
is asked for.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from nlp.classify import Prediction

__all__ = ["RowClasses", "RowVectors", "RowWords", "Spill", "centroids"]


class RowClasses:
    """Each row's class as the opinions table writes it: the level-1 and level-2 names (one string
    per name, shared by its rows), the confidence, and the keywords, alternatives and labels
    already joined into their cells; about a third of the memory of a Prediction per row. A row
    without a prediction (empty or unreadable) has empty cells."""

    def __init__(self) -> None:
        self.level1: list[str] = []
        self.level2: list[str] = []
        self.confidence = array("d")
        self.keywords: list[str] = []
        self.alternatives: list[str] = []
        self.labels: list[str] = []
        self._names: dict[str, str] = {}

    def extend(
        self,
        count: int,
        predictions: Mapping[int, Prediction],
        matters: Mapping[int, Sequence[str]],
    ) -> None:
        """Add ``count`` rows; ``predictions`` and ``matters`` (other level-1 classes a row raises)
        are keyed by the rows' positions among them."""
        names = self._names
        for i in range(count):
            p = predictions.get(i)
            if p is None:
                level1, level2, confidence, keywords, alternatives = "", "", 0.0, (), ()
            else:
                level1, level2, confidence, keywords, alternatives = (
                    p.level1,
                    p.level2,
                    p.confidence,
                    p.keywords,
                    p.alternatives,
                )
            self.level1.append(names.setdefault(level1, level1))
            self.level2.append(names.setdefault(level2, level2))
            self.confidence.append(confidence)
            self.keywords.append(" ".join(keywords))
            self.alternatives.append(
                "; ".join(f"{label} {prob:.2f}" for label, prob in alternatives)
            )
            self.labels.append(
                ";".join(dict.fromkeys([level1, *matters.get(i, [])])) if level1 else ""
            )


class RowVectors(Mapping):
    """Row number → its vector, read from one matrix whose row ``slots[k]`` belongs to row
    ``rows[k]`` (``rows`` ascending; ``slots``: ``k`` itself when ``None``, else rows that repeat
    another's text share its matrix row). A half-precision matrix gives single-precision rows."""

    def __init__(
        self,
        matrix: np.ndarray,
        rows: Sequence[int],
        slots: Sequence[int] | np.ndarray | None = None,
    ):
        self.matrix = matrix
        self.rows = np.asarray(rows, dtype=np.int64)
        self.slots = None if slots is None else np.asarray(slots, dtype=np.int64)

    def part(self, lo: int, hi: int) -> np.ndarray:
        """The vectors of ``rows[lo:hi]``, in single precision."""
        chosen = self.matrix[lo:hi] if self.slots is None else self.matrix[self.slots[lo:hi]]
        return chosen.astype(np.float32, copy=False)

    def _position(self, row: int) -> int:
        k = int(np.searchsorted(self.rows, row))
        return k if k < len(self.rows) and self.rows[k] == row else -1

    def __getitem__(self, row: int) -> np.ndarray:
        k = self._position(row)
        if k < 0:
            raise KeyError(row)
        return self.matrix[k if self.slots is None else self.slots[k]].astype(
            np.float32, copy=False
        )

    def __contains__(self, row: object) -> bool:
        return isinstance(row, (int, np.integer)) and self._position(int(row)) >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows.tolist())

    def __len__(self) -> int:
        return len(self.rows)


class RowWords(Mapping):
    """Row number → its words: every word an int32 id into one vocabulary, each row's words a
    slice of one array (about a third of the memory of a list of words per row).

    Built slot by slot with :meth:`extend`, then :meth:`finish` says which slot each row reads
    (rows that repeat another row's text share its slot). A row without words (not scored) is
    not in the mapping. A row's list is built anew each time it is read. With a ``spill`` the
    ids wait in it from :meth:`extend` to :meth:`finish` (the vocabulary stays in memory).
    """

    def __init__(self, spill: Spill | None = None) -> None:
        self._spill = spill
        self.vocabulary: list[str] = []
        self._index: dict[str, int] = {}
        self._parts: list[np.ndarray] = []
        self._lengths: list[int] = []
        self._ids = np.zeros(0, dtype=np.int32)
        self._starts = np.zeros(1, dtype=np.int64)
        self._present = np.zeros(0, dtype=bool)
        self._slot_of_row = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int64)

    def extend(self, slots: Sequence[Sequence[str] | None]) -> None:
        """Append the next slots' words (``None``: a slot without words)."""
        index = self._index
        ids = np.asarray(
            [
                index.setdefault(w, len(index))
                for words in slots
                if words is not None
                for w in words
            ],
            dtype=np.int32,
        )
        if self._spill is not None:
            self._spill.add(ids)
        else:
            self._parts.append(ids)
        self._lengths.extend(-1 if words is None else len(words) for words in slots)

    def finish(self, slot_of_row: Sequence[int] | np.ndarray) -> RowWords:
        """Fix the slots added so far; row ``r`` reads slot ``slot_of_row[r]``."""
        if self._spill is not None:
            self._parts, self._spill = list(self._spill.drain()), None
        self.vocabulary = list(self._index)  # ids were given in insertion order
        self._ids = np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.int32)
        lengths = np.asarray(self._lengths, dtype=np.int64)
        self._present = lengths >= 0
        self._starts = np.concatenate([[0], np.cumsum(np.maximum(lengths, 0))])
        self._slot_of_row = np.asarray(slot_of_row, dtype=np.int64)
        self._rows = (
            np.flatnonzero(self._present[self._slot_of_row])
            if len(self._slot_of_row)
            else np.zeros(0, dtype=np.int64)
        )
        self._parts, self._lengths = [], []
        return self

    def _slot(self, row: object) -> int:
        if not isinstance(row, (int, np.integer)) or not 0 <= row < len(self._slot_of_row):
            return -1
        slot = int(self._slot_of_row[row])
        return slot if self._present[slot] else -1

    def __getitem__(self, row: int) -> list[str]:
        slot = self._slot(row)
        if slot < 0:
            raise KeyError(row)
        vocabulary = self.vocabulary
        return [
            vocabulary[j] for j in self._ids[self._starts[slot] : self._starts[slot + 1]].tolist()
        ]

    def __contains__(self, row: object) -> bool:
        return self._slot(row) >= 0

    def id_runs(self, rows: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ids (in :attr:`vocabulary`) of the words of ``rows``, one row after another, and
        how many words each row has (0 for a row without words), without a list per row."""
        rows = np.asarray(rows, dtype=np.int64)
        known = (rows >= 0) & (rows < len(self._slot_of_row))
        slot = self._slot_of_row[np.where(known, rows, 0)] if len(self._slot_of_row) else rows * 0
        known &= self._present[slot] if len(self._present) else False
        starts = self._starts[slot]
        counts = np.where(known, self._starts[slot + 1] - starts, 0)
        # Row k's words are ids[starts[k] : starts[k] + counts[k]]: one gather for them all.
        before = np.cumsum(counts) - counts
        at = np.repeat(starts - before, counts) + np.arange(int(counts.sum()))
        return self._ids[at], counts

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.tolist())

    def __len__(self) -> int:
        return len(self._rows)


class Spill:
    """Values written to an unnamed temporary file as they come and read back once, in order:
    what a run holds of every row but reads only after its clusters are found (texts, words,
    classes) waits on disk while the clusters' index and search take memory.

    The file has no name on disk, so it is gone when closed or when the process dies.
    """

    def __init__(self, folder: str | Path | None = None):
        self._file = tempfile.TemporaryFile(prefix="minyi-spill-", dir=folder)
        self._count = 0

    def add(self, value: Any) -> None:
        pickle.dump(value, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def drain(self) -> Iterator[Any]:
        """Every value added, in order; the file is closed when the last one has been read."""
        self._file.flush()
        self._file.seek(0)
        try:
            for _ in range(self._count):
                yield pickle.load(self._file)
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()


def centroids(vectors: RowVectors, cluster: Sequence[str]) -> dict[str, np.ndarray]:
    """Cluster id → the mean of its rows' vectors (``cluster[row]`` names a row's cluster): sparse
    products over a slice of rows at a time, no copy of the vectors."""
    from scipy.sparse import csr_matrix

    if not len(vectors):
        return {}
    codes, names = pd.factorize(pd.Series([cluster[i] for i in vectors.rows.tolist()]), sort=True)
    counts = np.bincount(codes, minlength=len(names)).astype(np.float32)
    members = csr_matrix(
        (1 / counts[codes], (codes, np.arange(len(codes)))), shape=(len(names), len(codes))
    )
    means = np.zeros((len(names), vectors.matrix.shape[1]), dtype=np.float32)
    for lo in range(0, len(codes), 4096):  # rows a slice at a time, in single precision
        means += members[:, lo : lo + 4096] @ vectors.part(lo, lo + 4096)
    return dict(zip(names.tolist(), means))

"""Memory: rows of a large matrix taken in place, and freed memory given back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Sequence
from functools import cache

import numpy as np

__all__ = ["release_freed_memory", "take_rows"]


def take_rows(matrix: np.ndarray, rows: Sequence[int], step: int = 4096) -> np.ndarray:
    """``matrix[rows]`` for ascending ``rows``, moved to the top of ``matrix`` in place: the
    largest array of a run is not held twice. Row ``k`` takes row ``rows[k] >= k``, so a row is
    read before anything is written over it."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == len(matrix):
        return matrix
    for lo in range(0, len(rows), step):
        part = rows[lo : lo + step]
        matrix[lo : lo + len(part)] = matrix[part]
    return matrix[: len(rows)]


@cache
def _trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        return None


def release_freed_memory() -> None:
    """Give the memory that the C allocator holds free back to the system (glibc only).

    glibc keeps freed blocks for reuse, and after a large stage (faiss's index, the near-duplicate
    signatures, the table's columns) many of them sit free between live ones; the next stages,
    made of small Python objects, reuse little of it, so without this the process would hold
    the peak of every stage to the end (``benchmarks/memory.py`` measures the difference).
    """
    trim = _trim()
    if trim is not None:
        trim(0)

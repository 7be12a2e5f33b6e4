"""Near-duplicates: MinHash LSH over character shingles.

Two texts are near-duplicates when the Jaccard similarity of their character n-gram sets is at
least ``threshold``: texts that share a band of their MinHash signatures are candidates, and the
share of equal signature values (the Jaccard estimate) confirms them. Signatures are computed
with numpy a few thousand texts at a time (multiply-shift hashing of packed code points), so the
memory used stays small and cost grows about linearly with the number of texts. The number of
bands and rows per band is datasketch's choice for the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import numpy as np

from nlp.core.memory import take_rows

__all__ = ["near_duplicates", "shingles", "signatures"]

_NOT_WORD = re.compile(r"[\W_]+")
_SHINGLES_PER_STEP = (
    1 << 14
)  # shingles hashed in one numpy step (x num_perm x 8 bytes: 16 MiB; larger steps are slower, not faster)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_DENSE_BUCKET = (
    2048  # rows of an LSH bucket whose pairs are compared as one table (4 MB of answers)
)


def shingles(text: str, size: int = 3) -> set[str]:
    """Character n-grams of ``text`` without spaces and punctuation (the whole text when shorter)."""
    text = _NOT_WORD.sub("", text)
    if len(text) <= size:
        return {text} if text else set()
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def _packed_shingles(texts: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every shingle (as in :func:`shingles`) of texts already stripped of spaces and punctuation,
    none of them empty, as one 64-bit value each, the texts' one after another; and where each
    text's shingles begin. A shingle met twice in a text is there twice: a minimum is the same."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = np.minimum(lengths, size)  # a text shorter than a shingle is one shingle
    counts = lengths - width + 1
    begins = np.cumsum(lengths) - lengths  # each text's first character
    starts = np.cumsum(counts) - counts  # each text's first shingle
    at = np.arange(int(counts.sum())) - np.repeat(
        starts - begins, counts
    )  # each shingle's first character
    wide = np.repeat(width, counts)  # each shingle's width
    packed = np.zeros(len(at), dtype=np.uint64)
    for k in range(size):  # code points are at most 21 bits: three pack into 63 without loss
        inside = wide > k
        if inside.all():
            packed = packed * np.uint64(1 << 21) + codes[at + k]
        else:
            packed[inside] = packed[inside] * np.uint64(1 << 21) + codes[at[inside] + k]
    return packed, starts


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 63, size=num_perm, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(
    texts: Sequence[str], num_perm: int = 128, size: int = 3, seed: int = 1
) -> np.ndarray:
    """MinHash signatures (n, num_perm) uint32 of the texts' shingle sets; a text without shingles
    gets all-ones (it matches nothing, see :func:`near_duplicates`)."""
    return _signatures(
        (_NOT_WORD.sub("", t) if t else "" for t in texts), len(texts), num_perm, size, seed
    )


def _signatures(stripped: Iterable[str], n: int, num_perm: int, size: int, seed: int) -> np.ndarray:
    """Signatures of ``n`` texts already stripped of spaces and punctuation (read one at a time)."""
    a, b = _permutations(num_perm, seed)
    out = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    batch: list[str] = []
    rows: list[int] = []
    pending = 0

    buffer = np.empty((num_perm, 0), dtype=np.uint64)

    def flush() -> None:
        nonlocal buffer
        if not rows:
            return
        packed, starts = _packed_shingles(batch, size)
        values = packed * _MIX  # spread the packed code points over 64 bits
        if buffer.shape[1] < len(values):
            buffer = np.empty((num_perm, len(values)), dtype=np.uint64)
        # In place: three passes over one buffer, no temporaries. One permutation a row, so that
        # each text's shingles lie side by side: the minimum of each run is about 15 times faster
        # to take along rows than down columns, and the whole step about 4 times.
        permuted = buffer[:, : len(values)]
        np.multiply(a[:, None], values[None, :], out=permuted)
        permuted += b[:, None]
        permuted >>= np.uint64(32)
        out[rows] = np.minimum.reduceat(permuted, starts, axis=1).T
        batch.clear()
        rows.clear()

    for i, text in enumerate(stripped):
        if not text:
            continue
        batch.append(text)
        rows.append(i)
        pending += len(text)
        if pending >= _SHINGLES_PER_STEP:
            flush()
            pending = 0
    flush()
    return out


@lru_cache(maxsize=16)
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """LSH bands and rows for ``threshold``: datasketch's own choice, worked out once (it
    integrates numerically and costs tens of milliseconds, more than a small batch itself)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def near_duplicates(
    texts: Sequence[str | None],
    threshold: float = 0.8,
    num_perm: int = 128,
    size: int = 3,
    seed: int = 1,
    same_as: Sequence[int] | np.ndarray | None = None,
) -> list[int | None]:
    """For each text, the position of the first earlier text it nearly duplicates, else ``None``.

    Links are followed to the first member of a group, so every member of a group points at the
    same earliest text. ``None`` or empty texts are never near-duplicates.

    Args:
        texts: Normalised texts.
        threshold: Minimum estimated Jaccard similarity of shingle sets.
        num_perm: MinHash permutations (more: slower, more exact).
        size: Shingle length in characters.
        seed: Seed of the hash permutations, for the same result run after run.
        same_as: For each text, the position of an earlier one known to be the same text, or its
            own: a repeat is not hashed again and joins that text's group (the result is the
            same as without it).
    """
    n = len(texts)
    own = (
        np.ones(n, dtype=bool)
        if same_as is None
        else np.asarray(same_as, dtype=np.int64) == np.arange(n)
    )
    # Stripped one text at a time as the signatures are made (a list of them all would hold a
    # second copy of every text): the texts left with something to compare.
    live_rows: list[int] = []

    def stripped() -> Iterator[str]:
        for i, t in enumerate(texts):
            s = _NOT_WORD.sub("", t) if t and own[i] else ""
            if s:
                live_rows.append(i)
                yield s

    # One signature per text that is not a repeat (a million rows that repeat 439,000 texts would
    # otherwise hold 225 MB of signatures that are never filled).
    sig = _signatures(stripped(), int(np.count_nonzero(own)), num_perm, size, seed)
    live = np.array(live_rows, dtype=np.int64)
    sig = sig[: len(live)]
    parent = np.arange(n)
    if len(live) > 1:
        # Texts with the same signature are one text from here on (exact repeats are common).
        first, inverse = _distinct(sig)
        links = _linked(take_rows(sig, first), *_bands(threshold, num_perm), threshold)
        for k, j in enumerate(inverse):  # every text to the first text of its group
            parent[live[k]] = live[first[links[j]]]
    if same_as is not None and len(live):
        # Repeats follow the text they repeat (an earlier row, already pointing at its group's first).
        repeat = np.flatnonzero(~own)
        of = np.asarray(same_as, dtype=np.int64)[repeat]
        compared = np.zeros(n, dtype=bool)
        compared[live] = True
        parent[repeat[compared[of]]] = parent[of[compared[of]]]
    out: list[int | None] = []
    for i in range(n):
        r = int(parent[i])
        out.append(r if r != i else None)
    return out


def _distinct(
    sig: np.ndarray, step: int = 1 << 16, multipliers: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``sig`` in order of first appearance: where each first appears
    (ascending), and for every row which of them it is. Rows are grouped by a 64-bit hash (its
    ``multipliers``: seeded odd numbers when ``None``) and every row is then checked against its
    group's first, so the grouping is exact; it needs a few bytes a row, where sorting the rows
    themselves copies them all."""
    n = len(sig)
    if multipliers is None:
        multipliers = np.random.default_rng(7).integers(
            1, 1 << 63, size=sig.shape[1], dtype=np.uint64
        ) | np.uint64(1)
    _, first, inverse = np.unique(
        _row_hashes(sig, multipliers, step), return_index=True, return_inverse=True
    )
    inverse = inverse.reshape(-1)
    if not all(
        np.array_equal(sig[lo : lo + step], sig[first[inverse[lo : lo + step]]])
        for lo in range(0, n, step)
    ):
        # Two different signatures with one hash: group the rows themselves.
        _, first, inverse = np.unique(sig, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")  # in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse]


def _row_hashes(values: np.ndarray, multipliers: np.ndarray, step: int = 1 << 16) -> np.ndarray:
    """One 64-bit hash per row of ``values``: the sum of its values times ``multipliers``, modulo
    2**64 (a part of the rows at a time, so no 64-bit copy of them all is made)."""
    keys = np.empty(len(values), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for lo in range(0, len(values), step):
            keys[lo : lo + step] = (values[lo : lo + step].astype(np.uint64) * multipliers).sum(
                axis=1
            )
    return keys


def _linked(sig: np.ndarray, bands: int, rows: int, threshold: float) -> np.ndarray:
    """For each signature, the smallest position in its group: signatures are joined when they
    share a band and their estimated Jaccard similarity reaches ``threshold``."""
    from scipy.sparse.csgraph import connected_components

    parent = np.arange(len(sig))
    need = threshold * sig.shape[1]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    rng = np.random.default_rng(0)
    for band in range(bands):
        multipliers = rng.integers(1, 1 << 63, size=rows, dtype=np.uint64) | np.uint64(1)
        keys = _row_hashes(sig[:, band * rows : (band + 1) * rows], multipliers)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(order)]
        # Every row's group as the band begins (each pointing straight at it); a bucket all of
        # one group already (an earlier band joined them) has nothing to join.
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
        of = parent[order]
        open_ = (ends - starts > 1) & (
            np.minimum.reduceat(of, starts) != np.maximum.reduceat(of, starts)
        )
        for lo, hi in zip(starts[open_], ends[open_]):
            members = order[lo:hi]  # ascending: argsort is stable
            if hi - lo == 2 or hi - lo > _DENSE_BUCKET:
                # A pair at a time (a pair's two rows, or a bucket too large for a table of its pairs).
                for x, i in enumerate(members[1:], 1):
                    for j in members[:x]:
                        a, b = root(i), root(j)
                        if a != b and np.count_nonzero(sig[i] == sig[j]) >= need:
                            parent[max(a, b)] = min(a, b)
                continue
            # Which pairs of the bucket are alike, all at once; the groups they make are joined.
            group = sig[members]
            alike = np.zeros((len(members), len(members)), dtype=bool)
            step = max(
                1, (1 << 22) // (len(members) * sig.shape[1])
            )  # about 4 MB compared at a time
            for a in range(0, len(members), step):
                alike[a : a + step] = (
                    np.count_nonzero(group[a : a + step, None, :] == group[None, :, :], axis=2)
                    >= need
                )
            count, labels = connected_components(alike, directed=False)
            if count == len(members):
                continue
            for label in np.unique(labels[np.bincount(labels)[labels] > 1]):
                tops = {
                    root(int(i)) for i in members[labels == label]
                }  # afresh: a group just joined may share one
                top = min(tops)
                for r in tops:
                    parent[r] = top
    return np.array([root(i) for i in range(len(sig))])

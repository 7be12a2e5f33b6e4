"""Near-duplicates: MinHash LSH over character shingles (datasketch).

Two texts are near-duplicates when the Jaccard similarity of their character n-gram sets is at
least ``threshold`` (the LSH finds candidates, the estimate from the signatures confirms them).
Cost grows about linearly with the number of texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["near_duplicates", "shingles"]

_NOT_WORD = re.compile(r"[\W_]+")


def shingles(text: str, size: int = 3) -> set[str]:
    """Character n-grams of ``text`` without spaces and punctuation (the whole text when shorter)."""
    text = _NOT_WORD.sub("", text)
    if len(text) <= size:
        return {text} if text else set()
    return {text[i : i + size] for i in range(len(text) - size + 1)}


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
    """
    from datasketch import MinHash, MinHashLSH

    sets = [shingles(t, size) if t else set() for t in texts]
    live = [i for i, s in enumerate(sets) if s]
    signatures = MinHash.bulk([[s.encode("utf-8") for s in sets[i]] for i in live], num_perm=num_perm, seed=seed)
    signature_of = dict(zip(live, signatures))
    lsh = MinHashLSH(num_perm=num_perm, params=_bands(threshold, num_perm))
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, sig in zip(live, signatures):
        for j in lsh.query(sig):
            if sig.jaccard(signature_of[j]) >= threshold:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(i, sig)
    out: list[int | None] = []
    for i in range(len(texts)):
        r = root(i)
        out.append(r if r != i else None)
    return out


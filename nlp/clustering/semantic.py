"""Same-issue clusters from sentence vectors, with places as evidence.

The math takes arrays (``cluster_vectors``); the encoder is called elsewhere, so precomputed
vectors work too. Cost: exact top-k neighbours by blocked matrix products (fast BLAS, no n x n
matrix held in memory), then centroid linkage over the k-nearest-neighbour edges, so clusters do
not chain through a string of loosely related texts.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

import numpy as np

__all__ = ["top_neighbours", "cluster_vectors", "compatible"]


_NONE: frozenset[str] = frozenset()

EXACT_LIMIT = 20_000
"""Above this many rows neighbours are approximate (faiss IVF), so cost grows about linearly."""

TRAIN_PER_LIST = 40
"""Rows of the k-means sample per inverted list of the approximate search (faiss wants 39). On
the 560,685 distinct opinions of a million generated rows, checked on 2,000 of them against an
exact search, 64 a list found 99.10% of the top 10 and 40 found 98.99%; the sample (in single
precision: 392 MB at 64 a list) was the largest thing made while the neighbours were found."""

CANDIDATES = 10
"""Candidates per neighbour sought that the approximate search's fast 4-bit codes put forward,
to be ranked again with 8-bit codes (see :func:`_faiss_neighbours`). Many near-copies of one
text tie under the coarse codes: at 6 a search of 3,000 rows in 40 tight groups found 83% of
the exact top 5, at 10 or more 98%; at a million generated rows 6 and 10 cost 77 and 85 s."""

BLOCK_CELLS = 4_000_000
"""Similarities held at once by the exact search (each costs 12 bytes with its sort)."""


def top_neighbours(
    vectors: np.ndarray, k: int = 10, block: int | None = None, exact_limit: int = EXACT_LIMIT
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other rows of each row of unit-length ``vectors``.

    Exact (blocked matrix products) up to ``exact_limit`` rows; above it, approximate with a
    faiss inverted-file index (seeded k-means, so the same input gives the same neighbours).
    ``block``: rows per matrix product; by default as many as keep it near BLOCK_CELLS cells.

    Returns:
        ``(index, similarity)``, each of shape (n, k'), k' = min(k, n - 1), best first.
    """
    n = len(vectors)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if n > exact_limit:
        return _faiss_neighbours(vectors, k)
    vectors = np.asarray(vectors, dtype=np.float32)  # at most exact_limit rows
    block = block or max(64, BLOCK_CELLS // n)
    index = np.empty((n, k), dtype=np.int64)
    sims = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        s = vectors[lo:hi] @ vectors.T
        s[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
        part = np.argpartition(s, n - k, axis=1)[:, n - k :]
        part_sims = np.take_along_axis(s, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)  # best first, ties by index
        index[lo:hi] = np.take_along_axis(part, order, axis=1)
        sims[lo:hi] = np.take_along_axis(part_sims, order, axis=1)
    return index, sims


def _faiss_neighbours(
    vectors: np.ndarray,
    k: int,
    probe: int = 32,
    seed: int = 1234,
    chunk: int = 1024,
    spare: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate neighbours in three rounds, each on fewer rows with finer vectors:

    1. an inverted-file index of 4-bit product-quantised codes (faiss's fast-scan kernels, a
       quarter of a byte a dimension) puts forward ``CANDIDATES`` × (k + 1 + spare) rows from the
       ``probe`` nearest lists;
    2. their similarities from 8-bit codes of the vectors (one byte a dimension, a quarter of a
       single-precision copy) keep the best k + 1 + spare;
    3. their exact similarities from ``vectors`` (single or half precision; passed to faiss a
       part at a time in single precision, never copied whole) keep the best ``k``.

    On the 560,934 distinct opinions of a million generated rows this took 89 s on 2 cores and
    found 98.47% of the exact top 10 (2,000 rows checked); an inverted file of 8-bit codes
    searched directly took 187 s, found as many, and gave the same 10 neighbours but for 0.002%."""
    import faiss

    n, d = vectors.shape
    wide_d = (
        -(-d // 8) * 8
    )  # zero columns to a multiple of 8 (the codes' sub-vectors and their pairs); products unchanged
    lists = max(1, int(min(4 * np.sqrt(n), n / 64)))  # faiss wants >= 39 training points a list
    step = 8 * chunk  # rows given to faiss at once

    def single(
        lo: int,
    ) -> np.ndarray:  # rows lo … lo + step, in single precision as faiss takes them
        rows = vectors[lo : lo + step]
        out = np.zeros((len(rows), wide_d), dtype=np.float32)
        out[:, :d] = rows
        return out

    # Trained on a fixed, seeded sample so the partition (and so the neighbours) is reproducible.
    # (At least 1,024 rows: the 4-bit codebooks want 39 a code.)
    chosen = np.random.default_rng(seed).choice(
        n, size=min(n, max(lists * TRAIN_PER_LIST, 1 << 10)), replace=False
    )
    sample = np.zeros((len(chosen), wide_d), dtype=np.float32)
    for lo in range(
        0, len(chosen), step
    ):  # filled a part at a time: no half-precision copy of it all
        sample[lo : lo + step, :d] = vectors[chosen[lo : lo + step]]
    quantizer = faiss.IndexFlatIP(wide_d)
    clustering = faiss.Clustering(wide_d, lists)
    clustering.seed = seed
    clustering.niter = 10
    clustering.train(sample, quantizer)
    fast = faiss.IndexIVFPQFastScan(
        quantizer, wide_d, lists, wide_d // 4, 4, faiss.METRIC_INNER_PRODUCT
    )
    fast.train(
        sample[: 1 << 16]
    )  # the quantizer is trained already: this learns the 4-bit codebooks
    finer = faiss.IndexScalarQuantizer(
        wide_d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    finer.train(sample[:4096])  # each dimension's range (more rows found no more neighbours)
    del sample
    _fill(fast, finer, n, single, step)
    index = faiss.IndexRefine(fast, finer)
    params = faiss.IndexRefineSearchParameters(
        k_factor=CANDIDATES, base_index_params=faiss.SearchParametersIVF(nprobe=probe)
    )
    # Searched a part at a time: faiss's working arrays grow with the rows searched at once.
    # Candidates are kept as 32-bit row numbers (half of faiss's 64-bit labels).
    wide = np.int32 if n < 2**31 else np.int64
    found = np.empty((n, k + 1 + spare), dtype=wide)
    for lo in range(0, n, step):
        found[lo : lo + step] = index.search(single(lo), k + 1 + spare, params=params)[1]
    del index, fast, finer, quantizer
    # The candidates' exact similarities and the best k, a part of the rows at a time.
    out_index = np.empty((n, k), dtype=np.int64)
    out_sims = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, chunk):
        part = found[lo : lo + chunk]
        own = np.arange(lo, lo + len(part))[:, None]
        exact = np.einsum(
            "id,ikd->ik",
            vectors[lo : lo + chunk].astype(np.float32),
            vectors[np.maximum(part, 0)].astype(np.float32),
        )
        sims = np.where(part >= 0, exact, -np.inf).astype(np.float32)
        part = np.where(part >= 0, part, own)  # fewer than k + 1 found
        sims[part == own] = -np.inf  # not its own neighbour
        order = np.lexsort((part, -sims), axis=1)[:, :k]  # best first, ties by index
        out_index[lo : lo + chunk] = np.take_along_axis(part, order, axis=1)
        out_sims[lo : lo + chunk] = np.take_along_axis(sims, order, axis=1)
    return out_index, out_sims


def _fill(fast, finer, n: int, single, step: int) -> None:
    """Add rows 0 … n - 1 (``single(lo)`` gives rows lo … lo + step) to the index ``fast`` and
    to the flat 8-bit index ``finer``, whose codes are written into storage sized once: adding
    them a part at a time grows it by doubling, for a while holding the old copy and the new
    (at a million generated rows 287 MB of codes)."""
    import faiss

    finer.codes.resize(n * finer.code_size)
    codes = faiss.rev_swig_ptr(finer.codes.data(), n * finer.code_size).reshape(n, finer.code_size)
    for lo in range(0, n, step):
        rows = single(lo)
        fast.add(rows)
        codes[lo : lo + len(rows)] = finer.sa_encode(rows)
    finer.ntotal = n


def compatible(a: set[str], b: set[str]) -> bool:
    """Whether two opinions or clusters may be about one issue, judging by what they name: not
    when both name places, organisations or lines and none of them in common."""
    return not (a and b and not (a & b))


def cluster_vectors(
    vectors: np.ndarray,
    threshold: float = 0.6,
    k: int = 10,
    places: Sequence[set[str]] | None = None,
    groups: Sequence[int | None] | None = None,
    anchors: Sequence[str | Set[str]] | None = None,
    shared_bonus: float = 0.1,
    weights: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Cluster unit-length vectors; returns a label per row (the smallest row of its cluster).

    Args:
        vectors: (n, d) unit-length rows.
        threshold: Two clusters merge when the cosine of their centroids is at least this.
        k: Neighbours per row considered for merging.
        places: What each row is about beyond its words: places, organisations, bus lines. Two
            clusters that both name some, none in common, are about different things and never
            merge.
        groups: Rows that must share a cluster whatever their vectors (for each row, the first
            row of its duplicate group, or ``None``).
        anchors: The place each row was recorded at by staff (the export's place column), or
            empty (or a set of such places, for a row that stands for several). Two clusters
            recorded at the same place merge at ``threshold - shared_bonus``: a place someone
            entered is firmer evidence than one read from the text.
        shared_bonus: See ``anchors``.
        weights: How many opinions each row stands for (a text sent several times is one row):
            a cluster's centroid weighs its rows by them. 1 each when ``None``.
    """
    vectors = np.asarray(vectors)
    n = len(vectors)
    parent = np.arange(n)
    # Sums of the vectors of the clusters formed so far (float64, so sums do not drift); a row
    # still alone is its own vector, so only merged clusters take memory. Likewise a row's places
    # and anchor are read from the arguments until its cluster merges (no set per row).
    total: dict[int, np.ndarray] = {}
    where: list[Set[str]] = list(places) if places is not None else [_NONE] * n
    anchored: dict[int, Set[str]] = {}

    def anchor(a: int) -> Set[str]:
        found = anchored.get(a)
        if found is not None:
            return found
        given = anchors[a] if anchors is not None else ""
        return given if isinstance(given, frozenset) else frozenset((given,)) if given else _NONE

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    def summed(a: int) -> np.ndarray:
        found = total.get(a)
        if found is not None:
            return found
        return vectors[a].astype(np.float64) * (weights[a] if weights is not None else 1)

    def join(a: int, b: int) -> None:
        a, b = min(a, b), max(a, b)
        parent[b] = a
        total[a] = summed(a) + summed(b)
        total.pop(b, None)
        where[a] = where[a] | where[b]
        anchored[a] = anchor(a) | anchor(b)
        anchored.pop(b, None)

    if groups is not None:
        for i, g in enumerate(groups):
            if g is not None and root(i) != root(g):
                join(root(i), root(g))
    index, sims = top_neighbours(vectors, k)
    floor = threshold - shared_bonus if anchors is not None else threshold
    # Each pair once (from its smaller row), most similar first, ties by rows.
    rows = np.broadcast_to(np.arange(n)[:, None], index.shape)
    keep = (sims >= floor) & (rows < index)
    first, second, similarity = rows[keep], index[keep], sims[keep]
    for e in np.lexsort((second, first, -similarity)):
        a, b = root(int(first[e])), root(int(second[e]))
        if a == b:
            continue
        if not compatible(where[a], where[b]):
            continue
        need = floor if anchor(a) & anchor(b) else threshold
        ca, cb = summed(a), summed(b)
        if ca @ cb / (np.linalg.norm(ca) * np.linalg.norm(cb) + 1e-12) >= need:
            join(a, b)
    return np.array([root(i) for i in range(n)])

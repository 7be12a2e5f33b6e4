"""Same-issue clusters from sentence vectors, with places as evidence.

The math takes arrays (``cluster_vectors``); the encoder is called elsewhere, so precomputed
vectors work too. Cost: exact top-k neighbours by blocked matrix products (fast BLAS, no n x n
matrix held in memory), then centroid linkage over the k-nearest-neighbour edges, so clusters do
not chain through a string of loosely related texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["top_neighbours", "cluster_vectors", "compatible"]


EXACT_LIMIT = 20_000
"""Above this many rows neighbours are approximate (faiss IVF), so cost grows about linearly."""


def top_neighbours(vectors: np.ndarray, k: int = 10, block: int = 2048, exact_limit: int = EXACT_LIMIT) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other rows of each row of unit-length ``vectors``.

    Exact (blocked matrix products) up to ``exact_limit`` rows; above it, approximate with a
    faiss inverted-file index (seeded k-means, so the same input gives the same neighbours).

    Returns:
        ``(index, similarity)``, each of shape (n, k'), k' = min(k, n - 1), best first.
    """
    n = len(vectors)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if n > exact_limit:
        return _faiss_neighbours(np.ascontiguousarray(vectors, dtype=np.float32), k)
    index = np.empty((n, k), dtype=np.int64)
    sims = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        s = vectors[lo:hi] @ vectors.T
        s[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(s, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)  # best first, ties by index
        index[lo:hi] = np.take_along_axis(part, order, axis=1)
        sims[lo:hi] = np.take_along_axis(part_sims, order, axis=1)
    return index, sims


def _faiss_neighbours(vectors: np.ndarray, k: int, probe: int = 32, seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    n, d = vectors.shape
    lists = max(1, int(min(4 * np.sqrt(n), n / 64)))  # faiss wants >= 39 training points a list
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, lists, faiss.METRIC_INNER_PRODUCT)
    # Train on a fixed, seeded sample so the partition (and so the neighbours) is reproducible.
    sample = vectors[np.random.default_rng(seed).choice(n, size=min(n, lists * 64), replace=False)]
    clustering = faiss.Clustering(d, lists)
    clustering.seed = seed
    clustering.niter = 10
    clustering.train(sample, quantizer)
    index.is_trained = True
    index.add(vectors)
    index.nprobe = probe
    sims, found = index.search(vectors, k + 1)
    keep = found != np.arange(n)[:, None]  # drop each row itself
    out_index = np.empty((n, k), dtype=np.int64)
    out_sims = np.empty((n, k), dtype=np.float32)
    for i in range(n):
        row, row_sims = found[i][keep[i]][:k], sims[i][keep[i]][:k]
        out_index[i, : len(row)], out_sims[i, : len(row)] = row, row_sims
        out_index[i, len(row) :], out_sims[i, len(row) :] = i, -np.inf  # fewer than k found
    return out_index, out_sims


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
    anchors: Sequence[str] | None = None,
    shared_bonus: float = 0.1,
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
            empty. Two clusters recorded at the same place merge at ``threshold - shared_bonus``:
            a place someone entered is firmer evidence than one read from the text.
        shared_bonus: See ``anchors``.
    """
    n = len(vectors)
    parent = np.arange(n)
    total = np.array(vectors, dtype=np.float64)
    where: list[set[str]] = [set(p) for p in places] if places is not None else [set() for _ in range(n)]
    anchored: list[set[str]] = [{a} if a else set() for a in anchors] if anchors is not None else [set() for _ in range(n)]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    def join(a: int, b: int) -> None:
        a, b = min(a, b), max(a, b)
        parent[b] = a
        total[a] += total[b]
        where[a] |= where[b]
        anchored[a] |= anchored[b]

    if groups is not None:
        for i, g in enumerate(groups):
            if g is not None and root(i) != root(g):
                join(root(i), root(g))
    index, sims = top_neighbours(np.asarray(vectors, dtype=np.float32), k)
    floor = threshold - shared_bonus if anchors is not None else threshold
    edges = [
        (float(sims[i, j]), i, int(index[i, j]))
        for i in range(n)
        for j in range(index.shape[1])
        if sims[i, j] >= floor and i < index[i, j]
    ]
    edges.sort(key=lambda e: (-e[0], e[1], e[2]))
    for _, i, j in edges:
        a, b = root(i), root(j)
        if a == b:
            continue
        if not compatible(where[a], where[b]):
            continue
        need = floor if anchored[a] & anchored[b] else threshold
        ca, cb = total[a], total[b]
        if ca @ cb / (np.linalg.norm(ca) * np.linalg.norm(cb) + 1e-12) >= need:
            join(a, b)
    return np.array([root(i) for i in range(n)])

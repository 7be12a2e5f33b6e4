"""Same-issue clusters from sentence vectors, with the classifier's topics, the texts' lengths
and the places they name as further evidence (:mod:`nlp.clustering.evidence`).

The math takes arrays (``cluster_vectors``); the encoder and the classifier are called elsewhere,
so precomputed vectors and classes work too. Cost: exact top-k neighbours by blocked matrix
products (fast BLAS, no n x n matrix held in memory), then average linkage over the
k-nearest-neighbour edges, so clusters do not chain through a string of loosely related texts.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

import numpy as np

from nlp.clustering.evidence import FITTED_RULE, Evidence, MergeRule, shortness
from nlp.clustering.places import place_names

__all__ = ["top_neighbours", "cluster_vectors", "MergeRule", "FITTED_RULE"]


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
    vectors: np.ndarray,
    k: int = 10,
    block: int | None = None,
    exact_limit: int = EXACT_LIMIT,
    search_dims: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other rows of each row of unit-length ``vectors``.

    Exact (blocked matrix products) up to ``exact_limit`` rows; above it, approximate with a
    faiss inverted-file index (seeded k-means, so the same input gives the same neighbours).
    ``block``: rows per matrix product; by default as many as keep it near BLOCK_CELLS cells.
    ``search_dims``: above ``exact_limit``, candidates are put forward by the first this many
    dimensions alone (each row's part at unit length: a run's sentence vectors, without the
    words beside them), then ranked by the whole vectors; all of them when ``None``.

    Returns:
        ``(index, similarity)``, each of shape (n, k'), k' = min(k, n - 1), best first.
    """
    n = len(vectors)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if n > exact_limit:
        return _faiss_neighbours(vectors, k, search_dims=search_dims)
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
    search_dims: int | None = None,
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
    if search_dims is not None and search_dims < d:
        # Put forward by the leading dimensions, ranked by all of them.
        d = search_dims
    # Zero columns to a multiple of 8 (the codes' sub-vectors and their pairs): products unchanged.
    wide_d = -(-d // 8) * 8
    lists = max(1, int(min(4 * np.sqrt(n), n / 64)))  # faiss wants >= 39 training points a list
    step = 8 * chunk  # rows given to faiss at once

    def single(lo: int) -> np.ndarray:
        """Rows lo … lo + step, in single precision as faiss takes them."""
        rows = vectors[lo : lo + step, :d]
        out = np.zeros((len(rows), wide_d), dtype=np.float32)
        out[:, :d] = rows
        if d < vectors.shape[1]:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    # Trained on a fixed, seeded sample so the partition (and so the neighbours) is reproducible.
    # (At least 1,024 rows: the 4-bit codebooks want 39 a code.)
    chosen = np.random.default_rng(seed).choice(
        n, size=min(n, max(lists * TRAIN_PER_LIST, 1 << 10)), replace=False
    )
    sample = np.zeros((len(chosen), wide_d), dtype=np.float32)
    # Filled a part at a time: no half-precision copy of it all.
    for lo in range(0, len(chosen), step):
        sample[lo : lo + step, :d] = vectors[chosen[lo : lo + step], :d]
    if d < vectors.shape[1]:
        sample /= np.maximum(np.linalg.norm(sample, axis=1, keepdims=True), 1e-12)
    quantizer = faiss.IndexFlatIP(wide_d)
    clustering = faiss.Clustering(wide_d, lists)
    clustering.seed = seed
    clustering.niter = 10
    clustering.train(sample, quantizer)
    fast = faiss.IndexIVFPQFastScan(
        quantizer, wide_d, lists, wide_d // 4, 4, faiss.METRIC_INNER_PRODUCT
    )
    # The quantizer is trained already: this learns the 4-bit codebooks.
    fast.train(sample[: 1 << 16])
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


def cluster_vectors(
    vectors: np.ndarray,
    threshold: float | None = None,
    k: int = 10,
    places: Sequence[Set[str]] | None = None,
    groups: Sequence[int | None] | None = None,
    anchors: Sequence[str | Set[str]] | None = None,
    shared_bonus: float = 0.1,
    weights: Sequence[int] | np.ndarray | None = None,
    *,
    topics: Sequence[str] | None = None,
    confidence: Sequence[float] | np.ndarray | None = None,
    lengths: Sequence[int] | np.ndarray | None = None,
    rule: MergeRule | None = None,
    search_dims: int | None = None,
) -> np.ndarray:
    """Cluster unit-length vectors; returns a label per row (the smallest row of its cluster).

    Each row's ``k`` nearest neighbours are the candidate pairs, tried most likely first; two
    clusters merge when :class:`~nlp.clustering.evidence.MergeRule` says so, from their vectors
    (by default the mean cosine over their pairs of members, so that clusters do not chain through
    a string of loosely related texts), their members' level-2 topics and lengths, and the places
    they name.

    Args:
        vectors: (n, d) unit-length rows, centred for the batch.
        threshold: The merge threshold for posts; the one for fragments moves with it (higher
            for finer issues, lower for coarser ones). The rule's own when ``None``. It is
            what two rows that name one place must reach: rows that name no place (or without
            ``places``) must reach it plus the rule's ``unnamed`` weight (see
            :class:`~nlp.clustering.evidence.MergeRule`).
        k: Neighbours per row considered for merging.
        places: What each row names beyond its words: places, organisations, bus lines. Two
            clusters whose members mostly name places, none of them in common, are about
            different things and never merge; nor do two clusters of which two members, one
            from each, name places and none in common.
        groups: Rows that share a cluster whatever their vectors (for each row, the first row
            of its duplicate group, or ``None``), unless they name places and none in common.
        anchors: The place each row was recorded at by staff (the export's place column), or
            empty (or a set of such places, for a row that stands for several). Two clusters
            recorded at the same place merge at ``shared_bonus`` below the threshold: a place
            someone entered is firmer evidence than one read from the text.
        shared_bonus: See ``anchors``.
        weights: How many opinions each row stands for (a text sent several times is one row).
            1 each when ``None``.
        topics: Each row's level-2 class from the classifier ('' for none).
        confidence: The classifier's confidence in each row's class; 1 each when ``None``.
        lengths: Each row's length in characters (what was said, without greetings or contact
            details); every row counts as a post when ``None``.
        rule: The merge rule; :data:`~nlp.clustering.evidence.FITTED_RULE` when ``None``.
        search_dims: See :func:`top_neighbours` (the sentence part of a run's points).
    """
    vectors = np.asarray(vectors)
    n = len(vectors)
    rule = (rule or FITTED_RULE).with_threshold(threshold)
    weight = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    short = shortness(lengths) if lengths is not None else np.zeros(n)
    codes = _codes(topics, n)
    sure = np.ones(n) if confidence is None else np.asarray(confidence, dtype=np.float64)
    sure = np.nan_to_num(sure)  # no confidence: no topic
    keys, names = place_names(places) if places is not None else ([_NONE] * n, None)
    evidence = Evidence(weight, codes, sure, short, keys, rule.place_share, names)
    average = rule.linkage == "average"
    parent = list(range(n))  # a list: read element by element, faster than an array
    # Sums of the vectors of the clusters formed so far (float64, so sums do not drift); a row
    # still alone is its own vector, so only merged clusters take memory.
    total: dict[int, np.ndarray] = {}
    # Of each merged cluster, for the rule's relative test: its sum's squared length, and the
    # sum of its points' weights squared (pairs of one text's copies, left out of its own mean).
    inner: dict[int, tuple[float, float]] = {}
    relative = average and bool(rule.relative_long or rule.relative_short)
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
        return i

    def summed(a: int) -> np.ndarray:
        found = total.get(a)
        if found is not None:
            return found
        return vectors[a].astype(np.float64) * weight[a]

    def join(a: int, b: int, copies: bool = False) -> None:
        """Cluster ``b`` joins cluster ``a``; ``copies``: they are one text said again (near
        duplicates), whose pairs the relative test leaves out as it does exact copies'."""
        a, b = min(a, b), max(a, b)
        parent[b] = a
        total[a] = summed(a) + summed(b)
        total.pop(b, None)
        if relative:
            _, qa = inner.get(a, (0.0, weight[a] ** 2))
            _, qb = inner.pop(b, (0.0, weight[b] ** 2))
            both = evidence.weight[a] + evidence.weight[b]
            inner[a] = (float(total[a] @ total[a]), float(both * both if copies else qa + qb))
        evidence.join(a, b)
        anchored[a] = anchor(a) | anchor(b)
        anchored.pop(b, None)

    def margin(a: int, b: int) -> float:
        """By how much clusters ``a`` and ``b`` pass the rule (< 0: they stay apart)."""
        ca, cb = summed(a), summed(b)
        if average:
            linked = ca @ cb / (evidence.weight[a] * evidence.weight[b])
        else:
            linked = ca @ cb / (np.linalg.norm(ca) * np.linalg.norm(cb) + 1e-12)
        s = 0.5 * (evidence.short(a) + evidence.short(b))
        tight = max(within(a), within(b)) if relative and (a in inner or b in inner) else None
        bonus = shared_bonus if anchor(a) & anchor(b) else 0.0
        return rule.margin(
            float(linked), *evidence.terms(a, b), s, tight, bonus, bare=evidence.bare(a, b)
        )

    def within(a: int) -> float:
        """The mean cosine of cluster ``a``'s pairs of members with different texts (-1 for a
        cluster of one text, which then sets no bar)."""
        if a not in inner:
            return -1.0
        length, square = inner[a]
        w = evidence.weight[a]
        pairs = w * w - square
        return (length - square) / pairs if pairs > 0.5 else -1.0

    if groups is not None:  # a near copy about another place (a form letter) is its own issue
        for i, g in enumerate(groups):
            if g is not None and root(i) != root(g) and not evidence.clash(root(i), root(g)):
                join(root(i), root(g), copies=True)
    first, second, alone = _candidates(vectors, k, rule, codes, sure, short, keys, search_dims)
    keep = alone >= -(shared_bonus if anchors is not None else 0.0)
    first, second, alone = first[keep], second[keep], alone[keep]
    order = np.lexsort((second, first, -alone))  # the likeliest first, ties by rows
    pairs = zip(first[order].tolist(), second[order].tolist(), alone[order].tolist())
    for i, j, alone_margin in pairs:
        a, b = root(i), root(j)
        if a == b or evidence.apart(a, b):
            continue
        if a == i and b == j and i not in total and j not in total:
            # Two rows still alone: their margin is the one found with the candidates.
            passed = alone_margin + (shared_bonus if anchor(a) & anchor(b) else 0.0) >= 0
        else:
            passed = margin(a, b) >= 0 and not evidence.clash(a, b)
        if passed:
            join(a, b)
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def _codes(topics: Sequence[str] | None, n: int) -> np.ndarray:
    """Topics as integer codes, -1 for none."""
    if topics is None:
        return np.full(n, -1, dtype=np.int64)
    found: dict[str, int] = {}
    return np.fromiter(
        (found.setdefault(t, len(found)) if t else -1 for t in topics), dtype=np.int64, count=n
    )


def _candidates(vectors, k, rule, codes, sure, short, keys, search_dims=None):
    """Each pair of rows among each other's ``k`` nearest neighbours (either way) once: the two
    rows, and the margin by which they would merge as two clusters of one."""
    index, sims = top_neighbours(vectors, k, search_dims=search_dims)
    rows = np.broadcast_to(np.arange(len(vectors))[:, None], index.shape).ravel()
    lo, hi = np.minimum(rows, index.ravel()), np.maximum(rows, index.ravel())
    _, at = np.unique(lo * len(vectors) + hi, return_index=True)
    lo, hi, sims = lo[at], hi[at], sims.ravel()[at].astype(np.float64)
    need, topic, other, alone, unnamed = rule.at(0.5 * (short[lo] + short[hi]))
    both = (codes[lo] >= 0) & (codes[hi] >= 0)
    same = both & (codes[lo] == codes[hi])
    named = np.fromiter((bool(p) for p in keys), dtype=bool, count=len(keys))
    lone = named[lo] != named[hi]
    bare = ~named[lo] & ~named[hi]
    sure_pair = sure[lo] * sure[hi]
    margin = (
        sims
        + (topic * same - other * (both & ~same)) * sure_pair
        - alone * lone
        - unnamed * bare
        - need
    )
    return lo, hi, margin

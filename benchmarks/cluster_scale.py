"""Seconds of the clustering stage (neighbours + average linkage) as rows grow.

    python benchmarks/cluster_scale.py [--sizes 10000 50000 100000] [--threshold 0.55] [--dims 1024]

By default every row has the evidence the pipeline gives the merge rule: a level-2 topic (one of
60, the topic of its synthetic cluster for 90% of rows) with a confidence, a length (a third of the
rows fragments) and, for a fifth of the rows, a place; ``--vectors-only`` leaves them out.

Synthetic unit vectors (1,024-d by default, as a run's points: 512 of the sentence and 512 of the
words, whose neighbours are put forward by the first 512 as a run's are; ``--dims 512`` for
the sentence vector alone; clusters of about 20 rows with noise) stand in for encoded
opinions, so this measures the clustering math alone; encoding costs are in similarity.py.
Up to nlp.clustering.semantic.EXACT_LIMIT rows neighbours are exact, above it approximate (faiss IVF, 4-bit then 8-bit codes).
Memory: the most the process's resident set grew over the vectors while clustering (sampled every
20 ms), and that per row.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable

import numpy as np

from nlp.clustering.semantic import EXACT_LIMIT, cluster_vectors, top_neighbours


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_growth(work: Callable[[], object]) -> tuple[object, int]:
    """``work()``'s result and the most the resident set grew while it ran (bytes)."""
    before, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    return result, max(peak[0], _rss()) - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument(
        "--threshold", type=float, default=None, help="the merge rule's own when left out"
    )
    parser.add_argument("--vectors-only", action="store_true", help="no topics, lengths, places")
    parser.add_argument("--dims", type=int, default=1024, help="dimensions of the vectors")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"exact neighbours up to {EXACT_LIMIT} rows, approximate above")
    print()
    print(
        "| rows | neighbours s | clustering s (total) | rows/s | clusters | memory MiB | bytes/row |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        centres = rng.standard_normal((max(n // 20, 1), args.dims)).astype(np.float32)
        of = rng.integers(0, len(centres), n)
        v = centres[of] + 0.6 * rng.standard_normal((n, args.dims)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        start = time.perf_counter()
        search = 512 if args.dims > 512 else None  # a run searches by the sentence part
        top_neighbours(v, 10, search_dims=search)
        knn = time.perf_counter() - start
        start = time.perf_counter()
        evidence = {} if args.vectors_only else _evidence(rng, of)
        labels, grown = peak_growth(
            lambda v=v, e=evidence, s=search: cluster_vectors(v, args.threshold, search_dims=s, **e)
        )
        total = time.perf_counter() - start
        print(
            f"| {n} | {knn:.1f} | {total:.1f} | {n / total:.0f} | {len(set(labels.tolist()))} | {grown / 2**20:.0f} | {grown / n:.0f} |"
        )


def _evidence(rng: np.random.Generator, of: np.ndarray) -> dict:
    """Topics, confidences, lengths and places for rows of the synthetic clusters ``of``."""
    n = len(of)
    topic = np.where(rng.random(n) < 0.9, of % 60, rng.integers(0, 60, n))
    names = [f"topic{t}" for t in range(60)]
    spots = [frozenset((f"幸福{c}小区",)) for c in range(1 + of.max())]
    return {
        "topics": [names[t] for t in topic],
        "confidence": rng.uniform(0.3, 1.0, n),
        "lengths": np.where(rng.random(n) < 1 / 3, 20, 200),
        "places": [spots[c] if named else frozenset() for c, named in zip(of, rng.random(n) < 0.2)],
    }


if __name__ == "__main__":
    main()

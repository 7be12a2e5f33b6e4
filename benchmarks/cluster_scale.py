"""Seconds of the clustering stage (neighbours + centroid linkage) as rows grow.

    python benchmarks/cluster_scale.py [--sizes 10000 50000 100000]

Synthetic unit vectors (512-d, clusters of about 20 rows with noise) stand in for encoded
opinions, so this measures the clustering math alone; encoding costs are in similarity.py.
Up to nlp.dedupe.semantic.EXACT_LIMIT rows neighbours are exact, above it approximate (faiss IVF).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nlp.dedupe.semantic import EXACT_LIMIT, cluster_vectors, top_neighbours


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"exact neighbours up to {EXACT_LIMIT} rows, approximate above")
    print()
    print("| rows | neighbours s | clustering s (total) | rows/s | clusters |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        centres = rng.standard_normal((max(n // 20, 1), 512)).astype(np.float32)
        v = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, 512)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        start = time.perf_counter()
        top_neighbours(v, 10)
        knn = time.perf_counter() - start
        start = time.perf_counter()
        labels = cluster_vectors(v, 0.55)
        total = time.perf_counter() - start
        print(f"| {n} | {knn:.1f} | {total:.1f} | {n / total:.0f} | {len(set(labels.tolist()))} |")


if __name__ == "__main__":
    main()

"""Duplicates, same-issue clusters and id stability on the public hot-issue message set.

    python benchmarks/cluster.py

Data: ../shared/data/tipdm2020c/hotspot_messages_fj3.xlsx (4,326 messages, 2017-2020).
Prints: groups of identical bodies and near-duplicates, cluster counts, seconds per stage, and the
time-split test: the earlier half (by message time) is scored with a fresh --state, then the whole
file with the same state; the share of earlier-half rows whose cluster id is unchanged.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from nlp import InputTable, Pipeline, read_table
from nlp.store import ClusterStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020c" / "hotspot_messages_fj3.xlsx"


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} not found: this benchmark needs the shared evaluation data")
    table = read_table(DATA)
    n = len(table.frame)
    start = time.perf_counter()
    result = Pipeline().run(table)
    total = time.perf_counter() - start
    out, clusters = result.opinions, result.clusters
    exact_groups = out["duplicate_of"].dropna().nunique()
    near_groups = out["near_duplicate_of"].dropna().nunique()

    times = pd.to_datetime(table.frame["留言时间"], errors="coerce", format="mixed")
    order = times.sort_values(kind="stable").index
    early = order[: n // 2]
    with tempfile.TemporaryDirectory() as state:
        first = Pipeline(store=ClusterStore(state)).run(InputTable(table.frame.loc[sorted(early)].reset_index(drop=True)))
        start = time.perf_counter()
        whole = Pipeline(store=ClusterStore(state)).run(table)
        incremental = time.perf_counter() - start
    before = dict(zip(first.opinions["id"], first.opinions["cluster"]))
    after = dict(zip(whole.opinions["id"], whole.opinions["cluster"]))
    unchanged = sum(before[i] == after[i] for i in before) / len(before)
    late_ids = set(whole.opinions["id"]) - set(before)
    joined_old = sum(after[i] in set(before.values()) for i in late_ids) / max(len(late_ids), 1)

    print(f"file: {DATA.name}, {n} messages")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| groups of identical bodies (duplicate_of) | {exact_groups} ({out['duplicate_of'].notna().sum()} rows) |")
    print(f"| near-duplicate groups (MinHash, Jaccard >= 0.8) | {near_groups} ({out['near_duplicate_of'].notna().sum()} rows) |")
    print(f"| clusters / with >= 2 opinions / rows in those | {len(clusters)} / {(clusters['size'] >= 2).sum()} / {clusters.loc[clusters['size'] >= 2, 'size'].sum()} |")
    print(f"| largest clusters | {', '.join(str(s) for s in clusters['size'].nlargest(5))} |")
    for stage, t in result.summary["timings"].items():
        print(f"| {stage} seconds | {t['seconds']:.1f} |")
    print(f"| whole pipeline seconds | {total:.1f} |")
    print(f"| time split: earlier-half rows with unchanged cluster id | {unchanged:.1%} |")
    print(f"| time split: later-half rows joining an earlier cluster | {joined_old:.1%} |")
    print(f"| incremental run on the whole file (seconds) | {incremental:.1f} |")
    print()
    print("top 10 issues:")
    for _, c in clusters.head(10).iterrows():
        print(f"  {c['cluster']}  size {c['size']:>3}  heat {c['heat']:.3f}  {c['title']}")


if __name__ == "__main__":
    main()

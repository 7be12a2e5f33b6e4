"""Duplicates, same-issue clusters and id stability on the public hot-issue message set.

    python benchmarks/cluster.py

Data: ../shared/data/tipdm2020c/hotspot_messages_fj3.xlsx (4,326 messages, 2017-2020).
Prints: groups of identical bodies and near-duplicates, cluster counts, seconds per stage, and the
time-split test: the earlier half (by message time) is scored with a fresh --state, then the whole
file with the same state; the share of earlier-half rows whose cluster id is unchanged. Then the
hand check (data/hand_check.csv) and, when BERTopic is installed, BERTopic side by side on the same
embeddings.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from nlp import InputTable, Pipeline, read_table
from nlp.clustering.store import ClusterStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020c" / "hotspot_messages_fj3.xlsx"
HAND = Path(__file__).resolve().parent / "data" / "hand_check.csv"


def hand_check(out: pd.DataFrame) -> dict[str, float]:
    """Score this run against the judged pairs in data/hand_check.csv."""
    judged = pd.read_csv(HAND, dtype={"id_a": str, "id_b": str})
    cluster = dict(zip(out["id"].astype(str), out["cluster"]))
    judged["together"] = [cluster.get(a) == cluster.get(b) for a, b in zip(judged["id_a"], judged["id_b"])]
    together = judged[judged["together"]]
    same = judged[judged["same_issue"] == 1]
    return {
        "pairs": len(judged),
        "precision_together": together["same_issue"].mean() if len(together) else float("nan"),
        "together": len(together),
        "recall_same": same["together"].mean() if len(same) else float("nan"),
        "same": len(same),
    }


def versus_bertopic(result, table) -> list[tuple[str, str]]:
    """BERTopic on the same texts and the same offline embeddings, timed beside Minyi's clustering."""
    try:
        from bertopic import BERTopic
    except ImportError:
        return [("BERTopic", "not installed (pip install torch==2.13.0 bertopic)")]
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from nlp.clustering.semantic import cluster_vectors
    from nlp.encoders import USEEncoder
    from nlp.text.segment import JiebaTokenizer

    out = result.opinions
    docs = [f"{t}。{x}" if t else x for t, x in zip(out["title"], out["text"])]
    start = time.perf_counter()
    vectors = USEEncoder().encode([d[:160] for d in docs])
    encode_seconds = time.perf_counter() - start
    tokenizer = JiebaTokenizer()
    model = BERTopic(vectorizer_model=CountVectorizer(tokenizer=tokenizer.tokenize, token_pattern=None), calculate_probabilities=False)
    start = time.perf_counter()
    topics, _ = model.fit_transform(docs, embeddings=vectors)
    bertopic_seconds = time.perf_counter() - start
    start = time.perf_counter()
    centred = vectors - vectors.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    cluster_vectors(centred, 0.55)
    minyi_seconds = time.perf_counter() - start
    topics = np.array(topics)
    ours = out["cluster"].to_numpy()
    clustered = topics != -1
    return [
        ("embeddings (USE, shared by both), seconds", f"{encode_seconds:.1f}"),
        ("BERTopic fit on those embeddings, seconds", f"{bertopic_seconds:.1f}"),
        ("Minyi clustering on those embeddings, seconds", f"{minyi_seconds:.2f}"),
        ("speed-up of Minyi's clustering over BERTopic", f"{bertopic_seconds / minyi_seconds:.0f}x"),
        ("BERTopic topics / outliers (in no topic)", f"{len(set(topics) - {-1})} / {(~clustered).mean():.1%}"),
        ("agreement on rows BERTopic clustered: ARI / NMI", f"{adjusted_rand_score(topics[clustered], ours[clustered]):.3f} / {normalized_mutual_info_score(topics[clustered], ours[clustered]):.3f}"),
    ]


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
    h = hand_check(out)
    print(f"| hand check: precision of together ({h['together']} of {h['pairs']} judged pairs together) | {h['precision_together']:.1%} |")
    print(f"| hand check: judged-same pairs put together ({h['same']} judged same) | {h['recall_same']:.1%} |")
    for name, value in versus_bertopic(result, table):
        print(f"| {name} | {value} |")
    print()
    print("top 10 issues:")
    for _, c in clusters.head(10).iterrows():
        print(f"  {c['cluster']}  size {c['size']:>3}  heat {c['heat']:.3f}  {c['title']}")


if __name__ == "__main__":
    main()

"""Same-issue clusters on the project's gold set, and on the public hot-issue message set.

    python benchmarks/cluster.py               # the gold set, then the public data when present
    python benchmarks/cluster.py --gold-only   # the gold set only (under a minute)

Gold set: every CSV in corpora/same_issue/ (columns group, topic, text), where posts of one group
raise the same problem about the same place or object. Texts of at most 60 characters form the
short band, longer ones the long band. The pipeline runs at its default settings on the short band
alone, on the long band alone and on both together (shuffled with a fixed seed), and each run is
scored per band against the gold groups: pairwise precision, recall and F1 (over all pairs of
items: together in the gold vs together in the run) and B-cubed precision, recall and F1. Then the
drafts check: 28 short-band groups drawn with a fixed seed (about 90 texts) are scored as one
batch, and it counts the clusters and drafts that hold two or more opinions.

Public data: ../shared/data/tipdm2020c/hotspot_messages_fj3.xlsx (4,326 messages, 2017-2020),
skipped with a message when absent. Prints: groups of identical bodies and near-duplicates, cluster
counts, seconds per stage, and the time-split test: the earlier half (by message time) is scored
with a fresh --state, then the whole file with the same state; the share of earlier-half rows whose
cluster id is unchanged. Then the hand check (data/hand_check.csv) and, when BERTopic is installed,
BERTopic side by side on the same embeddings.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

import pandas as pd

from nlp import InputTable, Pipeline, RunResult, read_table
from nlp.clustering.store import ClusterStore

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "tipdm2020c"
    / "hotspot_messages_fj3.xlsx"
)
HAND = Path(__file__).resolve().parent / "data" / "hand_check.csv"
GOLD = Path(__file__).resolve().parents[1] / "corpora" / "same_issue"
SHORT_MAX = 60  # characters; longer texts are in the long band
SEED = 20240915
DRAFT_GROUPS = 28
DRAFT_TEXTS = 90
METRICS = {
    "pair_p": "pair P",
    "pair_r": "pair R",
    "pair_f1": "pair F1",
    "b3_p": "B3 P",
    "b3_r": "B3 R",
    "b3_f1": "B3 F1",
}


def hand_check(out: pd.DataFrame) -> dict[str, float]:
    """Score this run against the judged pairs in data/hand_check.csv."""
    judged = pd.read_csv(HAND, dtype={"id_a": str, "id_b": str})
    cluster = dict(zip(out["id"].astype(str), out["cluster"]))
    judged["together"] = [
        cluster.get(a) == cluster.get(b) for a, b in zip(judged["id_a"], judged["id_b"])
    ]
    together = judged[judged["together"]]
    same = judged[judged["same_issue"] == 1]
    by_sample = {
        name: (len(part[part["together"]]), part.loc[part["together"], "same_issue"].mean())
        for name, part in judged.groupby("sampled_as")
    }
    return {
        "by_sample": by_sample,
        "pairs": len(judged),
        "precision_together": together["same_issue"].mean() if len(together) else float("nan"),
        "together": len(together),
        "recall_same": same["together"].mean() if len(same) else float("nan"),
        "same": len(same),
    }


def versus_bertopic(result, table) -> list[tuple[str, str]]:
    """BERTopic on the same texts and offline embeddings, timed beside Minyi's clustering."""
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
    model = BERTopic(
        vectorizer_model=CountVectorizer(tokenizer=tokenizer.tokenize, token_pattern=None),
        calculate_probabilities=False,
    )
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
    ari = adjusted_rand_score(topics[clustered], ours[clustered])
    nmi = normalized_mutual_info_score(topics[clustered], ours[clustered])
    return [
        ("embeddings (USE, shared by both), seconds", f"{encode_seconds:.1f}"),
        ("BERTopic fit on those embeddings, seconds", f"{bertopic_seconds:.1f}"),
        ("Minyi clustering on those embeddings, seconds", f"{minyi_seconds:.2f}"),
        (
            "speed-up of Minyi's clustering over BERTopic",
            f"{bertopic_seconds / minyi_seconds:.0f}x",
        ),
        (
            "BERTopic topics / outliers (in no topic)",
            f"{len(set(topics) - {-1})} / {(~clustered).mean():.1%}",
        ),
        (
            "agreement on rows BERTopic clustered: ARI / NMI",
            f"{ari:.3f} / {nmi:.3f}",
        ),
    ]


def _pairs(sizes) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _f1(precision: float, recall: float) -> float:
    if precision == 0 or recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)  # NaN when either is undefined


def clustering_scores(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> dict[str, float]:
    """Score a clustering against gold groups.

    Args:
        gold: The gold group of each item.
        predicted: The predicted cluster of each item, in the same order.

    Returns:
        ``pair_p``, ``pair_r``, ``pair_f1``: over all pairs of items, the share of pairs put
        together that are together in the gold (precision) and the share of gold pairs put
        together (recall); precision is NaN when no pair is put together, recall when the gold
        has no pair. ``b3_p``, ``b3_r``, ``b3_f1``: B-cubed, the mean over items of the share of
        the item's cluster that is in its gold group (precision) and of its gold group that is in
        its cluster (recall). Each F1 is 0 when its precision or recall is 0.

    Raises:
        ValueError: The two sequences differ in length.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predicted ones")
    cells = Counter(zip(gold, predicted))
    gold_size, predicted_size = Counter(gold), Counter(predicted)
    together = _pairs(cells.values())
    pair_p = _ratio(together, _pairs(predicted_size.values()))
    pair_r = _ratio(together, _pairs(gold_size.values()))
    b3_p = _ratio(sum(cells[g, c] / predicted_size[c] for g, c in zip(gold, predicted)), len(gold))
    b3_r = _ratio(sum(cells[g, c] / gold_size[g] for g, c in zip(gold, predicted)), len(gold))
    return {
        "pair_p": pair_p,
        "pair_r": pair_r,
        "pair_f1": _f1(pair_p, pair_r),
        "b3_p": b3_p,
        "b3_r": b3_r,
        "b3_f1": _f1(b3_p, b3_r),
    }


def read_gold(folder: Path = GOLD) -> pd.DataFrame:
    """Every row of the CSVs in ``folder`` that has a group and a text.

    A file still being written may end in a broken row; rows without a group or a text are left
    out, and a file that cannot be parsed is left out with a message.

    Returns:
        Columns ``file``; ``group``, the file's stem and its group id (``short:S001``), so that two
        files may use the same ids; ``topic``; ``text``; ``band``, ``short`` (at most
        :data:`SHORT_MAX` characters) or ``long``.
    """
    rows = []
    for path in sorted(folder.glob("*.csv")):
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                found = [
                    r
                    for r in csv.DictReader(f)
                    if (r.get("group") or "").strip() and (r.get("text") or "").strip()
                ]
        except (csv.Error, UnicodeDecodeError) as e:
            print(f"{path.name} left out: {e}")
            continue
        for r in found:
            text = r["text"].strip()
            band = "short" if len(text) <= SHORT_MAX else "long"
            rows.append(
                {
                    "file": path.name,
                    "group": f"{path.stem}:{r['group'].strip()}",
                    "topic": r.get("topic") or "",
                    "text": text,
                    "band": band,
                }
            )
    return pd.DataFrame(rows, columns=["file", "group", "topic", "text", "band"])


def cluster_of_each(result: RunResult) -> list[str]:
    """The run's cluster of each input row; a row without one (empty, error) is one on its own."""
    return [
        c if isinstance(c, str) and c else f"none-{i}"
        for i, c in enumerate(result.opinions["cluster"])
    ]


def _number(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.3f}"


def pick_groups(
    sizes: dict[str, int],
    k: int = DRAFT_GROUPS,
    target: int = DRAFT_TEXTS,
    seed: int = SEED,
    draws: int = 2000,
) -> list[str]:
    """Draw ``k`` groups at random, keeping the draw whose texts number closest to ``target``.

    Args:
        sizes: Group → number of texts.
        k: Groups to draw (all of them when there are no more).
        target: The number of texts wanted in all.
        seed: Seed of the draws, so the same groups come out run after run.
        draws: Draws tried.
    """
    names = sorted(sizes)
    if len(names) <= k:
        return names
    rng = random.Random(seed)
    best_gap, best = math.inf, names[:k]
    for _ in range(draws):
        pick = rng.sample(names, k)
        gap = abs(sum(sizes[g] for g in pick) - target)
        if gap < best_gap:
            best_gap, best = gap, pick
        if gap == 0:
            break
    return sorted(best)


def drafts_check(pipeline: Pipeline, short: pd.DataFrame) -> None:
    """Score ~90 short texts of 28 gold groups as one batch; count clusters and drafts of 2+."""
    if short.empty:
        print("drafts check: no short texts in the gold set; skipped")
        return
    groups = pick_groups(short["group"].value_counts().to_dict())
    chosen = (
        short[short["group"].isin(groups)].sample(frac=1, random_state=SEED).reset_index(drop=True)
    )
    result = pipeline.run(InputTable.from_texts(chosen["text"].tolist()))
    sizes = chosen["group"].value_counts()
    cluster_sizes = result.clusters["size"] if len(result.clusters) else pd.Series(dtype=int)
    citing = [len(set(d.sources)) for d in result.drafts]
    print(
        f"drafts check: {len(chosen)} short texts of {len(groups)} gold groups "
        f"(drawn with seed {SEED}), scored as one batch"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| gold groups with >= 2 texts | {(sizes >= 2).sum()} of {len(sizes)} |")
    print(
        f"| clusters / with >= 2 opinions | {len(cluster_sizes)} / {(cluster_sizes >= 2).sum()} |"
    )
    print(f"| drafts / citing >= 2 opinions | {len(citing)} / {sum(n >= 2 for n in citing)} |")


def _table_row(batch: str, band: str, part: pd.DataFrame) -> str:
    scores = clustering_scores(part["group"].tolist(), part["cluster"].tolist())
    counts = [len(part), part["group"].nunique(), part["cluster"].nunique()]
    cells = [batch, band, *map(str, counts), *(_number(scores[k]) for k in METRICS)]
    return "| " + " | ".join(cells) + " |"


def gold_benchmark(folder: Path = GOLD) -> None:
    """Score the pipeline's clusters against the gold groups per batch and band; then the drafts."""
    gold = read_gold(folder)
    if gold.empty:
        print(f"no gold rows in {folder}/*.csv; the gold part is skipped")
        return
    short = gold[gold["band"] == "short"].reset_index(drop=True)
    long = gold[gold["band"] == "long"].reset_index(drop=True)
    both = gold.sample(frac=1, random_state=SEED).reset_index(drop=True)
    batches = [
        ("short", short, ["short"]),
        ("long", long, ["long"]),
        ("both, shuffled", both, ["short", "long", "all"]),
    ]
    files = ", ".join(f"{f} ({n} rows)" for f, n in gold["file"].value_counts(sort=False).items())
    print(f"gold set: {files}; {len(short)} texts of <= {SHORT_MAX} characters, {len(long)} longer")
    print("each batch scored by Pipeline() at its default settings; a band's row scores the items")
    print("of that band only (pairs across the bands count in the 'all' row)")
    print()
    print("| batch | band | items | groups | clusters | " + " | ".join(METRICS.values()) + " |")
    print("|---|---|" + "---:|" * (3 + len(METRICS)))
    pipeline = Pipeline()
    start = time.perf_counter()
    for batch, items, bands in batches:
        if items.empty:
            print(f"| {batch} | (no texts) |" + " |" * (3 + len(METRICS)))
            continue
        result = pipeline.run(InputTable.from_texts(items["text"].tolist()))
        scored = items.assign(cluster=cluster_of_each(result))
        for band in bands:
            part = scored if band == "all" else scored[scored["band"] == band]
            print(_table_row(batch, band, part))
    print(f"({time.perf_counter() - start:.0f} s for the three batches)")
    print()
    drafts_check(pipeline, short)


def public_benchmark() -> None:
    """Duplicates, clusters, id stability and the hand check on the public hot-issue messages."""
    if not DATA.exists():
        print(f"{DATA} not found: the public-data part needs the shared evaluation data; skipped")
        return
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
        first = Pipeline(store=ClusterStore(state)).run(
            InputTable(table.frame.loc[sorted(early)].reset_index(drop=True))
        )
        start = time.perf_counter()
        whole = Pipeline(store=ClusterStore(state)).run(table)
        incremental = time.perf_counter() - start
    before = dict(zip(first.opinions["id"], first.opinions["cluster"]))
    after = dict(zip(whole.opinions["id"], whole.opinions["cluster"]))
    unchanged = sum(before[i] == after[i] for i in before) / len(before)
    late_ids = set(whole.opinions["id"]) - set(before)
    joined_old = sum(after[i] in set(before.values()) for i in late_ids) / max(len(late_ids), 1)

    multi = clusters["size"] >= 2
    h = hand_check(out)
    together = f"{h['together']} of {h['pairs']} judged pairs together"
    rows = [
        (
            "groups of identical bodies (duplicate_of)",
            f"{exact_groups} ({out['duplicate_of'].notna().sum()} rows)",
        ),
        (
            "near-duplicate groups (MinHash, Jaccard >= 0.8)",
            f"{near_groups} ({out['near_duplicate_of'].notna().sum()} rows)",
        ),
        (
            "clusters / with >= 2 opinions / rows in those",
            f"{len(clusters)} / {multi.sum()} / {clusters.loc[multi, 'size'].sum()}",
        ),
        ("largest clusters", ", ".join(str(s) for s in clusters["size"].nlargest(5))),
        *(
            (f"{stage} seconds", f"{t['seconds']:.1f}")
            for stage, t in result.summary["timings"].items()
        ),
        ("whole pipeline seconds", f"{total:.1f}"),
        ("time split: earlier-half rows with unchanged cluster id", f"{unchanged:.1%}"),
        ("time split: later-half rows joining an earlier cluster", f"{joined_old:.1%}"),
        ("incremental run on the whole file (seconds)", f"{incremental:.1f}"),
        (f"hand check: precision of together ({together})", f"{h['precision_together']:.1%}"),
        (
            f"hand check: judged-same pairs put together ({h['same']} judged same)",
            f"{h['recall_same']:.1%}",
        ),
        *(
            (f"hand check, pairs drawn as {name}: precision of together ({k} together)", f"{p:.1%}")
            for name, (k, p) in h["by_sample"].items()
        ),
        *versus_bertopic(result, table),
    ]
    print(f"file: {DATA.name}, {n} messages")
    print()
    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print("top 10 issues:")
    for _, c in clusters.head(10).iterrows():
        print(f"  {c['cluster']}  size {c['size']:>3}  heat {c['heat']:.3f}  {c['title']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Same-issue cluster quality on the gold set and on the public data."
    )
    parser.add_argument(
        "--gold-only",
        action="store_true",
        help="score the gold set only (the public data takes minutes)",
    )
    args = parser.parse_args()
    gold_benchmark()
    if not args.gold_only:
        print()
        public_benchmark()


if __name__ == "__main__":
    main()

"""How well each offline encoder tells paraphrases (or same-issue fragments) from other pairs.

    python benchmarks/similarity.py [--pairs N]

Pairs: ../shared/data/zh_sim_pairs/ (LCQMC, BQ, ATEC, PAWS-X zh: ROC-AUC of the cosine;
Chinese STS-B: Spearman against the 0-5 score), up to N pairs each (default 2000, fixed seed),
and our own fragments (corpora/fragments.txt): every pair of fragments, positive when they share
a topic. Prints a table with texts/s of encoding.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from nlp.core.resources import read_fragments
from nlp.dedupe.synonyms import Synonyms
from nlp.encoders import E5Encoder, TfidfEncoder, USEEncoder

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "zh_sim_pairs"


def load(name: str, limit: int, rng: random.Random) -> tuple[list[str], list[str], list[float]]:
    path = PAIRS / name
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        if name == "bq_dev.csv":
            rows = [(r["sentence1"], r["sentence2"], float(r["label"])) for r in csv.DictReader(f)]
        elif name == "cnsd_stsb_dev.txt":
            rows = [
                (p[1], p[2], float(p[3]))
                for p in (line.rstrip("\n").split("||") for line in f)
                if len(p) == 4
            ]
        elif name == "atec_nlp_sim_train.csv":
            rows = [
                (p[1].lstrip("\ufeff"), p[2], float(p[3]))
                for p in (line.rstrip("\r\n").split("\t") for line in f)
                if len(p) == 4
            ]
        else:
            rows = [
                (p[0], p[1], float(p[2]))
                for p in (line.rstrip("\n").split("\t") for line in f)
                if len(p) == 3
            ]
    rng.shuffle(rows)
    rows = rows[:limit]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def fragments() -> tuple[list[str], list[str], list[float]]:
    items = read_fragments()
    a, b, y = [], [], []
    for (t1, x1), (t2, x2) in combinations(items, 2):
        a.append(x1)
        b.append(x2)
        y.append(float(t1 == t2))
    return a, b, y


def _pair_cosines(vectors, ia: list[int], ib: list[int]) -> np.ndarray:
    """Row-wise dot products of unit-length rows, dense or sparse."""
    products = (
        vectors[ia].multiply(vectors[ib])
        if hasattr(vectors, "multiply")
        else vectors[ia] * vectors[ib]
    )
    return np.asarray(products.sum(axis=1)).ravel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(0)
    sets = {}
    if PAIRS.is_dir():
        for name in (
            "lcqmc_dev.txt",
            "bq_dev.csv",
            "atec_nlp_sim_train.csv",
            "pawsx_zh_valid.data",
            "cnsd_stsb_dev.txt",
        ):
            sets[name.split("_")[0].split(".")[0]] = load(name, args.pairs, rng)
    sets["fragments"] = fragments()
    synonyms = Synonyms.load()
    encoders = {
        "use": USEEncoder(),
        "e5": E5Encoder(),
        "tfidf-char": TfidfEncoder(words=False, dims=0, sparse=True),
        "tfidf-char+word": TfidfEncoder(dims=0, sparse=True),
    }
    scores: dict[str, dict[str, float]] = {}
    speed: dict[str, float] = {}
    cosines: dict[tuple[str, str], np.ndarray] = {}
    for set_name, (a, b, y) in sets.items():
        unique = list(dict.fromkeys(a + b))
        index = {t: i for i, t in enumerate(unique)}
        for enc_name, encoder in encoders.items():
            start = time.perf_counter()
            vectors = encoder.encode(unique)
            seconds = time.perf_counter() - start
            speed[enc_name] = speed.get(enc_name, 0) + len(unique) / seconds / len(sets)
            cosines[(set_name, enc_name)] = _pair_cosines(
                vectors, [index[t] for t in a], [index[t] for t in b]
            )
        # Synonym rewriting before TF-IDF, and the mean of USE and word TF-IDF.
        rewritten = [synonyms.rewrite(t) for t in unique]
        vectors = TfidfEncoder(dims=0, sparse=True).encode(rewritten)
        cosines[(set_name, "tfidf+synonyms")] = _pair_cosines(
            vectors, [index[t] for t in a], [index[t] for t in b]
        )
        cosines[(set_name, "use+tfidf+synonyms")] = (
            cosines[(set_name, "use")] + cosines[(set_name, "tfidf+synonyms")]
        ) / 2
        for (s, enc_name), cos in list(cosines.items()):
            if s != set_name:
                continue
            if set_name == "cnsd":
                value = spearmanr(cos, y).statistic
            else:
                value = roc_auc_score(np.array(y) > 0.5, cos)
            scores.setdefault(enc_name, {})[set_name] = value
    names = list(sets)
    print(
        f"pairs per set: up to {args.pairs}; fragments: {len(sets['fragments'][0])} pairs from corpora/fragments.txt"
    )
    print("ROC-AUC of cosine (cnsd: Spearman with the 0-5 score)")
    print()
    print("| encoder | " + " | ".join(names) + " | texts/s |")
    print("|---|" + "---|" * len(names) + "---|")
    for enc_name, row in scores.items():
        rate = f"{speed[enc_name]:.0f}" if enc_name in speed else "-"
        print(f"| {enc_name} | " + " | ".join(f"{row[n]:.3f}" for n in names) + f" | {rate} |")


if __name__ == "__main__":
    main()

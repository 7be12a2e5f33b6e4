"""How much review teaches the classifier: a simulated reviewer fixes 200 opinions.

    python benchmarks/review.py [--reviewed 200] [--seed 0]

Data: ../shared/data/tipdm2020c/messages_labeled.tsv (1,842 messages, 7 level-1 classes). Half
(stratified) is the quarter that staff review, half is held out and never seen.

1. The review half is scored by the pipeline with the built-in model into a fresh state.
2. A reviewer opens ``--reviewed`` of its stored opinions (chosen at random) through
   :class:`nlp.clustering.review.Review`, relabels the wrong ones to the true class and confirms the right
   ones (a relabel to the same class). A second reviewer fixes only the wrong ones.
3. ``minyi train --from-state``'s model (the built-in corpus plus the reviewed opinions) is fitted.

Macro-F1 over the 7 classes on the held-out half, before and after, with and without
self-training on the held-out batch (the built-in model's ``adapt``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from classify import load_labeled  # benchmarks/classify.py, beside this file
from sklearn.model_selection import train_test_split

from nlp import InputTable, Pipeline, PipelineConfig
from nlp.classify import ColdStartClassifier
from nlp.classify.evaluation import evaluate
from nlp.clustering.review import Review
from nlp.clustering.store import ClusterStore
from nlp.text.normalize import Normalizer


def macro_f1(classifier, texts, words, truth, adapt: bool) -> float:
    classifier.adapt = adapt
    found = [p.level1 for p in classifier.predict(texts, words)]
    return evaluate(truth, found, [0.5] * len(found))["macro_f1"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviewed", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts, labels = load_labeled()
    ids = np.arange(len(texts))
    pool, held = train_test_split(ids, test_size=0.5, stratify=labels, random_state=args.seed)
    pipeline = Pipeline(PipelineConfig(classifier="builtin", drafts="none"))
    tokenizer = pipeline.tokenizer
    clean = Normalizer().normalize_many([texts[i] for i in held])
    words = tokenizer.tokenize_many(clean)
    truth = [labels[i] for i in held]

    rows = []
    before = pipeline.classifier
    rows.append(
        (
            "before review: built-in",
            0,
            macro_f1(before, clean, words, truth, False),
            macro_f1(before, clean, words, truth, True),
            0.0,
        )
    )

    with tempfile.TemporaryDirectory() as folder:
        for variant in ("fixes errors, confirms the rest", "fixes errors only"):
            state = Path(folder) / variant.replace(" ", "-").replace(",", "")
            frame = pd.DataFrame({"id": [str(i) for i in pool], "text": [texts[i] for i in pool]})
            start = time.perf_counter()
            Pipeline(
                PipelineConfig(classifier="builtin", drafts="none"), store=ClusterStore(state)
            ).run(InputTable.from_frame(frame))
            scored = time.perf_counter() - start
            review = Review(state, who="simulated reviewer")
            stored = pd.concat(
                [review.opinions(c) for c in review.clusters(limit=100000)["cluster"]]
            )
            chosen = stored.sample(n=min(args.reviewed, len(stored)), random_state=args.seed)
            fixed = 0
            for opinion, external, predicted in zip(
                chosen["opinion"], chosen["external_id"], chosen["level1"]
            ):
                true = labels[int(external)]
                if predicted != true:
                    review.relabel([int(opinion)], true, why="wrong class")
                    fixed += 1
                elif variant.startswith("fixes errors,"):
                    review.relabel([int(opinion)], true, why="checked")
            examples = review.store.reviewed_examples()
            reviewed = Normalizer().normalize_many(
                [f"{t}。{x}" if t else x for t, x in zip(examples["title"], examples["text"])]
            )
            start = time.perf_counter()
            after = ColdStartClassifier(pipeline.taxonomy, encoder=pipeline.encoder).fit(
                tokenizer,
                reviewed=(reviewed, examples["level1"].tolist(), examples["level2"].tolist()),
            )
            fit = time.perf_counter() - start
            rows.append(
                (
                    f"after: {variant} ({fixed} fixed)",
                    len(examples),
                    macro_f1(after, clean, words, truth, False),
                    macro_f1(after, clean, words, truth, True),
                    fit,
                )
            )
            review.close()
            print(f"[{variant}: review half scored in {scored:.0f} s]", file=sys.stderr)

    print(
        f"\nHeld-out half: {len(held)} messages; review half: {len(pool)}; {args.reviewed} opinions reviewed\n"
    )
    print(
        "| model | reviewed rows learned | macro-F1 | macro-F1, self-trained on the batch | fit s |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, n, plain, adapted, fit in rows:
        print(f"| {name} | {n} | {plain:.3f} | {adapted:.3f} | {fit:.0f} |")


if __name__ == "__main__":
    main()

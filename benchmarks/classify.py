"""Classification quality on the public labeled message set (7 level-1 classes), and speed.

    python benchmarks/classify.py [--folds 5]

Data: ../shared/data/tipdm2020c/messages_labeled.tsv (1,842 messages, ``text<TAB>label_idx``).
Never trained on for the cold-start rows. Rows:

- cold start (no labels from the user): the keyword rules; the built-in model (keywords + corpus
  TF-IDF + sentence encoder, trained on corpora/training_opinions.csv) without and with
  self-training on the 1,842 messages being scored. A prediction outside the 7 classes counts as
  wrong (it costs recall).
- supervised (k-fold CV), each fitted on k-1 folds and scored on the held-out fold: the first
  recipe (char 1-3-gram TF-IDF + logistic regression); char 1-3 + word 1-2 TF-IDF with one plain
  linear SVM; and ``minyi train``'s, the same features with NB-weighted SVMs (one per class, on
  features scaled by their log-count ratio), C by inner CV, calibrated (isotonic), without and
  with the project's corpus rows of the same 7 classes (``--corpus``, the default: kept when the
  inner CV scores better with them).
- few labels: ``minyi train`` on 50, 100 and 300 labeled messages drawn at random (3 draws,
  stratified), scored on all the others, without and with the corpus rows.

Columns: accuracy, macro-F1 over the 7 classes, expected calibration error of ``confidence``,
and short opinions classified per second (corpora/fragments.txt × 20, words included).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from nlp import Pipeline, PipelineConfig
from nlp.classify import TrainedClassifier, corpus_examples
from nlp.classify.evaluation import evaluate
from nlp.core.resources import read_fragments
from nlp.text.normalize import Normalizer

DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020c" / "messages_labeled.tsv"
)
NAMES = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]
TARGETS = {"cold start": 0.85, "supervised": 0.92}


def speed(classifier, tokenizer, repeat: int = 3) -> float:
    """Short opinions per second, segmentation included (the median of ``repeat`` runs: one run
    takes about a second, and a shared machine's hiccup would otherwise decide it)."""
    short = Normalizer().normalize_many(
        [t.replace("{place}", "青石村") for _, t in read_fragments()] * 20
    )
    classifier.predict(
        short[:100], tokenizer.tokenize_many(short[:100])
    )  # warm: first-call costs are not per opinion
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        classifier.predict(short, tokenizer.tokenize_many(short))
        seconds.append(time.perf_counter() - start)
    return len(short) / float(np.median(seconds))


def load_labeled() -> tuple[list[str], list[str]]:
    """Texts and class names of the labeled message set (exits when it is absent)."""
    if not DATA.exists():
        sys.exit(f"{DATA} not found: this benchmark needs the shared evaluation data")
    texts, labels = [], []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        text, _, idx = line.rpartition("\t")
        texts.append(text)
        labels.append(NAMES[int(idx)])
    return texts, labels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    texts, labels = load_labeled()
    clean = Normalizer().normalize_many(texts)
    y = np.array(labels)
    rows = []

    lexicon_pipeline = Pipeline(PipelineConfig())
    tokenizer = lexicon_pipeline.tokenizer
    tokens = tokenizer.tokenize_many(clean)
    found = lexicon_pipeline.classifier.predict(clean, tokens)
    rows.append(
        ("cold start", "keyword rules", found, speed(lexicon_pipeline.classifier, tokenizer))
    )

    builtin = Pipeline(PipelineConfig(classifier="builtin"))
    model = builtin.classifier  # built from corpora/ on first use, then cached
    model.adapt = False
    found = model.predict(clean, builtin.tokenizer.tokenize_many(clean))
    rows.append(("cold start", "built-in model", found, speed(model, builtin.tokenizer)))
    model.adapt = True
    start = time.perf_counter()
    found = model.predict(clean, builtin.tokenizer.tokenize_many(clean))
    rows.append(
        (
            "cold start",
            "built-in + self-training on the batch",
            found,
            len(clean) / (time.perf_counter() - start),
        )
    )

    split = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(clean, y))
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    old = np.empty(len(y), dtype=object)
    old_conf = np.zeros(len(y))
    for train, test in split:
        m = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
            LogisticRegression(C=8, max_iter=2000),
        )
        m.fit([clean[i] for i in train], y[train])
        proba = m.predict_proba([clean[i] for i in test])
        old[test], old_conf[test] = m.classes_[proba.argmax(axis=1)], proba.max(axis=1)
    rows.append(("supervised", "char TF-IDF + LR (previous)", (list(old), list(old_conf)), None))

    found, found_labels = corpus_examples(NAMES)
    borrowed = (found, found_labels, tokenizer.tokenize_many(found))
    kept = []
    for nb_weights, corpus, name in (
        (False, False, "same features, one plain linear SVM"),
        (True, False, "minyi train --no-corpus"),
        (True, True, "minyi train"),
    ):
        predicted = np.empty(len(y), dtype=object)
        confidence = np.zeros(len(y))
        fit_seconds = []
        for train, test in split:
            start = time.perf_counter()
            clf = TrainedClassifier(nb_weights=nb_weights).fit(
                [clean[i] for i in train],
                list(y[train]),
                [tokens[i] for i in train],
                borrowed=borrowed if corpus else None,
            )
            if corpus:
                kept.append(clf.manifest_["borrowed"]["used"])
            fit_seconds.append(time.perf_counter() - start)
            out = clf.predict([clean[i] for i in test], [tokens[i] for i in test])
            predicted[test] = [p.level1 for p in out]
            confidence[test] = [p.confidence for p in out]
        rows.append(
            (
                "supervised",
                f"{name} (fit {np.mean(fit_seconds):.0f} s on {len(split[0][0])} rows)",
                (list(predicted), list(confidence)),
                speed(clf, tokenizer),
            )
        )

    few = []
    for size in (50, 100, 300):
        scores = {False: [], True: []}
        for draw in range(3):
            train, test = next(
                StratifiedShuffleSplit(1, train_size=size, random_state=draw).split(clean, y)
            )
            for corpus in scores:
                clf = TrainedClassifier().fit(
                    [clean[i] for i in train],
                    list(y[train]),
                    [tokens[i] for i in train],
                    borrowed=borrowed if corpus else None,
                )
                out = clf.predict([clean[i] for i in test], [tokens[i] for i in test])
                scores[corpus].append(
                    evaluate(list(y[test]), [p.level1 for p in out], [p.confidence for p in out])[
                        "macro_f1"
                    ]
                )
        few.append((size, np.mean(scores[False]), np.mean(scores[True])))

    print(
        f"data: {DATA.name}, {len(texts)} messages, {len(NAMES)} classes; supervised rows: {args.folds}-fold CV"
    )
    print(
        f"corpus rows of these classes: {len(found)}; kept by the inner CV in {sum(kept)} of {len(kept)} folds"
    )
    print()
    print("| setting | model | accuracy | macro-F1 | target | ECE | short opinions/s |")
    print("|---|---|---|---|---|---|---|")
    for setting, name, result, per_second in rows:
        predicted, confidence = (
            result
            if isinstance(result, tuple)
            else ([p.level1 for p in result], [p.confidence for p in result])
        )
        report = evaluate(labels, predicted, confidence)
        rate = f"{per_second:,.0f}" if per_second else "–"
        print(
            f"| {setting} | {name} | {report['accuracy']:.3f} | {report['macro_f1']:.3f} | {TARGETS[setting]:.2f} | {report['ece']:.3f} | {rate} |"
        )
    print()
    print(
        "few labels (`minyi train` on a random stratified draw, scored on the other messages; mean of 3 draws)"
    )
    print()
    print("| labeled messages | macro-F1, --no-corpus | macro-F1, with the corpus |")
    print("|---|---|---|")
    for size, alone, with_corpus in few:
        print(f"| {size} | {alone:.3f} | {with_corpus:.3f} |")


if __name__ == "__main__":
    main()

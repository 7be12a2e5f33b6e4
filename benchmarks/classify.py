"""Classification quality on the public labeled message set (7 level-1 classes), and speed.

    python benchmarks/classify.py [--folds 5] [--cold-only]

Data: ../shared/data/tipdm2020c/messages_labeled.tsv (1,842 messages, ``text<TAB>label_idx``).
Never trained on for the cold-start rows. Rows:

- cold start (no labels from the user): the keyword rules (``--model lexicon``); the built-in
  model (keywords + corpus TF-IDF + sentence encoder, trained on corpora/training_opinions.csv and
  shipped in corpora/models/builtin) without and with self-training on the 1,842 messages; and
  ``minyi score`` with its defaults on the messages as one export (the built-in model,
  self-trained on a sample of the input, as staff run it), scored from its opinions.csv. A
  prediction outside the 7 classes (待人工 included) counts as wrong (it costs recall).
- supervised (k-fold CV), each fitted on k-1 folds and scored on the held-out fold: the first
  recipe (char 1-3-gram TF-IDF + logistic regression); char 1-3 + word 1-2 TF-IDF with one plain
  linear SVM; and ``minyi train``'s, the same features with NB-weighted SVMs (one per class, on
  features scaled by their log-count ratio), C by inner CV, calibrated (isotonic), without and
  with the project's corpus rows of the same 7 classes (``--corpus``, the default: kept when the
  inner CV scores better with them).
- few labels: ``minyi train`` on 50, 100 and 300 labeled messages drawn at random (3 draws,
  stratified), scored on all the others, without and with the corpus rows.

``--cold-only`` leaves out the supervised and few-label rows (they take most of the time).

Columns: accuracy, macro-F1 over the 7 classes, expected calibration error of ``confidence``,
and short opinions classified per second (corpora/fragments.txt × 20, words included; the
built-in model without self-training). Then the time ``minyi score`` takes on the messages with
the keyword rules and with its default (wall and processor seconds of the whole command, models
loaded and outputs written, on this machine), and the project's own sets in benchmarks/data
(written by the project, not used to build the model; each file classified whole, as ``minyi
score`` would, so a file of 200 rows or more self-trains first): the share of environment
complaints in other provinces' voices put in 环境保护, and the level-1 accuracy of one-line
fragments.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from nlp import Pipeline, PipelineConfig
from nlp.classify import TrainedClassifier, corpus_examples
from nlp.classify.evaluation import evaluate
from nlp.core.resources import read_fragments
from nlp.text.normalize import Normalizer

DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020c" / "messages_labeled.tsv"
)
OWN = Path(__file__).resolve().parent / "data"
NAMES = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]
TARGETS = {"cold start": 0.86, "supervised": 0.92}


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


def score_command(texts: list[str], model: str, folder: Path) -> tuple[list[str], float, float]:
    """``minyi score`` on ``texts`` as one CSV export with ``--model model``: the level-1 class of
    each row, and the wall and processor seconds of the command (child processes included)."""
    source = folder / "messages.csv"
    pd.DataFrame({"留言详情": texts}).to_csv(source, index=False, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nlp.cli",
            "score",
            str(source),
            "--model",
            model,
            "--out",
            str(folder / model),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"minyi score --model {model} failed: {done.stderr[-2000:]}")
    rows = pd.read_csv(folder / model / "opinions.csv", encoding="utf-8-sig", keep_default_na=False)
    return (
        rows["level1"].tolist(),
        wall,
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    )


def own_sets(pipelines: dict) -> list[tuple[str, int, dict[str, float], str]]:
    """The project's held-out sets in benchmarks/data, each file classified whole by each
    pipeline as ``minyi score`` would classify it (a file of 200 rows or more self-trains
    first), then scored on its environment complaints and on all its rows."""
    out = []
    for name, kinds in (
        ("other_province_posts.csv", ("env", "all")),
        ("other_voices_own.csv", ("env", "all")),
        ("fragments_level1.csv", ("all",)),
        ("fragments_own.csv", ("all",)),
        ("fragments_fresh.csv", ("all",)),
    ):
        frame = pd.read_csv(OWN / name, dtype=str, keep_default_na=False)
        texts = Normalizer().normalize_many(frame["text"].tolist())
        truth = frame["level1"].tolist()
        found = {}
        for label, pipeline in pipelines.items():
            tokens = pipeline.tokenizer.tokenize_many(texts)
            found[label] = [
                p.level1 for p in pipeline.batch_classifier(texts, tokens).predict(texts, tokens)
            ]
        for kind in kinds:
            rows = [i for i, y in enumerate(truth) if kind == "all" or y == "环境保护"]
            scores = {
                label: float(np.mean([got[i] == truth[i] for i in rows]))
                for label, got in found.items()
            }
            what = "environment complaints put in 环境保护" if kind == "env" else "level-1 accuracy"
            target = (
                "≥ 0.85" if kind == "env" else "≥ 0.95" if name.startswith("fragments") else "–"
            )
            out.append((f"`{name}`: {what}", len(rows), scores, target))
    return out


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
    parser.add_argument(
        "--cold-only",
        action="store_true",
        help="only the cold-start rows, the timings and the project's own sets",
    )
    args = parser.parse_args()
    texts, labels = load_labeled()
    clean = Normalizer().normalize_many(texts)
    y = np.array(labels)
    rows = []

    lexicon_pipeline = Pipeline(PipelineConfig(classifier="lexicon"))
    tokenizer = lexicon_pipeline.tokenizer
    tokens = tokenizer.tokenize_many(clean)
    found = lexicon_pipeline.classifier.predict(clean, tokens)
    rows.append(
        (
            "cold start",
            "keyword rules (`--model lexicon`)",
            found,
            speed(lexicon_pipeline.classifier, tokenizer),
        )
    )

    builtin = Pipeline(PipelineConfig(classifier="builtin"))
    model = builtin.classifier  # the shipped model: loaded, not built
    words = builtin.tokenizer.tokenize_many(clean)
    found = model.predict(clean, words)
    rows.append(
        (
            "cold start",
            "built-in model, no self-training (`--no-self-train`)",
            found,
            speed(model, builtin.tokenizer),
        )
    )
    found = builtin.batch_classifier(clean, words).predict(clean, words)
    rows.append(("cold start", "built-in + self-training on the batch", found, None))

    timings = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in ("lexicon", "builtin"):
            predicted, wall, cpu = score_command(texts, name, Path(folder))
            timings[name] = (wall, cpu)
            if name == "builtin":
                rows.append(
                    (
                        "cold start",
                        "`minyi score` default: built-in, self-trained on a sample of the input",
                        (predicted, [1.0] * len(predicted)),
                        None,
                    )
                )
    own = own_sets({"keyword rules": lexicon_pipeline, "built-in (default)": builtin})

    if args.cold_only:
        report(rows, [], [], 0, args.folds, labels, timings, own)
        return
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

    report(rows, few, kept, len(found), args.folds, labels, timings, own)


def report(rows, few, kept, corpus_rows, folds, labels, timings, own) -> None:
    print(
        f"data: {DATA.name}, {len(labels)} messages, {len(NAMES)} classes"
        + (f"; supervised rows: {folds}-fold CV" if few else "")
    )
    if few:
        print(
            f"corpus rows of these classes: {corpus_rows}; kept by the inner CV in {sum(kept)} of {len(kept)} folds"
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
        scores = evaluate(labels, predicted, confidence)
        rate = f"{per_second:,.0f}" if per_second else "–"
        ece = (
            f"{scores['ece']:.3f}"
            if not isinstance(result, tuple) or setting == "supervised"
            else "–"
        )
        print(
            f"| {setting} | {name} | {scores['accuracy']:.3f} | {scores['macro_f1']:.3f} | {TARGETS[setting]:.2f} | {ece} | {rate} |"
        )
    print()
    print(
        f"`minyi score` on the {len(labels)} messages (one CSV export; the whole command: models loaded, outputs written)"
    )
    print()
    print(
        "| model | wall s | processor s | × keyword rules (wall) | × keyword rules (processor) | target |"
    )
    print("|---|---|---|---|---|---|")
    base_wall, base_cpu = timings["lexicon"]
    for name, label, target in (
        ("lexicon", "`--model lexicon`", "–"),
        ("builtin", "default (built-in, self-trained)", "≤ 2"),
    ):
        wall, cpu = timings[name]
        print(
            f"| {label} | {wall:.0f} | {cpu:.0f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} | {target} |"
        )
    print()
    print(
        "the project's held-out sets (benchmarks/data; not used to build the model; a file of 200 rows or more self-trains first, as `minyi score` on it would)"
    )
    print()
    names = list(own[0][2])
    print("| set | rows | " + " | ".join(names) + " | target |")
    print("|---|---|" + "---|" * len(names) + "---|")
    for what, n, scores, target in own:
        print(
            f"| {what} | {n} | " + " | ".join(f"{scores[k]:.3f}" for k in names) + f" | {target} |"
        )
    if few:
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

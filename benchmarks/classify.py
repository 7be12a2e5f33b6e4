"""Classification quality on the public labeled message set (7 level-1 classes).

    python benchmarks/classify.py

Data: ../shared/data/tipdm2020c/messages_labeled.tsv (1,842 messages, ``text<TAB>label_idx``).
Rows:
- ``lexicon (cold start)``: the built-in taxonomy rules, no training; a prediction outside the 7
  classes (or 待人工) counts as wrong.
- ``trained (5-fold CV)``: ``TrainedClassifier`` (char 1-3-gram TF-IDF + logistic regression),
  fitted on 4/5 and scored on the held-out 1/5, five times.
Prints accuracy, macro-F1 and texts/s of prediction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from nlp import InputTable, Pipeline, PipelineConfig
from nlp.classify import TrainedClassifier
from nlp.normalize import Normalizer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tipdm2020c" / "messages_labeled.tsv"
NAMES = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} not found: this benchmark needs the shared evaluation data")
    texts, labels = [], []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        text, _, idx = line.rpartition("\t")
        texts.append(text)
        labels.append(NAMES[int(idx)])
    rows = []

    # Cold start: the whole pipeline (masking off: it does not change classes, only time).
    pipeline = Pipeline(PipelineConfig(mask_pii=False))
    start = time.perf_counter()
    out = pipeline.run(InputTable.from_texts(texts)).opinions
    seconds = time.perf_counter() - start
    predicted = out["level1"].tolist()
    rows.append(("lexicon (cold start)", accuracy_score(labels, predicted), _macro_f1(labels, predicted), len(texts) / seconds, f"{(out['level1'] == '待人工').mean():.1%} 待人工"))

    normalizer = Normalizer()
    clean = np.array(normalizer.normalize_many(texts), dtype=object)
    y = np.array(labels)
    predicted = np.empty(len(y), dtype=object)
    predict_seconds = 0.0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(clean, y):
        clf = TrainedClassifier().fit(list(clean[train]), list(y[train]))
        start = time.perf_counter()
        predicted[test] = [p.level1 for p in clf.predict(list(clean[test]))]
        predict_seconds += time.perf_counter() - start
    rows.append(("trained (5-fold CV)", accuracy_score(y, predicted), _macro_f1(y, predicted), len(y) / predict_seconds, "char 1-3-gram TF-IDF + LR"))

    print(f"data: {DATA.name}, {len(texts)} messages, {len(set(labels))} classes")
    print()
    print(f"| {'model':<22} | {'accuracy':>8} | {'macro-F1':>8} | {'texts/s':>8} | note")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|{'-' * 10}|------")
    for name, acc, f1, speed, note in rows:
        print(f"| {name:<22} | {acc:>8.3f} | {f1:>8.3f} | {speed:>8.0f} | {note}")


def _macro_f1(truth, predicted) -> float:
    # Macro over the true classes: predictions outside them (another class, 待人工) only cost recall.
    return f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)


if __name__ == "__main__":
    main()

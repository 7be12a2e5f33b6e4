"""The built-in model's views of an opinion trained on the project's corpus: character and word
TF-IDF with logistic regression, the sentence encoder's vectors with logistic regression, the
keywords' scores as log-probabilities, their weighted agreement and the temperature that sharpens
it (fitted on held-out corpus rows)."""

from __future__ import annotations

import numpy as np

from nlp.classify.linear import Linear, softmax
from nlp.classify.ngrams import CharNgrams, WordNgrams

__all__ = [
    "ENCODE_CHARS",
    "corpus_features",
    "features",
    "lexicon_log_p",
    "recipe",
    "top_words",
    "train_views",
    "weighted",
]

# The views' weights in their agreement, chosen on the corpus (see benchmarks/classify.py).
WEIGHTS = {"lexicon": 2.0, "tfidf": 1.0, "encoder": 2.0}
LEXICON_FLOOR = 0.02  # keeps a class the keywords did not see from being ruled out
ENCODE_CHARS = 250
TEMPERATURE_FOLDS = 3
# The corpus has more rows where we wrote more level-2 topics: not a prior.
CLASS_WEIGHT = "balanced"


def corpus_features(models: dict):
    """The corpus rows' TF-IDF features (made again when first needed: cheaper than storing them)."""
    if "corpus_x" not in models:
        models["corpus_x"] = features(models, models["corpus_texts"], models["corpus_words"])
    return models["corpus_x"]


def lexicon_log_p(lexicon_predictions, classes) -> np.ndarray:
    """The keyword scores as log-probabilities over ``classes`` (uniform where none matched)."""
    index = {c: i for i, c in enumerate(classes)}
    lex = np.zeros((len(lexicon_predictions), len(index)))
    for k, p in enumerate(lexicon_predictions):
        for label, score in p.alternatives:
            if label in index:
                lex[k, index[label]] = score
    empty = lex.sum(axis=1) == 0
    lex[empty] = 1.0
    return np.log(lex / lex.sum(axis=1, keepdims=True) + LEXICON_FLOOR)


def _fit_features(texts: list[str], joined: list[str]):
    from scipy.sparse import hstack

    chars = CharNgrams(3).fit(texts)
    words = WordNgrams(1).fit([j.split() for j in joined])
    return (
        chars,
        words,
        hstack([chars.transform(texts), words.transform([j.split() for j in joined])]).tocsr(),
    )


def features(models: dict, texts: list[str], joined: list[str]):
    from scipy.sparse import hstack

    return hstack(
        [models["chars"].transform(texts), models["words"].transform([j.split() for j in joined])]
    ).tocsr()


def _views(x, y, vectors, weights) -> tuple[Linear, Linear | None]:
    """The level-1 models of the TF-IDF and encoder views."""
    tfidf = Linear.fit(x, y, 16.0, weights, class_weight=CLASS_WEIGHT)
    encoder = (
        None if vectors is None else Linear.fit(vectors, y, 4.0, weights, class_weight=CLASS_WEIGHT)
    )
    return tfidf, encoder


def _temperature(
    texts, joined, level1, vectors, weights, lexicon_predictions, groups, classes
) -> float:
    """The temperature that minimises the log-loss of the combined views on held-out corpus rows
    (``TEMPERATURE_FOLDS`` folds; rows written from one seed problem stay in one fold, so that the
    held-out rows say things the models did not see). The geometric mean of three views is far less
    sure than the views are right: without it, opinions classified right nine times in ten showed 0.6."""
    from scipy.optimize import minimize_scalar
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(level1)
    keywords = lexicon_log_p(lexicon_predictions, classes)
    combined = np.zeros((len(y), len(classes)))
    for train, test in StratifiedGroupKFold(TEMPERATURE_FOLDS, shuffle=True, random_state=0).split(
        texts, y, groups
    ):
        chars, words, x = _fit_features([texts[i] for i in train], [joined[i] for i in train])
        tfidf, encoder = _views(
            x, y[train], None if vectors is None else vectors[train], weights[train]
        )
        held = features(
            {"chars": chars, "words": words}, [texts[i] for i in test], [joined[i] for i in test]
        )
        combined[test] = weighted(
            keywords[test],
            np.log(tfidf.aligned(classes, held) + 1e-6),
            None if encoder is None else np.log(encoder.aligned(classes, vectors[test]) + 1e-6),
        )
    truth = np.searchsorted(classes, y)

    def log_loss(t: float) -> float:
        return -float(np.mean(np.log(softmax(combined / t)[np.arange(len(y)), truth] + 1e-12)))

    return float(minimize_scalar(log_loss, bounds=(0.05, 5.0), method="bounded").x)


def weighted(lexicon, tfidf, encoder) -> np.ndarray:
    """A weighted geometric mean of the views' probabilities (as log-probabilities): their
    agreement, not their product, so that three confident views do not make an over-confident whole."""
    out, total = (
        WEIGHTS["lexicon"] * lexicon + WEIGHTS["tfidf"] * tfidf,
        WEIGHTS["lexicon"] + WEIGHTS["tfidf"],
    )
    if encoder is not None:
        out, total = out + WEIGHTS["encoder"] * encoder, total + WEIGHTS["encoder"]
    return out / total


def train_views(
    texts, words, level1, level2, encoder, weights: np.ndarray, calibration: tuple
) -> dict:
    """The corpus models; ``calibration`` (the keyword view's predictions and each row's group)
    fits the temperature."""
    joined = [" ".join(w) for w in words]
    chars, word, x = _fit_features(texts, joined)
    vectors = encoder.encode([t[:ENCODE_CHARS] for t in texts]) if encoder else None
    tfidf, encoder_model = _views(x, level1, vectors, weights)
    with_level2 = [i for i, y in enumerate(level2) if y]  # reviewed opinions may have no level 2
    models = {
        "chars": chars,
        "words": word,
        "tfidf": tfidf,
        "classes": tfidf.classes,
        "encoder": encoder_model,
        "corpus_y": np.array(level1),
        "corpus_w": weights,
        "corpus_texts": list(texts),
        "corpus_words": joined,
        "corpus_v": vectors,
        "level2": Linear.fit(
            x[with_level2], [level2[i] for i in with_level2], 16.0, weights[with_level2]
        ),
        "level2_parent": {level2[i]: level1[i] for i in with_level2},
    }
    models["level2_classes"] = models["level2"].classes
    models["temperature"] = _temperature(
        texts, joined, level1, vectors, weights, *calibration, np.array(models["classes"])
    )
    return models


def top_words(models: dict, row, label: str, top: int = 5) -> list[str]:
    """The words whose weights pushed ``row`` towards ``label`` most."""
    n_chars = models["chars"].size
    coef = models["tfidf"].coef[models["tfidf"].classes.index(label)][n_chars:]
    part = row[:, n_chars:]
    if part.nnz == 0:
        return []
    scores = part.data * coef[part.indices]
    if "word_names" not in models:
        models["word_names"] = models["words"].names
    names = models["word_names"]
    return [
        names[part.indices[i]]
        for i in np.argsort(-scores)[:top]
        if scores[i] > 0 and len(names[part.indices[i]]) > 1
    ]


def recipe() -> str:
    """The settings a stored model was built with, beyond its data."""
    return f"weights={WEIGHTS}|class_weight={CLASS_WEIGHT}|folds={TEMPERATURE_FOLDS}|features=chars1-3+words1"

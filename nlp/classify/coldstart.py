"""The built-in classifier: useful with zero labels from the user.

Three views of an opinion are combined (a product of their probabilities, weighted):

- the taxonomy's weighted keywords (:class:`~nlp.classify.lexicon.LexiconClassifier`);
- character and word TF-IDF with logistic regression, trained on the project's own labeled corpus
  (``corpora/training_opinions.csv``, 3,404 opinions written by the project);
- the multilingual sentence encoder shipped in a package (USE), with logistic regression on the
  same corpus: meaning that n-grams miss ("屋里才十五度" is about heating).

The views' agreement is then sharpened by a temperature fitted by cross-validation on the corpus
(held-out rows' log-loss), so that ``confidence`` reads as a probability.

With ``adapt`` the model then teaches itself on the rows being scored (self-training): the most
confident predictions of each class become training rows, so that the batch's own vocabulary
counts. The model is built deterministically from ``corpora/`` on first use and cached in the
user cache folder, keyed by the corpus, taxonomy and library versions.

Opinions that staff relabelled in review (``minyi train --from-state``) join the corpus with
``REVIEWED_WEIGHT`` each; that model is saved as a folder that ``--model`` takes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from nlp.classify.base import Prediction
from nlp.classify.corpus import corpus_examples, read_corpus
from nlp.classify.lexicon import LexiconClassifier
from nlp.classify.taxonomy import ABSTAIN, Taxonomy
from nlp.core.errors import ConfigError, NotFittedError
from nlp.core.resources import cache_folder, corpus_path

__all__ = ["ColdStartClassifier", "corpus_examples"]

log = logging.getLogger(__name__)

WEIGHTS = {
    "lexicon": 2.0,
    "tfidf": 1.0,
    "encoder": 2.0,
}  # chosen on the corpus, see benchmarks/classify.py
LEXICON_FLOOR = 0.02  # keeps a class the keywords did not see from being ruled out
ADAPT_MIN_ROWS = 200  # self-training needs enough rows to learn from
ADAPT_MAX_ROWS = 5000  # rows of the batch used for self-training (sampled evenly)
ADAPT_KEEP = 0.6  # the most confident share of each predicted class becomes training data
ENCODE_CHARS = 250
TEMPERATURE_FOLDS = 3
CLASS_WEIGHT = "balanced"  # the corpus has more rows where we wrote more level-2 topics (城乡建设 690, 经济管理 92): not a prior
REVIEWED_WEIGHT = 10.0  # a reviewed opinion counts as this many corpus rows (1, 3, 10 tried: benchmarks/review.py)
FORMAT = "minyi-builtin-reviewed/1"


class ColdStartClassifier:
    """Keywords + corpus-trained TF-IDF + sentence-encoder similarity, optionally adapted to the batch.

    Args:
        taxonomy: The class tree (keywords, level-2 parents); the project's default when ``None``.
        encoder: A sentence encoder (``encode(texts) -> array``); USE when ``None``; ``False``
            leaves the encoder view out.
        adapt: Self-train on the rows being scored when there are at least ``ADAPT_MIN_ROWS``.
        abstain_below: Below this confidence an opinion is marked ``待人工``.
        cache: Folder for the built model; the user cache folder when ``None``.
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        encoder=None,
        adapt: bool = True,
        abstain_below: float = 0.0,
        cache: str | Path | None = None,
    ):
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.adapt = adapt
        self.abstain_below = abstain_below
        self.cache = cache

    @property
    def vocabulary(self) -> list[str]:
        return self._lexicon().vocabulary

    def _lexicon(self) -> LexiconClassifier:
        if not hasattr(self, "lexicon_"):
            self.lexicon_ = LexiconClassifier(
                self.taxonomy, temperature=1.0
            ).fit()  # a view: its own scale is learnt
        return self.lexicon_

    def _encoder(self):
        if self.encoder is None:
            from nlp.encoders import make_encoder

            self.encoder = make_encoder("use")
        return self.encoder or None

    def fit(
        self, tokenizer=None, reviewed: tuple[list[str], list[str], list[str]] | None = None
    ) -> ColdStartClassifier:
        """Build (or load from the cache) the corpus models. ``tokenizer`` splits words for the
        word features; the default jieba tokenizer when ``None``. ``reviewed`` adds examples
        (normalised texts, level-1 and level-2 labels) weighted ``REVIEWED_WEIGHT`` each; such a
        model is not cached (save it with :meth:`save`)."""
        import joblib

        from nlp.text.segment import make_tokenizer

        lexicon = self._lexicon()
        self.taxonomy_ = lexicon.taxonomy_
        self.tokenizer_ = tokenizer or make_tokenizer("jieba", extra_words=lexicon.vocabulary)
        corpus = corpus_path("training_opinions.csv")
        encoder = self._encoder()
        key = _cache_key(
            corpus,
            self.taxonomy_.version,
            f"{getattr(encoder, 'name', 'none')}|{getattr(encoder, 'settings', '')}",
        )
        folder = Path(self.cache) if self.cache else _cache_folder()
        path = folder / f"coldstart-{key}.joblib"
        if path.is_file() and not reviewed:
            try:
                self.models_ = joblib.load(path)
                return self
            except Exception as e:  # a damaged cache file is rebuilt
                log.warning("rebuilding the cold-start model: cache %s unreadable (%s)", path, e)
        frame, texts = read_corpus(corpus)
        level1, level2 = frame["level1"].tolist(), frame["level2"].tolist()
        # Rows written from the same seed problem are held out together when the temperature is fitted.
        groups = (
            frame["problem"].tolist() if "problem" in frame else [str(k) for k in range(len(texts))]
        )
        weights = [1.0] * len(texts)
        if reviewed:
            texts = [*texts, *reviewed[0]]
            level1, level2 = [*level1, *reviewed[1]], [*level2, *reviewed[2]]
            weights += [REVIEWED_WEIGHT] * len(reviewed[0])
            groups += [f"reviewed#{k}" for k in range(len(reviewed[0]))]
        words = self.tokenizer_.tokenize_many(texts)
        self.models_ = _train(
            texts,
            words,
            level1,
            level2,
            encoder,
            np.array(weights),
            (lexicon.predict(texts, words), groups),
        )
        self.reviewed_ = {
            "examples": len(reviewed[0]) if reviewed else 0,
            "labels": sorted(set(reviewed[1])) if reviewed else [],
        }
        if not reviewed:
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            joblib.dump(self.models_, partial)
            partial.replace(path)
        return self

    def save(self, folder: str | Path, manifest: dict | None = None) -> Path:
        """Write the fitted model as a folder (``manifest.json``, ``model.joblib``) for ``--model``."""
        import joblib

        from nlp.classify.trained import _versions

        if not hasattr(self, "models_"):
            raise NotFittedError("nothing to save: the classifier is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.models_, folder / "model.joblib")
        about = {
            "format": FORMAT,
            "model": "built-in (keywords + corpus TF-IDF + sentence encoder) with reviewed opinions",
            "labels": self.models_["classes"],
            "taxonomy": self.taxonomy_.version,
            "encoder": getattr(self._encoder(), "name", "none"),
            "reviewed_examples": getattr(self, "reviewed_", {}).get("examples", 0),
            "reviewed_weight": REVIEWED_WEIGHT,
            "versions": _versions(),
            **(manifest or {}),
        }
        (folder / "manifest.json").write_text(
            json.dumps(about, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        return folder

    @staticmethod
    def is_saved(folder: str | Path) -> bool:
        """Whether ``folder`` holds a model written by :meth:`save`."""
        try:
            return (
                json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8")).get(
                    "format"
                )
                == FORMAT
            )
        except (OSError, ValueError, AttributeError):
            return False

    @classmethod
    def load(
        cls,
        folder: str | Path,
        taxonomy: Taxonomy | None = None,
        encoder=None,
        abstain_below: float = 0.0,
    ) -> ColdStartClassifier:
        """Load a folder written by :meth:`save`.

        Raises:
            ConfigError: It is damaged, or was built with another sentence encoder.
        """
        import joblib

        folder = Path(folder)
        try:
            about = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            models = joblib.load(folder / "model.joblib")
        except Exception as e:  # a damaged model must say so, not crash later
            raise ConfigError(
                f"model {folder} cannot be read ({type(e).__name__}: {e}); train it again"
            ) from e
        self = cls(taxonomy, encoder=encoder, abstain_below=abstain_below)
        name = getattr(self._encoder(), "name", "none")
        if about.get("encoder") != name:
            raise ConfigError(
                f"model {folder} was built with encoder {about.get('encoder')!r}, not {name!r}"
            )
        lexicon = self._lexicon()
        self.taxonomy_, self.models_, self.manifest_ = lexicon.taxonomy_, models, about
        return self

    def predict(self, texts: list[str], tokens: list[list[str]]) -> list[Prediction]:
        """Classify normalised texts with their words."""
        if not hasattr(self, "models_"):
            raise NotFittedError("ColdStartClassifier is not fitted; call fit() first")
        if not texts:
            return []
        m = self.models_
        classes = m["classes"]
        lexicon_predictions = self.lexicon_.predict(texts, tokens)
        joined = [" ".join(w) for w in tokens]
        x = _features(m, texts, joined)
        vectors = (
            self.encoder.encode([t[:ENCODE_CHARS] for t in texts])
            if m.get("encoder") is not None and self._encoder()
            else None
        )
        log_p = self._combine(lexicon_predictions, x, vectors)
        if self.adapt and len(texts) >= ADAPT_MIN_ROWS:
            proba = self._batch_text_model(
                _softmax(self._self_train(log_p, lexicon_predictions, x, vectors)), texts, joined
            )
        else:
            proba = _softmax(
                log_p / m.get("temperature", 1.0)
            )  # models saved before it was fitted: 1
        level2_proba = m["level2"].predict_proba(x)
        out = []
        for k, row in enumerate(proba):
            order = np.argsort(-row)[:3]
            alternatives = [(classes[i], round(float(row[i]), 4)) for i in order]
            best, confidence = alternatives[0]
            if confidence < self.abstain_below:
                out.append(Prediction(ABSTAIN, confidence=confidence, alternatives=alternatives))
                continue
            level2 = self._level2(best, lexicon_predictions[k], level2_proba[k])
            words = (
                lexicon_predictions[k].keywords
                if lexicon_predictions[k].level1 == best
                else _top_words(m, x[k], best)
            )
            out.append(
                Prediction(best, level2, round(float(confidence), 4), list(words)[:8], alternatives)
            )
        return out

    def _combine(self, lexicon_predictions, x, vectors) -> np.ndarray:
        m = self.models_
        encoder = None if vectors is None else np.log(m["encoder"].predict_proba(vectors) + 1e-6)
        return _weighted(
            self._lexicon_log_p(lexicon_predictions),
            np.log(m["tfidf"].predict_proba(x) + 1e-6),
            encoder,
        )

    def _self_train(self, log_p, lexicon_predictions, x, vectors) -> np.ndarray:
        """Two rounds of self-training on the batch's most confident rows of each class. Each fit
        starts from the previous models' weights (the corpus models' in the first round): the
        problem is convex, so it ends close to where a fit from zero would in half the time (on the
        1,842 public messages 0.7% changed class, macro-F1 0.823 -> 0.822, 17 -> 10 s)."""
        from scipy.sparse import vstack

        m = self.models_
        classes = np.array(m["classes"])
        rows = _adapt_rows(len(log_p))
        tfidf, enc = m["tfidf"], m["encoder"]
        for _ in range(2):
            proba = _softmax(log_p)
            label, keep = proba[rows].argmax(axis=1), _most_confident(proba[rows])
            chosen = rows[keep]
            y = np.concatenate([m["corpus_y"], classes[label[keep]]])
            weights = np.concatenate(
                [0.3 * m.get("corpus_w", np.ones(len(m["corpus_y"]))), np.ones(len(chosen))]
            )
            tfidf = _warm(tfidf).fit(vstack([m["corpus_x"], x[chosen]]), y, sample_weight=weights)
            log_p = np.log(_aligned(tfidf, classes, x) + 1e-6) + 0.5 * self._lexicon_log_p(
                lexicon_predictions
            )
            total = 1.5
            if vectors is not None:
                enc = _warm(enc).fit(
                    np.vstack([m["corpus_v"], vectors[chosen]]), y, sample_weight=weights
                )
                log_p += np.log(_aligned(enc, classes, vectors) + 1e-6)
                total += 1.0
            log_p /= total
        return log_p

    def _batch_text_model(
        self, proba: np.ndarray, texts: list[str], joined: list[str]
    ) -> np.ndarray:
        """The last round of self-training: ``minyi train``'s model (NB-weighted SVMs on
        character and word n-grams) fitted on the batch's most confident rows of each class, with
        the corpus rows beside them at half their weight, its probabilities calibrated on the
        batch's rows. It reads the batch's own words better than the logistic regressions do (on
        the 1,842 public messages macro-F1 0.844 -> 0.859, calibration error 0.075 -> 0.048).
        Models saved without their corpus texts keep ``proba``."""
        import warnings

        import pandas as pd

        from nlp.classify.trained import BORROWED_WEIGHT, TrainedClassifier

        m = self.models_
        if "corpus_texts" not in m:
            return proba
        classes = np.array(m["classes"])
        rows = _adapt_rows(len(proba))
        chosen = rows[_most_confident(proba[rows])]
        labels = [str(c) for c in classes[proba[chosen].argmax(axis=1)]]
        if len(set(labels)) < 2:
            return proba
        corpus = pd.DataFrame({0: m["corpus_texts"], 1: m["corpus_words"]})
        extra = (corpus, m["corpus_y"], BORROWED_WEIGHT * m.get("corpus_w", np.ones(len(corpus))))
        with (
            warnings.catch_warnings()
        ):  # a class the batch holds one or two of is calibrated on them
            warnings.simplefilter("ignore", UserWarning)
            model = TrainedClassifier().fit_rows(
                1.0,
                "sigmoid",
                pd.DataFrame({0: [texts[i] for i in chosen], 1: [joined[i] for i in chosen]}),
                labels,
                extra,
            )
        return _aligned(model, classes, pd.DataFrame({0: list(texts), 1: list(joined)}))

    def _lexicon_log_p(self, lexicon_predictions) -> np.ndarray:
        return _lexicon_log_p(lexicon_predictions, self.models_["classes"])

    def _level2(self, level1: str, lexicon_prediction: Prediction, level2_proba: np.ndarray) -> str:
        if lexicon_prediction.level1 == level1 and lexicon_prediction.level2:
            return lexicon_prediction.level2
        names = self.models_["level2_classes"]
        parents = self.models_["level2_parent"]
        best = (
            max((p, n) for p, n in zip(level2_proba, names) if parents[n] == level1)
            if any(parents[n] == level1 for n in names)
            else (0, "")
        )
        return best[1]


def _adapt_rows(n: int) -> np.ndarray:
    """The rows of a batch of ``n`` that self-training learns from (at most ``ADAPT_MAX_ROWS``, evenly spread)."""
    return np.linspace(0, n - 1, min(n, ADAPT_MAX_ROWS)).astype(int)


def _most_confident(proba: np.ndarray) -> np.ndarray:
    """Which rows are among the ``ADAPT_KEEP`` most confident of the class they are put in."""
    label, conf = proba.argmax(axis=1), proba.max(axis=1)
    keep = np.zeros(len(proba), dtype=bool)
    for c in np.unique(label):
        members = np.where(label == c)[0]
        keep[members[conf[members] >= np.quantile(conf[members], 1 - ADAPT_KEEP)]] = True
    return keep


def _lexicon_log_p(lexicon_predictions, classes) -> np.ndarray:
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


def _tfidf(texts, joined):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    word = TfidfVectorizer(analyzer=str.split, sublinear_tf=True, token_pattern=None)
    return chars, word, hstack([chars.fit_transform(texts), word.fit_transform(joined)]).tocsr()


def _views(x, y, vectors, weights):
    """The level-1 models of the TF-IDF and encoder views."""
    from sklearn.linear_model import LogisticRegression

    tfidf = LogisticRegression(C=16, max_iter=3000, class_weight=CLASS_WEIGHT).fit(
        x, y, sample_weight=weights
    )
    encoder = (
        None
        if vectors is None
        else LogisticRegression(C=4, max_iter=3000, class_weight=CLASS_WEIGHT).fit(
            vectors, y, sample_weight=weights
        )
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
    lexicon_log_p = _lexicon_log_p(lexicon_predictions, classes)
    combined = np.zeros((len(y), len(classes)))
    for train, test in StratifiedGroupKFold(TEMPERATURE_FOLDS, shuffle=True, random_state=0).split(
        texts, y, groups
    ):
        chars, word, x = _tfidf([texts[i] for i in train], [joined[i] for i in train])
        tfidf, encoder = _views(
            x, y[train], None if vectors is None else vectors[train], weights[train]
        )
        held = _features(
            {"chars": chars, "words": word}, [texts[i] for i in test], [joined[i] for i in test]
        )
        combined[test] = _weighted(
            lexicon_log_p[test],
            np.log(_aligned(tfidf, classes, held) + 1e-6),
            None if encoder is None else np.log(_aligned(encoder, classes, vectors[test]) + 1e-6),
        )
    truth = np.searchsorted(classes, y)

    def log_loss(t: float) -> float:
        return -float(np.mean(np.log(_softmax(combined / t)[np.arange(len(y)), truth] + 1e-12)))

    return float(minimize_scalar(log_loss, bounds=(0.05, 5.0), method="bounded").x)


def _weighted(lexicon, tfidf, encoder) -> np.ndarray:
    """A weighted geometric mean of the views' probabilities (as log-probabilities): their
    agreement, not their product, so that three confident views do not make an over-confident whole."""
    out, total = (
        WEIGHTS["lexicon"] * lexicon + WEIGHTS["tfidf"] * tfidf,
        WEIGHTS["lexicon"] + WEIGHTS["tfidf"],
    )
    if encoder is not None:
        out, total = out + WEIGHTS["encoder"] * encoder, total + WEIGHTS["encoder"]
    return out / total


def _train(
    texts,
    words,
    level1,
    level2,
    encoder,
    weights: np.ndarray | None = None,
    calibration: tuple | None = None,
) -> dict:
    """The corpus models; ``calibration`` (the keyword view's predictions and each row's group)
    also fits the temperature."""
    from sklearn.linear_model import LogisticRegression

    weights = np.ones(len(texts)) if weights is None else weights
    joined = [" ".join(w) for w in words]
    chars, word, x = _tfidf(texts, joined)
    vectors = encoder.encode([t[:ENCODE_CHARS] for t in texts]) if encoder else None
    tfidf, encoder_model = _views(x, level1, vectors, weights)
    with_level2 = [i for i, y in enumerate(level2) if y]  # reviewed opinions may have no level 2
    models = {
        "chars": chars,
        "words": word,
        "tfidf": tfidf,
        "classes": [str(c) for c in tfidf.classes_],
        "corpus_x": x,
        "corpus_y": np.array(level1),
        "corpus_w": weights,
        "corpus_texts": list(texts),
        "corpus_words": joined,
        "level2": LogisticRegression(C=16, max_iter=3000).fit(
            x[with_level2], [level2[i] for i in with_level2], sample_weight=weights[with_level2]
        ),
        "level2_parent": {level2[i]: level1[i] for i in with_level2},
        "encoder": encoder_model,
        "corpus_v": vectors,
    }
    models["level2_classes"] = [str(c) for c in models["level2"].classes_]
    if calibration is not None:
        models["temperature"] = _temperature(
            texts, joined, level1, vectors, weights, *calibration, np.array(models["classes"])
        )
    return models


def _features(models: dict, texts: list[str], joined: list[str]):
    from scipy.sparse import hstack

    return hstack([models["chars"].transform(texts), models["words"].transform(joined)]).tocsr()


def _aligned(model, classes: np.ndarray, x) -> np.ndarray:
    """``predict_proba`` with columns in ``classes`` order (a class missing from training gets 0)."""
    proba = model.predict_proba(x)
    out = np.zeros((proba.shape[0], len(classes)))
    where = {c: i for i, c in enumerate(model.classes_)}
    for j, c in enumerate(classes):
        if c in where:
            out[:, j] = proba[:, where[c]]
    return out


def _top_words(models: dict, row, label: str, top: int = 5) -> list[str]:
    """The words whose weights pushed ``row`` towards ``label`` most."""
    words = models["words"]
    n_chars = len(models["chars"].vocabulary_)
    coef = models["tfidf"].coef_[list(models["tfidf"].classes_).index(label)][n_chars:]
    part = row[:, n_chars:]
    if part.nnz == 0:
        return []
    scores = part.data * coef[part.indices]
    if "word_names" not in models:
        models["word_names"] = words.get_feature_names_out()
    names = models["word_names"]
    return [
        names[part.indices[i]]
        for i in np.argsort(-scores)[:top]
        if scores[i] > 0 and len(names[part.indices[i]]) > 1
    ]


def _warm(model):
    """A copy of a fitted logistic regression that its next ``fit`` starts from (unweighted classes)."""
    import copy

    return copy.deepcopy(model).set_params(warm_start=True, class_weight=None)


def _softmax(log_p: np.ndarray) -> np.ndarray:
    p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _cache_key(corpus: Path, taxonomy_version: str, encoder: str) -> str:
    import sklearn

    from nlp.core.version import __version__

    digest = hashlib.sha256(corpus.read_bytes())
    digest.update(
        f"{taxonomy_version}|{encoder}|{sklearn.__version__}|{__version__}|{WEIGHTS}|{CLASS_WEIGHT}|v3".encode()
    )
    return digest.hexdigest()[:16]


def _cache_folder() -> Path:
    return cache_folder()

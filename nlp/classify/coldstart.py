"""The built-in classifier: useful with zero labels from the user.

Three views of an opinion are combined (a weighted geometric mean of their probabilities):

- the taxonomy's weighted keywords (:class:`~nlp.classify.lexicon.LexiconClassifier`);
- character and word TF-IDF with logistic regression, trained on the project's own labeled corpus
  (``corpora/training_opinions.csv``, opinions written by the project);
- the multilingual sentence encoder shipped in a package (USE), with logistic regression on the
  same corpus: meaning that n-grams miss ("屋里才十五度" is about heating).

The views' agreement is then sharpened by a temperature fitted by cross-validation on the corpus
(held-out rows' log-loss), so that ``confidence`` reads as a probability.

The model ships with the package (``corpora/models/builtin/``: plain arrays, no pickles), built
from ``corpora/`` by ``python corpora/build_model.py``; a test checks that building it again gives
the same predictions. It is loaded, never built, with the default taxonomy and sentence encoder;
with a taxonomy of your own it is built once from the corpus (about a minute) and cached in the
user cache folder.

Self-training (:meth:`ColdStartClassifier.self_trained`) teaches a copy of the model the wording of
the rows being scored: the most confident predictions of each class become training rows. It learns
from at most ``sample`` rows of a batch (drawn with a fixed seed), so that a million rows do not pay
for it a million times; the copy then classifies every row.

Opinions that staff relabelled in review (``minyi train --from-state``) join the corpus with
``REVIEWED_WEIGHT`` each; that model is saved as a folder that ``--model`` takes.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np

from nlp.classify.base import Prediction
from nlp.classify.corpus import corpus_examples, read_corpus
from nlp.classify.corpus_model import (
    ENCODE_CHARS,
    corpus_features,
    features,
    lexicon_log_p,
    recipe,
    top_words,
    train_views,
    weighted,
)
from nlp.classify.lexicon import LexiconClassifier
from nlp.classify.linear import Linear, softmax
from nlp.classify.selftrain import BatchModel, most_confident, sample_rows
from nlp.classify.stored import (
    FORMAT,
    OLD_FORMATS,
    dictionaries_sha256,
    from_arrays,
    model_key,
    read_manifest,
    read_model,
    sha256_of,
    shipped_folder,
    to_arrays,
    versions,
    write_model,
)
from nlp.classify.taxonomy import ABSTAIN, Taxonomy
from nlp.core.errors import ConfigError, NotFittedError
from nlp.core.resources import cache_folder, corpus_path
from nlp.text.normalize import without_lost_marks

__all__ = ["ColdStartClassifier", "corpus_examples", "sample_rows"]

log = logging.getLogger(__name__)

ADAPT_MIN_ROWS = 200  # self-training needs enough (distinct) rows to learn from
ADAPT_SAMPLE = 2000  # rows of a batch that self-training learns from (drawn with a fixed seed)
ADAPT_CORPUS_WEIGHT = 0.3  # a corpus row beside the batch's rows in the rounds of self-training
# Each round's fits start from the previous weights and stop after this many steps: on the 1,842
# public messages 6 steps gave the macro-F1 of fits run to convergence (0.861) in a third of the time.
ADAPT_STEPS = 6
# After self-training, the last round's model and the keywords are combined with these weights
# (the keywords keep one-line fragments among long posts where the corpus put them: on the 1,842
# public messages with the project's 143 fragments among them, macro-F1 0.858 -> 0.864 and the
# fragments' agreement with the model before self-training 0.94 -> 0.97), and sharpened by this
# temperature (its calibration error on those messages: 0.021 at 0.8, 0.094 at 1).
BATCH_WEIGHTS = {"batch": 2.0, "lexicon": 1.0}
BATCH_TEMPERATURE = 0.8
# An opinion in which no keyword is found and whose likeliest class is below this is left to a
# person, as the keyword rules leave one without keywords: with nothing to go on the views lean
# to the classes of their priors (城乡建设 most often: "你好", "见附件", "已解决，谢谢"). On the
# public message sets 0.4% of posts are left so (35 of 9,626); on the 1,842 labeled ones 2 rows,
# both wrongly placed before.
UNPLACED_BELOW = 0.4
# A reviewed opinion counts as this many corpus rows (1, 3, 10 tried: benchmarks/review.py).
REVIEWED_WEIGHT = 10.0


class ColdStartClassifier:
    """Keywords + corpus-trained TF-IDF + sentence-encoder similarity, optionally adapted to the batch.

    Args:
        taxonomy: The class tree (keywords, level-2 parents); the project's default when ``None``.
        encoder: A sentence encoder (``encode(texts) -> array``); USE when ``None``; ``False``
            leaves the encoder view out.
        adapt: :meth:`predict` self-trains on the rows it is given when there are at least
            ``ADAPT_MIN_ROWS`` (the pipeline self-trains once per run instead, see
            :meth:`self_trained`).
        abstain_below: Below this confidence an opinion is marked ``待人工``.
        unplaced_below: An opinion in which no keyword is found is marked ``待人工`` below this
            confidence (``UNPLACED_BELOW``), and so is one that has no word beyond stop words and
            greetings ("你好", "谢谢领导"); 0 places every opinion.
        cache: Folder for a model built from the corpus; the user cache folder when ``None``.
        sample: Self-training learns from at most this many rows of a batch.
        seed: Seed of that sample.
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        encoder=None,
        adapt: bool = True,
        abstain_below: float = 0.0,
        unplaced_below: float = UNPLACED_BELOW,
        cache: str | Path | None = None,
        sample: int = ADAPT_SAMPLE,
        seed: int = 0,
    ):
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.adapt = adapt
        self.abstain_below = abstain_below
        self.unplaced_below = unplaced_below
        self.cache = cache
        self.sample = sample
        self.seed = seed

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

    def _expects(self) -> dict:
        """What a stored model must have been built from to serve this classifier."""
        encoder = self._encoder()
        return {
            "format": FORMAT,
            "corpus_sha256": sha256_of(corpus_path("training_opinions.csv")),
            "taxonomy": self._lexicon().taxonomy_.version,
            "encoder": getattr(encoder, "name", "none"),
            "encoder_settings": str(getattr(encoder, "settings", "")),
            "encode_chars": ENCODE_CHARS if encoder else 0,
            "recipe": recipe(),
        }

    def fit(
        self, tokenizer=None, reviewed: tuple[list[str], list[str], list[str]] | None = None
    ) -> ColdStartClassifier:
        """Load the shipped model, or build one from the corpus.

        The model that ships in ``corpora/models/builtin/`` is used when it was built from this
        corpus, taxonomy and sentence encoder; otherwise one is built (about a minute) and cached.

        Args:
            tokenizer: Splits words for the word features when a model is built; the default
                jieba tokenizer when ``None``.
            reviewed: Examples to add (normalised texts, level-1 and level-2 labels), weighted
                ``REVIEWED_WEIGHT`` each; such a model is neither shipped nor cached (save it with
                :meth:`save`).
        """
        from nlp.text.segment import make_tokenizer

        lexicon = self._lexicon()
        self.taxonomy_ = lexicon.taxonomy_
        self.tokenizer_ = tokenizer or make_tokenizer("jieba", extra_words=lexicon.vocabulary)
        expects = self._expects()
        if not reviewed:
            folder = Path(self.cache) if self.cache else cache_folder()
            cached = folder / f"coldstart-{model_key(expects)}"
            for candidate in (shipped_folder(), cached):
                found = read_model(candidate, expects)
                if found is not None:
                    self.models_, self.manifest_ = found
                    return self
            log.info(
                "building the built-in model from the corpus (the shipped one is for another taxonomy or encoder)"
            )
        self.models_, self.manifest_ = self.build(reviewed)
        if not reviewed:
            write_model(cached, self.models_, self.manifest_)
        return self

    def build(
        self, reviewed: tuple[list[str], list[str], list[str]] | None = None
    ) -> tuple[dict, dict]:
        """The models and manifest built from ``corpora/training_opinions.csv`` (and ``reviewed``),
        deterministically; :meth:`fit` calls it when no stored model will do."""
        lexicon = self._lexicon()
        corpus = corpus_path("training_opinions.csv")
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
        tokenizer = getattr(self, "tokenizer_", None)
        if tokenizer is None:
            from nlp.text.segment import make_tokenizer

            tokenizer = self.tokenizer_ = make_tokenizer("jieba", extra_words=lexicon.vocabulary)
        words = tokenizer.tokenize_many(texts)
        models = train_views(
            texts,
            words,
            level1,
            level2,
            self._encoder(),
            np.array(weights),
            (lexicon.predict(texts, words), groups),
        )
        # Through the stored form, so that a model just built predicts as the same model loaded.
        models = from_arrays(to_arrays(models))
        manifest = {
            **self._expects(),
            "model": "built-in (keywords + corpus TF-IDF + sentence encoder)",
            "labels": models["classes"],
            "corpus_rows": len(frame),
            "reviewed_examples": len(reviewed[0]) if reviewed else 0,
            "reviewed_labels": sorted(set(reviewed[1])) if reviewed else [],
            "temperature": round(models["temperature"], 6),
            # The default tokenizer's word lists and the taxonomy file: a test checks that the
            # shipped model was built with the ones in corpora/ (a tokenizer of one's own is not
            # checked at run time).
            "dictionaries_sha256": dictionaries_sha256(),
            "built_with": versions(),
        }
        return models, manifest

    def save(self, folder: str | Path, manifest: dict | None = None) -> Path:
        """Write the fitted model as a folder (``manifest.json``, ``model.npz``) for ``--model``."""
        if not hasattr(self, "models_"):
            raise NotFittedError("nothing to save: the classifier is not fitted")
        about = {**self.manifest_, "reviewed_weight": REVIEWED_WEIGHT, **(manifest or {})}
        return write_model(Path(folder), self.models_, about)

    @staticmethod
    def is_saved(folder: str | Path) -> bool:
        """Whether ``folder`` holds a model written by :meth:`save` (or an older version of it)."""
        return read_manifest(Path(folder)).get("format") in (FORMAT, *OLD_FORMATS)

    @classmethod
    def load(
        cls,
        folder: str | Path,
        taxonomy: Taxonomy | None = None,
        encoder=None,
        abstain_below: float = 0.0,
        adapt: bool = True,
    ) -> ColdStartClassifier:
        """Load a folder written by :meth:`save`.

        Raises:
            ConfigError: It is damaged, was saved by an older Minyi, or was built with another
                sentence encoder.
        """
        folder = Path(folder)
        about = read_manifest(folder)
        if about.get("format") in OLD_FORMATS:
            raise ConfigError(
                f"model {folder} was saved by an older Minyi ({about['format']}); train it again with `minyi train --from-state`"
            )
        self = cls(taxonomy, encoder=encoder, abstain_below=abstain_below, adapt=adapt)
        name = getattr(self._encoder(), "name", "none")
        if about.get("encoder") != name:
            raise ConfigError(
                f"model {folder} was built with encoder {about.get('encoder')!r}, not {name!r}"
            )
        try:
            with np.load(folder / "model.npz", allow_pickle=False) as arrays:
                self.models_ = from_arrays(arrays)
        except Exception as e:  # a damaged model must say so, not crash later
            raise ConfigError(
                f"model {folder} cannot be read ({type(e).__name__}: {e}); train it again"
            ) from e
        self.taxonomy_, self.manifest_ = self._lexicon().taxonomy_, about
        return self

    def predict(
        self, texts: list[str], tokens: list[list[str]], vectors: np.ndarray | None = None
    ) -> list[Prediction]:
        """Classify normalised texts with their words.

        Args:
            texts: Normalised texts.
            tokens: Their words.
            vectors: Their sentence vectors (``texts`` cut to ``ENCODE_CHARS``), when already
                computed; encoded here when ``None`` and needed.
        """
        if not hasattr(self, "models_"):
            raise NotFittedError("ColdStartClassifier is not fitted; call fit() first")
        if not texts:
            return []
        texts = [without_lost_marks(t) for t in texts]
        if getattr(self, "batch_", None) is None and self.adapt and len(texts) >= ADAPT_MIN_ROWS:
            return self.self_trained(texts, tokens, vectors).predict(texts, tokens)
        lexicon_predictions = self.lexicon_.predict(texts, tokens)
        joined = [" ".join(w) for w in tokens]
        x = None
        if getattr(self, "batch_", None) is not None:
            log_p = BATCH_WEIGHTS["batch"] * np.log(
                self.batch_.proba(texts, joined) + 1e-6
            ) + BATCH_WEIGHTS["lexicon"] * self._lexicon_log_p(lexicon_predictions)
            proba = softmax(log_p / (sum(BATCH_WEIGHTS.values()) * BATCH_TEMPERATURE))
        else:
            x = features(self.models_, texts, joined)
            log_p = self._combine(lexicon_predictions, x, self._vectors(texts, vectors))
            proba = softmax(log_p / self.models_["temperature"])
        return self._predictions(proba, lexicon_predictions, texts, joined, x)

    def self_trained(
        self, texts: list[str], tokens: list[list[str]], vectors: np.ndarray | None = None
    ) -> ColdStartClassifier:
        """A copy of this classifier taught by the rows given (self-training), which classifies
        any rows without learning again.

        At most ``sample`` of the distinct rows are learnt from (:func:`sample_rows`, with
        ``seed``). Two rounds refit the corpus views on the corpus and the sample's most confident
        rows of each class; then ``minyi train``'s kind of model (NB-weighted SVMs on character and
        word n-grams, whose vocabulary includes the batch's own words) is fitted on the sample's
        most confident rows, with the corpus rows beside them at ``BATCH_CORPUS_WEIGHT``, and
        calibrated on the sample's rows: with the keywords beside it, it classifies every row. The
        rows learnt from are each class's most confident (:func:`most_confident`). On the 1,842
        public messages macro-F1 went from 0.812 to 0.865 (benchmarks/classify.py).

        Args:
            texts: Normalised texts of the batch (or of a sample of it).
            tokens: Their words.
            vectors: Their sentence vectors, when already computed.
        """
        if not hasattr(self, "models_"):
            raise NotFittedError("ColdStartClassifier is not fitted; call fit() first")
        # An export's lost characters ("?") change nothing it learns.
        texts = [without_lost_marks(t) for t in texts]
        first: dict[str, int] = {}  # a text said again is learnt from once
        for k, text in enumerate(texts):
            first.setdefault(text, k)
        distinct = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        rows = distinct[sample_rows((texts[k] for k in distinct), self.sample, self.seed)]
        texts, tokens = [texts[i] for i in rows], [tokens[i] for i in rows]
        vectors = None if vectors is None else np.asarray(vectors)[rows]
        out = copy.copy(self)
        out.adapt, out.batch_ = False, None
        if len(texts) < ADAPT_MIN_ROWS:  # too few distinct rows to learn from
            return out
        m = self.models_
        lexicon_predictions = self.lexicon_.predict(texts, tokens)
        joined = [" ".join(w) for w in tokens]
        x = features(m, texts, joined)
        vectors = self._vectors(texts, vectors)
        log_p = self._rounds(
            self._combine(lexicon_predictions, x, vectors), lexicon_predictions, x, vectors
        )
        proba = softmax(log_p)
        chosen = np.where(most_confident(proba))[0]
        labels = np.array(m["classes"])[proba[chosen].argmax(axis=1)]
        if len(set(labels)) >= 2:
            out.batch_ = BatchModel(self.seed).fit(
                [texts[i] for i in chosen], [joined[i] for i in chosen], labels, m
            )
            out.learnt_rows_ = len(texts)
        return out

    def with_batch_model(self, batch) -> ColdStartClassifier:
        """A copy that classifies with ``batch`` (the ``batch_`` of a :meth:`self_trained` copy,
        sent to a worker process without the corpus models)."""
        out = copy.copy(self)
        out.adapt, out.batch_ = False, batch
        return out

    def _vectors(self, texts: list[str], vectors: np.ndarray | None) -> np.ndarray | None:
        if self.models_.get("encoder") is None or not self._encoder():
            return None
        if vectors is None:
            vectors = self.encoder.encode([t[:ENCODE_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32)

    def _combine(self, lexicon_predictions, x, vectors) -> np.ndarray:
        m = self.models_
        encoder = None if vectors is None else np.log(m["encoder"].proba(vectors) + 1e-6)
        return weighted(
            self._lexicon_log_p(lexicon_predictions), np.log(m["tfidf"].proba(x) + 1e-6), encoder
        )

    def _rounds(self, log_p, lexicon_predictions, x, vectors) -> np.ndarray:
        """Two rounds of self-training of the corpus views on the batch's most confident rows of
        each class. Each fit starts from the previous models' weights (the corpus models' in the
        first round) and takes ``ADAPT_STEPS`` steps."""
        from scipy.sparse import vstack

        m = self.models_
        classes = np.array(m["classes"])
        corpus_x, corpus_y, corpus_w = (
            corpus_features(m),
            m["corpus_y"],
            ADAPT_CORPUS_WEIGHT * m["corpus_w"],
        )
        tfidf, enc = m["tfidf"], m["encoder"]
        for _ in range(2):
            proba = softmax(log_p)
            keep = most_confident(proba)
            y = np.concatenate([corpus_y, classes[proba[keep].argmax(axis=1)]])
            weights = np.concatenate([corpus_w, np.ones(int(keep.sum()))])
            tfidf = Linear.fit(
                vstack([corpus_x, x[keep]]).tocsr(),
                y,
                16.0,
                weights,
                start=tfidf,
                steps=ADAPT_STEPS,
            )
            log_p = np.log(tfidf.aligned(classes, x) + 1e-6) + 0.5 * self._lexicon_log_p(
                lexicon_predictions
            )
            total = 1.5
            if vectors is not None and m.get("corpus_v") is not None:
                enc = Linear.fit(
                    np.vstack([m["corpus_v"], vectors[keep]]),
                    y,
                    4.0,
                    weights,
                    start=enc,
                    steps=ADAPT_STEPS,
                )
                log_p += np.log(enc.aligned(classes, vectors) + 1e-6)
                total += 1.0
            log_p /= total
        return log_p

    def _predictions(
        self, proba: np.ndarray, lexicon_predictions, texts, joined, x
    ) -> list[Prediction]:
        m = self.models_
        classes = m["classes"]
        best = proba.argmax(axis=1)
        # Level 2 and the words that decided come from the keywords where they agree with the
        # model; elsewhere from the corpus models, whose features are made for those rows only.
        own = [
            k
            for k, p in enumerate(lexicon_predictions)
            if not (p.level1 == classes[best[k]] and p.level2)
        ]
        if own and x is None:
            x_own = features(m, [texts[k] for k in own], [joined[k] for k in own])
        else:
            x_own = x[own] if own else None
        level2_proba = dict(zip(own, m["level2"].proba(x_own))) if own else {}
        row_of = {k: j for j, k in enumerate(own)}
        out = []
        for k, row in enumerate(proba):
            order = np.argsort(-row)[:3]
            alternatives = [(classes[i], round(float(row[i]), 4)) for i in order]
            label, confidence = alternatives[0]
            lexicon = lexicon_predictions[k]
            if (
                confidence < self.abstain_below
                or (confidence < self.unplaced_below and lexicon.level1 == ABSTAIN)
                or (self.unplaced_below > 0 and not joined[k].strip())  # only greetings
            ):
                out.append(Prediction(ABSTAIN, confidence=confidence, alternatives=alternatives))
                continue
            if k in row_of:
                level2 = self._level2(label, level2_proba[k])
                words = (
                    lexicon.keywords
                    if lexicon.level1 == label
                    else top_words(m, x_own[row_of[k]], label)
                )
            else:
                level2, words = lexicon.level2, lexicon.keywords
            out.append(
                Prediction(
                    label, level2, round(float(confidence), 4), list(words)[:8], alternatives
                )
            )
        return out

    def _lexicon_log_p(self, lexicon_predictions) -> np.ndarray:
        return lexicon_log_p(lexicon_predictions, self.models_["classes"])

    def _level2(self, level1: str, level2_proba: np.ndarray) -> str:
        names, parents = self.models_["level2_classes"], self.models_["level2_parent"]
        children = [(p, n) for p, n in zip(level2_proba, names) if parents[n] == level1]
        return max(children)[1] if children else ""

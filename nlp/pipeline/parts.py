"""The parts a pipeline is made of, built from its config on first use.

A part given to :class:`Parts` is used as it is; the others are built the first time something
asks for them, so that making a pipeline costs nothing and a run that never needs a part (a
worker that never clusters, a main process whose rows are encoded by workers) never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nlp.classify import (
    ABSTAIN,
    ColdStartClassifier,
    LexiconClassifier,
    Taxonomy,
    TrainedClassifier,
)
from nlp.classify.routing import RoutingTable
from nlp.clustering.centring import reference_mean
from nlp.clustering.words import blended_mean
from nlp.core.config import PipelineConfig
from nlp.core.errors import ConfigError
from nlp.core.resources import read_fragments
from nlp.encoders import USEEncoder, make_encoder
from nlp.summarize import ClusterScorer
from nlp.text.normalize import Normalizer
from nlp.text.pii import PiiMasker
from nlp.text.segment import make_tokenizer

if TYPE_CHECKING:
    import numpy as np

    from nlp.classify import Classifier
    from nlp.encoders import Encoder
    from nlp.text.segment import Tokenizer

__all__ = ["Parts"]

# Encoders that ship in packages: the mean of the project's fragments under them can be cached
# by name, since the name fixes the model.
_SHIPPED_ENCODERS = ("use", "e5")


class Parts:
    """The normaliser, masker, tokenizer, classifier, encoder, scorer and routing of a pipeline.

    Args:
        config: Which parts to build, and their settings.
        normalizer, masker, tokenizer, classifier, taxonomy, encoder, scorer: Parts to use as
            they are instead of building them from ``config``.
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        normalizer: Normalizer | None = None,
        masker: PiiMasker | None = None,
        tokenizer: Tokenizer | None = None,
        classifier: Classifier | None = None,
        taxonomy: Taxonomy | None = None,
        encoder: Encoder | None = None,
        scorer: ClusterScorer | None = None,
    ):
        self.config = config or PipelineConfig()
        self._normalizer = normalizer
        self._masker = masker
        self._tokenizer = tokenizer
        self._classifier = classifier
        self._taxonomy = taxonomy
        self._encoder = encoder
        self._encoder_given = encoder is not None
        self._scorer = scorer
        self._routing: RoutingTable | None = None
        self._sentence_lexicon: LexiconClassifier | None = None
        self._reference: np.ndarray | None = None

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = Taxonomy.load(self.config.taxonomy)
        return self._taxonomy

    @property
    def normalizer(self) -> Normalizer:
        if self._normalizer is None:
            cfg = self.config
            self._normalizer = Normalizer(to_simplified=cfg.to_simplified, max_chars=cfg.max_chars)
        return self._normalizer

    @property
    def masker(self) -> PiiMasker:
        if self._masker is None:
            # The taxonomy's keywords are never taken for names.
            words = getattr(self.classifier, "vocabulary", [])
            self._masker = PiiMasker(keep=frozenset(w for w in words if len(w) >= 2))
        return self._masker

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            self._classifier = self._make_classifier()
        return self._classifier

    def _make_classifier(self) -> Classifier:
        cfg = self.config
        name, below = cfg.classifier, cfg.abstain_below
        if name == "lexicon":
            return LexiconClassifier(self.taxonomy, abstain_below=below).fit()
        # The built-in model does not teach itself on each chunk it is given: a run teaches it
        # once, on a sample of its input (nlp.pipeline.learning).
        sample = {"sample": cfg.self_train_sample, "seed": cfg.self_train_seed}
        if name == "builtin":
            # Held before fitting: the tokenizer it is fitted with asks for its vocabulary.
            model = self._classifier = ColdStartClassifier(
                self.taxonomy,
                encoder=self._classifier_encoder(),
                adapt=False,
                abstain_below=below,
                **sample,
            )
            model.fit(self.tokenizer)
            return model
        if Path(name).is_dir() and ColdStartClassifier.is_saved(name):
            model = ColdStartClassifier.load(
                name,
                self.taxonomy,
                encoder=self._classifier_encoder(),
                abstain_below=below,
                adapt=False,
            )
            model.sample, model.seed = sample["sample"], sample["seed"]
            return model
        if Path(name).is_dir():
            return TrainedClassifier.load(name, abstain_below=below)
        raise ConfigError(f"classifier {name!r} is not 'lexicon', 'builtin' or a model folder")

    def _classifier_encoder(self) -> Encoder | None:
        """The sentence encoder of the built-in model: this pipeline's when it is the one the
        model was built with (USE), so that it is loaded once; the model's own otherwise."""
        return self.encoder if getattr(self.encoder, "name", None) == USEEncoder.name else None

    def describe_classifier(self) -> str:
        """Which model classifies, in words (for the summary, the report and the terminal)."""
        classifier = self.classifier
        if isinstance(classifier, LexiconClassifier):
            return "keyword rules"
        if isinstance(classifier, ColdStartClassifier):
            reviewed = getattr(classifier, "manifest_", {}).get("reviewed_examples", 0)
            if reviewed:
                return (
                    f"built-in model with {reviewed} reviewed opinions ({self.config.classifier})"
                )
            return "built-in model"
        if isinstance(classifier, TrainedClassifier):
            return f"trained model ({self.config.classifier})"
        return type(classifier).__name__

    @property
    def learnt(self) -> object | None:
        """What the classifier learnt from a run's input (see :meth:`taught`); none here."""
        return None

    def taught(self, learnt: object) -> Parts:
        """These parts with the classifier that classifies by ``learnt``, what the config's
        classifier learnt from a run's input (the ``batch_`` of its self-trained copy): every
        other part is these parts' own, so that a worker process keeps its loaded models."""
        return _TaughtParts(self, learnt)

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            # Taxonomy keywords stay whole words so that the classifier can find them.
            words = getattr(self.classifier, "vocabulary", [])
            self._tokenizer = make_tokenizer(self.config.tokenizer, extra_words=words)
        return self._tokenizer

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = make_encoder(self.config.encoder)
        return self._encoder

    @property
    def scorer(self) -> ClusterScorer:
        if self._scorer is None:
            self._scorer = ClusterScorer(ClusterScorer.load_config(self.config.scoring))
        return self._scorer

    @property
    def routing(self) -> RoutingTable | None:
        if self._routing is None and self.config.routing:
            self._routing = RoutingTable.load(self.config.routing)
        return self._routing

    @property
    def sentence_lexicon(self) -> LexiconClassifier:
        """The keyword rules at temperature 1, for the sentences of an opinion (the confidence
        that marks another matter is on this scale)."""
        if self._sentence_lexicon is None:
            self._sentence_lexicon = LexiconClassifier(self.taxonomy, temperature=1.0).fit()
        return self._sentence_lexicon

    @property
    def reference(self) -> np.ndarray:
        """The mean point of the project's own fragments: their mean vector under this encoder
        (see :func:`nlp.clustering.centring.reference_mean`) and their words
        (:func:`nlp.clustering.words.blended_mean`). Kept in the user cache folder for the
        encoders that ship in packages, unless an encoder object was given."""
        if self._reference is None:
            cfg = self.config
            shipped = not self._encoder_given and cfg.encoder in _SHIPPED_ENCODERS
            sentences = reference_mean(
                lambda texts: self.encoder.encode(texts), cfg.encoder if shipped else None
            )
            texts = [text for _, text in read_fragments()]
            self._reference = blended_mean(
                sentences, self.tokenizer.tokenize_many(texts), [len(t) for t in texts]
            )
        return self._reference

    @property
    def encoder_built(self) -> bool:
        """Whether the encoder has been built (or given)."""
        return self._encoder is not None

    def department(self, level1: str, level2: str, places: str = "") -> str:
        """Responsible body of a predicted class (the routing table's, where one is given and a
        rule matches the class and places); none for unclassified or abstained rows."""
        if level1 in ("", ABSTAIN):
            return ""
        default = self.taxonomy.department(level1, level2)
        return self.routing.department(level1, level2, places, default) if self.routing else default


class _TaughtParts:
    """:class:`Parts` whose classifier classifies by what it learnt from a run's input."""

    def __init__(self, parts: Parts, learnt: object):
        self._parts = parts
        self.learnt = learnt
        self.classifier = parts.classifier.with_batch_model(learnt)

    def __getattr__(self, name: str):
        return getattr(self._parts, name)

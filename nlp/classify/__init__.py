"""Classification of opinions into the taxonomy, and routing to responsible bodies."""

from .base import Classifier, Prediction
from .coldstart import ColdStartClassifier, corpus_examples
from .lexicon import LexiconClassifier
from .taxonomy import ABSTAIN, Taxonomy, TaxonomyClass
from .trained import TrainedClassifier

__all__ = ["ABSTAIN", "Classifier", "ColdStartClassifier", "LexiconClassifier", "Prediction", "Taxonomy", "TaxonomyClass", "TrainedClassifier", "corpus_examples"]

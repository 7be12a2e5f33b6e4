"""Classification of opinions into the taxonomy, and routing to responsible bodies."""

from .base import Classifier, Prediction
from .lexicon import LexiconClassifier
from .taxonomy import ABSTAIN, Taxonomy, TaxonomyClass

__all__ = ["ABSTAIN", "Classifier", "LexiconClassifier", "Prediction", "Taxonomy", "TaxonomyClass"]

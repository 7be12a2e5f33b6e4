"""Classification of opinions into the taxonomy, and routing to responsible bodies."""

from nlp.classify.base import Classifier, Prediction
from nlp.classify.coldstart import ColdStartClassifier, corpus_examples
from nlp.classify.lexicon import LexiconClassifier
from nlp.classify.selftrain import sample_rows
from nlp.classify.taxonomy import ABSTAIN, Taxonomy, TaxonomyClass
from nlp.classify.trained import TrainedClassifier

__all__ = [
    "ABSTAIN",
    "Classifier",
    "ColdStartClassifier",
    "LexiconClassifier",
    "Prediction",
    "Taxonomy",
    "TaxonomyClass",
    "TrainedClassifier",
    "corpus_examples",
    "sample_rows",
]

"""Duplicates: exact and MinHash near-duplicate groups, and the domain's synonyms."""

from nlp.dedupe.exact import dedupe_key, exact_duplicates
from nlp.dedupe.minhash import near_duplicates, shingles
from nlp.dedupe.synonyms import Synonyms

__all__ = ["Synonyms", "dedupe_key", "exact_duplicates", "near_duplicates", "shingles"]

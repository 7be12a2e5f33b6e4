"""Duplicates and same-issue clusters: exact, MinHash near-duplicate, semantic clusters."""

from .encoders import CachedEncoder, E5Encoder, Encoder, SentenceTransformerEncoder, TfidfEncoder, USEEncoder, make_encoder
from .exact import dedupe_key, exact_duplicates
from .minhash import near_duplicates, shingles
from .semantic import cluster_vectors, top_neighbours
from .synonyms import Synonyms

__all__ = [
    "CachedEncoder", "E5Encoder", "Encoder", "SentenceTransformerEncoder", "Synonyms", "TfidfEncoder",
    "USEEncoder", "cluster_vectors", "dedupe_key", "exact_duplicates", "make_encoder", "near_duplicates",
    "shingles", "top_neighbours",
]  # fmt: skip

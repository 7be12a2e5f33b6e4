"""Cluster scores, key sentences and draft 代表建议."""

from nlp.summarize.draft import Cited, Draft, Drafter, ExtractiveDrafter, select_clusters
from nlp.summarize.llm import LLMRewriter, unsupported_facts
from nlp.summarize.scoring import ClusterFacts, ClusterScorer
from nlp.summarize.sentences import key_sentences, lead, split_sentences, strip_filler, textrank

__all__ = [
    "Cited", "ClusterFacts", "ClusterScorer", "Draft", "Drafter", "ExtractiveDrafter", "LLMRewriter",
    "key_sentences", "lead", "select_clusters", "split_sentences", "strip_filler", "textrank", "unsupported_facts",
]  # fmt: skip

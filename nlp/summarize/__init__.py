"""Cluster scores, key sentences, sentence roles, fact sheets and draft 代表建议."""

from nlp.summarize.demands import Demand, canonical, merge_demands
from nlp.summarize.draft import Cited, Draft, Drafter, ExtractiveDrafter, select_clusters
from nlp.summarize.facts import FactSheet, fact_sheet
from nlp.summarize.llm import LLMRewriter, unsupported_facts
from nlp.summarize.quotes import cover, mask_names
from nlp.summarize.roles import ROLES, SentenceRoles, sentence_roles
from nlp.summarize.scope import Spread, spread
from nlp.summarize.scoring import ClusterFacts, ClusterScorer
from nlp.summarize.sentences import key_sentences, lead, split_sentences, strip_filler, textrank

__all__ = [
    "ROLES",
    "Cited",
    "ClusterFacts",
    "ClusterScorer",
    "Demand",
    "Draft",
    "Drafter",
    "ExtractiveDrafter",
    "FactSheet",
    "LLMRewriter",
    "SentenceRoles",
    "Spread",
    "canonical",
    "cover",
    "fact_sheet",
    "key_sentences",
    "lead",
    "mask_names",
    "merge_demands",
    "select_clusters",
    "sentence_roles",
    "split_sentences",
    "spread",
    "strip_filler",
    "textrank",
    "unsupported_facts",
]

"""Cluster scores, key sentences and draft 代表建议 (drafting: see the drafting issue)."""

from .scoring import ClusterFacts, ClusterScorer

__all__ = ["ClusterFacts", "ClusterScorer"]

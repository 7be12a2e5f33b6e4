"""Duplicates and same-issue clusters."""

from .exact import dedupe_key, exact_duplicates

__all__ = ["dedupe_key", "exact_duplicates"]

"""Data written by the Minyi project: taxonomy, dictionaries and a demo export.

Locate files with :func:`nlp.core.resources.corpus_path`; nothing is loaded on import.
"""

"""The project's labeled corpus (``corpora/training_opinions.csv``), read for the built-in model
and lent to models trained on the user's labels."""

from __future__ import annotations

from pathlib import Path

from nlp.core.resources import corpus_path

__all__ = ["corpus_examples", "read_corpus"]


def corpus_examples(labels) -> tuple[list[str], list[str]]:
    """The project's labeled corpus (``corpora/training_opinions.csv``) as training rows for a
    model of the user's own: the rows whose class bears one of ``labels``' names, at level 1, or
    at level 2 where more of the names are found there. Texts are normalised as the corpus model's
    are. Nothing when fewer than two of the names are found."""
    frame, texts = read_corpus(corpus_path("training_opinions.csv"))
    names = set(labels)
    column = max(("level1", "level2"), key=lambda c: len(names & set(frame[c])))
    if len(names & set(frame[column])) < 2:
        return [], []
    keep = [i for i, label in enumerate(frame[column]) if label in names]
    return [texts[i] for i in keep], [frame[column].iat[i] for i in keep]


def read_corpus(path: Path):
    """The corpus table and its texts (title and text), normalised."""
    import pandas as pd

    from nlp.text.normalize import Normalizer

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame, Normalizer().normalize_many(
        [f"{t}。{x}" if t else x for t, x in zip(frame["title"], frame["text"])]
    )

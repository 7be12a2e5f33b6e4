import os

import numpy as np
import pytest

from nlp.classify import Prediction
from nlp.clustering.describe import _keywords
from nlp.core.memory import take_rows
from nlp.pipeline.rows import RowClasses, RowVectors, RowWords, Spill, centroids


def test_row_words_reads_back_each_rows_words_and_shares_repeats():
    words = RowWords()
    words.extend([["暖气", "不", "热"], None])
    words.extend([["医保", "报销", "暖气"]])
    words.finish([0, 1, 2, 0])  # row 3 repeats row 0; row 1 has no words
    assert (
        words[0] == ["暖气", "不", "热"]
        and words[2] == ["医保", "报销", "暖气"]
        and words[3] == words[0]
    )
    assert list(words) == [0, 2, 3] and len(words) == 3
    assert 1 not in words and 4 not in words and "0" not in words
    assert words.get(1, ()) == () and words.vocabulary.count("暖气") == 1
    with pytest.raises(KeyError):
        words[1]


def test_row_words_id_runs_are_the_rows_words_one_row_after_another():
    words = RowWords()
    words.extend([["暖气", "不", "热"], None])
    words.extend([["医保", "报销", "暖气"], []])
    words.finish([0, 1, 2, 0, 3])
    ids, counts = words.id_runs([3, 1, 2, 7, 4, -1, 0])  # 7 and -1 are no rows
    assert counts.tolist() == [3, 0, 3, 0, 0, 0, 3]
    assert [words.vocabulary[j] for j in ids.tolist()] == words[3] + words[2] + words[0]


def test_cluster_keywords_are_the_same_from_row_words_and_from_a_mapping(monkeypatch):
    texts = [
        ["暖气", "不", "热", "暖气"],
        ["暖气", "温度"],
        ["医保", "报销", "跑腿"],
        ["报销", "慢"],
    ]
    words = RowWords()
    words.extend(texts)
    words.finish(range(len(texts)))
    members = {"a": [0, 1], "b": [2, 3]}
    found = _keywords(members, words, top=2)
    assert found == _keywords(members, dict(enumerate(texts)), top=2)
    assert found["a"] == ["暖气", "温度"] and found["b"] == ["报销", "医保"]
    # Counted a cluster at a time (as a large run's are, in chunks of whole clusters): the same.
    monkeypatch.setattr("nlp.clustering.describe._KEYWORD_ROWS", 1)
    assert _keywords(members, words, top=2) == found


def test_row_words_empty_word_list_is_present_but_empty():
    words = RowWords()
    words.extend([[], ["路"]])
    words.finish([0, 1])
    assert words[0] == [] and words[1] == ["路"] and 0 in words


def test_row_vectors_map_rows_to_matrix_rows():
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    vectors = RowVectors(matrix, [2, 5, 9])
    assert (
        np.array_equal(vectors[5], [2, 3])
        and 9 in vectors
        and 3 not in vectors
        and list(vectors) == [2, 5, 9]
    )
    with pytest.raises(KeyError):
        vectors[10]


def test_row_vectors_rows_that_repeat_share_a_matrix_row():
    matrix = np.array([[1, 0], [0, 1]], dtype=np.float16)
    vectors = RowVectors(matrix, [2, 5, 9], slots=[0, 1, 0])  # row 9 repeats row 2
    assert (
        np.array_equal(vectors[9], [1, 0])
        and vectors[9].dtype == np.float32
        and np.array_equal(vectors[5], [0, 1])
    )
    assert np.array_equal(vectors.part(1, 3), [[0, 1], [1, 0]])
    found = centroids(vectors, {2: "A", 5: "A", 9: "A"})
    assert np.allclose(found["A"], [2 / 3, 1 / 3])  # each row counts, repeats included


def test_take_rows_moves_the_chosen_rows_up_in_place():
    matrix = np.arange(20, dtype=np.float32).reshape(10, 2)
    expected = matrix[[1, 2, 5, 9]].copy()
    taken = take_rows(
        matrix, [1, 2, 5, 9], step=2
    )  # steps smaller than the rows: order still holds
    assert np.array_equal(taken, expected) and np.shares_memory(taken, matrix)


def test_centroids_are_the_means_of_each_clusters_rows():
    matrix = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    found = centroids(RowVectors(matrix, [0, 2, 3]), ["A", "", "B", "A"])
    assert set(found) == {"A", "B"}
    assert np.allclose(found["A"], [1, 0.5]) and np.allclose(found["B"], [0, 1])


def test_half_precision_rows_read_back_in_single_precision():
    rng = np.random.default_rng(0)
    exact = rng.standard_normal((5000, 8)).astype(
        np.float32
    )  # more rows than one slice of centroids
    vectors = RowVectors(exact.astype(np.float16), list(range(5000)))
    assert vectors[7].dtype == np.float32 and np.allclose(
        vectors[7], exact[7], rtol=1e-3, atol=1e-3
    )
    cluster = ["A" if i % 3 else "B" for i in range(5000)]
    found = centroids(vectors, cluster)
    assert found["A"].dtype == np.float32
    assert np.allclose(found["A"], exact[[i for i in range(5000) if i % 3]].mean(axis=0), atol=1e-3)
    assert np.allclose(found["B"], exact[::3].mean(axis=0), atol=1e-3)


def test_row_classes_hold_each_rows_cells_and_share_class_names():
    from nlp.classify import Prediction

    classes = RowClasses()
    heating = Prediction(
        "城乡建设", "供暖", 0.91, ["暖气", "不热"], [("城乡建设", 0.91), ("民政", 0.05)]
    )
    classes.extend(
        3, {0: heating, 2: Prediction("城乡建设", "供暖", 0.7)}, {0: ["民政", "城乡建设"]}
    )
    classes.extend(1, {0: Prediction("待人工", confidence=0.3, alternatives=[("民政", 0.3)])}, {})
    assert (
        classes.level1 == ["城乡建设", "", "城乡建设", "待人工"]
        and classes.level1[0] is classes.level1[2]
    )
    assert classes.keywords == ["暖气 不热", "", "", ""]
    assert classes.alternatives == ["城乡建设 0.91; 民政 0.05", "", "", "民政 0.30"]
    assert classes.labels == [
        "城乡建设;民政",
        "",
        "城乡建设",
        "待人工",
    ]  # the main class first, once
    assert list(classes.confidence) == [0.91, 0.0, 0.7, 0.3]


def test_spill_gives_back_every_value_in_order_and_leaves_no_file(tmp_path):
    spill = Spill(tmp_path)
    parts = [
        (
            ["暖气不热", "路灯不亮"],
            [["暖气", "不", "热"], None],
            {0: Prediction("城乡建设", "供暖", 0.9)},
        ),
        ([], [], {}),
        (["噪音扰民"] * 3, [[]] * 3, {}),
    ]
    for part in parts:
        spill.add(part)
    assert len(spill) == 3
    if os.name == "posix":  # elsewhere a temporary file keeps its name until closed
        assert list(tmp_path.iterdir()) == []
    assert list(spill.drain()) == parts
    assert spill._file.closed


def test_row_words_with_a_spill_read_back_as_without_one(tmp_path):
    slots = [[["暖气", "不", "热"], None], [["医保", "报销", "暖气"], []]]
    held, spilled = RowWords(), RowWords(Spill(tmp_path))
    for part in slots:
        held.extend(part)
        spilled.extend(part)
    assert spilled._parts == []  # the ids wait in the spill, not in memory
    held.finish([0, 1, 2, 3, 0])
    spilled.finish([0, 1, 2, 3, 0])
    assert {r: spilled[r] for r in spilled} == {r: held[r] for r in held} and list(spilled) == [
        0,
        2,
        3,
        4,
    ]

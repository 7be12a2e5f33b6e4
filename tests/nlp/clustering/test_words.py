"""The words of a post beside its sentence vector in the clusters' space."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nlp import InputTable, Pipeline
from nlp.clustering.store import ClusterStore
from nlp.clustering.words import (
    SENTENCE_SHARE,
    SPACE_SUFFIX,
    TITLE_WEIGHT,
    WORD_DIMS,
    _idf,
    blend,
    points,
    sentence_part,
    word_vectors,
)
from nlp.core.resources import corpus_path


def test_word_vectors_weigh_rare_words_and_leave_out_characters_and_numbers():
    v = word_vectors([["社保", "工龄", "工龄"], ["社保", "购房"], ["我", "2019"], []])
    assert v.shape == (4, WORD_DIMS)
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1, atol=1e-6)
    assert not v[2].any() and not v[3].any()  # nothing but a character and a number: no words
    # One noun in common: the posts meet, by less than one the same.
    assert 0.05 < v[0] @ v[1] < 0.9
    same = word_vectors([["工龄", "计算"], ["工龄", "计算"], ["计算", "工龄"]])
    assert np.allclose(same[0], same[1]) and np.allclose(same[0], same[2])


def test_words_common_in_opinions_of_every_kind_weigh_little():
    """How letters to a deputy are put (恳请, 诉求) and where people live (小区) are in hundreds
    of the project's opinions: two posts that share only them barely meet, while one rare word
    in common (商转公) brings two posts close."""
    common, rare, other = word_vectors(
        [
            ["恳请", "诉求", "小区", "商转公"],
            ["恳请", "诉求", "小区", "闸机"],
            ["商转公", "利率", "恳请"],
        ]
    )
    assert common @ rare < 0.2
    assert common @ other > 0.7
    # Without the opinions' counts, jieba's IDF alone makes the first pair close.
    weights, median = _idf()
    plain = np.array(
        [[weights.get(w, median) for w in ("恳请", "诉求", "小区", x)] for x in ("商转公", "闸机")]
    )
    alone = (plain[0, :3] @ plain[1, :3]) / (np.linalg.norm(plain[0]) * np.linalg.norm(plain[1]))
    assert alone > 0.3


def test_the_opinions_word_counts_are_those_of_the_training_opinions():
    """corpora/opinion_words.txt is what corpora/build_opinion_words.py makes of the corpus."""
    build = runpy.run_path(
        str(Path(corpus_path("opinion_words.txt")).with_name("build_opinion_words.py"))
    )
    assert build["opinion_words"]() == corpus_path("opinion_words.txt").read_text(encoding="utf-8")


def test_words_of_a_title_weigh_more_than_the_same_words_in_the_body():
    """Two posts on one policy whose titles ask different things meet less than their bodies
    alone would have them meet: the title says what the matter is."""
    pension = ["咨询", "退休", "年龄", "社保", "缴费", "年限", "养老金"]
    service = ["请问", "工龄", "计算", "社保", "缴费", "年限", "养老金"]
    plain = word_vectors([pension, service])
    titled = word_vectors([pension, service], ["咨询退休年龄", "请问工龄怎么计算"])
    assert titled[0] @ titled[1] < plain[0] @ plain[1]
    assert np.allclose(np.linalg.norm(titled, axis=1), 1, atol=1e-6)
    # A title of the same words as the body changes nothing; an empty title is no title.
    assert np.allclose(word_vectors([service], ["请问工龄计算社保缴费年限养老金"]), plain[1])
    assert np.allclose(word_vectors([pension, service], ["", ""]), plain)
    # A word of the title weighs TITLE_WEIGHT times what it weighs in the body.
    one = word_vectors([["工龄", "社保"]], ["工龄"])[0]
    body = word_vectors([["工龄", "社保"]])[0]
    alone = word_vectors([["工龄"], ["社保"]])  # each word's own direction
    ratio = (one @ alone[0]) / (one @ alone[1])
    assert np.isclose(ratio, TITLE_WEIGHT * (body @ alone[0]) / (body @ alone[1]), rtol=1e-4)


def test_a_place_in_two_titles_does_not_make_two_problems_one():
    """Different problems at one estate are different issues: the estate's name in both titles
    weighs as it does in the bodies, while the words for what is wrong weigh more."""
    garbage = ["海伦春天", "小区", "垃圾", "堆放", "物业"]
    wiring = ["海伦春天", "小区", "电闸", "漏油", "物业"]
    titles = ["海伦春天小区垃圾堆放", "海伦春天小区电闸漏油"]
    named = [["海伦春天小区"], ["海伦春天小区"]]
    plain = word_vectors([garbage, wiring])
    unnamed = word_vectors([garbage, wiring], titles)
    kept = word_vectors([garbage, wiring], titles, named)
    assert kept[0] @ kept[1] < unnamed[0] @ unnamed[1]
    assert kept[0] @ kept[1] < plain[0] @ plain[1]


def test_word_vectors_are_the_same_in_another_process():
    """A vector stored by one run meets the next run's in the same space: no per-process salt."""
    words = ["城铁", "时刻表", "暖气", "物业"]
    here = word_vectors([words])[0]
    code = (
        "import sys, numpy as np; from nlp.clustering.words import word_vectors; "
        f"np.save(sys.stdout.buffer, word_vectors([{words!r}])[0])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    import io

    assert np.array_equal(np.load(io.BytesIO(done.stdout)), here)


def test_blend_gives_posts_their_words_and_fragments_none():
    rng = np.random.default_rng(0)
    sentences = rng.standard_normal((3, 8)).astype(np.float32)
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
    words = word_vectors([["社保", "工龄"], ["社保", "购房"], ["社保", "工龄"]])
    post, other, fragment = blend(sentences, words, [300, 300, 12])
    assert np.isclose(np.linalg.norm(post), 1, atol=1e-6)
    assert np.isclose(
        post @ other,
        SENTENCE_SHARE * sentences[0] @ sentences[1] + (1 - SENTENCE_SHARE) * words[0] @ words[1],
        atol=1e-5,
    )
    assert not fragment[-WORD_DIMS:].any() and np.allclose(fragment[:-WORD_DIMS], sentences[2])
    assert np.allclose(sentence_part(np.stack([post, fragment])), sentences[[0, 2]], atol=1e-6)


def test_points_are_the_blend_with_words_computed_for_posts_only():
    rng = np.random.default_rng(1)
    sentences = rng.standard_normal((3, 8)).astype(np.float32)
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
    tokens = [["社保", "工龄"], ["暖气", "不热"], ["城铁", "时刻表"]]
    lengths = [300, 12, 80]
    found = points(sentences, tokens, lengths)
    assert np.allclose(found, blend(sentences, word_vectors(tokens), lengths))
    assert found[0, -WORD_DIMS:].any() and not found[1, -WORD_DIMS:].any()
    titles, names = ["工龄社保", "暖气", ""], [["社保局"], [], []]
    assert np.allclose(
        points(sentences, tokens, lengths, titles, names),
        blend(sentences, word_vectors(tokens, titles, names), lengths),
    )


LONG = [
    "尊敬的领导：我是A市的一名职工，单位从2015年开始给我缴纳社保，但是中间断缴了两年，现在想补缴，"
    "社保局说断缴的部分不能补，请问社保断缴后到底能不能补缴？补缴需要哪些材料？",
    "您好！我在A市工作了十年，想了解一下工龄到底怎么计算，以前在国企干了五年，后来下岗又在私企干了五年，"
    "这两段工龄能不能连续计算？退休的时候视同缴费年限怎么认定？",
]


def test_a_state_from_before_words_keeps_its_own_space(tmp_path):
    pipeline = Pipeline(store=ClusterStore(tmp_path))
    plain = pipeline.encoder.name
    # The first run of an older version fixed the state's space as the sentence vectors alone.
    ClusterStore(tmp_path).space(plain, pipeline.parts.reference[:-WORD_DIMS])
    frame = pd.DataFrame({"text": [*LONG, "暖气不热，屋里才十五度"], "time": "2024-08-01"})
    out = pipeline.run(InputTable.from_frame(frame)).opinions
    assert out["cluster"].str.startswith("C2024Q3-").all()
    assert ClusterStore(tmp_path).built_with() == plain
    fresh = tmp_path / "fresh"
    Pipeline(store=ClusterStore(fresh)).run(InputTable.from_frame(frame))
    assert ClusterStore(fresh).built_with() == plain + SPACE_SUFFIX

"""The built-in cold-start classifier: shipped in corpora/models/builtin, built from corpora/."""

import copy

import numpy as np
import pandas as pd
import pytest

from nlp import Pipeline, PipelineConfig
from nlp.classify import ColdStartClassifier, Taxonomy
from nlp.classify.corpus import read_corpus
from nlp.classify.corpus_model import ENCODE_CHARS
from nlp.classify.stored import dictionaries_sha256, sha256_of, shipped_folder
from nlp.core.resources import corpus_path, read_fragments
from nlp.encoders import USEEncoder
from nlp.text.normalize import Normalizer

pytestmark = pytest.mark.slow

LONG = [
    "尊敬的领导：您好！我是城西街道的居民。小区旁边的饭店每天排放大量油烟，熏得我们窗户都不敢开，多次向有关部门反映都没有结果，恳请领导重视。",
    "市民来电反映，幸福小区门口的路灯坏了一个多月了，晚上出行很不方便，希望尽快维修。",
]


@pytest.fixture(scope="module")
def builtin():
    pipeline = Pipeline(PipelineConfig(classifier="builtin"))
    classifier = ColdStartClassifier(pipeline.taxonomy, encoder=pipeline.encoder, adapt=False).fit(
        pipeline.tokenizer
    )
    return classifier, pipeline.tokenizer


def test_builtin_model_classifies_everyday_opinions(builtin):
    clf, tokenizer = builtin
    texts = [
        "暖气不热，屋里才十五度",
        "医保报销要跑好几趟",
        "自家种的杉木想砍伐一直办不下采伐证",
        "工地晚上十二点还在打桩，吵得睡不着",
        "村支书贪污扶贫款",
    ]
    found = clf.predict(texts, tokenizer.tokenize_many(texts))
    assert [(p.level1, p.level2) for p in found] == [
        ("城乡建设", "供暖"), ("劳动和社会保障", "医保报销"), ("农村农业", "林木采伐审批"), ("环境保护", "施工噪音"), ("纪检监察", "贪污贿赂与滥用职权"),
    ]  # fmt: skip
    for p in found:
        probabilities = [q for _, q in p.alternatives]
        assert (
            len(p.alternatives) == 3
            and probabilities == sorted(probabilities, reverse=True)
            and p.confidence == probabilities[0]
        )
        assert p.keywords


def test_confidence_is_sharpened_by_a_temperature_fitted_on_held_out_corpus_rows(builtin):
    clf, tokenizer = builtin
    temperature = clf.models_["temperature"]
    assert 0.05 < temperature < 1  # the views' geometric mean is less sure than they are right
    texts = ["暖气不热，屋里才十五度", "医保报销要跑好几趟", "小区垃圾站臭气熏天，夏天苍蝇到处飞"]
    sharp = clf.predict(texts, tokenizer.tokenize_many(texts))
    try:
        clf.models_["temperature"] = 1.0
        plain = clf.predict(texts, tokenizer.tokenize_many(texts))
    finally:
        clf.models_["temperature"] = temperature
    assert [p.level1 for p in sharp] == [p.level1 for p in plain]
    assert all(s.confidence > p.confidence for s, p in zip(sharp, plain))
    assert all(p.confidence > 0.8 for p in sharp)


def test_opinions_it_cannot_place_go_to_a_person_not_to_a_default_class(builtin):
    clf, tokenizer = builtin
    empty = ["你好", "见附件", "已解决，谢谢", "图片", "？？？"]
    found = clf.predict(empty, tokenizer.tokenize_many(empty))
    assert [p.level1 for p in found] == ["待人工"] * len(empty)
    # Its guesses are kept for the reviewer. These say nothing beyond greetings and stop words,
    # so they go to a person however sure the sentence encoder is of a class for them.
    assert all(len(p.alternatives) == 3 for p in found)
    texts = ["暖气不热，屋里才十五度", "屋里才十五度，冻得睡不着", "医保报销要跑好几趟"]
    assert "待人工" not in [p.level1 for p in clf.predict(texts, tokenizer.tokenize_many(texts))]
    doubtful = copy.copy(clf)
    doubtful.abstain_below = 0.99  # --abstain-below: every row below it goes to a person too
    found = doubtful.predict(texts, tokenizer.tokenize_many(texts))
    assert all(p.level1 == "待人工" or p.confidence >= 0.99 for p in found) and "待人工" in [
        p.level1 for p in found
    ]
    placing = copy.copy(clf)
    placing.unplaced_below = 0.0
    assert "待人工" not in [
        p.level1 for p in placing.predict(empty, tokenizer.tokenize_many(empty))
    ]


def test_characters_an_export_lost_change_no_class(builtin):
    clf, tokenizer = builtin
    utf8 = [
        "小区门口的路灯\xa0\xa0坏了一个多月了，晚上出行\xa0很不方便",
        "误差超过\xa015%，医保报销",
    ]
    gbk = [t.replace("\xa0", "?") for t in utf8]  # a GBK copy writes "?" for what it cannot encode
    found = [
        clf.predict(texts, tokenizer.tokenize_many(texts))
        for texts in (Normalizer().normalize_many(utf8), Normalizer().normalize_many(gbk))
    ]
    assert [p.confidence for p in found[0]] == [p.confidence for p in found[1]]


def test_the_shipped_model_is_loaded_not_built(monkeypatch, tmp_path):
    def build(self, reviewed=None):
        raise AssertionError("the shipped model should have been used")

    monkeypatch.setattr(ColdStartClassifier, "build", build)
    clf = ColdStartClassifier(cache=tmp_path).fit()
    assert clf.manifest_["corpus_sha256"] == sha256_of(corpus_path("training_opinions.csv"))
    assert not any(tmp_path.iterdir())  # nothing built, nothing cached


def test_the_shipped_model_holds_the_corpus_and_the_encoder_settings_it_was_built_with():
    manifest = ColdStartClassifier.load(shipped_folder()).manifest_
    assert (
        manifest["encoder"] == USEEncoder.name
        and manifest["encoder_settings"] == USEEncoder().settings
    )
    assert (
        manifest["encode_chars"] == ENCODE_CHARS and manifest["taxonomy"] == Taxonomy.load().version
    )
    # Built again after corpora/'s dictionaries or taxonomy change (python corpora/build_model.py).
    assert manifest["dictionaries_sha256"] == dictionaries_sha256()
    with np.load(shipped_folder() / "model.npz", allow_pickle=False) as arrays:
        texts = str(arrays["corpus_texts"]).split("\x1f")
    assert (
        texts == read_corpus(corpus_path("training_opinions.csv"))[1]
    )  # the corpus's rows and nothing else
    size = sum(f.stat().st_size for f in shipped_folder().iterdir())
    assert size < 6_000_000


def test_rebuilding_the_shipped_model_gives_the_same_predictions(builtin, tmp_path, monkeypatch):
    clf, tokenizer = builtin
    # A taxonomy of one's own (here the default one under another name) is not the shipped
    # model's: the model is built from corpora/ and cached.
    mine = copy.copy(clf.taxonomy_)
    mine.version = f"{mine.version}-mine"
    rebuilt = ColdStartClassifier(mine, encoder=clf.encoder, adapt=False, cache=tmp_path).fit(
        tokenizer
    )
    assert rebuilt.manifest_["taxonomy"] == mine.version and len(list(tmp_path.iterdir())) == 1
    texts = [t.replace("{place}", "青石村") for _, t in read_fragments()] + LONG
    tokens = tokenizer.tokenize_many(texts)
    shipped, fresh = clf.predict(texts, tokens), rebuilt.predict(texts, tokens)
    assert [(p.level1, p.level2) for p in fresh] == [(p.level1, p.level2) for p in shipped]
    assert max(abs(p.confidence - q.confidence) for p, q in zip(fresh, shipped)) < 0.01
    monkeypatch.setattr(
        ColdStartClassifier,
        "build",
        lambda self, reviewed=None: pytest.fail("the cached model should have been used"),
    )
    again = ColdStartClassifier(mine, encoder=clf.encoder, adapt=False, cache=tmp_path).fit(
        tokenizer
    )
    assert [p.level1 for p in again.predict(texts, tokens)] == [p.level1 for p in shipped]


def test_self_training_learns_from_a_bounded_sample_and_classifies_every_row(builtin):
    clf, tokenizer = builtin
    kinds = [
        "暖气不热，屋里才十五度",
        "医保报销要跑好几趟",
        "村里那条路坑坑洼洼好几年了",
        "景区门票太贵了",
        *LONG,
    ]
    texts = [
        f"{text}（{k}号）" for k in range(60) for text in kinds
    ] * 2  # 360 distinct texts, each twice
    tokens = tokenizer.tokenize_many(texts)
    sampled = copy.copy(clf)
    sampled.sample = 250
    taught = sampled.self_trained(texts, tokens)
    assert taught.learnt_rows_ == 250 and taught.batch_ is not None and not taught.adapt
    found = taught.predict(texts, tokens)
    assert [p.level1 for p in found[:6]] == [
        "城乡建设",
        "劳动和社会保障",
        "交通运输",
        "商贸旅游",
        "环境保护",
        "城乡建设",
    ]
    assert [p.level1 for p in found] == [p.level1 for p in found[:6]] * 120
    reordered = sampled.self_trained(
        texts[::-1], tokens[::-1]
    )  # chosen by what rows say, not where they stand
    assert [p.confidence for p in reordered.predict(texts, tokens)] == [p.confidence for p in found]
    again = sampled.self_trained(texts, tokens)  # the same sample (a fixed seed), the same model
    assert [p.confidence for p in again.predict(texts, tokens)] == [p.confidence for p in found]
    worker = clf.with_batch_model(taught.batch_)  # what a worker process is sent
    assert [p.confidence for p in worker.predict(texts[:6], tokens[:6])] == [
        p.confidence for p in found[:6]
    ]


def test_predict_self_trains_on_a_batch_only_when_asked(builtin):
    clf, tokenizer = builtin
    texts = [
        f"{text}（{k}号）"
        for k in range(60)
        for text in (
            "暖气不热，屋里才十五度",
            "医保报销要跑好几趟",
            "村里那条路坑坑洼洼好几年了",
            "景区门票太贵了",
        )
    ]
    tokens = tokenizer.tokenize_many(texts)
    plain = clf.predict(texts, tokens)
    adapting = copy.copy(clf)
    adapting.adapt = True
    adapted = adapting.predict(texts, tokens)
    assert [p.level1 for p in adapted] == [p.level1 for p in plain]
    assert [p.confidence for p in adapted] != [p.confidence for p in plain]
    few = adapting.predict(texts[:4], tokens[:4])  # too few rows to learn from
    assert np.allclose(
        [p.confidence for p in few], [p.confidence for p in plain[:4]], atol=2e-3
    )  # vectors move a little with their batch


def test_score_with_the_builtin_model(tmp_path, minyi, builtin):
    (tmp_path / "in.txt").write_text("暖气不热，屋里才十五度\n景区门票太贵了\n", encoding="utf-8")
    done = minyi(
        "score", str(tmp_path / "in.txt"), "--model", "builtin", "--out", str(tmp_path / "o"), "-q"
    )
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(tmp_path / "o" / "opinions.csv")
    assert out["level2"].tolist() == ["供暖", "旅游管理"] and out["alternatives"].str.count(
        ";"
    ).tolist() == [2, 2]

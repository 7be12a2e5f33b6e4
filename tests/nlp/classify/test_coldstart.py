"""The built-in cold-start classifier (trained from corpora/ on first use, then cached)."""

import pandas as pd
import pytest

from nlp import Pipeline, PipelineConfig
from nlp.classify import ColdStartClassifier
from nlp.classify.coldstart import _cache_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def builtin():
    pipeline = Pipeline(PipelineConfig(classifier="builtin"))  # built on first use, cached
    return pipeline.classifier, pipeline.tokenizer, _cache_folder()


def test_builtin_model_classifies_everyday_opinions(builtin):
    clf, tokenizer, _ = builtin
    texts = [
        "暖气不热，屋里才十五度",
        "医保报销要跑好几趟",
        "自家种的杉木想砍伐一直办不下采伐证",
        "工地晚上十二点还在打桩，吵得睡不着",
        "村支书贪污扶贫款",
    ]
    found = clf.predict(texts, tokenizer.tokenize_many(texts))
    assert [(p.level1, p.level2) for p in found] == [
        ("城乡建设", "供暖"),
        ("劳动和社会保障", "医保报销"),
        ("农村农业", "林木采伐审批"),
        ("环境保护", "施工噪音"),
        ("纪检监察", "贪污贿赂与滥用职权"),
    ]
    for p in found:
        probabilities = [q for _, q in p.alternatives]
        assert (
            len(p.alternatives) == 3
            and probabilities == sorted(probabilities, reverse=True)
            and p.confidence == probabilities[0]
        )
        assert p.keywords


def test_confidence_is_sharpened_by_a_temperature_fitted_on_held_out_corpus_rows(builtin):
    clf, tokenizer, _ = builtin
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


def test_builtin_model_is_cached_and_reloaded(builtin):
    clf, tokenizer, cache = builtin
    assert list(cache.glob("coldstart-*.joblib"))
    again = ColdStartClassifier(clf.taxonomy, encoder=clf.encoder, cache=cache).fit(tokenizer)
    text = ["小区门口车辆乱停，占道经营的摊贩把人行道也占了"]
    assert (
        again.predict(text, tokenizer.tokenize_many(text))[0].level1
        == clf.predict(text, tokenizer.tokenize_many(text))[0].level1
        == "城乡建设"
    )


def test_self_training_on_a_batch_keeps_rows_in_order(builtin):
    clf, tokenizer, _ = builtin
    texts = [
        "暖气不热，屋里才十五度",
        "医保报销要跑好几趟",
        "村里那条路坑坑洼洼好几年了",
        "景区门票太贵了",
    ] * 60
    tokens = tokenizer.tokenize_many(texts)
    plain = ColdStartClassifier(clf.taxonomy, encoder=clf.encoder, adapt=False)
    plain.models_, plain.lexicon_ = clf.models_, clf.lexicon_
    adapted = clf.predict(texts, tokens)
    assert [p.level1 for p in adapted[:4]] == ["城乡建设", "劳动和社会保障", "交通运输", "商贸旅游"]
    assert [p.level1 for p in adapted] == [p.level1 for p in plain.predict(texts, tokens)]


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


def test_the_last_round_of_self_training_learns_the_batchs_own_labels(builtin):
    import numpy as np

    clf, tokenizer, _ = builtin
    texts = [
        "暖气不热，屋里才十五度",
        "暖气片冰凉，屋里冷",
        "村里那条路坑坑洼洼好几年了",
        "公路塌陷没人修",
    ] * 30
    joined = [" ".join(w) for w in tokenizer.tokenize_many(texts)]
    classes = list(clf.models_["classes"])
    # The earlier rounds (here made up) put the heating rows under education, surely: the last
    # round trusts them over the corpus, whose heating rows weigh half as much.
    proba = np.full((len(texts), len(classes)), 0.01)
    proba[0::4, classes.index("教育文体")] = proba[1::4, classes.index("教育文体")] = 0.9
    proba[2::4, classes.index("交通运输")] = proba[3::4, classes.index("交通运输")] = 0.9
    proba /= proba.sum(axis=1, keepdims=True)
    out = clf._batch_text_model(proba, texts, joined)
    assert out.shape == proba.shape and np.allclose(out.sum(axis=1), 1)
    assert [classes[k] for k in out[:4].argmax(axis=1)] == [
        "教育文体",
        "教育文体",
        "交通运输",
        "交通运输",
    ]
    plain = clf.predict(texts[:2], tokenizer.tokenize_many(texts[:2]))  # too few rows to self-train
    assert [p.level1 for p in plain] == ["城乡建设", "城乡建设"]
    saved = clf.models_.pop("corpus_texts")  # a model saved before corpus texts were kept
    try:
        assert clf._batch_text_model(proba, texts, joined) is proba
    finally:
        clf.models_["corpus_texts"] = saved

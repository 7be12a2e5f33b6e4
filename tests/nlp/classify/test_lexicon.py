import pytest

from nlp.classify import ABSTAIN, LexiconClassifier
from nlp.core.errors import NotFittedError
from nlp.text.segment import JiebaTokenizer

CASES = [
    ("暖气不热，屋里才十五度", "城乡建设", "供暖"),
    ("医保报销要跑好几趟", "劳动和社会保障", "医保报销"),
    ("村里那条路坑坑洼洼好几年了", "交通运输", "道路破损/改道"),
    ("想砍自家山上的树，采伐证批不下来", "农村农业", "林木采伐审批"),
    ("工地晚上施工噪音太大", "环境保护", "施工噪音"),
    ("包工头跑了，农民工工资没拿到", "劳动和社会保障", "农民工工资"),
]


@pytest.fixture(scope="module")
def classify():
    clf = LexiconClassifier().fit()
    tok = JiebaTokenizer(extra_words=clf.vocabulary)
    return lambda texts: clf.predict(texts, tok.tokenize_many(texts))


@pytest.mark.parametrize(("text", "level1", "level2"), CASES)
def test_lexicon_classifier_sorts_liaison_station_topics(classify, text, level1, level2):
    [p] = classify([text])
    assert (p.level1, p.level2) == (level1, level2)
    assert 0 < p.confidence < 1 and p.keywords


def test_lexicon_classifier_abstains_without_keywords(classify):
    [p] = classify(["今天天气不错"])
    assert p.level1 == ABSTAIN and p.confidence == 0


def test_lexicon_classifier_abstains_below_threshold():
    clf = LexiconClassifier(abstain_below=0.99).fit()
    [p] = clf.predict(["x"], [["暖气"]])
    assert p.level1 == ABSTAIN and p.alternatives


def test_lexicon_classifier_must_be_fitted():
    with pytest.raises(NotFittedError, match="fit"):
        LexiconClassifier().predict(["暖气"], [["暖气"]])


def test_keyword_temperature_sharpens_confidence_without_changing_any_class(classify):
    texts = [text for text, _, _ in CASES] + [
        "小区停车位太少，物业还乱收费",
        "医保报销要跑好几趟，村里那条路也坑坑洼洼",
    ]
    tok = JiebaTokenizer(extra_words=LexiconClassifier().fit().vocabulary)
    plain = LexiconClassifier(temperature=1.0).fit().predict(texts, tok.tokenize_many(texts))
    sharp = classify(texts)
    assert [(p.level1, p.level2, [a for a, _ in p.alternatives]) for p in sharp] == [
        (p.level1, p.level2, [a for a, _ in p.alternatives]) for p in plain
    ]
    assert all(s.confidence > p.confidence for s, p in zip(sharp, plain))
    share = plain[-1].alternatives[0][1] / plain[-1].alternatives[1][1]
    t = LexiconClassifier().fit().temperature_
    assert sharp[-1].alternatives[0][1] / sharp[-1].alternatives[1][1] == pytest.approx(
        share ** (1 / t), rel=1e-3
    )


def test_shipped_keyword_temperature_is_the_one_fitted_on_the_corpus():
    from corpora.calibrate_keywords import fitted_temperature

    shipped = LexiconClassifier().fit().temperature_
    assert shipped < 1 and shipped == pytest.approx(fitted_temperature(), abs=0.02)

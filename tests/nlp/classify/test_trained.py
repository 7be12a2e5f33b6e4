import json

import pytest

from nlp.classify import ABSTAIN, TrainedClassifier
from nlp.core.errors import ConfigError, NotFittedError

TEXTS = [
    "暖气不热",
    "暖气片冰凉",
    "供暖温度不够",
    "屋里暖气不热好冷",
    "取暖费交了不暖和",
    "暖气漏水",
    "路面坑坑洼洼",
    "村道破损",
    "修路修一半停了",
    "公路裂了大口子",
    "路上全是坑",
    "道路没硬化",
]
LABELS = ["供暖"] * 6 + ["道路"] * 6


def test_trained_classifier_learns_user_labels_and_round_trips(tmp_path):
    clf = TrainedClassifier().fit(TEXTS, LABELS)
    assert clf.manifest_["labels"] == ["供暖", "道路"] and clf.manifest_["cv_folds"] == 3
    clf.save(tmp_path / "m")
    loaded = TrainedClassifier.load(tmp_path / "m")
    preds = loaded.predict(["暖气一点都不热", "那条路坑很多"])
    assert [p.level1 for p in preds] == ["供暖", "道路"]
    assert all(0.5 < p.confidence <= 1 and len(p.alternatives) == 2 for p in preds)


def test_trained_classifier_abstains_below_threshold():
    clf = TrainedClassifier(abstain_below=0.999).fit(TEXTS, LABELS)
    assert clf.predict(["暖气"])[0].level1 == ABSTAIN


def test_trained_classifier_errors_say_what_to_do(tmp_path):
    with pytest.raises(NotFittedError):
        TrainedClassifier().predict(["x"])
    with pytest.raises(ConfigError, match="two labels"):
        TrainedClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ConfigError, match="minyi train"):
        TrainedClassifier.load(tmp_path)
    clf = TrainedClassifier().fit(TEXTS, LABELS).save(tmp_path / "m")
    manifest = json.loads((clf / "manifest.json").read_text(encoding="utf-8"))
    manifest["versions"]["scikit-learn"] = "0.1"
    (clf / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ConfigError, match="retrain"):
        TrainedClassifier.load(clf)


def test_level2_model_keywords_and_self_training():
    level2 = ["暖气不热"] * 3 + ["暖气漏水"] * 3 + ["路面破损"] * 6
    clf = TrainedClassifier().fit(
        TEXTS, LABELS, level2=level2, unlabeled=["暖气不热屋里冷", "路面全是坑", "今天天气不错"]
    )
    assert clf.manifest_["level2_labels"] == ["暖气不热", "暖气漏水", "路面破损"]
    road = clf.predict(["村里的路面破损严重"])[0]
    assert road.level1 == "道路" and road.level2 == "路面破损"
    assert clf.predict(["屋里暖气不热"])[0].keywords[:1] == [
        "暖气"
    ]  # the word that pushed it there
    assert clf.manifest_["self_training_rows"] <= 3


def test_model_of_an_older_format_asks_for_retraining(tmp_path):
    folder = TrainedClassifier().fit(TEXTS, LABELS).save(tmp_path / "m")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = "minyi-trained-classifier/1"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ConfigError, match="format"):
        TrainedClassifier.load(folder)


def test_model_of_the_previous_format_still_loads(tmp_path):
    # Format 2 models hold one plain linear SVM; they are read as they were.
    clf = TrainedClassifier(nb_weights=False).fit(TEXTS, LABELS)
    assert clf.manifest_["model"].endswith("linear SVM, sigmoid-calibrated")
    folder = clf.save(tmp_path / "m")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = "minyi-trained-classifier/2"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert [
        p.level1 for p in TrainedClassifier.load(folder).predict(["暖气一点都不热", "那条路坑很多"])
    ] == ["供暖", "道路"]


def test_nb_weighted_svms_are_one_linear_function_per_class():
    from scipy.sparse import csr_matrix

    from nlp.classify.nbsvm import NBLinearSVC

    # Feature 0 marks class a, 1 class b, 2 class c; feature 3 is everywhere.
    x = csr_matrix(
        [[1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 1, 1]],
        dtype=float,
    )
    y = ["a", "a", "b", "b", "c", "c"]
    model = NBLinearSVC().fit(x, y)
    assert model.predict(x).tolist() == y
    assert model.coef_.shape == (3, 4) and model.coef_[0, 0] > 0 > model.coef_[0, 1]
    assert (
        abs(model.coef_[:, 3]).max() < abs(model.coef_[:, :3]).min()
    )  # a feature every class has says little
    assert (model.decision_function(x) == x @ model.coef_.T + model.intercept_).all()
    two = NBLinearSVC().fit(x[:4], y[:4])  # two classes: one function, positive for the second
    assert two.decision_function(x[:4]).shape == (4,) and two.predict(x[:4]).tolist() == y[:4]


@pytest.mark.parametrize("rows", [12, 400])  # min_df 1 and 2
def test_cross_validation_features_match_a_pipeline_fitted_on_the_fold(rows):
    # The texts are counted once for all folds; each fold's TF-IDF must be the one its own
    # fitted vectorizers give (same n-grams, same weights; columns may come in another order).
    import numpy as np

    from nlp.classify.trained import _counter, _fold_tfidf, _frame

    rng = np.random.default_rng(0)
    texts = [
        "".join(rng.choice(list("暖气不热路面坑洼村道破损修停了"), size=rng.integers(2, 12)))
        for _ in range(rows)
    ]
    x = _frame(texts, [list(t) for t in texts])
    train, test = np.arange(0, rows, 3), np.setdiff1d(np.arange(rows), np.arange(0, rows, 3))
    clf = TrainedClassifier()
    for _, vectorizer, column in clf._features(rows).transformers:
        fast_train, fast_test = _fold_tfidf(
            _counter(vectorizer).fit_transform(x[column]), train, test, vectorizer
        )
        fitted = vectorizer.fit(x[column].iloc[train])
        slow_train, slow_test = (
            fitted.transform(x[column].iloc[train]),
            fitted.transform(x[column].iloc[test]),
        )
        assert fast_train.shape == slow_train.shape
        for fast, slow in ((fast_train, slow_train), (fast_test, slow_test)):
            # Dot products between rows do not depend on the order of the columns.
            np.testing.assert_allclose(
                (fast @ fast_train.T).toarray(), (slow @ slow_train.T).toarray(), atol=1e-12
            )


@pytest.mark.parametrize("rows", [12, 400])
def test_a_fold_of_the_users_rows_alone_is_the_same_when_borrowed_rows_were_counted_too(rows):
    # The rows are counted once, borrowed ones included, for both cross-validations (with and
    # without them): the borrowed rows' n-grams must vanish from a fold of the user's rows.
    import numpy as np
    from scipy import sparse

    from nlp.classify.trained import _fold_tfidf, _frame

    rng = np.random.default_rng(1)
    texts = [
        "".join(rng.choice(list("暖气不热路面坑洼村道破损修停了"), size=rng.integers(2, 12)))
        for _ in range(rows)
    ]
    other = [
        "".join(rng.choice(list("噪音扰民施工夜里工地暖气"), size=rng.integers(2, 12)))
        for _ in range(rows // 2)
    ]
    x, extra = (
        _frame(texts, [list(t) for t in texts]),
        (_frame(other, [list(t) for t in other]), None, None),
    )
    train, test = np.arange(0, rows, 3), np.setdiff1d(np.arange(rows), np.arange(0, rows, 3))
    clf = TrainedClassifier()
    alone, both = clf._count(x, None), clf._count(x, extra)
    assert all(
        b.shape[0] == rows + len(other) and b.shape[1] > a.shape[1]
        for (a, _), (b, _) in zip(alone, both)
    )
    for (a, vectorizer), (b, _) in zip(alone, both):
        for one, two in zip(
            _fold_tfidf(a, train, test, vectorizer), _fold_tfidf(b, train, test, vectorizer)
        ):
            assert (
                one.shape == two.shape
                and (sparse.csr_matrix(one) != sparse.csr_matrix(two)).nnz == 0
            )


def test_enough_examples_of_every_label_switch_calibration_to_isotonic():
    import numpy as np

    rng = np.random.default_rng(1)
    heat, road = list("暖气不热供暖温度片冰凉取费"), list("路面坑洼村道破损修公裂口硬化")
    texts = ["".join(rng.choice(heat if k % 2 else road, size=6)) for k in range(120)]
    labels = ["供暖" if k % 2 else "道路" for k in range(120)]
    clf = TrainedClassifier().fit(texts, labels)
    assert clf.manifest_["model"].endswith("isotonic-calibrated")
    few = TrainedClassifier().fit(texts[:40], labels[:40])
    assert few.manifest_["model"].endswith("sigmoid-calibrated")
    preds = clf.predict(["暖气片不热", "村道坑洼"])
    assert [p.level1 for p in preds] == ["供暖", "道路"]
    assert all(
        0.5 <= p.confidence <= 1 and abs(sum(q for _, q in p.alternatives) - 1) < 1e-6
        for p in preds
    )


def test_a_weighted_row_counts_as_that_many_copies_in_the_nb_svms():
    import numpy as np
    from scipy.sparse import csr_matrix, vstack

    from nlp.classify.nbsvm import NBLinearSVC

    rng = np.random.default_rng(0)
    x = csr_matrix((rng.random((30, 12)) < 0.3).astype(float))
    y = np.array(["a", "b", "c"] * 10)
    twice = np.arange(30) % 4 == 0
    weighted = NBLinearSVC().fit(x, y, sample_weight=np.where(twice, 2.0, 1.0))
    copied = NBLinearSVC().fit(vstack([x, x[twice]]).tocsr(), np.concatenate([y, y[twice]]))
    np.testing.assert_allclose(weighted.coef_, copied.coef_, atol=2e-3)
    unweighted = NBLinearSVC().fit(x, y)
    assert np.abs(weighted.coef_ - unweighted.coef_).max() > 0.05  # the weights changed the model


def _borrowed(mislabelled: bool = False):
    heat = [
        "暖气片冰凉屋里才十度",
        "供暖公司不来修暖气",
        "取暖费交了暖气不热",
        "集中供暖温度不达标",
        "暖气管漏水没人管",
        "屋里暖气一点不热",
    ] * 3
    road = [
        "村道坑坑洼洼没法走",
        "公路塌陷好几个月",
        "通村公路没硬化",
        "修路修一半停工了",
        "马路上全是大坑",
        "路面破损下雨积水",
    ] * 3
    texts = heat + road
    labels = ["供暖"] * len(heat) + ["道路"] * len(road)
    if mislabelled:
        labels = labels[::-1]
    return texts, labels, None


def test_borrowed_rows_join_training_when_cross_validation_scores_better_with_them():
    # Each of the user's rows shares no word with the others of its class: on their own they
    # cannot be told apart in cross-validation; the borrowed rows hold those words.
    few = ["集中供暖不达标", "暖气片冰凉", "取暖费太贵", "公路塌陷", "村道破损", "马路全是坑"]
    labels = ["供暖"] * 3 + ["道路"] * 3
    helped = TrainedClassifier().fit(few, labels, borrowed=_borrowed())
    assert helped.manifest_["borrowed"]["used"] and helped.manifest_["borrowed"]["rows"] == 36
    assert (
        max(helped.manifest_["cv_macro_f1"].values())
        > helped.manifest_["borrowed"]["cv_macro_f1_without"]
    )
    # Probabilities are calibrated on the user's rows only.
    folds = helped.model_[-1].cv
    assert len(folds) == 3 and all(held.max() < len(few) <= fit.max() for fit, held in folds)
    # 温度 and 积水 occur only in the borrowed rows.
    assert [p.level1 for p in helped.predict(["温度不达标", "下雨积水"])] == ["供暖", "道路"]
    hurt = TrainedClassifier().fit(few, labels, borrowed=_borrowed(mislabelled=True))
    assert not hurt.manifest_["borrowed"]["used"]
    assert (
        hurt.manifest_["cv_macro_f1"]
        == TrainedClassifier().fit(few, labels).manifest_["cv_macro_f1"]
    )
    assert TrainedClassifier().fit(few, labels).manifest_["borrowed"] is None
    with pytest.raises(ConfigError, match="not among the training labels"):
        TrainedClassifier().fit(few, labels, borrowed=(["教室漏雨"], ["教育"], None))


def test_corpus_examples_follow_the_label_names_at_level_1_or_2():
    from nlp.classify import corpus_examples

    texts, labels = corpus_examples(["城乡建设", "环境保护", "天气"])
    assert set(labels) == {"城乡建设", "环境保护"} and len(texts) == len(labels) > 200
    assert all(isinstance(t, str) and t for t in texts)
    texts, labels = corpus_examples(["供暖", "施工噪音"])
    assert set(labels) == {"供暖", "施工噪音"} and len(texts) > 40
    assert corpus_examples(["供暖", "道路"]) == ([], [])  # one name found: nothing to learn apart

import numpy as np
import pytest

from nlp.core.errors import NotFittedError
from nlp.summarize.roles import ROLES, SentenceRoles, read_labeled


@pytest.fixture(scope="module")
def labeled():
    return read_labeled()


def _split(labeled, seed=0, held=0.2):
    """A held-out fifth of each role in each file, the rest to fit on."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labeled), dtype=bool)
    for rows in labeled.groupby(["file", "role"]).groups.values():
        rows = np.asarray(rows)
        test[rng.choice(rows, size=max(1, round(held * len(rows))), replace=False)] = True
    return labeled[~test], labeled[test]


def test_labeled_sentences_cover_every_role_in_every_voice(labeled):
    assert len(labeled) >= 1670 and set(labeled["role"]) == set(ROLES)
    assert {"board", "fragments", "hard"} <= set(labeled["file"])
    hard = labeled[labeled["file"] == "hard"]["sentence"]
    assert (
        not hard.duplicated().any()
        and not hard.isin(labeled[labeled["file"] != "hard"]["sentence"]).any()
    )


def test_sentence_roles_demand_precision_on_held_out_sentences(labeled):
    train, test = _split(labeled)
    model = SentenceRoles().fit(train["sentence"].tolist(), train["role"].tolist())
    predicted = np.array(model.predict(test["sentence"].tolist()))
    truth = test["role"].to_numpy()
    hits = ((predicted == "demand") & (truth == "demand")).sum()
    precision, recall = hits / (predicted == "demand").sum(), hits / (truth == "demand").sum()
    assert precision >= 0.9 and recall >= 0.75, (precision, recall)


def test_sentence_roles_tell_rules_and_anger_from_demands(labeled):
    model = SentenceRoles().fit(labeled["sentence"].tolist(), labeled["role"].tolist())
    roles = model.predict(
        [
            "请有关部门尽快修复村口被压坏的道路",
            "但因抢修、抢险作业必须连续施工作业的除外",
            "你们不作为的底气何在！",
            "请领导重视并给予答复",
        ]
    )
    assert roles[0] == "demand" and roles[1] == "policy" and "demand" not in roles[2:]


def test_sentence_roles_fit_the_same_model_twice(labeled):
    sentences, roles = labeled["sentence"].tolist(), labeled["role"].tolist()
    first, second = SentenceRoles().fit(sentences, roles), SentenceRoles().fit(sentences, roles)
    probe = sentences[::7]
    assert np.array_equal(first.decision(probe), second.decision(probe))


def test_sentence_roles_say_how_to_fit_before_predicting():
    with pytest.raises(NotFittedError, match="fit"):
        SentenceRoles().predict(["请尽快修路"])
    with pytest.raises(ValueError, match="unknown sentence roles"):
        SentenceRoles().fit(["请尽快修路"], ["request"])

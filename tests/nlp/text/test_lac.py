import numpy as np
import pytest

from nlp.text.lac import LacTagger, _viterbi


def full_viterbi(emissions: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Every pair of tags at every step, one piece at a time: the reference."""
    steps, tags = emissions.shape
    score = emissions[0]
    back = np.zeros((steps, tags), dtype=np.int64)
    for t in range(1, steps):
        total = score[None, :] + transitions.T  # [to, from]
        back[t] = total.argmax(axis=1)
        score = total[np.arange(tags), back[t]] + emissions[t]
    path = np.zeros(steps, dtype=np.int64)
    path[-1] = score.argmax()
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


@pytest.mark.parametrize("kind", ["peaked", "flat", "ties"])
def test_pruned_decoder_finds_the_same_paths_as_trying_every_pair(kind):
    rng = np.random.default_rng(7)
    tags = 59
    if kind == "ties":  # small integers: equal scores everywhere, so tie-breaking is tested
        transitions = rng.integers(-1, 2, (tags, tags)).astype(np.float32)
    else:
        transitions = rng.uniform(-0.2, 0.2, (tags, tags)).astype(np.float32)
    lengths = np.sort(rng.integers(1, 130, 300))[::-1].copy()
    emissions = np.zeros((len(lengths), lengths[0], tags), dtype=np.float32)
    for row, n in enumerate(lengths):
        if kind == "peaked":  # like the model's: one tag far ahead at most steps
            e = rng.normal(0, 1, (n, tags)) + 15 * (rng.random((n, tags)) < 1 / tags)
        elif kind == "flat":  # many tags within reach of each other
            e = rng.normal(0, 0.1, (n, tags))
        else:
            e = rng.integers(0, 3, (n, tags))
        emissions[row, :n] = e
    paths = _viterbi(emissions, lengths, transitions)
    for row, n in enumerate(lengths):
        assert paths[row, :n].tolist() == full_viterbi(emissions[row, :n], transitions).tolist()


def test_a_text_is_tagged_the_same_alone_and_among_others():
    texts = [
        "村里那条路坑坑洼洼好几年了，张建国书记说今年修。",
        "我叫李秀英，住在城关镇幸福小区，暖气不热，屋里才十五度。",
        "医保报销要跑好几趟",
        "希望县林业局尽快办理林木采伐审批。" * 12,  # longer than one piece
    ]
    together = LacTagger(decode_size=3).tag(texts)
    for text, tagged in zip(texts, together):
        assert LacTagger().tag([text])[0] == tagged
    assert "".join(w for w, _ in together[3]) == texts[3]
    assert ("李秀英", "PER") in together[1]


def test_pieces_met_again_take_their_first_tags_without_the_model():
    first = ["我叫李秀英，住在城关镇幸福小区。", "希望县林业局尽快办理林木采伐审批。" * 12]
    again = [
        "医保报销要跑好几趟",
        first[0],
        first[1][:-3] + "审批了。",
    ]  # the last shares its first pieces
    tagger = LacTagger(remember=1_000)
    tagger.tag(first)
    calls = []
    run = tagger._run
    tagger._run = lambda pieces: calls.append(list(pieces)) or run(pieces)
    tagged = tagger.tag(again)
    assert tagged == LacTagger(remember=0).tag(again)
    ran = [piece for call in calls for piece in call]
    assert "医保报销要跑好几趟" in ran and first[0] not in ran
    assert sum(map(len, ran)) < len(again[0]) + len(
        again[2]
    )  # the long text's first pieces were known


def test_remembered_pieces_are_bounded_and_most_recent_kept():
    tagger = LacTagger(remember=2)
    tagger.tag(["甲村修路。", "乙村修桥。"])
    tagger.tag(["甲村修路。"])  # met again: now the most recent
    tagger.tag(["丙村通水。"])
    assert len(tagger._known) == 2
    calls = []
    run = tagger._run
    tagger._run = lambda pieces: calls.append(list(pieces)) or run(pieces)
    tagger.tag(["甲村修路。", "乙村修桥。"])
    assert calls == [["乙村修桥。"]]

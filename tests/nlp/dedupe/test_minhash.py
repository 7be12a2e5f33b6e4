import numpy as np
import pytest

from nlp.dedupe import near_duplicates, shingles


def test_shingles_ignore_spaces_and_punctuation():
    assert shingles("暖气，不 热！") == {"暖气不", "气不热"}
    assert shingles("路") == {"路"} and shingles("") == set()


def test_near_duplicates_link_small_edits_to_the_first_text():
    texts = [
        "暖气不热，屋里才十五度，老人孩子都冻感冒了",
        "路灯坏了好几天",
        "暖气不热，屋里才十五度，老人孩子都冻感冒了！！请尽快处理",
        None,
        "暖气不热 屋里才十五度 老人孩子都冻感冒了",
    ]
    assert near_duplicates(texts, threshold=0.6) == [None, None, 0, None, 0]


def test_near_duplicates_are_reproducible_and_respect_the_threshold():
    texts = ["村里那条路坑坑洼洼好几年了", "村里那条路坑坑洼洼好几年了没人修", "医保报销要跑好几趟"]
    assert (
        near_duplicates(texts, threshold=0.7)
        == near_duplicates(texts, threshold=0.7)
        == [None, 0, None]
    )
    assert near_duplicates(texts, threshold=0.95) == [None, None, None]


def test_signatures_estimate_the_jaccard_similarity_of_shingle_sets():
    from nlp.dedupe.minhash import signatures

    base = (
        "小区东门外的垃圾中转站夏天臭气熏天，蚊蝇乱飞，居民开窗都不敢，希望尽快搬迁或者加盖密封处理"
    )
    variants = [
        base,
        base[:30],
        base + "，谢谢",
        base.replace("垃圾", "废物"),
        "医保报销要跑好几趟，能不能在网上办",
    ]
    sig = signatures(variants, num_perm=256)
    assert sig.shape == (5, 256) and sig.dtype.name == "uint32"
    for other in range(1, 5):
        a, b = shingles(variants[0]), shingles(variants[other])
        true = len(a & b) / len(a | b)
        assert abs((sig[0] == sig[other]).mean() - true) < 0.1, (other, true)


def test_near_duplicates_group_repeats_and_ignore_texts_without_words():
    texts = [
        "路灯坏了好几天没人修",
        "？？？",
        "路灯坏了好几天没人修",
        "路灯坏了好几天没人修！",
        "",
        "暖气不热",
    ] * 2
    out = near_duplicates(texts)
    assert out[:6] == [None, None, 0, 0, None, None]
    assert out[6:] == [0, None, 0, 0, None, 5]


def test_distinct_signatures_in_order_of_first_appearance_even_when_hashes_collide():
    from nlp.dedupe.minhash import _distinct

    rng = np.random.default_rng(0)
    sig = rng.integers(0, 5, size=(2000, 4), dtype=np.uint32)  # 625 possible rows: many repeats
    _, first_seen = np.unique(sig, axis=0, return_index=True)
    expected_first = np.sort(first_seen)
    for multipliers in (
        None,
        np.zeros(4, dtype=np.uint64),
    ):  # the seeded hash; one where all rows collide
        first, inverse = _distinct(sig, step=300, multipliers=multipliers)
        assert np.array_equal(first, expected_first)
        assert np.array_equal(sig[first[inverse]], sig)  # every row maps to a row equal to it
        assert np.array_equal(inverse[first], np.arange(len(first)))


def test_near_duplicates_of_known_repeats_are_the_same_without_hashing_them_again():
    texts = [
        "村里那条路坑坑洼洼好几年了，下雨天没法走",
        "暖气不热，屋里才十五度",
        "村里那条路坑坑洼洼好几年了，下雨天没法走",
        "村里那条路坑坑洼洼好几年了，下雨天没法走啊",
        "！！",
        None,
        "！！",
        "暖气不热，屋里才十五度",
    ]
    same_as = [0, 1, 0, 3, 4, 5, 4, 1]
    assert (
        near_duplicates(texts, same_as=same_as)
        == near_duplicates(texts)
        == [None, None, 0, 0, None, None, None, 1]
    )


@pytest.mark.parametrize(
    "table", [2048, 2]
)  # buckets' pairs compared as one table, or a pair at a time
def test_groups_are_the_components_of_alike_pairs_that_share_a_band(table, monkeypatch):
    # Reference: every pair that shares a band and is alike enough, joined one by one.
    from nlp.dedupe import minhash
    from nlp.dedupe.minhash import _linked

    monkeypatch.setattr(minhash, "_DENSE_BUCKET", table)

    rng = np.random.default_rng(5)
    bands, rows, threshold = 8, 4, 0.6
    base = rng.integers(0, 50, (30, bands * rows), dtype=np.uint32)
    sig = base[rng.integers(0, 30, 400)]
    noise = rng.random(sig.shape) < 0.3  # near copies: some share a band, some are alike, some both
    sig[noise] = rng.integers(0, 50, int(noise.sum()), dtype=np.uint32)
    parent = list(range(len(sig)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    banded = sig.reshape(len(sig), bands, rows)
    for i in range(len(sig)):
        for j in range(i):
            if (banded[i] == banded[j]).all(axis=1).any() and np.count_nonzero(
                sig[i] == sig[j]
            ) >= threshold * sig.shape[1]:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    expected = [root(i) for i in range(len(sig))]
    found = _linked(sig, bands, rows, threshold).tolist()
    assert found == expected
    assert 30 < len(set(found)) < 400  # groups of several, and some apart


def test_signatures_are_the_least_hashes_of_each_texts_shingle_set():
    # Reference: each text's shingle set from shingles(), hashed one shingle at a time.
    from nlp.dedupe.minhash import _MIX, _permutations, signatures

    texts = [
        "村里那条路坑坑洼洼好几年了",
        "a",
        "ab",
        "",
        "好",
        "路路路路路",
        "x y!",
        "暖气不热，屋里才十五度。" * 3,
        "！？",
    ]
    a, b = _permutations(16, 1)
    found = signatures(texts, num_perm=16)
    for text, row in zip(texts, found):
        packed = []
        for shingle in shingles(text):
            value = 0
            for ch in shingle:
                value = value * (1 << 21) + ord(ch)
            packed.append(value)
        if not packed:
            assert (row == np.iinfo(np.uint32).max).all()
            continue
        values = np.array(packed, dtype=np.uint64) * _MIX
        expected = ((values[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).min(axis=0)
        assert row.tolist() == expected.tolist(), text

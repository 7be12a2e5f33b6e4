import numpy as np
import pytest

from nlp.clustering.evidence import LONG_CHARS, SHORT_CHARS, MergeRule, shortness
from nlp.clustering.places import place_keys
from nlp.clustering.semantic import cluster_vectors, top_neighbours


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def grouped(seed: int, groups: int, rows: int, width: int) -> np.ndarray:
    """Unit rows scattered around ``groups`` random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((groups, width))
    return unit(centres[rng.integers(0, groups, rows)] + 0.2 * rng.standard_normal((rows, width)))


def overlap(found: np.ndarray, expected: np.ndarray) -> float:
    """Share of the expected neighbours found, over all rows."""
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, expected)]))


def test_top_neighbours_finds_the_closest_rows_in_order():
    v = unit([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    index, sims = top_neighbours(v, k=2, block=3)
    assert index[:, 0].tolist() == [1, 0, 3, 2]
    assert np.all(sims[:, 0] >= sims[:, 1])


def test_cluster_vectors_groups_close_rows_only():
    v = unit([[1, 0, 0], [0.95, 0.05, 0], [0, 1, 0], [0.02, 0.98, 0], [0, 0, 1]])
    assert cluster_vectors(v, rule=MergeRule(0.9, 0.9)).tolist() == [0, 0, 2, 2, 4]


def test_cluster_vectors_keeps_different_places_apart():
    v = unit([[1, 0], [0.99, 0.01], [0.98, 0.02]])
    labels = cluster_vectors(v, 0.9, places=[{"青石村"}, {"柳湾村"}, set()])
    assert labels[0] != labels[1]


def test_cluster_vectors_must_link_groups():
    v = unit([[1, 0], [0, 1]])
    assert cluster_vectors(v, 0.9, groups=[None, 0]).tolist() == [0, 0]


def test_near_duplicates_about_two_places_are_two_issues():
    # One form letter sent about two estates (MinHash near-duplicates): the staff's rule makes
    # them two issues; the same letter about one estate, or naming none, stays one.
    v = unit([[1, 0], [0.99, 0.1], [0.98, 0.2]])
    places = [{"魅力之城小区"}, {"英祥春天小区"}, {"魅力之城小区"}]
    assert cluster_vectors(v, 0.9, groups=[None, 0, 0], places=places).tolist() == [0, 1, 0]
    assert cluster_vectors(v, 0.9, groups=[None, 0, 0], places=[set()] * 3).tolist() == [0] * 3


def test_cluster_vectors_does_not_chain_through_a_string_of_neighbours():
    angles = np.linspace(0, np.pi / 2, 12)  # each row close to the next, the ends far apart
    v = unit(np.stack([np.cos(angles), np.sin(angles)], axis=1))
    labels = cluster_vectors(v, k=3, rule=MergeRule(0.95, 0.95))
    assert 1 < len(set(labels.tolist())) < len(v)  # close rows gather, the ends stay apart


def test_approximate_neighbours_searched_by_the_sentence_part_are_ranked_by_all_of_it():
    """A run's points are sentence vectors with words beside them: candidates come from the
    sentence part, and the words decide among them."""
    rng = np.random.default_rng(0)
    area, matter = rng.integers(0, 40, 3000), rng.integers(0, 5, 3000)  # 5 matters an area
    sentences = unit(rng.standard_normal((40, 32))[area] + 0.2 * rng.standard_normal((3000, 32)))
    said = rng.standard_normal((200, 32))[area * 5 + matter]
    v = unit(np.hstack([sentences, unit(said + 0.2 * rng.standard_normal((3000, 32)))]))
    exact, exact_sims = top_neighbours(v, k=5)
    approx, sims = top_neighbours(v, k=5, exact_limit=1000, search_dims=32)
    # Ranked by the whole vectors: the similarities are the whole vectors' ones, best first.
    assert np.allclose(sims, np.einsum("id,ikd->ik", v, v[approx]), atol=1e-5)
    assert np.all(np.diff(sims, axis=1) <= 1e-6)
    # Found among the sentence part's candidates, most of the whole vectors' own neighbours.
    # Among the sentence part's candidates the words pick the closest: nearer, by the whole
    # vectors, than the sentence part's own top 5.
    alone, _ = top_neighbours(unit(v[:, :32]), k=5)
    whole = np.einsum("id,ikd->ik", v, v[alone])
    assert sims.mean() > whole.mean() + 0.05 and sims.mean() <= exact_sims.mean() + 1e-6


def test_approximate_neighbours_agree_with_exact_and_repeat():
    v = grouped(0, 40, 3000, 32)
    exact, _ = top_neighbours(v, k=5)
    approx, sims = top_neighbours(v, k=5, exact_limit=1000)
    again, _ = top_neighbours(v, k=5, exact_limit=1000)
    assert np.array_equal(approx, again)
    assert overlap(approx, exact) > 0.9
    assert np.all(approx != np.arange(len(v))[:, None]) and np.all(np.diff(sims, axis=1) <= 1e-6)


def test_half_precision_vectors_find_the_same_neighbours():
    # The pipeline keeps its vectors at half precision; both searches take them as they are.
    v = grouped(1, 40, 3000, 32)
    for limit in (20_000, 1000):  # exact, then approximate
        single, _ = top_neighbours(v, k=5, exact_limit=limit)
        half, sims = top_neighbours(v.astype(np.float16), k=5, exact_limit=limit)
        assert sims.dtype == np.float32
        assert overlap(half, single) > 0.97


def test_codes_written_in_place_are_those_faiss_adds():
    # The approximate search writes the 8-bit codes into storage sized once instead of letting
    # index.add grow it; the index must hold the same codes and find the same rows.
    import faiss

    from nlp.clustering.semantic import _fill

    rng = np.random.default_rng(2)
    v = unit(
        rng.standard_normal((40, 32))[rng.integers(0, 40, 5000)]
        + 0.3 * rng.standard_normal((5000, 32))
    )
    v[100:110] = v[0]  # ties

    def index():
        made = faiss.IndexScalarQuantizer(
            32, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        made.train(v)
        return made

    added = index()
    for lo in range(0, len(v), 700):
        added.add(v[lo : lo + 700])
    filled, fast = index(), faiss.IndexFlatIP(32)
    _fill(fast, filled, len(v), lambda lo: v[lo : lo + 700], 700)
    assert filled.ntotal == added.ntotal == fast.ntotal == len(v)
    size = len(v) * added.code_size
    assert np.array_equal(
        faiss.rev_swig_ptr(filled.codes.data(), size), faiss.rev_swig_ptr(added.codes.data(), size)
    )
    assert np.array_equal(added.search(v[:500], 6)[1], filled.search(v[:500], 6)[1])


def test_approximate_neighbours_take_vectors_of_any_width():
    # The 4-bit codes cut a vector into parts of 4 dimensions: widths that are not a multiple of
    # 8 are padded with zeros, which leaves every product as it was.
    v = grouped(3, 30, 2500, 21)
    exact, _ = top_neighbours(v, k=5)
    approx, sims = top_neighbours(v, k=5, exact_limit=1000)
    assert overlap(approx, exact) > 0.9
    assert np.allclose(sims[:, 0], np.einsum("id,id->i", v, v[approx[:, 0]]), atol=1e-5)


def test_cluster_vectors_merges_rows_recorded_at_one_place_more_readily():
    v = unit([[1, 0], [0.6, 0.8]])  # cosine 0.6
    at = MergeRule(0.65, 0.65)  # the vectors alone: the bonus of 0.1 is all that joins them
    assert cluster_vectors(v, rule=at).tolist() == [0, 1]
    assert cluster_vectors(v, rule=at, anchors=["青石村", "青石村"]).tolist() == [0, 0]
    assert cluster_vectors(v, rule=at, anchors=["青石村", "柳湾村"]).tolist() == [0, 1]


def test_cluster_vectors_weighs_rows_that_stand_for_several():
    angles = np.radians([0, 30, 50])  # rows 1 and 2 join first; row 0 is 30 degrees from row 1
    v = unit(np.stack([np.cos(angles), np.sin(angles)], axis=1))
    vectors_alone = MergeRule(0.85, 0.85)
    # the pair's centre is 40 degrees away
    assert cluster_vectors(v, rule=vectors_alone).tolist() == [0, 1, 1]
    # Row 1 sent twenty times: the pair's centre sits near it, within reach of row 0.
    assert cluster_vectors(v, weights=[1, 20, 1], rule=vectors_alone).tolist() == [0, 0, 0]


def test_cluster_vectors_takes_a_set_of_anchors_for_a_row():
    v = unit([[1, 0], [0.6, 0.8]])  # cosine 0.6
    at = MergeRule(0.65, 0.65)
    assert cluster_vectors(
        v, rule=at, anchors=[frozenset({"青石村", "柳湾村"}), "柳湾村"]
    ).tolist() == [0, 0]
    assert cluster_vectors(
        v, rule=at, anchors=[frozenset({"青石村", "东关社区"}), "柳湾村"]
    ).tolist() == [0, 1]


def pair(cosine: float) -> np.ndarray:
    """Two unit rows at the given cosine."""
    angle = np.arccos(cosine)
    return unit([[1, 0], [np.cos(angle), np.sin(angle)]])


RULE = MergeRule(threshold_long=0.6, threshold_short=0.5, topic_short=0.2, other_short=0.2)


def test_cluster_vectors_joins_fragments_of_one_topic():
    # Two reception-day fragments a little too far apart by their vectors alone: the same
    # confident level-2 class joins them, two different classes keep them apart.
    v, short = pair(0.42), [12, 15]
    apart = cluster_vectors(v, lengths=short, rule=RULE)
    heat = ["供暖", "供暖"]
    same = cluster_vectors(v, lengths=short, topics=heat, confidence=[0.9, 0.9], rule=RULE)
    other = cluster_vectors(v, lengths=short, topics=["供暖", "燃气供应"], rule=RULE)
    assert apart.tolist() == [0, 1] and same.tolist() == [0, 0] and other.tolist() == [0, 1]


def test_cluster_vectors_weighs_topics_by_length():
    # The same vectors and classes: fragments join, posts (where the rule gives topics no
    # weight and a higher threshold) do not.
    v, topics = pair(0.42), ["供暖", "供暖"]
    assert cluster_vectors(v, lengths=[12, 15], topics=topics, rule=RULE).tolist() == [0, 0]
    assert cluster_vectors(v, lengths=[300, 260], topics=topics, rule=RULE).tolist() == [0, 1]


def test_posts_that_name_no_place_merge_at_a_higher_bar():
    # Two posts at cosine 0.64 pass a threshold of 0.6 unless neither names a place (two
    # questions of one policy area: 退休年龄 and 工龄计算), where the rule asks 0.05 more; one
    # place in common is no such case, and fragments (no weight for them here) are not held back.
    rule = MergeRule(threshold_long=0.6, threshold_short=0.6, unnamed_long=0.05)
    v, posts = pair(0.64), [300, 260]
    assert cluster_vectors(v, lengths=posts, rule=rule).tolist() == [0, 1]
    named = [{"幸福小区"}, {"幸福小区"}]
    assert cluster_vectors(v, lengths=posts, places=named, rule=rule).tolist() == [0, 0]
    assert cluster_vectors(v, lengths=[12, 15], rule=rule).tolist() == [0, 0]
    assert rule.margin(0.64, 0.0, 0.0, 0.0, 0.0, bare=1.0) == pytest.approx(-0.01)
    # Clusters already merged: the bar rises with the share of their pairs naming nothing.
    assert rule.margin(0.64, 0.0, 0.0, 0.0, 0.0, bare=0.5) == pytest.approx(0.015)
    three = unit(np.stack([pair(0.64)[0], pair(0.64)[0], pair(0.64)[1]]))
    placed = [{"幸福小区"}, set(), {"幸福小区"}]
    assert len(set(cluster_vectors(three, lengths=[300] * 3, places=placed, rule=rule))) == 1


def test_cluster_vectors_threshold_moves_both_bands():
    v, short = pair(0.55), [12, 15]
    assert cluster_vectors(v, lengths=short, rule=RULE).tolist() == [0, 0]  # 0.55 >= 0.5
    # 0.1 finer than the rule: posts at 0.7, fragments at 0.6
    assert cluster_vectors(v, 0.7, lengths=short, rule=RULE).tolist() == [0, 1]


def test_cluster_vectors_place_evidence_does_not_weaken_as_a_cluster_grows():
    # Five opinions about 青石村 (one also names 柳湾村 in passing) and two about 柳湾村, close
    # by their vectors: two issues. A union of each cluster's places would share 柳湾村.
    rng = np.random.default_rng(0)
    here, there = np.array([1.0, 0, 0]), np.array([0.9, np.sqrt(0.19), 0])
    v = unit(np.stack([here] * 5 + [there] * 2) + 0.001 * rng.standard_normal((7, 3)))
    places = [{"青石村"}] * 4 + [{"青石村", "柳湾村"}] + [{"柳湾村"}] * 2
    labels = cluster_vectors(v, 0.5, places=places, rule=MergeRule(0.5, 0.5)).tolist()
    assert labels == [0] * 5 + [5] * 2


def test_cluster_vectors_judges_places_member_by_member():
    # One opinion names both estates (the road between them), one each estate, all close by
    # their vectors. The first two share 幸福小区; the third, about 阳光小区 alone, shares a place
    # with the cluster's first member but not with its second: it stays apart, though the
    # cluster's places (幸福小区 and 阳光小区, each named by half its members) include its own.
    v = unit([[1, 0], [0.999, 0.001], [0.998, 0.002]])
    places = [{"幸福小区", "阳光小区"}, {"幸福小区"}, {"阳光小区"}]
    labels = cluster_vectors(v, 0.5, places=places, rule=MergeRule(0.5, 0.5)).tolist()
    assert labels[0] == labels[1] != labels[2]
    # With the third about both as well, all three are one issue.
    places[2] = {"幸福小区", "阳光小区"}
    labels = cluster_vectors(v, 0.5, places=places, rule=MergeRule(0.5, 0.5)).tolist()
    assert labels == [0, 0, 0]


def test_cluster_vectors_finds_a_clash_beside_a_pair_that_shares_two_places():
    # The first names the kindergarten and 阳光小区, the second 阳光小区 alone: one cluster. The
    # third names the kindergarten alone: it shares two keys with the first member (the name
    # with its district and without, which a fourth opinion, far off, names) and none with the
    # second, so it stays apart, and so when it stands for several opinions.
    v = unit([[1, 0], [0.999, 0.001], [0.998, 0.002], [0, 1]])
    places = [{"江北区金苗幼儿园", "阳光小区"}, {"阳光小区"}, {"江北区金苗幼儿园"}, {"金苗幼儿园"}]
    assert len(place_keys(places)[2]) == 2
    for weights in (None, [1, 1, 3, 1]):
        found = cluster_vectors(
            v, 0.5, places=places, weights=weights, rule=MergeRule(0.5, 0.5)
        ).tolist()
        assert found[0] == found[1] != found[2]


def test_cluster_vectors_keeps_two_bus_lines_apart():
    v = unit([[1, 0], [0.99, 0.01]])
    labels = cluster_vectors(v, 0.5, places=[{"12路"}, {"112路"}], rule=MergeRule(0.5, 0.5))
    assert labels.tolist() == [0, 1]


def test_cluster_vectors_keeps_two_estates_of_one_developer_apart():
    v = unit([[1, 0], [0.99, 0.01], [0.98, 0.02]])
    places = [{"恒大国际广场"}, {"恒大江湾"}, {"恒大"}]
    labels = cluster_vectors(v, 0.5, places=places, rule=MergeRule(0.5, 0.5)).tolist()
    assert labels[0] != labels[1]
    labels = cluster_vectors(v, 0.5, places=[{"恒大国际广场"}, {"恒大国际广场9栋"}, {"恒大"}])
    assert len(set(labels.tolist())) == 1


def test_shortness_is_one_for_fragments_and_zero_for_posts():
    middle = (SHORT_CHARS + LONG_CHARS) // 2
    assert shortness([10, SHORT_CHARS, middle, LONG_CHARS, 900]).tolist() == [1, 1, 0.5, 0, 0]


def test_merge_rule_margin_is_what_cluster_vectors_decides_by():
    # Two fragments at cosine 0.42 with the same confident class pass RULE by 0.42 + 0.2 * 0.81
    # - 0.5; the same margin decides whether a new opinion joins a stored cluster.
    assert RULE.margin(0.42, 0.81, 0.0, 0.0, 1.0) == pytest.approx(0.082)
    assert RULE.margin(0.42, 0.0, 0.0, 0.0, 0.0) == pytest.approx(-0.18)


def spread(cosine: float, rows: int, width: int, axis: int = 0) -> np.ndarray:
    """``rows`` unit rows whose every two are at ``cosine``: a shared direction (``axis``) and
    one of their own each (the axes after it)."""
    out = np.zeros((rows, width))
    out[:, axis] = np.sqrt(cosine)
    out[np.arange(rows), axis + 1 + np.arange(rows)] = np.sqrt(1 - cosine)
    return out


def two_matters_at_one_place(width: int = 12) -> np.ndarray:
    """Four rows at 0.8 from each other, then two (close to each other) at 0.45 from each of
    the four."""
    queue = spread(0.8, 4, width)
    axis = np.eye(width)
    parking = 0.45 / np.sqrt(0.8) * axis[0] + np.sqrt(1 - 0.45**2 / 0.8) * axis[6]
    return unit(np.vstack([queue, parking, parking + 0.05 * axis[7]]))


def test_cluster_vectors_relative_test_keeps_one_matter_from_the_next_at_one_place():
    # Four fragments that say one thing in near the same words (城东医院挂号排队: cosine 0.8
    # among them) and two that say the next matter there (停车费), 0.45 from each of the four:
    # above the threshold, so without the relative test they make one issue; with it the pair
    # must reach 0.6 x 0.8 = 0.48 and stays apart.
    v = two_matters_at_one_place()
    short = [14] * 6
    plain = MergeRule(threshold_long=0.6, threshold_short=0.3)
    relative = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    assert cluster_vectors(v, lengths=short, rule=plain).tolist() == [0] * 6
    assert cluster_vectors(v, lengths=short, rule=relative).tolist() == [0] * 4 + [4] * 2
    # Posts: the rule's posts have no relative test.
    assert cluster_vectors(v, lengths=[300] * 6, rule=relative.shifted(-0.3)).tolist() == [0] * 6


def test_cluster_vectors_relative_test_still_gathers_loose_paraphrases():
    # Five fragments about one problem in different words (暖气不热 / 屋里冻得伸不出手), 0.35
    # apart: loose, so the bar (0.6 x 0.35) is below the threshold and they make one issue.
    v = unit(spread(0.35, 5, 8))
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    assert cluster_vectors(v, lengths=[12] * 5, rule=rule).tolist() == [0] * 5


def test_cluster_vectors_relative_test_leaves_copies_of_one_text_out_of_the_bar():
    # One text sent by twenty people, a paraphrase of it (0.6) and a third wording, 0.45 from
    # both. Pairs of the copies are one text said again: the bar is 0.6 x 0.6, not near 0.6 x 1.
    gram = np.array([[1, 0.6, 0.45], [0.6, 1, 0.45], [0.45, 0.45, 1]])
    v = unit(np.linalg.cholesky(gram))
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    found = cluster_vectors(v, weights=[20, 1, 1], lengths=[12] * 3, rule=rule)
    assert found.tolist() == [0, 0, 0]
    # Were the copies as many different texts at 1.0 from each other, the third would stay out.
    assert rule.margin(0.45, 0.0, 0.0, 0.0, 1.0, tight=(190 + 20 * 0.6) / 210) < 0


def test_merge_rule_relative_test_caps_the_margin():
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    assert rule.margin(0.45, 0.0, 0.0, 0.0, 1.0) == pytest.approx(0.15)  # no cluster of two
    assert rule.margin(0.45, 0.0, 0.0, 0.0, 1.0, tight=0.8) == pytest.approx(-0.03)
    assert rule.margin(0.45, 0.0, 0.0, 0.0, 1.0, tight=0.5) == pytest.approx(0.15)
    assert rule.margin(0.45, 0.0, 0.0, 0.0, 0.0, tight=0.8) == pytest.approx(-0.15)  # a post


def test_a_coarser_threshold_relaxes_the_relative_test_in_proportion():
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    coarser, finer = rule.shifted(-0.15), rule.shifted(0.15)
    assert coarser.threshold_short == pytest.approx(0.15)
    assert coarser.relative_short == pytest.approx(0.3)
    assert finer.relative_short == 0.6
    assert coarser.relative_long == finer.relative_long == 0.0
    # The two matters at one place of the test above make one issue at the coarser setting.
    v = two_matters_at_one_place()
    assert cluster_vectors(v, lengths=[14] * 6, rule=rule).tolist() == [0] * 4 + [4] * 2
    assert cluster_vectors(v, 0.45, lengths=[14] * 6, rule=rule).tolist() == [0] * 6


def test_relative_test_bar_is_not_lowered_by_a_place_staff_recorded():
    # Two matters recorded by staff at one place (城东医院): the anchor lowers the threshold,
    # not the bar of the relative test.
    v = two_matters_at_one_place()[:5]
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    anchored = cluster_vectors(v, lengths=[14] * 5, anchors=["城东医院"] * 5, rule=rule)
    assert anchored.tolist() == [0] * 4 + [4]
    assert rule.margin(0.25, 0.0, 0.0, 0.0, 1.0, bonus=0.1) == pytest.approx(0.05)


def test_relative_factor_stays_at_finer_settings():
    rule = MergeRule(threshold_long=0.41, threshold_short=0.25, relative_short=0.6)
    assert rule.shifted(0.19).relative_short == 0.6  # in proportion it would be 1.056
    assert rule.shifted(-0.3).relative_short == 0.0  # past zero: no test
    v = unit(spread(0.9, 4, 8))  # four fragments that say one thing: still one issue
    assert cluster_vectors(v, 0.6, lengths=[12] * 4, rule=rule).tolist() == [0] * 4


def test_near_duplicates_set_no_bar_as_copies_of_one_text_do_not():
    # A text and its near copy (0.97, one near-duplicate group) and a paraphrase at 0.45 from
    # both: the group is one text said again, so it sets no bar of 0.6 x 0.97.
    gram = np.array([[1, 0.97, 0.45], [0.97, 1, 0.45], [0.45, 0.45, 1]])
    v = unit(np.linalg.cholesky(gram))
    rule = MergeRule(threshold_long=0.6, threshold_short=0.3, relative_short=0.6)
    found = cluster_vectors(v, groups=[None, 0, None], lengths=[12] * 3, rule=rule)
    assert found.tolist() == [0, 0, 0]

from nlp.summarize.scope import spots, spread


def test_spots_find_named_places_without_the_words_around_them():
    found = [
        s.key for s in spots("我住在A4区伍家岭君悦新天地工地旁边的小区，几个月来深受施工噪音困扰")
    ]
    assert found[0] == "伍家岭君悦新天地工地"
    assert not spots("小区旁边的建筑工地每天晚上施工")  # no name, only kinds
    assert not spots("交了取暖费却不暖和，热力公司电话打不通")  # the heating company, not a place


def test_spread_finds_the_place_most_opinions_are_about():
    texts = ["A2区丽发新城小区旁边建了搅拌站"] * 3 + [
        "丽发新城附近的搅拌站噪音很大",
        "A2区桂香苑也很吵",
    ]
    where = spread(texts)
    assert where.dominant and not where.several and where.scope == "A2区丽发新城小区"
    assert where.counts[0] == ("A2区丽发新城小区", 4) and where.members == [0, 1, 2, 3]


def test_spread_of_opinions_about_many_places_names_no_place():
    texts = [
        "A4区君悦新天地工地每天夜间施工",
        "A3区卓越千山里工地凌晨还在施工",
        "A3区金南家园三期工地通宵施工",
        "A2区福满新城二期工地夜间施工",
        "A1区马王堆地铁站工地超时作业",
    ]
    where = spread(texts)
    assert where.several and not where.dominant and where.scope == "" and len(where.counts) == 5

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
    assert near_duplicates(texts, threshold=0.7) == near_duplicates(texts, threshold=0.7) == [None, 0, None]
    assert near_duplicates(texts, threshold=0.95) == [None, None, None]

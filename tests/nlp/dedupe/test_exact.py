from nlp.dedupe import exact_duplicates


def test_exact_duplicates_point_at_the_first_occurrence():
    texts = ["路坏了", "暖气不热", "路 坏了", None, "", "暖气不热", "路坏了"]
    assert exact_duplicates(texts) == [None, None, 0, None, None, 1, 0]


def test_exact_duplicates_first_row_is_never_a_duplicate():
    assert exact_duplicates(["a", "a"]) == [None, 0]

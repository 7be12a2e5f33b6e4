from nlp.pipeline.blocks import Blocks, distinct_rows


def test_distinct_rows_go_through_once_and_broken_rows_are_never_repeats():
    texts = ["暖气不热", "路灯不亮", "暖气不热", "暖气不热", "暖气不热"]
    titles = ["", "", "", "供暖", ""]
    distinct, source, repeats = distinct_rows(texts, titles, {4: "row has 5 fields"})
    assert distinct == [0, 1, 3, 4]
    assert source == [0, 1, 0, 2, 3]
    assert repeats == [2, 1, 1, 1]


def test_blocks_cut_distinct_rows_and_read_their_texts_a_block_at_a_time():
    texts = ["a", "b", "a", "c", "d"]
    read: list = []

    def cells(rows):
        read.append(rows)
        return texts if rows is None else [texts[i] for i in rows]

    blocks = Blocks(cells, [""] * 5, {3: "broken"}, size=2)
    assert len(blocks) == 2 and blocks.spans == [(0, 2), (2, 4)]
    job = blocks.job(1)
    assert (job.texts, job.errors, job.repeats) == (["c", "d"], {0: "broken"}, [1, 1])
    assert read == [None, [3, 4]]

import pandas as pd

from nlp import InputTable, Pipeline, PipelineConfig
from nlp.pipeline.checkpoint import Checkpoint

TEXTS = [
    "暖气不热，屋里才十五度",
    "医保报销要跑好几趟",
    "村里那条路坑坑洼洼好几年了",
    "",
    "小区电梯经常坏",
    "暖气不热，屋里才十五度",
    "垃圾站太臭了",
]


def test_checkpoint_blocks_are_reused_and_a_damaged_one_is_computed_again(tmp_path):
    pipeline = Pipeline(PipelineConfig(block_size=2))
    table = InputTable.from_texts(TEXTS)
    first = Checkpoint(tmp_path / "work", {"input": "texts"})
    whole = pipeline.run(table, checkpoint=first).opinions
    assert (
        first.computed == first.blocks() == 3
    )  # six distinct rows (a repeat is not a row of its own)
    (tmp_path / "work" / "block-000001.pickle").write_bytes(b"cut short")
    again = Checkpoint(tmp_path / "work", {"input": "texts"})
    resumed = pipeline.run(table, checkpoint=again).opinions
    assert (again.reused, again.computed) == (2, 1)
    pd.testing.assert_frame_equal(resumed, whole)
    assert len(resumed) == len(TEXTS) and resumed.loc[5, "cluster"] == resumed.loc[0, "cluster"]

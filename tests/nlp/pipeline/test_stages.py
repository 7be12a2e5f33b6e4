import pytest

from nlp import InputTable, Pipeline
from nlp.core.errors import ConfigError
from nlp.pipeline import STAGES
from nlp.pipeline.stages import ROW_STAGES, Classify, Encode, Mask, Normalise, Segment


class MarkUrgent:
    """A per-row stage of this test's own: rows that say 紧急 get a note."""

    name = "urgent"
    reads = ("status", "text", "note")
    writes = ("note",)

    def __call__(self, block, parts):
        for i in block.ok():
            if "紧急" in block.text[i]:
                block.note[i] = "; ".join(filter(None, [block.note[i], "urgent"]))


def test_row_stages_keep_one_copy_of_a_text_that_needs_no_masking(pipeline):
    texts = ["村里那条路坑坑洼洼好几年了", "我叫张伟，电话13900001234，路灯不亮"]
    block = pipeline.row_stages(texts, ["", ""])
    assert block.text[0] is block.unmasked[0]
    assert block.text[1] != block.unmasked[1] and "13900001234" not in block.text[1]
    assert block.raw == [] and block.joined == {}  # the working fields are not sent back


def test_stages_reported_are_those_of_the_list(pipeline):
    assert STAGES == (*(s.name for s in ROW_STAGES), "dedupe", "cluster") == pipeline.stage_names
    assert STAGES[:5] == ("normalise", "mask", "segment", "classify", "encode")


def test_a_stage_added_to_the_list_shows_up_in_progress_and_timings(pipeline):
    mine = Pipeline(stages=[*ROW_STAGES, MarkUrgent()], classifier=pipeline.classifier)
    seen = []
    texts = ["路灯坏了，紧急！晚上看不见路", "暖气不热，屋里才十五度", ""]
    result = mine.run(InputTable.from_texts(texts), progress=lambda *report: seen.append(report))
    assert ("urgent", 3, 3) in seen
    assert [stage for stage, _, _ in seen] == list(mine.stage_names)
    assert list(result.summary["timings"]) == [*mine.stage_names[:6], "dedupe", "cluster", "draft"]
    assert result.opinions["note"].tolist() == ["urgent", "", ""]
    assert mine.row_stages(["紧急"], [""]).timings.keys() == {s.name for s in mine.stages}


def test_stages_out_of_order_are_refused():
    with pytest.raises(ConfigError, match="'segment' reads \\['text', 'titles'\\]"):
        Pipeline(stages=[Segment(), Normalise(), Mask(), Classify(), Encode()])
    with pytest.raises(ConfigError, match="two per-row stages"):
        Pipeline(stages=[*ROW_STAGES, Encode()])
    MarkUrgent.reads = ("status", "words")
    try:
        with pytest.raises(ConfigError, match="not fields of a RowBlock"):
            Pipeline(stages=[*ROW_STAGES, MarkUrgent()])
    finally:
        MarkUrgent.reads = ("status", "text", "note")

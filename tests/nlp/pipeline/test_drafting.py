import gc

import pandas as pd
import pytest

from nlp import InputTable
from nlp.pipeline import drafting

FRAME = pd.DataFrame(
    {
        "编号": ["a1", "a2", "a3", "a4"],
        "内容": [
            "青石村那条路坑坑洼洼好几年了，电话13900001234，希望尽快修一修",
            "我是王建国，青石村的路太烂了，坑坑洼洼没法走",
            "青石村的路坑坑洼洼，孩子上学摔了好几次。请政府修路",
            "医保报销要跑好几趟",
        ],
        "地点": ["青石村", "青石村", "青石村", "东关社区"],
    }
)


@pytest.fixture(scope="module")
def result(pipeline):
    return pipeline.run(InputTable.from_frame(FRAME))


def test_drafting_collects_its_garbage_as_it_goes(pipeline, result, monkeypatch):
    monkeypatch.setattr(drafting, "DRAFTS_PER_COLLECTION", 1)
    collected: list[int] = []

    def record(phase, info):
        if phase == "stop":
            collected.append(info["collected"])

    gc.collect()
    gc.disable()  # only the collections that drafting asks for
    gc.callbacks.append(record)
    try:
        drafts = pipeline.draft(result.opinions, result.clusters, "all")
        left = gc.collect()
    finally:
        gc.callbacks.remove(record)
        gc.enable()
    assert len(drafts) == len(result.clusters) >= 2
    # A collection after each draft found garbage.
    assert len(collected) >= len(drafts) + 1  # a collection after each draft
    assert left == 0 and gc.get_freeze_count() == 0  # nothing left over, nothing left frozen


def test_drafts_follow_the_selection(pipeline, result):
    everything = pipeline.draft(result.opinions, result.clusters, "all")
    top = pipeline.draft(result.opinions, result.clusters, "top 1")
    assert [d.cluster for d in top] == [everything[0].cluster]
    assert pipeline.draft(result.opinions, result.clusters, "none") == []

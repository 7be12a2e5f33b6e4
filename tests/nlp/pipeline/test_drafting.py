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


def test_clusters_table_states_the_drafts_places_breadth_and_heat(pipeline):
    texts = [
        "丽发新城小区附近的搅拌站噪音太大，半夜都在响",
        "丽发新城旁边搅拌站天天夜里施工，吵得睡不着",
        "丽发新城3栋的业主反映搅拌站灰尘噪音扰民",
        "暮云街道丽发新城附近的搅拌站能不能搬走",
        "青石村那条路坑坑洼洼好几年了",
    ]
    result = pipeline.run(InputTable.from_texts(texts))
    table = result.clusters.set_index("cluster")
    assert result.drafts
    for draft in result.drafts:
        row = table.loc[draft.cluster]
        assert row["places"] == " ".join(p for p, _ in draft.facts["places"][:5])
        assert (row["breadth"], row["breadth_why"]) == (
            draft.scores["breadth"],
            draft.scores["breadth_why"],
        )
        assert row["heat"] == draft.scores["heat"]
        assert f"{draft.facts['opinions']}条意见" in row["breadth_why"]
    heat = result.clusters["heat"].tolist()
    assert heat == sorted(heat, reverse=True)


def test_agree_with_drafts_takes_the_fact_sheet_and_sorts_again(result):
    clusters = result.clusters
    cold = clusters["cluster"].iloc[-1]
    draft = drafting.Draft(
        cluster=cold,
        title="",
        sections={},
        sources=[],
        scores={"breadth": 0.9, "breadth_why": "9人、3个地点、9条意见", "heat": 0.99},
        facts={"places": [("甲村", 5), ("乙村", 3), ("丙村", 1)]},
    )
    agreed = drafting.agree_with_drafts(clusters, [draft])
    assert agreed["cluster"].iloc[0] == cold
    assert agreed.iloc[0][["places", "breadth_why", "heat"]].tolist() == [
        "甲村 乙村 丙村",
        "9人、3个地点、9条意见",
        0.99,
    ]
    assert len(agreed) == len(clusters)

import numpy as np
import pandas as pd
import pytest

from nlp import OUTPUT_COLUMNS, InputTable, Pipeline, PipelineConfig
from nlp.io import resolve_columns


def test_pipeline_scores_every_row_in_order(pipeline):
    texts = [
        "暖气不热，屋里才十五度",
        "",
        "  ",
        "暖气不热，屋里才十五度",
        "醫保報銷要跑好幾趟😡",
        "\x00\x01\x02\x03\x04\x05",
    ]
    out = pipeline.run(InputTable.from_texts(texts)).opinions
    assert list(out.columns[: len(OUTPUT_COLUMNS)]) == list(OUTPUT_COLUMNS)
    assert out["row"].tolist() == list(range(6))
    assert out["status"].tolist() == ["ok", "empty", "empty", "ok", "ok", "error"]
    assert out["error"][5].startswith("the text looks like binary")
    assert out["duplicate_of"].tolist()[:4] == [pd.NA, pd.NA, pd.NA, 0]
    assert out["cluster"][0] == out["cluster"][3] != out["cluster"][4]
    assert out["text"][4] == "医保报销要跑好几趟"
    assert (out["level1"][0], out["level2"][0]) == ("城乡建设", "供暖")
    assert out["department"][4] == "医疗保障局"
    assert out["level1"][1] == "" and pd.isna(out["confidence"][1])


def test_pipeline_masks_before_output_and_keeps_places(pipeline):
    frame = pd.DataFrame(
        {
            "内容": ["我是张德顺，电话13900001234，青石村的路坏了", "路灯不亮"],
            "地点": ["青石村", "东关社区"],
            "备注": ["回访电话13900005678", ""],
        }
    )
    out = pipeline.run(InputTable.from_frame(frame)).opinions
    flat = out.astype(str).to_string()
    assert "13900001234" not in flat and "13900005678" not in flat and "张德顺" not in flat
    assert out["places"][0].startswith("青石村") and out["place"][1] == "东关社区"
    assert out["备注"][0] == "回访电话[电话]"


def test_pipeline_keep_pii_turns_masking_off():
    out = (
        Pipeline(PipelineConfig(mask_pii=False))
        .run(InputTable.from_texts(["电话13900001234"]))
        .opinions
    )
    assert "13900001234" in out["text"][0] and out["original"][0] == "电话13900001234"


def test_keep_pii_still_finds_the_places_the_clusters_judge_by():
    texts = ["张德顺反映青石村的路坑坑洼洼，电话13900001234", "幸福里小区门口路灯坏了一个月"]
    kept = Pipeline(PipelineConfig(mask_pii=False)).run(InputTable.from_texts(texts)).opinions
    masked = Pipeline().run(InputTable.from_texts(texts)).opinions
    assert "张德顺" in kept["text"][0] and "13900001234" in kept["text"][0]
    assert kept["places"].tolist() == masked["places"].tolist()
    assert kept["places"][0].startswith("青石村") and "幸福里小区" in kept["places"][1]


def test_repeated_rows_are_scored_once_and_come_out_like_their_first(pipeline):
    texts = [
        "张德顺反映青石村的路坑坑洼洼，电话13900001234",
        "暖气不热，屋里才十五度",
        "张德顺反映青石村的路坑坑洼洼，电话13900001234",
        "",
        "暖气不热，屋里才十五度",
    ]
    table = InputTable.from_texts(texts + ["暖气不热，屋里才十五度"])
    table.row_errors[5] = (
        "row has 5 fields but the header has 2"  # a broken row is never taken for a repeat
    )
    result = pipeline.run(table)
    out = result.opinions
    assert out["status"].tolist() == ["ok", "ok", "ok", "empty", "ok", "error"]
    columns = ["text", "level1", "level2", "confidence", "places", "cluster", "department"]
    assert (
        out.loc[2, columns].tolist() == out.loc[0, columns].tolist()
        and out.loc[4, columns].tolist() == out.loc[1, columns].tolist()
    )
    assert out["duplicate_of"][2] == 0 and out["duplicate_of"][4] == 1
    assert "[姓名]" in out["text"][2] and "[电话]" in out["text"][2]
    # Personal data is counted for every row that carried it, not once per distinct text.
    assert result.summary["pii_masked"]["phone"] == 2 and result.summary["pii_masked"]["name"] == 2
    alone = pipeline.run(InputTable.from_texts(texts[:2])).opinions
    assert out.loc[:1, columns].equals(alone.loc[:1, columns])


def test_pipeline_marks_broken_rows_and_long_texts(pipeline):
    table = InputTable.from_texts(["路" * 6000, "暖气不热"])
    table.row_errors[1] = "row has 5 fields but the header has 2"
    out = pipeline.run(table).opinions
    assert out["status"].tolist() == ["ok", "error"]
    assert len(out["text"][0]) == 5000 and "6000" in out["note"][0]


def test_pipeline_uses_title_time_and_id_columns(pipeline):
    frame = pd.DataFrame(
        {
            "留言编号": ["a1", "a2"],
            "留言主题": ["供暖问题", ""],
            "留言时间": ["2019/2/28 11:25:05", "不详"],
            "留言详情": ["屋里才十五度", "路坏了"],
        }
    )
    out = pipeline.run(InputTable.from_frame(frame), resolve_columns(list(frame.columns))).opinions
    assert out["id"].tolist() == ["a1", "a2"]
    assert out["time"].tolist() == ["2019-02-28 11:25:05", "不详"]
    assert out["level2"][0] == "供暖"  # the title carries the topic


def test_pipeline_summary_counts_and_times_every_stage(pipeline):
    result = pipeline.run(InputTable.from_texts(["暖气不热", "暖气不热", ""]))
    s = result.summary
    assert s["status"] == {"ok": 2, "empty": 1, "error": 0}
    assert s["duplicates"] == {"rows": 1, "groups": 1}
    assert set(s["timings"]) == {
        "normalise",
        "mask",
        "segment",
        "classify",
        "encode",
        "dedupe",
        "cluster",
        "draft",
    }
    assert s["config"]["tokenizer"] == "jieba"


def test_pipeline_on_empty_table(pipeline):
    out = pipeline.run(InputTable.from_frame(pd.DataFrame({"text": []}))).opinions
    assert len(out) == 0 and list(out.columns[:3]) == ["row", "id", "status"]


def test_pipeline_repeats_and_empty_rows_keep_their_own_vectors(pipeline):
    texts = [
        "小区电梯经常坏，老人上下楼很难",
        "",
        "村里饮用水浑浊，有异味",
        "小区电梯经常坏，老人上下楼很难",
        "   ",
        "路灯晚上不亮，出行不安全",
    ]
    result = pipeline.run(InputTable.from_texts(texts))
    out = result.opinions
    ok = out[out["status"] == "ok"]
    assert list(ok["row"]) == [0, 2, 3, 5]
    assert out.loc[0, "cluster"] == out.loc[3, "cluster"]
    assert set(result.centroids) == set(ok["cluster"])
    # A cluster of one text and its repeat has that text's vector as its centre: a repeat given
    # another row's vector (or an empty row's) would pull the centre off unit length (vectors are
    # kept at half precision: a unit vector's norm is 1 within about 1e-4).
    norms = {c: float(np.linalg.norm(v)) for c, v in result.centroids.items()}
    assert all(abs(norm - 1) < 1e-3 for norm in norms.values()), norms


def test_letting_go_of_the_input_text_changes_no_output(pipeline):
    frame = pd.DataFrame(
        {
            "内容": [
                "我是张德顺，电话13900001234，青石村的路坏了",
                "路灯不亮",
                "我是张德顺，电话13900001234，青石村的路坏了",
            ],
            "备注": ["回访", "", "再次反映"],
        }
    )
    kept = InputTable.from_frame(frame.copy())
    let_go = InputTable.from_frame(frame.copy())
    expected = pipeline.run(kept).opinions
    out = pipeline.run(let_go, keep_input=False).opinions
    pd.testing.assert_frame_equal(out, expected)
    assert "内容" in kept.frame.columns and list(let_go.frame.columns) == ["备注"]
    # A repeated text is one string in the table, not a copy per row.
    assert out["text"][0] is out["text"][2]
    # With masking off the input's text is exported, so it is kept.
    plain = InputTable.from_frame(frame.copy())
    out = Pipeline(PipelineConfig(mask_pii=False)).run(plain, keep_input=False).opinions
    assert "内容" in plain.frame.columns and out["original"][0] == frame["内容"][0]


def test_fragments_about_one_problem_are_one_issue_at_the_default_settings(pipeline):
    heating = [
        "暖气不热，屋里才十五度",
        "今年供暖到现在了家里暖气片还是凉的，打热力公司电话没人管",
        "小区供热温度不达标，交了取暖费却不暖和，要求退费",
    ]
    logging = [
        "家里承包的林子想砍几棵树，采伐证跑了三趟还没批下来",
        "林木采伐许可证办理太慢了",
        "自家种的杨树到了砍伐年限，申请采伐指标一直没消息",
    ]
    buses = [
        "村里到镇上的公交车太少了，一天就两班",
        "公交班次太少，等车要一个小时",
        "希望增加去县城的公交车班次",
    ]
    alone = [
        "领导好，小区门口的垃圾好几天没人清理，谢谢",
        "医保报销要跑好几趟",
        "楼上装修天天电钻响，吵得睡不着",
    ]
    result = pipeline.run(InputTable.from_texts(heating + logging + buses + alone))
    cluster = result.opinions["cluster"].tolist()
    assert [len(set(cluster[k : k + 3])) for k in (0, 3, 6, 9)] == [1, 1, 1, 3]
    assert len(set(cluster)) == 6
    titles = result.clusters.set_index("cluster")["title"]
    assert titles[cluster[9]] == "小区门口的垃圾好几天没人清理"  # no greeting, no thanks


@pytest.mark.slow
def test_a_large_batch_self_trains_once_on_a_bounded_sample(monkeypatch):
    from nlp.classify import ColdStartClassifier
    from nlp.core.resources import corpus_path
    from nlp.io import read_table

    learnt = []
    self_trained = ColdStartClassifier.self_trained

    def counted(self, texts, tokens, vectors=None):
        learnt.append(len(texts))
        return self_trained(self, texts, tokens, vectors)

    monkeypatch.setattr(ColdStartClassifier, "self_trained", counted)
    table = read_table(corpus_path("sample_opinions.csv"))  # about 300 distinct opinions
    config = PipelineConfig(self_train_sample=220, block_size=100, drafts="none")
    result = Pipeline(config).run(table)
    # Once for the run, not once per block, on the sample alone (220 distinct rows; empty ones
    # left out).
    assert len(learnt) == 1 and 210 <= learnt[0] <= 220
    # The rows it learnt from: the sample's distinct texts (two rows may differ by title alone).
    rows = result.summary["classifier"]["self_trained_on_rows"]
    assert result.summary["classifier"] == {
        "model": "built-in model",
        "config": "builtin",
        "self_trained_on_rows": rows,
    }
    assert 200 <= rows <= learnt[0]
    plain_config = PipelineConfig(self_train=False, block_size=100, drafts="none")
    plain = Pipeline(plain_config).run(read_table(corpus_path("sample_opinions.csv")))
    assert len(learnt) == 1 and plain.summary["classifier"]["self_trained_on_rows"] == 0
    # Self-training moves some rows, not most (34 of 320 on the demo with the December 2026
    # model, about half of them to the class the taxonomy gives them: 新农合 → 劳动和社会保障).
    assert (plain.opinions["level1"] == result.opinions["level1"]).mean() > 0.85

import numpy as np
import pandas as pd

from nlp import InputTable
from nlp.summarize import ClusterFacts, ClusterScorer


def test_scorer_explains_each_score_in_words():
    facts = ClusterFacts(
        texts=["大树歪了怕砸到孩子，好几年了", "树快倒了很危险"],
        times=[pd.Timestamp("2024-09-01"), pd.Timestamp("2024-06-01")],
        people=2,
        places=1,
        channels=2,
        level1="城乡建设",
        level2="树障/树木倾斜",
        support=10,
    )
    s = ClusterScorer().score(facts, now=pd.Timestamp("2024-09-10"))
    assert 0 < s["urgency"] <= 1 and "2条中2条涉及安全或健康风险" in s["urgency_why"]
    assert "近4周1条（共2条）" in s["urgency_why"]
    assert s["breadth_why"] == "2人、1个地点、2个渠道、2条意见"
    assert "树障/树木倾斜" in s["importance_why"] and "点赞或附议10次" in s["importance_why"]
    assert 0 < s["heat"] < 1


def test_broader_issues_score_higher_breadth():
    scorer = ClusterScorer()
    small = ClusterFacts(["路坏了"], [None], 1, 1, 1, "交通运输", "道路破损/改道")
    big = ClusterFacts(["路坏了"] * 20, [None] * 20, 18, 4, 3, "交通运输", "道路破损/改道")
    assert scorer.score(big)["breadth"] > scorer.score(small)["breadth"]


def test_pipeline_clusters_table_describes_each_issue(pipeline):
    frame = pd.DataFrame(
        {
            "内容": [
                "青石村那条路坑坑洼洼好几年了",
                "青石村的路太烂了，坑坑洼洼没法走",
                "暖气不热，屋里才十五度",
                "",
            ],
            "来源": ["接待日", "12345", "扫码", "扫码"],
            "日期": ["2024-07-01", "2024-08-01", "2024-09-01", "2024-09-02"],
            "点赞数": ["3", "5", "x", "0"],
        }
    )
    result = pipeline.run(InputTable.from_frame(frame))
    out, clusters = result.opinions, result.clusters
    assert out["cluster"][0] == out["cluster"][1] != out["cluster"][2] and out["cluster"][3] == ""
    road = clusters.set_index("cluster").loc[out["cluster"][0]]
    assert road["size"] == 2 and road["sources"] in ("12345:1 接待日:1", "接待日:1 12345:1")
    assert (road["first_seen"], road["last_seen"]) == ("2024-07-01", "2024-08-01")
    assert "青石村" in road["title"] and road["level2"] == "道路破损/改道"
    assert "点赞或附议8次" in road["importance_why"]
    assert clusters["heat"].is_monotonic_decreasing


def test_a_pairs_representative_is_its_earlier_row_whatever_the_last_digits(pipeline):
    from nlp.clustering.describe import summarize_clusters

    result = pipeline.run(
        InputTable.from_texts(["青石村那条路坑坑洼洼好几年了", "青石村的路太烂了，坑坑洼洼没法走"])
    )
    opinions = result.opinions.assign(cluster="C1")
    # Both members of a pair are equally close to its centre; the second vector's norm is off in
    # the fourth decimal (as half-precision vectors' are), which alone would make it the lead.
    vectors = {0: np.array([1.0, 0.0]), 1: 1.0002 * np.array([0.6, 0.8])}
    clusters = summarize_clusters(opinions, {}, vectors)
    assert clusters.loc[0, "representatives"].split()[0] == str(opinions.loc[0, "id"])


def test_cluster_weeks_and_dates_leave_out_rows_without_a_time(pipeline):
    from nlp.clustering.describe import summarize_clusters

    result = pipeline.run(
        InputTable.from_texts(
            [
                "青石村那条路坑坑洼洼好几年了",
                "青石村的路太烂了，坑坑洼洼没法走",
                "青石村的路坑坑洼洼",
                "村里的路坑坑洼洼",
            ]
        )
    )
    for times in (
        ["2024-12-30 09:00:00", "", "2025-01-05 18:00:00", "2024-12-01 08:00:00"],
        ["2024-12-30T09:00:00+08:00", "", "2025-01-05T18:00:00+08:00", "2024-12-01T08:00:00+08:00"],
    ):
        opinions = result.opinions.assign(cluster="C1", time=times)
        row = summarize_clusters(opinions, {}, {}).iloc[0]
        # 2024-12-30 and 2025-01-05 are both in ISO week 2025-W01; the row without a time is counted
        # in the size but in no week.
        assert row["weekly_counts"] == "2024-W48:1 2025-W01:2"
        assert (row["first_seen"], row["last_seen"], row["size"]) == ("2024-12-01", "2025-01-05", 4)


def test_a_child_named_is_a_risk_only_beside_a_harm():
    def risky(text: str) -> bool:
        facts = ClusterFacts([text], [None], 1, 1, 1, "城乡建设", "住房保障")
        return "1条中1条涉及安全或健康风险" in ClusterScorer().score(facts)["urgency_why"]

    assert not risky("产权证办不下来，孩子上学都受影响")
    assert risky("河边没有护栏，孩子差点落水")
    assert risky("楼道灯坏了，老人下楼摔伤了")
    assert not risky("孩子很多。路边的狗被咬了")  # not in one sentence
    assert risky("楼道堆满杂物，有安全隐患")

import json
import shutil

import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.clustering.review import Review
from nlp.clustering.store import ClusterStore
from nlp.core.errors import ReviewError

ROAD = [
    "青石村那条路坑坑洼洼好几年了",
    "青石村的路太烂了，坑坑洼洼没法走",
    "青石村那条路全是坑，坑坑洼洼下雨没法走",
]
LIFT = ["幸福小区3号楼电梯又坏了，老人爬不动楼", "幸福小区电梯三天两头坏，物业也不修"]
HEAT = ["暖气不热，屋里才十五度", "我家暖气片冰凉，供暖公司不管"]


def score(state, texts, when, ids=None):
    """Score ``texts`` dated ``when`` (a list: one date per text) into the state."""
    when = when if isinstance(when, list) else [when] * len(texts)
    frame = pd.DataFrame(
        {"id": ids or [f"{w}-{k}" for k, w in enumerate(when)], "text": texts, "time": when}
    )
    return Pipeline(store=ClusterStore(state)).run(InputTable.from_frame(frame))


def cluster_of(result, text):
    rows = result.opinions
    return rows.loc[rows["text"] == text, "cluster"].iloc[0]


@pytest.fixture
def state(tmp_path):
    result = score(tmp_path, ROAD + LIFT + HEAT, "2024-08-01")
    return tmp_path, result


def test_merge_rename_mark_persist_across_the_next_run(state):
    folder, first = state
    road, lift = cluster_of(first, ROAD[0]), cluster_of(first, LIFT[0])
    assert road != lift
    review = Review(folder, who="王指导员")
    review.merge(road, lift, why="同一村的民生问题一并办理")
    review.rename(road, "青石村道路与电梯问题")
    review.mark(road, "已转办", why="已转交通运输局")
    listed = review.clusters()
    assert lift not in set(listed["cluster"])  # merged away
    merged = listed.set_index("cluster").loc[road]
    assert (
        merged["size"] == 5
        and merged["title"] == "青石村道路与电梯问题"
        and merged["status"] == "已转办"
    )
    log = review.decisions()
    assert log["action"].tolist() == ["merge", "rename", "mark"] and set(log["who"]) == {"王指导员"}
    assert (
        log.loc[0, "why"] == "同一村的民生问题一并办理"
        and log["at"].str.match(r"\d{4}-\d\d-\d\dT").all()
    )

    when = ["2024-08-01"] * 5 + ["2024-11-01"]
    second = score(
        folder,
        [*ROAD, *LIFT, "幸福小区电梯又停了，住18楼的老人下不了楼"],
        when,
        ids=[f"2024-08-01-{k}" for k in range(5)] + ["new"],
    )
    rows = second.opinions
    assert set(rows["cluster"]) == {
        road
    }  # old members stay merged; the new lift complaint joins them
    cluster = second.clusters.set_index("cluster").loc[road]
    assert cluster["title"] == "青石村道路与电梯问题" and cluster["status"] == "已转办"
    assert Review(folder).clusters().set_index("cluster").loc[road, "size"] == 6


def test_split_and_move_keep_opinions_apart_in_the_next_run(state):
    folder, first = state
    road = cluster_of(first, ROAD[0])
    review = Review(folder, who="李")
    opinions = review.opinions(road)
    assert len(opinions) == 3
    last = opinions.loc[opinions["text"] == ROAD[2], "opinion"].tolist()
    new = review.split(road, last, title="村道积水")
    assert new != road and new.startswith("C2024Q3-")
    assert review.opinions(new)["text"].tolist() == [ROAD[2]]
    assert review.clusters().set_index("cluster").loc[new, "title"] == "村道积水"
    heat = cluster_of(first, HEAT[0])
    review.move([opinions.loc[opinions["text"] == ROAD[1], "opinion"].iloc[0]], heat, why="误并")
    assert ROAD[1] in review.opinions(heat)["text"].tolist()

    again = score(folder, ROAD, "2024-08-01", ids=[f"2024-08-01-{k}" for k in range(3)])
    assert again.opinions["cluster"].tolist() == [road, heat, new]
    with pytest.raises(ReviewError, match="not in cluster"):
        review.split(road, [opinions["opinion"].iloc[1]])


def test_relabel_teaches_the_next_run_and_sets_the_department(state):
    folder, first = state
    heat = cluster_of(first, HEAT[0])
    review = Review(folder)
    review.relabel(heat, "城乡建设", "供暖", why="供暖归住建")
    review.set_department(heat, "区供热办")
    opinions = review.opinions(heat)
    assert set(opinions["level1"]) == {"城乡建设"} and set(opinions["department"]) == {"区供热办"}
    again = score(folder, HEAT, "2024-08-01", ids=["2024-08-01-5", "2024-08-01-6"])
    rows = again.opinions
    assert (
        rows["level1"].tolist() == ["城乡建设"] * 2
        and rows["department"].tolist() == ["区供热办"] * 2
    )
    assert rows["confidence"].tolist() == [1.0, 1.0] and rows["note"].str.contains("review").all()
    cluster = again.clusters.set_index("cluster").loc[heat]
    assert cluster["level1"] == "城乡建设" and cluster["department"] == "区供热办"


def test_undo_puts_everything_back_in_order(state):
    folder, first = state
    road, lift = cluster_of(first, ROAD[0]), cluster_of(first, LIFT[0])
    review = Review(folder)
    before = review.clusters().set_index("cluster")[["size", "title", "status"]]
    review.merge(road, lift)
    new = review.split(road, [review.opinions(road)["opinion"].iloc[0]])
    review.mark(road, "已核实")
    assert review.undo()["action"] == "mark"
    assert review.undo()["action"] == "split"
    assert review.undo()["action"] == "merge"
    assert review.undo() is None
    after = review.clusters().set_index("cluster")[["size", "title", "status"]]
    pd.testing.assert_frame_equal(after.sort_index(), before.sort_index())
    assert new not in after.index
    assert review.decisions()["undone_at"].notna().all()
    # Clustering a new opinion still sees both clusters as they were.
    again = score(folder, [LIFT[1], ROAD[1]], "2024-08-01", ids=["2024-08-01-4", "2024-08-01-1"])
    assert again.opinions["cluster"].tolist() == [lift, road]


def test_bad_decisions_are_refused_and_change_nothing(state):
    folder, first = state
    road, lift = cluster_of(first, ROAD[0]), cluster_of(first, LIFT[0])
    review = Review(folder)
    with pytest.raises(ReviewError, match="not one of"):
        review.mark(road, "done")
    with pytest.raises(ReviewError, match="no cluster"):
        review.rename("C1999Q1-0001", "x")
    with pytest.raises(ReviewError, match="itself"):
        review.merge(road, road)
    with pytest.raises(ReviewError, match="no stored opinion"):
        review.move([999999], road)
    review.merge(road, lift)
    with pytest.raises(ReviewError, match="was merged into"):
        review.rename(lift, "x")
    assert review.decisions()["action"].tolist() == ["merge"]


def test_decisions_move_to_another_machine(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    first = score(here, ROAD + LIFT + HEAT, "2024-08-01")
    # Decisions name opinions by keyed hashes: the two machines share the state's secret.
    there.mkdir()
    shutil.copy(here / "minyi.secret", there / "minyi.secret")
    score(there, ROAD + LIFT + HEAT, "2024-08-01")
    road, lift, heat = (cluster_of(first, t[0]) for t in (ROAD, LIFT, HEAT))
    review = Review(here, who="张")
    review.merge(road, lift, why="合并")
    review.relabel([review.opinions(heat)["opinion"].iloc[0]], "城乡建设", "供暖")
    review.mark(heat, "不予处理")
    review.mark(road, "已核实")
    review.undo()
    path = tmp_path / "decisions.json"
    assert review.export_decisions(path) == 3
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "minyi-decisions/1" and [
        d["action"] for d in document["decisions"]
    ] == ["merge", "relabel", "mark"]

    other = Review(there, who="someone else")
    result = other.import_decisions(path)
    assert len(result["applied"]) == 3 and not result["skipped"]
    assert other.import_decisions(path)["applied"] == []  # nothing twice
    mine, theirs = (
        r.clusters().set_index("cluster")[["size", "status", "level1"]].sort_index()
        for r in (review, other)
    )
    pd.testing.assert_frame_equal(mine, theirs)
    assert set(other.decisions()["who"]) == {"张"}

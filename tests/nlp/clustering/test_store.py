import json

import numpy as np
import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.clustering.describe import summarize_clusters
from nlp.clustering.store import ClusterFilter, ClusterStore
from nlp.core.errors import ConfigError

Q3 = [
    "青石村那条路坑坑洼洼好几年了",
    "青石村的路太烂了，坑坑洼洼没法走",
    "暖气不热，屋里才十五度",
    "医保报销要跑好几趟",
]
Q4 = ["青石村那条路还是坑坑洼洼", "柳湾村自来水停了三天", *Q3]


def run(state, texts, when):
    frame = pd.DataFrame({"text": texts, "time": [when] * len(texts)})
    return Pipeline(store=ClusterStore(state)).run(InputTable.from_frame(frame)).opinions


def test_state_keeps_ids_and_joins_new_opinions_to_old_clusters(tmp_path):
    first = run(tmp_path, Q3, "2024-08-01")
    assert all(c.startswith("C2024Q3-") for c in first["cluster"])
    second = run(tmp_path, Q4, "2024-11-01")
    assert (
        second["cluster"].tolist()[2:] == first["cluster"].tolist()
    )  # old opinions keep their ids
    assert second["cluster"][0] == first["cluster"][0]  # the same road joins its cluster
    assert second["cluster"][1].startswith("C2024Q4-0001")  # a new matter gets the new quarter's id
    again = run(tmp_path, Q4, "2024-11-01")
    assert again["cluster"].tolist() == second["cluster"].tolist()


def test_state_refuses_another_encoder(tmp_path):
    ClusterStore(tmp_path).space("use-multilingual-v3", np.zeros(3, dtype=np.float32))
    with pytest.raises(ConfigError, match="encoder"):
        ClusterStore(tmp_path).space("e5", np.zeros(3, dtype=np.float32))


def test_state_stores_masked_opinions_and_describes_clusters_across_runs(tmp_path):
    run(
        tmp_path,
        ["青石村那条路坑坑洼洼好几年了，电话13912345678", "暖气不热，屋里才十五度"],
        "2024-08-01",
    )
    run(tmp_path, ["青石村的路太烂了，坑坑洼洼没法走", "青石村那条路还是坑坑洼洼"], "2024-11-01")
    store = ClusterStore(tmp_path)
    total, page = store.list_clusters()
    assert total == 2
    road = page[0] if "路" in page[0]["title"] + page[0]["keywords"] else page[1]
    # Described from all stored opinions, not only the latest run's.
    assert (
        road["size"] == 3
        and road["first_seen"] == "2024-08-01"
        and road["last_seen"] == "2024-11-01"
    )
    members, vectors, words = store.members([road["cluster"]])
    assert len(members) == 3 and len(vectors) == 3 and any("坑坑洼洼" in w for w in words.values())
    assert not members["text"].str.contains("13912345678").any()  # stored masked
    total, only_heating = store.list_clusters(ClusterFilter(level2="供暖"))
    assert total == 1 and "暖气" in only_heating[0]["keywords"] + only_heating[0]["title"]
    assert store.list_clusters(ClusterFilter(since="2024-10-01"))[0] == 1


def test_state_file_from_before_migrations_is_adopted(tmp_path):
    import sqlite3

    path = tmp_path / "minyi.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE clusters (id TEXT PRIMARY KEY, period TEXT NOT NULL, number INTEGER NOT NULL, centroid BLOB NOT NULL,"
        " size INTEGER NOT NULL, places TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "CREATE TABLE members (text_key TEXT PRIMARY KEY, cluster_id TEXT NOT NULL REFERENCES clusters(id), added_at TEXT NOT NULL);"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, source TEXT NOT NULL, rows INTEGER NOT NULL,"
        " new_clusters INTEGER NOT NULL, config TEXT NOT NULL);"
        "INSERT INTO clusters VALUES ('C2024Q3-0007', '2024Q3', 7, x'0000803f', 1, '[]', '', '2024-08-01', '2024-08-01');"
    )
    old.commit()
    old.close()
    store = ClusterStore(tmp_path)
    assert store.next_number("2024Q3") == 8  # old rows kept
    assert store.list_clusters()[0] == 1  # new columns added by the migration


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    bad = tmp_path / "minyi.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="cannot be opened"):
        ClusterStore(tmp_path)


# The repository's methods, on a small state written through it (tests/nlp/clustering/conftest.py).


def centroid(store, cluster):
    return np.frombuffer(store.cluster_row(cluster).centroid, dtype=np.float32)


def test_store_shift_centroid_adds_and_takes_away_vectors_members_and_places(small_state):
    s = small_state
    before = centroid(s.store, s.heat)
    s.store.shift_centroid(s.heat, add=s.unit((0, 1, 0)), size=1, places=["柳湾村"])
    row = s.store.cluster_row(s.heat)
    np.testing.assert_allclose(centroid(s.store, s.heat), before + s.unit((0, 1, 0)))
    assert row.size == 2 and json.loads(row.places) == ["柳湾村"]
    s.store.shift_centroid(s.heat, remove=s.unit((0, 1, 0)), size=-5)
    np.testing.assert_allclose(centroid(s.store, s.heat), before, atol=1e-7)
    assert s.store.cluster_row(s.heat).size == 0  # never below zero
    assert json.loads(s.store.cluster_row(s.heat).places) == ["柳湾村"]  # places are only gained


def test_store_new_cluster_is_numbered_after_its_period_and_starts_empty(small_state):
    s = small_state
    new = s.store.new_cluster(s.road, review={"title": "村道积水"})
    assert new == "C2024Q3-0004" and s.store.next_number("2024Q3") == 5
    row = s.store.cluster_row(new)
    assert row.size == 0 and json.loads(row.places) == [] and row.status == "待核实"
    assert not centroid(s.store, new).any() and len(centroid(s.store, new)) == 3
    assert s.store.reviews([new])[new] == {"title": "村道积水", "status": "待核实"}


def test_store_merge_clusters_moves_members_and_keeps_the_centroid_as_a_face(small_state):
    s = small_state
    before = s.store.joinable()
    s.store.merge_clusters(s.road, s.lift)
    assert s.store.known(["t-lift"]) == {"t-lift": s.road}
    # The road's own two members' vectors are its sum (the lift's stay in the lift's row): its
    # mean cosine with a vector and its members' own mean cosine (0.8) are as before.
    after = s.store.joinable()
    assert after.ids[0] == s.road and before.ids[0] == s.road
    assert after.scale[0] == pytest.approx(np.linalg.norm([1.8, 0.6, 0]) / 2)
    assert after.within[0] == pytest.approx(before.within[0]) and before.within[0] == pytest.approx(
        0.8
    )
    assert s.store.cluster_opinions([s.lift]) == [] and len(s.store.cluster_opinions([s.road])) == 4
    road, lift = s.store.cluster_row(s.road), s.store.cluster_row(s.lift)
    assert road.size == 3 and lift.merged_into == s.road
    assert json.loads(road.places) == ["幸福小区", "青石村"]
    # member by member too: the lift's members name 幸福小区, the road's 青石村
    assert json.loads(road.place_sets) == [["幸福小区"], ["青石村"]]
    ids, centroids, _ = s.store.clusters()
    assert ids == [s.road, s.road, s.heat]  # the lift's centroid now leads to the road
    np.testing.assert_allclose(centroids[1], s.unit((0, 1, 0)))
    listed = s.store.list_clusters(ClusterFilter())[1]
    assert [c["cluster"] for c in listed] == [s.road, s.heat]


def test_store_move_members_moves_exact_duplicates_with_their_vector(small_state):
    s = small_state
    road, heat = centroid(s.store, s.road), centroid(s.store, s.heat)
    first = s.store.find_opinions([], ["R1"])["R1"]
    s.store.move_members([first], s.heat)  # R2 has the same text: one membership, both move
    moved = s.store.find_opinions([], ["R1", "R2"])
    assert set(s.store.opinion_clusters(list(moved.values())).values()) == {s.heat}
    assert s.store.known(["t-road", "t-road-2"]) == {"t-road": s.heat, "t-road-2": s.road}
    np.testing.assert_allclose(centroid(s.store, s.road), road - s.unit((1, 0, 0)), atol=1e-7)
    np.testing.assert_allclose(centroid(s.store, s.heat), heat + s.unit((1, 0, 0)))
    assert (s.store.cluster_row(s.road).size, s.store.cluster_row(s.heat).size) == (1, 2)
    assert json.loads(s.store.cluster_row(s.heat).places) == ["青石村"]
    assert json.loads(s.store.cluster_row(s.heat).place_sets) == [["青石村"]]


def test_store_finds_opinions_by_number_key_or_external_id(small_state):
    s = small_state
    found = s.store.find_opinions([1, 99], ["ext:L1", "H1", "nope"])
    assert found == {1: 1, "ext:L1": 4, "L1": 4, "ext:H1": 5, "H1": 5}
    assert s.store.opinion_keys([5, 4, 1]) == ["ext:R1", "ext:L1", "ext:H1"]
    assert s.store.cluster_opinions([s.road, s.heat]) == [1, 2, 3, 5]
    assert s.store.cluster_of("ext:L1") == s.lift and s.store.cluster_of("ext:none") is None


def test_store_keeps_what_a_reviewer_set_over_later_descriptions(small_state):
    s = small_state
    s.store.label_opinions([5], level1="城乡建设", level2="供暖", department="区供热办")
    s.store.set_review(s.heat, title="供暖不足")
    s.store.set_status(s.heat, "已转办")
    stored = s.store.stored_keys(["ext:H1"])["ext:H1"]
    assert stored["cluster"] == s.heat and stored["reviewed"]
    labels = (stored["level1"], stored["level2"], stored["department"])
    assert labels == ("城乡建设", "供暖", "区供热办")
    examples = s.store.reviewed_examples()
    assert examples[["level1", "level2"]].values.tolist() == [["城乡建设", "供暖"]]
    members, vectors, words = s.store.members([s.heat])
    s.store.describe(summarize_clusters(members, words, vectors))  # a later run describes it
    record = s.store.cluster(s.heat)
    shown = (record["title"], record["status"], record["department"])
    assert shown == ("供暖不足", "已转办", "区供热办")

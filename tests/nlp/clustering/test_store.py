import numpy as np
import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.clustering.store import ClusterFilter, ClusterStore
from nlp.core.errors import ConfigError

Q3 = ["青石村那条路坑坑洼洼好几年了", "青石村的路太烂了，坑坑洼洼没法走", "暖气不热，屋里才十五度", "医保报销要跑好几趟"]
Q4 = ["青石村那条路还是坑坑洼洼", "柳湾村自来水停了三天", *Q3]


def run(state, texts, when):
    frame = pd.DataFrame({"text": texts, "time": [when] * len(texts)})
    return Pipeline(store=ClusterStore(state)).run(InputTable.from_frame(frame)).opinions


def test_state_keeps_ids_and_joins_new_opinions_to_old_clusters(tmp_path):
    first = run(tmp_path, Q3, "2024-08-01")
    assert all(c.startswith("C2024Q3-") for c in first["cluster"])
    second = run(tmp_path, Q4, "2024-11-01")
    assert second["cluster"].tolist()[2:] == first["cluster"].tolist()  # old opinions keep their ids
    assert second["cluster"][0] == first["cluster"][0]  # the same road joins its cluster
    assert second["cluster"][1].startswith("C2024Q4-0001")  # a new matter gets the new quarter's id
    again = run(tmp_path, Q4, "2024-11-01")
    assert again["cluster"].tolist() == second["cluster"].tolist()


def test_state_refuses_another_encoder(tmp_path):
    ClusterStore(tmp_path).space("use-multilingual-v3", np.zeros(3, dtype=np.float32))
    with pytest.raises(ConfigError, match="encoder"):
        ClusterStore(tmp_path).space("e5", np.zeros(3, dtype=np.float32))


def test_state_stores_masked_opinions_and_describes_clusters_across_runs(tmp_path):
    run(tmp_path, ["青石村那条路坑坑洼洼好几年了，电话13912345678", "暖气不热，屋里才十五度"], "2024-08-01")
    run(tmp_path, ["青石村的路太烂了，坑坑洼洼没法走", "青石村那条路还是坑坑洼洼"], "2024-11-01")
    store = ClusterStore(tmp_path)
    total, page = store.list_clusters()
    assert total == 2
    road = page[0] if "路" in page[0]["title"] + page[0]["keywords"] else page[1]
    # Described from all stored opinions, not only the latest run's.
    assert road["size"] == 3 and road["first_seen"] == "2024-08-01" and road["last_seen"] == "2024-11-01"
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

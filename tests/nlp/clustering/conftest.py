"""A small cluster state written through the repository itself, with three-dimensional vectors
(no encoder needed): a road cluster (two opinions that are exact duplicates and one more), a
lift cluster and a heating cluster."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from nlp.clustering.describe import summarize_clusters
from nlp.clustering.store import ClusterStore

ROAD, LIFT, HEAT = "C2024Q3-0001", "C2024Q3-0002", "C2024Q3-0003"

# external id, text, cluster, membership key, vector, places
OPINIONS = [
    ("R1", "青石村那条路坑坑洼洼好几年了", ROAD, "t-road", (1.0, 0.0, 0.0), "青石村"),
    ("R2", "青石村那条路坑坑洼洼好几年了", ROAD, "t-road", (1.0, 0.0, 0.0), "青石村"),
    ("R3", "青石村的路太烂了没法走", ROAD, "t-road-2", (0.8, 0.6, 0.0), "青石村"),
    ("L1", "幸福小区电梯又坏了", LIFT, "t-lift", (0.0, 1.0, 0.0), "幸福小区"),
    ("H1", "暖气不热，屋里才十五度", HEAT, "t-heat", (0.0, 0.0, 1.0), ""),
]


def unit(vector) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def small_state(tmp_path) -> SimpleNamespace:
    """``store``, the clusters' ids ``road``, ``lift``, ``heat``, and ``unit`` (the opinions'
    vectors are unit vectors of ``OPINIONS``)."""
    store = ClusterStore(tmp_path)
    members = {}  # one membership per key, as the pipeline records them
    for _, _, cluster, key, vector, places in OPINIONS:
        members.setdefault(key, (cluster, key, unit(vector), set(places.split())))
    store.add_many(list(members.values()))
    rows = pd.DataFrame(
        {
            "text": [o[1] for o in OPINIONS],
            "title": "",
            "time": ["2024-08-01", "2024-08-02", "2024-08-09", "2024-08-03", "2024-08-05"],
            "source": "接待日",
            "place": "",
            "places": [o[5] for o in OPINIONS],
            "user": "",
            "level1": ["交通运输"] * 3 + ["城乡建设"] * 2,
            "level2": ["道路破损/改道"] * 3 + ["电梯", "供暖"],
            "confidence": 0.9,
            "department": ["交通运输局"] * 3 + ["住建局"] * 2,
            "keywords": "",
            "cluster": [o[2] for o in OPINIONS],
        }
    )
    store.save_opinions(
        rows,
        keys=[f"ext:{o[0]}" for o in OPINIONS],
        vectors=[unit(o[4]) for o in OPINIONS],
        external_ids=[o[0] for o in OPINIONS],
        words=[list(o[1][:4]) for o in OPINIONS],
        text_keys=[o[3] for o in OPINIONS],
    )
    members, vectors, words = store.members([ROAD, LIFT, HEAT])
    store.describe(summarize_clusters(members, words, vectors))
    yield SimpleNamespace(store=store, road=ROAD, lift=LIFT, heat=HEAT, unit=unit)
    store.close()

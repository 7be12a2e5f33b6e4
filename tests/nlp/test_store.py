import numpy as np
import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.errors import ConfigError
from nlp.store import ClusterStore

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

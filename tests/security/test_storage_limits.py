"""What an export can hold, the state stores, on SQLite and on PostgreSQL: opinions up to the
5,000-character limit, every kind of character the normaliser keeps, cells of any length in the
other columns (even with a NUL, which PostgreSQL refuses in text), and a batch of 10,000 rows."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest
from tests_support import postgres_url

from nlp.clustering.store import ClusterStore
from nlp.dedupe import dedupe_key
from nlp.text.normalize import Normalizer

# CJK, CJK extension B (four bytes in UTF-8), full-width forms, a combining accent, Cyrillic,
# Arabic, Tibetan, Yi, mathematical letters, box drawing, private use left out (the normaliser
# drops it).
KINDS = "青石村𠀀𪚥ＡＢＣ１２３é̂Жжعربيབོདꆈꌠ𝐀𝔸─│"
CLUSTER = "C2024Q3-0001"
ROWS = 10_000


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    place = postgres_url() if request.param == "postgresql" else nullcontext(tmp_path)
    with place as url:
        if url is None:
            pytest.skip("no PostgreSQL server here")
        store = ClusterStore(url, secret=b"k" * 32)
        yield store
        store.close()


def texts() -> list[str]:
    kept = Normalizer(to_simplified=False).normalize(KINDS)  # what the normaliser keeps of them
    out = []
    for k in range(ROWS):
        size = 5000 if k % 500 == 0 else 20 + k % 200
        out.append((f"{k}号" + kept * (size // len(kept) + 1))[:size])
    return out


def test_long_texts_every_kind_of_character_and_10000_rows_are_stored(store):
    found = texts()
    assert max(map(len, found)) == 5000 and "𠀀𪚥" in found[1] and "ꆈꌠ𝐀𝔸" in found[0]
    keys = [store.text_key(dedupe_key(t)) for t in found]
    vectors = [np.ones(3, np.float32)] * ROWS
    store.add_many([(CLUSTER, k, v, {"青石村"}) for k, v in zip(keys, vectors)])
    long_cell = "长" * 3000
    rows = pd.DataFrame(
        {
            "text": found,
            "title": KINDS,
            "time": "2024-08-01 看不懂的时间" + long_cell,  # an unparsed time cell is kept as is
            "source": long_cell,
            "place": long_cell + "\x00",
            "places": "青石村",
            "user": "用户-" + long_cell,
            "keywords": "",
            "level1": "交通运输",
            "level2": "道路破损/改道",
            "department": "交通运输局" + long_cell,
            "confidence": 0.5,
            "cluster": CLUSTER,
        }
    )
    opinion_keys = [f"ext:{k}" for k in range(ROWS)]
    with store.transaction():
        assert store.save_opinions(rows, opinion_keys, vectors, text_keys=keys) == ROWS
    assert len(store.known(keys)) == ROWS
    members, _, _ = store.members([CLUSTER])
    assert members["text"].tolist() == found
    assert set(members["place"]) == {long_cell} and set(members["source"]) == {long_cell}
    # The same batch again stores nothing twice.
    assert store.save_opinions(rows, opinion_keys, vectors, text_keys=keys) == 0

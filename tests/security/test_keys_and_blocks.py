"""Keys, pseudonyms, saved blocks, error messages and retention: each keeps personal data out
of what is stored, and a state made before keyed hashes is re-keyed without losing a match."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nlp import InputTable, Pipeline
from nlp.clustering import db
from nlp.clustering.store import ClusterStore
from nlp.core.ids import opinion_key
from nlp.core.secrets import load_secret, parse_secret, pseudonym
from nlp.dedupe import dedupe_key
from nlp.pipeline.checkpoint import Checkpoint
from nlp.pipeline.stages import RowBlock

TEXT = "我叫王建国，电话13907551234，青石村那条路坑坑洼洼好几年了"
CLUSTER = "C2024Q3-0001"


def rows(texts, created=None) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "text": texts,
            **dict.fromkeys(("title", "source", "place", "places", "user", "keywords"), ""),
            "time": "2024-08-01",
            "level1": "交通运输",
            "level2": "道路破损/改道",
            "department": "交通运输局",
            "confidence": 0.9,
            "cluster": [CLUSTER] * n,
        }
    )


def dump(path) -> str:
    return "\n".join(sqlite3.connect(path).iterdump())


def test_secret_file_is_made_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "state" / "minyi.secret"
    secret = load_secret(path)
    assert len(secret) == 32 and load_secret(path) == secret
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert parse_secret("ab" * 32) == bytes.fromhex("ab" * 32)
    with pytest.raises(Exception, match="too short"):
        parse_secret("short")


def test_store_keys_are_keyed_hashes_not_text(tmp_path):
    store = ClusterStore(tmp_path)
    key = store.text_key(dedupe_key(TEXT))
    store.add_many([(CLUSTER, key, np.ones(3, np.float32), set())])
    content = opinion_key("A1", "2024-08-01", TEXT)
    store.save_opinions(rows(["masked"]), [content], [None], text_keys=[key])
    assert store.known([key]) == {key: CLUSTER}
    assert store.cluster_of(content) == CLUSTER and set(store.stored_keys([content])) == {content}
    text = dump(tmp_path / "minyi.sqlite")
    assert "王建国" not in text and "13907551234" not in text and content not in text
    assert ClusterStore(tmp_path, secret=b"x" * 32).text_key("a") != store.text_key("a")


def test_state_made_before_keyed_hashes_is_rekeyed_and_still_matches(tmp_path):
    store = ClusterStore(tmp_path)
    old_key = dedupe_key(TEXT)  # what earlier versions stored as the membership key
    content = opinion_key("A1", "2024-08-01", TEXT)
    store.add_many([(CLUSTER, old_key, np.ones(3, np.float32), set())])
    store.save_opinions(rows(["masked"]), ["ext:placeholder"], [None], text_keys=[old_key])
    with store.engine.begin() as conn:  # as an earlier version left it
        conn.execute(db.opinions.update().values(key=content))
        conn.execute(db.meta.delete().where(db.meta.c.key == "keys"))
        conn.execute(
            db.decisions.insert().values(
                uid="u1",
                at="",
                who="",
                action="mark",
                args="{}",
                before=f'{{"members": {{"{old_key}": "{CLUSTER}"}}, "anchors": '
                f'{{"{CLUSTER}": "{content}"}}}}',
            )
        )
    store.close()
    assert "王建国" in dump(tmp_path / "minyi.sqlite")
    again = ClusterStore(tmp_path)
    text = dump(tmp_path / "minyi.sqlite")
    assert "王建国" not in text and "13907551234" not in text and content not in text
    key = again.text_key(dedupe_key(TEXT))
    assert again.known([key]) == {key: CLUSTER}
    assert again.cluster_of(content) == CLUSTER
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "王建国".encode() not in raw, "the old keys are still in the file's pages"


def test_resume_blocks_are_encrypted(tmp_path):
    block = RowBlock(
        status=["ok"],
        error=[""],
        note=[""],
        text=["[姓名]"],
        titles=[""],
        places=[[]],
        orgs=[[]],
        unmasked=[TEXT],
    )
    secret = b"s" * 32
    Checkpoint(tmp_path, {"input": "x"}, secret).save(0, block)
    saved = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "王建国".encode() not in saved and b"13907551234" not in saved
    assert Checkpoint(tmp_path, {"input": "x"}, secret).load(0).unmasked == [TEXT]
    assert Checkpoint(tmp_path, {"input": "x"}, b"t" * 32).load(0) is None  # another key
    assert (tmp_path / "block-000000.pickle").stat().st_mode & 0o777 == 0o600


def test_users_are_pseudonyms_the_same_across_runs(tmp_path):
    frame = pd.DataFrame(
        {
            "text": ["青石村那条路坑坑洼洼", "幸福小区电梯又坏了", "暖气不热"],
            "留言用户": ["王建国", "李秀英", "王建国"],
            "备注": ["联系人王建国", "", "李秀英 15811112222"],
        }
    )
    first = Pipeline(secret=b"q" * 32).run(InputTable.from_frame(frame)).opinions
    again = Pipeline(secret=b"q" * 32).run(InputTable.from_frame(frame)).opinions
    users = first["user"].tolist()
    assert users == again["user"].tolist() == [pseudonym(b"q" * 32, u) for u in frame["留言用户"]]
    assert users[0] == users[2] != users[1]
    shown = first.to_csv()
    assert not [s for s in ("王建国", "李秀英", "15811112222") if s in shown]
    kept = Pipeline(secret=b"q" * 32, config=_keep_pii()).run(InputTable.from_frame(frame))
    assert kept.opinions["user"].tolist() == frame["留言用户"].tolist()


def _keep_pii():
    from nlp.core.config import PipelineConfig

    return PipelineConfig(mask_pii=False)


def test_database_errors_do_not_quote_the_values(tmp_path):
    store = ClusterStore(tmp_path)
    with pytest.raises(sa.exc.StatementError) as failed:
        with store.engine.begin() as conn:
            conn.execute(db.meta.insert(), [{"key": TEXT, "value": TEXT}] * 2)
    assert "王建国" not in str(failed.value) and "13907551234" not in str(failed.value)


def test_purge_deletes_old_opinions_and_the_clusters_left_empty(tmp_path):
    store = ClusterStore(tmp_path)
    other = "C2024Q3-0002"
    old, new = store.text_key("old"), store.text_key("new")
    store.add_many(
        [(CLUSTER, old, np.ones(3, np.float32), set()), (other, new, np.ones(3, np.float32), set())]
    )
    frame = rows([TEXT, "新的意见"])
    frame["cluster"] = [CLUSTER, other]
    store.save_opinions(frame, ["ext:1", "ext:2"], [None, None], text_keys=[old, new])
    with store.engine.begin() as conn:
        o, m = db.opinions.c, db.members.c
        conn.execute(db.opinions.update().where(o.key == "ext:1").values(created_at="2020"))
        conn.execute(db.members.update().where(m.text_key == old).values(added_at="2020"))
    done = store.purge("2021-01-01T00:00:00+00:00")
    assert done == {"opinions": 1, "members": 1, "clusters": 1}
    assert store.cluster_row(CLUSTER) is None and store.cluster_row(other) is not None
    assert store.cluster_of("ext:2") == other and store.known([old]) == {}
    assert "王建国" not in dump(tmp_path / "minyi.sqlite")

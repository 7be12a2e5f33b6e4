"""The service's own table of batch jobs, in the database it shares with the cluster state."""

import sqlite3

import pytest

pytest.importorskip("fastapi")

import sqlalchemy as sa

from nlp.clustering.store import ClusterStore
from service.db import create_tables
from service.jobs import find_batch, queue_batch, requeue_orphans


def table_names(store: ClusterStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def test_the_library_leaves_batches_to_the_service(tmp_path):
    store = ClusterStore(tmp_path)
    assert "batches" not in table_names(store)
    create_tables(store.engine)
    create_tables(store.engine)  # again: nothing to do
    assert "batches" in table_names(store)
    job = queue_batch(store.engine, tmp_path / "job", "export.csv", {"text": "留言详情"})
    found = find_batch(store.engine, job)
    assert found["status"] == "queued" and found["filename"] == "export.csv"
    assert find_batch(store.engine, "nope") is None


def test_a_database_whose_batches_an_earlier_version_made_keeps_them(tmp_path):
    path = tmp_path / "minyi.sqlite"
    ClusterStore(path).close()
    old = sqlite3.connect(path)  # as the library's migration 0002 made it before
    old.executescript(
        "CREATE TABLE batches (id VARCHAR(32) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL,"
        " filename TEXT NOT NULL, folder TEXT NOT NULL, options TEXT DEFAULT '{}' NOT NULL,"
        " stage VARCHAR(32) DEFAULT '' NOT NULL, done INTEGER DEFAULT '0' NOT NULL,"
        " total INTEGER DEFAULT '0' NOT NULL, attempts INTEGER DEFAULT '0' NOT NULL,"
        " error TEXT DEFAULT '' NOT NULL, summary TEXT DEFAULT '{}' NOT NULL,"
        " lease_until FLOAT DEFAULT '0' NOT NULL, owner VARCHAR(128) DEFAULT '' NOT NULL,"
        " created_at VARCHAR(32) NOT NULL, updated_at VARCHAR(32) NOT NULL);"
        "CREATE INDEX batches_status ON batches (status);"
        "INSERT INTO batches (id, status, filename, folder, owner, created_at, updated_at) VALUES"
        " ('b1', 'running', 'q3.xlsx', '/data/b1', 'elsewhere:1', '2024-10-01', '2024-10-01');"
    )
    old.commit()
    old.close()
    store = ClusterStore(path)
    create_tables(store.engine)
    assert find_batch(store.engine, "b1")["filename"] == "q3.xlsx"
    assert requeue_orphans(store.engine) == 0  # run by another host: left alone
    assert find_batch(store.engine, queue_batch(store.engine, tmp_path, "q4.csv", {}))


def test_reads_take_no_lock_while_a_writer_holds_one(tmp_path):
    import threading
    import time

    from nlp.clustering.store import ClusterFilter
    from service.deps import _reader

    url = f"sqlite:///{tmp_path / 'minyi.sqlite'}"
    writer, reader = ClusterStore(url), _reader(url)  # opened (and migrated) before
    holding, release = threading.Event(), threading.Event()

    def write():
        with writer.transaction() as conn:  # BEGIN IMMEDIATE: the write lock until it ends
            conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('busy', '1')"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=write)
    thread.start()
    assert holding.wait(10)
    try:
        start = time.perf_counter()
        total, _ = reader.list_clusters(ClusterFilter(), limit=10, offset=0)
        assert total == 0 and time.perf_counter() - start < 1
    finally:
        release.set()
        thread.join()


def test_the_service_keys_its_state_with_the_secret_it_is_given(tmp_path):
    from nlp.core.secrets import SECRET_FILE
    from service.deps import _reader, _store

    url = f"sqlite:///{tmp_path / 'given.sqlite'}"
    given = "0f" * 32
    assert _store(url, given).secret == bytes.fromhex(given)
    assert _reader(url, given).secret == bytes.fromhex(given)
    assert not (tmp_path / SECRET_FILE).exists()  # none made beside the file: one was given
    other = f"sqlite:///{tmp_path / 'own.sqlite'}"
    assert _store(other).secret == (tmp_path / SECRET_FILE).read_bytes()

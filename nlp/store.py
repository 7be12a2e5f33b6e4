"""The cluster state that carries ids from one run to the next (a SQLite file).

A first run creates clusters; a later run looks each opinion up by its text (an opinion seen
before keeps its cluster), then joins new opinions to stored clusters whose centroid is close
enough, and only then makes new clusters, numbered after the last id of their period. Old ids are
never renumbered, and running the same input again changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import ConfigError

__all__ = ["ClusterStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clusters (
    id TEXT PRIMARY KEY,
    period TEXT NOT NULL,
    number INTEGER NOT NULL,
    centroid BLOB NOT NULL,      -- sum of the members' centred unit vectors, float32
    size INTEGER NOT NULL,
    places TEXT NOT NULL,        -- JSON list
    title TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    text_key TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id),
    added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS members_cluster ON members(cluster_id);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    source TEXT NOT NULL,
    rows INTEGER NOT NULL,
    new_clusters INTEGER NOT NULL,
    config TEXT NOT NULL
);
"""
SCHEMA_VERSION = "1"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ClusterStore:
    """Stored clusters of earlier runs.

    Args:
        path: A folder (the file ``minyi.sqlite`` is created in it) or a ``.sqlite`` file.
    """

    def __init__(self, path: str | Path):
        path = Path(path)
        self.path = path if path.suffix in (".sqlite", ".db") else path / "minyi.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"{self.path} is not a Minyi state database ({e})") from e
        version = self._meta("schema_version")
        if version is None:
            self._set_meta("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise ConfigError(f"{self.path} has state schema {version}; this Minyi reads {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def space(self, encoder: str, mean: np.ndarray) -> np.ndarray:
        """The centring vector of the vector space, fixed by the first run.

        Raises:
            ConfigError: The state was built with another encoder.
        """
        stored = self._meta("encoder")
        if stored is None:
            self._set_meta("encoder", encoder)
            self._set_meta("mean", json.dumps([float(x) for x in mean]))
            self.db.commit()
            return mean
        if stored != encoder:
            raise ConfigError(f"the state in {self.path} was built with encoder {stored!r}, not {encoder!r}; use the same encoder or a new --state")
        return np.array(json.loads(self._meta("mean")), dtype=np.float32)

    def known(self, keys: list[str]) -> dict[str, str]:
        """Text key → cluster id, for the keys seen by an earlier run."""
        out = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(f"SELECT text_key, cluster_id FROM members WHERE text_key IN ({marks})", part).fetchall())
        return out

    def clusters(self) -> tuple[list[str], np.ndarray, list[set[str]]]:
        """Ids, unit-length centroids and places of the stored clusters."""
        rows = self.db.execute("SELECT id, centroid, places FROM clusters ORDER BY id").fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32), []
        centroids = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        return [r[0] for r in rows], centroids, [set(json.loads(r[2])) for r in rows]

    def next_number(self, period: str) -> int:
        row = self.db.execute("SELECT MAX(number) FROM clusters WHERE period = ?", (period,)).fetchone()
        return (row[0] or 0) + 1

    def add(self, cluster_id: str, period: str, number: int, key: str, vector: np.ndarray, places: set[str], title: str = "") -> None:
        """Record that the opinion with text ``key`` belongs to ``cluster_id`` (created if new)."""
        now = _now()
        row = self.db.execute("SELECT centroid, size, places FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
        if row is None:
            self.db.execute(
                "INSERT INTO clusters (id, period, number, centroid, size, places, title, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
                (cluster_id, period, number, vector.astype(np.float32).tobytes(), json.dumps(sorted(places), ensure_ascii=False), title, now, now),
            )
        else:
            centroid = np.frombuffer(row[0], dtype=np.float32) + vector.astype(np.float32)
            merged = sorted(set(json.loads(row[2])) | places)
            self.db.execute(
                "UPDATE clusters SET centroid = ?, size = ?, places = ?, updated_at = ? WHERE id = ?",
                (centroid.tobytes(), row[1] + 1, json.dumps(merged, ensure_ascii=False), now, cluster_id),
            )
        self.db.execute("INSERT OR IGNORE INTO members (text_key, cluster_id, added_at) VALUES (?, ?, ?)", (key, cluster_id, now))

    def record_run(self, source: str, rows: int, new_clusters: int, config: dict) -> None:
        self.db.execute(
            "INSERT INTO runs (started_at, source, rows, new_clusters, config) VALUES (?, ?, ?, ?, ?)",
            (_now(), source, rows, new_clusters, json.dumps(config, ensure_ascii=False, default=str)),
        )
        self.db.commit()

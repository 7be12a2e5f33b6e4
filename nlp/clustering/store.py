"""The cluster state that carries ids from one run to the next, and the opinions behind it.

A first run creates clusters; a later run looks each opinion up by its text (an opinion seen
before keeps its cluster), then joins new opinions to stored clusters whose centroid is close
enough, and only then makes new clusters, numbered after the last id of their period. Old ids are
never renumbered, and running the same input again changes nothing.

The state lives in a database (:mod:`nlp.clustering.db`): a SQLite file in a ``--state`` folder, or the
service's database. Stored opinions are masked as the run masked them.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nlp.clustering import db
from nlp.core.errors import ConfigError

__all__ = ["ClusterStore", "ClusterFilter"]

_LOCK_ID = 0x6D696E7969  # PostgreSQL advisory lock taken by cluster-assigning transactions
_BATCH = 500


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, kw_only=True)
class ClusterFilter:
    """Which stored clusters to list (every field optional; dates as ``YYYY-MM-DD`` or ``date``)."""

    level1: str | None = None
    level2: str | None = None
    department: str | None = None
    place: str | None = None
    since: object = None
    until: object = None
    min_heat: float | None = None
    min_size: int | None = None
    status: str | None = None

    def where(self) -> list:
        c = db.clusters.c
        out = [c.merged_into.is_(None)]
        if self.status:
            out.append(c.status == self.status)
        if self.level1:
            out.append(c.level1 == self.level1)
        if self.level2:
            out.append(c.level2 == self.level2)
        if self.department:
            out.append(c.department.contains(self.department, autoescape=True))
        if self.place:
            out.append(c.places.contains(self.place, autoescape=True))
        if self.since:
            out.append(c.last_seen >= str(self.since))
        if self.until:
            out.append(sa.and_(c.first_seen != "", c.first_seen <= str(self.until)))
        if self.min_heat is not None:
            out.append(c.heat >= self.min_heat)
        if self.min_size is not None:
            out.append(c.size >= self.min_size)
        return out


class ClusterStore:
    """Stored clusters and opinions of earlier runs.

    Args:
        place: A folder (the file ``minyi.sqlite`` is created in it), a ``.sqlite`` file, a
            database URL, or an engine from :func:`nlp.clustering.db.connect`.
    """

    def __init__(self, place: str | Path | Engine):
        self.engine = place if isinstance(place, Engine) else db.connect(place)
        self.path = Path(self.engine.url.database) if self.engine.dialect.name == "sqlite" and self.engine.url.database else None
        self._local = threading.local()  # the open transaction of each thread
        self._lock = threading.RLock()

    @property
    def _conn(self) -> Connection | None:
        return getattr(self._local, "conn", None)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; assignments inside it cannot interleave with another process's."""
        if self._conn is not None:
            yield self._conn
            return
        with self._lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def _use(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with self.engine.begin() as conn:
                yield conn

    def _meta(self, conn: Connection, key: str) -> str | None:
        return conn.execute(sa.select(db.meta.c.value).where(db.meta.c.key == key)).scalar()

    def space(self, encoder: str, mean: np.ndarray) -> np.ndarray:
        """The centring vector of the vector space, fixed by the first run.

        Raises:
            ConfigError: The state was built with another encoder.
        """
        with self._use() as conn:
            stored = self._meta(conn, "encoder")
            if stored is None:
                conn.execute(db.meta.insert(), [{"key": "encoder", "value": encoder}, {"key": "mean", "value": json.dumps([float(x) for x in mean])}])
                return mean
            if stored != encoder:
                raise ConfigError(f"the state in {self} was built with encoder {stored!r}, not {encoder!r}; use the same encoder or a new state")
            return np.array(json.loads(self._meta(conn, "mean")), dtype=np.float32)

    def known(self, keys: Sequence[str]) -> dict[str, str]:
        """Text key → cluster id, for the keys seen by an earlier run."""
        out: dict[str, str] = {}
        m = db.members.c
        with self._use() as conn:
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                out.update((r[0], r[1]) for r in conn.execute(sa.select(m.text_key, m.cluster_id).where(m.text_key.in_(part))))
        return out

    def clusters(self) -> tuple[list[str], np.ndarray, list[set[str]]]:
        """Ids, unit-length centroids and places of the stored clusters. A cluster merged into
        another by review keeps its centroid under the id it was merged into, so that new
        opinions like either part join the merged cluster."""
        c = db.clusters.c
        with self._use() as conn:
            rows = conn.execute(sa.select(c.id, c.centroid, c.places, c.merged_into).order_by(c.id)).all()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32), []
        into = {r.id: r.merged_into for r in rows if r.merged_into}
        centroids = np.stack([np.frombuffer(r.centroid, dtype=np.float32) for r in rows])
        centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        return [_final(r.id, into) for r in rows], centroids, [set(json.loads(r.places)) for r in rows]

    def next_number(self, period: str) -> int:
        c = db.clusters.c
        with self._use() as conn:
            return (conn.execute(sa.select(sa.func.max(c.number)).where(c.period == period)).scalar() or 0) + 1

    def add_many(self, assignments: Sequence[tuple[str, str, np.ndarray, set[str]]]) -> None:
        """Record opinions as members: ``(cluster id, text key, centred vector, places)`` each.
        Clusters that do not exist yet are created; ids look like ``C2024Q3-0017``."""
        if not assignments:
            return
        now = _now()
        grouped: dict[str, list] = defaultdict(list)
        for cluster_id, key, vector, places in assignments:
            grouped[cluster_id].append((key, vector, places))
        c = db.clusters.c
        with self._use() as conn:
            existing = {}
            ids = list(grouped)
            for start in range(0, len(ids), _BATCH):
                part = ids[start : start + _BATCH]
                existing.update({r[0]: r for r in conn.execute(sa.select(c.id, c.centroid, c.size, c.places).where(c.id.in_(part)))})
            inserts, updates, links = [], [], []
            for cluster_id, items in grouped.items():
                total = np.sum([v.astype(np.float32) for _, v, _ in items], axis=0).astype(np.float32)
                places = set().union(*(p for _, _, p in items))
                if cluster_id in existing:
                    _, centroid, size, old = existing[cluster_id]
                    updates.append({
                        "b_id": cluster_id, "centroid": (np.frombuffer(centroid, dtype=np.float32) + total).tobytes(),
                        "size": size + len(items), "places": json.dumps(sorted(set(json.loads(old)) | places), ensure_ascii=False), "updated_at": now,
                    })  # fmt: skip
                else:
                    period, number = _id_parts(cluster_id)
                    inserts.append({
                        "id": cluster_id, "period": period, "number": number, "centroid": total.tobytes(), "size": len(items),
                        "places": json.dumps(sorted(places), ensure_ascii=False), "title": "", "created_at": now, "updated_at": now,
                    })  # fmt: skip
                links.extend({"text_key": key, "cluster_id": cluster_id, "added_at": now} for key, _, _ in items)
            if inserts:
                conn.execute(db.clusters.insert(), inserts)
            if updates:
                conn.execute(
                    db.clusters.update().where(c.id == sa.bindparam("b_id")).values(
                        centroid=sa.bindparam("centroid"), size=sa.bindparam("size"), places=sa.bindparam("places"), updated_at=sa.bindparam("updated_at")
                    ),
                    updates,
                )  # fmt: skip
            seen = self.known([link["text_key"] for link in links])
            fresh = [link for link in links if link["text_key"] not in seen]
            if fresh:
                conn.execute(db.members.insert(), fresh)

    def record_run(self, source: str, rows: int, new_clusters: int, config: dict) -> None:
        with self._use() as conn:
            conn.execute(db.runs.insert().values(
                started_at=_now(), source=source, rows=rows, new_clusters=new_clusters, config=json.dumps(config, ensure_ascii=False, default=str)
            ))  # fmt: skip

    # Opinions -------------------------------------------------------------------------------

    def stored_keys(self, keys: Sequence[str]) -> dict[str, dict]:
        """Opinion key → its stored ``{"cluster", "level1", "level2", "department", "reviewed"}``
        (labels and department as a reviewer set them, where one did; ``reviewed`` says so)."""
        o = db.opinions.c
        out = {}
        columns = (o.key, o.cluster_id, o.level1, o.level2, o.department, o.reviewed_level1, o.reviewed_level2, o.reviewed_department)
        with self._use() as conn:
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                for r in conn.execute(sa.select(*columns).where(o.key.in_(part))):
                    reviewed = bool(r.reviewed_level1 or r.reviewed_department)
                    out[r.key] = {
                        "cluster": r.cluster_id, "level1": r.reviewed_level1 or r.level1,
                        "level2": r.reviewed_level2 if r.reviewed_level1 else r.level2,
                        "department": r.reviewed_department or r.department, "reviewed": reviewed,
                    }  # fmt: skip
        return out

    def save_opinions(
        self,
        rows: pd.DataFrame,
        keys: Sequence[str],
        vectors: Sequence[np.ndarray | None],
        external_ids: Sequence[str | None] | None = None,
        words: Sequence[Sequence[str]] | None = None,
        text_keys: Sequence[str] | None = None,
    ) -> int:
        """Store scored rows (the pipeline's columns) under ``keys``, with their vectors, words and
        membership keys (see :meth:`add_many`); rows already stored are left as they are.
        Returns how many were new."""
        have = self.stored_keys(keys)
        now = _now()
        records = []
        for k, (key, vector) in enumerate(zip(keys, vectors)):
            if key in have:
                continue
            r = rows.iloc[k]
            have[key] = {}
            confidence = r.get("confidence")
            records.append({
                "key": key, "external_id": external_ids[k] if external_ids else None, "text": r["text"], "title": r["title"],
                "time": r["time"], "source": r["source"], "place": r["place"], "places": r["places"], "user": r["user"],
                "level1": r["level1"], "level2": r["level2"], "confidence": None if pd.isna(confidence) else float(confidence),
                "department": r["department"], "keywords": r["keywords"], "cluster_id": r["cluster"],
                "vector": None if vector is None else np.asarray(vector, dtype=np.float32).tobytes(), "created_at": now,
                "words": " ".join(words[k]) if words else "", "text_key": text_keys[k] if text_keys else None,
            })  # fmt: skip
        if records:
            with self._use() as conn:
                for start in range(0, len(records), _BATCH):
                    conn.execute(db.opinions.insert(), records[start : start + _BATCH])
        return len(records)

    def members(self, cluster_ids: Sequence[str]) -> tuple[pd.DataFrame, dict[int, np.ndarray], dict[int, list[str]]]:
        """The stored opinions of ``cluster_ids`` as pipeline rows (``row`` numbers them), their
        vectors and their words."""
        o = db.opinions.c
        found = []
        with self._use() as conn:
            for start in range(0, len(cluster_ids), _BATCH):
                part = list(cluster_ids[start : start + _BATCH])
                found.extend(conn.execute(sa.select(db.opinions).where(o.cluster_id.in_(part)).order_by(o.id)).mappings().all())
        frame = pd.DataFrame(
            {
                "row": range(len(found)),
                "id": [r["external_id"] or str(r["id"]) for r in found],
                "external_id": [r["external_id"] for r in found],
                "status": "ok",
                **{name: [r[name] for r in found] for name in ("text", "title", "time", "source", "place", "places", "user", "keywords")},
                # A reviewer's labels win over the classifier's.
                "level1": [r["reviewed_level1"] or r["level1"] for r in found],
                "level2": [r["reviewed_level2"] if r["reviewed_level1"] else r["level2"] for r in found],
                "department": [r["reviewed_department"] or r["department"] for r in found],
                "opinion": [r["id"] for r in found],
                "confidence": [r["confidence"] for r in found],
                "cluster": [r["cluster_id"] for r in found],
            }
        )
        vectors = {k: np.frombuffer(r["vector"], dtype=np.float32) for k, r in enumerate(found) if r["vector"] is not None}
        words = {k: r["words"].split() for k, r in enumerate(found)}
        return frame, vectors, words

    def reviewed_examples(self) -> pd.DataFrame:
        """Opinions whose classes a reviewer set: ``text``, ``title``, ``level1``, ``level2``
        (training data for ``minyi train --from-state``)."""
        o = db.opinions.c
        with self._use() as conn:
            rows = conn.execute(
                sa.select(o.text, o.title, o.reviewed_level1.label("level1"), o.reviewed_level2.label("level2"))
                .where(o.reviewed_level1 != "").order_by(o.id)
            ).mappings().all()  # fmt: skip
        return pd.DataFrame([dict(r) for r in rows], columns=["text", "title", "level1", "level2"])

    def reviews(self, cluster_ids: Sequence[str]) -> dict[str, dict]:
        """Cluster id → what review fixed for it: ``status`` and the fields a reviewer set."""
        c = db.clusters.c
        out = {}
        with self._use() as conn:
            for start in range(0, len(cluster_ids), _BATCH):
                part = list(cluster_ids[start : start + _BATCH])
                for r in conn.execute(sa.select(c.id, c.status, c.review).where(c.id.in_(part))):
                    out[r.id] = {**json.loads(r.review or "{}"), "status": r.status}
        return out

    def reviewed(self, summaries: pd.DataFrame) -> pd.DataFrame:
        """``summaries`` (rows of ``clusters.csv``) with the status and the fields a reviewer set."""
        if summaries.empty:
            return summaries
        found = self.reviews(summaries["cluster"].tolist())
        out = summaries.copy()
        for k, cluster in enumerate(out["cluster"]):
            for name, value in found.get(cluster, {}).items():
                if name in out.columns:
                    out.iat[k, out.columns.get_loc(name)] = value
        return out

    def described(self, cluster: str, scorer) -> tuple[pd.Series | None, pd.DataFrame]:
        """A stored cluster as it stands now: described from its stored opinions (``scorer`` a
        :class:`~nlp.summarize.ClusterScorer`) with a reviewer's title, classes, department and
        status on top, and its members; ``(None, members)`` when it has no stored opinions."""
        from nlp.clustering.describe import summarize_clusters

        members, vectors, words = self.members([cluster])
        if members.empty:
            return None, members
        return self.reviewed(summarize_clusters(members, words, vectors, scorer)).iloc[0], members

    def describe(self, summaries: pd.DataFrame) -> None:
        """Store the latest description of clusters (rows of ``clusters.csv``); fields a reviewer
        set are kept."""
        if summaries.empty:
            return
        c = db.clusters.c
        fields = ("title", "level1", "level2", "department", "first_seen", "last_seen")
        updates = [
            {"b_id": row["cluster"], "heat": float(row["heat"]), "summary": json.dumps(_plain(row), ensure_ascii=False), **{k: row[k] for k in fields}}
            for row in self.reviewed(summaries).drop(columns=["status"], errors="ignore").to_dict("records")
        ]
        with self._use() as conn:
            conn.execute(
                db.clusters.update().where(c.id == sa.bindparam("b_id")).values(
                    **{k: sa.bindparam(k) for k in ("title", "level1", "level2", "department", "heat", "first_seen", "last_seen", "summary")}
                ),
                updates,
            )  # fmt: skip

    def list_clusters(self, where: ClusterFilter | None = None, *, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        """Stored clusters matching ``where``, hottest first: ``(total, page)``."""
        c = db.clusters.c
        conditions = where.where() if where else []
        with self._use() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(db.clusters).where(*conditions)).scalar()
            rows = conn.execute(
                sa.select(c.id, c.size, c.summary, c.status, c.merged_into, c.created_at, c.updated_at).where(*conditions)
                .order_by(c.heat.desc(), c.size.desc(), c.id).limit(limit).offset(offset)
            ).all()  # fmt: skip
        return total, [_cluster_record(r) for r in rows]

    def cluster(self, cluster_id: str) -> dict | None:
        """One stored cluster's description, or ``None``."""
        c = db.clusters.c
        with self._use() as conn:
            row = conn.execute(sa.select(c.id, c.size, c.summary, c.status, c.merged_into, c.created_at, c.updated_at).where(c.id == cluster_id)).first()
        return _cluster_record(row) if row else None

    def __repr__(self) -> str:
        return f"ClusterStore({self.engine.url.render_as_string(hide_password=True)})"


def _cluster_record(row) -> dict:
    summary = json.loads(row.summary or "{}")
    summary.setdefault("size", int(row.size))
    summary.update({"cluster": row.id, "status": row.status, "merged_into": row.merged_into, "created_at": row.created_at, "updated_at": row.updated_at})
    return summary


def _final(cluster_id: str, into: dict[str, str]) -> str:
    """The cluster that ``cluster_id`` was (perhaps in several steps) merged into, or itself."""
    seen = {cluster_id}
    while cluster_id in into and into[cluster_id] not in seen:
        cluster_id = into[cluster_id]
        seen.add(cluster_id)
    return cluster_id


def _plain(row: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def _id_parts(cluster_id: str) -> tuple[str, int]:
    """``C2024Q3-0017`` → (``2024Q3``, 17)."""
    period, _, number = cluster_id[1:].rpartition("-")
    return period, int(number)

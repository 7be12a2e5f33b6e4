"""The cluster state that carries ids from one run to the next, and the opinions behind it.

A first run creates clusters; a later run looks each opinion up by its text (an opinion seen
before keeps its cluster), then joins new opinions to stored clusters whose centroid is close
enough, and only then makes new clusters, numbered after the last id of their period. Old ids are
never renumbered, and running the same input again changes nothing.

The state lives in a database (:mod:`nlp.clustering.db`): a SQLite file in a ``--state`` folder,
or the service's database. Stored opinions are masked as the run masked them. No key holds text:
the keys that match an opinion seen before (its text, its id, time and text) are keyed hashes
under the state's secret (:mod:`nlp.core.secrets`), made by :meth:`ClusterStore.text_key` and
:meth:`ClusterStore.stored_key`.

:class:`ClusterStore` is the one place that reads and writes these tables: the pipeline, the
review (:mod:`nlp.clustering.review`) and the service call its methods and write no SQL. The log
of review decisions is its :attr:`~ClusterStore.decisions` (:mod:`nlp.clustering.decisions`).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nlp.clustering import db
from nlp.clustering.db import StoredClusters
from nlp.clustering.decisions import DecisionLog
from nlp.clustering.describe import specific_places, summarize_clusters
from nlp.clustering.opinions import StoredOpinions
from nlp.clustering.retention import compact, purge, rekey
from nlp.core.errors import ConfigError
from nlp.core.ids import cluster_id, now, parse_cluster_id
from nlp.core.secrets import SECRET_FILE, keyed_hash, load_secret, user_secret

__all__ = ["ClusterFilter", "ClusterStore", "StoredClusters"]

_LOCK_ID = 0x6D696E7969  # PostgreSQL advisory lock taken by cluster-assigning transactions
# What the keys of a state are (meta "keys"): keyed hashes since migration 0004. A state without
# it has the text itself as membership keys and plain hashes as opinion keys, rewritten on open.
_HASHED = "hk:"  # prefix of an opinion key made from a content hash


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


class ClusterStore(StoredOpinions):
    """Stored clusters and opinions of earlier runs (the opinions' methods are those of
    :class:`~nlp.clustering.opinions.StoredOpinions`).

    Args:
        place: A folder (the file ``minyi.sqlite`` is created in it), a ``.sqlite`` file, a
            database URL, or an engine from :func:`nlp.clustering.db.connect`.
        secret: The key of the stored hashes (see :mod:`nlp.core.secrets`). When ``None``: the
            file ``minyi.secret`` beside a SQLite database (made on first use), else this
            user's secret. Every process that opens one database must use the same secret.
    """

    def __init__(self, place: str | Path | Engine, *, secret: bytes | None = None):
        self.engine = place if isinstance(place, Engine) else db.connect(place)
        local = self.engine.dialect.name == "sqlite" and self.engine.url.database
        self.path = Path(self.engine.url.database) if local else None
        self._local = threading.local()  # the open transaction of each thread
        self._lock = threading.RLock()
        if secret is None:
            secret = load_secret(self.path.parent / SECRET_FILE) if self.path else user_secret()
        self.secret = secret
        self._rekey()

    # Keys -----------------------------------------------------------------------------------

    def text_key(self, text: str) -> str:
        """The membership key of a text (two opinions with one key are exact duplicates): a
        keyed hash of it, never the text. ``text`` as :func:`nlp.dedupe.dedupe_key` makes it."""
        return keyed_hash(self.secret, text)

    def stored_key(self, key: str) -> str:
        """The key an opinion is stored under: a content hash (``sha1:…``, which anyone could
        check against a guessed text) as a keyed hash ``hk:…``; other keys (``ext:…``) as
        they are. Every method that takes opinion keys applies it, so callers keep making keys
        with :mod:`nlp.core.ids`."""
        if key.startswith("sha1:"):
            return _HASHED + keyed_hash(self.secret, key)
        return key

    def stored_keys(self, keys: Sequence[str]) -> dict[str, dict]:
        """See :meth:`StoredOpinions.stored_keys`; keys as :meth:`stored_key` makes them."""
        mapped = [self.stored_key(k) for k in keys]
        found = super().stored_keys(mapped)
        return {k: found[m] for k, m in zip(keys, mapped) if m in found}

    def save_opinions(self, rows, keys, *args, **kwargs) -> int:
        """See :meth:`StoredOpinions.save_opinions`; keys as :meth:`stored_key` makes them. NUL
        characters are left out of the cells (PostgreSQL refuses them in text; the text itself
        was normalised without them)."""
        rows = rows.copy()
        for name in rows.columns:
            if not pd.api.types.is_string_dtype(rows[name]):
                continue
            rows[name] = [v.replace("\x00", "") if isinstance(v, str) else v for v in rows[name]]
        return super().save_opinions(rows, [self.stored_key(k) for k in keys], *args, **kwargs)

    def find_opinions(self, numbers: Sequence[int], names: Sequence[str]) -> dict[object, int]:
        """See :meth:`StoredOpinions.find_opinions`; keys as :meth:`stored_key` makes them."""
        mapped = {self.stored_key(str(n)): n for n in names}
        found = super().find_opinions(numbers, [*names, *mapped])
        for key, name in mapped.items():
            if key in found:
                found[name] = found[key]
        return found

    def cluster_of(self, key: str) -> str | None:
        """See :meth:`StoredOpinions.cluster_of`; the key as :meth:`stored_key` makes it."""
        return super().cluster_of(self.stored_key(key))

    def _rekey(self) -> None:
        rekey(self)

    def _compact(self) -> None:
        compact(self)

    def purge(self, before: str) -> dict[str, int]:
        """Delete what was stored before ``before``: see :func:`nlp.clustering.retention.purge`."""
        return purge(self, before)

    @property
    def _conn(self) -> Connection | None:
        return getattr(self._local, "conn", None)

    @cached_property
    def decisions(self) -> DecisionLog:
        """The log of review decisions, with the rows each one changed."""
        return DecisionLog(self)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; assignments inside it cannot interleave with another
        process's. Every method called inside it on this thread joins it."""
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
        """The open transaction of this thread, or a transaction of its own that the methods
        called inside it join (a second one would wait for the first's write lock)."""
        if self._conn is not None:
            yield self._conn
            return
        with self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    # What a run carries over ----------------------------------------------------------------

    def built_with(self) -> str | None:
        """The name of the space the state's vectors are in (``None`` before its first run)."""
        with self._use() as conn:
            return db.meta_value(conn, "encoder")

    def space(self, encoder: str, mean: np.ndarray) -> np.ndarray:
        """The centring vector of the vector space, fixed by the first run.

        Raises:
            ConfigError: The state was built with another encoder.
        """
        with self._use() as conn:
            stored = db.meta_value(conn, "encoder")
            if stored is None:
                rows = [("encoder", encoder), ("mean", json.dumps([float(x) for x in mean]))]
                conn.execute(db.meta.insert(), [{"key": k, "value": v} for k, v in rows])
                return mean
            if stored != encoder:
                raise ConfigError(
                    f"the state in {self} was built with encoder {stored!r}, not {encoder!r}; "
                    "use the same encoder or a new state"
                )
            return np.array(json.loads(db.meta_value(conn, "mean")), dtype=np.float32)

    def known(self, keys: Sequence[str]) -> dict[str, str]:
        """Text key → cluster id, for the keys seen by an earlier run."""
        m = db.members.c
        with self._use() as conn:
            return dict(db.rows_in(conn, sa.select(m.text_key, m.cluster_id), m.text_key, keys))

    def clusters(self) -> tuple[list[str], np.ndarray, list[set[str]]]:
        """Ids, unit-length centroids and places of the stored clusters. A cluster merged into
        another by review keeps its centroid under the id it was merged into, so that new
        opinions like either part join the merged cluster."""
        found = self.joinable()
        return found.ids, found.centroids, found.places

    def joinable(self) -> StoredClusters:
        """What a new opinion is judged against to join a stored cluster (see
        :class:`StoredClusters`); merged clusters as in :meth:`clusters`."""
        c = db.clusters.c
        query = sa.select(c.id, c.centroid, c.size, c.places, c.place_sets, c.level2, c.merged_into)
        with self._use() as conn:
            return db.joinable(conn.execute(query.order_by(c.id)).all())

    def next_number(self, period: str) -> int:
        """The number the next new cluster of ``period`` gets."""
        c = db.clusters.c
        with self._use() as conn:
            last = conn.execute(sa.select(sa.func.max(c.number)).where(c.period == period))
            return (last.scalar() or 0) + 1

    def add_many(self, assignments: Sequence[tuple[str, str, np.ndarray, set[str]]]) -> None:
        """Record opinions as members: ``(cluster id, text key, centred vector, places)`` each.
        Clusters that do not exist yet are created; ids look like ``C2024Q3-0017``."""
        if not assignments:
            return
        at = now()
        grouped: dict[str, list] = defaultdict(list)
        for cluster, key, vector, places in assignments:
            grouped[cluster].append((key, vector, places))
        c = db.clusters.c
        with self._use() as conn:
            query = sa.select(c.id, c.centroid, c.size, c.places, c.place_sets)
            existing = {r.id: r for r in db.rows_in(conn, query, c.id, list(grouped))}
            inserts, shifts, links = [], [], []
            for cluster, items in grouped.items():
                vectors = [v.astype(np.float32) for _, v, _ in items]
                total = np.sum(vectors, axis=0).astype(np.float32)
                places = set().union(*(p for _, _, p in items))
                sets = [p for _, _, p in items]
                if cluster in existing:
                    row = existing[cluster]
                    shifts.append(_shifted(row, at, total, None, len(items), places, sets))
                else:
                    inserts.append(_new_cluster(cluster, total, len(items), places, at, sets=sets))
                links.extend(
                    {"text_key": k, "cluster_id": cluster, "added_at": at} for k, _, _ in items
                )
            if inserts:
                conn.execute(db.clusters.insert(), inserts)
            if shifts:
                conn.execute(_SHIFT, shifts)
            seen = self.known([link["text_key"] for link in links])
            fresh = [link for link in links if link["text_key"] not in seen]
            if fresh:
                conn.execute(db.members.insert(), fresh)

    def record_run(self, source: str, rows: int, new_clusters: int, config: dict) -> None:
        """Log a run: where its rows came from, how many, the clusters it made, its config."""
        text = json.dumps(config, ensure_ascii=False, default=str)
        values = {"source": source, "rows": rows, "new_clusters": new_clusters, "config": text}
        with self._use() as conn:
            conn.execute(db.runs.insert().values(started_at=now(), **values))

    def last_config(self) -> dict:
        """The config of the latest run, or ``{}`` before the first."""
        r = db.runs.c
        with self._use() as conn:
            text = conn.execute(sa.select(r.config).order_by(r.id.desc()).limit(1)).scalar()
        return json.loads(text) if text else {}

    # Review's changes to clusters -----------------------------------------------------------

    def cluster_row(self, cluster: str) -> sa.Row | None:
        """Every column of a stored cluster, or ``None``."""
        with self._use() as conn:
            return conn.execute(sa.select(db.clusters).where(db.clusters.c.id == cluster)).first()

    def shift_centroid(
        self,
        cluster: str,
        *,
        add: np.ndarray | None = None,
        remove: np.ndarray | None = None,
        size: int = 0,
        places: Iterable[str] = (),
        place_sets: Iterable[Iterable[str]] = (),
    ) -> None:
        """Change a cluster's running sums: a vector added to its centroid (the sum of its
        members' vectors) and one taken away, members gained (or lost, below zero), places
        gained (together, and member by member in ``place_sets``)."""
        row = self.cluster_row(cluster)
        shifted = _shifted(row, now(), add, remove, size, set(places), place_sets)
        with self._use() as conn:
            conn.execute(_SHIFT, [shifted])

    def new_cluster(self, beside: str, *, review: dict | None = None) -> str:
        """A new empty cluster in the period of ``beside``, numbered after that period's last,
        with fields a reviewer set (``review``); returns its id."""
        period, _ = parse_cluster_id(beside)
        cluster = cluster_id(period, self.next_number(period))
        zero = np.zeros_like(np.frombuffer(self.cluster_row(beside).centroid, dtype=np.float32))
        values = _new_cluster(cluster, zero, 0, set(), now(), review or {})
        with self._use() as conn:
            conn.execute(db.clusters.insert().values(**values))
        return cluster

    def merge_clusters(self, into: str, other: str) -> None:
        """Move the members and opinions of ``other`` to ``into``. ``other`` keeps its centroid
        as a second face of ``into`` (see :meth:`clusters`)."""
        row = self.cluster_row(other)
        with self._use() as conn:
            for table in (db.members, db.opinions):
                moved = table.update().where(table.c.cluster_id == other)
                conn.execute(moved.values(cluster_id=into))
        self.shift_centroid(
            into, size=row.size, places=json.loads(row.places), place_sets=db.place_sets(row)
        )
        with self._use() as conn:
            merged = db.clusters.update().where(db.clusters.c.id == other)
            conn.execute(merged.values(merged_into=into, updated_at=now()))

    def move_members(self, opinions: Sequence[int], target: str) -> None:
        """Move opinions and their exact duplicates (one membership key) to ``target``;
        centroids, sizes and places follow."""
        o, m = db.opinions.c, db.members.c
        moved = set(opinions)
        with self._use() as conn:
            keys = {
                r.text_key for r in db.rows_in(conn, sa.select(o.id, o.text_key), o.id, opinions)
            }
            keys = sorted(k for k in keys if k)
            moved |= set(db.rows_in(conn, sa.select(o.id), o.text_key, keys, scalars=True))
            vectors: dict[str, np.ndarray] = {}
            stored = sa.select(o.text_key, o.vector).where(o.vector.is_not(None))
            for r in db.rows_in(conn, stored, o.text_key, keys):
                vectors.setdefault(r.text_key, np.frombuffer(r.vector, dtype=np.float32))
            held = list(db.rows_in(conn, sa.select(m.text_key, m.cluster_id), m.text_key, keys))
        for key, cluster in held:
            if cluster == target:
                continue
            vector = vectors.get(key)
            if vector is not None:
                self.shift_centroid(cluster, remove=vector, size=-1)
                self.shift_centroid(target, add=vector, size=1)
            with self._use() as conn:
                conn.execute(db.members.update().where(m.text_key == key).values(cluster_id=target))
        with self._use() as conn:
            places = db.rows_in(conn, sa.select(o.places), o.id, sorted(moved), scalars=True)
            named = [specific_places(p) for p in places]
        self.shift_centroid(target, places=set().union(*named), place_sets=named)
        self._update_opinions(sorted(moved), {"cluster_id": target})

    def set_status(self, cluster: str, status: str) -> None:
        """Where a cluster stands in the closed loop (one of
        :data:`~nlp.clustering.describe.STATUSES`)."""
        with self._use() as conn:
            changed = db.clusters.update().where(db.clusters.c.id == cluster)
            conn.execute(changed.values(status=status))

    def set_review(self, cluster: str, **fields: str) -> None:
        """Fields of a cluster that a reviewer set (``title``, ``level1``, ``level2``,
        ``department``); they win over every later description."""
        review = {**json.loads(self.cluster_row(cluster).review or "{}"), **fields}
        with self._use() as conn:
            changed = db.clusters.update().where(db.clusters.c.id == cluster)
            conn.execute(changed.values(review=json.dumps(review, ensure_ascii=False)))

    # Descriptions ---------------------------------------------------------------------------

    def reviews(self, cluster_ids: Sequence[str]) -> dict[str, dict]:
        """Cluster id → what review fixed for it: ``status`` and the fields a reviewer set."""
        c = db.clusters.c
        query = sa.select(c.id, c.status, c.review)
        with self._use() as conn:
            rows = db.rows_in(conn, query, c.id, cluster_ids)
            return {r.id: {**json.loads(r.review or "{}"), "status": r.status} for r in rows}

    def reviewed(self, summaries: pd.DataFrame) -> pd.DataFrame:
        """``summaries`` (rows of ``clusters.csv``) with the status and the fields a reviewer
        set."""
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
        members, vectors, words = self.members([cluster])
        if members.empty:
            return None, members
        described = summarize_clusters(members, words, vectors, scorer)
        return self.reviewed(described).iloc[0], members

    def describe(self, summaries: pd.DataFrame) -> None:
        """Store the latest description of clusters (rows of ``clusters.csv``); fields a reviewer
        set are kept."""
        if summaries.empty:
            return
        fields = ("title", "level1", "level2", "department", "first_seen", "last_seen")
        rows = self.reviewed(summaries).drop(columns=["status"], errors="ignore")
        updates = [
            {
                "b_id": row["cluster"],
                "heat": float(row["heat"]),
                "summary": json.dumps(_plain(row), ensure_ascii=False),
                **{k: row[k] for k in fields},
            }
            for row in rows.to_dict("records")
        ]
        columns = {k: sa.bindparam(k) for k in (*fields, "heat", "summary")}
        statement = db.clusters.update().where(db.clusters.c.id == sa.bindparam("b_id"))
        with self._use() as conn:
            conn.execute(statement.values(**columns), updates)

    def list_clusters(
        self, where: ClusterFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[dict]]:
        """Stored clusters matching ``where``, hottest first: ``(total, page)``."""
        c = db.clusters.c
        conditions = where.where() if where else []
        counted = sa.select(sa.func.count()).select_from(db.clusters).where(*conditions)
        order = (c.heat.desc(), c.size.desc(), c.id)
        page = _RECORD.where(*conditions).order_by(*order).limit(limit).offset(offset)
        with self._use() as conn:
            total = conn.execute(counted).scalar()
            rows = conn.execute(page).all()
        return total, [_cluster_record(r) for r in rows]

    def cluster(self, cluster_id: str) -> dict | None:
        """One stored cluster's description, or ``None``."""
        with self._use() as conn:
            row = conn.execute(_RECORD.where(db.clusters.c.id == cluster_id)).first()
        return _cluster_record(row) if row else None

    def __repr__(self) -> str:
        return f"ClusterStore({self.engine.url.render_as_string(hide_password=True)})"


# Every change to a stored cluster's centroid, size and places goes through this statement,
# with values from _shifted.
_SHIFT = (
    db.clusters.update()
    .where(db.clusters.c.id == sa.bindparam("b_id"))
    .values(
        centroid=sa.bindparam("centroid"),
        size=sa.bindparam("size"),
        places=sa.bindparam("places"),
        place_sets=sa.bindparam("place_sets"),
        updated_at=sa.bindparam("updated_at"),
    )
)

# What a listed cluster shows: its latest description and these columns.
_RECORDED = ("id", "summary", "size", "status", "merged_into", "created_at", "updated_at")
_RECORD = sa.select(*(db.clusters.c[k] for k in _RECORDED))


def _shifted(
    row, at: str, add, remove, size: int, places: set[str], sets: Iterable[Iterable[str]] = ()
) -> dict:
    """New values for :data:`_SHIFT`: the one place where a centroid changes. The centroid is
    a sum of member vectors, so a member that joins is added and one that leaves is taken away,
    in that order. ``sets``: the places of members that join, each member's apart."""
    centroid = np.frombuffer(row.centroid, dtype=np.float32)
    if add is not None:
        centroid = centroid + add
    if remove is not None:
        centroid = centroid - remove
    known = set(json.loads(row.places))
    return {
        "b_id": row.id,
        "centroid": np.asarray(centroid, dtype=np.float32).tobytes(),
        "size": max(row.size + size, 0),
        "places": json.dumps(sorted(known | places), ensure_ascii=False),
        "place_sets": db.place_sets_json([*db.place_sets(row), *sets]),
        "updated_at": at,
    }


def _new_cluster(
    cluster: str,
    centroid: np.ndarray,
    size: int,
    places: set[str],
    at: str,
    review=None,
    sets: Iterable[Iterable[str]] = (),
) -> dict:
    period, number = parse_cluster_id(cluster)
    return {
        "id": cluster,
        "period": period,
        "number": number,
        "centroid": centroid.tobytes(),
        "size": size,
        "places": json.dumps(sorted(places), ensure_ascii=False),
        "place_sets": db.place_sets_json(sets),
        "title": "",
        "created_at": at,
        "updated_at": at,
        "review": json.dumps(review or {}, ensure_ascii=False),
    }


def _cluster_record(row) -> dict:
    summary = json.loads(row.summary or "{}")
    summary.setdefault("size", int(row.size))
    summary["cluster"] = row.id
    summary.update(
        {k: getattr(row, k) for k in ("status", "merged_into", "created_at", "updated_at")}
    )
    return summary


def _plain(row: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}

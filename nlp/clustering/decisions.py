"""The log of review decisions, kept in the cluster state with the rows each one changed.

A decision is logged with the rows it changed as they were before it (``before``): the clusters,
their membership keys and their opinions. Undoing it puts those rows back, except that centroids
and sizes are put back by the difference the decision made, so that opinions which later runs
added stay where they are. ``before`` also names one opinion of each cluster (``anchors``), for
finding the cluster again on a machine whose cluster numbers differ.

Part of :class:`~nlp.clustering.store.ClusterStore` (as its ``decisions``): it runs in the
store's transaction and writes the store's tables.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nlp.clustering import db

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore

__all__ = ["DecisionLog"]

_CLUSTER_FIELDS = ("size", "places", "place_sets", "title", "status", "review", "merged_into")
_OPINION_FIELDS = ("cluster_id", "reviewed_level1", "reviewed_level2", "reviewed_department")
_SHOWN = ("id", "uid", "at", "who", "why", "action", "args", "undone_at", "undone_by")


class DecisionLog:
    """Review decisions of a :class:`~nlp.clustering.store.ClusterStore`, oldest first."""

    def __init__(self, store: ClusterStore):
        self._store = store

    def snapshot(self, clusters: Sequence[str]) -> dict:
        """The rows a decision on ``clusters`` may change, as they are now (``before``)."""
        clusters = list(clusters)
        o, m = db.opinions.c, db.members.c
        opinions = self._store.cluster_opinions(clusters)
        with self._store._use() as conn:
            keys = list(
                conn.execute(sa.select(m.text_key).where(m.cluster_id.in_(clusters))).scalars()
            )
            members = dict(db.rows_in(conn, sa.select(m.text_key, m.cluster_id), m.text_key, keys))
            columns = sa.select(o.id, *(o[k] for k in _OPINION_FIELDS))
            images = {
                str(r.id): {k: r._mapping[k] for k in _OPINION_FIELDS}
                for r in db.rows_in(conn, columns, o.id, opinions)
            }
            first = sa.select(o.key).order_by(o.id).limit(1)
            anchors = {
                c: key
                for c in clusters
                if (key := conn.execute(first.where(o.cluster_id == c)).scalar())
            }
            return {
                "clusters": _cluster_images(conn, clusters),
                "members": members,
                "opinions": images,
                "anchors": anchors,
            }

    def record(self, before: dict, *, created: Sequence[str], **entry: str) -> None:
        """Log a decision just applied (in the same transaction): ``before`` from
        :meth:`snapshot`, the clusters it ``created``, and its ``uid``, ``at``, ``who``, ``why``,
        ``action`` and ``args`` (JSON text)."""
        with self._store._use() as conn:
            for cluster, image in _cluster_images(conn, list(before["clusters"])).items():
                before["clusters"][cluster].update(
                    after_centroid=image["centroid"], after_size=image["size"]
                )
            before["created"] = list(created)
            text = json.dumps(before, ensure_ascii=False)
            conn.execute(db.decisions.insert().values(before=text, **entry))

    def latest(self) -> dict | None:
        """The newest decision in force (every column), or ``None``."""
        d = db.decisions.c
        query = sa.select(db.decisions).where(d.undone_at.is_(None)).order_by(d.id.desc()).limit(1)
        with self._store._use() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def entries(self, *, in_force: bool = False) -> list[dict]:
        """Every decision (or those not undone), oldest first, ``args`` as JSON text."""
        d = db.decisions.c
        query = sa.select(db.decisions).order_by(d.id)
        if in_force:
            query = query.where(d.undone_at.is_(None))
        with self._store._use() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def uids(self) -> set[str]:
        """The uids of every decision, undone ones too."""
        with self._store._use() as conn:
            return set(conn.execute(sa.select(db.decisions.c.uid)).scalars())

    def restore(self, before: dict) -> None:
        """Put back the rows a decision changed (see the module's text); clusters it created go
        when nothing is left in them."""
        c, m, o = db.clusters.c, db.members.c, db.opinions.c
        store = self._store
        for cluster, image in before["clusters"].items():
            store.shift_centroid(
                cluster,
                add=_vector(image["centroid"]),
                remove=_vector(image["after_centroid"]),
                size=image["size"] - image["after_size"],
            )
            # (a decision recorded before a field was kept has no image of it)
            fields = {k: image[k] for k in _CLUSTER_FIELDS if k != "size" and k in image}
            with store._use() as conn:
                conn.execute(db.clusters.update().where(c.id == cluster).values(**fields))
        with store._use() as conn:
            for key, cluster in before["members"].items():
                conn.execute(
                    db.members.update().where(m.text_key == key).values(cluster_id=cluster)
                )
            for opinion, image in before["opinions"].items():
                conn.execute(db.opinions.update().where(o.id == int(opinion)).values(**image))
            for cluster in before.get("created", []):
                count = sa.select(sa.func.count())
                still = conn.execute(
                    count.select_from(db.members).where(m.cluster_id == cluster)
                ).scalar()
                still += conn.execute(
                    count.select_from(db.opinions).where(o.cluster_id == cluster)
                ).scalar()
                if not still:
                    conn.execute(db.clusters.delete().where(c.id == cluster))

    def set_undone(self, decision: int, by: str, at: str) -> None:
        """Mark a decision undone, by whom and when."""
        d = db.decisions.c
        with self._store._use() as conn:
            conn.execute(
                db.decisions.update().where(d.id == decision).values(undone_at=at, undone_by=by)
            )


def _cluster_images(conn: Connection, clusters: list[str]) -> dict[str, dict]:
    c = db.clusters.c
    query = sa.select(c.id, c.centroid, *(c[k] for k in _CLUSTER_FIELDS)).where(c.id.in_(clusters))
    images = {}
    for r in conn.execute(query).mappings():
        images[r["id"]] = {
            "centroid": base64.b64encode(r["centroid"]).decode(),
            **{k: r[k] for k in _CLUSTER_FIELDS},
        }
    return images


def _vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)

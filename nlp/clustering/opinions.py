"""The opinions behind the cluster state: what runs stored, as they masked it, and the labels
review gave them.

Part of the repository :class:`~nlp.clustering.store.ClusterStore` (its base class, kept apart
by concern): its methods run in the store's transaction and only they write ``opinions``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nlp.clustering import db
from nlp.core.ids import now

__all__ = ["StoredOpinions"]


class StoredOpinions:
    """The ``opinions`` table, for :class:`~nlp.clustering.store.ClusterStore`."""

    _use: Callable[[], AbstractContextManager[Connection]]  # the store's transaction

    def stored_keys(self, keys: Sequence[str]) -> dict[str, dict]:
        """Opinion key → its stored ``{"cluster", "level1", "level2", "department", "reviewed"}``
        (labels and department as a reviewer set them, where one did; ``reviewed`` says so)."""
        o = db.opinions.c
        query = sa.select(o.key, o.cluster_id, *(o[k] for k in _LABELS))
        with self._use() as conn:
            rows = db.rows_in(conn, query, o.key, keys)
            return {r.key: {"cluster": r.cluster_id, **_labels(r._mapping)} for r in rows}

    def save_opinions(
        self,
        rows: pd.DataFrame,
        keys: Sequence[str],
        vectors: Sequence[np.ndarray | None],
        external_ids: Sequence[str | None] | None = None,
        words: Sequence[Sequence[str]] | None = None,
        text_keys: Sequence[str] | None = None,
    ) -> int:
        """Store scored rows (the pipeline's columns) under ``keys``, with their vectors, words
        and membership keys (see :meth:`ClusterStore.add_many`); rows already stored are left as
        they are. Returns how many were new."""
        have = set(self.stored_keys(keys))
        at = now()
        records = []
        for k, (key, vector) in enumerate(zip(keys, vectors)):
            if key in have:
                continue
            have.add(key)
            r = rows.iloc[k]
            confidence = r.get("confidence")
            records.append(
                {
                    **{name: r[name] for name in _COPIED},
                    "key": key,
                    "external_id": external_ids[k] if external_ids else None,
                    "confidence": None if pd.isna(confidence) else float(confidence),
                    "cluster_id": r["cluster"],
                    "vector": None if vector is None else np.asarray(vector, np.float32).tobytes(),
                    "created_at": at,
                    "words": " ".join(words[k]) if words else "",
                    "text_key": text_keys[k] if text_keys else None,
                }
            )
        if records:
            with self._use() as conn:
                for start in range(0, len(records), db.BATCH):
                    conn.execute(db.opinions.insert(), records[start : start + db.BATCH])
        return len(records)

    def members(
        self, cluster_ids: Sequence[str]
    ) -> tuple[pd.DataFrame, dict[int, np.ndarray], dict[int, list[str]]]:
        """The stored opinions of ``cluster_ids`` as pipeline rows (``row`` numbers them), their
        vectors and their words."""
        o = db.opinions.c
        query = sa.select(db.opinions).order_by(o.id)
        with self._use() as conn:
            found = [r._mapping for r in db.rows_in(conn, query, o.cluster_id, cluster_ids)]
        labels = [_labels(r) for r in found]
        frame = pd.DataFrame(
            {
                "row": range(len(found)),
                "id": [r["external_id"] or str(r["id"]) for r in found],
                "external_id": [r["external_id"] for r in found],
                "status": "ok",
                **{name: [r[name] for r in found] for name in _SHOWN},
                # A reviewer's labels win over the classifier's.
                **{name: [x[name] for x in labels] for name in ("level1", "level2", "department")},
                "opinion": [r["id"] for r in found],
                "confidence": [r["confidence"] for r in found],
                "cluster": [r["cluster_id"] for r in found],
            }
        )
        vectors = {
            k: np.frombuffer(r["vector"], dtype=np.float32)
            for k, r in enumerate(found)
            if r["vector"] is not None
        }
        words = {k: r["words"].split() for k, r in enumerate(found)}
        return frame, vectors, words

    def reviewed_examples(self) -> pd.DataFrame:
        """Opinions whose classes a reviewer set: ``text``, ``title``, ``level1``, ``level2``
        (training data for ``minyi train --from-state``)."""
        o = db.opinions.c
        labels = (o.reviewed_level1.label("level1"), o.reviewed_level2.label("level2"))
        query = sa.select(o.text, o.title, *labels).where(o.reviewed_level1 != "").order_by(o.id)
        with self._use() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=["text", "title", "level1", "level2"])

    def find_opinions(self, numbers: Sequence[int], names: Sequence[str]) -> dict[object, int]:
        """Stored opinions named by their number, or by their key or external id: each name
        found → the opinion's number."""
        o = db.opinions.c
        found: dict[object, int] = {}
        with self._use() as conn:
            found.update(
                (n, n) for n in db.rows_in(conn, sa.select(o.id), o.id, numbers, scalars=True)
            )
            named = sa.select(o.id, o.key, o.external_id)
            for column in (o.key, o.external_id):
                for r in db.rows_in(conn, named, column, names):
                    found[r.key] = r.id
                    if r.external_id:
                        found[r.external_id] = r.id
        return found

    def opinion_keys(self, opinions: Sequence[int]) -> list[str]:
        """The keys of stored opinions, in the order they were stored."""
        o = db.opinions.c
        with self._use() as conn:
            return [r.key for r in sorted(db.rows_in(conn, sa.select(o.id, o.key), o.id, opinions))]

    def opinion_clusters(self, opinions: Sequence[int]) -> dict[int, str]:
        """Opinion number → the cluster it is in."""
        o = db.opinions.c
        with self._use() as conn:
            return dict(db.rows_in(conn, sa.select(o.id, o.cluster_id), o.id, opinions))

    def cluster_opinions(self, clusters: Sequence[str]) -> list[int]:
        """The numbers of the opinions in ``clusters``, in the order they were stored."""
        o = db.opinions.c
        with self._use() as conn:
            return sorted(db.rows_in(conn, sa.select(o.id), o.cluster_id, clusters, scalars=True))

    def cluster_of(self, key: str) -> str | None:
        """The cluster of the opinion stored under ``key``, or ``None``."""
        o = db.opinions.c
        with self._use() as conn:
            return conn.execute(sa.select(o.cluster_id).where(o.key == key)).scalar()

    def label_opinions(self, opinions: Sequence[int], **labels: str) -> None:
        """Set the labels a reviewer gave opinions: ``level1``, ``level2`` or ``department``
        (they win over the classifier's in every later run)."""
        self._update_opinions(opinions, {f"reviewed_{k}": v for k, v in labels.items()})

    def _update_opinions(self, opinions: Sequence[int], values: dict) -> None:
        o = db.opinions.c
        ids = list(opinions)
        with self._use() as conn:
            for start in range(0, len(ids), db.BATCH):
                part = ids[start : start + db.BATCH]
                conn.execute(db.opinions.update().where(o.id.in_(part)).values(**values))


_SHOWN = ("text", "title", "time", "source", "place", "places", "user", "keywords")
# Opinion columns stored as the pipeline wrote them.
_COPIED = (*_SHOWN, "level1", "level2", "department")
_LABELS = (
    "level1",
    "level2",
    "department",
    "reviewed_level1",
    "reviewed_level2",
    "reviewed_department",
)


def _labels(r) -> dict:
    """Level 1, level 2 and department of a stored opinion (a mapping of its columns): a
    reviewer's where one set them."""
    return {
        "level1": r["reviewed_level1"] or r["level1"],
        "level2": r["reviewed_level2"] if r["reviewed_level1"] else r["level2"],
        "department": r["reviewed_department"] or r["department"],
        "reviewed": bool(r["reviewed_level1"] or r["reviewed_department"]),
    }

"""Keeping stored state free of personal data over time: keys of older states rewritten as keyed
hashes, opinions purged after a retention period, and SQLite files rebuilt so that nothing
deleted stays in their pages."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

import sqlalchemy as sa

from nlp.clustering import db
from nlp.core.ids import now

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore

__all__ = ["KEYS", "compact", "purge", "rekey"]

KEYS = "hmac-sha256"  # how the keys of a state are made; recorded in its meta table


def rekey(store: ClusterStore) -> None:
    """Rewrite the keys of a state made before keyed hashes (they held the text itself):
    membership keys as :meth:`text_key` of the old key (which was the text as
    ``dedupe_key`` makes it), content hashes as :meth:`stored_key`, and the same keys in the
    decisions' ``before``. Matching goes on as before; no text is left in a key."""
    with store.transaction() as conn:
        if db.meta_value(conn, "keys") == KEYS:
            return
        m, o, d = db.members.c, db.opinions.c, db.decisions.c
        old = list(conn.execute(sa.select(m.text_key)).scalars())
        new = {k: store.text_key(k) for k in old}
        texts = [{"b_old": k, "b_new": v} for k, v in new.items()]
        if texts:
            bound = {"text_key": sa.bindparam("b_new")}
            for table, column in ((db.members, m.text_key), (db.opinions, o.text_key)):
                where = column == sa.bindparam("b_old")
                conn.execute(table.update().where(where).values(**bound), texts)
        hashed = conn.execute(sa.select(o.id, o.key).where(o.key.like("sha1:%"))).all()
        if hashed:
            values = [{"b_id": r.id, "key": store.stored_key(r.key)} for r in hashed]
            conn.execute(db.opinions.update().where(o.id == sa.bindparam("b_id")), values)
        logged = conn.execute(sa.select(d.id, d.before)).all()
        rewritten = [
            {"b_id": r.id, "before": _rekeyed(r.before, new, store.stored_key)} for r in logged
        ]
        if rewritten:
            conn.execute(db.decisions.update().where(d.id == sa.bindparam("b_id")), rewritten)
        conn.execute(db.meta.insert().values(key="keys", value=KEYS))
    if (old or hashed) and store.path is not None:
        compact(store)


def compact(store: ClusterStore) -> None:
    """Rebuild a SQLite file so that nothing deleted or rewritten stays in its pages or its
    write-ahead log."""
    raw = store.engine.raw_connection()  # outside SQLAlchemy's BEGIN: VACUUM refuses one
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def purge(store: ClusterStore, before: str) -> dict[str, int]:
    """Delete the opinions stored before ``before`` (an ISO 8601 time, UTC, as
    :func:`nlp.core.ids.now` writes them), the membership keys added before it that no
    stored opinion holds any more, and the clusters this leaves empty (with clusters merged
    into them). Clusters keep their centroids: they describe an issue, not a person, and
    opinions about it still join it. A SQLite file is rebuilt so that nothing deleted stays
    in it; on PostgreSQL deleted rows are gone once the table is vacuumed (autovacuum, or
    ``VACUUM``).

    Returns:
        How many ``opinions``, ``members`` and ``clusters`` were deleted.
    """
    o, m, c = db.opinions.c, db.members.c, db.clusters.c
    with store.transaction() as conn:
        old = conn.execute(sa.select(o.id, o.cluster_id).where(o.created_at < before)).all()
        touched = {r.cluster_id for r in old}
        for start in range(0, len(old), db.BATCH):
            part = [r.id for r in old[start : start + db.BATCH]]
            conn.execute(db.opinions.delete().where(o.id.in_(part)))
        held = sa.select(o.text_key).where(o.text_key.is_not(None))
        gone = conn.execute(
            sa.select(m.text_key, m.cluster_id)
            .where(m.added_at < before)
            .where(m.text_key.not_in(held))
        ).all()
        touched |= {r.cluster_id for r in gone}
        for start in range(0, len(gone), db.BATCH):
            part = [r.text_key for r in gone[start : start + db.BATCH]]
            conn.execute(db.members.delete().where(m.text_key.in_(part)))
        lost: dict[str, int] = defaultdict(int)
        for r in gone:
            lost[r.cluster_id] += 1
        for cluster, count in lost.items():
            shrunk = db.clusters.update().where(c.id == cluster)
            conn.execute(
                shrunk.values(
                    size=sa.case((c.size > count, c.size - count), else_=0), updated_at=now()
                )
            )
        used = set(conn.execute(sa.select(m.cluster_id).distinct()).scalars())
        used |= set(conn.execute(sa.select(o.cluster_id).distinct()).scalars())
        rows = conn.execute(sa.select(c.id, c.merged_into)).all()
        into = {r.id: r.merged_into for r in rows if r.merged_into}
        empty = [
            r.id
            for r in rows
            if db.final_cluster(r.id, into) in touched
            and db.final_cluster(r.id, into) not in used
            and r.id not in used
        ]
        for start in range(0, len(empty), db.BATCH):
            part = empty[start : start + db.BATCH]
            conn.execute(db.clusters.delete().where(c.id.in_(part)))
    if (old or gone) and store.path is not None:
        compact(store)
    return {"opinions": len(old), "members": len(gone), "clusters": len(empty)}


def _rekeyed(before: str, texts: dict[str, str], stored_key) -> str:
    """A decision's ``before`` (JSON) with its membership keys and anchors' keys rewritten."""
    image = json.loads(before)
    members = image.get("members") or {}
    image["members"] = {texts.get(k, k): v for k, v in members.items()}
    anchors = image.get("anchors") or {}
    image["anchors"] = {c: stored_key(k) for c, k in anchors.items()}
    return json.dumps(image, ensure_ascii=False)

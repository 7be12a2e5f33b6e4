"""Review of clusters by staff: decisions made once, kept by every later run, and undoable.

Open the state of earlier runs (the ``--state`` folder of ``minyi score``, a ``.sqlite`` file or a
database URL) and look at clusters, then fix them::

    from nlp.clustering.review import Review

    review = Review("state/", who="王指导员")
    review.clusters(level1="城乡建设").head()
    review.merge("C2024Q3-0001", "C2024Q3-0007", why="同一条路")
    review.split("C2024Q3-0002", [17, 18], title="二小区电梯故障")
    review.relabel("C2024Q3-0003", "农村农业", "林木采伐审批")
    review.mark("C2024Q3-0001", "已转办", why="已转交通运输局")
    review.undo()

Every decision is one database transaction, stored with who, when, why, its arguments and the
rows as they were, so that :meth:`Review.undo` can put them back. Decisions live in the state
itself: the next ``minyi score --state`` keeps merged clusters merged (their members stay, the
merged-away cluster takes no new opinions), split ones split, titles, labels, departments and
statuses, and new opinions join reviewed clusters by their centroids as before.

Opinions are named by their stored number (the ``opinion`` column of :meth:`Review.opinions`),
their external id or their store key. Exact duplicates (one membership key) move together.
"""

from __future__ import annotations

import base64
import getpass
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nlp.classify.taxonomy import Taxonomy
from nlp.clustering import db
from nlp.clustering.describe import STATUSES, specific_places, summarize_clusters
from nlp.clustering.store import ClusterFilter, ClusterStore, _id_parts
from nlp.core.errors import ReviewError
from nlp.summarize import ClusterScorer
from nlp.summarize.draft import Draft, ExtractiveDrafter

__all__ = ["DECISIONS_FORMAT", "STATUSES", "ClusterView", "Review"]

DECISIONS_FORMAT = "minyi-decisions/1"
Rows = Sequence[int | str]

_CLUSTER_FIELDS = ("size", "places", "title", "status", "review", "merged_into")
_OPINION_FIELDS = ("cluster_id", "reviewed_level1", "reviewed_level2", "reviewed_department")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ClusterView:
    """One cluster for a reviewer: its description, members, weekly trend and a draft."""

    record: dict
    members: pd.DataFrame
    draft: Draft | None

    @property
    def trend(self) -> pd.Series:
        """Opinions per ISO week."""
        pairs = [p.rpartition(":") for p in str(self.record.get("weekly_counts", "")).split()]
        return pd.Series({w: int(c) for w, _, c in pairs}, dtype="int64", name="opinions")

    def _repr_html_(self) -> str:
        from nlp.outputs.charts import weekly_trend_svg

        r = self.record
        head = (
            f"<h3>{_html(r['cluster'])} · {_html(r.get('title', ''))}</h3>"
            f"<p>{_html(r.get('level1', ''))}/{_html(r.get('level2', ''))} · {_html(r.get('department', ''))} · "
            f"状态 {_html(r.get('status', ''))} · 规模 {r.get('size', 0)} · 热度 {r.get('heat', '')} · 关键词 {_html(r.get('keywords', ''))}</p>"
        )
        shown = self.members[["opinion", "id", "time", "level1", "level2", "text"]].head(20)
        return head + weekly_trend_svg(self.trend, title="每周意见数") + shown.to_html(index=False)


class Review:
    """Review decisions on a cluster state.

    Args:
        state: A state folder, a ``.sqlite`` file, a database URL or a :class:`ClusterStore`.
        who: Who makes the decisions (stored with each); the login name when ``None``.
        taxonomy: Where relabelled classes find their responsible body; the default taxonomy,
            or the one the state's last run used, when ``None``.
    """

    def __init__(self, state: str | Path | ClusterStore, *, who: str | None = None, taxonomy: str | Path | None = None):
        self.store = state if isinstance(state, ClusterStore) else ClusterStore(state)
        self.who = who or getpass.getuser()
        config = self._last_config()
        self._taxonomy_path = taxonomy or config.get("taxonomy")
        self._scorer = ClusterScorer(ClusterScorer.load_config(config.get("scoring")))
        self._taxonomy: Taxonomy | None = None

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Looking --------------------------------------------------------------------------------

    def clusters(self, *, limit: int = 50, offset: int = 0, **where) -> pd.DataFrame:
        """Clusters hottest first, as rows of ``clusters.csv`` with ``status``; ``where`` takes the
        fields of :class:`~nlp.clustering.store.ClusterFilter` (``level1``, ``status``, ``min_size``, …)."""
        _, page = self.store.list_clusters(ClusterFilter(**where), limit=limit, offset=offset)
        return pd.DataFrame(page)

    def opinions(self, cluster: str) -> pd.DataFrame:
        """The stored opinions of a cluster (``opinion`` is the number to name them by)."""
        self._cluster_row(cluster)
        members, _, _ = self.store.members([cluster])
        return members

    def cluster(self, cluster: str, *, draft: bool = True) -> ClusterView:
        """A cluster with its members, trend and (when it has opinions) a draft suggestion."""
        record = self.store.cluster(cluster)
        if record is None:
            raise ReviewError(f"no cluster {cluster!r}")
        described, members = self.store.described(cluster, self._scorer)
        written = ExtractiveDrafter().draft(described, members) if draft and described is not None else None
        return ClusterView(record, members, written)

    def decisions(self) -> pd.DataFrame:
        """Every decision, oldest first, with who, when, why and whether it was undone."""
        d = db.decisions.c
        with self.store._use() as conn:
            rows = conn.execute(sa.select(d.id, d.uid, d.at, d.who, d.why, d.action, d.args, d.undone_at, d.undone_by).order_by(d.id)).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=["id", "uid", "at", "who", "why", "action", "args", "undone_at", "undone_by"])
        frame["args"] = [json.loads(a) for a in frame["args"]]
        return frame

    # Deciding -------------------------------------------------------------------------------

    def merge(self, into: str, *others: str, why: str = "") -> str:
        """Merge ``others`` into ``into``: their opinions move, and new opinions like any of them
        join ``into``."""
        if not others:
            raise ReviewError("merge needs at least two clusters")
        if into in others:
            raise ReviewError(f"cannot merge {into!r} into itself")

        def apply(conn: Connection) -> None:
            c = db.clusters.c
            for other in others:
                row = self._cluster_row(other)
                conn.execute(db.members.update().where(db.members.c.cluster_id == other).values(cluster_id=into))
                conn.execute(db.opinions.update().where(db.opinions.c.cluster_id == other).values(cluster_id=into))
                # The merged-away cluster keeps its centroid as a second face of the merged one.
                self._shift(conn, into, None, row.size, set(json.loads(row.places)))
                conn.execute(db.clusters.update().where(c.id == other).values(merged_into=into, updated_at=_now()))

        self._decide("merge", {"clusters": [into, *others]}, why, clusters=[into, *others], apply=apply)
        return into

    def split(self, cluster: str, rows: Rows, *, title: str | None = None, why: str = "") -> str:
        """Move ``rows`` of ``cluster`` into a new cluster; returns its id."""
        made: list[str] = []

        def apply(conn: Connection) -> None:
            ids = self._opinion_ids(conn, rows)
            outside = [i for i, c in self._opinion_clusters(conn, ids).items() if c != cluster]
            if outside:
                raise ReviewError(f"opinions {outside} are not in cluster {cluster!r}")
            period, _ = _id_parts(cluster)
            new = f"C{period}-{self.store.next_number(period):04d}"
            centroid = np.frombuffer(self._cluster_row(cluster).centroid, dtype=np.float32)
            now = _now()
            conn.execute(db.clusters.insert().values(
                id=new, period=period, number=_id_parts(new)[1], centroid=np.zeros_like(centroid).tobytes(), size=0, places="[]",
                title="", created_at=now, updated_at=now, review=json.dumps({"title": title} if title else {}, ensure_ascii=False),
            ))  # fmt: skip
            self._reassign(conn, ids, new)
            made.append(new)

        self._decide("split", {"cluster": cluster, "rows": self._keys(rows), "title": title}, why, clusters=[cluster], rows=rows, apply=apply, created=made)
        return made[0]

    def move(self, rows: Rows, cluster: str, *, why: str = "") -> None:
        """Move opinions (and their exact duplicates) into ``cluster``."""
        self._decide("move", {"rows": self._keys(rows), "cluster": cluster}, why, clusters=[cluster], rows=rows,
                     apply=lambda conn: self._reassign(conn, self._opinion_ids(conn, rows), cluster))  # fmt: skip

    def rename(self, cluster: str, title: str, *, why: str = "") -> None:
        """Give a cluster a title that later runs keep."""
        if not title.strip():
            raise ReviewError("a title cannot be empty")
        self._decide("rename", {"cluster": cluster, "title": title}, why, clusters=[cluster], apply=lambda conn: self._set_review(conn, cluster, title=title.strip()))

    def relabel(self, target: str | Rows, level1: str, level2: str = "", *, why: str = "") -> None:
        """Set the classes of a cluster (and all its opinions) or of some opinions. The
        responsible body follows the new class, unless one was set by :meth:`set_department`."""
        if not level1.strip():
            raise ReviewError("level1 cannot be empty")
        department = self._department(level1, level2)

        def apply(conn: Connection) -> None:
            ids = self._target_ids(conn, target)
            values = {"reviewed_level1": level1, "reviewed_level2": level2}
            if department:
                values["reviewed_department"] = department
            self._update_opinions(conn, ids, values)
            if isinstance(target, str):
                self._set_review(conn, target, level1=level1, level2=level2, **({"department": department} if department else {}))

        self._decide("relabel", {"target": self._target_arg(target), "level1": level1, "level2": level2}, why, **self._scope(target), apply=apply)

    def set_department(self, target: str | Rows, department: str, *, why: str = "") -> None:
        """Set the responsible body (承办单位) of a cluster (and its opinions) or of some opinions."""
        if not department.strip():
            raise ReviewError("department cannot be empty")

        def apply(conn: Connection) -> None:
            self._update_opinions(conn, self._target_ids(conn, target), {"reviewed_department": department})
            if isinstance(target, str):
                self._set_review(conn, target, department=department)

        self._decide("set_department", {"target": self._target_arg(target), "department": department}, why, **self._scope(target), apply=apply)

    def mark(self, cluster: str, status: str, *, why: str = "") -> None:
        """Set where a cluster stands: 待核实, 已核实, 已转办, 已办结 or 不予处理."""
        if status not in STATUSES:
            raise ReviewError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        self._decide("mark", {"cluster": cluster, "status": status}, why, clusters=[cluster],
                     apply=lambda conn: conn.execute(db.clusters.update().where(db.clusters.c.id == cluster).values(status=status)))  # fmt: skip

    def undo(self, *, why: str = "") -> dict | None:
        """Undo the latest decision that is not undone yet (again to go further back); returns
        it, or ``None`` when there is nothing to undo. Opinions that later runs added stay."""
        d = db.decisions.c
        with self.store.transaction() as conn:
            row = conn.execute(sa.select(db.decisions).where(d.undone_at.is_(None)).order_by(d.id.desc()).limit(1)).mappings().first()
            if row is None:
                return None
            before = json.loads(row["before"])
            self._restore(conn, before)
            conn.execute(db.decisions.update().where(d.id == row["id"]).values(undone_at=_now(), undone_by=self.who + (f": {why}" if why else "")))
            self._redescribe(conn, list(before["clusters"]))
        return {**dict(row), "args": json.loads(row["args"])}

    # Moving decisions between machines -------------------------------------------------------

    def export_decisions(self, path: str | Path) -> int:
        """Write the decisions that are in force (not undone) to a JSON file; returns how many."""
        d = db.decisions.c
        with self.store._use() as conn:
            rows = conn.execute(sa.select(db.decisions).where(d.undone_at.is_(None)).order_by(d.id)).mappings().all()
        items = []
        for r in rows:
            before = json.loads(r["before"])
            items.append({k: r[k] for k in ("uid", "at", "who", "why", "action")} | {"args": json.loads(r["args"]), "anchors": before.get("anchors", {})})
        document = {"format": DECISIONS_FORMAT, "exported_at": _now(), "decisions": items}
        Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        return len(items)

    def import_decisions(self, path: str | Path) -> dict[str, list]:
        """Apply the decisions of an exported file that this state has not seen (by their uid),
        in order, keeping their who, when and why. Clusters are found by id, or through an
        opinion that was in them when the decision was made. Returns ``{"applied": [uids],
        "skipped": [(uid, reason)]}``."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ReviewError(f"cannot read decisions from {path}: {e}") from e
        if not isinstance(document, dict) or document.get("format") != DECISIONS_FORMAT:
            raise ReviewError(f"{path} is not a Minyi decisions file ({DECISIONS_FORMAT})")
        d = db.decisions.c
        with self.store._use() as conn:
            seen = set(conn.execute(sa.select(d.uid)).scalars())
        out: dict[str, list] = {"applied": [], "skipped": []}
        for item in document.get("decisions", []):
            if item["uid"] in seen:
                out["skipped"].append((item["uid"], "already in this state"))
                continue
            try:
                self._replay(item)
            except ReviewError as e:
                out["skipped"].append((item["uid"], str(e)))
            else:
                out["applied"].append(item["uid"])
        return out

    def _replay(self, item: dict) -> None:
        args, anchors = item["args"], item.get("anchors", {})
        with self.store.transaction() as conn:
            local = {cid: self._resolve_cluster(conn, cid, anchors.get(cid)) for cid in _cluster_args(item["action"], args)}
        cid = lambda name: local[args[name]]
        kw = {"why": item.get("why", "")}
        self._replaying = item
        try:
            match item["action"]:
                case "merge":
                    self.merge(local[args["clusters"][0]], *[local[c] for c in args["clusters"][1:]], **kw)
                case "split":
                    self.split(cid("cluster"), args["rows"], title=args.get("title"), **kw)
                case "move":
                    self.move(args["rows"], cid("cluster"), **kw)
                case "rename":
                    self.rename(cid("cluster"), args["title"], **kw)
                case "mark":
                    self.mark(cid("cluster"), args["status"], **kw)
                case "relabel":
                    self.relabel(_local_target(args["target"], local), args["level1"], args.get("level2", ""), **kw)
                case "set_department":
                    self.set_department(_local_target(args["target"], local), args["department"], **kw)
                case other:
                    raise ReviewError(f"unknown decision {other!r}")
        finally:
            self._replaying = None

    # Machinery -------------------------------------------------------------------------------

    _replaying: dict | None = None

    def _decide(self, action, args, why, *, apply, clusters=(), rows=None, created=None) -> None:
        """Run ``apply`` in one transaction, with the touched rows saved before and the decision
        logged."""
        with self.store.transaction() as conn:
            if rows is not None:
                found = self._opinion_clusters(conn, self._opinion_ids(conn, rows))
                clusters = [*clusters, *found.values()]
            clusters = list(dict.fromkeys(clusters))
            for cluster in clusters:
                self._cluster_row(cluster)
            keys = self._member_keys(conn, clusters)
            opinion_ids = self._cluster_opinions(conn, clusters)
            anchors = self._anchors(conn, clusters)
            before = {"clusters": self._cluster_images(conn, clusters), "members": self._member_images(conn, keys), "opinions": self._opinion_images(conn, opinion_ids)}
            apply(conn)
            for cluster, image in self._cluster_images(conn, clusters).items():
                before["clusters"][cluster].update(after_centroid=image["centroid"], after_size=image["size"])
            before["created"] = list(created or [])
            before["anchors"] = anchors
            touched = clusters + before["created"]
            replay = self._replaying or {}
            conn.execute(db.decisions.insert().values(
                uid=replay.get("uid") or str(uuid.uuid4()), at=replay.get("at") or _now(), who=replay.get("who") or self.who, why=why,
                action=action, args=json.dumps(args, ensure_ascii=False), before=json.dumps(before, ensure_ascii=False),
            ))  # fmt: skip
            self._redescribe(conn, touched)

    def _restore(self, conn: Connection, before: dict) -> None:
        c, m, o = db.clusters.c, db.members.c, db.opinions.c
        for cluster, image in before["clusters"].items():
            now = self._cluster_row(cluster, missing_ok=True)
            centroid = np.frombuffer(now.centroid, dtype=np.float32) + _vector(image["centroid"]) - _vector(image["after_centroid"])
            values = {k: image[k] for k in _CLUSTER_FIELDS if k != "size"}
            conn.execute(db.clusters.update().where(c.id == cluster).values(
                centroid=centroid.astype(np.float32).tobytes(), size=now.size + image["size"] - image["after_size"], updated_at=_now(), **values
            ))  # fmt: skip
        for key, cluster in before["members"].items():
            conn.execute(db.members.update().where(m.text_key == key).values(cluster_id=cluster))
        for opinion, image in before["opinions"].items():
            conn.execute(db.opinions.update().where(o.id == int(opinion)).values(**image))
        for cluster in before.get("created", []):
            still = conn.execute(sa.select(sa.func.count()).select_from(db.members).where(m.cluster_id == cluster)).scalar()
            still += conn.execute(sa.select(sa.func.count()).select_from(db.opinions).where(o.cluster_id == cluster)).scalar()
            if not still:
                conn.execute(db.clusters.delete().where(c.id == cluster))

    def _reassign(self, conn: Connection, ids: list[int], target: str) -> None:
        """Move opinions and their exact duplicates to ``target``, centroids and sizes following."""
        o, m = db.opinions.c, db.members.c
        self._cluster_row(target)
        rows = conn.execute(sa.select(o.id, o.text_key).where(o.id.in_(ids))).all()
        keys = sorted({r.text_key for r in rows if r.text_key})
        all_ids = set(ids)
        moved_places: set[str] = set()
        if keys:
            all_ids |= set(conn.execute(sa.select(o.id).where(o.text_key.in_(keys))).scalars())
            vectors = {}
            for r in conn.execute(sa.select(o.text_key, o.vector).where(o.text_key.in_(keys), o.vector.is_not(None))):
                vectors.setdefault(r.text_key, np.frombuffer(r.vector, dtype=np.float32))
            for r in conn.execute(sa.select(m.text_key, m.cluster_id).where(m.text_key.in_(keys))).all():
                if r.cluster_id == target:
                    continue
                vector = vectors.get(r.text_key)
                if vector is not None:
                    self._shift(conn, r.cluster_id, -vector, -1, set())
                    self._shift(conn, target, vector, 1, set())
                conn.execute(db.members.update().where(m.text_key == r.text_key).values(cluster_id=target))
        for r in conn.execute(sa.select(o.places).where(o.id.in_(sorted(all_ids)))):
            moved_places |= specific_places(r.places)
        self._shift(conn, target, None, 0, moved_places)
        self._update_opinions(conn, sorted(all_ids), {"cluster_id": target})

    def _shift(self, conn: Connection, cluster: str, vector: np.ndarray | None, size: int, places: set[str]) -> None:
        row = self._cluster_row(cluster)
        centroid = np.frombuffer(row.centroid, dtype=np.float32)
        if vector is not None:
            centroid = centroid + vector
        conn.execute(db.clusters.update().where(db.clusters.c.id == cluster).values(
            centroid=np.asarray(centroid, dtype=np.float32).tobytes(), size=max(row.size + size, 0),
            places=json.dumps(sorted(set(json.loads(row.places)) | places), ensure_ascii=False), updated_at=_now(),
        ))  # fmt: skip

    def _set_review(self, conn: Connection, cluster: str, **fields) -> None:
        row = self._cluster_row(cluster)
        review = {**json.loads(row.review or "{}"), **fields}
        conn.execute(db.clusters.update().where(db.clusters.c.id == cluster).values(review=json.dumps(review, ensure_ascii=False)))

    def _redescribe(self, conn: Connection, clusters: Iterable[str]) -> None:
        """Describe the touched clusters again from their stored opinions."""
        alive = [c for c in dict.fromkeys(clusters) if (row := self._cluster_row(c, missing_ok=True)) is not None and row.merged_into is None]
        members, vectors, words = self.store.members(alive)
        if not members.empty:
            self.store.describe(summarize_clusters(members, words, vectors, self._scorer))

    def _update_opinions(self, conn: Connection, ids: list[int], values: dict) -> None:
        for start in range(0, len(ids), 500):
            conn.execute(db.opinions.update().where(db.opinions.c.id.in_(ids[start : start + 500])).values(**values))

    def _cluster_row(self, cluster: str, *, missing_ok: bool = False):
        with self.store._use() as use:  # inside a decision: the decision's transaction
            row = use.execute(sa.select(db.clusters).where(db.clusters.c.id == cluster)).first()
        if row is None and not missing_ok:
            raise ReviewError(f"no cluster {cluster!r}")
        if row is not None and row.merged_into and not missing_ok:
            raise ReviewError(f"cluster {cluster!r} was merged into {row.merged_into!r}")
        return row

    def _opinion_ids(self, conn: Connection, rows: Rows) -> list[int]:
        """Stored numbers of opinions named by number, external id or key."""
        if isinstance(rows, (str, int)):
            rows = [rows]
        o = db.opinions.c
        numbers = [int(r) for r in rows if isinstance(r, (int, np.integer))]
        names = [str(r) for r in rows if not isinstance(r, (int, np.integer))]
        found: dict[object, int] = {}
        if numbers:
            found.update({r: r for r in conn.execute(sa.select(o.id).where(o.id.in_(numbers))).scalars()})
        if names:
            for r in conn.execute(sa.select(o.id, o.key, o.external_id).where(sa.or_(o.key.in_(names), o.external_id.in_(names)))):
                found[r.key] = r.id
                if r.external_id:
                    found[r.external_id] = r.id
        missing = [r for r in [*numbers, *names] if r not in found]
        if missing:
            raise ReviewError(f"no stored opinion {', '.join(map(str, missing[:5]))}{' …' if len(missing) > 5 else ''}")
        if not found:
            raise ReviewError("no opinions given")
        return sorted({found[r] for r in [*numbers, *names]})

    def _keys(self, rows: Rows) -> list[str]:
        """Store keys of opinions (what decisions record, so that they replay on another machine)."""
        if self._replaying is not None:
            return list(rows)
        with self.store._use() as conn:
            ids = self._opinion_ids(conn, rows)
            return list(conn.execute(sa.select(db.opinions.c.key).where(db.opinions.c.id.in_(ids)).order_by(db.opinions.c.id)).scalars())

    def _target_arg(self, target: str | Rows):
        return target if isinstance(target, str) else {"rows": self._keys(target)}

    def _target_ids(self, conn: Connection, target: str | Rows) -> list[int]:
        return self._cluster_opinions(conn, [target]) if isinstance(target, str) else self._opinion_ids(conn, target)

    def _scope(self, target: str | Rows) -> dict:
        return {"clusters": [target]} if isinstance(target, str) else {"rows": target}

    def _opinion_clusters(self, conn: Connection, ids: list[int]) -> dict[int, str]:
        o = db.opinions.c
        return dict(conn.execute(sa.select(o.id, o.cluster_id).where(o.id.in_(ids))).all())

    def _cluster_opinions(self, conn: Connection, clusters: list[str]) -> list[int]:
        o = db.opinions.c
        return list(conn.execute(sa.select(o.id).where(o.cluster_id.in_(clusters)).order_by(o.id)).scalars())

    def _member_keys(self, conn: Connection, clusters: list[str]) -> list[str]:
        m = db.members.c
        return list(conn.execute(sa.select(m.text_key).where(m.cluster_id.in_(clusters))).scalars())

    def _anchors(self, conn: Connection, clusters: list[str]) -> dict[str, str]:
        """One opinion key per cluster, to find the cluster again on another machine."""
        o = db.opinions.c
        out = {}
        for cluster in clusters:
            key = conn.execute(sa.select(o.key).where(o.cluster_id == cluster).order_by(o.id).limit(1)).scalar()
            if key:
                out[cluster] = key
        return out

    def _resolve_cluster(self, conn: Connection, cluster: str, anchor: str | None) -> str:
        o = db.opinions.c
        row = self._cluster_row(cluster, missing_ok=True)
        held = conn.execute(sa.select(o.cluster_id).where(o.key == anchor)).scalar() if anchor else None
        if row is not None and row.merged_into is None and (held is None or held == cluster):
            return cluster
        if held:
            return held
        raise ReviewError(f"cluster {cluster!r} is not in this state")

    def _cluster_images(self, conn: Connection, clusters: list[str]) -> dict[str, dict]:
        c = db.clusters.c
        rows = conn.execute(sa.select(c.id, c.centroid, *(c[k] for k in _CLUSTER_FIELDS)).where(c.id.in_(clusters))).mappings().all()
        return {r["id"]: {"centroid": base64.b64encode(r["centroid"]).decode(), **{k: r[k] for k in _CLUSTER_FIELDS}} for r in rows}

    def _member_images(self, conn: Connection, keys: list[str]) -> dict[str, str]:
        m = db.members.c
        out = {}
        for start in range(0, len(keys), 500):
            out.update(conn.execute(sa.select(m.text_key, m.cluster_id).where(m.text_key.in_(keys[start : start + 500]))).all())
        return out

    def _opinion_images(self, conn: Connection, ids: list[int]) -> dict[str, dict]:
        o = db.opinions.c
        out = {}
        for start in range(0, len(ids), 500):
            for r in conn.execute(sa.select(o.id, *(o[k] for k in _OPINION_FIELDS)).where(o.id.in_(ids[start : start + 500]))).mappings():
                out[str(r["id"])] = {k: r[k] for k in _OPINION_FIELDS}
        return out

    def _department(self, level1: str, level2: str) -> str:
        if self._taxonomy is None:
            self._taxonomy = Taxonomy.load(self._taxonomy_path)
        try:
            return self._taxonomy.department(level1, level2)
        except (KeyError, ValueError):
            return ""

    def _last_config(self) -> dict:
        with self.store._use() as conn:
            text = conn.execute(sa.select(db.runs.c.config).order_by(db.runs.c.id.desc()).limit(1)).scalar()
        return json.loads(text) if text else {}

    def __repr__(self) -> str:
        return f"Review({self.store!r}, who={self.who!r})"


def _vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def _html(value) -> str:
    import html

    return html.escape(str(value))


def _cluster_args(action: str, args: dict) -> list[str]:
    if action == "merge":
        return list(args["clusters"])
    if action in ("relabel", "set_department"):
        return [args["target"]] if isinstance(args["target"], str) else []
    return [args["cluster"]]


def _local_target(target, local: dict[str, str]):
    return local[target] if isinstance(target, str) else target["rows"]

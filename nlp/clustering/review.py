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

Every decision is a command (:mod:`nlp.clustering.commands`) applied to the
:class:`~nlp.clustering.store.ClusterStore` in one transaction, and logged there with who, when,
why, its arguments and the rows as they were (:mod:`nlp.clustering.decisions`), so that
:meth:`Review.undo` can put them back.
Decisions live in the state itself: the next ``minyi score --state`` keeps merged clusters merged
(their members stay, the merged-away cluster takes no new opinions), split ones split, titles,
labels, departments and statuses, and new opinions join reviewed clusters by their centroids as
before.

Opinions are named by their stored number (the ``opinion`` column of :meth:`Review.opinions`),
their external id or their store key. Exact duplicates (one membership key) move together.
"""

from __future__ import annotations

import getpass
import html
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pandas as pd

from nlp.classify.taxonomy import Taxonomy
from nlp.clustering.commands import (
    KINDS,
    Decision,
    Mark,
    Merge,
    Move,
    Relabel,
    Rename,
    Rows,
    SetDepartment,
    Split,
    opinion_ids,
)
from nlp.clustering.describe import STATUSES, summarize_clusters
from nlp.clustering.store import ClusterFilter, ClusterStore
from nlp.core.errors import ReviewError
from nlp.core.ids import now, parse_weekly_counts
from nlp.summarize import ClusterScorer
from nlp.summarize.draft import Draft, ExtractiveDrafter

__all__ = ["DECISIONS_FORMAT", "STATUSES", "ClusterView", "Review"]

DECISIONS_FORMAT = "minyi-decisions/1"


@dataclass
class ClusterView:
    """One cluster for a reviewer: its description, members, weekly trend and a draft."""

    record: dict
    members: pd.DataFrame
    draft: Draft | None

    @property
    def trend(self) -> pd.Series:
        """Opinions per ISO week."""
        weekly = parse_weekly_counts(self.record.get("weekly_counts", ""))
        return pd.Series(weekly, dtype="int64", name="opinions")

    def html(self, chart: str = "") -> str:
        """The cluster as HTML: its description, then ``chart`` (of :attr:`trend`, drawn by the
        caller, as the review panel's ``cluster_html`` does), then its first 20 members."""
        r = self.record
        classes = f"{_html(r.get('level1', ''))}/{_html(r.get('level2', ''))}"
        facts = (
            f"{classes} · {_html(r.get('department', ''))} · 状态 {_html(r.get('status', ''))} · "
            f"规模 {r.get('size', 0)} · 热度 {r.get('heat', '')} · "
            f"关键词 {_html(r.get('keywords', ''))}"
        )
        head = f"<h3>{_html(r['cluster'])} · {_html(r.get('title', ''))}</h3><p>{facts}</p>"
        shown = self.members[["opinion", "id", "time", "level1", "level2", "text"]].head(20)
        return head + chart + shown.to_html(index=False)

    def _repr_html_(self) -> str:
        return self.html()


class Review:
    """Review decisions on a cluster state.

    Args:
        state: A state folder, a ``.sqlite`` file, a database URL or a :class:`ClusterStore`.
        who: Who makes the decisions (stored with each); the login name when ``None``.
        taxonomy: Where relabelled classes find their responsible body; the default taxonomy,
            or the one the state's last run used, when ``None``.
    """

    def __init__(
        self,
        state: str | Path | ClusterStore,
        *,
        who: str | None = None,
        taxonomy: str | Path | None = None,
    ):
        self.store = state if isinstance(state, ClusterStore) else ClusterStore(state)
        self.who = who or getpass.getuser()
        config = self.store.last_config()
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
        """Clusters hottest first, as rows of ``clusters.csv`` with ``status``; ``where`` takes
        the fields of :class:`~nlp.clustering.store.ClusterFilter` (``level1``, ``status``,
        ``min_size``, …)."""
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
        drafted = draft and described is not None
        written = ExtractiveDrafter().draft(described, members) if drafted else None
        return ClusterView(record, members, written)

    def decisions(self) -> pd.DataFrame:
        """Every decision, oldest first, with who, when, why and whether it was undone."""
        columns = ["id", "uid", "at", "who", "why", "action", "args", "undone_at", "undone_by"]
        frame = pd.DataFrame(self.store.decisions.entries(), columns=columns)
        frame["args"] = [json.loads(a) for a in frame["args"]]
        return frame

    # Deciding -------------------------------------------------------------------------------

    def merge(self, into: str, *others: str, why: str = "") -> str:
        """Merge ``others`` into ``into``: their opinions move, and new opinions like any of them
        join ``into``."""
        self._decide(Merge(into, others), why=why)
        return into

    def split(self, cluster: str, rows: Rows, *, title: str | None = None, why: str = "") -> str:
        """Move ``rows`` of ``cluster`` into a new cluster; returns its id."""
        return self._decide(Split(cluster, self._keys(rows), title), why=why)[0]

    def move(self, rows: Rows, cluster: str, *, why: str = "") -> None:
        """Move opinions (and their exact duplicates) into ``cluster``."""
        self._decide(Move(self._keys(rows), cluster), why=why)

    def rename(self, cluster: str, title: str, *, why: str = "") -> None:
        """Give a cluster a title that later runs keep."""
        self._decide(Rename(cluster, title), why=why)

    def relabel(self, target: str | Rows, level1: str, level2: str = "", *, why: str = "") -> None:
        """Set the classes of a cluster (and all its opinions) or of some opinions. The
        responsible body follows the new class, unless one was set by :meth:`set_department`."""
        department = self._department(level1, level2) if level1.strip() else ""
        self._decide(Relabel(self._target(target), level1, level2, department), why=why)

    def set_department(self, target: str | Rows, department: str, *, why: str = "") -> None:
        """Set the responsible body (承办单位) of a cluster (and its opinions) or of some
        opinions."""
        self._decide(SetDepartment(self._target(target), department), why=why)

    def mark(self, cluster: str, status: str, *, why: str = "") -> None:
        """Set where a cluster stands: 待核实, 已核实, 已转办, 已办结 or 不予处理."""
        self._decide(Mark(cluster, status), why=why)

    def _decide(self, decision: Decision, *, why: str, origin: Mapping | None = None) -> list[str]:
        """Apply a decision in one transaction and log it with the rows it changed as they
        were; returns the clusters it created. ``origin`` (an exported decision) gives its uid,
        time and who, kept when decisions move between machines."""
        store, origin = self.store, origin or {}
        with store.transaction():
            clusters = decision.clusters()
            if decision.rows() is not None:
                ids = opinion_ids(store, decision.rows())
                clusters += store.opinion_clusters(ids).values()
            clusters = list(dict.fromkeys(clusters))
            for cluster in clusters:
                self._cluster_row(cluster)
            before = store.decisions.snapshot(clusters)
            created = decision.apply(store)
            store.decisions.record(
                before,
                created=created,
                uid=origin.get("uid") or str(uuid.uuid4()),
                at=origin.get("at") or now(),
                who=origin.get("who") or self.who,
                why=why,
                action=decision.action,
                args=json.dumps(decision.args(), ensure_ascii=False),
            )
            self._redescribe([*clusters, *created])
        return created

    def undo(self, *, why: str = "") -> dict | None:
        """Undo the latest decision that is not undone yet (again to go further back); returns
        it, or ``None`` when there is nothing to undo. Opinions that later runs added stay."""
        store = self.store
        with store.transaction():
            entry = store.decisions.latest()
            if entry is None:
                return None
            before = json.loads(entry["before"])
            KINDS.get(entry["action"], Decision).undo(store, before)
            by = self.who + (f": {why}" if why else "")
            store.decisions.set_undone(entry["id"], by, now())
            self._redescribe(list(before["clusters"]))
        return {**entry, "args": json.loads(entry["args"])}

    # Moving decisions between machines -------------------------------------------------------

    def export_decisions(self, path: str | Path) -> int:
        """Write the decisions that are in force (not undone) to a JSON file; returns how many."""
        items = []
        for r in self.store.decisions.entries(in_force=True):
            anchors = json.loads(r["before"]).get("anchors", {})
            item = {k: r[k] for k in ("uid", "at", "who", "why", "action")}
            items.append(item | {"args": json.loads(r["args"]), "anchors": anchors})
        document = {"format": DECISIONS_FORMAT, "exported_at": now(), "decisions": items}
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
        seen = self.store.decisions.uids()
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
        """Decide an exported decision again here, its clusters found by id or anchor."""
        args, anchors = item["args"], item.get("anchors", {})
        with self.store.transaction():
            names = _cluster_args(item["action"], args)
            local = {c: self._resolve_cluster(c, anchors.get(c)) for c in names}
        cid = lambda name: local[args[name]]  # noqa: E731
        match item["action"]:
            case "merge":
                into, *others = (local[c] for c in args["clusters"])
                decision = Merge(into, tuple(others))
            case "split":
                decision = Split(cid("cluster"), tuple(args["rows"]), args.get("title"))
            case "move":
                decision = Move(tuple(args["rows"]), cid("cluster"))
            case "rename":
                decision = Rename(cid("cluster"), args["title"])
            case "mark":
                decision = Mark(cid("cluster"), args["status"])
            case "relabel":
                level1, level2 = args["level1"], args.get("level2", "")
                department = self._department(level1, level2) if level1.strip() else ""
                target = _local_target(args["target"], local)
                decision = Relabel(target, level1, level2, department)
            case "set_department":
                target = _local_target(args["target"], local)
                decision = SetDepartment(target, args["department"])
            case other:
                raise ReviewError(f"unknown decision {other!r}")
        self._decide(decision, why=item.get("why", ""), origin=item)

    # Machinery -------------------------------------------------------------------------------

    def _redescribe(self, clusters: Iterable[str]) -> None:
        """Describe the touched clusters again from their stored opinions."""
        alive = []
        for cluster in dict.fromkeys(clusters):
            row = self.store.cluster_row(cluster)
            if row is not None and row.merged_into is None:
                alive.append(cluster)
        members, vectors, words = self.store.members(alive)
        if not members.empty:
            self.store.describe(summarize_clusters(members, words, vectors, self._scorer))

    def _cluster_row(self, cluster: str):
        row = self.store.cluster_row(cluster)
        if row is None:
            raise ReviewError(f"no cluster {cluster!r}")
        if row.merged_into:
            raise ReviewError(f"cluster {cluster!r} was merged into {row.merged_into!r}")
        return row

    def _keys(self, rows: Rows) -> tuple[str, ...]:
        """Store keys of opinions (what decisions record, so that they replay elsewhere)."""
        return tuple(self.store.opinion_keys(opinion_ids(self.store, rows)))

    def _target(self, target: str | Rows) -> str | tuple[str, ...]:
        return target if isinstance(target, str) else self._keys(target)

    def _resolve_cluster(self, cluster: str, anchor: str | None) -> str:
        row = self.store.cluster_row(cluster)
        held = self.store.cluster_of(anchor) if anchor else None
        if row is not None and row.merged_into is None and (held is None or held == cluster):
            return cluster
        if held:
            return held
        raise ReviewError(f"cluster {cluster!r} is not in this state")

    def _department(self, level1: str, level2: str) -> str:
        if self._taxonomy is None:
            self._taxonomy = Taxonomy.load(self._taxonomy_path)
        try:
            return self._taxonomy.department(level1, level2)
        except (KeyError, ValueError):
            return ""

    def __repr__(self) -> str:
        return f"Review({self.store!r}, who={self.who!r})"


def _html(value) -> str:
    return html.escape(str(value))


def _cluster_args(action: str, args: dict) -> list[str]:
    if action == "merge":
        return list(args["clusters"])
    if action in ("relabel", "set_department"):
        return [args["target"]] if isinstance(args["target"], str) else []
    return [args["cluster"]]


def _local_target(target, local: dict[str, str]) -> str | tuple[str, ...]:
    return local[target] if isinstance(target, str) else tuple(target["rows"])

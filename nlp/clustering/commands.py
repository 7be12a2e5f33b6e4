"""The kinds of review decision, each a command over the
:class:`~nlp.clustering.store.ClusterStore`: :meth:`Decision.apply` makes the change, and
:meth:`Decision.undo` takes it back from the rows the log saved before it
(:mod:`nlp.clustering.decisions`). :class:`~nlp.clustering.review.Review` builds them, applies
them in a transaction and logs them.

A decision names opinions by their store keys, so that it means the same on another machine;
its :meth:`~Decision.args` are what the log and exported decisions hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from nlp.clustering.describe import STATUSES
from nlp.core.errors import ReviewError

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore

__all__ = [
    "KINDS",
    "Decision",
    "Mark",
    "Merge",
    "Move",
    "Relabel",
    "Rename",
    "SetDepartment",
    "Split",
    "opinion_ids",
]

Rows = Sequence[int | str]


@dataclass(frozen=True)
class Decision:
    """A review decision as a command over a :class:`~nlp.clustering.store.ClusterStore`.

    :meth:`apply` makes the change; :meth:`undo` takes it back from the rows saved before it.
    Opinions are named by their store keys, so that a decision means the same on another machine.
    """

    action: ClassVar[str]

    def args(self) -> dict:
        """The decision's arguments, as logged and exported."""
        raise NotImplementedError

    def clusters(self) -> list[str]:
        """The clusters it names (each must exist and not be merged away)."""
        return []

    def rows(self) -> list[str] | None:
        """The opinions it names, or ``None``; their clusters are touched too."""
        return None

    def apply(self, store: ClusterStore) -> list[str]:
        """Make the change; returns the clusters it created."""
        raise NotImplementedError

    @staticmethod
    def undo(store: ClusterStore, before: dict) -> None:
        """Take a decision back: its rows as they were before it, which are what every kind
        changes, with centroids and sizes moved back by the difference it made (so opinions
        that later runs added stay)."""
        store.decisions.restore(before)


@dataclass(frozen=True)
class Merge(Decision):
    """Merge ``others`` into ``into``: their members and opinions move, and each keeps its
    centroid as a face of ``into``."""

    into: str
    others: tuple[str, ...]
    action: ClassVar[str] = "merge"

    def __post_init__(self):
        if not self.others:
            raise ReviewError("merge needs at least two clusters")
        if self.into in self.others:
            raise ReviewError(f"cannot merge {self.into!r} into itself")

    def args(self) -> dict:
        return {"clusters": [self.into, *self.others]}

    def clusters(self) -> list[str]:
        return [self.into, *self.others]

    def apply(self, store: ClusterStore) -> list[str]:
        for other in self.others:
            store.merge_clusters(self.into, other)
        return []


@dataclass(frozen=True)
class Split(Decision):
    """Move opinions of ``cluster`` (by key) into a new cluster of the same period."""

    cluster: str
    keys: tuple[str, ...]
    title: str | None = None
    action: ClassVar[str] = "split"

    def args(self) -> dict:
        return {"cluster": self.cluster, "rows": list(self.keys), "title": self.title}

    def clusters(self) -> list[str]:
        return [self.cluster]

    def rows(self) -> list[str]:
        return list(self.keys)

    def apply(self, store: ClusterStore) -> list[str]:
        ids = opinion_ids(store, self.keys)
        outside = [i for i, c in store.opinion_clusters(ids).items() if c != self.cluster]
        if outside:
            raise ReviewError(f"opinions {outside} are not in cluster {self.cluster!r}")
        new = store.new_cluster(self.cluster, review={"title": self.title} if self.title else {})
        store.move_members(ids, new)
        return [new]


@dataclass(frozen=True)
class Move(Decision):
    """Move opinions (by key) and their exact duplicates into ``cluster``."""

    keys: tuple[str, ...]
    cluster: str
    action: ClassVar[str] = "move"

    def args(self) -> dict:
        return {"rows": list(self.keys), "cluster": self.cluster}

    def clusters(self) -> list[str]:
        return [self.cluster]

    def rows(self) -> list[str]:
        return list(self.keys)

    def apply(self, store: ClusterStore) -> list[str]:
        store.move_members(opinion_ids(store, self.keys), self.cluster)
        return []


@dataclass(frozen=True)
class Rename(Decision):
    """Give a cluster a title that later runs keep."""

    cluster: str
    title: str
    action: ClassVar[str] = "rename"

    def __post_init__(self):
        if not self.title.strip():
            raise ReviewError("a title cannot be empty")

    def args(self) -> dict:
        return {"cluster": self.cluster, "title": self.title}

    def clusters(self) -> list[str]:
        return [self.cluster]

    def apply(self, store: ClusterStore) -> list[str]:
        store.set_review(self.cluster, title=self.title.strip())
        return []


@dataclass(frozen=True)
class _Targeted(Decision):
    """A decision on a cluster (and all its opinions) or on some opinions (their keys)."""

    target: str | tuple[str, ...]

    def _target_args(self) -> dict:
        return {"target": self.target if self._on_cluster else {"rows": list(self.target)}}

    @property
    def _on_cluster(self) -> bool:
        return isinstance(self.target, str)

    def clusters(self) -> list[str]:
        return [self.target] if self._on_cluster else []

    def rows(self) -> list[str] | None:
        return None if self._on_cluster else list(self.target)

    def _opinions(self, store: ClusterStore) -> list[int]:
        if self._on_cluster:
            return store.cluster_opinions([self.target])
        return opinion_ids(store, self.target)


@dataclass(frozen=True)
class Relabel(_Targeted):
    """Set the classes of a cluster (and its opinions) or of some opinions, and the body the
    taxonomy gives the new class."""

    level1: str
    level2: str = ""
    department: str = ""  # the body the taxonomy gives the new class; none when it has none
    action: ClassVar[str] = "relabel"

    def __post_init__(self):
        if not self.level1.strip():
            raise ReviewError("level1 cannot be empty")

    def args(self) -> dict:
        return {**self._target_args(), "level1": self.level1, "level2": self.level2}

    def apply(self, store: ClusterStore) -> list[str]:
        labels = {"level1": self.level1, "level2": self.level2}
        if self.department:
            labels["department"] = self.department
        store.label_opinions(self._opinions(store), **labels)
        if self._on_cluster:
            store.set_review(self.target, **labels)
        return []


@dataclass(frozen=True)
class SetDepartment(_Targeted):
    """Set the responsible body of a cluster (and its opinions) or of some opinions."""

    department: str
    action: ClassVar[str] = "set_department"

    def __post_init__(self):
        if not self.department.strip():
            raise ReviewError("department cannot be empty")

    def args(self) -> dict:
        return {**self._target_args(), "department": self.department}

    def apply(self, store: ClusterStore) -> list[str]:
        store.label_opinions(self._opinions(store), department=self.department)
        if self._on_cluster:
            store.set_review(self.target, department=self.department)
        return []


@dataclass(frozen=True)
class Mark(Decision):
    """Set where a cluster stands (one of :data:`~nlp.clustering.describe.STATUSES`)."""

    cluster: str
    status: str
    action: ClassVar[str] = "mark"

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ReviewError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")

    def args(self) -> dict:
        return {"cluster": self.cluster, "status": self.status}

    def clusters(self) -> list[str]:
        return [self.cluster]

    def apply(self, store: ClusterStore) -> list[str]:
        store.set_status(self.cluster, self.status)
        return []


KINDS: dict[str, type[Decision]] = {
    kind.action: kind for kind in (Merge, Split, Move, Rename, Relabel, SetDepartment, Mark)
}


def opinion_ids(store: ClusterStore, rows: Rows) -> list[int]:
    """Stored numbers of opinions named by number, external id or key."""
    if isinstance(rows, (str, int)):
        rows = [rows]
    numbers = [int(r) for r in rows if isinstance(r, (int, np.integer))]
    names = [str(r) for r in rows if not isinstance(r, (int, np.integer))]
    found = store.find_opinions(numbers, names)
    missing = [r for r in [*numbers, *names] if r not in found]
    if missing:
        more = " …" if len(missing) > 5 else ""
        raise ReviewError(f"no stored opinion {', '.join(map(str, missing[:5]))}{more}")
    if not found:
        raise ReviewError("no opinions given")
    return sorted({found[r] for r in [*numbers, *names]})

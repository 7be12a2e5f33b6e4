"""Draft suggestions for the chosen clusters, in this process or on an engine's workers."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from nlp.clustering.describe import hottest_first
from nlp.summarize.draft import Draft, Drafter, ExtractiveDrafter, select_clusters

if TYPE_CHECKING:
    from nlp.core.engines import Engine

__all__ = [
    "DRAFTS_PER_COLLECTION",
    "DRAFTS_PER_TASK",
    "PARALLEL_DRAFTS",
    "agree_with_drafts",
    "draft_clusters",
]

DRAFTS_PER_COLLECTION = 100  # drafts between two collections of their garbage
PARALLEL_DRAFTS = 200  # drafts from which an engine's workers draft
DRAFTS_PER_TASK = 32  # clusters sent to a worker at a time


def draft_clusters(
    opinions: pd.DataFrame,
    clusters: pd.DataFrame,
    selection: str,
    drafter: Drafter | None = None,
    engine: Engine | None = None,
) -> list[Draft]:
    """Draft suggestions for the clusters picked by ``selection`` (see
    :func:`nlp.summarize.draft.select_clusters`), by ``drafter`` (the offline extractive
    drafter when ``None``).

    With an ``engine``, from ``PARALLEL_DRAFTS`` drafts on, the built-in drafter runs on its
    workers, ``DRAFTS_PER_TASK`` clusters a task: a large export makes thousands of drafts,
    minutes in one process. The drafts are the same.
    """
    chosen = select_clusters(clusters, opinions, selection)
    if not chosen:
        return []
    drafter = drafter or ExtractiveDrafter()
    table = clusters.set_index("cluster", drop=False)
    # Grouped as it is: the scored rows alone would be a copy of the whole table first.
    members = opinions.groupby("cluster", sort=False)

    def scored(c: str) -> pd.DataFrame:
        group = members.get_group(c)
        return group[group["status"] == "ok"]

    # Each draft leaves garbage that only the collector frees: the vocabulary of its
    # sentences' TF-IDF, a dict that refers to itself (scikit-learn's CountVectorizer). Beside
    # a whole run's millions of objects a full collection is rare and slow. The run's objects
    # are set aside (frozen) while drafting, and the drafts' garbage is collected as it goes.
    gc.freeze()
    try:
        parallel = engine is not None and type(drafter) is ExtractiveDrafter
        if parallel and len(chosen) >= PARALLEL_DRAFTS:
            drafts = _draft_on_workers(engine, drafter, chosen, table, scored)
        else:
            drafts = []
            for k, c in enumerate(chosen, 1):
                drafts.append(drafter.draft(table.loc[c], scored(c)))
                if k % DRAFTS_PER_COLLECTION == 0:
                    gc.collect()
        gc.collect()  # the last drafts' garbage, while the run's objects are still set aside
    finally:
        gc.unfreeze()
    return drafts


def draft_many(drafter: Drafter, jobs: Sequence[tuple[pd.Series, pd.DataFrame]]) -> list[Draft]:
    """Drafts of clusters given as (row of the clusters table, the columns of its scored rows
    that the drafter reads): what an engine's worker runs for :func:`draft_clusters`."""
    return [drafter.draft(cluster, members) for cluster, members in jobs]


# What the built-in drafter reads of a cluster's rows: a worker is sent these columns only.
DRAFTED_COLUMNS = ("id", "text", "place")


def _draft_on_workers(engine, drafter, chosen, table, scored) -> list[Draft]:
    """The drafts of ``chosen`` made on ``engine``'s workers, ``DRAFTS_PER_TASK`` a task."""
    # A worker gets what the drafter reads: the cluster's row, and its scored rows' ids, texts
    # and the places they were recorded at (where the export has them).
    sent: deque[list[list[str]]] = deque()  # the ids of each task on its way

    def task(part: Sequence[str]) -> tuple:
        jobs = []
        for c in part:
            rows = scored(c)
            jobs.append((table.loc[c], rows[[k for k in DRAFTED_COLUMNS if k in rows]]))
        sent.append([[str(i) for i in members["id"]] for _, members in jobs])
        return drafter, jobs

    drafts: list[Draft] = []
    parts = (chosen[lo : lo + DRAFTS_PER_TASK] for lo in range(0, len(chosen), DRAFTS_PER_TASK))
    for done in engine.starmap(draft_many, (task(part) for part in parts)):
        for draft, ids in zip(done, sent.popleft()):
            # A worker's draft lists copies of its cluster's ids; the table's own strings are
            # kept instead, as a draft made here does (a large run's drafts list most of them).
            if draft.sources == ids:
                draft.sources = ids
            if draft.sections.get("附") == ids:
                draft.sections["附"] = ids
        drafts += done
    return drafts


def agree_with_drafts(clusters: pd.DataFrame, drafts: Sequence[Draft]) -> pd.DataFrame:
    """The clusters table with each drafted cluster's places, 广泛性 and heat as its draft's
    fact sheet states them, so that clusters.csv, the report and the draft give one set of
    facts: a draft counts the places its opinions are about (a named site, estate or village,
    spots naming one thing taken as one), which the table's first description reads only from
    the words tagged as places. Hottest first again."""
    by_cluster = {d.cluster: d for d in drafts if "breadth" in d.scores}
    if not by_cluster:
        return clusters
    out = clusters.copy()
    at = out["cluster"].map(by_cluster)
    drafted = at.notna()
    chosen = at[drafted]
    out.loc[drafted, "places"] = [
        " ".join(str(place) for place, _ in d.facts.get("places", [])[:5]) for d in chosen
    ]
    for name in ("breadth", "breadth_why", "heat"):
        if name in out.columns:
            out.loc[drafted, name] = [
                d.scores.get(name, out.at[i, name]) for i, d in chosen.items()
            ]
    return hottest_first(out)

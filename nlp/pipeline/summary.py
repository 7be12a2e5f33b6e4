"""The summary of a run: input facts, counts per status and class, duplicates, personal data
masked, seconds per stage, clusters and drafts, and the config it ran with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nlp.core.version import __version__

if TYPE_CHECKING:
    from collections import Counter

    import pandas as pd

    from nlp.io.columns import Columns
    from nlp.io.readers import InputTable

__all__ = ["summarize_run"]


def summarize_run(
    table: InputTable,
    columns: Columns,
    opinions: pd.DataFrame,
    clusters: pd.DataFrame,
    *,
    timings: dict[str, float],
    wall: dict[str, float],
    pii: Counter,
    distinct: int,
    drafts: int,
    config: dict,
    taxonomy: str,
    classifier: dict | None = None,
) -> dict:
    """The summary of a run.

    Args:
        table, columns: The input, and which column played which role.
        opinions, clusters: The opinions and clusters tables.
        timings: Seconds per stage; with worker processes the per-row stages' seconds add up
            the workers' seconds.
        wall: Seconds that passed per step, and in all.
        pii: Personal data masked, by kind.
        distinct: Rows that went through the per-row stages (repeats once).
        drafts: Drafts made.
        config: The config the run used; ``taxonomy``: the class tree's version.
        classifier: Which model classified (``model``, in words), as the config named it
            (``config``), and how many rows of the input it learnt from
            (``self_trained_on_rows``).
    """
    n = len(opinions)
    # The two columns counted, not a copy of the table.
    ok = opinions.loc[opinions["status"] == "ok", ["level1", "level2"]]
    dup = opinions["duplicate_of"].dropna()
    level2 = ok.groupby(["level1", "level2"]).size().sort_values(ascending=False).head(30)
    several = clusters["size"] >= 2 if len(clusters) else None
    return {
        "minyi_version": __version__,
        "input": {
            "source": table.source,
            "format": table.format,
            "encoding": table.encoding,
            "sheet": table.sheet,
            "rows": n,
            "columns": columns.as_dict(),
            "notes": table.notes,
        },
        "status": {s: int((opinions["status"] == s).sum()) for s in ("ok", "empty", "error")},
        "classifier": classifier or {},
        "level1": {k: int(v) for k, v in ok["level1"].value_counts().items()},
        "level2": {f"{l1}/{l2}": int(c) for (l1, l2), c in level2.items()},
        "duplicates": {"rows": int(len(dup)), "groups": int(dup.nunique())},
        "pii_masked": dict(pii),
        "timings": {
            stage: {
                "seconds": round(sec, 3),
                "rows_per_second": round(n / sec, 1) if sec > 0 else None,
            }
            for stage, sec in timings.items()
        },
        "config": config,
        "taxonomy": taxonomy,
        "wall_seconds": {step: round(sec, 3) for step, sec in wall.items()},
        "per_row_stages_rows": distinct,
        "drafts": drafts,
        "clusters": {
            "count": int(len(clusters)),
            "with_2_or_more": int(several.sum()) if several is not None else 0,
            "rows_in_clusters_of_2_or_more": (
                int(clusters.loc[several, "size"].sum()) if several is not None else 0
            ),
        },
    }

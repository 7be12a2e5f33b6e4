"""The input table's cells as the pipeline reads them: a column as text, times, likes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["column", "number", "parse_times", "period"]


def column(
    frame: pd.DataFrame, name: str | None, n: int = 0, rows: Sequence[int] | None = None
) -> list[str]:
    """The cells of column ``name`` as text (of ``rows`` only, when given); ``n`` empty strings
    (or one per row) when there is no such column."""
    if not name:
        return [""] * (n if rows is None else len(rows))
    values = frame[name] if rows is None else frame[name].iloc[list(rows)]
    return [str(v) for v in values.tolist()]


def number(value: str) -> float:
    """A count such as likes: ``0.0`` where the cell is not a number or is negative."""
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 0.0


def parse_times(values: list[str]) -> pd.Series:
    """Times as timestamps (NaT where a value is not a time)."""
    return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed")


def period(parsed: pd.Series) -> str:
    """``2024Q3``: the quarter of the latest time in the input, else of today."""
    latest = parsed.max() if parsed.notna().any() else pd.Timestamp.now()
    return f"{latest.year}Q{latest.quarter}"

"""The opinions table: the stages' results written onto one DataFrame, one row per input row.

The stages know nothing of it (predict apart from annotate): they return plain lists, and
:func:`annotate` makes the table from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from nlp.pipeline.cells import column

if TYPE_CHECKING:
    from nlp.io.columns import Columns
    from nlp.pipeline.rows import RowClasses
    from nlp.text.pii import PiiMasker

__all__ = ["OUTPUT_COLUMNS", "RowResults", "annotate", "apply_reviewed_labels"]

OUTPUT_COLUMNS = tuple(
    "row id status error text level1 level2 confidence department keywords duplicate_of "
    "near_duplicate_of cluster places title time source place user likes note alternatives "
    "labels".split()
)
# Columns whose strings are made anew for each row: kept in pandas' own string storage, not as
# Python strings (see _strings).
_MADE_PER_ROW = ("places", "time")
_CHINESE = re.compile(r"[\u4e00-\u9fff]{2}")


@dataclass
class RowResults:
    """What the stages found for every row, as the table writes it.

    ``classes`` holds the distinct rows' classes; ``source[i]`` is row ``i``'s distinct row.
    The other lists have one value per row.
    """

    status: list[str]
    error: list[str]
    note: list[str]
    text: list[str]
    titles: list[str]
    times: list[str]
    places: list[Sequence[str]]
    classes: RowClasses
    source: list[int]
    duplicate_of: list[int | None]
    near_of: list[int | None]
    cluster: list[str]


def annotate(
    frame: pd.DataFrame,
    columns: Columns,
    rows: RowResults,
    department: Callable[[str, str, str], str],
    masker: PiiMasker | None,
    pseudonym: Callable[[str], str] | None = None,
) -> pd.DataFrame:
    """The opinions table: :data:`OUTPUT_COLUMNS` first, then the input's other columns.

    Args:
        frame: The input (its text column is read only when ``masker`` is ``None``).
        columns: Which input column plays which role.
        rows: The stages' results.
        department: ``(level1, level2, places)`` → the responsible body.
        masker: Masks the input's other columns (phones, ID numbers, e-mail, cards in every
            one; names too in those with Chinese text: the source and the input's other
            columns); ``None``: masking is off, and the input's own text is exported as
            ``original``.
        pseudonym: With a masker, what the user column becomes: the same person, the same
            stand-in (see :func:`nlp.core.secrets.pseudonym`).
    """
    n = len(rows.status)
    c, source = rows.classes, rows.source
    given_place = column(frame, columns.place, n)
    places = rows.places
    # Made and added one column at a time. Columns whose strings are shared (a distinct row's
    # text and classes by its repeats, the input's cells) keep those strings as they are;
    # strings made here for each row (places, times) go into the table's compact storage, so
    # that only one column's worth of them is alive at once.
    made: dict[str, Callable[[], object]] = {
        "row": lambda: range(n),
        "id": lambda: column(frame, columns.id, n) if columns.id else [str(i) for i in range(n)],
        "status": lambda: rows.status,
        "error": lambda: rows.error,
        "text": lambda: rows.text,
        "level1": lambda: [c.level1[d] for d in source],
        "level2": lambda: [c.level2[d] for d in source],
        "confidence": lambda: [round(c.confidence[d], 4) if c.level1[d] else None for d in source],
        "department": lambda: [
            department(c.level1[d], c.level2[d], " ".join([given_place[i], *places[i]]))
            for i, d in enumerate(source)
        ],
        "keywords": lambda: [c.keywords[d] for d in source],
        "duplicate_of": lambda: pd.array(rows.duplicate_of, dtype="Int64"),
        "near_duplicate_of": lambda: pd.array(rows.near_of, dtype="Int64"),
        "cluster": lambda: rows.cluster,
        "places": lambda: [
            " ".join(_merge([given_place[i]] if given_place[i] else [], places[i]))
            for i in range(n)
        ],
        "title": lambda: rows.titles,
        "time": lambda: rows.times,
        "source": lambda: column(frame, columns.source, n),
        "place": lambda: given_place,
        "user": lambda: column(frame, columns.user, n),
        "likes": lambda: column(frame, columns.likes, n),
        "note": lambda: rows.note,
        "alternatives": lambda: [c.alternatives[d] for d in source],
        "labels": lambda: [c.labels[d] for d in source],
    }
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for name, make in made.items():
        values = make()
        shared = isinstance(values, list) and name not in ("confidence", *_MADE_PER_ROW)
        out[name] = _strings(values) if shared else values
    out["confidence"] = out["confidence"].astype("Float64")
    if masker is None:  # the input's own text is exported only when masking is off
        out["original"] = _strings(column(frame, columns.text, n))
    for col in ("id", "source", "place", "user", "places"):
        if col == "user" and masker is not None and pseudonym is not None:
            masked = _each_distinct(out[col], pseudonym)
        else:
            masked = _mask_column(out[col], masker, names=col == "source")
        out[col] = masked if col in _MADE_PER_ROW else _strings(masked)
    # Other input columns follow ours, masked the same way (a note names people as freely as
    # the text); a clashing name gets a prefix.
    for name in frame.columns:
        if name in columns.used():
            continue
        target = f"input_{name}" if name in out.columns else name
        out[target] = _strings(_mask_column(frame[name], masker, names=True))
    return out


def apply_reviewed_labels(
    opinions: pd.DataFrame, ok: Sequence[int], keys: Sequence[str], stored: Mapping[str, dict]
) -> None:
    """Rows ``ok`` (stored under ``keys``) that a reviewer relabelled in an earlier run keep the
    reviewer's labels; ``stored``: key → the stored opinion."""
    for i, key in zip(ok, keys):
        found = stored.get(key)
        if found and found["reviewed"]:
            for name in ("level1", "level2", "department"):
                opinions.at[i, name] = found[name]
            opinions.at[i, "confidence"] = 1.0
            note = [opinions.at[i, "note"], "labels set by review"]
            opinions.at[i, "note"] = "; ".join(filter(None, note))


def _merge(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _strings(values: list) -> pd.Series:
    """A column of strings that are already shared, as they are (object dtype), not copied into
    pandas' own string storage: a repeated text stays one string, a Chinese character takes 2
    bytes (UTF-8 takes 3), and reading the column back as a list makes no new strings. For a
    large input that is much of the table not held, and not made again when clusters are
    described."""
    return pd.Series(values, dtype=object)


def _mask_column(values, masker: PiiMasker | None, *, names: bool = False) -> list[str]:
    """Cells as text, masked: patterns in each distinct cell, and with ``names`` the names in
    those with Chinese text, found by one LAC pass over the distinct cells (a column of a few
    channels or statuses costs a few calls; a free-text note costs one per distinct note)."""
    values = [str(v) for v in values]
    if masker is None:
        return values
    if not names:
        return _each_distinct(values, masker.mask_patterns)
    distinct = list(dict.fromkeys(values))
    worded = [v for v in distinct if _CHINESE.search(v)]
    # mask_many masks the patterns too; the other cells need only them.
    masked = dict(zip(worded, (m.text for m in masker.mask_many(worded))))
    masked.update((v, masker.mask_patterns(v)) for v in distinct if v not in masked)
    return [masked[v] for v in values]


def _each_distinct(values, change: Callable[[str], str]) -> list[str]:
    """``change`` applied once to each distinct cell (as text)."""
    done: dict[str, str] = {}
    out = []
    for v in values:
        v = str(v)
        if v not in done:
            done[v] = change(v)
        out.append(done[v])
    return out

"""Write a run's results: opinions.csv (UTF-8 with BOM), opinions.xlsx, clusters.csv,
hot_issues.xlsx, summary.json, report.html.

Files are written to a temporary name and renamed, so a reader never sees half a file. Cells are
made safe for each format, so that no cell fails a batch: in the CSV files a text that a
spreadsheet would run as a formula starts with ``'``; in workbooks, characters XML forbids are
dropped and a text past Excel's limit is cut.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nlp.core.errors import InputError
from nlp.core.files import atomic_write
from nlp.io.cells import FORMULA_START, NOT_XML, formula_safe, xml_safe
from nlp.outputs.report import render_report

if TYPE_CHECKING:
    from nlp.pipeline import RunResult

__all__ = ["write_outputs", "hot_issues", "FORMATS"]

FORMATS = ("csv", "xlsx", "parquet")
HOT_ISSUES = 50  # rows of hot_issues.xlsx
_XLSX_CELL = 32767  # Excel's limit on characters in one cell
_XLSX_ROWS = 1_048_576  # Excel's limit on rows in one sheet (header included)
_TRUNCATED = "…(truncated for Excel)"
_XLSX_PART = 10_000  # rows turned into cells at a time
_ILLEGAL_XML = NOT_XML


def _for_excel(value):
    if isinstance(value, str):
        value = xml_safe(value)
        if len(value) > _XLSX_CELL:
            value = value[: _XLSX_CELL - len(_TRUNCATED)] + _TRUNCATED
    return value


def _cell(value):
    """A value as xlsxwriter writes it: text cleaned for Excel, blanks for missing values."""
    if (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or value is pd.NA
        or value is pd.NaT
    ):
        return None
    if isinstance(value, str):
        return _for_excel(value)
    if isinstance(value, np.generic):
        return _cell(value.item())
    if isinstance(value, (bool, int, float)):
        return value
    return _for_excel(str(value))


def _column(values: pd.Series) -> list:
    """A column's cells as :func:`_cell` makes them, text checked by pandas a column at a time."""
    cells = values.tolist()
    if isinstance(values.dtype, pd.StringDtype):
        # Most texts need nothing done: only those with characters XML forbids or too long for a
        # cell go through _cell, and blanks become None.
        text = values.fillna("")
        odd = text.str.contains(_ILLEGAL_XML.pattern, regex=True) | (text.str.len() > _XLSX_CELL)
        for i in np.flatnonzero(odd.to_numpy() | values.isna().to_numpy()):
            cells[i] = _cell(cells[i])
        return cells
    return [_cell(v) for v in cells]


def _write_row(sheet, row: int, cells: Iterable) -> None:
    """Cells as ``sheet.write_row`` writes them (blanks and empty text left out), each by its
    type's own method: write_row asks every cell its type through two calls."""
    for col, value in enumerate(cells):
        kind = value.__class__
        if value is None or (kind is str and not value):
            continue
        if kind is str:
            sheet.write_string(row, col, value)
        elif kind is bool:
            sheet.write_boolean(row, col, value)
        elif kind is int or kind is float:
            sheet.write_number(row, col, value)
        else:
            sheet.write(row, col, value)


def _write_xlsx(path: Path, sheets: dict, wide: dict[str, str]) -> None:
    import xlsxwriter

    # Text stays text: no formulas or links from cells that start with "=" or "http". Rows are
    # written one after another and flushed to disk as they go (constant memory).
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "constant_memory": True,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        bold = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "top"})
        for name, frame in sheets.items():
            # More rows than one sheet holds go on to "name (2)", "name (3)", … (none is dropped).
            per_sheet = _XLSX_ROWS - 1
            for part, lo in enumerate(range(0, max(len(frame), 1), per_sheet), 1):
                sheet = book.add_worksheet(name if part == 1 else f"{name} ({part})")
                sheet.freeze_panes(1, 0)
                if name in wide:
                    sheet.set_column(wide[name], 60)
                sheet.write_row(0, 0, [_for_excel(str(c)) for c in frame.columns], bold)
                # A part of the rows at a time: a column's cells are new Python objects.
                for start in range(lo, min(lo + per_sheet, len(frame)), _XLSX_PART):
                    part_rows = frame.iloc[start : min(start + _XLSX_PART, lo + per_sheet)]
                    columns = [_column(part_rows.iloc[:, j]) for j in range(part_rows.shape[1])]
                    for r, cells in enumerate(zip(*columns), start - lo + 1):
                        _write_row(sheet, r, cells)


def _csv_safe(frame: pd.DataFrame, formulas: bool = True) -> pd.DataFrame:
    """``frame`` as a CSV file must hold it: a carriage return inside a text becomes a line
    feed (the CSV writer quotes a field holding a line feed, but not one holding only a carriage
    return, which spreadsheets and CSV readers take for the end of the row), and with
    ``formulas`` each text and column name goes through :func:`nlp.io.cells.formula_safe`.
    Numeric columns stay as they are; only the columns that change are copied."""
    starts = FORMULA_START if formulas else ("\r",)
    safe = None
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if isinstance(column.dtype, pd.StringDtype):
            odd = column.str.startswith(starts) | column.str.contains("\r", regex=False)
            risky = np.flatnonzero(odd.to_numpy(dtype=bool, na_value=False)).tolist()
            cells = column.tolist() if risky else None
        elif column.dtype == object:
            cells = column.tolist()
            risky = [
                i
                for i, v in enumerate(cells)
                if isinstance(v, str) and (v.startswith(starts) or "\r" in v)
            ]
        else:
            continue
        if not risky:
            continue
        for i in risky:
            cells[i] = _csv_text(cells[i], formulas)
        safe = frame.copy(deep=False) if safe is None else safe
        safe.isetitem(j, pd.Series(cells, index=column.index, dtype=column.dtype))
    names = [_csv_text(c, formulas) if isinstance(c, str) else c for c in frame.columns]
    if names != list(frame.columns):
        safe = frame.copy(deep=False) if safe is None else safe
        safe.columns = names
    return frame if safe is None else safe


def _csv_text(text: str, formulas: bool) -> str:
    if formulas:
        text = formula_safe(text)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def hot_issues(result: RunResult, top: int = HOT_ISSUES):
    """The hottest issues in the form staff already use, and their member opinions.

    Returns:
        ``(issues, members)``: 热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述 (plus
        规模, 分类, 承办单位 and the three scores); and one row per member opinion.
    """
    import pandas as pd

    clusters = result.clusters.head(top)
    issues = pd.DataFrame(
        {
            "热度排名": range(1, len(clusters) + 1),
            "问题ID": clusters["cluster"],
            "热度指数": clusters["heat"],
            "时间范围": [
                f"{a} 至 {b}" if a else ""
                for a, b in zip(clusters["first_seen"], clusters["last_seen"])
            ],
            "地点/人群": [
                f"{p}；{n} 人" if p else f"{n} 人"
                for p, n in zip(clusters["places"], clusters["people"])
            ],
            "问题描述": clusters["title"],
            "规模": clusters["size"],
            "分类": [
                f"{a}/{b}" if b else a for a, b in zip(clusters["level1"], clusters["level2"])
            ],
            "承办单位": clusters["department"],
            "紧迫性": clusters["urgency"],
            "广泛性": clusters["breadth"],
            "重要性": clusters["importance"],
        }
    )
    opinions = result.opinions
    rank = {c: i for i, c in enumerate(clusters["cluster"])}
    chosen = opinions[opinions["cluster"].isin(rank)].copy()
    chosen["_rank"] = chosen["cluster"].map(rank)
    chosen = chosen.sort_values(["_rank", "row"], kind="stable")
    members = pd.DataFrame(
        {
            "问题ID": chosen["cluster"],
            "留言编号": chosen["id"],
            "留言用户": chosen["user"],
            "留言主题": chosen["title"],
            "留言时间": chosen["time"],
            "留言详情": chosen["text"],
            "来源": chosen["source"],
            "地点": chosen["places"],
        }
    )
    return issues, members


def write_outputs(
    result: RunResult,
    out_dir: str | Path,
    formats: Iterable[str] = ("csv", "xlsx"),
    *,
    raw_csv: bool = False,
) -> dict[str, Path]:
    """Write the result files into ``out_dir`` (created if missing).

    Args:
        result: What :meth:`nlp.Pipeline.run` returned.
        out_dir: Output folder.
        formats: Any of ``csv``, ``xlsx``, ``parquet``; ``summary.json`` and ``report.html``
            are always written.
        raw_csv: Write the CSV files' texts as they are. By default a text starting with
            ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (and not a plain number) gets
            a leading ``'``, so that a spreadsheet opening the file shows it instead of running
            it as a formula (OWASP, "CSV Injection").

    Returns:
        File kind → path of each file written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    formats = list(dict.fromkeys(formats))
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise InputError(
            f"unknown output format(s) {', '.join(sorted(unknown))}; use {', '.join(FORMATS)}"
        )
    written: dict[str, Path] = {}
    drafts = None
    if result.drafts:
        from nlp.outputs.drafts import DraftWriting

        # Worker processes begin the drafts' Word files while this process writes the tables.
        drafts = DraftWriting(result.drafts, out, docx="xlsx" in formats)
    try:
        _write_tables(written, out, formats, result, raw_csv)
        if drafts is not None:
            written.update(drafts.finish())
    finally:
        if drafts is not None:
            drafts.cancel()
    written["summary"] = out / "summary.json"
    text = json.dumps(result.summary, ensure_ascii=False, indent=2, default=str)
    atomic_write(written["summary"], lambda p: p.write_text(text, encoding="utf-8"))
    written["report"] = out / "report.html"
    html = render_report(result)
    atomic_write(written["report"], lambda p: p.write_text(html, encoding="utf-8"))
    return written


def _write_tables(
    written: dict[str, Path], out: Path, formats: list[str], result: RunResult, raw_csv: bool
) -> None:
    """opinions.csv/.xlsx/.parquet, clusters.csv and hot_issues.xlsx, as ``formats`` ask."""
    frame, clusters = result.opinions, result.clusters
    if "csv" in formats:
        for kind, table in (("csv", frame), ("clusters_csv", clusters)):
            written[kind] = out / ("opinions.csv" if kind == "csv" else "clusters.csv")
            safe = _csv_safe(table, formulas=not raw_csv)
            # A lone surrogate (none comes from nlp.io's readers) is written as "?", not a failure.
            atomic_write(
                written[kind],
                lambda p, t=safe: t.to_csv(p, index=False, encoding="utf-8-sig", errors="replace"),
            )
    if "xlsx" in formats:
        written["xlsx"] = out / "opinions.xlsx"
        atomic_write(
            written["xlsx"],
            lambda p: _write_xlsx(
                p,
                {"opinions": frame, "clusters": clusters},
                wide={"opinions": "E:E", "clusters": "D:D"},
            ),
        )
        written["hot_issues"] = out / "hot_issues.xlsx"
        top, members = hot_issues(result, HOT_ISSUES)
        atomic_write(
            written["hot_issues"],
            lambda p: _write_xlsx(
                p,
                {"热点问题": top, "留言明细": members},
                wide={"热点问题": "F:F", "留言明细": "F:F"},
            ),
        )
    if "parquet" in formats:
        written["parquet"] = out / "opinions.parquet"
        atomic_write(written["parquet"], lambda p: frame.to_parquet(p, index=False))

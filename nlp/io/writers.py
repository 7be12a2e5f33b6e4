"""Write a run's results: opinions.csv (UTF-8 with BOM), opinions.xlsx, summary.json, report.html.

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .report import render_report

if TYPE_CHECKING:
    from ..pipeline import RunResult

__all__ = ["write_outputs", "FORMATS"]

FORMATS = ("csv", "xlsx", "parquet")
_XLSX_CELL = 32767  # Excel's limit on characters in one cell
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _for_excel(value):
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        if len(value) > _XLSX_CELL:
            value = value[: _XLSX_CELL - 20] + "…(truncated for Excel)"
    return value


def write_outputs(result: RunResult, out_dir: str | Path, formats: Iterable[str] = ("csv", "xlsx")) -> dict[str, Path]:
    """Write the result files into ``out_dir`` (created if missing).

    Args:
        result: What :meth:`nlp.Pipeline.run` returned.
        out_dir: Output folder.
        formats: Any of ``csv``, ``xlsx``, ``parquet``; ``summary.json`` and ``report.html``
            are always written.

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
        raise InputError(f"unknown output format(s) {', '.join(sorted(unknown))}; use {', '.join(FORMATS)}")
    frame = result.opinions
    written: dict[str, Path] = {}
    if "csv" in formats:
        written["csv"] = out / "opinions.csv"
        _atomic(written["csv"], lambda p: frame.to_csv(p, index=False, encoding="utf-8-sig"))
    if "xlsx" in formats:
        written["xlsx"] = out / "opinions.xlsx"

        def xlsx(p: Path) -> None:
            sheet = frame.astype(object).where(frame.notna(), None).map(_for_excel)
            options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
            import pandas as pd

            with pd.ExcelWriter(p, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
                sheet.to_excel(writer, sheet_name="opinions", index=False)
                writer.sheets["opinions"].freeze_panes(1, 0)
                writer.sheets["opinions"].set_column("E:E", 60)

        _atomic(written["xlsx"], xlsx)
    if "parquet" in formats:
        written["parquet"] = out / "opinions.parquet"
        _atomic(written["parquet"], lambda p: frame.to_parquet(p, index=False))
    written["summary"] = out / "summary.json"
    text = json.dumps(result.summary, ensure_ascii=False, indent=2, default=str)
    _atomic(written["summary"], lambda p: p.write_text(text, encoding="utf-8"))
    written["report"] = out / "report.html"
    html = render_report(result)
    _atomic(written["report"], lambda p: p.write_text(html, encoding="utf-8"))
    return written

"""Read an opinion export into a table of strings, losing no row.

Every reader returns an :class:`InputTable`: one row per data row of the file, every cell a string
(empty when missing), and ``row_errors`` for rows that were read but are broken (a bad JSON line, a
CSV row with too many fields). A file that cannot be read at all raises :class:`InputError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nlp.core.errors import InputError
from nlp.io.encoding import decode_bytes, stream_codec

__all__ = ["InputTable", "read_table", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".jsonl", ".ndjson", ".json", ".parquet")


@dataclass
class InputTable:
    """The rows of one input file.

    Attributes:
        frame: One row per data row, in file order; all cells are strings.
        source: Where the rows came from (a path or a name).
        format: ``csv``, ``tsv``, ``txt``, ``xlsx``, ``jsonl``, ``json``, ``parquet`` or ``frame``.
        encoding: The text encoding used, for text formats.
        sheet: The worksheet read, for workbooks.
        row_errors: Position of a row → why it is broken.
        notes: Things the user should know about how the file was read.
    """

    frame: pd.DataFrame
    source: str = ""
    format: str = "frame"
    encoding: str | None = None
    sheet: str | None = None
    row_errors: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "<DataFrame>") -> InputTable:
        """Wrap an in-memory DataFrame (cells are turned into strings)."""
        return cls(_as_strings(frame), source=source)

    @classmethod
    def from_texts(cls, texts: list[str], source: str = "<texts>") -> InputTable:
        """Wrap a list of opinion texts as a one-column table named ``text``."""
        return cls(pd.DataFrame({"text": [t if isinstance(t, str) else "" for t in texts]}), source=source)


def read_table(path: str | Path, *, sheet: str | None = None, encoding: str | None = None) -> InputTable:
    """Read a CSV, TSV, TXT, XLSX/XLS, JSONL/JSON or Parquet file.

    Args:
        path: The file; its extension picks the reader.
        sheet: Worksheet name for workbooks (default: the first sheet with data).
        encoding: Text encoding for text formats (default: detected).

    Raises:
        InputError: The file is missing, empty, damaged or of an unsupported type.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give an export file ({', '.join(SUPPORTED_SUFFIXES)})")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"cannot read {path.name}: unsupported type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if path.stat().st_size == 0:
        raise InputError(f"input file {path} is empty (0 bytes)")
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _read_workbook(path, sheet)
    if suffix == ".parquet":
        return _read_parquet(path)
    delimiter = "\t" if suffix == ".tsv" else None
    streamed = stream_codec(path, encoding) if suffix in (".csv", ".tsv") else None
    if streamed is not None:
        # Exports of millions of rows: decoded and parsed as they are read, never whole in memory.
        codec, errors, label = streamed
        bad: list[int] = []
        if delimiter is None:
            with open(path, encoding=codec, errors=errors, newline="") as f:
                delimiter = _sniff_delimiter(f.read(65536))
        with open(path, encoding=codec, errors=errors, newline="") as f:
            table = _read_delimited(_noting_bad_lines(f, bad), delimiter)
        table.format, table.source, table.encoding = suffix[1:], str(path), label
        if bad:
            table.notes.insert(0, _bad_lines_note(len(bad)))
        return table
    decoded = decode_bytes(path.read_bytes(), encoding)
    notes = []
    if decoded.bad_lines:
        notes.append(_bad_lines_note(len(decoded.bad_lines)))
    if suffix in (".csv", ".tsv"):
        table = _read_delimited(io.StringIO(decoded.text, newline=""), delimiter or _sniff_delimiter(decoded.text[:65536]))
        table.format = suffix[1:]
    elif suffix == ".txt":
        table = _read_lines(decoded.text)
    elif suffix == ".json":
        table = _read_json(decoded.text)
    else:
        table = _read_jsonl(decoded.text)
    table.source, table.encoding = str(path), decoded.encoding
    table.notes = notes + table.notes
    return table


def _cell(value) -> str:
    """Turn a cell of any type into the string a person would type."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _unique_names(header: list[str]) -> list[str]:
    names, seen = [], {}
    for i, raw in enumerate(header):
        name = raw.strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(frame)))
    for name, col in zip(_unique_names([str(c) for c in frame.columns]), frame.columns):
        out[name] = [_cell(v) for v in frame[col].tolist()]
    return out


def _from_rows(header: list[str], rows: Iterable[list[str]]) -> tuple[pd.DataFrame, dict[int, str]]:
    """A table of string cells, made one column at a time as the rows come (no list of rows is
    held: a large export costs its cells and little more). Short rows are padded, long ones cut
    (an error for the row when what is cut holds text), trailing blank rows dropped."""
    names = _unique_names(header)
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    errors: dict[int, str] = {}
    read = kept = 0  # rows read; rows up to the last one that is not blank
    for i, row in enumerate(rows):
        if len(row) > width and any(c.strip() for c in row[width:]):
            errors[i] = f"row has {len(row)} fields but the header has {width}; check quoting of the text"
        for k, column in enumerate(columns):
            column.append(row[k] if k < len(row) else "")
        read = i + 1
        if any(c.strip() for c in row):
            kept = read
    if kept < read:
        for column in columns:
            del column[kept:]
    frame = pd.DataFrame(dict(zip(names, columns)), columns=names, dtype=object) if width else pd.DataFrame(index=range(kept))
    return frame, errors


def _bad_lines_note(count: int) -> str:
    return f"{count} line(s) held bytes that could not be decoded; they were replaced by U+FFFD"


def _noting_bad_lines(lines: Iterable[str], bad: list[int]) -> Iterator[str]:
    """The lines, with the 0-based numbers of those holding U+FFFD (undecodable bytes) put in ``bad``."""
    for number, line in enumerate(lines):
        if "\ufffd" in line:
            bad.append(number)
        yield line


def _read_delimited(lines: Iterable[str], delimiter: str) -> InputTable:
    """Parse delimited lines into a table as they are read."""
    csv.field_size_limit(2**31 - 1)  # a single opinion may be megabytes long
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InputError("the file holds no header and no rows")
        frame, errors = _from_rows(header, reader)
    except csv.Error as e:
        raise InputError(f"cannot parse the file as delimited text (line {reader.line_num}): {e}") from e
    if len(frame) == 0 and not any(c.strip() for c in header):
        raise InputError("the file holds no header and no rows")
    return InputTable(frame, row_errors=errors)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 20)[0] if sample else sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _read_lines(text: str) -> InputTable:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return InputTable(pd.DataFrame({"text": lines}, dtype=object), format="txt")


def _record(value) -> dict:
    return value if isinstance(value, dict) else {"text": value}


def _read_jsonl(text: str) -> InputTable:
    records, errors = [], {}
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for i, line in enumerate(lines):
        if not line.strip():
            records.append({})
            continue
        try:
            records.append(_record(json.loads(line)))
        except json.JSONDecodeError as e:
            records.append({})
            errors[i] = f"line {i + 1} is not valid JSON: {e.msg}"
    frame = _as_strings(pd.DataFrame.from_records(records)) if records else pd.DataFrame()
    if len(frame) < len(records):  # from_records drops nothing, but an all-empty list gives no rows
        frame = frame.reindex(range(len(records)), fill_value="")
    return InputTable(frame, format="jsonl", row_errors=errors)


def _read_json(text: str) -> InputTable:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"the file is not valid JSON (line {e.lineno}): {e.msg}") from e
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise InputError("a .json input must be a list of opinions (objects or strings)")
    frame = _as_strings(pd.DataFrame.from_records([_record(v) for v in data]))
    return InputTable(frame, format="json")


def _read_workbook(path: Path, sheet: str | None) -> InputTable:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(f"cannot open {path.name} as a workbook; is it damaged or truncated? ({e})") from e
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise InputError(f"workbook {path.name} has no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    candidates = [sheet] if sheet is not None else names
    try:
        for name in candidates:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=True)
            rows = [[_cell(v) for v in row] for row in rows]
            while rows and not any(c.strip() for c in rows[-1]):
                rows.pop()
            if rows:
                break
        else:
            raise InputError(f"workbook {path.name} has no data in sheet(s): {', '.join(candidates)}")
    except python_calamine.CalamineError as e:
        raise InputError(f"cannot read workbook {path.name}; is it damaged or truncated? ({e})") from e
    frame, errors = _from_rows(rows[0], rows[1:])
    notes = [] if sheet is not None or len(names) == 1 else [f"read sheet {name!r} of {len(names)}: {', '.join(names)}"]
    return InputTable(frame, source=str(path), format=path.suffix[1:].lower(), sheet=name, row_errors=errors, notes=notes)


def _read_parquet(path: Path) -> InputTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises many types for a damaged file
        raise InputError(f"cannot read {path.name} as Parquet; is it damaged? ({e})") from e
    return InputTable(_as_strings(frame), source=str(path), format="parquet")

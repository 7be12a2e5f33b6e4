"""Read an opinion export into a table of strings, losing no row.

Every reader returns an :class:`InputTable`: one row per data row of the file, every cell a string
(empty when missing), and ``row_errors`` for rows that were read but are broken (a bad JSON line, a
CSV row with too many fields). A file that cannot be read at all raises :class:`InputError`, and
so does one larger than the limits of :mod:`nlp.io.limits` (checked before the table is built).
Cells are text that UTF-8 can hold: a lone surrogate from a JSON escape becomes U+FFFD.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nlp.core.errors import InputError
from nlp.io.cells import reason, utf8_safe
from nlp.io.columns import header_looks_like_data
from nlp.io.encoding import decode_bytes, stream_codec
from nlp.io.limits import MAX_CELLS, MAX_COLUMNS, MAX_NESTING, MAX_ROWS
from nlp.io.sheets import XlsxPackage, check_workbook_file

__all__ = ["InputTable", "read_table", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".xls",
    ".jsonl",
    ".ndjson",
    ".json",
    ".parquet",
)


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
        texts = [utf8_safe(t) if isinstance(t, str) else "" for t in texts]
        return cls(pd.DataFrame({"text": texts}), source=source)


def read_table(
    path: str | Path, *, sheet: str | None = None, encoding: str | None = None
) -> InputTable:
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
        raise InputError(
            f"{path} is a folder; give an export file ({', '.join(SUPPORTED_SUFFIXES)})"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"cannot read {path.name}: unsupported type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
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
        table = _read_delimited(
            io.StringIO(decoded.text, newline=""),
            delimiter or _sniff_delimiter(decoded.text[:65536]),
        )
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


def _text_cell(value) -> str:
    """:func:`_cell`, and a lone surrogate (from a JSON escape, or a caller's string) replaced."""
    return utf8_safe(_cell(value))


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(frame)))
    for name, col in zip(_unique_names([utf8_safe(str(c)) for c in frame.columns]), frame.columns):
        out[name] = [_text_cell(v) for v in frame[col].tolist()]
    return out


def _check_size(rows: int, columns: int) -> None:
    """Raise an :class:`InputError` for a table past the limits (:mod:`nlp.io.limits`)."""
    if columns > MAX_COLUMNS:
        raise InputError(
            f"the file has {columns:,} columns; Minyi reads at most {MAX_COLUMNS:,}. Delete the"
            " columns it does not need (empty ones too) and try again"
        )
    if rows > MAX_ROWS:
        raise InputError(
            f"the file has more than {MAX_ROWS:,} data rows; Minyi reads at most {MAX_ROWS:,}:"
            " split it into parts and score them one after another with --state"
        )
    if rows * columns > MAX_CELLS:
        raise InputError(
            f"the file has at least {rows:,} rows of {columns:,} columns"
            f" ({rows * columns:,} cells); Minyi reads at most {MAX_CELLS:,} cells (rows ×"
            " columns): delete the columns it does not need, or split the rows into parts"
        )


def _without_header(header: list[str], rows: Iterable[list[str]]) -> tuple[list, Iterable, list]:
    """The header and rows to read, and notes: a first row that looks like data (a phone
    number, a date …) is read as the first data row, under numbered columns."""
    if not header_looks_like_data(header):
        return header, rows, []
    note = (
        "the first row looks like data, not a header: it was read as the first data row, and"
        f" the {len(header)} columns are numbered column_1 … column_{len(header)} (choose the"
        " text column by its number: --text-column 3 for the third)"
    )
    return [""] * len(header), itertools.chain([header], rows), [note]


def _from_rows(header: list[str], rows: Iterable[list[str]]) -> tuple[pd.DataFrame, dict[int, str]]:
    """A table of string cells, made one column at a time as the rows come (no list of rows is
    held: a large export costs its cells and little more). Short rows are padded, long ones cut
    (an error for the row when what is cut holds text), trailing blank rows dropped."""
    _check_size(0, len(header))
    names = _unique_names(header)
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    errors: dict[int, str] = {}
    read = kept = 0  # rows read; rows up to the last one that is not blank
    most = min(MAX_ROWS, MAX_CELLS // max(width, 1))
    for i, row in enumerate(rows):
        if i == most:
            _check_size(i + 1, width)
        if len(row) > width and any(c.strip() for c in row[width:]):
            errors[i] = (
                f"row has {len(row)} fields but the header has {width}; check quoting of the text"
            )
        for k, column in enumerate(columns):
            column.append(row[k] if k < len(row) else "")
        read = i + 1
        if any(c.strip() for c in row):
            kept = read
    if kept < read:
        for column in columns:
            del column[kept:]
    frame = (
        pd.DataFrame(dict(zip(names, columns)), columns=names, dtype=object)
        if width
        else pd.DataFrame(index=range(kept))
    )
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
        names, rows, notes = _without_header(header, reader)
        frame, errors = _from_rows(names, rows)
    except csv.Error as e:
        raise InputError(
            f"cannot parse the file as delimited text (line {reader.line_num}): {reason(e)}"
        ) from e
    if len(frame) == 0 and not any(c.strip() for c in header):
        raise InputError("the file holds no header and no rows")
    return InputTable(frame, row_errors=errors, notes=notes)


def _sniff_delimiter(sample: str) -> str:
    try:
        return (
            csv.Sniffer()
            .sniff(sample.split("\n", 20)[0] if sample else sample, delimiters=",\t;|")
            .delimiter
        )
    except csv.Error:
        return ","


def _read_lines(text: str) -> InputTable:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    _check_size(len(lines), 1)
    return InputTable(pd.DataFrame({"text": lines}, dtype=object), format="txt")


def _record(value) -> dict:
    return value if isinstance(value, dict) else {"text": value}


def _too_deep(value) -> bool:
    """Whether arrays and objects nest in ``value`` deeper than ``MAX_NESTING`` levels."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        inner = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in inner if isinstance(v, (dict, list)))
    return False


def _parsed(values: Iterable, errors: dict[int, str], what: str) -> Iterator[dict]:
    """Each JSON value as a record; ``{}`` for one that nests too deep (an error for its row)."""
    for i, value in enumerate(values):
        if isinstance(value, (dict, list)) and _too_deep(value):
            errors[i] = f"{what} {i + 1} nests arrays or objects deeper than {MAX_NESTING} levels"
            value = {}
        yield _record(value)


def _records_frame(records: Iterable[dict], what: str) -> pd.DataFrame:
    """A table of string cells from records, made one column at a time as they come, its
    columns the keys in the order they first appear (a file of too many keys stops at the
    first key past the limit, before anything is built for it)."""
    columns: dict[str, list[str]] = {}
    rows = 0
    for record in records:
        for key in record:
            if key not in columns:
                if len(columns) == MAX_COLUMNS:
                    raise InputError(
                        f"{what} {rows + 1} brings a key past the first {MAX_COLUMNS:,}; Minyi"
                        f" reads at most {MAX_COLUMNS:,} columns (distinct keys). Keep the keys"
                        " it needs (text, id, time …) and try again"
                    )
                columns[key] = [""] * rows
        for key, column in columns.items():
            value = record.get(key)
            column.append("" if value is None else _text_cell(value))
        rows += 1
        if rows > MAX_ROWS or rows * len(columns) > MAX_CELLS:
            _check_size(rows, len(columns))
    names = _unique_names([utf8_safe(str(key)) for key in columns])
    if not names:
        return pd.DataFrame(index=range(rows))
    return pd.DataFrame(dict(zip(names, columns.values())), index=range(rows))


def _read_jsonl(text: str) -> InputTable:
    errors: dict[int, str] = {}
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    _check_size(len(lines), 1)

    def values() -> Iterator:
        for i, line in enumerate(lines):
            if not line.strip():
                yield {}
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                errors[i] = f"line {i + 1} is not valid JSON: {e.msg}"
                yield {}
            except RecursionError:
                errors[i] = f"line {i + 1} nests arrays or objects deeper than {MAX_NESTING} levels"
                yield {}

    frame = _records_frame(_parsed(values(), errors, "line"), "line")
    return InputTable(frame, format="jsonl", row_errors=errors)


def _read_json(text: str) -> InputTable:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"the file is not valid JSON (line {e.lineno}): {e.msg}") from e
    except RecursionError as e:
        raise InputError(f"the JSON nests arrays or objects past {MAX_NESTING} levels") from e
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise InputError("a .json input must be a list of opinions (objects or strings)")
    _check_size(len(data), 1)
    errors: dict[int, str] = {}
    frame = _records_frame(_parsed(data, errors, "item"), "item")
    return InputTable(frame, format="json", row_errors=errors)


def _read_workbook(path: Path, sheet: str | None) -> InputTable:
    import python_calamine

    kind = check_workbook_file(path)
    # An .xlsx sheet is measured before calamine holds it (see nlp.io.sheets).
    with XlsxPackage(path) if kind == "xlsx" else contextlib.nullcontext() as package:
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        except (python_calamine.CalamineError, zipfile.BadZipFile, OSError, ValueError) as e:
            raise InputError(
                f"cannot open {path.name} as a workbook; is it damaged or truncated? ({reason(e)})"
            ) from e
        names = book.sheet_names
        if sheet is not None and sheet not in names:
            raise InputError(
                f"workbook {path.name} has no sheet {sheet!r}; its sheets are: {', '.join(names)}"
            )
        candidates = [sheet] if sheet is not None else names
        try:
            for name in candidates:
                if package is not None:
                    package.check(name)
                loaded = book.get_sheet_by_name(name)
                _check_size(loaded.height, loaded.width)  # an .xls sheet, measured once held
                rows = loaded.to_python(skip_empty_area=True)
                rows = [[_cell(v) for v in row] for row in rows]
                while rows and not any(c.strip() for c in rows[-1]):
                    rows.pop()
                if rows:
                    break
            else:
                raise InputError(
                    f"workbook {path.name} has no data in sheet(s): {', '.join(candidates)}"
                )
        except python_calamine.CalamineError as e:
            raise InputError(
                f"cannot read workbook {path.name}; is it damaged or truncated? ({reason(e)})"
            ) from e
    header, data, notes = _without_header(rows[0], rows[1:])
    frame, errors = _from_rows(header, data)
    if sheet is None and len(names) > 1:
        notes.insert(0, f"read sheet {name!r} of {len(names)}: {', '.join(names)}")
    return InputTable(
        frame,
        source=str(path),
        format=path.suffix[1:].lower(),
        sheet=name,
        row_errors=errors,
        notes=notes,
    )


def _read_parquet(path: Path) -> InputTable:
    import pyarrow.parquet as pq

    try:
        # Rows and columns as the file's footer states them, before any column is read.
        meta = pq.read_metadata(path)
    except Exception as e:  # pyarrow raises many types for a damaged file
        raise InputError(f"cannot read {path.name} as Parquet; is it damaged? ({reason(e)})") from e
    _check_size(meta.num_rows, meta.num_columns)
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises many types for a damaged file
        raise InputError(f"cannot read {path.name} as Parquet; is it damaged? ({reason(e)})") from e
    return InputTable(_as_strings(frame), source=str(path), format="parquet")

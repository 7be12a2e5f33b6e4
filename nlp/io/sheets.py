"""Checks on a workbook before its reader holds a sheet.

The workbook reader (calamine) holds a sheet as one rectangle of cells from its first cell to
its last, empty cells included: an .xlsx file of a few hundred bytes with one cell at XFD1048576
asks for 17 billion cells and ends the process. So the sheet's XML is read first as a stream, a
chunk at a time with nothing kept but a few numbers, to find where its cells really reach; the
``<dimension>`` the sheet declares is only reported, since it can be wrong either way. The scan
stops at the first chunk past a limit.

A sheet written as Excel, openpyxl and xlsxwriter write one (each cell ``<c r="B12" …>``) is
scanned with regular expressions, at several times the speed of an XML parser; any other form
(a cell without its reference, a namespace prefix, a comment, CDATA) is scanned by expat, which
places each cell as Excel does.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Self
from xml.etree import ElementTree
from xml.parsers import expat

from nlp.core.errors import InputError
from nlp.io.cells import reason
from nlp.io.limits import MAX_CELLS, MAX_COLUMNS, MAX_ROWS

__all__ = ["Extent", "XlsxPackage", "check_workbook_file", "measure_sheet", "xlsx_sheet_parts"]

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (a compound document)
_SMALL_PART = 64 * 2**20  # workbook.xml and its relationships: a list of sheets, never this big
_TEXT_BYTES = frozenset(range(32)) - {9, 10, 13}
_CHUNK = 1 << 20
_CELL = re.compile(rb"<c[\s/>]")
_CELL_AT = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s/>]")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([^"]*)"')


@dataclass
class Extent:
    """Where the cells of a sheet reach.

    Attributes:
        rows: The last row number a cell or row is at (1 for the first row).
        columns: The last column number a cell is at (1 for column A).
        cells: Cells seen.
        declared: The range the sheet's ``<dimension>`` states, such as ``A1:H2000``.
    """

    rows: int = 0
    columns: int = 0
    cells: int = 0
    declared: str | None = None

    def grid(self) -> int:
        """Cells of the rectangle from A1 to the last row and column."""
        return self.rows * self.columns


class _TooLarge(Exception):
    """Raised inside the scan at the first cell past a limit."""


def check_workbook_file(path: Path) -> str:
    """What kind of workbook the file's first bytes say it is: ``xlsx`` (a ZIP package) or
    ``xls`` (a compound document).

    Raises:
        InputError: The file is not the workbook its extension says (text saved as .xlsx, an
            HTML or tab-separated export named .xls, an .xlsx named .xls …).
    """
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = "xlsx" if head.startswith(_ZIP) else "xls" if head.startswith(_OLE) else None
    expected = "xls" if path.suffix.lower() == ".xls" else "xlsx"
    if kind == expected:
        return kind
    if kind is not None:
        raise InputError(
            f"{path.name} is an .{kind} workbook with the extension {path.suffix}; rename it to "
            f"{path.stem}.{kind}"
        )
    what = (
        "an .xlsx workbook is a ZIP archive"
        if expected == "xlsx"
        else ("an .xls workbook is an Excel 97-2003 compound document")
    )
    if not any(b in _TEXT_BYTES for b in head):
        start = head.lstrip()[:1]
        looks = "HTML or XML" if start == b"<" else "text (a CSV or tab-separated export?)"
        raise InputError(
            f"{path.name} is not an Excel workbook: {what}, and this file is {looks}. "
            f"If it holds comma- or tab-separated rows, rename it to {path.stem}.csv or "
            f"{path.stem}.tsv; otherwise open it in Excel and save it as .xlsx"
        )
    raise InputError(
        f"{path.name} is not an Excel workbook: {what}, and this file's first bytes are neither"
        " (is it damaged, encrypted or another kind of file?)"
    )


def xlsx_sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the ZIP member holding its cells, from the package's workbook part.

    Raises:
        InputError: The package has no workbook part, or it cannot be parsed.
    """
    names = set(book.namelist())
    main = _target(book, "_rels/.rels", "", "/officeDocument") or "xl/workbook.xml"
    if main not in names:
        raise InputError("the ZIP archive holds no workbook (xl/workbook.xml); is it an .xlsx?")
    folder = posixpath.dirname(main)
    rels = posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels")
    targets = _relationships(book, rels, folder) if rels in names else {}
    parts = {}
    for element in _parse(book, main).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        if element.get("name") is not None and targets.get(rid) in names:
            parts[element.get("name")] = targets[rid]
    return parts


def measure_sheet(open_stream: Callable) -> tuple[Extent, bool]:
    """Where the cells of a sheet's XML reach, read as a stream.

    Args:
        open_stream: Opens the sheet's XML as a binary stream (called twice where the quick
            scan gives way to expat).

    Returns:
        ``(extent, within)``: the extent, and whether it is within the limits. Past a limit the
        scan stops there, so ``extent`` is what was seen until then.

    Raises:
        InputError: The XML is not well formed, or declares a document type.
    """
    limits = (MAX_ROWS, MAX_COLUMNS, MAX_CELLS)
    with open_stream() as stream:
        found = _quick_scan(stream, limits)
    if found is not None:
        return found
    scan = _Scan(*limits)
    parser = expat.ParserCreate()
    parser.StartElementHandler = scan.start
    parser.StartDoctypeDeclHandler = _no_doctype
    try:
        with open_stream() as stream:
            parser.ParseFile(stream)
    except _TooLarge:
        return scan.extent, False
    except expat.ExpatError as e:
        raise InputError(f"the sheet's XML is damaged (line {e.lineno}: {e})") from e
    return scan.extent, True


def _quick_scan(stream, limits: tuple[int, int, int]) -> tuple[Extent, bool] | None:
    """:func:`measure_sheet` by regular expressions, for a sheet whose every cell starts
    ``<c r="B12"``; ``None`` for any other (then expat reads it). Every cell element is
    counted, with or without a reference, so one the expressions cannot place is noticed."""
    extent = Extent()
    max_rows, max_columns, max_cells = limits
    cells = placed = 0
    carry = b""
    first = True
    while chunk := stream.read(_CHUNK):
        # Up to the last ">" of what has come: a start tag is never cut before its attributes.
        data = carry + chunk
        cut = data.rfind(b">") + 1
        part, carry = data[:cut], data[cut:]
        if first:
            first = False
            if part.startswith(b"<?xml"):
                part = part[part.find(b"?>") + 2 :]
            declared = _DIMENSION.search(part)
            extent.declared = declared[1].decode("ascii", "replace") if declared else None
        # Comments, CDATA, document types and processing instructions can hide or fake cells.
        if b"<!" in part or b"<?" in part or (b":c" in part and _PREFIXED_CELL.search(part)):
            return None
        cells += len(_CELL.findall(part))
        found = _CELL_AT.findall(part)
        placed += len(found)
        if found:
            letters = set(map(_FIRST, found))
            widest = max(letters, key=lambda column: (len(column), column))
            extent.columns = max(extent.columns, _number(widest))
            extent.rows = max(extent.rows, max(map(int, map(_SECOND, found))))
            if extent.rows > max_rows or extent.columns > max_columns or extent.grid() > max_cells:
                extent.cells = cells
                return extent, False
    if cells != placed or carry.strip():
        return None
    extent.cells = cells
    return extent, True


class XlsxPackage:
    """An .xlsx file opened as the ZIP package it is, to check its sheets before they are read.

    Raises:
        InputError: The file is not a whole ZIP archive, or holds no workbook.
    """

    def __init__(self, path: Path):
        self.name = path.name
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise InputError(
                f"cannot open {path.name} as a workbook; is it damaged or truncated? ({reason(e)})"
            ) from e
        try:
            self.parts = xlsx_sheet_parts(self.zip)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            self.zip.close()
            raise InputError(
                f"cannot open {path.name} as a workbook; is it damaged or truncated? ({reason(e)})"
            ) from e
        except InputError as e:
            self.zip.close()
            raise InputError(f"cannot open {path.name} as a workbook: {e}") from e

    def check(self, sheet: str) -> None:
        """Raise an :class:`InputError` if the cells of ``sheet`` reach past a limit (every
        worksheet part is measured where the workbook does not say which holds it)."""
        part = self.parts.get(sheet)
        members = (
            [part]
            if part
            else [m for m in self.zip.namelist() if "worksheets/" in m and m.endswith(".xml")]
        )
        for member in members:
            _check_part(self.zip, member, sheet, self.name)

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def _check_part(book: zipfile.ZipFile, part: str, sheet: str, file_name: str) -> None:
    try:
        extent, within = measure_sheet(lambda: book.open(part))
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise InputError(
            f"cannot read {file_name}: the workbook is damaged or truncated ({reason(e)})"
        ) from e
    if within:
        return
    declared = f" (its dimension declares {extent.declared})" if extent.declared else ""
    if extent.columns > MAX_COLUMNS:
        found = f"reaches column {_letters(extent.columns)}, {extent.columns:,} columns"
        limit = f"at most {MAX_COLUMNS:,} columns"
    elif extent.rows > MAX_ROWS:
        found = f"reaches row {extent.rows:,}"
        limit = f"at most {MAX_ROWS:,} rows"
    else:
        found = (
            f"reaches {_letters(extent.columns)}{extent.rows}, a range of {extent.rows:,} rows"
            f" × {extent.columns:,} columns = {extent.grid():,} cells"
        )
        limit = f"at most {MAX_CELLS:,} cells (rows × columns)"
    raise InputError(
        f"sheet {sheet!r} of {file_name} {found}{declared}; Minyi reads {limit}. Delete the empty"
        " rows and columns past the data (or save the data alone as CSV) and try again"
    )


class _Scan:
    """Follows rows and cells as Excel places them: at their ``r`` reference, or one after the
    previous row or cell where it is left out."""

    def __init__(self, max_rows: int, max_columns: int, max_cells: int):
        self.extent = Extent()
        self.limits = (max_rows, max_columns, max_cells)
        self.row = self.column = 0

    def start(self, name: str, attrs: dict) -> None:
        # Called for every element of the sheet: kept short, the common case first.
        local = name[name.find(":") + 1 :]
        extent = self.extent
        if local == "c":
            extent.cells += 1
            row, column = _reference(attrs.get("r"))
            self.column = column = column or self.column + 1
            row = row or self.row
            if row > extent.rows or column > extent.columns:
                self._reach(row, column)
        elif local == "row":  # a row counts by its cells: calamine keeps no empty row
            number = attrs.get("r")
            self.row = int(number) if number and number.isdigit() else self.row + 1
            self.column = 0
        elif local == "dimension":
            extent.declared = attrs.get("ref")

    def _reach(self, row: int, column: int) -> None:
        extent = self.extent
        extent.rows, extent.columns = max(row, extent.rows), max(column, extent.columns)
        max_rows, max_columns, max_cells = self.limits
        if extent.rows > max_rows or extent.columns > max_columns or extent.grid() > max_cells:
            raise _TooLarge


def _reference(ref: str | None) -> tuple[int, int]:
    """``(row, column)`` of a cell reference such as ``B12``; ``(0, 0)`` for a missing or
    malformed one (the cell is then placed after the previous one)."""
    if not ref:
        return 0, 0
    if "A" <= ref[0] <= "Z":  # the references Excel writes: one or two letters, then digits
        if ref[1:].isdigit():
            return int(ref[1:]), ord(ref[0]) - 64
        if len(ref) > 2 and "A" <= ref[1] <= "Z" and ref[2:].isdigit():
            return int(ref[2:]), (ord(ref[0]) - 64) * 26 + ord(ref[1]) - 64
    ref = ref.replace("$", "").upper()
    split = 0
    while split < len(ref) and "A" <= ref[split] <= "Z":
        split += 1
    digits = ref[split:]
    if not split or not digits.isascii() or not digits.isdigit():
        return 0, 0
    return int(digits), _number(ref[:split])


def _number(letters: str | bytes) -> int:
    """A column's number from its letters (A → 1, XFD → 16384)."""
    column = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        column = column * 26 + letter - 64
    return column


def _letters(column: int) -> str:
    """Excel's letters for a column number (1 → A, 16384 → XFD)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _no_doctype(*_) -> None:
    raise InputError("the sheet's XML declares a document type, which no Excel file does")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse(book: zipfile.ZipFile, member: str) -> ElementTree.Element:
    if book.getinfo(member).file_size > _SMALL_PART:
        raise InputError(f"the workbook part {member} is too large to be a list of sheets")
    try:
        return ElementTree.fromstring(book.read(member))
    except ElementTree.ParseError as e:
        raise InputError(f"the workbook part {member} is damaged ({reason(e)})") from e


def _relationships(book: zipfile.ZipFile, member: str, folder: str) -> dict[str, str]:
    """Relationship id → ZIP member it points to."""
    found = {}
    for element in _parse(book, member).iter():
        target = element.get("Target")
        if _local(element.tag) == "Relationship" and target and element.get("Id"):
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            found[element.get("Id")] = posixpath.normpath(path)
    return found


def _target(book: zipfile.ZipFile, member: str, folder: str, kind: str) -> str | None:
    """The member a relationship of type ``…kind`` in ``member`` points to."""
    if member not in book.namelist():
        return None
    for element in _parse(book, member).iter():
        if _local(element.tag) == "Relationship" and element.get("Type", "").endswith(kind):
            target = element.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            return posixpath.normpath(path)
    return None

"""What a cell's text may hold where it is written: UTF-8, XML, spreadsheets.

A cell comes from anyone: a JSON ``"\\ud800"`` is a lone surrogate that no UTF-8 file can hold,
a NUL byte or another control character is not allowed in the XML of a Word or Excel file, and a
text starting with ``=`` is a formula to a spreadsheet that opens a CSV. These functions make a
text safe for one kind of output without touching texts that are already safe (most are).
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_START", "NOT_XML", "formula_safe", "reason", "utf8_safe", "xml_safe"]

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters XML 1.0 does not allow (tab, newline and carriage return are allowed), surrogates
#: aside. The pattern reads the same to Python's ``re`` and to RE2 (pandas' Arrow strings).
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f" + "\ufffe\uffff]")
_NOT_XML_OR_SURROGATE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_QUOTED = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"")

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def utf8_safe(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (and a surrogate pair joined into
    its character), so that it can be written as UTF-8."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def xml_safe(text: str) -> str:
    """``text`` as XML 1.0 can hold it (Word, Excel, SVG): lone surrogates replaced by U+FFFD,
    control characters other than tab, newline and carriage return removed, as are U+FFFE and
    U+FFFF."""
    if not _NOT_XML_OR_SURROGATE.search(text):  # one pass for the texts that need nothing
        return text
    return NOT_XML.sub("", utf8_safe(text))


def formula_safe(value):
    """A CSV cell that a spreadsheet will not run as a formula: a string starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, unless it is a plain
    number (``-3``, ``+1.5``: a spreadsheet reads those as numbers). Other values are returned
    as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def reason(error: BaseException) -> str:
    """A library's error message, to be quoted in ours, without what it quotes: a parser's
    message may quote the file (calamine's "unrecognized entity `&…;`"), and an export's cells
    are personal data."""
    return _QUOTED.sub("…", str(error))[:300]

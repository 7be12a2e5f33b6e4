"""Reading exports: file formats, encodings, and which column plays which role."""

from nlp.io.columns import Columns, resolve_columns
from nlp.io.readers import SUPPORTED_SUFFIXES, InputTable, read_table

__all__ = ["Columns", "InputTable", "SUPPORTED_SUFFIXES", "read_table", "resolve_columns"]

"""Reading exports: file formats, encodings, and which column plays which role."""

from nlp.io.columns import Columns, header_looks_like_data, resolve_columns
from nlp.io.readers import SUPPORTED_SUFFIXES, InputTable, read_table

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Columns",
    "InputTable",
    "header_looks_like_data",
    "read_table",
    "resolve_columns",
]

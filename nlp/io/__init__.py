"""Files in and out: readers for exports, writers for results."""

from .columns import Columns, resolve_columns
from .readers import SUPPORTED_SUFFIXES, InputTable, read_table
from .writers import write_outputs

__all__ = ["Columns", "InputTable", "SUPPORTED_SUFFIXES", "read_table", "resolve_columns", "write_outputs"]

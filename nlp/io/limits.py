"""How large a table Minyi reads, checked before the table is built.

A file can claim far more than it holds: one cell at XFD1048576 makes a workbook of 17 billion
cells, a header of 100,000 commas a CSV of 100,000 columns, and 100,000 distinct keys a JSONL
file as wide. The readers build a table of every row and column, so such a file would take all
the memory there is before a single opinion is read. Each limit below is far beyond any export of
opinions, and a file past one stops with an :class:`~nlp.core.errors.InputError` that names the
limit and what the file claims.
"""

from __future__ import annotations

__all__ = ["MAX_CELLS", "MAX_COLUMNS", "MAX_NESTING", "MAX_ROWS"]

#: Columns of a table. Exports of message boards, hotlines and liaison stations have 5 to 30;
#: a wide questionnaire export a hundred or so.
MAX_COLUMNS = 200

#: Data rows of a table. A million rows takes Minyi about 20 minutes and 4 GB of memory on two
#: cores (see README, "Big exports"); five million is past what one machine scores in a day.
MAX_ROWS = 5_000_000

#: Rows × columns of a table; for a workbook, of the sheet's used range (the rectangle from its
#: first cell to its last, which the workbook reader holds whole, empty cells included: about
#: 42 bytes a cell, so 1.3 GB at this limit before any text). A full Excel sheet (1,048,576
#: rows) of 28 columns fits, and so does a re-read opinions.csv of a million rows.
MAX_CELLS = 30_000_000

#: Levels of arrays and objects inside one JSON value. Exports nest one or two; Python's JSON
#: reader gives up near a thousand.
MAX_NESTING = 64

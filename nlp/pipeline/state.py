"""The state of one run of :meth:`nlp.pipeline.Pipeline.run`, and the steps over it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nlp.core.memory import release_freed_memory

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from nlp.core.engines import Engine
    from nlp.io.columns import Columns
    from nlp.io.readers import InputTable
    from nlp.pipeline.blocks import PerRow
    from nlp.pipeline.checkpoint import Checkpoint
    from nlp.pipeline.rows import RowClasses, RowVectors
    from nlp.summarize.draft import Draft

__all__ = ["Progress", "RunState", "step"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a stage runs."""


@dataclass
class RunState:
    """One run's state, filled in step by step. A step sets to ``None`` what no later step
    reads, so that it is freed before the next step allocates."""

    table: InputTable
    columns: Columns
    report: Progress
    keys: Sequence[str] | None  # the store keys the caller gave, by row
    checkpoint: Checkpoint | None
    engine: Engine | None
    keep_input: bool
    titles: list[str] | None  # the title cells, then the masked titles
    times: list[str] | None  # the time cells
    parsed_times: pd.Series | None
    began: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    row_wall: float = 0.0
    learnt_rows: int = 0  # the input rows the classifier learnt from
    rows: PerRow | None = None  # what the per-row stages found
    distinct: list[int] = field(default_factory=list)  # the rows that went through them
    source: list[int] | None = None  # each row's distinct row
    source_of: np.ndarray | None = None  # the same, as an array
    ok: list[int] = field(default_factory=list)  # the rows scored
    duplicate_of: list[int | None] | None = None
    near_of: list[int | None] | None = None
    text_keys: list[str] = field(default_factory=list)  # the store's keys of exact duplicates
    cluster: list[str] = field(default_factory=list)
    vectors: RowVectors | None = None  # the scored rows' centred vectors
    earlier: set[str] = field(default_factory=set)  # stored clusters that rows joined
    text: list[str] | None = None
    classes: RowClasses | None = None
    row_keys: list[str] = field(default_factory=list)  # the scored rows' keys in the store
    opinions: pd.DataFrame | None = None
    clusters: pd.DataFrame | None = None
    drafts: list[Draft] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.table.frame)


def step(timing: str | None = None) -> Callable:
    """A step of :meth:`Pipeline.run`: its seconds are added to ``timings[timing]``, and once it
    has returned, the memory it let go of is given back to the system (one place for it: the
    allocator keeps freed blocks of a large step, which the small objects of the next ones
    reuse little of)."""

    def wrap(method: Callable[[Any, RunState], None]) -> Callable[[Any, RunState], None]:
        @functools.wraps(method)
        def stepped(self: Any, state: RunState) -> None:
            start = time.perf_counter()
            method(self, state)
            if timing is not None:
                spent = time.perf_counter() - start
                state.timings[timing] = state.timings.get(timing, 0.0) + spent
            release_freed_memory()

        return stepped

    return wrap

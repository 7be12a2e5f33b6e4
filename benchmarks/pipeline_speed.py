"""Rows per second of each pipeline stage on one export.

    python benchmarks/pipeline_speed.py [FILE] [--repeat N]

Default FILE: ../shared/data/tipdm2020c/hotspot_messages_fj3.xlsx (4,326 real messages, about
380 characters each) when it is there, else the built-in demo export. Prints a table; the pipeline
is built once and warmed on a few rows first, so model loading is not counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from nlp import InputTable, Pipeline, read_table
from nlp.core.resources import corpus_path
from nlp.io import resolve_columns

HOTSPOT = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "tipdm2020c"
    / "hotspot_messages_fj3.xlsx"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=HOTSPOT if HOTSPOT.exists() else corpus_path("sample_opinions.csv"),
    )
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    table = read_table(args.file)
    read_seconds = time.perf_counter() - start
    columns = resolve_columns(list(table.frame.columns))
    n = len(table.frame)
    chars = table.frame[columns.text].str.len()

    pipeline = Pipeline()
    pipeline.run(
        InputTable.from_texts(["暖气不热，屋里才十五度", "我是张德顺，村里那条路坏了"])
    )  # load models

    runs = []
    for _ in range(args.repeat):
        result = pipeline.run(table, columns)
        runs.append({stage: t["seconds"] for stage, t in result.summary["timings"].items()})

    print(
        f"file: {args.file.name}  rows: {n}  mean chars: {chars.mean():.0f}  median: {chars.median():.0f}"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print(f"| {'stage':<10} | {'seconds':>8} | {'rows/s':>9} |")
    print(f"|{'-' * 12}|{'-' * 10}|{'-' * 11}|")
    print(f"| {'read':<10} | {read_seconds:>8.2f} | {n / read_seconds:>9.0f} |")
    total = read_seconds
    for stage in runs[0]:
        seconds = statistics.median(r[stage] for r in runs)
        total += seconds
        print(
            f"| {stage:<10} | {seconds:>8.2f} | {n / seconds if seconds else float('inf'):>9.0f} |"
        )
    print(f"| {'total':<10} | {total:>8.2f} | {n / total:>9.0f} |")


if __name__ == "__main__":
    main()

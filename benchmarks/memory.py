"""Where a batch run's memory goes: the main process's peak resident set in each stage.

    python benchmarks/memory.py FILE [--workers 2]
    python benchmarks/memory.py --rows 40000        # a set generated as in scale.py
    python benchmarks/memory.py FILE --blocks DIR   # per-row blocks saved in DIR, reused when run again
    python benchmarks/memory.py FILE --drafts auto  # draft every cluster minyi score drafts (default: the top 50)

Runs the job on FILE (read, per-row stages in worker processes, duplicates, clusters, the
opinions table, cluster descriptions, drafts (of the top 50 clusters unless ``--drafts`` says
otherwise), writing CSV and XLSX) and samples the
main process's resident set every 50 ms. A stage is entered when the pipeline calls the function
named after it, so the table shows which step held the most. Prints a table of the peak in each
stage (MiB), the largest worker's peak and the stages' seconds. With ``--blocks`` the per-row
stages' blocks are saved in DIR (as ``minyi score --resume`` saves them), and a second run on the
same file loads them instead: the later stages' memory can then be measured again in minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

# Stage names, and the functions that nlp.pipeline.pipeline calls (or the steps of Pipeline.run)
# whose calls begin them.
FUNCTIONS = {
    "exact_duplicates": "exact duplicates",
    "near_duplicates": "near duplicates",
    "summarize_clusters": "describing clusters",
}
METHODS = {
    "_clusters": "clusters",
    "_read_back": "reading rows back",
    "_opinions_table": "opinions table",
    "_drafts": "drafts",
    "_result": "summary",
}
# Steps inside a stage: (label while it runs, label after it returns).
INSIDE = {"_faiss_neighbours": ("clusters: faiss index and search", "clusters: after the search")}


def profile(path: Path, workers: int, blocks: Path | None = None, drafts: str = "top 50") -> None:
    from nlp import Pipeline, PipelineConfig, read_table
    from nlp.clustering import semantic
    from nlp.core.engines import make_engine
    from nlp.outputs import write_outputs
    from nlp.pipeline import pipeline
    from nlp.pipeline.checkpoint import Checkpoint, fingerprint

    me = psutil.Process()
    stage = ["reading"]
    peaks: dict[str, float] = {}
    ended: dict[str, float] = {}
    worker_peak = [0.0]
    done = threading.Event()
    began = time.perf_counter()

    def sample() -> None:
        while not done.wait(0.05):
            name = stage[0]
            peaks[name] = max(peaks.get(name, 0.0), me.memory_info().rss / 2**20)
            ended[name] = time.perf_counter() - began
            try:
                worker_peak[0] = max(
                    [worker_peak[0]] + [c.memory_info().rss / 2**20 for c in me.children()]
                )
            except psutil.Error:
                pass

    def entering(owner, name: str, label: str, after: str | None = None) -> None:
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            stage[0] = label
            try:
                return original(*args, **kwargs)
            finally:
                if after:
                    stage[0] = after

        setattr(owner, name, wrapped)

    for name, label in FUNCTIONS.items():
        entering(pipeline, name, label)
    for name, label in METHODS.items():
        entering(pipeline.Pipeline, name, label)
    for name, (label, after) in INSIDE.items():
        entering(semantic, name, label, after)
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    table = read_table(path)
    stage[0] = "per-row stages (blocks)"
    runner = make_engine("local", workers=workers)
    config = PipelineConfig(drafts=drafts)
    # Which clusters get drafts does not change the per-row blocks: saved blocks serve any --drafts.
    identity = {"input": fingerprint(path), "config": {**config.to_dict(), "drafts": "top 50"}}
    checkpoint = Checkpoint(blocks, identity) if blocks else None
    try:
        result = Pipeline(config).run(
            table, engine=runner, checkpoint=checkpoint, keep_input=False
        )  # as minyi score runs it
    finally:
        if runner is not None:  # --workers 1 runs in this process
            runner.close()
    stage[0] = "writing outputs"
    with tempfile.TemporaryDirectory() as folder:
        write_outputs(result, Path(folder) / "out", ["csv", "xlsx"])
    done.set()
    watcher.join()
    reused = f", {checkpoint.reused} of the blocks loaded from {blocks}" if checkpoint else ""
    print(
        f"\n{len(table.frame):,} rows, {result.summary['per_row_stages_rows']:,} distinct, {len(result.clusters):,} clusters, {len(result.drafts):,} drafts ({drafts}), {workers} workers{reused}\n"
    )
    print("| stage | peak RSS of the main process MiB | stage ended at s |")
    print("|---|---:|---:|")
    for name in peaks:
        print(f"| {name} | {peaks[name]:,.0f} | {ended[name]:,.0f} |")
    print(
        f"\nlargest worker: {worker_peak[0]:,.0f} MiB; whole run: {max(peaks.values()):,.0f} MiB in the main process"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument(
        "--rows",
        type=int,
        help="generate a set of this many rows (as benchmarks/scale.py does) and profile it",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--blocks",
        type=Path,
        help="save the per-row blocks here, or load them when a run on the same file saved them",
    )
    parser.add_argument(
        "--drafts",
        default="top 50",
        help="which clusters get drafts, as minyi score --drafts takes it (its default: auto)",
    )
    args = parser.parse_args()
    if args.file is None and args.rows is None:
        parser.error("give a FILE or --rows N")
    if args.file is not None:
        profile(args.file, args.workers, args.blocks, args.drafts)
        return
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"rows-{args.rows}.csv"
        # Made in a process of its own, so that generating it does not count in the run's memory.
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("scale.py")),
                "--make",
                str(args.rows),
                str(source),
            ],
            check=True,
        )
        profile(source, args.workers, args.blocks, args.drafts)


if __name__ == "__main__":
    main()

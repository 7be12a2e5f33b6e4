"""The whole batch job as rows grow: seconds per stage, rows/s, peak memory, and the ratio to
plain jieba segmentation of the same texts.

    python benchmarks/scale.py [--sizes 10000 100000 1000000] [--engine local|inline|dask] [--workers 2] [--drafts auto] [--model builtin|lexicon]

Test sets are made by resampling the public message sets beside the project
(../shared/data/tipdm2020c/*.xlsx) and the project's own opinions (corpora/), each row lightly
perturbed: a random character dropped or two swapped, the place swapped for another, a number
changed, so that near-duplicates and same-issue clusters appear as in real exports. Without the
shared data only corpora/ is used. Each set is made in a process of its own and each size runs in
a fresh process (its peak RSS is its own, worker processes counted separately).

Columns: rows, distinct (text, title) pairs (a repeat goes through the per-row stages once; the
generated sets repeat their seeds more as they grow), seconds for reading, per-row stages (normalise, mask, segment, classify, encode:
wall time), duplicates, clusters, drafts and writing the outputs; the whole job; rows/s; peak RSS
of the main process and of the largest worker; seconds of plain ``jieba.lcut`` over the same texts
in a fresh process (the median of ``--jieba-runs`` runs, each in its own process: on a shared
machine one run of the same texts has taken anywhere from 1× to 2× the fastest, so a single run
makes the ratio swing as much); whole job / jieba. ``--drafts`` picks the drafted clusters as
``minyi score --drafts`` does (``auto`` by default, as there).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "tipdm2020c"
PLACES = [
    "青石村",
    "柳湾村",
    "幸福小区",
    "东关社区",
    "向阳小区",
    "桥南社区",
    "石桥镇",
    "马家坪村",
    "城关街道",
    "新华路",
    "解放路",
    "河西村",
]


def seeds() -> list[str]:
    texts = []
    for name in (
        "hotspot_messages_fj3.xlsx",
        "messages_unlabeled.xlsx",
        "messages_labeled_with_titles.xlsx",
    ):
        path = SHARED / name
        if path.exists():
            frame = pd.read_excel(path, engine="calamine", dtype=str).fillna("")
            texts += [f"{t}。{x}".strip() for t, x in zip(frame["留言主题"], frame["留言详情"])]
    from nlp.core.resources import corpus_path

    corpus = pd.read_csv(corpus_path("training_opinions.csv"), dtype=str, keep_default_na=False)
    texts += corpus["text"].tolist()
    sample = pd.read_csv(corpus_path("sample_opinions.csv"), dtype=str, keep_default_na=False)
    texts += sample["意见内容"].tolist()
    return [t for t in texts if t.strip()]


def perturb(text: str, rng: np.random.Generator) -> str:
    chars = list(text)
    roll = rng.random()
    if roll < 0.25 and len(chars) > 4:
        del chars[rng.integers(len(chars))]
    elif roll < 0.5 and len(chars) > 4:
        k = rng.integers(len(chars) - 1)
        chars[k], chars[k + 1] = chars[k + 1], chars[k]
    text = "".join(chars)
    for place in PLACES:
        if place in text and rng.random() < 0.5:
            text = text.replace(place, PLACES[rng.integers(len(PLACES))])
            break
    if rng.random() < 0.3:
        text = f"{PLACES[rng.integers(len(PLACES))]}：{text}"
    return text


def make_set(n: int, path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    base = seeds()
    picks = rng.integers(len(base), size=n)
    days = pd.Timestamp("2024-07-01") + pd.to_timedelta(rng.integers(0, 90, size=n), unit="D")
    frame = pd.DataFrame({
        "编号": [f"S{i:07d}" for i in range(n)],
        "日期": days.strftime("%Y-%m-%d"),
        "意见内容": [perturb(base[k][:600], rng) for k in picks],
    })  # fmt: skip
    frame.to_csv(path, index=False, encoding="utf-8")


def jieba_seconds(path: Path) -> float:
    """Seconds of plain ``jieba.lcut`` over the texts of a generated set (dictionary loaded first)."""
    import jieba

    texts = pd.read_csv(path, dtype=str, keep_default_na=False)["意见内容"].tolist()
    jieba.initialize()
    start = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return time.perf_counter() - start


def one(
    source: Path,
    engine: str,
    workers: int,
    jieba_runs: int = 3,
    drafts: str = "auto",
    model: str | None = None,
) -> dict:
    """Run the job once on a generated set (in this process) and report."""
    from nlp import Pipeline, PipelineConfig, read_table
    from nlp.core.engines import make_engine
    from nlp.outputs import write_outputs

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        table = read_table(source)
        n = len(table.frame)
        read = time.perf_counter() - start
        runner = make_engine(engine, workers=workers)
        try:
            config = PipelineConfig(drafts=drafts, **({"classifier": model} if model else {}))
            result = Pipeline(config).run(table, engine=runner)
        finally:
            if runner is not None:
                runner.close()
        start = time.perf_counter()
        write_outputs(result, Path(folder) / "out", ["csv", "xlsx"])
        written = time.perf_counter() - start
        wall = result.summary["wall_seconds"]
        # In a fresh process: this one's large heap makes the garbage collector slow jieba down.
        # Peak memory before the jieba process starts (a forked child counts the parent's pages).
        rss_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        runs = sorted(
            float(
                subprocess.run(
                    [sys.executable, __file__, "--jieba", str(source)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for _ in range(jieba_runs)
        )
        segment = runs[len(runs) // 2]
    total = read + wall["total"] + written
    return {
        "rows": n, "read": read, "per_row": wall["per_row_stages"], "dedupe": wall["dedupe"], "cluster": wall["cluster"],
        "draft": wall["draft"], "write": written, "total": total, "rows_per_s": n / total,
        "rss_main_mib": rss_main, "rss_worker_mib": rss_worker,
        "jieba": segment, "jieba_range": (runs[0], runs[-1]), "ratio": total / segment, "clusters": int(len(result.clusters)),
        "distinct": result.summary["per_row_stages_rows"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engine", default="local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--jieba-runs", type=int, default=3, help="plain jieba runs per size (the median is used)"
    )
    parser.add_argument(
        "--drafts", default="auto", help="which clusters get a draft, as minyi score --drafts"
    )
    parser.add_argument(
        "--model",
        help="the classifier, as minyi score --model (builtin, lexicon or a folder); its default when left out",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--jieba", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(
            json.dumps(
                one(
                    Path(args.one),
                    args.engine,
                    args.workers,
                    args.jieba_runs,
                    args.drafts,
                    args.model,
                )
            )
        )
        return
    if args.make:
        make_set(int(args.make[0]), Path(args.make[1]))
        return
    if args.jieba:
        print(jieba_seconds(Path(args.jieba)))
        return
    if not SHARED.exists():
        print(f"note: {SHARED} not found; generating from corpora/ only", file=sys.stderr)
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            # Made in a process of its own: generating the rows must not count in the job's memory.
            source = Path(folder) / f"rows-{n}.csv"
            subprocess.run([sys.executable, __file__, "--make", str(n), str(source)], check=True)
            model = ["--model", args.model] if args.model else []
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    str(source),
                    "--engine",
                    args.engine,
                    "--workers",
                    str(args.workers),
                    "--jieba-runs",
                    str(args.jieba_runs),
                    "--drafts",
                    args.drafts,
                    *model,
                ],
                capture_output=True,
                text=True,
            )
        if done.returncode != 0:
            sys.exit(f"size {n} failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"[{n} rows done in {rows[-1]['total']:.0f} s]", file=sys.stderr)
    print(
        f"\nengine {args.engine}, {args.workers} workers, drafts {args.drafts}, model {args.model or 'the default'}\n"
    )
    print(
        "| rows | distinct (text, title) | read s | per-row stages s | dedupe s | cluster s | draft s | write s | total s | rows/s | peak RSS main / worker MiB | jieba s (median; min–max) | total / jieba | clusters |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['rows']:,} | {r['distinct']:,} | {r['read']:.1f} | {r['per_row']:.1f} | {r['dedupe']:.1f} | {r['cluster']:.1f} | {r['draft']:.1f} | {r['write']:.1f} "
            f"| {r['total']:.1f} | {r['rows_per_s']:.0f} | {r['rss_main_mib']:.0f} / {r['rss_worker_mib']:.0f} | {r['jieba']:.1f} ({r['jieba_range'][0]:.1f}–{r['jieba_range'][1]:.1f}) | {r['ratio']:.1f}× | {r['clusters']:,} |"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        growth = np.log(b["total"] / a["total"]) / np.log(b["rows"] / a["rows"])
        print(f"\ncost grows as rows^{growth:.2f} from {a['rows']:,} to {b['rows']:,} rows")


if __name__ == "__main__":
    main()

"""The ``minyi`` command: score an export, run the demo.

This module is the terminal end of the pipeline: it parses options, shows progress and turns
errors into one clear line and exit code 2. The work is done by :class:`nlp.Pipeline`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nlp.cli.common import EXIT_INPUT, _fail, _secret, _unexpected
from nlp.core.errors import MinyiError
from nlp.core.version import __version__

app = typer.Typer(
    name="minyi",
    help=(
        "民意 Minyi: classify, de-duplicate and cluster citizens' opinions, and draft suggestions.\n\n"
        "Example: minyi score 2024Q3.xlsx --out out/2024Q3"
    ),
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"minyi {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """民意 Minyi command line."""
    import os

    os.umask(0o077)  # what Minyi writes (outputs, state, saved blocks) is its owner's only


_RAW_CSV_HELP = (
    "Write the CSV files' texts as they are. By default a text starting with = + - @ (or a tab or"
    " carriage return) gets a leading ' so that Excel shows it instead of running it as a formula."
)


@app.command()
def score(
    input: Annotated[
        Path,
        typer.Argument(
            help="Export to score: .csv .tsv .txt .xlsx .xls .jsonl .json .parquet",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output folder (created if missing). Example: --out out/2024Q3"
        ),
    ] = Path("minyi-out"),
    text_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding the opinion text. Example: --text-column 留言详情. Guessed from common names when left out.",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column with each opinion's id. Example: --id-column 留言编号", show_default=False
        ),
    ] = None,
    time_column: Annotated[
        str | None,
        typer.Option(
            help="Column with the date or time. Example: --time-column 留言时间", show_default=False
        ),
    ] = None,
    source_column: Annotated[
        str | None,
        typer.Option(
            help="Column with the channel (接待日, 院落会, 扫码, 微信, 12345 ...). Example: --source-column 来源",
            show_default=False,
        ),
    ] = None,
    place_column: Annotated[
        str | None,
        typer.Option(
            help="Column with the place (village, community, street). Example: --place-column 地点",
            show_default=False,
        ),
    ] = None,
    title_column: Annotated[
        str | None,
        typer.Option(
            help="Column with a title or subject, used with the text. Example: --title-column 留言主题",
            show_default=False,
        ),
    ] = None,
    user_column: Annotated[
        str | None,
        typer.Option(
            help="Column identifying the person (masked like the text). Example: --user-column 留言用户",
            show_default=False,
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            help="Worksheet of an .xlsx file. Default: the first sheet with data. Example: --sheet 2024Q3",
            show_default=False,
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of a .csv/.txt/.jsonl file. Default: detected (UTF-8, UTF-8 with BOM, GBK/GB18030, Big5). Example: --encoding gbk",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="Extra output format; opinions.csv and opinions.xlsx are always written. Example: --format parquet",
            show_default=False,
        ),
    ] = None,
    keep_pii: Annotated[
        bool,
        typer.Option(
            "--keep-pii",
            help="Do NOT mask phones, ID numbers, e-mail, bank cards and names in the outputs.",
        ),
    ] = False,
    taxonomy: Annotated[
        Path | None,
        typer.Option(
            help="Your own taxonomy YAML (see corpora/taxonomy.yaml). Example: --taxonomy my_taxonomy.yaml",
            show_default=False,
        ),
    ] = None,
    routing: Annotated[
        Path | None,
        typer.Option(
            help="Routing table (CSV/XLSX with level1, level2, place, department) overriding the taxonomy's 承办单位 by class and place. Example: --routing routing.csv",
            show_default=False,
        ),
    ] = None,
    tokenizer: Annotated[
        str,
        typer.Option(
            help="Segmenter: jieba, jieba:/path/userdict.txt or hanlp:/path/to/local/model."
        ),
    ] = "jieba",
    model: Annotated[
        Path | None,
        typer.Option(
            help="Classifier: the built-in model by default (keywords + project corpus + sentence encoder, shipped with Minyi and self-trained on the input); 'lexicon' for the taxonomy's keyword rules alone; or a folder from `minyi train`. Example: --model lexicon",
            show_default=False,
        ),
    ] = None,
    abstain_below: Annotated[
        float,
        typer.Option(
            help="Mark rows below this confidence 待人工 instead of guessing. Example: --abstain-below 0.5"
        ),
    ] = 0.0,
    self_train: Annotated[
        bool,
        typer.Option(
            "--self-train/--no-self-train",
            help="Let the built-in model learn the input's wording first (from a sample of at most 2,000 rows) before classifying every row.",
        ),
    ] = True,
    state: Annotated[
        str | None,
        typer.Option(
            help="Cluster state: a folder (a SQLite file in it) or a database URL such as the service's MINYI_DATABASE_URL. Ids stay stable across runs and next quarter's opinions join this quarter's clusters. Example: --state state/",
            show_default=False,
        ),
    ] = None,
    encoder: Annotated[
        str,
        typer.Option(
            help="Sentence encoder for clusters: use, e5, tfidf or sentence-transformers:/path/to/local/model."
        ),
    ] = "use",
    cluster_threshold: Annotated[
        float | None,
        typer.Option(
            help="Similarity at which opinions count as one issue (higher: smaller, tighter clusters). By default a rule fitted on the project's gold set weighs the texts' similarity with their topics, lengths and places (0.15 for long posts that name one place, whose similarity is 0.2 of their sentences' and 0.8 of their words', and 0.29 more for posts that name no place; 0.24 for fragments; both move with this option). Example: --cluster-threshold 0.3",
            show_default=False,
        ),
    ] = None,
    near_threshold: Annotated[
        float,
        typer.Option(
            help="Character-shingle Jaccard similarity for near_duplicate_of. Example: --near-threshold 0.9"
        ),
    ] = 0.8,
    scoring: Annotated[
        Path | None,
        typer.Option(
            help="Your own scoring weights (see corpora/scoring.yaml). Example: --scoring my_scoring.yaml",
            show_default=False,
        ),
    ] = None,
    drafts: Annotated[
        str,
        typer.Option(
            help="Which clusters get a draft 代表建议 (drafts/*.md, *.docx, drafts.jsonl): auto (2+ distinct opinions, or urgent), all, none, 'top N' or ids. Example: --drafts 'top 20'"
        ),
    ] = "auto",
    llm_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible API (vLLM, Ollama ...) that polishes the drafts; its output is used only if every number and place in it is in the opinions. The key comes from MINYI_LLM_API_KEY. Example: --llm-url http://127.0.0.1:8000/v1",
            show_default=False,
        ),
    ] = None,
    llm_model: Annotated[
        str, typer.Option(help="Model name for --llm-url. Example: --llm-model qwen2.5-7b-instruct")
    ] = "default",
    max_chars: Annotated[
        int, typer.Option(help="Cut longer texts to this many characters (0: no limit).")
    ] = 5000,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Save progress in OUT/.minyi-work/ block by block; run the same command again after a crash or kill and it goes on from the last saved block. Example: minyi score big.csv --out out --resume",
        ),
    ] = False,
    block_size: Annotated[
        int,
        typer.Option(
            help="Rows per block: the unit of parallel work and of --resume. Example: --block-size 10000",
            min=1,
        ),
    ] = 1024,
    engine: Annotated[
        str,
        typer.Option(
            help="Where the per-row stages run: local (worker processes on this machine), dask (a Dask cluster; needs the dask extra) or inline (this process). Example: --engine dask"
        ),
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes for --engine local, or of the local Dask cluster. Default: the CPU count, at most 2. Example: --workers 4",
            min=1,
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler for --engine dask (its workers need Minyi installed); a local cluster when left out. Example: --scheduler tcp://10.0.0.5:8786",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars, only the final lines.")
    ] = False,
    raw_csv: Annotated[bool, typer.Option("--raw-csv", help=_RAW_CSV_HELP)] = False,
) -> None:
    """Score an opinion export: classify, mask, find duplicates, write opinions.csv/.xlsx, summary.json and report.html.

    Example: minyi score 2024Q3.xlsx --out out/2024Q3 --text-column 留言详情 --id-column 留言编号
    """
    from nlp.core.config import PipelineConfig

    config = PipelineConfig(
        tokenizer=tokenizer,
        classifier=str(model) if model else "builtin",
        taxonomy=str(taxonomy) if taxonomy else None,
        routing=str(routing) if routing else None,
        mask_pii=not keep_pii,
        abstain_below=abstain_below,
        self_train=self_train,
        max_chars=max_chars,
        encoder=encoder,
        cluster_threshold=cluster_threshold,
        near_threshold=near_threshold,
        scoring=str(scoring) if scoring else None,
        drafts=drafts,
        block_size=block_size,
    )
    columns = dict(
        text=text_column,
        id=id_column,
        time=time_column,
        source=source_column,
        place=place_column,
        title=title_column,
        user=user_column,
    )
    drafter = None
    if llm_url:
        import os

        from nlp.summarize import LLMRewriter

        drafter = LLMRewriter(llm_url, llm_model, api_key=os.environ.get("MINYI_LLM_API_KEY"))
    if engine not in ("local", "dask", "inline"):
        _fail(f"--engine {engine!r} is not local, dask or inline")
    if scheduler and engine != "dask":
        _fail("--scheduler needs --engine dask")
    _run(
        input,
        out,
        config,
        columns,
        sheet=sheet,
        encoding=encoding,
        formats=["csv", "xlsx", *(format or [])],
        quiet=quiet,
        state=state,
        drafter=drafter,
        resume=resume,
        raw_csv=raw_csv,
        engine={"name": engine, "workers": workers, "scheduler": scheduler},
    )


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Example: --host 0.0.0.0")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port. Example: --port 8080")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes. Example: --workers 2")] = 1,
) -> None:
    """Run the HTTP API (settings from MINYI_* environment variables or .env; keys in MINYI_API_KEYS).

    Example: MINYI_API_KEYS=secret minyi serve --port 8000
    """
    try:
        import uvicorn

        import service  # noqa: F401  (fails here, clearly, without the extra)
    except ImportError as e:
        from nlp.core.errors import NotInstalledError

        _fail(str(NotInstalledError("minyi serve", "fastapi/uvicorn", "service")) + f" ({e})")
    uvicorn.run("service.main:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder. Example: --out demo-out")
    ] = Path("minyi-demo"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    raw_csv: Annotated[bool, typer.Option("--raw-csv", help=_RAW_CSV_HELP)] = False,
) -> None:
    """Score the built-in sample export (corpora/sample_opinions.csv) and say where the results are.

    Example: minyi demo --out demo-out
    """
    from nlp.core.config import PipelineConfig
    from nlp.core.resources import corpus_path

    sample = corpus_path("sample_opinions.csv")
    typer.echo(f"Scoring the built-in sample {sample}")
    _run(sample, out, PipelineConfig(), {}, formats=["csv", "xlsx"], quiet=quiet, raw_csv=raw_csv)


def _run(
    path: Path,
    out: Path,
    config,
    columns: dict,
    *,
    formats: list[str],
    quiet: bool,
    sheet=None,
    encoding=None,
    state=None,
    drafter=None,
    resume=False,
    engine=None,
    raw_csv=False,
) -> None:
    from rich.console import Console

    from nlp.io import read_table, resolve_columns
    from nlp.outputs import write_outputs
    from nlp.pipeline import STAGES, Pipeline

    console = Console(stderr=True, quiet=quiet)
    try:
        with console.status(f"reading {path}"):
            table = read_table(path, sheet=sheet, encoding=encoding)
        cols = resolve_columns(list(table.frame.columns), **columns)
        facts = [table.format]
        if table.encoding:
            facts.append(f"encoding {table.encoding}")
        if table.sheet:
            facts.append(f"sheet {table.sheet!r}")
        console.print(
            f"read {len(table.frame)} rows from {path} ({', '.join(facts)}); text column {cols.text!r}"
        )
        for note in table.notes:
            console.print(f"[yellow]note:[/] {note}")
        if len(table.frame) == 0:
            console.print("[yellow]note:[/] the file has a header but no data rows")
        from nlp.clustering.store import ClusterStore

        secret = _secret()
        store = ClusterStore(state, secret=secret) if state else None
        pipeline = Pipeline(config, store=store, drafter=drafter, secret=secret)
        checkpoint = None
        if resume:
            from nlp.core.version import __version__
            from nlp.pipeline.checkpoint import Checkpoint, fingerprint

            identity = {
                "input": fingerprint(path),
                "sheet": table.sheet,
                "encoding": table.encoding,
                "columns": cols.as_dict(),
                "config": config.to_dict(),
                "minyi": __version__,
            }
            checkpoint = Checkpoint(out / ".minyi-work", identity, pipeline.secret)
            saved = checkpoint.blocks()
            if saved:
                typer.echo(
                    f"resuming: {saved} saved block(s) of {config.block_size} rows found in {checkpoint.folder}",
                    err=True,
                )
        with _progress(console, quiet) as bars:
            tasks = {stage: bars.add_task(stage, total=None) for stage in STAGES}

            def report(stage: str, done: int, total: int) -> None:
                bars.update(tasks[stage], completed=done, total=max(total, 1) if total else 1)

            blocks = -(-len(table.frame) // config.block_size)
            runner = None
            # Local workers pay off only with several blocks each: a worker runs ONNX on one
            # thread, so one big block on one worker is slower than this process on all cores.
            if engine and (
                blocks >= 2 * (engine["workers"] or 2) if engine["name"] == "local" else blocks > 1
            ):
                from nlp.core.engines import make_engine

                runner = make_engine(
                    engine["name"], workers=engine["workers"], scheduler=engine["scheduler"]
                )
            try:
                result = pipeline.run(
                    table,
                    cols,
                    progress=report,
                    checkpoint=checkpoint,
                    engine=runner,
                    keep_input=False,
                )
            finally:
                if runner is not None:
                    runner.close()
        written = write_outputs(result, out, formats, raw_csv=raw_csv)
        written.pop("drafts", None)
        if checkpoint is not None:
            checkpoint.remove()
    except MinyiError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as e:  # never show a traceback to staff; say what broke
        _unexpected(e)
    s = result.summary["status"]
    typer.echo(
        f"{len(result.opinions)} rows: {s['ok']} ok, {s['empty']} empty, {s['error']} error; "
        f"{result.summary['duplicates']['rows']} exact duplicates"
    )
    c = result.summary["clusters"]
    if result.drafts:
        typer.echo(f"{len(result.drafts)} draft suggestions in {out}/drafts/")
    typer.echo(
        f"{c['count']} issue clusters, {c['with_2_or_more']} with 2 or more opinions ({c['rows_in_clusters_of_2_or_more']} rows)"
    )
    top = list(result.summary["level1"].items())[:5]
    if top:
        about = result.summary["classifier"]
        learnt = about["self_trained_on_rows"]
        taught = f", self-trained on {learnt} rows of the input" if learnt else ""
        typer.echo(f"classified by the {about['model']}{taught}")
        typer.echo("top classes: " + ", ".join(f"{name} {count}" for name, count in top))
    if resume:
        typer.echo(f"{checkpoint.reused} saved block(s) reused, {checkpoint.computed} computed")
    typer.echo(f"results in {out}/: " + ", ".join(p.name for p in written.values()))


def _progress(console, quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


from nlp.cli import models, service_commands  # noqa: E402  (commands registered on app)

models.register(app)
service_commands.register(app)


def main() -> None:
    """Entry point of the ``minyi`` script."""
    try:
        app()
    except MinyiError as e:  # raised outside a command (should not happen, but never a traceback)
        typer.echo(f"minyi: error: {e}", err=True)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()

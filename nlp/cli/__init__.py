"""The ``minyi`` command: score an export, run the demo.

This module is the terminal end of the pipeline: it parses options, shows progress and turns
errors into one clear line and exit code 2. The work is done by :class:`nlp.Pipeline`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

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

EXIT_INPUT = 2


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    typer.echo(f"minyi: error: {message}", err=True)
    raise typer.Exit(code)


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


def _secret() -> bytes | None:
    """The secret given in ``MINYI_SECRET`` (see :mod:`nlp.core.secrets`), or ``None``: then a
    SQLite state keeps its own beside it, and a run without one uses this user's."""
    import os

    from nlp.core.secrets import parse_secret

    given = os.environ.get("MINYI_SECRET")
    return parse_secret(given) if given else None


Column = Annotated[str | None, typer.Option(show_default=False)]
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
            help="Classify with a model trained by `minyi train`, or 'builtin' for the built-in cold-start model (keywords + project corpus + sentence encoder, self-trained on the input), instead of the keyword rules. Example: --model models/2024",
            show_default=False,
        ),
    ] = None,
    abstain_below: Annotated[
        float,
        typer.Option(
            help="Mark rows below this confidence 待人工 instead of guessing. Example: --abstain-below 0.5"
        ),
    ] = 0.0,
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
        float,
        typer.Option(
            help="Similarity at which opinions count as one issue (higher: smaller, tighter clusters). Example: --cluster-threshold 0.6"
        ),
    ] = 0.55,
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
        classifier=str(model) if model else "lexicon",
        taxonomy=str(taxonomy) if taxonomy else None,
        routing=str(routing) if routing else None,
        mask_pii=not keep_pii,
        abstain_below=abstain_below,
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
def train(
    input: Annotated[
        Path | None,
        typer.Argument(
            help="Labeled export: any format `minyi score` reads (optional with --from-state)",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Model folder to write. Example: --out models/2024",
            show_default=False,
        ),
    ] = ...,
    label_column: Annotated[
        str | None,
        typer.Option(
            help="Column with the class of each opinion (any label names). Example: --label-column 一级分类",
            show_default=False,
        ),
    ] = None,
    text_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding the opinion text; guessed when left out. Example: --text-column 留言详情",
            show_default=False,
        ),
    ] = None,
    level2_column: Annotated[
        str | None,
        typer.Option(
            help="Column with a second-level class; a model of its own fills level2. Example: --level2-column 二级分类",
            show_default=False,
        ),
    ] = None,
    unlabeled: Annotated[
        Path | None,
        typer.Option(
            help="Export of unlabeled opinions (same text column) for self-training. Example: --unlabeled 2024Q4.xlsx",
            show_default=False,
        ),
    ] = None,
    from_state: Annotated[
        str | None,
        typer.Option(
            help="A state (folder or database URL) whose reviewed labels become training data: alone, the built-in model learns them; with INPUT, they join its rows. Example: --from-state state/",
            show_default=False,
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="Worksheet of an .xlsx file. Example: --sheet 标注", show_default=False),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding; detected when left out. Example: --encoding gbk",
            show_default=False,
        ),
    ] = None,
    corpus: Annotated[
        bool,
        typer.Option(
            "--corpus/--no-corpus",
            help="Where your labels are the default taxonomy's class names, the project's own labeled opinions of those classes join training (each counting half one of yours), kept only if cross-validation on your rows scores better with them.",
        ),
    ] = True,
) -> None:
    """Train a classifier on your own labels or on review decisions; use it with `minyi score --model DIR`.

    Example: minyi train labeled.xlsx --text-column 留言详情 --label-column 一级分类 --out models/2024

    Example: minyi train --from-state state/ --out models/reviewed
    """
    from nlp.classify import TrainedClassifier, corpus_examples

    if input is None and from_state is None:
        _fail("give a labeled export (with --label-column), --from-state DIR, or both")
    if input is not None and not label_column:
        _fail("--label-column is needed with a labeled export")
    try:
        reviewed = _reviewed(from_state) if from_state else None
        if input is None:
            _train_builtin(reviewed, out, from_state)
            return
        texts, labels, extra = _labeled(
            input, text_column, label_column, level2_column, sheet, encoding
        )
        if reviewed is not None and len(reviewed):
            texts, labels = [*texts, *reviewed["text"]], [*labels, *reviewed["level1"]]
            extra = [*extra, *reviewed["level2"]] if extra is not None else None
        tokenizer = _default_tokenizer()
        others = None
        if unlabeled:
            from nlp.io import read_table, resolve_columns

            table = read_table(unlabeled)
            cols = resolve_columns(
                list(table.frame.columns),
                text=text_column if text_column in table.frame.columns else None,
            )
            others = [t for t in _normalize(table.frame[cols.text].tolist()) if t]
            typer.echo(f"{len(others)} unlabeled rows for self-training")
        borrowed = None
        if corpus:
            found, found_labels = corpus_examples(labels)
            if found:
                typer.echo(
                    f"{len(found)} opinions of the project's corpus bear {len(set(found_labels))} of your label names; cross-validation says whether they help"
                )
                borrowed = (found, found_labels, tokenizer.tokenize_many(found))
        typer.echo("choosing the model by cross-validation …")
        clf = TrainedClassifier().fit(
            texts,
            labels,
            tokenizer.tokenize_many(texts),
            level2=extra,
            unlabeled=others,
            unlabeled_tokens=tokenizer.tokenize_many(others) if others else None,
            borrowed=borrowed,
        )
        clf.save(out)
    except MinyiError as e:
        _fail(str(e))
    except Exception as e:
        _fail(f"unexpected {type(e).__name__}: {e}", 1)
    m = clf.manifest_
    typer.echo(
        f"{len(m['labels'])} labels; cross-validated macro-F1 {max(m['cv_macro_f1'].values(), default=float('nan')):.3f} (C={m['C']})"
        + (
            f"; {m['self_training_rows']} unlabeled rows added by self-training"
            if unlabeled
            else ""
        )
    )
    if m.get("borrowed"):
        b = m["borrowed"]
        typer.echo(
            f"the corpus opinions were {'kept' if b['used'] else 'left out'} (without them: {b['cv_macro_f1_without']})"
            if b["cv_macro_f1_without"] is not None
            else "the corpus opinions were kept (too few rows of yours to cross-validate)"
        )
    typer.echo(f"model written to {out}/ (manifest.json, model.joblib)")


def _reviewed(state: str):
    """The opinions a reviewer relabelled in ``state``, texts normalised like training rows."""
    from nlp.clustering.store import ClusterStore

    store = ClusterStore(state)
    try:
        found = store.reviewed_examples()
    finally:
        store.close()
    found["text"] = _normalize(
        [f"{t}。{x}" if t else x for t, x in zip(found["title"], found["text"])]
    )
    typer.echo(f"{len(found)} reviewed opinions in {state}")
    return found


def _train_builtin(reviewed, out: Path, state: str) -> None:
    """The built-in model with the reviewed opinions added to its corpus."""
    from nlp.pipeline import Pipeline

    if not len(reviewed):
        _fail(
            f"no opinion in {state} has reviewed labels yet (relabel some with nlp.clustering.review.Review.relabel)"
        )
    pipeline = Pipeline()
    from nlp.classify import ColdStartClassifier

    clf = ColdStartClassifier(pipeline.taxonomy, encoder=pipeline.encoder)
    typer.echo("fitting the built-in model with the reviewed opinions …")
    clf.fit(
        pipeline.tokenizer,
        reviewed=(
            reviewed["text"].tolist(),
            reviewed["level1"].tolist(),
            reviewed["level2"].tolist(),
        ),
    )
    clf.save(
        out,
        {
            "state": str(state),
            "reviewed_labels": {k: int(v) for k, v in reviewed["level1"].value_counts().items()},
        },
    )
    typer.echo(
        f"{len(reviewed)} reviewed opinions learned; model written to {out}/ (use it with --model {out})"
    )


@app.command("export-decisions")
def export_decisions(
    state: Annotated[
        str,
        typer.Option(
            help="The state (folder or database URL) to read. Example: --state state/",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Argument(help="JSON file to write", show_default=False)],
) -> None:
    """Write the review decisions in force (merges, splits, labels, statuses …) to a JSON file.

    Example: minyi export-decisions --state state/ decisions.json
    """
    from nlp.clustering.review import Review

    try:
        with Review(state) as review:
            count = review.export_decisions(output)
    except MinyiError as e:
        _fail(str(e))
    typer.echo(f"{count} decisions written to {output}")


@app.command("import-decisions")
def import_decisions(
    state: Annotated[
        str,
        typer.Option(
            help="The state (folder or database URL) to apply them to. Example: --state state/",
            show_default=False,
        ),
    ],
    input: Annotated[
        Path, typer.Argument(help="JSON file from `minyi export-decisions`", show_default=False)
    ],
) -> None:
    """Apply review decisions exported from another machine (each once; who, when and why kept).

    Example: minyi import-decisions --state state/ decisions.json
    """
    from nlp.clustering.review import Review

    try:
        with Review(state) as review:
            result = review.import_decisions(input)
    except MinyiError as e:
        _fail(str(e))
    typer.echo(f"{len(result['applied'])} decisions applied, {len(result['skipped'])} skipped")
    for uid, reason in result["skipped"]:
        typer.echo(f"  skipped {uid}: {reason}")


@app.command()
def purge(
    state: Annotated[
        str,
        typer.Option(
            help="The state (folder or database URL) to purge. Example: --state state/",
            show_default=False,
        ),
    ],
    older_than: Annotated[
        str,
        typer.Option(
            help="Delete opinions stored longer ago than this: days (365d) or weeks (52w).",
            show_default=False,
        ),
    ],
) -> None:
    """Delete stored opinions older than a time, with the clusters they leave empty.

    Example: minyi purge --state state/ --older-than 365d
    """
    from datetime import UTC, datetime, timedelta

    from nlp.clustering.store import ClusterStore

    unit = {"d": 1, "w": 7}.get(older_than[-1:].lower())
    if unit is None or not older_than[:-1].isdigit():
        _fail(f"--older-than {older_than!r} is not a number of days or weeks such as 365d or 52w")
    cutoff = datetime.now(UTC) - timedelta(days=int(older_than[:-1]) * unit)
    try:
        store = ClusterStore(state, secret=_secret())
        try:
            done = store.purge(cutoff.isoformat(timespec="seconds"))
        finally:
            store.close()
    except MinyiError as e:
        _fail(str(e))
    typer.echo(
        f"deleted {done['opinions']} opinions, {done['members']} membership keys and "
        f"{done['clusters']} empty clusters stored before {cutoff:%Y-%m-%d}"
    )


@app.command()
def evaluate(
    input: Annotated[
        Path,
        typer.Argument(help="Labeled export: any format `minyi score` reads", show_default=False),
    ],
    label_column: Annotated[
        str,
        typer.Option(
            help="Column with the true class. Example: --label-column 一级分类", show_default=False
        ),
    ],
    model: Annotated[
        str,
        typer.Option(
            help="A folder from `minyi train`, 'builtin' or 'lexicon'. Example: --model models/2024"
        ),
    ] = "builtin",
    text_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding the opinion text; guessed when left out.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of tables.")
    ] = False,
    sheet: Annotated[
        str | None, typer.Option(help="Worksheet of an .xlsx file.", show_default=False)
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding; detected when left out.", show_default=False),
    ] = None,
) -> None:
    """Measure a classifier on labeled opinions: per-class precision/recall/F1, macro-F1, confusion matrix, calibration error.

    Example: minyi evaluate test.xlsx --label-column 一级分类 --model models/2024
    """
    import json

    from nlp.classify.evaluation import evaluate as measure
    from nlp.core.config import PipelineConfig
    from nlp.pipeline import Pipeline

    try:
        texts, labels, _ = _labeled(
            input, text_column, label_column, None, sheet, encoding, err=True
        )
        pipeline = Pipeline(PipelineConfig(classifier=model))
        predictions = pipeline.classifier.predict(texts, pipeline.tokenizer.tokenize_many(texts))
        report = measure(
            labels, [p.level1 for p in predictions], [p.confidence for p in predictions]
        )
    except MinyiError as e:
        _fail(str(e))
    except Exception as e:
        _fail(f"unexpected {type(e).__name__}: {e}", 1)
    report["model"] = model
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{len(texts)} opinions, model {model}")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for label, row in report["per_class"].items():
        table.add_row(
            label,
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            str(row["support"]),
        )
    console.print(table)
    console.print(
        f"accuracy {report['accuracy']:.3f}   macro-F1 {report['macro_f1']:.3f}   expected calibration error {report['ece']:.3f}"
    )
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for name in report["confusion"]["predicted"]:
        confusion.add_column(name, justify="right")
    for name, row in zip(report["confusion"]["true"], report["confusion"]["matrix"]):
        confusion.add_row(name, *map(str, row))
    console.print(confusion)


def _normalize(values) -> list[str]:
    from nlp.text.normalize import Normalizer

    return Normalizer().normalize_many(["" if v is None else str(v) for v in values])


def _default_tokenizer():
    """The tokenizer ``minyi score`` uses by default (so that training and scoring split words alike)."""
    from nlp.pipeline import Pipeline

    return Pipeline().tokenizer


def _labeled(
    path, text_column, label_column, level2_column, sheet, encoding, err: bool = False
) -> tuple[list[str], list[str], list[str] | None]:
    """Normalised texts and their labels from a labeled export (rows without either are skipped)."""
    from nlp.io import read_table, resolve_columns

    table = read_table(path, sheet=sheet, encoding=encoding)
    cols = resolve_columns(list(table.frame.columns), text=text_column)
    for option, name in (("--label-column", label_column), ("--level2-column", level2_column)):
        if name and name not in table.frame.columns:
            raise MinyiError(
                f"the input has no column {name!r} (for {option}); its columns are: {', '.join(table.frame.columns)}"
            )
    texts = _normalize(table.frame[cols.text].tolist())
    labels = [str(v).strip() for v in table.frame[label_column]]
    level2 = [str(v).strip() for v in table.frame[level2_column]] if level2_column else None
    keep = [i for i, (t, y) in enumerate(zip(texts, labels)) if t and y]
    if not keep:
        raise MinyiError("no row has both a text and a label")
    skipped = len(texts) - len(keep)
    typer.echo(
        f"{len(keep)} labeled rows"
        + (f" ({skipped} without text or label skipped)" if skipped else ""),
        err=err,
    )
    return (
        [texts[i] for i in keep],
        [labels[i] for i in keep],
        [level2[i] for i in keep] if level2 else None,
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
        _fail(
            f"unexpected {type(e).__name__}: {e} (please report this with the input file's first rows)",
            1,
        )
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


from nlp.cli import service_commands  # noqa: E402  (registers minyi keys and minyi audit on app)

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

"""``minyi train``, ``minyi evaluate``, review decisions moved between machines and ``minyi
purge``: the commands about models and stored state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nlp.cli.common import _fail, _secret, _unexpected
from nlp.core.errors import MinyiError

__all__ = ["register"]


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
        _unexpected(e)
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
    self_train: Annotated[
        bool,
        typer.Option(
            "--self-train/--no-self-train",
            help="Let the built-in model learn the file's wording first, as `minyi score` does.",
        ),
    ] = True,
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
        pipeline = Pipeline(PipelineConfig(classifier=model, self_train=self_train))
        tokens = pipeline.tokenizer.tokenize_many(texts)
        predictions = pipeline.batch_classifier(texts, tokens).predict(texts, tokens)
        report = measure(
            labels, [p.level1 for p in predictions], [p.confidence for p in predictions]
        )
    except MinyiError as e:
        _fail(str(e))
    except Exception as e:
        _unexpected(e)
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


def register(app: typer.Typer) -> None:
    """Add these commands to the ``minyi`` command."""
    app.command()(train)
    app.command("export-decisions")(export_decisions)
    app.command("import-decisions")(import_decisions)
    app.command()(purge)
    app.command()(evaluate)

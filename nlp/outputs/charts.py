"""Charts for the report and the notebooks, drawn by matplotlib as inline SVG.

Text stays text in the SVG (``svg.fonttype: none``), so the browser or notebook draws the Chinese
labels with its own fonts: the charts need no font file and no network, and a page that embeds
them is one self-contained file.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nlp.core.ids import parse_weekly_counts

__all__ = [
    "class_bars_svg",
    "cluster_map_svg",
    "confusion_svg",
    "cluster_trends_svg",
    "overall_weekly",
    "parse_weekly",
    "weekly_trend_svg",
]

_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "DejaVu Sans",
]
_STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": _FONTS,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "figure.dpi": 96,
    # Titles and labels come from the data: "$…$" in one is text, not mathtext to parse (and
    # fail on, as "$\\frac{}{}$" does).
    "text.parse_math": False,
}
_COLOURS = [
    "#c0392b",
    "#2e86c1",
    "#28b463",
    "#d68910",
    "#7d3c98",
    "#17a589",
    "#839192",
    "#cb4335",
    "#2874a6",
    "#b7950b",
]


def _svg(figure, tight_layout: bool = False) -> str:
    """The figure as an ``<svg>`` element (no XML prolog, no fixed pixel size)."""
    buffer = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # glyphs missing from the layout font are drawn by the browser
        if tight_layout:
            figure.tight_layout()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(
        r'(<svg[^>]*?) width="[^"]*" height="[^"]*"',
        r'\1 style="max-width:100%;height:auto"',
        text,
        count=1,
    )


def _figure(width: float, height: float, rows: int = 1, columns: int = 1):
    """A figure outside pyplot (no backend, no global state; safe inside notebooks)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots(rows, columns, squeeze=rows == columns == 1)


def _styled(draw):
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)

    wrapper.__doc__, wrapper.__name__ = draw.__doc__, draw.__name__
    return wrapper


@_styled
def class_bars_svg(counts: Mapping[str, int], title: str = "一级分类 Level-1 classes") -> str:
    """Horizontal bars, largest on top."""
    items = sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda kv: kv[1])
    figure, axis = _figure(7, 0.3 * max(len(items), 3) + 0.8)
    if items:
        names, values = zip(*items)
        axis.barh(names, values, color=_COLOURS[0])
        for y, v in enumerate(values):
            axis.text(v, y, f" {v}", va="center")
    axis.set_title(title)
    axis.set_xlabel("意见数 opinions")
    return _svg(figure)


@_styled
def weekly_trend_svg(weekly: pd.Series, title: str = "每周意见数 Opinions per week") -> str:
    """A line of counts per ISO week (index like ``2024-W31``)."""
    figure, axis = _figure(7, 2.4)
    if len(weekly):
        weeks = list(weekly.index)
        axis.plot(range(len(weeks)), weekly.to_numpy(), marker="o", color=_COLOURS[1])
        step = max(1, len(weeks) // 10)
        axis.set_xticks(
            range(0, len(weeks), step),
            [weeks[i] for i in range(0, len(weeks), step)],
            rotation=30,
            ha="right",
        )
    axis.set_ylim(bottom=0)
    axis.set_title(title)
    return _svg(figure)


def parse_weekly(text: str) -> pd.Series:
    """``"2024-W31:2 2024-W32:1"`` (the ``weekly_counts`` column) as a Series, weeks in order."""
    return pd.Series(parse_weekly_counts(text), dtype="int64")


@_styled
def cluster_trends_svg(clusters: pd.DataFrame, top: int = 8) -> str:
    """Small multiples: the weekly trend of each of the ``top`` hottest clusters."""
    chosen = clusters.head(top)
    columns = 2
    rows = max(1, -(-len(chosen) // columns))
    figure, axes = _figure(8, 1.7 * rows, rows, columns)
    axes = np.atleast_2d(axes)
    weeks = sorted(
        {w for text in chosen.get("weekly_counts", []) for w in parse_weekly(text).index}
    )
    for axis, (_, row) in zip(axes.flat, chosen.iterrows()):
        series = parse_weekly(row.get("weekly_counts", "")).reindex(weeks, fill_value=0)
        axis.bar(range(len(weeks)), series.to_numpy(), color=_COLOURS[0])
        axis.set_title(f"{row['cluster']} {str(row.get('title', ''))[:18]}", fontsize=8, loc="left")
        axis.set_xticks([])
        axis.set_ylim(bottom=0)
    for axis in list(axes.flat)[len(chosen) :]:
        axis.axis("off")
    if weeks:
        figure.suptitle(
            f"热点问题每周趋势 Weekly trend of the top clusters ({weeks[0]} – {weeks[-1]})",
            fontsize=10,
        )
    return _svg(figure, tight_layout=True)


@_styled
def cluster_map_svg(
    clusters: pd.DataFrame, centroids: Mapping[str, np.ndarray], top: int = 60, labels: int = 10
) -> str:
    """Clusters on a plane (PCA of their mean vectors): bubble area by size, colour by level 1;
    the ``labels`` hottest are named."""
    chosen = clusters[clusters["cluster"].isin(list(centroids))].head(top)
    figure, axis = _figure(7.5, 5)
    if len(chosen) >= 2:
        from sklearn.decomposition import PCA

        points = PCA(n_components=2, random_state=0).fit_transform(
            np.stack([centroids[c] for c in chosen["cluster"]])
        )
        classes = list(dict.fromkeys(chosen["level1"]))
        colour = {c: _COLOURS[k % len(_COLOURS)] for k, c in enumerate(classes)}
        for name in classes:
            mask = (chosen["level1"] == name).to_numpy()
            axis.scatter(
                points[mask, 0],
                points[mask, 1],
                s=30 + 25 * chosen.loc[mask, "size"].to_numpy(),
                alpha=0.6,
                color=colour[name],
                label=name or "未分类",
            )
        for k, (_, row) in enumerate(chosen.head(labels).iterrows()):
            axis.annotate(
                str(row.get("title", ""))[:14],
                points[k],
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
        axis.legend(
            fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), markerscale=0.5, frameon=False
        )
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title("问题地图 Map of clusters (closer = more alike)")
    return _svg(figure)


def overall_weekly(times: Sequence[str]) -> pd.Series:
    """Opinions per ISO week from their time strings (unparseable ones left out)."""
    parsed = pd.to_datetime(
        pd.Series(list(times), dtype=object).replace("", None), errors="coerce", format="mixed"
    ).dropna()
    return parsed.dt.strftime("%G-W%V").value_counts().sort_index()


@_styled
def confusion_svg(
    report: Mapping, title: str = "混淆矩阵 Confusion (rows: true, columns: predicted)"
) -> str:
    """A heat map of :func:`nlp.classify.evaluation.evaluate`'s confusion matrix, each row as
    shares of its true class, with the counts written in the cells."""
    confusion = report["confusion"]
    matrix = np.asarray(confusion["matrix"], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    rows, columns = len(confusion["true"]), len(confusion["predicted"])
    figure, axis = _figure(1.6 + 0.55 * columns, 1.2 + 0.45 * rows)
    image = axis.imshow(shares, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    axis.set_xticks(range(columns), confusion["predicted"], rotation=40, ha="right")
    axis.set_yticks(range(rows), confusion["true"])
    for i in range(rows):
        for j in range(columns):
            if matrix[i, j]:
                axis.text(
                    j,
                    i,
                    int(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "#222",
                )
    figure.colorbar(image, ax=axis, fraction=0.04, label="share of the true class")
    axis.set_title(title)
    return _svg(figure)
